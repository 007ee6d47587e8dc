"""Every POST needs its CSRF token; text people type is always shown escaped."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tracker.tasks.models import Milestone, MilestoneStatus, ProgressReport, Task, TaskLevel, TaskStatus

from ..conftest import login, make_test_app

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _sample_ids(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with app.extensions["tracker.sessions"]() as s:
        task = s.scalars(select(Task).where(Task.level == TaskLevel.ANNUAL, Task.status == TaskStatus.IN_PROGRESS)
                         .order_by(Task.id)).first()
        return {"task_id": task.id, "plan_id": task.plan_id,
                "milestone_id": s.scalar(select(Milestone.id).order_by(Milestone.id)),
                "report_id": s.scalar(select(ProgressReport.id).order_by(ProgressReport.id)),
                "user_id": 1, "department_id": 1, "region_id": 1, "attachment_id": 1}


def _fill(rule: str, ids: dict[str, int]) -> str:
    """A concrete URL for a rule: known ids, the first choice of an `any(...)`, a year for `year`."""

    def repl(match: re.Match[str]) -> str:
        converter, arguments, name = match.group(1), match.group(2) or "", match.group(3)
        if converter == "any":
            return arguments.split(",")[0].strip()
        if name == "year":
            return "2026"
        if name == "day":
            return "2026-10-01"
        return str(ids.get(name, 1))

    return re.sub(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>", repl, rule)


def test_every_post_without_csrf_token_is_refused(demo_template, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ..conftest import _copy_of

    url, cleanup = _copy_of(demo_template, tmp_path, demo_template)
    app = make_test_app(url, tmp_path, WTF_CSRF_ENABLED=True)
    try:
        ids = _sample_ids(app)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post("/login", data={"username": "zj_planner", "password": "demo1234",
                                           "csrf_token": token}).status_code == 302
        posts = [r for r in app.url_map.iter_rules() if "POST" in (r.methods or set()) and r.endpoint != "static"]
        assert len(posts) >= 8
        for rule in posts:
            response = client.post(_fill(rule.rule, ids), data={"reason": "x", "status": "done"})
            if rule.endpoint.startswith("api."):  # the API reads a token, never the session: signed in is not enough
                assert response.status_code == 401, rule.rule
                continue
            assert response.status_code == 400, rule.rule
            assert "安全令牌" in response.get_data(as_text=True), rule.rule
    finally:
        app.extensions["tracker.engine"].dispose()
        cleanup()


def test_text_fields_are_shown_escaped(demo) -> None:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        task = s.scalars(select(Task).where(Task.level == TaskLevel.ANNUAL, Task.status == TaskStatus.IN_PROGRESS,
                                            Task.lead_department.has(name="疾控处"))).first()
        milestone = s.scalars(select(Milestone).where(Milestone.task_id == task.id,
                                                      Milestone.status == MilestoneStatus.PENDING)).first()
    head = demo.test_client()
    login(head, "zj_head_jk")
    assert head.post(f"/tasks/{task.id}/status", data={"status": "suspended", "progress": 10, "note": XSS,
                                                       "version": task.version_id}).status_code == 302
    response = head.post(f"/tasks/{task.id}/reports/new", data={
        "period": "quarter", "period_year": 2025, "period_no": 4, "progress": 10,
        "achievements": XSS, "problems": XSS, "next_steps": XSS})
    assert response.status_code == 302
    report_page = head.get(response.headers["Location"]).get_data(as_text=True)
    pages = [head.get(f"/tasks/{task.id}").get_data(as_text=True), report_page,
             head.get("/workspace").get_data(as_text=True)]
    if milestone is not None:
        head.post(f"/milestones/{milestone.id}/complete", data={"completed_on": "2025-11-20", "evidence": XSS,
                                                                "version": milestone.version_id})
        pages.append(head.get(f"/tasks/{task.id}").get_data(as_text=True))
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
    assert any("&lt;script&gt;alert" in html for html in pages)
    # a refused form echoes the input escaped as well
    html = head.post(f"/tasks/{task.id}/reports/new", data={"period": "quarter", "period_year": "x" + XSS,
                                                            "period_no": 1, "progress": 1,
                                                            "achievements": XSS}).get_data(as_text=True)
    assert "<script>alert" not in html


@pytest.mark.parametrize("field", ["name"])
def test_admin_entered_names_are_escaped(demo, field: str) -> None:  # type: ignore[no-untyped-def]
    admin = demo.test_client()
    login(admin, "admin")
    assert admin.post("/admin/users/new", data={"username": "xss_user", "name": XSS[:40], "role": "leader",
                                                "department_id": 1, "password": "abc12345"}).status_code == 302
    html = admin.get("/admin/users?q=xss").get_data(as_text=True)
    assert "<script>" not in html and "&lt;script&gt;" in html
