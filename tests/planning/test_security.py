"""Who may use the planner's pages, escaping of what people type, CSRF, unknown ids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import create_app
from tracker.audit import AuditEntry
from tracker.config import TestConfig
from tracker.indicators.models import Indicator
from tracker.tasks.models import Milestone, Task

from .conftest import client_for, dept_id, fresh, plan_id, task_form, task_of


def _routes(db: Session, plan: str = "zj-14") -> list[tuple[str, str]]:
    """(method, url) of every planning route, on records of the given plan."""
    pid = plan_id(db, plan)
    key = task_of(db, "1", plan)
    milestone_id = db.scalar(select(func.min(Milestone.id)).join(Task).where(Task.plan_id == pid))
    indicator_id = db.scalar(select(func.min(Indicator.id)).where(Indicator.plan_id == pid))
    assert milestone_id is not None and indicator_id is not None
    urls = [
        f"/planning/plans/{pid}/edit", f"/planning/plans/{pid}/stages/new", f"/planning/plans/{pid}/tasks/new",
        f"/planning/tasks/{key.id}/edit", f"/planning/tasks/{key.id}/split", f"/planning/tasks/{key.id}/upstream",
        f"/planning/tasks/{key.id}/move", f"/planning/tasks/{key.id}/delete", f"/planning/tasks/{key.id}/close",
        f"/planning/tasks/{key.id}/milestones", f"/planning/milestones/{milestone_id}/edit",
        f"/planning/plans/{pid}/indicators/new", f"/planning/indicators/{indicator_id}/edit",
    ]
    routes = [(m, u) for u in urls for m in ("GET", "POST")]
    routes += [("GET", f"/planning/plans/{pid}/indicators"), ("POST", f"/planning/milestones/{milestone_id}/delete")]
    return routes


NOT_PLANNERS = ["admin", "zj_head_jk", "zj_staff_jk", "zj_supervisor", "zj_evaluator", "zj_leader"]


@pytest.mark.parametrize("username", NOT_PLANNERS + ["wz_planner", "hz_planner", "yq_planner"])
def test_only_the_plans_own_planners_may_edit(demo: Flask, db: Session, username: str) -> None:
    client = client_for(demo, username)
    count = db.scalar(select(func.count()).select_from(AuditEntry))
    for method, url in _routes(db):
        response = client.open(url, method=method, data={"title": "越权"})
        assert response.status_code == 403, (method, url)
        assert "无权访问" in response.get_data(as_text=True)
    fresh(db)
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == count


def test_provincial_planner_cannot_edit_city_plan(planner: FlaskClient, db: Session) -> None:
    for method, url in _routes(db, "wz-14"):
        assert planner.open(url, method=method).status_code == 403, (method, url)


def test_planner_opens_every_form(planner: FlaskClient, db: Session) -> None:
    for method, url in _routes(db):
        if method == "GET":
            assert planner.get(url).status_code == 200, url
    assert planner.get("/planning/plans/new").status_code == 200


@pytest.mark.parametrize("username", NOT_PLANNERS)
def test_only_planners_create_plans(demo: Flask, username: str) -> None:
    client = client_for(demo, username)
    assert client.get("/planning/plans/new").status_code == 403
    assert client.post("/planning/plans/new", data={"title": "x"}).status_code == 403
    assert "新建规划" not in client.get("/plans").get_data(as_text=True)


def test_login_required(demo: Flask, db: Session) -> None:
    client = demo.test_client()
    for method, url in [*_routes(db), ("GET", "/planning/plans/new"), ("GET", "/planning/targets/explain")]:
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_buttons_only_for_the_plans_planners(demo: Flask, db: Session) -> None:
    pid, task = plan_id(db), task_of(db, "1")
    planner = client_for(demo, "zj_planner")
    html = planner.get(f"/plans/{pid}").get_data(as_text=True)
    assert "新增章" in html and "编辑规划" in html and "记录阶段" in html and "管理指标" in html
    html = planner.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "编辑任务" in html and "新增工作举措" in html and "拆分为年度任务" in html and "删除或终止" in html
    assert "新建规划" in planner.get("/plans").get_data(as_text=True)
    for username in ("wz_planner", "zj_head_jk", "zj_leader"):
        client = client_for(demo, username)
        assert "新增章" not in client.get(f"/plans/{pid}").get_data(as_text=True)
        assert "编辑任务" not in client.get(f"/tasks/{task.id}").get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "/planning/plans/99999999/edit", "/planning/plans/99999999/tasks/new", "/planning/tasks/99999999/edit",
    "/planning/tasks/99999999/split", "/planning/tasks/99999999/milestones", "/planning/indicators/99999999/edit",
    "/planning/tasks/99999999999999999999/edit", "/planning/plans/abc/edit", "/planning/tasks/-1/move",
])
def test_unknown_ids_are_404(planner: FlaskClient, url: str) -> None:
    response = planner.get(url)
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)


def test_new_task_with_a_parent_of_another_plan_is_404(planner: FlaskClient, db: Session) -> None:
    other = task_of(db, "1", "wz-14")
    assert planner.get(f"/planning/plans/{plan_id(db)}/tasks/new?parent={other.id}").status_code == 404
    assert planner.get(f"/planning/plans/{plan_id(db)}/tasks/new?parent=zzz").status_code == 404
    assert planner.get(f"/planning/plans/{plan_id(db)}/tasks/new?level=bogus").status_code == 200


XSS = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"


def _clean(html: str) -> None:
    assert XSS not in html and IMG not in html
    assert "&lt;script&gt;" in html or "&lt;img" in html


def test_text_fields_are_escaped(planner: FlaskClient, db: Session) -> None:
    pid = plan_id(db)
    response = planner.post(f"/planning/plans/{pid}/tasks/new", data=task_form(
        db, title=XSS, description=IMG, responsible_person=IMG[:60], code="X<b>1"))
    assert response.status_code == 302
    task = task_of(db, "X<b>1")
    for url in (f"/tasks/{task.id}", f"/plans/{pid}", f"/planning/tasks/{task.id}/edit",
                f"/planning/tasks/{task.id}/delete", f"/planning/tasks/{task.id}/split"):
        html = planner.get(url).get_data(as_text=True)
        _clean(html)
        assert "<b>1" not in html

    planner.post(f"/planning/tasks/{task.id}/milestones", data={"title": XSS, "due_date": "2027-01-31"})
    _clean(planner.get(f"/planning/tasks/{task.id}/milestones").get_data(as_text=True))
    _clean(planner.get(f"/tasks/{task.id}").get_data(as_text=True))

    response = planner.post(f"/planning/plans/{pid}/indicators/new", data={
        "number": "60", "name": XSS, "target_text": IMG[:60], "nature": "expected", "definition": IMG,
        "unit": "<i>", "category": IMG[:40]})
    assert response.status_code == 302
    for url in (f"/planning/plans/{pid}/indicators", f"/plans/{pid}?tab=indicators"):
        html = planner.get(url).get_data(as_text=True)
        _clean(html)
        assert "<i>" not in html

    planner.post(f"/planning/plans/{pid}/stages/new", data={"stage": "midterm", "on_date": "2026-11-01", "note": XSS})
    _clean(planner.get(f"/plans/{pid}").get_data(as_text=True))

    response = planner.post("/planning/plans/new", data={
        "title": XSS, "short_name": IMG[:60], "level": "province", "start_year": "2026", "end_year": "2030",
        "investment_unit": "wan", "description": IMG, "stage": "drafting", "issuing_body": XSS})
    assert response.status_code == 302
    _clean(planner.get(response.headers["Location"]).get_data(as_text=True))
    _clean(planner.get("/plans").get_data(as_text=True))

    fresh(db)
    task = task_of(db, "X<b>1")
    planner.post(f"/planning/tasks/{task.id}/close", data={"reason": XSS, "version": str(task.version_id)})
    _clean(planner.get(f"/tasks/{task.id}").get_data(as_text=True))


def test_refused_input_is_shown_escaped(planner: FlaskClient, db: Session) -> None:
    response = planner.post(f"/planning/plans/{plan_id(db)}/tasks/new", data=task_form(db, title=XSS, code="1.1"))
    assert response.status_code == 422
    _clean(response.get_data(as_text=True))


@pytest.fixture
def csrf_app(demo: Flask, tmp_path: Path) -> Flask:
    """A second app over the same demo database with CSRF protection on, as in production."""
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "DATABASE_URL": demo.config["DATABASE_URL"], "WTF_CSRF_ENABLED": True,
                      "INSTANCE_PATH": tmp_path / "csrf-instance", "UPLOAD_DIR": tmp_path / "csrf-uploads"})
    yield app
    app.extensions["tracker.engine"].dispose()


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_posts_without_csrf_token_are_refused(csrf_app: Flask, db: Session) -> None:
    client = csrf_app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": "zj_planner", "password": "demo1234",
                                       "csrf_token": token}).status_code == 302
    count = db.scalar(select(func.count()).select_from(AuditEntry))
    posts = [url for method, url in _routes(db) if method == "POST"] + ["/planning/plans/new"]
    for url in posts:
        response = client.post(url, data={"title": "无令牌", "reason": "无令牌", "version": "1"})
        assert response.status_code == 400, url
        assert "请求有误" in response.get_data(as_text=True)
    fresh(db)
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == count

    # with the page's token the same form goes through
    pid = plan_id(db)
    page = client.get(f"/planning/plans/{pid}/tasks/new").get_data(as_text=True)
    response = client.post(f"/planning/plans/{pid}/tasks/new",
                           data={**task_form(db, lead_department_id=str(dept_id(db, "疾控处"))),
                                 "csrf_token": _token(page)})
    assert response.status_code == 302
    assert task_of(db, "99").title == "推进智慧医院建设"
