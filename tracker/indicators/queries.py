"""The reads behind the indicator pages: the list of plans with indicators and an indicator's history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from .. import audit
from ..auth.models import User
from ..permissions import in_regions, visible_region_ids
from ..planning.models import Plan
from .models import Indicator, IndicatorValue

HISTORY_LIMIT = 100


def plans_with_indicators(session: Session, user: User) -> list[Any]:
    """(plan, number of indicators) of the plans in the user's scope that have indicators."""
    return list(session.execute(
        select(Plan, func.count(Indicator.id)).join(Indicator, Indicator.plan_id == Plan.id)
        .where(in_regions(session, Plan.region_id, visible_region_ids(session, user)))
        .group_by(Plan.id).order_by(Plan.level, Plan.region_id, Plan.start_year.desc(), Plan.id)
        .options(selectinload(Plan.region))
    ).all())


def value_counts(session: Session, plan_ids: list[int]) -> dict[int, dict[int, dict[str, int]]]:
    """{plan id: {year: {value state: how many values}}}."""
    counts: dict[int, dict[int, dict[str, int]]] = {}
    for plan_id, year, state, n in session.execute(
        select(Indicator.plan_id, IndicatorValue.year, IndicatorValue.state, func.count())
        .join(IndicatorValue.indicator).where(Indicator.plan_id.in_(plan_ids))
        .group_by(Indicator.plan_id, IndicatorValue.year, IndicatorValue.state)
    ):
        counts.setdefault(plan_id, {}).setdefault(year, {})[state.value] = n
    return counts


def indicator_history(session: Session, indicator: Indicator) -> list[audit.AuditEntry]:
    """The indicator's audit entries and those of its yearly values (the newest hundred)."""
    return audit.history(session, ("indicators", indicator.id),
                         ("indicator_values", [v.id for v in indicator.values]), limit=HISTORY_LIMIT)
