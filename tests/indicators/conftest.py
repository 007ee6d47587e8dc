"""Fixtures for the indicator pages: the demo data, logged-in clients and ways to find demo records."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.indicators.models import Indicator, IndicatorValue
from tracker.planning.models import Plan

from ..conftest import client_for  # noqa: F401  (shared by this folder's tests)


def plan_of(db: Session, code: str = "zj-14") -> Plan:
    db.rollback()
    return db.scalars(select(Plan).where(Plan.code == code)).one()


def indicator_of(db: Session, number: int, code: str = "zj-14") -> Indicator:
    db.rollback()
    return db.scalars(select(Indicator).join(Plan).where(Plan.code == code, Indicator.number == number)).one()


def value_of(db: Session, number: int, year: int, code: str = "zj-14") -> IndicatorValue | None:
    indicator = indicator_of(db, number, code)
    return db.scalar(select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id,
                                                  IndicatorValue.year == year))


def field_errors(html: str, field: str) -> list[str]:
    """The error messages shown in the form row of the named field."""
    for chunk in html.split('<div class="form-row')[1:]:
        if f'name="{field}"' in chunk:
            return re.findall(r'<div class="field-error" role="alert">([^<]*)', chunk.split('<div class="form-row')[0])
    raise AssertionError(f"no field {field} on the page")
