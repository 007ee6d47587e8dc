"""Every route × every role: the expected 200 / 302 / 403 / 404 / 405, from one table.

A new route must be added to ROUTES (test_every_route_is_in_the_table), so no page escapes the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from tracker.adjustments.services import request_deadline
from tracker.attachments.models import Attachment
from tracker.auth.models import User
from tracker.db import unit_of_work
from tracker.documents import pdf_available
from tracker.indicators.models import Indicator
from tracker.planning.models import Plan
from tracker.regions.models import Department
from tracker.supervision.models import CaseAction, CaseSource
from tracker.supervision.services import CaseInput, file_case, perform
from tracker.tasks.models import Milestone, MilestoneStatus, ProgressReport, Task, TaskLevel, TaskStatus
from tracker.timeutil import now

from .conftest import login

USERS = {"admin": "admin", "planner": "zj_planner", "head": "zj_head_jk", "staff": "zj_staff_jk",
         "other_head": "zj_head_yz", "supervisor": "zj_supervisor", "evaluator": "zj_evaluator",
         "leader": "zj_leader", "outsider": "hz_planner"}
ROLES = ["anon", *USERS]


@dataclass
class Route:
    endpoint: str
    path: str
    expect: dict[str, int]
    default: int = 200
    method: str = "GET"

    def code(self, role: str) -> int:
        if self.default == 405:  # the method is refused before anything else
            return 405
        if role in self.expect:
            return self.expect[role]
        return 302 if role == "anon" else self.default


def only(*roles: str, ok: int = 200) -> dict[str, int]:
    """Only these roles get `ok`; every other signed-in role gets 403."""
    return {r: (ok if r in roles else 403) for r in USERS}


ALL_SIGNED_IN: dict[str, int] = {}
LEAD_EDITORS = only("planner", "head")
DEPT = only("head", "staff")
PLANNER = only("planner")

ROUTES: list[Route] = [
    Route("plans.home", "/", {}, default=302),
    Route("plans.index", "/plans", ALL_SIGNED_IN),
    Route("plans.show", "/plans/{plan}", ALL_SIGNED_IN),
    Route("plans.show", "/plans/{city_plan}", {"outsider": 403}),
    Route("plans.show", "/plans/999999", {}, default=404),
    Route("plans.delete", "/plans/{plan}/delete", PLANNER),
    Route("plans.delete", "/plans/{city_plan}/delete", only()),
    Route("plans.delete", "/plans/999999/delete", {}, default=404),
    Route("tasks.show", "/tasks/{task}", ALL_SIGNED_IN),
    Route("tasks.show", "/tasks/{city_task}", {"outsider": 403}),
    Route("tasks.status", "/tasks/{task}/status", LEAD_EDITORS),
    Route("tasks.complete", "/milestones/{milestone}/complete", LEAD_EDITORS),
    Route("tasks.complete", "/milestones/999999/complete", {}, default=404),
    Route("tasks.new_report", "/tasks/{task}/reports/new", DEPT),
    Route("tasks.report", "/reports/{report}", ALL_SIGNED_IN),
    Route("tasks.edit_report", "/reports/{report}/edit", DEPT),
    Route("tasks.report_action", "/reports/{report}/submit", {}, default=405),
    Route("tasks.reports", "/reports", {"admin": 403}),
    Route("workspace.index", "/workspace", ALL_SIGNED_IN),
    Route("attachments.download", "/attachments/{attachment}", ALL_SIGNED_IN),
    Route("attachments.download", "/attachments/999999", {}, default=404),
    Route("auth.login", "/login", {"anon": 200}, default=302),
    Route("auth.logout", "/logout", {"anon": 405}, default=405),
    Route("auth.password", "/account/password", ALL_SIGNED_IN),
    Route("admin.index", "/admin/", only("admin", ok=302)),
    Route("admin.users", "/admin/users", only("admin")),
    Route("admin.user_form", "/admin/users/new", only("admin")),
    Route("admin.user_form", "/admin/users/{user}/edit", only("admin")),
    Route("admin.departments", "/admin/departments", only("admin")),
    Route("admin.deliveries", "/admin/deliveries", only("admin")),
    Route("admin.resend_delivery", "/admin/deliveries/1/resend", {}, default=405),
    Route("admin.department_form", "/admin/regions/1/departments/new", only("admin")),
    Route("admin.department_form", "/admin/departments/{department}/edit", only("admin")),
    Route("supervision.index", "/supervision/", ALL_SIGNED_IN),
    Route("supervision.ledger", "/supervision/ledger.xlsx", ALL_SIGNED_IN),
    Route("supervision.new", "/supervision/new", only("supervisor")),
    Route("supervision.show", "/supervision/{case}", {"other_head": 403, "outsider": 403}),
    Route("supervision.show", "/supervision/999999", {}, default=404),
    Route("supervision.notice", "/supervision/{case}/notice", {"other_head": 403, "outsider": 403}),
    Route("supervision.notice_document", "/supervision/{case}/notice.docx", {"other_head": 403, "outsider": 403}),
    Route("supervision.notice_pdf", "/supervision/{case}/notice.pdf", {"other_head": 403, "outsider": 403},
          default=200 if pdf_available() else 404),  # 404 with a message where LibreOffice is not installed
    Route("supervision.step_document", "/supervision/{case}/steps/{interview}.docx", {"other_head": 403, "outsider": 403}),
    Route("supervision.step_document", "/supervision/{case}/steps/{interview}.pdf", {"other_head": 403, "outsider": 403},
          default=200 if pdf_available() else 404),
    Route("supervision.act", "/supervision/{case}/acknowledge", {}, default=405),
    Route("supervision.from_alerts", "/supervision/from-alerts", {}, default=405),
    Route("adjustments.index", "/adjustments/", ALL_SIGNED_IN),
    Route("adjustments.new_deadline", "/adjustments/task/{task}/new", only("head")),
    Route("adjustments.new_target", "/adjustments/indicator/{indicator}/new", only("head")),
    Route("adjustments.show", "/adjustments/{adjustment}", {"other_head": 403, "outsider": 403}),
    Route("adjustments.withdraw_request", "/adjustments/{adjustment}/withdraw", {}, default=405),
    Route("alerts.overdue", "/alerts/overdue", only("admin", "planner", "supervisor", "leader", "outsider")),
    Route("alerts.overdue_json", "/alerts/overdue.json", only("admin", "planner", "supervisor", "leader", "outsider")),
    Route("alerts.export", "/alerts/overdue/export.xlsx", only("admin", "planner", "supervisor", "leader", "outsider")),
    Route("notifications.index", "/notifications", ALL_SIGNED_IN),
    Route("notifications.read", "/notifications/1/read", {}, default=405),
    Route("notifications.read_all", "/notifications/read-all", {}, default=405),
    Route("notifications.settings", "/notifications/settings", ALL_SIGNED_IN),
    Route("system.index", "/system/", only("admin", ok=302)),
    Route("system.settings", "/system/settings", only("admin")),
    Route("system.calendar", "/system/calendar", only("admin")),
    Route("system.jobs", "/system/jobs", only("admin")),
    Route("system.calendar_day", "/system/calendar/days", {}, default=405),
    Route("system.calendar_remove", "/system/calendar/days/2026-10-01/delete", {}, default=405),
    Route("system.calendar_load", "/system/calendar/load", {}, default=405),
    Route("system.run_job_now", "/system/jobs/scan/run", {}, default=405),
    Route("planning.new_plan", "/planning/plans/new", only("planner", "outsider")),
    Route("planning.edit_plan", "/planning/plans/{plan}/edit", PLANNER),
    Route("planning.edit_plan", "/planning/plans/{city_plan}/edit", only()),
    Route("planning.edit_plan", "/planning/plans/999999/edit", {}, default=404),
    Route("planning.record_stage", "/planning/plans/{plan}/stages/new", PLANNER),
    Route("planning.new_task", "/planning/plans/{plan}/tasks/new", PLANNER),
    Route("planning.edit_task", "/planning/tasks/{task}/edit", PLANNER),
    Route("planning.edit_task", "/planning/tasks/{city_task}/edit", only()),
    Route("planning.split_task", "/planning/tasks/{parent_task}/split", PLANNER),
    Route("planning.link_upstream", "/planning/tasks/{task}/upstream", PLANNER),
    Route("planning.move_task", "/planning/tasks/{task}/move", PLANNER),
    Route("planning.delete_task", "/planning/tasks/{task}/delete", PLANNER),
    Route("planning.close_task", "/planning/tasks/{task}/close", PLANNER),
    Route("planning.milestones", "/planning/tasks/{task}/milestones", PLANNER),
    Route("planning.edit_milestone", "/planning/milestones/{milestone}/edit", PLANNER),
    Route("planning.delete_milestone", "/planning/milestones/{milestone}/delete", {}, default=405),
    Route("planning.indicators", "/planning/plans/{plan}/indicators", PLANNER),
    Route("planning.new_indicator", "/planning/plans/{plan}/indicators/new", PLANNER),
    Route("planning.edit_indicator", "/planning/indicators/{indicator}/edit", PLANNER),
    Route("planning.explain_target", "/planning/targets/explain?text=80以上", ALL_SIGNED_IN),
    Route("tokens.index", "/account/tokens", ALL_SIGNED_IN),
    Route("tokens.revoke", "/account/tokens/1/revoke", {}, default=405),
    Route("tokens.static", "/api-static/docs.js", {"anon": 200}),
]


@dataclass
class World:
    ids: dict[str, int] = field(default_factory=dict)


def _build(app: Flask) -> World:
    world = World()
    with unit_of_work(app.extensions["tracker.sessions"]) as s:
        users = {k: s.scalars(select(User).where(User.username == v)).one() for k, v in USERS.items()}
        jk = users["head"].department
        yz = users["other_head"].department
        task = s.scalars(select(Task).join(Plan).where(
            Plan.code == "zj-14", Task.lead_department_id == jk.id, Task.level == TaskLevel.ANNUAL,
            Task.status == TaskStatus.IN_PROGRESS, Task.milestones.any(Milestone.status == MilestoneStatus.PENDING),
            ~Task.co_departments.any(Department.id == yz.id)).order_by(Task.id)).first()
        assert task is not None
        milestone = next(m for m in task.milestones if m.status == MilestoneStatus.PENDING)
        report = ProgressReport(task=task, department=jk, period="year", period_year=2025, period_no=1, progress=50,
                                achievements="年度进展")
        s.add(report)
        s.flush()
        attachment = Attachment(filename="a.txt", content_type="text/plain", size=1, sha256="0" * 64,
                                storage_key="00/" + "0" * 64, uploaded_at=now(), report_id=report.id)
        s.add(attachment)
        city_plan = s.scalars(select(Plan).where(Plan.code == "wz-14")).one()
        city_task = s.scalars(select(Task).where(Task.plan_id == city_plan.id, Task.level != TaskLevel.CHAPTER)).first()
        indicator = s.scalars(select(Indicator).join(Plan).where(Plan.code == "zj-14")).first()
        indicator.lead_department = jk
        case = file_case(s, users["supervisor"], CaseInput(source=CaseSource.ROUTINE, department=jk, task=task,
                                                           title="督办", problem="滞后"))
        perform(s, users["supervisor"], case, CaseAction.ISSUE, version=case.version_id, response_days=10)
        interview = perform(s, users["supervisor"], case, CaseAction.INTERVIEW, version=case.version_id,
                            comment="12月10日上午9时在委机关3楼会议室约谈。")
        adjustment = request_deadline(s, users["head"], task, date(2027, 6, 30), "延期")
        s.flush()
        world.ids = {"plan": task.plan_id, "city_plan": city_plan.id, "task": task.id, "city_task": city_task.id,
                     "parent_task": task.parent_id, "milestone": milestone.id, "report": report.id, "attachment": attachment.id,
                     "user": users["staff"].id, "department": jk.id, "indicator": indicator.id, "case": case.id,
                     "adjustment": adjustment.id, "interview": interview.id}
    upload = app.config["UPLOAD_DIR"] / "00"
    upload.mkdir(parents=True, exist_ok=True)
    (upload / ("0" * 64)).write_bytes(b"x")
    return world


@pytest.fixture
def clients(demo):  # type: ignore[no-untyped-def]
    world = _build(demo)
    result = {"anon": demo.test_client()}
    for role, username in USERS.items():
        result[role] = demo.test_client()
        login(result[role], username)
    return world, result


def test_every_route_and_role(clients) -> None:  # type: ignore[no-untyped-def]
    world, by_role = clients
    failures = []
    for route in ROUTES:
        path = route.path.format(**world.ids)
        for role in ROLES:
            with by_role[role].open(path, method=route.method) as response:
                if response.status_code != route.code(role):
                    failures.append(f"{route.method} {path} as {role}: {response.status_code} ≠ {route.code(role)}")
                if response.status_code == 403:
                    assert "无权访问" in response.get_data(as_text=True)
                if response.status_code == 302 and role == "anon" and route.code("anon") == 302 \
                        and route.endpoint not in ("auth.login",):
                    assert "/login" in response.headers["Location"], path
    assert failures == [], "\n".join(failures)


# Areas whose routes × roles are walked by a table of their own.
OWN_TABLES = {
    "projects.": "tests/projects/test_routes.py",
    "indicators.": "tests/indicators/test_routes.py",
    "evaluations.": "tests/evaluations/test_routes.py",
    "succession.": "tests/succession/test_routes.py",
    "dashboard.": "tests/dashboard/test_routes.py",
    "imports.": "tests/imports/test_routes.py",
    # planning's cascade and coverage pages are walked with the import tests' world of regions below
    "plans.cascade_plan": "tests/imports/test_routes.py",
    "plans.coverage": "tests/imports/test_routes.py",
    # 删除规划 deletes the record it is posted to: its POSTs × roles are sent to plans of its own
    "plans.delete": "tests/planning/test_plan_delete.py",
    # /api/v1 answers tokens, not the session: its routes × roles are walked with a token of each role
    "api.": "tests/api/test_routes.py",
    "search.": "tests/search/test_routes.py",
    "webhooks.": "tests/webhooks/test_routes.py",
    "batch.": "tests/batch/test_batch.py",
    # single sign-on and the service accounts are walked with the provider the tests start on loopback
    "auth.oidc_": "tests/auth/test_oidc.py",
    "admin.service_account": "tests/auth/test_service_accounts.py",
}


def test_every_route_is_in_the_table(demo) -> None:  # type: ignore[no-untyped-def]
    covered = {r.endpoint for r in ROUTES}
    endpoints = {r.endpoint for r in demo.url_map.iter_rules()
                 if r.endpoint != "static" and not r.endpoint.startswith(tuple(OWN_TABLES))}
    assert endpoints - covered == set()
