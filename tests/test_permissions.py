"""Every rule of tracker/permissions.py, asked of every user of a small province: who is let through.

The route and POST matrices check the rules as the pages apply them to the demo; this checks each rule on its own,
at its edges. The province's supervisor, evaluator, leader, administrator and one planner sit in the department
that leads the province's task, so that a rule that forgot its role check lets them through and fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask_login import login_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import permissions as p
from tracker.adjustments import services as adjustments
from tracker.adjustments.models import AdjustmentKind, AdjustmentRequest, AdjustmentState
from tracker.alerts.services import scan
from tracker.auth.models import Role, User
from tracker.errors import PermissionDenied
from tracker.indicators.models import Indicator, IndicatorNature
from tracker.planning.models import Plan, PlanLevel
from tracker.regions.models import Department, Region, RegionLevel
from tracker.supervision import services as supervision
from tracker.supervision.models import CaseSource, SupervisionCase
from tracker.tasks.models import ProgressReport, ReportPeriod, Task
from tracker.tasks.queries import report_list
from tracker.timeutil import now

from . import factories as f
from .conftest import login

# user: (department, role). Departments: p_* province (gh 规划处, jk 疾控处 leads the province's task, yz 医政医管处
# co-operates on it), c_* the city, a_* a county of the city, h_* another city.
USERS: dict[str, tuple[str, Role]] = {
    "p_planner": ("p_jk", Role.PLANNER),
    "p_head": ("p_jk", Role.DEPT_HEAD),
    "p_staff": ("p_jk", Role.DEPT_STAFF),
    "p_supervisor": ("p_jk", Role.SUPERVISOR),
    "p_evaluator": ("p_jk", Role.EVALUATOR),
    "p_leader": ("p_jk", Role.LEADER),
    "p_admin": ("p_jk", Role.ADMIN),
    "gh_planner": ("p_gh", Role.PLANNER),
    "yz_head": ("p_yz", Role.DEPT_HEAD),
    "yz_staff": ("p_yz", Role.DEPT_STAFF),
    "c_planner": ("c_gh", Role.PLANNER),
    "c_head": ("c_jk", Role.DEPT_HEAD),
    "c_staff": ("c_jk", Role.DEPT_STAFF),
    "c_supervisor": ("c_dc", Role.SUPERVISOR),
    "c_evaluator": ("c_gh", Role.EVALUATOR),
    "a_planner": ("a_gh", Role.PLANNER),
    "a_head": ("a_jk", Role.DEPT_HEAD),
    "h_planner": ("h_gh", Role.PLANNER),
}
ALL = set(USERS)
PROVINCE_PLANNERS = {"p_planner", "gh_planner"}
PLANNERS = {"p_planner", "gh_planner", "c_planner", "a_planner", "h_planner"}


@dataclass
class Province:
    session: Session
    regions: dict[str, Region]
    depts: dict[str, Department]
    users: dict[str, User]
    plans: dict[str, Plan]
    tasks: dict[str, Task]

    def allowed(self, rule: Callable[[User], Any]) -> set[str]:
        """The users the rule lets through (a rule must answer a real bool)."""
        out = set()
        for name, user in self.users.items():
            answer = rule(user)
            assert isinstance(answer, bool), f"{name}: {answer!r}"
            if answer:
                out.add(name)
        return out

    def ids(self, *names: str) -> set[int]:
        return {self.regions[n].id for n in names}


@pytest.fixture
def w(session: Session) -> Province:
    province = f.region(session, "浙江省", RegionLevel.PROVINCE)
    city = f.region(session, "温州市", RegionLevel.CITY, province)
    county = f.region(session, "乐清市", RegionLevel.COUNTY, city)
    other = f.region(session, "杭州市", RegionLevel.CITY, province)
    regions = {"p": province, "c": city, "a": county, "h": other}
    depts = {name: f.department(session, regions[name[0]], name)
             for name in ("p_gh", "p_jk", "p_yz", "c_gh", "c_jk", "c_dc", "a_gh", "a_jk", "h_gh")}
    users = {name: f.user(session, depts[dept], role, name) for name, (dept, role) in USERS.items()}
    plans = {"p": f.plan(session, province),
             "c": f.plan(session, city, level=PlanLevel.CITY),
             "a": f.plan(session, county, level=PlanLevel.COUNTY),
             "h": f.plan(session, other, level=PlanLevel.CITY)}
    tasks = {"p": f.task(session, plans["p"], depts["p_jk"], co_departments=[depts["p_yz"]]),
             "c": f.task(session, plans["c"], depts["c_jk"]),
             "a": f.task(session, plans["a"], depts["a_jk"]),
             # a city task naming province departments: their people work in another region
             "x": f.task(session, plans["c"], depts["p_jk"], co_departments=[depts["p_yz"]])}
    session.commit()
    return Province(session, regions, depts, users, plans, tasks)


def _report(w: Province, task: str, dept: str) -> Any:
    return SimpleNamespace(task=w.tasks[task], department_id=w.depts[dept].id)


def _indicator(w: Province, plan: str, lead: str) -> Any:
    return SimpleNamespace(plan=w.plans[plan], lead_department_id=w.depts[lead].id)


# -------------------------------------------------------------------------------- regions


def test_regions_below_and_above(w: Province) -> None:
    s = w.session
    assert p.region_ids_below(s, w.regions["p"].id) == w.ids("p", "c", "a", "h")
    assert p.region_ids_below(s, w.regions["c"].id) == w.ids("c", "a")
    assert p.region_ids_below(s, w.regions["a"].id) == w.ids("a")
    assert p.region_ids_above(s, w.regions["a"].id) == w.ids("c", "p")
    assert p.region_ids_above(s, w.regions["h"].id) == w.ids("p")
    assert p.region_ids_above(s, w.regions["p"].id) == set()
    # the answer is the caller's to change: the session's cache keeps its own
    mine = p.region_ids_below(s, w.regions["c"].id)
    mine.add(w.regions["h"].id)
    assert p.region_ids_below(s, w.regions["c"].id) == w.ids("c", "a")


def test_a_user_sees_their_region_the_regions_below_and_the_plans_above_never_a_siblings(w: Province) -> None:
    s, users = w.session, w.users
    assert p.visible_region_ids(s, users["c_head"]) == w.ids("c", "a", "p")
    assert p.visible_region_ids(s, users["a_head"]) == w.ids("a", "c", "p")
    assert p.visible_region_ids(s, users["p_head"]) == w.ids("p", "c", "a", "h")
    assert p.overdue_region_ids(s, users["c_supervisor"]) == w.ids("c", "a")
    assert p.overdue_region_ids(s, users["p_supervisor"]) == w.ids("p", "c", "a", "h")
    assert w.allowed(lambda u: p.can_view_region(s, u, w.regions["h"].id)) == \
        ALL - {"c_planner", "c_head", "c_staff", "c_supervisor", "c_evaluator", "a_planner", "a_head"}
    assert w.allowed(lambda u: p.can_view_plan(s, u, w.plans["p"])) == ALL
    assert w.allowed(lambda u: p.can_view_plan(s, u, w.plans["a"])) == ALL - {"h_planner"}
    assert w.allowed(lambda u: p.can_view_task(s, u, w.tasks["c"])) == ALL - {"h_planner"}


def test_a_scope_of_every_region_is_not_sent_to_the_database(w: Province) -> None:
    """The root region's reader sees every region: its lists need not name them (1,021 ids in a nation), and
    nothing else is dropped — a city's scope is still tested."""
    s, users = w.session, w.users
    everything = p.region_ids_below(s, w.regions["p"].id)
    assert p.every_region(s, everything) and not p.every_region(s, w.ids("c", "a"))
    assert str(p.in_regions(s, Plan.region_id, everything)) == "true"
    assert "IN" in str(p.in_regions(s, Plan.region_id, w.ids("c", "a")))
    tasks = {**w.tasks, "h": f.task(s, w.plans["h"], w.depts["h_gh"])}
    reports = {name: ProgressReport(task=task, department_id=task.lead_department_id, period=ReportPeriod.QUARTER,
                                    period_year=2025, period_no=1) for name, task in tasks.items()}
    s.add_all(reports.values())
    s.flush()
    listed = {u: {r.id for r in s.scalars(report_list(s, users[u]))} for u in ("p_supervisor", "c_supervisor")}
    assert listed["p_supervisor"] == {r.id for r in reports.values()}
    assert listed["c_supervisor"] == {reports[t].id for t in ("p", "c", "a", "x")}  # not the sibling city's


# -------------------------------------------------------------------------------- roles alone


ROLE_RULES: list[tuple[Callable[[User], bool], set[str]]] = [
    (p.can_create_plan, PLANNERS),
    (p.can_import, PLANNERS),
    (p.can_supervise, {"p_supervisor", "c_supervisor"}),
    (p.can_administer, {"p_admin"}),
    (p.can_reopen_evaluation, {"p_admin"}),
    (p.can_view_evaluations, PLANNERS | {"p_evaluator", "c_evaluator", "p_leader"}),
    (p.can_view_dashboard, ALL - {"p_head", "p_staff", "yz_head", "yz_staff", "c_head", "c_staff", "a_head"}),
]


@pytest.mark.parametrize(("rule", "expected"), ROLE_RULES, ids=[rule.__name__ for rule, _ in ROLE_RULES])
def test_rules_of_the_role_alone(w: Province, rule: Callable[[User], bool], expected: set[str]) -> None:
    assert w.allowed(rule) == expected


# -------------------------------------------------------------------------------- tasks and reports


def test_who_works_on_a_task(w: Province) -> None:
    task, city_task = w.tasks["p"], w.tasks["c"]
    jk = {"p_planner", "p_head", "p_staff", "p_supervisor", "p_evaluator", "p_leader", "p_admin"}
    assert w.allowed(lambda u: p.is_lead(u, task)) == jk
    assert w.allowed(lambda u: p.is_co(u, task)) == {"yz_head", "yz_staff"}
    assert w.allowed(lambda u: p.is_co(u, city_task)) == set()
    assert w.allowed(lambda u: p.can_update_task(u, task)) == {"p_planner", "gh_planner", "p_head"}
    assert w.allowed(lambda u: p.can_update_task(u, city_task)) == {"c_planner", "c_head"}
    assert w.allowed(lambda u: p.can_report_on_task(u, task)) == {"p_head", "p_staff", "yz_head", "yz_staff"}
    assert w.allowed(lambda u: p.can_report_on_task(u, city_task)) == {"c_head", "c_staff"}


def test_departments_of_another_region_do_not_work_on_a_task(w: Province) -> None:
    task = w.tasks["x"]
    assert w.allowed(lambda u: p.is_lead(u, task)) == w.allowed(lambda u: p.is_lead(u, w.tasks["p"]))
    assert w.allowed(lambda u: p.is_co(u, task)) == {"yz_head", "yz_staff"}
    assert w.allowed(lambda u: p.can_update_task(u, task)) == {"c_planner"}
    assert w.allowed(lambda u: p.can_report_on_task(u, task)) == set()
    assert w.allowed(lambda u: p.is_project_owner(u, task)) == set()
    assert w.allowed(lambda u: p.can_enter_investment(u, task)) == set()
    assert w.allowed(lambda u: p.can_submit_investment(u, task)) == set()
    assert w.allowed(lambda u: p.can_request_investment_adjustment(u, task)) == set()


def test_who_edits_submits_and_reviews_a_report(w: Province) -> None:
    lead, co, city = _report(w, "p", "p_jk"), _report(w, "p", "p_yz"), _report(w, "c", "c_jk")
    # the department's head and staff only: not the planner, supervisor, … sitting in the same department
    assert w.allowed(lambda u: p.can_edit_report(u, lead)) == {"p_head", "p_staff"}
    assert w.allowed(lambda u: p.can_edit_report(u, co)) == {"yz_head", "yz_staff"}
    assert w.allowed(lambda u: p.can_submit_report(u, lead)) == {"p_head"}
    assert w.allowed(lambda u: p.can_submit_report(u, co)) == {"yz_head"}
    assert w.allowed(lambda u: p.can_review_report(u, lead)) == PROVINCE_PLANNERS
    assert w.allowed(lambda u: p.can_review_report(u, city)) == {"c_planner"}


def test_who_supervises_a_task(w: Province) -> None:
    s = w.session
    assert w.allowed(lambda u: p.can_supervise_task(s, u, w.tasks["p"])) == {"p_supervisor"}
    assert w.allowed(lambda u: p.can_supervise_task(s, u, w.tasks["c"])) == {"p_supervisor", "c_supervisor"}
    assert w.allowed(lambda u: p.can_supervise_task(s, u, w.tasks["a"])) == {"p_supervisor", "c_supervisor"}


# -------------------------------------------------------------------------------- key projects


def test_who_keeps_a_key_project(w: Province) -> None:
    task, city_task = w.tasks["p"], w.tasks["c"]
    jk = {"p_planner", "p_head", "p_staff", "p_supervisor", "p_evaluator", "p_leader", "p_admin"}
    assert w.allowed(lambda u: p.is_project_owner(u, task)) == jk
    assert w.allowed(lambda u: p.is_project_owner(u, city_task)) == {"c_head", "c_staff"}
    assert w.allowed(lambda u: p.can_enter_investment(u, task)) == {"p_head", "p_staff"}
    assert w.allowed(lambda u: p.can_enter_investment(u, city_task)) == {"c_head", "c_staff"}
    assert w.allowed(lambda u: p.can_submit_investment(u, task)) == {"p_head"}
    assert w.allowed(lambda u: p.can_request_investment_adjustment(u, task)) == {"p_head"}
    assert w.allowed(lambda u: p.can_request_investment_adjustment(u, city_task)) == {"c_head"}
    assert w.allowed(lambda u: p.can_review_investment(u, task)) == PROVINCE_PLANNERS
    assert w.allowed(lambda u: p.can_decide_investment_adjustment(u, task)) == PROVINCE_PLANNERS
    assert w.allowed(lambda u: p.can_decide_investment_adjustment(u, city_task)) == {"c_planner"}
    assert w.allowed(lambda u: p.can_keep_project_register(u, w.plans["p"])) == PROVINCE_PLANNERS
    assert w.allowed(lambda u: p.can_edit_project_register(u, city_task)) == {"c_planner"}


# -------------------------------------------------------------------------------- indicators and evaluations


def test_who_enters_confirms_and_judges_indicator_values(w: Province) -> None:
    led_by_jk, led_by_yz, city = _indicator(w, "p", "p_jk"), _indicator(w, "p", "p_yz"), _indicator(w, "c", "c_jk")
    assert w.allowed(lambda u: p.can_enter_indicator_value(u, led_by_jk)) == PROVINCE_PLANNERS | {"p_head", "p_staff"}
    assert w.allowed(lambda u: p.can_enter_indicator_value(u, led_by_yz)) == PROVINCE_PLANNERS | {"yz_head",
                                                                                                 "yz_staff"}
    assert w.allowed(lambda u: p.can_enter_indicator_value(u, city)) == {"c_planner", "c_head", "c_staff"}
    assert w.allowed(lambda u: p.can_confirm_indicator_value(u, led_by_jk)) == PROVINCE_PLANNERS
    assert w.allowed(lambda u: p.can_confirm_plan_values(u, w.plans["c"])) == {"c_planner"}
    assert w.allowed(lambda u: p.can_judge_indicator_value(u, led_by_jk)) == {"p_evaluator"}
    assert w.allowed(lambda u: p.can_judge_indicator_value(u, city)) == {"c_evaluator"}


def test_who_runs_and_reads_evaluations(w: Province) -> None:
    s = w.session
    assert w.allowed(lambda u: p.can_run_evaluation(u, w.plans["p"])) == {"p_evaluator"}
    assert w.allowed(lambda u: p.can_run_evaluation(u, w.plans["c"])) == {"c_evaluator"}
    assert w.allowed(lambda u: p.can_view_evaluation(s, u, w.plans["c"])) == {
        "p_planner", "gh_planner", "p_evaluator", "p_leader", "c_planner", "c_evaluator", "a_planner"}


# -------------------------------------------------------------------------------- plans and imports


def test_who_shapes_plans_and_imports(w: Province) -> None:
    s = w.session
    assert w.allowed(lambda u: p.can_edit_plan(u, w.plans["p"])) == PROVINCE_PLANNERS
    assert w.allowed(lambda u: p.can_edit_plan(u, w.plans["c"])) == {"c_planner"}
    assert w.allowed(lambda u: p.can_import_task_list(u, w.plans["a"])) == {"a_planner"}
    document = SimpleNamespace(region_id=w.regions["c"].id)
    assert w.allowed(lambda u: p.can_work_on_import(u, document)) == {"c_planner"}
    assert w.allowed(lambda u: p.can_cascade_from(s, u, w.plans["p"])) == {"c_planner", "a_planner", "h_planner"}
    assert w.allowed(lambda u: p.can_cascade_from(s, u, w.plans["c"])) == {"a_planner"}
    assert w.allowed(lambda u: p.can_cascade_from(s, u, w.plans["a"])) == set()
    offices = {"p_planner", "gh_planner", "p_supervisor", "p_evaluator", "p_leader"}
    assert w.allowed(lambda u: p.can_view_coverage(s, u, w.plans["p"])) == offices
    assert w.allowed(lambda u: p.can_view_coverage(s, u, w.plans["c"])) == offices | {
        "c_planner", "c_supervisor", "c_evaluator"}


# -------------------------------------------------------------------------------- refusing


def test_require_refuses_with_the_message() -> None:
    assert p.require(True, "不会显示") is None
    with pytest.raises(PermissionDenied) as refused:
        p.require(False, "只能修改本单位的填报。")
    assert refused.value.message == "只能修改本单位的填报。"
    with pytest.raises(PermissionDenied) as refused:
        p.require(False)
    assert refused.value.message == "您没有权限执行此操作。"


def test_roles_required_lets_only_those_roles_in(app: Flask, w: Province) -> None:
    @p.roles_required(Role.PLANNER, Role.SUPERVISOR)
    def view(x: int) -> str:
        return f"ok {x}"

    with app.test_request_context():
        with pytest.raises(PermissionDenied) as refused:
            view(1)  # not signed in
        assert refused.value.message == "此功能仅对规划处、督查室开放。"
    for name, expected in (("c_planner", True), ("p_supervisor", True), ("p_head", False), ("p_admin", False)):
        with app.test_request_context():
            login_user(w.users[name])
            if expected:
                assert view(2) == "ok 2"
            else:
                with pytest.raises(PermissionDenied):
                    view(2)
    assert view.__name__ == "view"


# -------------------------------------------------------------------------------- supervision cases and requests


def test_who_sees_a_supervision_case(w: Province) -> None:
    s = w.session

    def case(dept: str) -> Any:
        return SimpleNamespace(department_id=w.depts[dept].id, department=w.depts[dept])

    province_offices = {"p_planner", "gh_planner", "p_supervisor", "p_evaluator", "p_leader", "p_admin"}
    # a department sees its own cases only; the offices see the cases of their region and the regions below
    assert w.allowed(lambda u: p.can_view_case(s, u, case("p_jk"))) == province_offices | {"p_head", "p_staff"}
    assert w.allowed(lambda u: p.can_view_case(s, u, case("p_yz"))) == province_offices | {"yz_head", "yz_staff"}
    assert w.allowed(lambda u: p.can_view_case(s, u, case("c_jk"))) == province_offices | {
        "c_head", "c_staff", "c_planner", "c_supervisor", "c_evaluator"}
    assert w.allowed(lambda u: p.can_view_case(s, u, case("a_jk"))) == province_offices | {
        "a_head", "c_planner", "c_supervisor", "c_evaluator", "a_planner"}


def _request(w: Province, dept: str, *, task: str | None = None, indicator: str | None = None,
             project: str | None = None) -> Any:
    return SimpleNamespace(
        department_id=w.depts[dept].id,
        task=w.tasks[task] if task else None,
        indicator=_indicator(w, indicator, dept) if indicator else None,
        project=SimpleNamespace(task=w.tasks[project]) if project else None,
    )


def test_who_sees_and_decides_an_adjustment_request(w: Province) -> None:
    deadline = _request(w, "p_jk", task="p")
    target = _request(w, "c_jk", indicator="c")
    investment = _request(w, "p_jk", project="p")
    assert [p.request_region_id(r) for r in (deadline, target, investment)] == [
        w.regions["p"].id, w.regions["c"].id, w.regions["p"].id]
    province = {"p_planner", "gh_planner", "p_supervisor", "p_evaluator", "p_leader", "p_admin"}
    assert w.allowed(lambda u: p.can_view_request(u, deadline)) == province | {"p_head", "p_staff"}
    assert w.allowed(lambda u: p.can_view_request(u, target)) == {"c_planner", "c_supervisor", "c_evaluator",
                                                                   "c_head", "c_staff"}
    # an investment request is its department's and, through the register, the planner's: not listed here
    assert w.allowed(lambda u: p.can_view_request(u, investment)) == {"p_head", "p_staff"}
    assert w.allowed(lambda u: p.can_request_deadline(u, w.tasks["p"])) == {"p_head"}
    assert w.allowed(lambda u: p.can_request_deadline(u, w.tasks["a"])) == {"a_head"}
    assert w.allowed(lambda u: p.can_request_target(u, _indicator(w, "p", "p_yz"))) == {"yz_head"}
    assert w.allowed(lambda u: p.can_request_target(u, _indicator(w, "c", "c_jk"))) == {"c_head"}
    assert w.allowed(lambda u: p.can_decide_request(u, deadline)) == PROVINCE_PLANNERS
    assert w.allowed(lambda u: p.can_decide_request(u, target)) == {"c_planner"}
    assert w.allowed(lambda u: p.can_decide_request(u, investment)) == PROVINCE_PLANNERS


def test_the_case_list_shows_exactly_the_cases_can_view_case_allows(w: Province) -> None:
    """The list filters in SQL (supervision.services.scoped), a case's page asks can_view_case: one rule."""
    s = w.session
    cases = [SupervisionCase(source=CaseSource.ROUTINE, department=dept, title=f"督办{name}", problem="问题")
             for name, dept in w.depts.items()]
    s.add_all(cases)
    s.flush()
    for name, user in w.users.items():
        listed = set(s.scalars(supervision.scoped(s, user, select(SupervisionCase.id))))
        allowed = {c.id for c in cases if p.can_view_case(s, user, c)}
        assert listed == allowed, name
        assert allowed, name  # everyone sees some case: the comparison is not of two empty sets


def test_the_request_list_shows_exactly_the_requests_can_view_request_allows(w: Province) -> None:
    """The list filters in SQL (adjustments.services.scoped), a request's page asks can_view_request."""
    s = w.session
    indicators = {plan: Indicator(plan=w.plans[plan], number=1, name=f"指标{plan}", target_text="95",
                                  nature=IndicatorNature.EXPECTED) for plan in ("p", "c", "a")}
    s.add_all(indicators.values())
    s.flush()
    requests = []
    for dept in ("p_jk", "p_yz", "c_jk", "a_jk"):
        for task in ("p", "c", "a", "x"):
            requests.append(AdjustmentRequest(
                kind=AdjustmentKind.DEADLINE, state=AdjustmentState.REJECTED, task=w.tasks[task],
                department=w.depts[dept], new_date=date(2027, 6, 30), reason="因故", created_at=now(),
                decided_at=now()))
        for indicator in indicators.values():
            requests.append(AdjustmentRequest(
                kind=AdjustmentKind.TARGET, state=AdjustmentState.REJECTED, indicator=indicator,
                department=w.depts[dept], new_value="90", reason="因故", created_at=now(), decided_at=now()))
    s.add_all(requests)
    s.flush()
    seen = {}
    for name, user in w.users.items():
        listed = set(s.scalars(adjustments.scoped(user, select(AdjustmentRequest.id))))
        allowed = {r.id for r in requests if p.can_view_request(user, r)}
        assert listed == allowed, name
        seen[name] = len(allowed)
    # a department its own seven; the city's planner the requests about the city's two tasks and its indicator
    # from all four departments; the county's planner those about the county's task and indicator
    assert (seen["p_head"], seen["c_planner"], seen["a_planner"], seen["h_planner"]) == (7, 12, 8, 0)


# -------------------------------------------------------------------------------- the menu


MENU = {
    "workspace.index": {Role.DEPT_HEAD, Role.DEPT_STAFF},
    "plans.index": set(Role),
    "alerts.overdue": {Role.SUPERVISOR, Role.PLANNER, Role.LEADER, Role.ADMIN},
    "supervision.index": {Role.SUPERVISOR, Role.DEPT_HEAD, Role.DEPT_STAFF, Role.LEADER, Role.PLANNER},
    "tasks.reports": {Role.PLANNER},
    "adjustments.index": {Role.PLANNER, Role.DEPT_HEAD},
    "indicators.index": {Role.DEPT_HEAD, Role.DEPT_STAFF, Role.PLANNER, Role.EVALUATOR, Role.LEADER},
    "evaluations.index": {Role.EVALUATOR, Role.PLANNER, Role.LEADER},
    "dashboard.index": {Role.LEADER, Role.EVALUATOR, Role.PLANNER, Role.SUPERVISOR, Role.ADMIN},
    "admin.index": {Role.ADMIN},
}


@pytest.mark.parametrize("endpoint", sorted(MENU))
def test_who_sees_each_menu_entry(endpoint: str) -> None:
    seen = {role for role in Role if p.sees_menu_entry(SimpleNamespace(role=role), endpoint)}  # type: ignore[arg-type]
    assert seen == MENU[endpoint]
    signed_out = p.sees_menu_entry(SimpleNamespace(), endpoint)  # type: ignore[arg-type]
    assert signed_out is (endpoint == "plans.index")
    assert set(p.MENU_ROLES) == set(MENU)


def test_each_role_lands_on_a_page_of_its_menu(app: Flask, w: Province) -> None:
    """Signing in leads each role to where its work is: the workspace for departments, the dashboard for
    leaders, the overdue list for supervision offices (their cases while nothing is overdue or due soon),
    evaluations for evaluators, plans for planners."""
    assert set(p.LANDING) == set(Role)
    for role, endpoint in p.LANDING.items():
        assert p.sees_menu_entry(SimpleNamespace(role=role), endpoint), role  # type: ignore[arg-type]
    landings = {"p_head": "/workspace", "p_staff": "/workspace", "p_leader": "/dashboard",
                "p_supervisor": "/supervision/", "p_evaluator": "/evaluations", "p_planner": "/plans",
                "p_admin": "/admin/"}

    def lands(name: str) -> str:
        client = app.test_client()
        login(client, w.users[name].username)
        response = client.get("/")
        assert response.status_code == 302, name
        return response.headers["Location"]

    for name, landing in landings.items():
        assert lands(name).endswith(landing), name
    # something overdue in the office's scope: it lands on the overdue list
    w.tasks["p"].deadline = date(2026, 11, 1)
    w.session.commit()
    scan(w.session, date(2026, 11, 22))
    w.session.commit()
    assert lands("p_supervisor").endswith("/alerts/overdue")
