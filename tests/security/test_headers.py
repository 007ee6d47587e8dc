"""Security headers on every kind of answer (pages, JSON, downloads, errors, redirects, static files), the
session cookie's flags, and the login throttling cases tests/auth/test_login.py leaves out."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from tracker import timeutil
from tracker.attachments.models import Attachment
from tracker.auth.models import User
from tracker.auth.services import LOCKOUT, MAX_FAILED_LOGINS, locked_names, throttle_name
from tracker.tasks.models import Milestone, MilestoneStatus

from ..conftest import PASSWORD, client_for, login, make_test_app
from .hostile import HOSTILE_TEXT, alerts, encode
from .test_forms_security import _fill, _sample_ids

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def csp(response: TestResponse) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    return {parts[0]: parts[1:] for parts in (d.split() for d in policy.split(";")) if parts}


def assert_hardened(response: TestResponse, what: str) -> None:
    headers = response.headers
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "same-origin", what
    policy = csp(response)
    assert policy.get("default-src") == ["'self'"], what
    # script-src says exactly 'self': no inline script, no eval, no other origin
    assert policy.get("script-src") == ["'self'"], (what, policy)
    assert "'unsafe-inline'" not in policy.get("style-src", []), what
    assert policy.get("object-src") == ["'none'"] and policy.get("frame-ancestors") == ["'none'"], what
    assert policy.get("base-uri") == ["'self'"] and policy.get("form-action") == ["'self'"], what


def _attachment(demo: Flask, head: FlaskClient) -> int:
    """A piece of evidence uploaded the way people upload it: completing a milestone with a file."""
    with demo.extensions["tracker.sessions"]() as s:
        department = s.scalar(select(User.department_id).where(User.username == "zj_head_jk"))
        milestone = s.scalars(select(Milestone).where(Milestone.status == MilestoneStatus.PENDING,
                                                      Milestone.task.has(lead_department_id=department))
                              .order_by(Milestone.id)).first()
        assert milestone is not None
    boundary, body = encode_multipart({"completed_on": "2025-11-20", "evidence": "见附件",
                                       "version": str(milestone.version_id),
                                       "files": FileStorage(io.BytesIO(PDF), "佐证.pdf")})
    response = head.post(f"/milestones/{milestone.id}/complete", data=body,
                         content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    with demo.extensions["tracker.sessions"]() as s:
        return s.scalars(select(Attachment.id).where(Attachment.milestone_id == milestone.id)).one()


def test_every_kind_of_answer_carries_the_headers(demo: Flask) -> None:
    head, planner = client_for(demo, "zj_head_jk"), client_for(demo, "zj_planner")
    attachment = _attachment(demo, head)
    answers = [
        ("the login page", demo.test_client().get("/login"), "text/html"),
        ("a page", planner.get("/plans"), "text/html"),
        ("JSON", planner.get("/alerts/overdue.json"), "application/json"),
        ("an Excel export", planner.get("/alerts/overdue/export.xlsx"), "application/vnd.openxmlformats"),
        ("a task list export", planner.get(_fill("/plans/<int:plan_id>/tasklist.xlsx", _sample_ids(demo))),
         "application/vnd.openxmlformats"),
        ("an uploaded file", head.get(f"/attachments/{attachment}"), "application/pdf"),
        ("a redirect", planner.get("/"), "text/html"),
        ("a 404", planner.get("/tasks/999999"), "text/html"),
        ("a 403", head.get("/admin/users"), "text/html"),
        ("a 405", planner.get("/logout"), "text/html"),
        ("a static file", planner.get("/static/css/app.css"), "text/css"),
        ("a refused form", planner.post("/planning/plans/new", data={"title": ""}), "text/html"),
    ]
    for what, response, mimetype in answers:
        assert response.mimetype.startswith(mimetype), (what, response.mimetype)
        assert_hardened(response, what)
        response.close()


def test_downloads_are_attachments_not_pages(demo: Flask) -> None:
    """A file people uploaded is sent to be saved, never shown inline as a page of this site."""
    head = client_for(demo, "zj_head_jk")
    with head.get(f"/attachments/{_attachment(demo, head)}") as response:
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.data == PDF


def test_session_cookie_is_secure_when_configured(demo: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plain = demo.test_client().post("/login", data={"username": "zj_planner", "password": PASSWORD})
    assert "Secure" not in plain.headers["Set-Cookie"]  # the demo runs on http://127.0.0.1
    secure_app = make_test_app(demo.config["DATABASE_URL"], tmp_path / "secure", SESSION_COOKIE_SECURE=True)
    try:
        response = secure_app.test_client().post("/login", data={"username": "zj_planner", "password": PASSWORD})
        assert response.status_code == 302
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("session=")
        assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        secure_app.extensions["tracker.engine"].dispose()


# ------------------------------------------------------------------------------ login throttling


def _fail(client: FlaskClient, username: str, times: int) -> str:
    html = ""
    for _ in range(times):
        html = client.post("/login", data={"username": username, "password": "wrong-password"}).get_data(as_text=True)
    return html


def test_a_successful_login_starts_the_count_again(demo: Flask) -> None:
    client = demo.test_client()
    _fail(client, "zj_planner", MAX_FAILED_LOGINS - 1)
    login(client, "zj_planner")
    client.post("/logout")
    html = _fail(client, "zj_planner", MAX_FAILED_LOGINS - 1)
    assert "已暂停登录" not in html and "再失败1次" in html
    login(client, "zj_planner")


def test_spellings_of_a_username_count_against_the_same_account(demo: Flask) -> None:
    client = demo.test_client()
    for spelling in ["ZJ_PLANNER", " zj_planner", "Zj_Planner ", "zj_planner", "zj_PLANNER"]:
        html = _fail(client, spelling, 1)
    assert "已暂停登录" in html
    assert "已暂停登录" in client.post("/login", data={"username": "zj_planner", "password": PASSWORD}
                                   ).get_data(as_text=True)


def test_the_lock_lasts_its_whole_time(demo: Flask) -> None:
    client = demo.test_client()
    _fail(client, "zj_head_jk", MAX_FAILED_LOGINS)
    with timeutil.frozen(timeutil.now() + LOCKOUT - timedelta(minutes=1)):
        assert "已暂停登录" in client.post("/login", data={"username": "zj_head_jk", "password": PASSWORD}
                                       ).get_data(as_text=True)
    with timeutil.frozen(timeutil.now() + LOCKOUT + timedelta(seconds=1)):
        login(client, "zj_head_jk")


def test_an_admin_password_reset_unlocks_the_account(demo: Flask) -> None:
    _fail(demo.test_client(), "zj_head_jk", MAX_FAILED_LOGINS)
    with demo.extensions["tracker.sessions"]() as s:
        user = s.scalars(select(User).where(User.username == "zj_head_jk")).one()
        assert throttle_name(user.username) in locked_names(s)
        form = {"username": user.username, "name": user.name, "role": user.role.value,
                "department_id": str(user.department_id), "is_active": "y", "password": "reset2026"}
    admin = client_for(demo, "admin")
    assert admin.post(f"/admin/users/{user.id}/edit", data=form).status_code == 302
    login(demo.test_client(), "zj_head_jk", "reset2026")


@given(username=st.one_of(HOSTILE_TEXT, st.sampled_from(["zj_planner\x00", "zj_planner ' --", "zj_planner%"])),
       password=st.one_of(HOSTILE_TEXT, st.just(PASSWORD)))
@settings(max_examples=60, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_hostile_sign_in_attempts(demo: Flask, username: str, password: str) -> None:
    """Nothing typed into the login form is a 5xx, signs anyone in, or goes unanswered."""
    client = demo.test_client()
    response = client.post("/login", data=encode([("username", username), ("password", password)]),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 413), (username, response.status_code)  # 413: over the form size
    html = response.get_data(as_text=True)
    assert alerts(html) or "error-page" in html, username
    assert client.get("/plans").status_code == 302


# (tests/auth covers //host, https://host and /\host)
@pytest.mark.parametrize("path", ["/login?next=javascript:alert(1)", "/login?next=/%0d%0aSet-Cookie:x=1",
                                  "/login?next=/%00"])
def test_odd_next_parameters(demo: Flask, path: str) -> None:
    response = demo.test_client().post(path, data={"username": "zj_planner", "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil.example" not in location and "javascript:" not in location and "\n" not in location
