"""Archiving a plan (归档, a stage of its lifecycle) asks first; an archived plan leaves the plan list and the
parent-plan choices unless asked for (显示已归档), and recording a later stage brings it back."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tracker.planning.models import Plan, PlanStage

from .conftest import audit_entries, client_for, error_at, fresh, plan_id

TITLE = "浙江省卫生健康事业发展“十四五”规划"


def test_archiving_asks_first_then_hides_the_plan(planner: FlaskClient, db: Session, demo: Flask) -> None:
    pid = plan_id(db)
    url = f"/planning/plans/{pid}/stages/new"
    assert 'name="confirm_archive"' in planner.get(url).get_data(as_text=True)
    response = planner.post(url, data={"stage": "archived", "on_date": "2025-11-20", "note": "期满归档"})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "confirm_archive", "请勾选确认归档")
    fresh(db)
    assert db.get(Plan, pid).stage != PlanStage.ARCHIVED  # type: ignore[union-attr]
    assert TITLE in planner.get("/plans").get_data(as_text=True)

    response = planner.post(url, data={"stage": "archived", "on_date": "2025-11-20", "note": "期满归档",
                                       "confirm_archive": "y"})
    assert response.status_code == 302
    fresh(db)
    assert db.get(Plan, pid).stage == PlanStage.ARCHIVED  # type: ignore[union-attr]
    assert "归档" in (audit_entries(db, "plans", pid, "stage")[-1].summary or "")

    listed = planner.get("/plans").get_data(as_text=True)
    assert TITLE not in listed and 'name="archived"' in listed and "显示已归档" in listed
    assert TITLE in planner.get("/plans?archived=1").get_data(as_text=True)
    assert TITLE in planner.get("/plans?stage=archived").get_data(as_text=True)
    assert planner.get(f"/plans/{pid}").status_code == 200  # its page stays where it was
    assert "十三五" not in listed  # the seed's plan of the period before is archived too
    assert f'value="{pid}"' not in planner.get("/planning/plans/new").get_data(as_text=True)  # no longer a parent
    assert TITLE not in client_for(demo, "zj_leader").get("/plans").get_data(as_text=True)

    # a later stage brings it back (no confirmation needed)
    response = planner.post(url, data={"stage": "final", "on_date": "2025-11-21"})
    assert response.status_code == 302
    assert TITLE in planner.get("/plans").get_data(as_text=True)


def test_a_plan_keeps_its_archived_parent(planner: FlaskClient, db: Session, demo: Flask) -> None:
    provincial = plan_id(db, "zj-14")
    assert client_for(demo, "zj_planner").post(f"/planning/plans/{provincial}/stages/new", data={
        "stage": "archived", "on_date": "2025-11-20", "confirm_archive": "y"}).status_code == 302
    city_plan = plan_id(db, "wz-14")
    city = client_for(demo, "wz_planner")
    edit = city.get(f"/planning/plans/{city_plan}/edit").get_data(as_text=True)
    assert re.search(rf'<option[^>]*selected[^>]*value="{provincial}"|<option[^>]*value="{provincial}"[^>]*selected',
                     edit)  # its own parent stays choosable
    assert f'value="{provincial}"' not in city.get("/planning/plans/new").get_data(as_text=True)
