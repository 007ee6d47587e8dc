"""Every POST handler × every role: refused with the Chinese 403 page, or let through (anything but 403 and 5xx).

The GET walk of tests/test_route_matrix.py checks who may open a form; this walks who may send one. Each role works
on a fresh copy of the demo data and posts, in table order, to real demo records, with a form complete enough to get
past validation, so the permission check is what decides. A refused POST must leave the database as it was.
A new POST route must be added to POSTS (test_every_post_route_is_in_the_table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.alerts.models import Alert, AlertLevel, AlertRule, AlertTarget
from tracker.auth.models import User
from tracker.db import Base, unit_of_work
from tracker.notifications.models import (
    Channel,
    DeliveryState,
    Notification,
    NotificationDelivery,
    NotificationKind,
)
from tracker.planning.models import Plan
from tracker.supervision.models import SupervisionCase
from tracker.tasks.models import (
    Milestone,
    ProgressReport,
    ReportState,
    Task,
    TaskLevel,
    TaskStatus,
)
from tracker.timeutil import now

from .conftest import login
from .test_route_matrix import OWN_TABLES, USERS, _build

# The roles of the GET matrix plus a county planner and a county supervisor (温岭), outsiders to 乐清 and to the
# province's own work.
ROLES = {**USERS, "county": "wl_planner", "county_supervisor": "wl_supervisor"}

Value = Any | Callable[[Session, dict[str, int]], Any]


def version(model: type[Base], key: str) -> Callable[[Session, dict[str, int]], int]:
    """The record's version as it is when the form is sent (a stale one would be refused with 409 first)."""
    return lambda s, ids: s.get(model, ids[key]).version_id  # type: ignore[attr-defined]


@dataclass
class Post:
    endpoint: str
    path: str
    allowed: set[str]
    data: dict[str, Value] = field(default_factory=dict)
    refused: int = 403  # what the other roles get (404 where another user's record does not exist for them)
    other: dict[str, int] = field(default_factory=dict)  # roles refused another way (422: not among the choices)

    def expected(self, role: str) -> int:
        return self.other.get(role, self.refused)


def _roles(*names: str) -> set[str]:
    return set(names)


EVERYONE = set(ROLES)
PLANNER = _roles("planner")
ADMIN = _roles("admin")

POSTS: list[Post] = [
    # Work on a task: the lead department's head and the plan region's planner.
    Post("tasks.status", "/tasks/{task}/status", _roles("planner", "head"),
         {"status": "in_progress", "progress": 60, "note": "说明", "version": version(Task, "task")}),
    Post("tasks.status", "/tasks/{county_task}/status", set()),
    Post("tasks.complete", "/milestones/{milestone}/complete", _roles("planner", "head"),
         {"completed_on": "2026-11-20", "evidence": "已完成", "version": version(Milestone, "milestone")}),
    Post("tasks.new_report", "/tasks/{task}/reports/new", _roles("head", "staff"),
         {"period": "quarter", "period_year": 2026, "period_no": 3, "progress": 40, "achievements": "进展"}),
    Post("tasks.edit_report", "/reports/{report}/edit", _roles("head", "staff"),
         {"period": "year", "period_year": 2025, "period_no": 1, "progress": 55, "achievements": "年度进展",
          "version": version(ProgressReport, "report")}),
    Post("tasks.report_action", "/reports/{report}/submit", _roles("head"),
         {"version": version(ProgressReport, "report")}),
    Post("tasks.report_action", "/reports/{submitted_report}/return", PLANNER,
         {"reason": "请补充", "version": version(ProgressReport, "submitted_report")}),
    Post("tasks.report_action", "/reports/{county_report}/confirm", set(),
         {"version": version(ProgressReport, "county_report")}),
    # Supervision: the office files and issues; the department acknowledges.
    Post("supervision.new", "/supervision/new", _roles("supervisor"),
         {"source": "routine", "department_id": "{department}", "title": "督办", "problem": "进度滞后",
          "response_days": 10}, other={"county_supervisor": 422}),
    Post("supervision.from_alerts", "/supervision/from-alerts", _roles("supervisor"),
         {"alert_ids": "{alert}", "requirements": "请整改", "response_days": 10}),
    Post("supervision.act", "/supervision/{case}/remind", _roles("supervisor"),
         {"comment": "请尽快签收", "version": version(SupervisionCase, "case")}),
    Post("supervision.act", "/supervision/{case}/acknowledge", _roles("head"),
         {"comment": "已签收", "version": version(SupervisionCase, "case")}),
    # Deadline and target changes: the lead department's head asks, the plan region's planner decides.
    Post("adjustments.new_deadline", "/adjustments/task/{task}/new", _roles("head"),
         {"new_date": "2027-03-31", "reason": "客观原因"}),
    Post("adjustments.new_target", "/adjustments/indicator/{indicator}/new", _roles("head"),
         {"new_value": "90以上", "reason": "客观原因"}),
    Post("adjustments.show", "/adjustments/{adjustment}", PLANNER, {"decision": "reject", "comment": "不予调整"}),
    Post("adjustments.withdraw_request", "/adjustments/{open_adjustment}/withdraw", _roles("head"),
         {"decision": "approve"}),
    # Decomposition: planners of the plan's own region only.
    Post("planning.new_plan", "/planning/plans/new", _roles("planner", "outsider", "county")),
    Post("planning.edit_plan", "/planning/plans/{plan}/edit", PLANNER),
    Post("planning.edit_plan", "/planning/plans/{county_plan}/edit", set()),
    Post("planning.record_stage", "/planning/plans/{plan}/stages/new", PLANNER),
    Post("planning.new_task", "/planning/plans/{plan}/tasks/new", PLANNER),
    Post("planning.edit_task", "/planning/tasks/{task}/edit", PLANNER),
    Post("planning.edit_task", "/planning/tasks/{county_task}/edit", set()),
    Post("planning.split_task", "/planning/tasks/{parent_task}/split", PLANNER),
    Post("planning.link_upstream", "/planning/tasks/{task}/upstream", PLANNER),
    Post("planning.move_task", "/planning/tasks/{task}/move", PLANNER),
    Post("planning.milestones", "/planning/tasks/{task}/milestones", PLANNER),
    Post("planning.edit_milestone", "/planning/milestones/{milestone}/edit", PLANNER),
    Post("planning.new_indicator", "/planning/plans/{plan}/indicators/new", PLANNER),
    Post("planning.edit_indicator", "/planning/indicators/{indicator}/edit", PLANNER),
    Post("planning.delete_milestone", "/planning/milestones/{spare_milestone}/delete", PLANNER),
    Post("planning.delete_milestone", "/planning/milestones/{county_milestone}/delete", set()),
    Post("planning.close_task", "/planning/tasks/{task}/close", PLANNER, {"reason": "不再实施"}),
    Post("planning.delete_task", "/planning/tasks/{spare_task}/delete", PLANNER),
    # Administration.
    Post("admin.user_form", "/admin/users/new", ADMIN,
         {"username": "post_matrix", "name": "新用户", "role": "leader", "department_id": 1, "password": "abc12345"}),
    Post("admin.user_form", "/admin/users/{user}/edit", ADMIN,
         {"username": "zj_staff_jk", "name": "填报员", "role": "dept_staff", "department_id": "{department}"}),
    Post("admin.department_form", "/admin/regions/1/departments/new", ADMIN, {"name": "新处室"}),
    Post("admin.department_form", "/admin/departments/{department}/edit", ADMIN, {"name": "疾控处"}),
    Post("system.settings", "/system/settings", ADMIN),
    Post("system.calendar_day", "/system/calendar/days", ADMIN, {"day": "2026-12-28", "kind": "holiday"}),
    Post("system.calendar_remove", "/system/calendar/days/2026-12-28/delete", ADMIN),
    Post("system.calendar_load", "/system/calendar/load", ADMIN, {"year": 2027}),
    Post("system.run_job_now", "/system/jobs/scan/run", ADMIN),
    # Everyone's own account and messages.
    Post("notifications.read", "/notifications/{notification}/read", _roles("head"), refused=404),
    Post("notifications.read_all", "/notifications/read-all", EVERYONE),
    Post("notifications.settings", "/notifications/settings", EVERYONE,
         {"mode_email": "digest", "mode_dingtalk": "immediate", "mode_wecom": "off", "mode_zzd": "digest",
          "email": "", "phone": "", "zzd_account_id": ""}),
    Post("admin.resend_delivery", "/admin/deliveries/{delivery}/resend", ADMIN),
    Post("tokens.index", "/account/tokens", EVERYONE, {"name": "数据同步", "scope": "read", "days": 30}),
    Post("tokens.revoke", "/account/tokens/999999/revoke", set(), refused=404),
    Post("auth.password", "/account/password", EVERYONE, {"current": "wrong", "new": "x", "confirm": "y"}),
    Post("auth.login", "/login", EVERYONE, {"username": "zj_leader", "password": "demo1234"}),
    Post("auth.logout", "/logout", EVERYONE),
]


def _spare_ids(app: Flask, ids: dict[str, int]) -> None:
    """Records the GET matrix's world lacks: a second report, an alert, a message, county work, spare rows."""
    with unit_of_work(app.extensions["tracker.sessions"]) as s:
        head = s.scalars(select(User).where(User.username == "zj_head_jk")).one()
        department = head.department
        task = s.get(Task, ids["task"])
        submitted = ProgressReport(task=task, department=department, period="half", period_year=2026,
                                   period_no=1, progress=45, achievements="上半年进展", state=ReportState.SUBMITTED, submitted_at=now())
        s.add(submitted)
        spare_milestone = Milestone(task=task, title="备用节点", due_date=date(2026, 12, 31))
        s.add(spare_milestone)
        others = select(Task).join(Plan).where(
            Plan.code == "zj-14", Task.lead_department_id == head.department_id, Task.level == TaskLevel.ANNUAL,
            Task.status == TaskStatus.IN_PROGRESS, Task.id != task.id).order_by(Task.id)
        alert_task = s.scalars(others).first()
        assert alert_task is not None
        alert = Alert(rule=AlertRule.DEADLINE, level=AlertLevel.OVERDUE, target=AlertTarget.TASK, task=alert_task,
                      due_date=date(2026, 10, 31), raised_on=date(2026, 11, 1), level_changed_on=date(2026, 11, 1))
        s.add(alert)
        spare_task = Task(plan_id=task.plan_id, parent_id=task.parent_id, level=TaskLevel.ANNUAL, code="9.9.9",
                          title="可删除的年度任务", lead_department_id=head.department_id, year=2026,
                          start_date=date(2026, 1, 1), deadline=date(2026, 12, 31))
        s.add(spare_task)
        notification = Notification(user_id=head.id, kind=NotificationKind.SYSTEM, title="消息", created_at=now())
        s.add(notification)
        delivery = NotificationDelivery(notification=notification, channel=Channel.EMAIL, state=DeliveryState.FAILED,
                                        attempts=5, last_error="邮件服务器拒收")
        s.add(delivery)
        county_plan = s.scalars(select(Plan).where(Plan.code == "yq-14")).one()
        county_task = s.scalars(select(Task).where(
            Task.plan_id == county_plan.id, Task.level != TaskLevel.CHAPTER, Task.lead_department_id.is_not(None))
            .order_by(Task.id)).first()
        assert county_task is not None
        county_report = ProgressReport(task=county_task, department=county_task.lead_department, period="year",
                                       period_year=2025, period_no=1, progress=30, achievements="进展",
                                       state=ReportState.SUBMITTED, submitted_at=now())
        s.add(county_report)
        county_milestone = Milestone(task=county_task, title="县级节点", due_date=date(2026, 12, 31))
        s.add(county_milestone)
        s.flush()
        open_adjustment = _open_request(s, head, alert_task)
        ids.update(submitted_report=submitted.id, spare_milestone=spare_milestone.id, alert=alert.id,
                   spare_task=spare_task.id, notification=notification.id, delivery=delivery.id, county_plan=county_plan.id,
                   county_task=county_task.id, county_report=county_report.id,
                   county_milestone=county_milestone.id, open_adjustment=open_adjustment)


def _open_request(s: Session, head: User, task: Task) -> int:
    from tracker.adjustments.services import request_deadline

    return request_deadline(s, head, task, date(2027, 6, 30), "延期").id


def fingerprint(app: Flask) -> dict[str, tuple[int, int]]:
    """Row count and version sum of every table: a refused POST must leave both as they were."""
    result = {}
    with app.extensions["tracker.sessions"]() as s:
        for table in Base.metadata.sorted_tables:
            versions = func.coalesce(func.sum(table.c.version_id), 0) if "version_id" in table.c else 0
            count, total = s.execute(select(func.count(), versions).select_from(table)).one()
            result[table.name] = (count, int(total))
    return result


def _resolve(value: Value, s: Session | None, ids: dict[str, int]) -> Any:
    if callable(value):
        return value(s, ids)
    if isinstance(value, str) and value.startswith("{"):
        return value.format(**ids)
    return value


@pytest.fixture
def world(demo):  # type: ignore[no-untyped-def]
    ids = _build(demo).ids
    _spare_ids(demo, ids)
    return ids


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_post_and_role(demo, world, role: str) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, ROLES[role])
    failures = []
    for post in POSTS:
        path = post.path.format(**world)
        with demo.extensions["tracker.sessions"]() as s:
            data = {k: _resolve(v, s, world) for k, v in post.data.items()}
        before = fingerprint(demo) if role not in post.allowed else None
        response = client.post(path, data=data)
        code = response.status_code
        if role in post.allowed:
            if code == 403 or code >= 500:
                failures.append(f"POST {path} as {role}: {code}, expected to be let through")
        elif code != post.expected(role):
            failures.append(f"POST {path} as {role}: {code} ≠ {post.expected(role)}")
        else:
            if code == 403:
                assert "无权访问" in response.get_data(as_text=True), path
            after = fingerprint(demo)
            changed = {t: (before[t], after[t]) for t in after if before and before[t] != after[t]}
            if changed:
                failures.append(f"POST {path} as {role} was refused but changed {changed}")
    assert failures == [], "\n".join(failures)


def test_every_post_route_is_in_the_table(demo) -> None:  # type: ignore[no-untyped-def]
    covered = {p.endpoint for p in POSTS}
    posts = {r.endpoint for r in demo.url_map.iter_rules()
             if "POST" in (r.methods or set()) and not r.endpoint.startswith(tuple(OWN_TABLES))}
    assert posts - covered == set()


def test_anonymous_posts_go_to_login(demo, world) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    before = fingerprint(demo)
    for post in POSTS:
        if post.endpoint == "auth.login":
            continue
        response = client.post(post.path.format(**world), data={})
        assert response.status_code == 302 and "/login" in response.headers["Location"], post.path
    assert fingerprint(demo) == before


def test_refused_posts_leave_the_record_as_it_was(demo, world) -> None:  # type: ignore[no-untyped-def]
    """Spot checks beside the fingerprint: the milestone, the alert's case and the draft report stay as they were."""
    sessions = demo.extensions["tracker.sessions"]
    with sessions() as s:
        cases = s.scalar(select(func.count()).select_from(SupervisionCase))
        report = s.get(ProgressReport, world["report"])
        state, report_version = report.state, report.version_id
    for username, path, data in [
        ("zj_staff_jk", "/planning/milestones/{spare_milestone}/delete", {}),
        ("zj_head_jk", "/planning/milestones/{spare_milestone}/delete", {}),
        ("wl_planner", "/planning/milestones/{county_milestone}/delete", {}),
        ("wl_supervisor", "/supervision/from-alerts", {"alert_ids": "{alert}", "response_days": 10}),
        ("zj_planner", "/supervision/from-alerts", {"alert_ids": "{alert}", "response_days": 10}),
        ("zj_staff_jk", "/reports/{report}/submit", {"version": report_version}),
    ]:
        client = demo.test_client()
        login(client, username)
        response = client.post(path.format(**world), data={k: _resolve(v, None, world) for k, v in data.items()})
        assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True), (username, path)
    with sessions() as s:
        assert s.get(Milestone, world["spare_milestone"]) is not None
        assert s.get(Milestone, world["county_milestone"]) is not None
        assert s.scalar(select(func.count()).select_from(SupervisionCase)) == cases
        assert s.get(Alert, world["alert"]).status.value == "open"
        report = s.get(ProgressReport, world["report"])
        assert (report.state, report.version_id) == (state, report_version)
