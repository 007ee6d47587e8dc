"""Service accounts: only the administrator manages them; their tokens act on /api/v1 with the account's
department, region and role and nothing more, every write audited with the token's name; they never sign in
to the pages; tokens end when revoked, when the account is switched off, and a person's when the password
changes or the account is switched off. Every ``admin.service_account*`` route × role, GET and POST
(tests/test_route_matrix.py's OWN_TABLES)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tracker.api.models import ApiToken, TokenScope
from tracker.api.services import NewToken, create_token
from tracker.audit import AuditEntry
from tracker.auth.models import Role, User, UserKind
from tracker.auth.service_accounts import create_service_account, issue_token
from tracker.db import unit_of_work

from ..conftest import client_for, login
from ..test_route_matrix import ROLES, USERS, _build


def _department_of(db, username: str) -> int:  # type: ignore[no-untyped-def]
    return db.scalars(select(User.department_id).where(User.username == username)).one()


def _create(client: FlaskClient, department_id: int, username: str = "svc-jk-sync", role: str = "dept_head"):  # type: ignore[no-untyped-def]
    return client.post("/admin/service-accounts/new", data={"username": username, "name": "疾控数据同步",
                                                            "role": role, "department_id": department_id})


def _issue(client: FlaskClient, account_id: int, scope: str = "write", name: str = "疾控同步") -> str:
    response = client.post(f"/admin/service-accounts/{account_id}/tokens", data={"name": name, "scope": scope,
                                                                                  "days": "90"})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    assert response.headers["Cache-Control"] == "no-store"
    return re.search(r'value="(trk_[A-Za-z0-9_-]{43})"', response.get_data(as_text=True)).group(1)  # type: ignore[union-attr]


def _api(app: Flask, token: str, method: str, path: str, **kw):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    return app.test_client().open("/api/v1" + path, method=method, headers=headers, **kw)


def test_the_admin_creates_an_account_and_issues_a_token_that_acts_as_it(demo, db) -> None:  # type: ignore[no-untyped-def]
    world = _build(demo).ids
    admin = client_for(demo, "admin")
    jk = _department_of(db, "zj_head_jk")
    created = _create(admin, jk)
    assert created.status_code == 302
    db.rollback()  # see what the requests saved
    account = db.scalars(select(User).where(User.username == "svc-jk-sync")).one()
    assert created.headers["Location"] == f"/admin/service-accounts/{account.id}"
    assert (account.kind, account.password_hash, account.role, account.department_id, account.is_active) \
        == (UserKind.SERVICE, None, Role.DEPT_HEAD, jk, True)
    token = _issue(admin, account.id)
    db.rollback()  # see what the requests saved
    record = db.scalars(select(ApiToken).where(ApiToken.user_id == account.id)).one()
    assert record.scope == TokenScope.WRITE and token.startswith(record.hint)
    page = admin.get(f"/admin/service-accounts/{account.id}").get_data(as_text=True)
    assert token not in page and record.hint in page and "为服务账号签发访问令牌“疾控同步”" in page
    assert "svc-jk-sync" in admin.get("/admin/service-accounts").get_data(as_text=True)
    assert "svc-jk-sync" not in admin.get("/admin/users?q=svc").get_data(as_text=True)  # people only there
    # the token acts as the account: its department leads the task, as 疾控处 head would
    me = _api(demo, token, "GET", "/me")
    assert me.status_code == 200 and me.get_json()["username"] == "svc-jk-sync"
    task = _api(demo, token, "GET", f"/tasks/{world['task']}")
    assert task.status_code == 200
    saved = _api(demo, token, "PATCH", f"/tasks/{world['task']}", json={"progress": 66},
                 headers={"If-Match": task.headers["ETag"]})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    db.rollback()
    db.rollback()  # see what the requests saved
    entry = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "tasks",
                                                AuditEntry.object_id == world["task"]).order_by(AuditEntry.id.desc())).first()
    assert entry.actor_id == account.id and "经 API 令牌“疾控同步”" in entry.summary
    db.rollback()  # see what the requests saved
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "users",
                                                         AuditEntry.object_id == account.id)).all()
    assert actions == ["create", "issue_token"]


def test_a_token_stays_inside_the_accounts_scope(demo, db) -> None:  # type: ignore[no-untyped-def]
    world = _build(demo).ids
    with unit_of_work(demo.extensions["tracker.sessions"]) as s:
        admin = s.scalars(select(User).where(User.username == "admin")).one()
        hz = s.get(User, s.scalars(select(User.id).where(User.username == "hz_planner")).one())
        jk = s.get(User, s.scalars(select(User.id).where(User.username == "zj_staff_jk")).one())
        city = create_service_account(s, admin, username="svc-hz", name="杭州", role=Role.PLANNER,
                                      department=hz.department)
        staff = create_service_account(s, admin, username="svc-jk-read", name="只读", role=Role.DEPT_STAFF,
                                       department=jk.department)
        city_token = issue_token(s, admin, city, NewToken("杭州同步", TokenScope.READ, 30))[1]
        staff_token = issue_token(s, admin, staff, NewToken("填报", TokenScope.WRITE, 30))[1]
        read_token = issue_token(s, admin, staff, NewToken("只读", TokenScope.READ, 30))[1]
    # Hangzhou sees the province's plan above it, never Wenzhou's
    assert _api(demo, city_token, "GET", f"/plans/{world['plan']}").status_code == 200
    assert _api(demo, city_token, "GET", f"/plans/{world['city_plan']}").status_code == 403
    # a staff account reads its department's task but may not change it (the head may), nor may a read token
    task = _api(demo, staff_token, "GET", f"/tasks/{world['task']}")
    assert task.status_code == 200
    etag = {"If-Match": task.headers["ETag"]}
    assert _api(demo, staff_token, "PATCH", f"/tasks/{world['task']}", json={"progress": 70}, headers=etag).status_code == 403
    refused = _api(demo, read_token, "PATCH", f"/tasks/{world['task']}", json={"progress": 70}, headers=etag)
    assert refused.status_code == 403 and "只读令牌" in refused.get_json(force=True)["detail"]
    # the overdue list is not a department role's
    assert _api(demo, staff_token, "GET", "/alerts/overdue").status_code == 403


def test_a_service_account_never_signs_in_to_the_pages(demo, db) -> None:  # type: ignore[no-untyped-def]
    admin = client_for(demo, "admin")
    assert _create(admin, _department_of(db, "zj_head_jk")).status_code == 302
    for password in ("", "demo1234", "!"):
        html = demo.test_client().post("/login", data={"username": "svc-jk-sync", "password": password}) \
            .get_data(as_text=True)
        assert "用户名或密码错误" in html or "请输入密码" in html
    db.rollback()  # see what the requests saved
    account = db.scalars(select(User).where(User.username == "svc-jk-sync")).one()
    # nor through the people's page: it has no password to set
    edit = admin.post(f"/admin/users/{account.id}/edit", data={"username": "svc-jk-sync", "name": "x", "role": "admin",
                                                               "department_id": account.department_id,
                                                               "is_active": "y", "password": "abc12345"})
    assert edit.status_code == 422 and "服务账号" in edit.get_data(as_text=True)
    # a session cookie naming it is not a session
    from tracker.auth import load_user

    with demo.test_request_context():
        assert load_user(f"{account.id}.{account.session_epoch}") is None


def test_revoking_and_switching_off_end_the_tokens(demo, db) -> None:  # type: ignore[no-untyped-def]
    admin = client_for(demo, "admin")
    jk = _department_of(db, "zj_head_jk")
    _create(admin, jk)
    db.rollback()  # see what the requests saved
    account = db.scalars(select(User).where(User.username == "svc-jk-sync")).one()
    first, second = _issue(admin, account.id, name="一号"), _issue(admin, account.id, name="二号")
    db.rollback()  # see what the requests saved
    one = db.scalars(select(ApiToken).where(ApiToken.name == "一号")).one()
    assert admin.post(f"/admin/service-accounts/{account.id}/tokens/{one.id}/revoke").status_code == 302
    refused = _api(demo, first, "GET", "/me")
    assert refused.status_code == 401 and "吊销" in refused.get_json(force=True)["detail"]
    assert _api(demo, second, "GET", "/me").status_code == 200
    # another account's token is not found through this one
    _create(admin, jk, username="svc-other")
    db.rollback()  # see what the requests saved
    other = db.scalars(select(User).where(User.username == "svc-other")).one()
    db.rollback()  # see what the requests saved
    two = db.scalars(select(ApiToken).where(ApiToken.name == "二号")).one()
    assert admin.post(f"/admin/service-accounts/{other.id}/tokens/{two.id}/revoke").status_code == 404
    # switching the account off revokes the rest, for good
    off = admin.post(f"/admin/service-accounts/{account.id}", data={"name": "疾控数据同步", "role": "dept_head",
                                                                     "department_id": jk})
    assert off.status_code == 302
    on = admin.post(f"/admin/service-accounts/{account.id}", data={"name": "疾控数据同步", "role": "dept_head",
                                                                    "department_id": jk, "is_active": "y"})
    assert on.status_code == 302
    assert _api(demo, second, "GET", "/me").status_code == 401
    db.rollback()
    assert db.get(ApiToken, two.id).revoked_at is not None
    db.rollback()  # see what the requests saved
    summaries = db.scalars(select(AuditEntry.summary).where(AuditEntry.object_type == "users",
                                                            AuditEntry.object_id == account.id)).all()
    assert "停用服务账号，吊销其全部1个访问令牌" in summaries and "吊销服务账号的访问令牌“一号”" in summaries
    # a switched-off account gets no new token
    admin.post(f"/admin/service-accounts/{account.id}", data={"name": "x", "role": "dept_head", "department_id": jk})
    refused_issue = admin.post(f"/admin/service-accounts/{account.id}/tokens",
                               data={"name": "三号", "scope": "read", "days": "30"})
    assert refused_issue.status_code == 422 and "已停用" in refused_issue.get_data(as_text=True)


def _person_token(app: Flask, username: str) -> str:
    with unit_of_work(app.extensions["tracker.sessions"]) as s:
        user = s.scalars(select(User).where(User.username == username)).one()
        return create_token(s, user, NewToken("个人", TokenScope.READ, 30))[1]


def test_a_new_password_or_a_switched_off_account_revokes_a_persons_tokens(demo, db) -> None:  # type: ignore[no-untyped-def]
    token = _person_token(demo, "zj_head_jk")
    head = client_for(demo, "zj_head_jk")
    assert head.post("/account/password", data={"old_password": "demo1234", "new_password": "abc12345x",
                                                "confirm": "abc12345x"}).status_code == 302
    assert _api(demo, token, "GET", "/me").status_code == 401
    # the administrator's reset of a password
    token = _person_token(demo, "zj_head_jk")
    admin = client_for(demo, "admin")
    db.rollback()  # see what the requests saved
    head_user = db.scalars(select(User).where(User.username == "zj_head_jk")).one()
    form = {"username": "zj_head_jk", "name": head_user.name, "role": "dept_head",
            "department_id": head_user.department_id, "is_active": "y"}
    assert admin.post(f"/admin/users/{head_user.id}/edit", data={**form, "password": "xyz98765a"}).status_code == 302
    assert _api(demo, token, "GET", "/me").status_code == 401
    # switching the account off
    token = _person_token(demo, "zj_head_jk")
    assert admin.post(f"/admin/users/{head_user.id}/edit", data={**form, "is_active": ""}).status_code == 302
    assert admin.post(f"/admin/users/{head_user.id}/edit", data=form).status_code == 302  # on again
    response = _api(demo, token, "GET", "/me")
    assert response.status_code == 401 and "吊销" in response.get_json(force=True)["detail"]
    db.rollback()
    assert db.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None))).all() == []
    db.rollback()  # see what the requests saved
    actions = db.scalars(select(AuditEntry.summary).where(AuditEntry.object_type == "users",
                                                          AuditEntry.object_id == head_user.id,
                                                          AuditEntry.action == "revoke_tokens")).all()
    assert actions == ["修改密码，吊销其全部1个访问令牌", "重置密码，吊销其全部1个访问令牌", "停用账号，吊销其全部1个访问令牌"]


def test_bad_input_is_a_message_not_a_500(demo, db) -> None:  # type: ignore[no-untyped-def]
    admin = client_for(demo, "admin")
    jk = _department_of(db, "zj_head_jk")
    assert _create(admin, jk).status_code == 302
    duplicate = _create(admin, jk, username="ZJ_PLANNER")
    assert duplicate.status_code == 422 and "已存在" in duplicate.get_data(as_text=True)
    for data in ({"username": "bad name", "name": "x", "role": "dept_head", "department_id": jk},
                 {"username": "svc-x", "name": "x", "role": "root", "department_id": jk},
                 {"username": "svc-x", "name": "x", "role": "dept_head", "department_id": 999999}):
        assert admin.post("/admin/service-accounts/new", data=data).status_code == 422
    db.rollback()  # see what the requests saved
    account = db.scalars(select(User).where(User.username == "svc-jk-sync")).one()
    no_name = admin.post(f"/admin/service-accounts/{account.id}/tokens", data={"name": " ", "scope": "read", "days": "30"})
    assert no_name.status_code == 422
    too_long = admin.post(f"/admin/service-accounts/{account.id}/tokens",
                          data={"name": "x", "scope": "read", "days": "366"})
    assert too_long.status_code == 422
    assert db.scalars(select(ApiToken)).all() == []


# ---------------------------------------------------------------- every admin.service_account* route × role


@pytest.fixture
def matrix_world(demo, db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with unit_of_work(demo.extensions["tracker.sessions"]) as s:
        admin = s.scalars(select(User).where(User.username == "admin")).one()
        head = s.scalars(select(User).where(User.username == "zj_head_jk")).one()
        account = create_service_account(s, admin, username="svc-matrix", name="矩阵", role=Role.DEPT_HEAD,
                                         department=head.department)
        token = issue_token(s, admin, account, NewToken("矩阵", TokenScope.READ, 30))[0]
        return {"account": account.id, "token": token.id, "person": head.id}


ADMIN_ONLY = {r: (200 if r == "admin" else 403) for r in USERS} | {"anon": 302}


def _only_admin(code: int) -> dict[str, int]:
    return {r: (code if r == "admin" else 403) for r in USERS} | {"anon": 302}


ROUTES = [  # (endpoint, method, path, {role: code})
    ("admin.service_accounts", "GET", "/admin/service-accounts", ADMIN_ONLY),
    ("admin.service_accounts", "POST", "/admin/service-accounts", dict.fromkeys(ROLES, 405)),
    ("admin.service_account_new", "GET", "/admin/service-accounts/new", ADMIN_ONLY),
    ("admin.service_account_new", "POST", "/admin/service-accounts/new", _only_admin(422)),  # an empty form
    ("admin.service_account", "GET", "/admin/service-accounts/{account}", ADMIN_ONLY),
    ("admin.service_account", "GET", "/admin/service-accounts/{person}", _only_admin(404)),  # a person: not here
    ("admin.service_account", "GET", "/admin/service-accounts/999999", _only_admin(404)),
    ("admin.service_account", "POST", "/admin/service-accounts/{account}", _only_admin(422)),
    ("admin.service_account_token", "GET", "/admin/service-accounts/{account}/tokens", dict.fromkeys(ROLES, 405)),
    ("admin.service_account_token", "POST", "/admin/service-accounts/{account}/tokens", _only_admin(422)),
    ("admin.service_account_token", "POST", "/admin/service-accounts/999999/tokens", _only_admin(404)),
    ("admin.service_account_revoke", "GET", "/admin/service-accounts/{account}/tokens/{token}/revoke",
     dict.fromkeys(ROLES, 405)),
    ("admin.service_account_revoke", "POST", "/admin/service-accounts/{account}/tokens/999999/revoke", _only_admin(404)),
    ("admin.service_account_revoke", "POST", "/admin/service-accounts/{account}/tokens/{token}/revoke", _only_admin(302)),
]


def test_every_service_account_route_and_role(demo, matrix_world) -> None:  # type: ignore[no-untyped-def]
    clients = {"anon": demo.test_client()}
    for role, username in USERS.items():
        clients[role] = demo.test_client()
        login(clients[role], username)
    failures = []
    for _endpoint, method, path, expect in ROUTES:
        url = path.format(**matrix_world)
        for role in ROLES:
            response = clients[role].open(url, method=method)
            if response.status_code != expect[role]:
                failures.append(f"{method} {url} as {role}: {response.status_code} ≠ {expect[role]}")
            if response.status_code == 403:
                assert "无权访问" in response.get_data(as_text=True)
            if response.status_code == 302 and role == "anon":
                assert "/login" in response.headers["Location"]
    assert failures == [], "\n".join(failures)


def test_every_service_account_route_is_in_the_table(demo) -> None:  # type: ignore[no-untyped-def]
    endpoints = {r.endpoint for r in demo.url_map.iter_rules() if r.endpoint.startswith("admin.service_account")}
    assert endpoints == {r[0] for r in ROUTES}
