"""Supervision text, adjustment reasons and project figures' notes are shown escaped, posted through the real forms."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from tracker.adjustments.models import AdjustmentRequest
from tracker.projects.models import ProjectInvestment
from tracker.supervision.models import SupervisionCase
from tracker.tasks.models import Task, TaskLevel, TaskStatus

from ..conftest import client_for
from ..projects.conftest import project_of
from .test_forms_security import XSS


def assert_escaped(*pages: str) -> None:
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
    assert all("&lt;script&gt;alert" in html for html in pages)


def _jk_task(demo) -> Task:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        return s.scalars(select(Task).where(Task.level == TaskLevel.ANNUAL, Task.status == TaskStatus.IN_PROGRESS,
                                            Task.lead_department.has(name="疾控处"),
                                            Task.plan.has(code="zj-14")).order_by(Task.id)).first()


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_supervision_problem_requirements_and_step_comments_are_escaped(demo) -> None:  # type: ignore[no-untyped-def]
    task = _jk_task(demo)
    supervisor = client_for(demo, "zj_supervisor")
    response = supervisor.post("/supervision/new", data={
        "source": "routine", "department_id": task.lead_department_id, "task_id": task.id, "title": XSS[:60],
        "problem": XSS, "instruction": XSS, "requirements": XSS, "response_days": 10})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    path = response.headers["Location"]
    with demo.extensions["tracker.sessions"]() as s:
        case = s.scalars(select(SupervisionCase).order_by(SupervisionCase.id.desc())).first()
        assert case.problem == XSS and case.requirements == XSS
        case_id, version = case.id, case.version_id
    assert supervisor.post(f"/supervision/{case_id}/remind", data={"comment": XSS, "version": version}
                           ).status_code == 302
    head = client_for(demo, "zj_head_jk")
    with demo.extensions["tracker.sessions"]() as s:
        version = s.get(SupervisionCase, case_id).version_id
    assert head.post(f"/supervision/{case_id}/acknowledge", data={"comment": XSS, "version": version}
                     ).status_code == 302
    assert_escaped(_page(supervisor, path), _page(head, path), _page(head, f"/supervision/{case_id}/notice"),
                   _page(supervisor, "/supervision/"))
    # a refused step echoes the comment escaped as well
    html = head.post(f"/supervision/{case_id}/plan", data={"comment": XSS, "version": 0}).get_data(as_text=True)
    assert "<script>alert" not in html


def test_adjustment_reasons_and_decision_comments_are_escaped(demo) -> None:  # type: ignore[no-untyped-def]
    task = _jk_task(demo)
    head = client_for(demo, "zj_head_jk")
    response = head.post(f"/adjustments/task/{task.id}/new", data={"new_date": "2027-06-30", "reason": XSS})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with demo.extensions["tracker.sessions"]() as s:
        request = s.scalars(select(AdjustmentRequest).order_by(AdjustmentRequest.id.desc())).first()
        assert request.reason == XSS
    path = f"/adjustments/{request.id}"
    planner = client_for(demo, "zj_planner")
    assert planner.post(path, data={"decision": "reject", "comment": XSS}).status_code == 302
    assert_escaped(_page(head, path), _page(planner, path), _page(head, f"/tasks/{task.id}"))
    assert "<script>alert" not in _page(head, "/adjustments/")
    # the refused form shows the reason escaped
    html = head.post(f"/adjustments/task/{task.id}/new", data={"new_date": "", "reason": XSS}).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_investment_note_and_project_adjustment_reason_are_escaped(demo) -> None:  # type: ignore[no-untyped-def]
    project = project_of(demo, "专栏4")
    owner = client_for(demo, "zj_head_yz")
    # the year's figure stands submitted on the demo day: the planner returns it so the owner may enter it again
    with demo.extensions["tracker.sessions"]() as s:
        submitted = s.scalars(select(ProjectInvestment).where(ProjectInvestment.project_id == project.id,
                                                              ProjectInvestment.year == 2025)).one()
    assert client_for(demo, "zj_planner").post(f"/projects/investments/{submitted.id}/return", data={
        "reason": "请核实完成额", "version": submitted.version_id}).status_code == 302
    entry = f"/projects/{project.id}/investments/2025"
    version = re.search(r'name="version" type="hidden" value="(\d+)"', _page(owner, entry)).group(1)
    response = owner.post(entry, data={"completed": "1.5", "note": XSS, "version": version})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    response = owner.post(f"/projects/{project.id}/adjustments/new", data={"new_total": "333.3", "reason": XSS})
    assert response.status_code == 302, re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)', response.get_data(as_text=True))
    project_page = _page(owner, f"/projects/{project.id}")
    planner_page = _page(client_for(demo, "zj_planner"), f"/projects/{project.id}")
    assert_escaped(project_page, planner_page)
    for html in (project_page, planner_page, _page(owner, f"/plans/{project.task.plan_id}/projects")):
        assert "<script>alert" not in html
    # a refused entry echoes the note escaped
    html = owner.post(entry, data={"completed": "x", "note": XSS, "version": version}).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
