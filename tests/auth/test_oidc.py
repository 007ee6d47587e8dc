"""Single sign-on through an OpenID Connect provider the tests start on 127.0.0.1 (tests/auth/oidc_provider.py):
the whole browserless flow across the two apps (discovery, PKCE, state and nonce, the code exchange, the ID
token's signature and claims), the accounts it finds, binds, creates or refuses, local login switched off,
signing out at both ends, and every ``auth.oidc_*`` route × role (tests/test_route_matrix.py's OWN_TABLES)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey
from sqlalchemy import select
from werkzeug.test import TestResponse

from tracker.audit import AuditEntry
from tracker.auth.models import Role, User, UserKind
from tracker.auth.services import PENDING_ROLE

from ..conftest import login
from ..test_route_matrix import ROLES, USERS
from .oidc_provider import CLIENT_ID, CLIENT_SECRET, Mischief, Provider, Running

HOST = "http://localhost"
CALLBACK = f"{HOST}/login/sso/callback"
PLANNER = {"sub": "zj-idp-0001", "preferred_username": "zj_planner", "name": "规划处王某", "email": "w@example.cn"}


@pytest.fixture(scope="module")
def idp() -> Iterator[Running]:
    with Running(Provider(), [CALLBACK]) as running:
        yield running


@pytest.fixture
def sso(demo: Flask, idp: Running) -> Flask:
    """The demo app signing in through the provider (local passwords still on)."""
    idp.provider.reset()
    demo.config.update(OIDC_ISSUER=idp.provider.issuer, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET)
    return demo


def local(url: str) -> str:
    assert url.startswith(HOST + "/"), url
    return url.removeprefix(HOST)


def to_provider(client: FlaskClient, idp: Running, person: dict[str, Any] | None, path: str = "/login/sso") -> str:
    """Start signing in at the tracker, let the provider sign ``person`` in; returns where the provider sends
    the browser back to (the tracker's callback with the code and the state)."""
    idp.provider.person = person
    start = client.get(path)
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    authorize = start.headers["Location"]
    assert authorize.startswith(idp.provider.issuer + "/authorize?")
    answer = idp.app.test_client().get(idp.provider.path(authorize))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    return answer.headers["Location"]


def sign_in(client: FlaskClient, idp: Running, person: dict[str, Any] | None, path: str = "/login/sso") -> TestResponse:
    return client.get(local(to_provider(client, idp, person, path)))


def signed_in_as(client: FlaskClient) -> str | None:
    response = client.get("/workspace")
    if response.status_code != 200:
        return None
    return response.get_data(as_text=True)


def test_sign_in_with_pkce_state_and_nonce_binds_the_account(sso, idp, db) -> None:  # type: ignore[no-untyped-def]
    client = sso.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    assert "统一身份认证登录" in login_page and 'name="password"' in login_page  # both ways while local login is on
    back = to_provider(client, idp, PLANNER, "/login/sso?next=/workspace")
    request = idp.provider.codes and next(iter(idp.provider.codes.values()))
    assert request and request.code_challenge_method == "S256" and request.nonce  # PKCE and a nonce were sent
    assert back.startswith(CALLBACK + "?") and "state=" in back
    done = client.get(local(back))
    assert done.status_code == 302 and done.headers["Location"] == "/workspace"
    assert "code_verifier" in idp.provider.token_requests[0]  # the code was exchanged with the verifier
    assert signed_in_as(client)
    user = db.scalars(select(User).where(User.username == "zj_planner")).one()
    assert user.external_id == "zj-idp-0001" and user.last_login_at is not None
    bind = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "users", AuditEntry.object_id == user.id,
                                               AuditEntry.action == "bind_sso")).one()
    assert bind.changes == {"external_id": [None, "zj-idp-0001"]}
    # the next time the subject finds the account even when the platform renamed the person
    other = sso.test_client()
    assert sign_in(other, idp, {**PLANNER, "preferred_username": "wang.renamed"}).status_code == 302
    assert signed_in_as(other)


def test_a_new_signing_key_is_fetched_when_a_token_names_it(sso, idp) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(sso.test_client(), idp, PLANNER).status_code == 302  # the keys are fetched and kept
    kept = idp.provider.key
    idp.provider.key = RSAKey.generate_key(2048, parameters={"kid": "k2"}, private=True)
    try:
        client = sso.test_client()
        assert sign_in(client, idp, PLANNER).status_code == 302  # kid k2 is unknown: fetched again
        assert signed_in_as(client)
    finally:
        idp.provider.key = kept


def test_a_subject_cannot_take_an_account_bound_to_another(sso, idp, db) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(sso.test_client(), idp, PLANNER).status_code == 302
    impostor = {"sub": "someone-else", "preferred_username": "ZJ_PLANNER"}
    client = sso.test_client()
    refused = sign_in(client, idp, impostor)
    assert refused.status_code == 403 and "已绑定其他统一身份认证账号" in refused.get_data(as_text=True)
    assert signed_in_as(client) is None
    db.rollback()
    user = db.scalars(select(User).where(User.username == "zj_planner")).one()
    assert db.scalars(select(AuditEntry.action).where(AuditEntry.object_id == user.id,
                                                      AuditEntry.object_type == "users")).all() \
        == ["bind_sso", "login_refused"]


@pytest.mark.parametrize(("mischief", "message"), [
    (Mischief(audience="another-client"), "校验未通过"),
    (Mischief(nonce="not-the-nonce-sent"), "校验未通过"),
    (Mischief(expired=True), "已过期"),
    (Mischief(foreign_key=True), "签名无效"),
])
def test_a_token_that_fails_validation_signs_no_one_in(sso, idp, db, mischief, message) -> None:  # type: ignore[no-untyped-def]
    idp.provider.mischief = mischief
    client = sso.test_client()
    refused = sign_in(client, idp, PLANNER)
    assert refused.status_code == 403 and message in refused.get_data(as_text=True)
    assert signed_in_as(client) is None
    assert db.scalars(select(User.external_id).where(User.username == "zj_planner")).one() is None


def test_a_tampered_or_replayed_answer_is_refused(sso, idp) -> None:  # type: ignore[no-untyped-def]
    client = sso.test_client()
    back = to_provider(client, idp, PLANNER)
    query = parse_qs(urlsplit(back).query)
    forged = client.get(f"/login/sso/callback?code={query['code'][0]}&state=forged")
    assert forged.status_code == 403 and "失效或被篡改" in forged.get_data(as_text=True)
    # the sign-in under way was used up by the forged answer: the real one no longer counts
    replay = client.get(local(back))
    assert replay.status_code == 400 and "登录请求已失效" in replay.get_data(as_text=True)
    assert signed_in_as(client) is None
    # a state no one sends (not ASCII) is refused as well, not a 500
    to_provider(client, idp, PLANNER)
    odd = client.get("/login/sso/callback?code=x&state=%E7%8A%B6%E6%80%81")
    assert odd.status_code == 403 and "失效或被篡改" in odd.get_data(as_text=True)
    # the provider's own refusal reads as such
    state = client.get("/login/sso").headers["Location"].split("state=")[1].split("&")[0]
    denied = client.get(f"/login/sso/callback?error=access_denied&state={state}")
    assert denied.status_code == 403 and "取消了登录" in denied.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_an_unknown_person_is_refused_by_default(sso, idp, db) -> None:  # type: ignore[no-untyped-def]
    count = len(db.scalars(select(User.id)).all())
    refused = sign_in(sso.test_client(), idp, {"sub": "new-1", "preferred_username": "li.si", "name": "李四"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "尚未开通本系统的使用权限" in html and "li.si" in html
    assert len(db.scalars(select(User.id)).all()) == count


def test_an_unknown_person_is_recorded_switched_off_until_an_admin_places_them(sso, idp, db) -> None:  # type: ignore[no-untyped-def]
    sso.config["OIDC_CREATE_USERS"] = True
    person = {"sub": "new-2", "preferred_username": "zhang.san@zj.gov.cn", "name": "张三", "email": "zs@zj.gov.cn"}
    client = sso.test_client()
    first = sign_in(client, idp, person)
    assert first.status_code == 403 and "已登记您的账号 zhang.san" in first.get_data(as_text=True)
    user = db.scalars(select(User).where(User.external_id == "new-2")).one()
    assert (user.username, user.name, user.email, user.role, user.department_id, user.is_active, user.password_hash) \
        == ("zhang.san", "张三", "zs@zj.gov.cn", PENDING_ROLE, None, False, None)
    again = sign_in(client, idp, person)
    assert again.status_code == 403 and "等待系统管理员分配" in again.get_data(as_text=True)
    assert db.scalars(select(User.id).where(User.external_id == "new-2")).all() == [user.id]  # recorded once
    # the administrator places the account and switches it on: then it signs in
    admin = sso.test_client()
    login(admin, "admin")
    jk = db.scalars(select(User).where(User.username == "zj_head_jk")).one().department_id
    assert admin.get(f"/admin/users/{user.id}/edit").status_code == 200
    saved = admin.post(f"/admin/users/{user.id}/edit", data={"username": "zhang.san", "name": "张三",
                                                               "role": "dept_staff", "department_id": jk,
                                                               "email": "zs@zj.gov.cn", "is_active": "y"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    assert sign_in(client, idp, person).status_code == 302
    assert signed_in_as(client)


def test_a_switched_off_account_and_a_service_account_are_refused(sso, idp, db) -> None:  # type: ignore[no-untyped-def]
    with sso.extensions["tracker.sessions"]() as s:
        s.scalars(select(User).where(User.username == "zj_leader")).one().is_active = False
        head = s.scalars(select(User).where(User.username == "zj_head_jk")).one()
        s.add(User(username="svc-sync", name="同步", kind=UserKind.SERVICE, role=Role.DEPT_HEAD,
                   department_id=head.department_id, password_hash=None))
        s.commit()
    off = sign_in(sso.test_client(), idp, {"sub": "l-1", "preferred_username": "zj_leader"})
    assert off.status_code == 403 and "已停用" in off.get_data(as_text=True)
    leader = db.scalars(select(User).where(User.username == "zj_leader")).one()
    assert "login_refused" in db.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "users", AuditEntry.object_id == leader.id)).all()
    service = sign_in(sso.test_client(), idp, {"sub": "s-1", "preferred_username": "svc-sync"})
    assert service.status_code == 403 and "尚未开通" in service.get_data(as_text=True)


def test_the_claim_may_match_the_email_instead(sso, idp, db) -> None:  # type: ignore[no-untyped-def]
    sso.config.update(OIDC_USER_CLAIM="email", OIDC_USER_FIELD="email")
    with sso.extensions["tracker.sessions"]() as s:
        s.scalars(select(User).where(User.username == "zj_evaluator")).one().email = "Eval@ZJ.gov.cn"
        s.commit()
    client = sso.test_client()
    assert sign_in(client, idp, {"sub": "e-1", "email": "eval@zj.gov.cn", "email_verified": True}).status_code == 302
    assert signed_in_as(client)
    unverified = sign_in(sso.test_client(), idp, {"sub": "e-2", "email": "eval@zj.gov.cn", "email_verified": False})
    assert unverified.status_code == 403 and "尚未验证" in unverified.get_data(as_text=True)


def test_local_login_switched_off(sso, idp) -> None:  # type: ignore[no-untyped-def]
    sso.config["LOCAL_LOGIN"] = False
    client = sso.test_client()
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "统一身份认证登录" in html and 'name="password"' not in html
    refused = client.post("/login", data={"username": "zj_planner", "password": "demo1234"})
    assert refused.status_code == 403 and "已关闭密码登录" in refused.get_data(as_text=True)
    assert signed_in_as(client) is None
    assert sign_in(client, idp, PLANNER).status_code == 302
    password = client.post("/account/password", data={"old_password": "demo1234", "new_password": "abc12345x",
                                                      "confirm": "abc12345x"})
    assert password.status_code == 403 and "已关闭密码登录" in password.get_data(as_text=True)
    assert client.get("/account/password").status_code == 403


def test_local_login_off_needs_single_sign_on(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ..conftest import make_test_app

    with pytest.raises(RuntimeError, match="TRACKER_OIDC_ISSUER"):
        make_test_app("sqlite://", tmp_path, LOCAL_LOGIN=False)


def test_signing_out_ends_both_sessions(sso, idp) -> None:  # type: ignore[no-untyped-def]
    client = sso.test_client()
    assert sign_in(client, idp, PLANNER).status_code == 302
    out = client.post("/logout")
    assert out.status_code == 302 and out.headers["Location"] == "/login/sso/logout"
    assert signed_in_as(client) is None  # signed out here first
    page = client.get("/login/sso/logout")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'http-equiv="refresh"' in html
    end_session = html.split('id="sso-logout" href="')[1].split('"')[0].replace("&amp;", "&")
    assert end_session.startswith(idp.provider.issuer + "/logout?")
    query = parse_qs(urlsplit(end_session).query)
    assert query["post_logout_redirect_uri"] == [f"{HOST}/login"] and query["id_token_hint"][0].count(".") == 2
    back = idp.app.test_client().get(idp.provider.path(end_session))
    assert back.status_code == 302 and back.headers["Location"].startswith(f"{HOST}/login")
    assert len(idp.provider.end_sessions) == 1
    assert client.get(local(back.headers["Location"])).status_code == 200  # the login page again
    assert client.get("/login/sso/logout").status_code == 302  # nothing more to end


def test_a_password_session_signs_out_here_only(sso, idp) -> None:  # type: ignore[no-untyped-def]
    client = sso.test_client()
    login(client, "zj_planner")
    out = client.post("/logout")
    assert out.status_code == 302 and out.headers["Location"] == "/login"
    assert idp.provider.end_sessions == []


def test_an_unreachable_provider_is_a_clear_page(demo) -> None:  # type: ignore[no-untyped-def]
    demo.config.update(OIDC_ISSUER="http://127.0.0.1:9", OIDC_CLIENT_ID="x", OIDC_TIMEOUT=2)
    response = demo.test_client().get("/login/sso")
    assert response.status_code == 503 and "暂时无法连接统一身份认证平台" in response.get_data(as_text=True)


# ---------------------------------------------------------------- every auth.oidc_* route × role, GET and POST

ROUTES = [  # (endpoint, path, method, expected for anon, expected signed in)
    ("auth.oidc_login", "/login/sso", "GET", 302, 302),
    ("auth.oidc_login", "/login/sso", "POST", 405, 405),
    # anon started a sign-in on the row above, whose state "y" is not: 403; the others have none under way: 400
    ("auth.oidc_callback", "/login/sso/callback?code=x&state=y", "GET", 403, 400),
    ("auth.oidc_callback", "/login/sso/callback", "POST", 405, 405),
    ("auth.oidc_logout", "/login/sso/logout", "GET", 302, 302),
    ("auth.oidc_logout", "/login/sso/logout", "POST", 405, 405),
]


def _clients(app: Flask) -> dict[str, FlaskClient]:
    clients = {"anon": app.test_client()}
    for role, username in USERS.items():
        clients[role] = app.test_client()
        login(clients[role], username)
    return clients


def test_every_oidc_route_and_role(sso, idp) -> None:  # type: ignore[no-untyped-def]
    clients = _clients(sso)
    failures = []
    for _endpoint, path, method, anon, signed_in in ROUTES:
        for role in ROLES:
            expected = anon if role == "anon" else signed_in
            response = clients[role].open(path, method=method)
            if response.status_code != expected:
                failures.append(f"{method} {path} as {role}: {response.status_code} ≠ {expected}")
            if method == "GET" and path == "/login/sso" and role == "anon":
                assert response.headers["Location"].startswith(idp.provider.issuer)
            elif method == "GET" and path == "/login/sso":
                assert response.headers["Location"] == "/"  # signed in already: home
    assert failures == [], "\n".join(failures)


def test_without_single_sign_on_its_routes_are_404(demo) -> None:  # type: ignore[no-untyped-def]
    clients = _clients(demo)
    failures = []
    for _endpoint, path, method, _anon, _signed_in in ROUTES:
        for role in ROLES:
            expected = 405 if method == "POST" else 302 if path == "/login/sso/logout" else 404
            response = clients[role].open(path, method=method)
            if response.status_code != expected:
                failures.append(f"{method} {path} as {role}: {response.status_code} ≠ {expected}")
    assert failures == [], "\n".join(failures)
    assert "统一身份认证" not in demo.test_client().get("/login").get_data(as_text=True)


def test_every_oidc_route_is_in_the_table(demo) -> None:  # type: ignore[no-untyped-def]
    endpoints = {r.endpoint for r in demo.url_map.iter_rules() if r.endpoint.startswith("auth.oidc_")}
    assert endpoints == {r[0] for r in ROUTES}
