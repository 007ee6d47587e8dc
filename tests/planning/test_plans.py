"""Creating and editing plans and recording their lifecycle."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.planning.models import InvestmentUnit, Plan, PlanLevel, PlanStage

from .conftest import audit_entries, client_for, error_at, fresh, plan_id


def plan_form(db: Session, **overrides: Any) -> dict[str, Any]:
    data = {
        "title": "浙江省卫生健康事业发展“十五五”规划", "short_name": "省卫健十五五", "level": "province",
        "start_year": "2026", "end_year": "2030", "parent_id": "", "issuing_body": "浙江省人民政府办公厅",
        "doc_number": "浙政办发〔2026〕8号", "investment_unit": "yi", "description": "到2030年建成健康浙江。",
        "stage": "expert_review", "stage_date": "2025-11-10", "stage_note": "召开规划专家论证会",
    }
    data.update(overrides)
    return data


def _plan(db: Session, title: str) -> Plan:
    fresh(db)
    return db.scalars(select(Plan).where(Plan.title == title)).one()


def test_create_plan(planner: FlaskClient, db: Session) -> None:
    response = planner.post("/planning/plans/new", data=plan_form(db))
    assert response.status_code == 302
    plan = _plan(db, "浙江省卫生健康事业发展“十五五”规划")
    assert response.headers["Location"].endswith(f"/plans/{plan.id}")
    assert (plan.level, plan.region.name, plan.start_year, plan.end_year) == (PlanLevel.PROVINCE, "浙江省", 2026, 2030)
    assert plan.stage == PlanStage.EXPERT_REVIEW and plan.investment_unit == InvestmentUnit.YI
    assert plan.code == "330000-2026-2030"
    [event] = plan.stage_events
    assert (event.stage, event.on_date, event.note) == (PlanStage.EXPERT_REVIEW, date(2025, 11, 10), "召开规划专家论证会")
    assert event.recorded_by is not None and event.recorded_by.username == "zj_planner"
    [entry] = audit_entries(db, "plans", plan.id, "create")
    assert entry.changes["title"] == [None, plan.title] and entry.changes["stage"] == [None, "专家论证"]
    html = planner.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert "浙政办发〔2026〕8号" in html and "2026—2030年" in html and "该规划还没有任务" in html


def test_city_planner_creates_city_plan_under_provincial_plan(demo: Flask, db: Session) -> None:
    client = client_for(demo, "wz_planner")
    html = client.get("/planning/plans/new").get_data(as_text=True)
    assert '<option selected value="city">市级</option>' in html
    assert "浙江省卫生健康事业发展“十四五”规划" in html  # a plan of the region above may be the parent
    response = client.post("/planning/plans/new", data=plan_form(
        db, title="温州市卫生健康事业发展“十五五”规划", short_name="温州卫健十五五", level="city",
        parent_id=str(plan_id(db)), stage="drafting", stage_date=""))
    assert response.status_code == 302
    plan = _plan(db, "温州市卫生健康事业发展“十五五”规划")
    assert plan.region.name == "温州市" and plan.parent_id == plan_id(db)
    assert plan.stage_events[0].on_date == date(2025, 11, 22)  # today when left empty
    # two plans of one region and period get distinct keys
    response = client.post("/planning/plans/new", data=plan_form(
        db, title="温州市医疗卫生服务体系规划", short_name="温州服务体系", level="city", stage="drafting"))
    assert response.status_code == 302
    assert _plan(db, "温州市医疗卫生服务体系规划").code == "330300-2026-2030-2"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": " "}, "title", "请填写规划名称。"),
        ({"short_name": ""}, "short_name", "请填写规划简称。"),
        ({"level": "city"}, "level", "浙江省为省级行政区划，只能编制省级规划。"),
        ({"end_year": "2025"}, "end_year", "结束年份不能早于起始年份。"),
        ({"start_year": "1066"}, "start_year", "年份须在1990到2100之间。"),
        ({"start_year": "二〇二六"}, "start_year", "不是有效的整数"),
        ({"parent_id": "99999999"}, "parent_id", "所选上位规划不存在。"),
        ({"parent_id": "x"}, "parent_id", "选择无效"),
        ({"stage_date": "2025-12-01"}, "stage_date", "阶段日期不能晚于今天。"),
        ({"title": "长" * 201}, "title", "规划名称不能超过200字。"),
    ],
)
def test_create_plan_refusals(planner: FlaskClient, db: Session, overrides: dict[str, str], field: str,
                              message: str) -> None:
    response = planner.post("/planning/plans/new", data=plan_form(db, **overrides))
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), field, message)
    fresh(db)
    assert db.scalar(select(Plan).where(Plan.start_year == 2026)) is None


def test_every_error_of_the_plan_form_in_one_round(planner: FlaskClient, db: Session) -> None:
    """An empty short name (the form's check), the same title as the provincial 十四五 over the same years, a
    level the region cannot have and a city plan as 上位规划 (the plan rules): all in one answer."""
    response = planner.post("/planning/plans/new", data=plan_form(
        db, title="浙江省卫生健康事业发展“十四五”规划", short_name="", start_year="2021", end_year="2025",
        level="city", parent_id=str(plan_id(db, "wz-14"))))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_at(html, "short_name", "请填写规划简称。")
    assert error_at(html, "level", "只能编制省级规划。")
    assert error_at(html, "parent_id", "上位规划须为本地区或上级地区的规划。")
    response = planner.post("/planning/plans/new", data=plan_form(
        db, title="浙江省卫生健康事业发展“十四五”规划", short_name="", start_year="2021", end_year="2025"))
    html = response.get_data(as_text=True)
    assert error_at(html, "short_name", "请填写规划简称。") and error_at(html, "title", "规划期重叠，不能重复。")


def test_parent_must_be_of_own_or_upper_region(planner: FlaskClient, db: Session) -> None:
    city_plan = plan_id(db, "wz-14")
    html = planner.get("/planning/plans/new").get_data(as_text=True)
    assert f'value="{city_plan}"' not in html
    response = planner.post("/planning/plans/new", data=plan_form(db, parent_id=str(city_plan)))
    assert error_at(response.get_data(as_text=True), "parent_id", "上位规划须为本地区或上级地区的规划。")


def _edit_data(plan: Plan, **overrides: Any) -> dict[str, Any]:
    data = {
        "title": plan.title, "short_name": plan.short_name, "level": plan.level.value,
        "start_year": str(plan.start_year), "end_year": str(plan.end_year), "parent_id": str(plan.parent_id or ""),
        "issuing_body": plan.issuing_body or "", "doc_number": plan.doc_number or "",
        "investment_unit": plan.investment_unit.value, "description": plan.description or "",
        "version": str(plan.version_id),
    }
    data.update(overrides)
    return data


def test_edit_plan(planner: FlaskClient, db: Session) -> None:
    plan = db.get(Plan, plan_id(db))
    assert plan is not None
    version = plan.version_id
    response = planner.post(f"/planning/plans/{plan.id}/edit", data=_edit_data(plan, doc_number="浙发改规划〔2021〕212号"))
    assert response.status_code == 302
    fresh(db)
    plan = db.get(Plan, plan_id(db))
    assert plan is not None and plan.doc_number == "浙发改规划〔2021〕212号" and plan.version_id == version + 1
    [entry] = audit_entries(db, "plans", plan.id, "update")
    assert list(entry.changes) == ["doc_number"]


def test_stale_plan_edit(demo: Flask, db: Session) -> None:
    first, second = client_for(demo, "zj_planner"), client_for(demo, "zj_planner")
    plan = db.get(Plan, plan_id(db))
    assert plan is not None
    data = _edit_data(plan)
    assert first.post(f"/planning/plans/{plan.id}/edit", data={**data, "short_name": "甲"}).status_code == 302
    response = second.post(f"/planning/plans/{plan.id}/edit", data={**data, "short_name": "乙"})
    assert response.status_code == 409
    assert "该规划在您打开表单后已被他人修改" in response.get_data(as_text=True)
    fresh(db)
    assert db.get(Plan, plan.id).short_name == "甲"  # type: ignore[union-attr]


def test_period_cannot_leave_annual_tasks_outside(planner: FlaskClient, db: Session) -> None:
    plan = db.get(Plan, plan_id(db))
    assert plan is not None
    response = planner.post(f"/planning/plans/{plan.id}/edit", data=_edit_data(plan, start_year="2022"))
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "start_year", "的年度（2021年）不在新的规划期内，请先调整该任务。")


def test_parent_cannot_change_while_tasks_are_linked(demo: Flask, db: Session) -> None:
    client = client_for(demo, "wz_planner")
    plan = db.get(Plan, plan_id(db, "wz-14"))
    assert plan is not None
    response = client.post(f"/planning/plans/{plan.id}/edit", data=_edit_data(plan, parent_id=""))
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "parent_id", "项任务已关联原上位规划的任务，请先解除关联再更换上位规划。")


def test_plan_cannot_be_its_own_ancestor(planner: FlaskClient, db: Session) -> None:
    provincial = db.get(Plan, plan_id(db))
    old = plan_id(db, "zj-13")
    assert provincial is not None
    html = planner.get(f"/planning/plans/{provincial.id}/edit").get_data(as_text=True)
    assert f'<option value="{provincial.id}">' not in html
    response = planner.post(f"/planning/plans/{provincial.id}/edit", data=_edit_data(provincial,
                                                                                   parent_id=str(provincial.id)))
    assert error_at(response.get_data(as_text=True), "parent_id", "不能选择本规划或其下级规划作为上位规划。")
    assert old != provincial.id


def test_record_stage(planner: FlaskClient, db: Session) -> None:
    pid = plan_id(db)
    response = planner.post(f"/planning/plans/{pid}/stages/new",
                            data={"stage": "midterm", "on_date": "2025-11-20", "note": "启动中期评估"})
    assert response.status_code == 302
    fresh(db)
    plan = db.get(Plan, pid)
    assert plan is not None and plan.stage == PlanStage.MIDTERM
    assert (plan.stage_events[-1].stage, plan.stage_events[-1].note) == (PlanStage.MIDTERM, "启动中期评估")
    entry = audit_entries(db, "plans", pid, "stage")[-1]
    assert entry.changes == {"stage": ["执行中", "中期评估"]}
    assert entry.summary == "记录阶段：中期评估（2025年11月20日），启动中期评估"
    html = planner.get(f"/plans/{pid}").get_data(as_text=True)
    assert "启动中期评估" in html and "2025年11月20日" in html


def test_backdated_stage_keeps_the_current_stage(planner: FlaskClient, db: Session) -> None:
    pid = plan_id(db)
    response = planner.post(f"/planning/plans/{pid}/stages/new",
                            data={"stage": "consultation", "on_date": "2020-12-01", "note": "补记"})
    assert response.status_code == 302
    html = planner.get(f"/plans/{pid}").get_data(as_text=True)
    assert "按日期最新的记录，规划当前阶段仍为“执行中”。" in html
    fresh(db)
    assert db.get(Plan, pid).stage == PlanStage.EXECUTING  # type: ignore[union-attr]


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"stage": "midterm", "on_date": "2025-11-23"}, "on_date", "阶段日期不能晚于今天。"),
    ({"stage": "midterm", "on_date": ""}, "on_date", "请填写日期。"),
    ({"stage": "someday", "on_date": "2025-11-01"}, "stage", "选择无效"),
])
def test_record_stage_refusals(planner: FlaskClient, db: Session, data: dict[str, str], field: str,
                               message: str) -> None:
    response = planner.post(f"/planning/plans/{plan_id(db)}/stages/new", data=data)
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), field, message)
