"""The dashboard route × every role."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.planning.models import Plan

from ..indicators.routes import Route, check, endpoints, only

ROUTES = [
    Route("dashboard.index", "/dashboard", only("leader", "evaluator", "planner", "supervisor", "admin", "outsider")),
    Route("dashboard.index", "/dashboard?plan={city_plan}",
          {**only("leader", "evaluator", "planner", "supervisor", "admin"), "outsider": 403}),
    Route("dashboard.index", "/dashboard?plan=999999",
          {**only("leader", "evaluator", "planner", "supervisor", "admin", "outsider", ok=404)}),
    Route("dashboard.index", "/dashboard?plan=x",
          {**only("leader", "evaluator", "planner", "supervisor", "admin", "outsider", ok=400)}),
]


def test_the_dashboard_for_every_role(demo: Flask, session: Session) -> None:
    ids = {"city_plan": session.scalar(select(Plan.id).where(Plan.code == "wz-14"))}
    session.rollback()
    assert check(demo, ROUTES, ids) == []  # type: ignore[arg-type]
    assert endpoints(demo, "dashboard.") == {r.endpoint for r in ROUTES}
