"""Indicators: the target as written is understood, stored as a rule and explained back to the planner."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.indicators.models import Direction, Indicator, IndicatorNature

from .conftest import audit_entries, client_for, dept_id, error_at, fresh, plan_id


def indicator_form(db: Session, **overrides: Any) -> dict[str, Any]:
    data = {
        "number": "50", "category": "健康服务", "name": "每千人口拥有3岁以下婴幼儿托位数", "unit": "个",
        "baseline_text": "2.5", "baseline_year": "2020", "target_text": "4.5以上", "target_year": "2025",
        "direction": "", "nature": "expected", "lead_department_id": str(dept_id(db, "人口家庭处")),
        "definition": "每千常住人口拥有的3岁以下婴幼儿托位数。", "data_source": "省卫生健康委",
    }
    data.update(overrides)
    return data


def _indicator(db: Session, number: int = 50) -> Indicator:
    fresh(db)
    return db.scalars(select(Indicator).where(Indicator.plan_id == plan_id(db), Indicator.number == number)).one()


def test_create_indicator_understands_the_target(planner: FlaskClient, db: Session) -> None:
    pid = plan_id(db)
    response = planner.post(f"/planning/plans/{pid}/indicators/new", data=indicator_form(db))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/planning/plans/{pid}/indicators")
    indicator = _indicator(db)
    assert indicator.target_rule["op"] == "ge" and indicator.target_rule["low"] == "4.5"
    assert indicator.direction == Direction.HIGHER and indicator.nature == IndicatorNature.EXPECTED
    assert indicator.baseline_value == Decimal("2.5")
    assert indicator.lead_department is not None and indicator.lead_department.name == "人口家庭处"
    [entry] = audit_entries(db, "indicators", indicator.id, "create")
    assert entry.changes["target_text"] == [None, "4.5以上"] and entry.changes["direction"] == [None, "越高越好"]
    html = planner.get(f"/planning/plans/{pid}/indicators").get_data(as_text=True)
    assert "系统理解的目标：不低于 4.5个（越高越好）。" in html  # flashed after saving
    assert "每千人口拥有3岁以下婴幼儿托位数" in html
    assert "4.5以上" in planner.get(f"/plans/{pid}?tab=indicators").get_data(as_text=True)


@pytest.mark.parametrize(
    ("target", "name", "baseline", "direction", "op", "expected_direction", "explained"),
    [
        ("5以下", "孕产妇死亡率", "", "", "le", Direction.LOWER, "不高于 5（越低越好）。"),
        ("15-20", "床位使用率", "", "", "between", Direction.RANGE, "在 15–20 之间"),
        ("1:1.15", "医护比", "", "", "ratio", Direction.HIGHER, "比值目标，按后项÷前项 = 1.15 比较"),
        ("稳步提高", "居民健康素养水平", "", "", "trend", Direction.HIGHER, "趋势目标：越高越好"),
        ("控制在正常范围内", "出生人口性别比", "", "", "qualitative", Direction.NONE, "定性目标"),
        ("78.5", "婴儿死亡率", "", "", "reach", Direction.LOWER, "方向依据指标名称判断"),
        ("4.5", "某项服务指标", "3.2", "", "reach", Direction.HIGHER, "方向依据基期值与目标值判断"),
        ("78.5", "某项服务指标", "", "", "reach", Direction.NONE, "原文没有写明方向"),
        ("78.5", "某项服务指标", "", "lower", "reach", Direction.LOWER, "方向已由规划处确认"),
    ],
)
def test_targets_as_written(planner: FlaskClient, db: Session, target: str, name: str, baseline: str,
                            direction: str, op: str, expected_direction: Direction, explained: str) -> None:
    response = planner.post(f"/planning/plans/{plan_id(db)}/indicators/new", data=indicator_form(
        db, target_text=target, name=name, baseline_text=baseline, direction=direction, unit=""))
    assert response.status_code == 302
    indicator = _indicator(db)
    assert indicator.target_rule["op"] == op and indicator.direction == expected_direction
    assert explained in planner.get(f"/planning/indicators/{indicator.id}/edit").get_data(as_text=True)
    assert explained in planner.get(f"/planning/plans/{plan_id(db)}/indicators").get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"number": "1"}, "number", "序号 1 已被指标“人均预期寿命”使用。"),
        ({"number": "0"}, "number", "序号须为1到999之间的整数。"),
        ({"name": " "}, "name", "请填写指标名称。"),
        ({"target_text": ""}, "target_text", "请填写目标值（按规划原文）。"),
        ({"baseline_year": "2025", "target_year": "2020"}, "target_year", "目标年份不能早于基期年份。"),
        ({"direction": "lower"}, "direction", "目标值“4.5以上”已表明越高越好，与所选方向不符。"),
        ({"target_text": "全覆盖", "direction": "higher"}, "direction", "无法按数值判断方向"),
        ({"direction": "sideways"}, "direction", "选择无效"),
        ({"nature": "optional"}, "nature", "选择无效"),
        ({"lead_department_id": "99999999"}, "lead_department_id", "所选牵头单位不存在。"),
    ],
)
def test_indicator_refusals(planner: FlaskClient, db: Session, overrides: dict[str, str], field: str,
                            message: str) -> None:
    response = planner.post(f"/planning/plans/{plan_id(db)}/indicators/new", data=indicator_form(db, **overrides))
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), field, message)
    fresh(db)
    assert db.scalar(select(Indicator).where(Indicator.name == "每千人口拥有3岁以下婴幼儿托位数")) is None


def test_indicator_lead_from_another_region(planner: FlaskClient, db: Session) -> None:
    response = planner.post(f"/planning/plans/{plan_id(db)}/indicators/new",
                            data=indicator_form(db, lead_department_id=str(dept_id(db, "规财处", "330300"))))
    assert error_at(response.get_data(as_text=True), "lead_department_id", "牵头单位须为本规划所在地区（浙江省）的部门")


def _edit_data(indicator: Indicator, **overrides: Any) -> dict[str, Any]:
    data = {
        "number": str(indicator.number), "category": indicator.category or "", "name": indicator.name,
        "unit": indicator.unit or "", "baseline_text": indicator.baseline_text or "",
        "baseline_year": str(indicator.baseline_year or ""), "target_text": indicator.target_text,
        "target_year": str(indicator.target_year or ""), "direction": "", "nature": indicator.nature.value,
        "lead_department_id": str(indicator.lead_department_id or ""), "definition": indicator.definition or "",
        "data_source": indicator.data_source or "", "version": str(indicator.version_id),
    }
    data.update(overrides)
    return data


def test_edit_indicator(planner: FlaskClient, db: Session) -> None:
    indicator = _indicator(db, 1)  # 人均预期寿命 80以上
    response = planner.post(f"/planning/indicators/{indicator.id}/edit", data=_edit_data(indicator,
                                                                                       target_text="80.5以上"))
    assert response.status_code == 302
    edited = _indicator(db, 1)
    assert edited.target_text == "80.5以上" and edited.target_rule["low"] == "80.5"
    [entry] = audit_entries(db, "indicators", indicator.id, "update")
    assert entry.changes == {"target_text": ["80以上", "80.5以上"]}
    assert indicator.values  # monitoring values stay with the indicator


def test_stale_indicator_edit(demo: Flask, db: Session) -> None:
    first, second = client_for(demo, "zj_planner"), client_for(demo, "zj_planner")
    indicator = _indicator(db, 1)
    data = _edit_data(indicator)
    url = f"/planning/indicators/{indicator.id}/edit"
    assert first.post(url, data={**data, "data_source": "甲"}).status_code == 302
    response = second.post(url, data={**data, "data_source": "乙"})
    assert response.status_code == 409 and "该指标在您打开表单后已被他人修改" in response.get_data(as_text=True)
    assert _indicator(db, 1).data_source == "甲"


def test_explain_endpoint(planner: FlaskClient) -> None:
    data = planner.get("/planning/targets/explain?text=80以上&name=人均预期寿命&unit=岁").get_json()
    assert data == {"text": "不低于 80岁（越高越好）。", "direction": "越高越好"}
    data = planner.get("/planning/targets/explain?text=78.5&name=某项指标&direction=lower").get_json()
    assert data["direction"] == "越低越好" and "方向已由规划处确认" in data["text"]
    data = planner.get("/planning/targets/explain?text=80以上&direction=lower").get_json()
    assert data["refused"] is True
    assert planner.get("/planning/targets/explain").get_json() == {"text": ""}


def test_indicator_list_needs_the_plan_planner(demo: Flask, db: Session) -> None:
    pid = plan_id(db)
    assert client_for(demo, "wz_planner").get(f"/planning/plans/{pid}/indicators").status_code == 403
    assert client_for(demo, "zj_planner").get(f"/planning/plans/{pid}/indicators").status_code == 200
    assert client_for(demo, "zj_planner").get("/planning/indicators/99999999/edit").status_code == 404


def test_every_error_of_the_indicator_form_in_one_round(planner: FlaskClient, db: Session) -> None:
    """An empty name and an unknown 属性 (the form's checks), a taken 序号, years the wrong way round and a direction
    the target contradicts (the indicator rules): one answer."""
    response = planner.post(f"/planning/plans/{plan_id(db)}/indicators/new", data=indicator_form(
        db, name=" ", nature="optional", number="1", baseline_year="2025", target_year="2020", direction="lower"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_at(html, "name", "请填写指标名称。")
    assert error_at(html, "nature", "选择无效")
    assert error_at(html, "number", "序号 1 已被指标“人均预期寿命”使用。")
    assert error_at(html, "target_year", "目标年份不能早于基期年份。")
