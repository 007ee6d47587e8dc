"""Investment cross-checks of a key project (tracker/projects/checks.py): (a) a year's plan above the total,
(b) the yearly plan together above it, (c) funding sources not adding up to it, (d) 在建 while the 开工 node is
not done. They are warnings: the register form shows them all beside a checkbox, saves only once ticked and
audits what was acknowledged; the project page and the register list show them too."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tracker.audit import AuditEntry
from tracker.errors import DomainError
from tracker.planning.models import InvestmentUnit
from tracker.projects import checks
from tracker.projects.checks import RegisterFacts, WarningsToAcknowledge, cross_check, require_acknowledged
from tracker.projects.models import KeyProject, ProjectStatus
from tracker.tasks.models import Milestone, MilestoneStatus, ProjectNode

from .conftest import World, client_as, fresh
from .conftest import register_form as _form

W = Decimal  # amounts in 万元


def facts(**kw: object) -> RegisterFacts:
    values: dict[str, object] = dict(unit=InvestmentUnit.WAN, total=W(1000), planned={}, funding=[],
                                     status=ProjectStatus.PREPARING, groundbreaking=None)
    values.update(kw)
    return RegisterFacts(**values)  # type: ignore[arg-type]


def node(due: date, status: MilestoneStatus = MilestoneStatus.PENDING) -> Milestone:
    return Milestone(title="开工", node=ProjectNode.GROUNDBREAKING, due_date=due, status=status)


# ------------------------------------------------------------------------------------------ the one function


def test_figures_that_agree_give_no_warning() -> None:
    assert cross_check(facts(planned={2026: W(400), 2027: W(600)}, funding=[W(700), W(300)])) == []
    assert cross_check(facts(total=None, planned={2026: W(5000)}, funding=[W(1)])) == []  # no total to check against


def test_a_years_plan_above_the_total() -> None:
    warnings = cross_check(facts(planned={2026: W(1200)}))
    assert warnings[0] == "2026年计划投资（1,200万元）超过项目总投资（1,000万元）。"


def test_the_yearly_plan_together_above_the_total() -> None:
    warnings = cross_check(facts(planned={2026: W(600), 2027: W(500)}))
    assert warnings == ["各年度计划投资合计（1,100万元）超过项目总投资（1,000万元），超出100万元。"]


def test_funding_not_adding_up_says_the_difference_in_wan() -> None:
    yi = facts(unit=InvestmentUnit.YI, total=W(100000), funding=[W(60000), W(20000)])
    assert cross_check(yi) == ["各渠道资金合计（8亿元）与项目总投资（10亿元）不一致，尚差20,000万元。"]
    assert cross_check(facts(funding=[W(800), W(400)])) == [
        "各渠道资金合计（1,200万元）与项目总投资（1,000万元）不一致，超出200万元。"]
    assert cross_check(facts(funding=[W(600), None])) == []  # a source still 待定: not all given


def test_building_while_the_groundbreaking_node_is_not_done() -> None:
    on = date(2026, 11, 22)
    overdue = cross_check(facts(status=ProjectStatus.BUILDING, groundbreaking=node(date(2026, 10, 31))), on)
    assert overdue == ["项目状态为“在建”，但“开工”节点（计划2026年10月31日）已逾期未办结，请办结开工节点或核对项目状态。"]
    ahead = cross_check(facts(status=ProjectStatus.BUILDING, groundbreaking=node(date(2027, 3, 1))), on)
    assert "尚未办结" in ahead[0]
    assert cross_check(facts(status=ProjectStatus.BUILDING,
                             groundbreaking=node(date(2026, 10, 31), MilestoneStatus.DONE)), on) == []
    assert cross_check(facts(status=ProjectStatus.PREPARING, groundbreaking=node(date(2026, 10, 31))), on) == []


def test_every_warning_at_once() -> None:
    warnings = cross_check(facts(planned={2026: W(1500)}, funding=[W(10)], status=ProjectStatus.BUILDING,
                                 groundbreaking=node(date(2026, 1, 1))), date(2026, 11, 22))
    assert [w[:6] for w in warnings] == ["2026年计", "各年度计划投", "各渠道资金合", "项目状态为“"]


def test_acknowledging_means_every_warning_seen() -> None:
    warnings = ["甲。", "乙。"]
    require_acknowledged([], False)
    require_acknowledged(warnings, True)
    require_acknowledged(warnings, [checks.warning_key(w) for w in warnings])
    for acknowledged in (False, [checks.warning_key("甲。")]):
        with pytest.raises(WarningsToAcknowledge) as refused:
            require_acknowledged(warnings, acknowledged)
        assert refused.value.warnings == warnings and refused.value.field == "acknowledge_warnings"
        assert isinstance(refused.value, DomainError)


# ------------------------------------------------------------------------------------------ the register form



def _warnings_on(html: str) -> list[str]:
    box = re.search(r'<fieldset class="cross-checks" id="cross-checks">(.*?)</fieldset>', html, re.S)
    assert box is not None, "no warnings on the form"
    return [re.sub(r"\s+", " ", w).strip() for w in re.findall(r"<li>(.*?)</li>", box.group(1), re.S)]


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"|type="hidden" name="{name}" value="([^"]*)"'
                      rf'|name="{name}"[^>]*value="([^"]*)"', html)
    assert found is not None
    return next(g for g in found.groups() if g is not None)


def _entries(app: Flask, project_id: int) -> list[AuditEntry]:
    with app.extensions["tracker.sessions"]() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.object_type == "key_projects",
                                                       AuditEntry.object_id == project_id).order_by(AuditEntry.id)))


@pytest.fixture
def planner(world: World, app: Flask) -> FlaskClient:
    return client_as(app, world.users["planner"])


def test_the_form_shows_the_warnings_keeps_what_was_typed_and_saves_once_ticked(
        world: World, app: Flask, planner: FlaskClient) -> None:
    url = f"/projects/{world.project_id}/edit"
    data = _form(app, world.project_id, planned_2027="12", funding_fiscal="6", funding_special_bond="2",
                 status="building", content="改为在建")
    response = planner.post(url, data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _warnings_on(html) == [
        "2027年计划投资（12亿元）超过项目总投资（10亿元）。",
        "各年度计划投资合计（20亿元）超过项目总投资（10亿元），超出100,000万元。",
        "各渠道资金合计（8亿元）与项目总投资（10亿元）不一致，尚差20,000万元。",
        "项目状态为“在建”，但“开工”节点（计划2026年10月31日）已逾期未办结，请办结开工节点或核对项目状态。",
    ]
    assert "我已核对以上提示，仍然保存" in html and 'name="acknowledge_warnings"' in html
    assert 'value="12"' in html and "改为在建" in html  # what was typed stays
    p = fresh(app, KeyProject, world.project_id)
    assert p.status == ProjectStatus.PREPARING and not p.funding  # nothing saved
    assert _entries(app, world.project_id) == []

    seen = _hidden(html, "seen_warnings")
    assert len(seen.split(",")) == 4
    response = planner.post(url, data={**data, "acknowledge_warnings": "y", "seen_warnings": seen})
    assert response.status_code == 302
    p = fresh(app, KeyProject, world.project_id)
    assert p.status == ProjectStatus.BUILDING and {i.year: i.planned for i in p.investments}[2027] == W(120000)
    entry = _entries(app, world.project_id)[-1]
    assert "已核对提示" in (entry.summary or "") and "尚差20,000万元" in (entry.summary or "")


def test_a_tick_for_other_warnings_does_not_save(world: World, app: Flask, planner: FlaskClient) -> None:
    url = f"/projects/{world.project_id}/edit"
    first = planner.post(url, data=_form(app, world.project_id, planned_2027="12"))
    seen = _hidden(first.get_data(as_text=True), "seen_warnings")
    # the figures changed again before ticking: a funding warning now, which was never shown
    response = planner.post(url, data=_form(app, world.project_id, planned_2027="12", funding_fiscal="1",
                                            acknowledge_warnings="y", seen_warnings=seen))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert len(_warnings_on(html)) == 3 and "请核对以上3条提示" in html
    assert 'name="acknowledge_warnings" type="checkbox" value="y">' in html  # shown again unticked
    assert 2027 not in {i.year for i in fresh(app, KeyProject, world.project_id).investments}


def test_figures_that_agree_save_without_asking(world: World, app: Flask, planner: FlaskClient) -> None:
    response = planner.post(f"/projects/{world.project_id}/edit",
                            data=_form(app, world.project_id, funding_fiscal="7", funding_self="3"))
    assert response.status_code == 302
    assert "已核对提示" not in (_entries(app, world.project_id)[-1].summary or "")


def test_the_project_page_the_register_and_the_form_show_current_warnings(
        world: World, app: Flask, planner: FlaskClient) -> None:
    with app.extensions["tracker.sessions"]() as s:
        project = s.get(KeyProject, world.project_id)
        assert project is not None
        project.status = ProjectStatus.BUILDING
        s.commit()
    warning = "项目状态为“在建”，但“开工”节点（计划2026年10月31日）已逾期未办结"
    page = planner.get(f"/projects/{world.project_id}").get_data(as_text=True)
    assert 'id="cross-checks"' in page and warning in page
    leader = client_as(app, world.users["leader"]).get(f"/projects/{world.project_id}").get_data(as_text=True)
    assert warning in leader  # never silent, whoever reads the project
    register = planner.get(f"/plans/{world.plan_id}/projects").get_data(as_text=True)
    assert 'id="register-checks"' in register and warning in register
    assert f'href="#checks-{world.project_id}"' in register
    form = planner.get(f"/projects/{world.project_id}/edit").get_data(as_text=True)
    assert _warnings_on(form)[0].startswith("项目状态为“在建”")
    # ticking on the form as first shown saves
    data = _form(app, world.project_id, status="building", acknowledge_warnings="y",
                 seen_warnings=_hidden(form, "seen_warnings"))
    assert planner.post(f"/projects/{world.project_id}/edit", data=data).status_code == 302


def test_a_refused_save_shows_the_warnings_with_the_error(world: World, app: Flask, planner: FlaskClient) -> None:
    response = planner.post(f"/projects/{world.project_id}/edit",
                            data=_form(app, world.project_id, planned_2027="12", end_year="2020"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "建成年份不能早于开工年份" in html and len(_warnings_on(html)) == 2


def test_a_new_project_is_checked_too(world: World, app: Flask, planner: FlaskClient) -> None:
    with app.extensions["tracker.sessions"]() as s:
        from tracker.regions.models import Department
        owner = s.scalars(select(Department).where(Department.name == "医政医管处")).one()
    data = {"title": "新院区二期", "code": "", "task_kind": "engineering", "parent_id": "",
            "lead_department_id": str(owner.id), "kind": "new", "status": "preparing",
            "region": str(fresh(app, KeyProject, world.project_id).region_id), "start_year": "2024",
            "end_year": "2025", "content": "", "total_investment": "5", "period_investment": "",
            "funding_fiscal": "4", "funding_special_bond": "", "funding_self": "", "funding_social": "",
            "funding_other": "", **{f"planned_{y}": "" for y in range(2021, 2026)}}
    url = f"/plans/{world.plan_id}/projects/new"
    response = planner.post(url, data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _warnings_on(html) == ["各渠道资金合计（4亿元）与项目总投资（5亿元）不一致，尚差10,000万元。"]
    response = planner.post(url, data={**data, "acknowledge_warnings": "y",
                                       "seen_warnings": _hidden(html, "seen_warnings")})
    assert response.status_code == 302
    with app.extensions["tracker.sessions"]() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "key_projects",
                                                   AuditEntry.action == "create").order_by(AuditEntry.id.desc())).first()
        assert entry is not None and "尚差10,000万元" in (entry.summary or "")
