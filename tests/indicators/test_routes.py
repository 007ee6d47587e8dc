"""Every indicator route × every role."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.indicators.models import Indicator, IndicatorValue
from tracker.planning.models import Plan

from .routes import Route, check, endpoints, only

ENTER = only("planner", "head", "staff")
ROUTES = [
    Route("indicators.index", "/indicators", {}),
    Route("indicators.plan_year", "/indicators/plans/{plan}?year=2025", {}),
    Route("indicators.plan_year", "/indicators/plans/{city_plan}", {"outsider": 403}),
    Route("indicators.plan_year", "/indicators/plans/999999", {}, default=404),
    Route("indicators.entry", "/indicators/plans/{plan}/entry?year=2020", {**ENTER, "other_head": 200}),
    Route("indicators.template", "/indicators/plans/{plan}/template.xlsx?year=2020", {**ENTER, "other_head": 200}),
    Route("indicators.upload", "/indicators/plans/{plan}/upload?year=2020", {**ENTER, "other_head": 200}),
    Route("indicators.confirm_year", "/indicators/plans/{plan}/confirm", {}, default=405),
    Route("indicators.show", "/indicators/{indicator}", {}),
    Route("indicators.show", "/indicators/{city_indicator}", {"outsider": 403}),
    Route("indicators.show", "/indicators/999999", {}, default=404),
    Route("indicators.edit_value", "/indicators/{indicator}/values/2020", ENTER),
    Route("indicators.edit_value", "/indicators/{city_indicator}/values/2025", only()),
    Route("indicators.confirm_value", "/indicators/values/{value}/confirm", {}, default=405),
    Route("indicators.return_value", "/indicators/values/{value}/return", {}, default=405),
    Route("indicators.judge_value", "/indicators/values/{value}/judge", only("evaluator")),
    Route("indicators.judge_value", "/indicators/values/999999/judge", {}, default=404),
]


def test_every_indicator_route_and_role(demo: Flask, session: Session) -> None:
    plan = session.scalars(select(Plan).where(Plan.code == "zj-14")).one()
    city = session.scalars(select(Plan).where(Plan.code == "wz-14")).one()
    indicator = session.scalars(select(Indicator).where(Indicator.plan_id == plan.id, Indicator.number == 10)).one()
    value = session.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id)).first()
    ids = {"plan": plan.id, "city_plan": city.id, "indicator": indicator.id, "value": value.id,  # type: ignore[union-attr]
           "city_indicator": city.indicators[0].id}
    session.rollback()
    assert check(demo, ROUTES, ids) == []
    assert endpoints(demo, "indicators.") == {r.endpoint for r in ROUTES}
