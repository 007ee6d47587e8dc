"""The planner keeps the register: facts, funding by source, the yearly investment plan. 待定 is a value
of its own; a fixed total changes only through an adjustment request; stale saves are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tracker.audit import AuditEntry
from tracker.planning.models import InvestmentUnit
from tracker.projects.models import FundingSource, KeyProject, ProjectKind, ProjectStatus
from tracker.projects.queries import investment_by_department

from .conftest import World, build_world, client_as, field_error, fresh, table
from .conftest import register_form as _form


@pytest.fixture
def planner(world: World, app: Flask) -> FlaskClient:
    return client_as(app, world.users["planner"])


def test_the_form_shows_the_register_in_the_plans_unit(world: World, app: Flask, planner: FlaskClient) -> None:
    html = planner.get(f"/projects/{world.project_id}/edit").get_data(as_text=True)
    assert "总投资（亿元）" in html and 'name="total_investment"' in html and 'value="10"' in html
    assert "2027年计划投资（亿元）" in html and "readonly" in html.split('name="total_investment"')[0][-200:] + \
        html.split('name="total_investment"')[1][:200]


def test_funding_and_the_yearly_plan_are_saved_exactly(world: World, app: Flask, planner: FlaskClient) -> None:
    data = _form(app, world.project_id, funding_fiscal="6.25", funding_special_bond="2.5", funding_social="待定",
                 planned_2027="1.75", planned_2024="2.0000", period_investment="待定", kind="expansion",
                 status="building", content="新建门急诊楼、住院楼和地下车库",
                 acknowledge_warnings="y")  # 在建 while the 开工 node is not done: a cross-check warning
    response = planner.post(f"/projects/{world.project_id}/edit", data=data)
    assert response.status_code == 302, field_error(response.get_data(as_text=True))
    p = fresh(app, KeyProject, world.project_id)
    assert (p.kind, p.status, p.content) == (ProjectKind.EXPANSION, ProjectStatus.BUILDING, "新建门急诊楼、住院楼和地下车库")
    assert {f.source: f.amount for f in p.funding} == {
        FundingSource.FISCAL: Decimal("62500"), FundingSource.SPECIAL_BOND: Decimal("25000"), FundingSource.SOCIAL: None}
    assert {i.year: i.planned for i in p.investments} == {
        2024: Decimal("20000"), 2025: Decimal("30000"), 2026: Decimal("30000"), 2027: Decimal("17500")}
    assert p.period_investment is None and p.period_tbd
    with app.extensions["tracker.sessions"]() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "key_projects")).one()
        assert entry.changes["funding.fiscal"] == [None, "62500.0000"]
        assert entry.changes["funding.social"] == [None, "待定"]
        assert entry.changes["planned.2027"] == [None, "17500.0000"]
        assert entry.changes["period_tbd"] == [False, True]
    html = planner.get(f"/projects/{world.project_id}").get_data(as_text=True)
    assert "社会资本 <span class=\"tbd\">待定</span>" in html
    assert "期内计划投资</dt><dd><span class=\"tbd\">待定</span>" in html
    register = planner.get(f"/plans/{world.plan_id}/projects").get_data(as_text=True)
    assert "另有1个项目投资待定，未计入合计" in register
    sources = {r[0]: r for r in table(register, "source-totals")}
    assert sources["财政"][1] == "6.25" and "1个项目金额待定" in sources["社会资本"][3]
    # clearing a year's plan removes the empty row
    data = _form(app, world.project_id, planned_2027="", period_investment="6", acknowledge_warnings="y")
    assert planner.post(f"/projects/{world.project_id}/edit", data=data).status_code == 302
    assert 2027 not in {i.year for i in fresh(app, KeyProject, world.project_id).investments}


@pytest.mark.parametrize(("changes", "field_message"), [
    ({"total_investment": "12"}, "总投资已确定，不能在此修改"),
    ({"total_investment": "待定"}, "总投资已确定，不能在此修改"),
    ({"period_investment": "11"}, "规划期内计划投资不能超过总投资。"),
    ({"funding_fiscal": "8", "funding_self": "2.5"}, "各渠道资金合计（10.5亿元）超过总投资（10亿元）。"),
    ({"planned_2026": "三亿"}, "不是有效金额"),
    ({"planned_2026": "待定"}, "不能填“待定”"),
    ({"end_year": "2023"}, "建成年份不能早于开工年份。"),
    ({"start_year": "20x4"}, "不是有效的整数。"),
    ({"kind": "castle"}, "不是有效的选择。"),
    ({"region": "999999"}, "不是有效的选择。"),
])
def test_refused_register_input_is_422_next_to_the_field(world: World, app: Flask, planner: FlaskClient,
                                                        changes: dict[str, str], field_message: str) -> None:
    response = planner.post(f"/projects/{world.project_id}/edit", data=_form(app, world.project_id, **changes))
    assert response.status_code == 422
    errors = field_error(response.get_data(as_text=True))
    assert any(field_message in e for e in errors), errors
    assert fresh(app, KeyProject, world.project_id).version_id == 1


def test_a_tbd_total_may_be_fixed_once_but_not_below_what_is_entered(app: Flask, session) -> None:  # type: ignore[no-untyped-def]
    w = build_world(session, InvestmentUnit.WAN)
    p = session.get(KeyProject, w.project_id)
    p.total_investment, p.total_tbd = None, True
    session.commit()
    planner = client_as(app, w.users["planner"])
    base = _form(app, w.project_id, total_investment="待定", period_investment="", planned_2024="20000",
                 planned_2025="30000", planned_2026="30000")
    low = planner.post(f"/projects/{w.project_id}/edit", data={**base, "total_investment": "40000"})
    assert low.status_code == 422 and "总投资不能低于已填报的累计完成投资（47,000万元）" in low.get_data(as_text=True)
    ok = planner.post(f"/projects/{w.project_id}/edit", data={**base, "total_investment": "120000.5"})
    assert ok.status_code == 302
    p = fresh(app, KeyProject, w.project_id)
    assert p.total_investment == Decimal("120000.5") and not p.total_tbd


def test_a_stale_register_save_is_409(world: World, app: Flask, planner: FlaskClient) -> None:
    data = _form(app, world.project_id)
    assert planner.post(f"/projects/{world.project_id}/edit", data={**data, "planned_2027": "1"}).status_code == 302
    late = client_as(app, world.users["planner"]).post(f"/projects/{world.project_id}/edit",
                                                       data={**data, "content": "另一人"})
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "已被他人修改" in html and "2027年计划投资（万元）：（空） → 1" in html
    assert fresh(app, KeyProject, world.project_id).content != "另一人"


def test_investment_by_department_for_the_evaluation(world: World, app: Flask) -> None:
    with app.extensions["tracker.sessions"]() as s:
        from tracker.planning.models import Plan

        plan = s.get(Plan, world.plan_id)
        [row] = investment_by_department(s, plan)  # the plan period 2021–2025
        assert row.department.name == "医政医管处" and row.projects == 1
        assert (row.planned, row.confirmed, row.rate) == (Decimal(50000), Decimal(47000), Decimal("94.0"))
        [row] = investment_by_department(s, plan, 2026)
        assert (row.planned, row.confirmed, row.rate) == (Decimal(30000), Decimal(0), Decimal("0.0"))
