"""Signing in and out, throttling, safe redirects, changing one's password, the create-user command."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from tracker import timeutil
from tracker.auth.models import LoginThrottle, User

from ..conftest import login


def test_login_and_logout(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    assert client.get("/login").status_code == 200
    login(client, "zj_planner")
    assert "王" in client.get("/plans").get_data(as_text=True) or client.get("/plans").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/plans").status_code == 302


def test_logout_is_post_only(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "zj_planner")
    assert client.get("/logout").status_code == 405


def test_wrong_password_counts_and_locks(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    for attempt in range(4):
        html = client.post("/login", data={"username": "zj_planner", "password": "wrong"}).get_data(as_text=True)
        assert "用户名或密码错误" in html and f"再失败{4 - attempt}次" in html
    html = client.post("/login", data={"username": "zj_planner", "password": "wrong"}).get_data(as_text=True)
    assert "已暂停登录" in html
    # even the right password is refused while locked
    html = client.post("/login", data={"username": "zj_planner", "password": "demo1234"}).get_data(as_text=True)
    assert "已暂停登录" in html
    with timeutil.frozen(timeutil.now() + timedelta(minutes=16)):
        login(client, "zj_planner")


def test_unknown_user_gets_the_same_message(demo) -> None:  # type: ignore[no-untyped-def]
    html = demo.test_client().post("/login", data={"username": "nobody", "password": "x"}).get_data(as_text=True)
    assert "用户名或密码错误" in html


def test_next_redirect_is_same_site_only(demo) -> None:  # type: ignore[no-untyped-def]
    from urllib.parse import urlsplit

    for target, expected in [("/workspace", "/workspace"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/"), ("/\\evil.example", "/")]:
        client = demo.test_client()
        response = client.post(f"/login?next={target}", data={"username": "zj_planner", "password": "demo1234"})
        assert response.status_code == 302
        location = response.headers["Location"]
        assert urlsplit(location).path == expected and urlsplit(location).netloc in ("", "localhost"), target


def test_inactive_user_cannot_log_in(demo) -> None:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        s.scalars(select(User).where(User.username == "zj_leader")).one().is_active = False
        s.commit()
    html = demo.test_client().post("/login", data={"username": "zj_leader", "password": "demo1234"}).get_data(as_text=True)
    assert "用户名或密码错误" in html


def test_change_password(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "zj_head_jk")
    bad = client.post("/account/password", data={"old_password": "nope", "new_password": "abc12345",
                                                  "confirm": "abc12345"})
    assert "原密码不正确" in bad.get_data(as_text=True)
    weak = client.post("/account/password", data={"old_password": "demo1234", "new_password": "12345678",
                                                   "confirm": "12345678"})
    assert "字母和数字" in weak.get_data(as_text=True)
    mismatch = client.post("/account/password", data={"old_password": "demo1234", "new_password": "abc12345",
                                                       "confirm": "abc12346"})
    assert "不一致" in mismatch.get_data(as_text=True)
    ok = client.post("/account/password", data={"old_password": "demo1234", "new_password": "newpass2026",
                                                "confirm": "newpass2026"})
    assert ok.status_code == 302
    client.post("/logout")
    login(client, "zj_head_jk", "newpass2026")


def test_session_cookie_flags(demo) -> None:  # type: ignore[no-untyped-def]
    response = demo.test_client().post("/login", data={"username": "zj_planner", "password": "demo1234"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_security_headers(demo) -> None:  # type: ignore[no-untyped-def]
    response = demo.test_client().get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_create_user_command(demo) -> None:  # type: ignore[no-untyped-def]
    runner = demo.test_cli_runner()
    result = runner.invoke(args=["create-user", "--username", "new_head", "--name", "新负责人", "--role",
                                                 "dept_head", "--region", "330000", "--department", "疾控处",
                                                 "--password", "abc12345"])
    assert result.exit_code == 0, result.output
    assert "已创建用户 new_head" in result.output
    client = demo.test_client()
    login(client, "new_head", "abc12345")
    result = runner.invoke(args=["create-user", "--username", "x", "--name", "x", "--role", "dept_head",
                                                 "--region", "330000", "--department", "不存在处", "--password",
                                                 "abc12345"])
    assert result.exit_code == 1 and "没有部门" in result.output


def _copy(client):  # type: ignore[no-untyped-def]
    """Another browser holding the same session cookie (a copied or stolen cookie)."""
    other = client.application.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    other.set_cookie("session", cookie.value)
    return other


def test_signing_out_ends_every_copy_of_the_session(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "zj_planner")
    copy, elsewhere = _copy(client), demo.test_client()
    login(elsewhere, "zj_planner")
    assert copy.get("/plans").status_code == 200
    client.post("/logout")
    for c in (client, copy, elsewhere):
        response = c.get("/plans")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, "zj_planner")
    assert client.get("/plans").status_code == 200


def test_a_new_password_ends_the_other_sessions_only(demo) -> None:  # type: ignore[no-untyped-def]
    client, elsewhere = demo.test_client(), demo.test_client()
    login(client, "zj_head_jk")
    login(elsewhere, "zj_head_jk")
    assert client.post("/account/password", data={"old_password": "demo1234", "new_password": "newpass2026",
                                                   "confirm": "newpass2026"}).status_code == 302
    assert client.get("/workspace").status_code == 200  # the session that changed it goes on
    assert elsewhere.get("/workspace").status_code == 302


def test_an_administrators_reset_ends_the_users_sessions(demo) -> None:  # type: ignore[no-untyped-def]
    user_client, admin = demo.test_client(), demo.test_client()
    login(user_client, "zj_staff_jk")
    login(admin, "admin")
    with demo.extensions["tracker.sessions"]() as s:
        user = s.scalars(select(User).where(User.username == "zj_staff_jk")).one()
        form = {"name": user.name, "role": user.role.value, "department_id": user.department_id,
                "email": user.email or "", "is_active": "y", "password": "reset2026x"}
    assert admin.post(f"/admin/users/{user.id}/edit", data=form).status_code == 302
    assert user_client.get("/workspace").status_code == 302
    login(user_client, "zj_staff_jk", "reset2026x")
    assert user_client.get("/workspace").status_code == 200


def test_a_session_id_of_another_form_is_not_a_user(demo) -> None:  # type: ignore[no-untyped-def]
    from tracker.auth import load_user

    with demo.test_request_context():
        assert load_user("1") is None and load_user("1.x") is None and load_user("１.0") is None
        assert load_user("99999999999.0") is None


def test_unknown_and_known_names_are_answered_alike(demo) -> None:  # type: ignore[no-untyped-def]
    """The countdown and the pause read the same for a name no account has: the page does not tell
    which usernames exist."""
    known, unknown = demo.test_client(), demo.test_client()

    def answers(client, name: str) -> list[str]:  # type: ignore[no-untyped-def]
        pages = [client.post("/login", data={"username": name, "password": "wrong"}).get_data(as_text=True)
                 for _ in range(6)]
        return [p.split('class="flash flash-error" role="alert">')[1].split("</div>")[0] for p in pages]

    mine, theirs = answers(known, "zj_planner"), answers(unknown, "no_such_user")
    assert mine == theirs
    assert "再失败4次" in mine[0] and "已暂停登录" in mine[4] and "已暂停登录至" in mine[5]


def _from(app, address: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_many_names_tried_from_one_address_pause_that_address(demo) -> None:  # type: ignore[no-untyped-def]
    """The pause is proportionate: names that failed from the address are refused there (a right password
    included); a colleague behind the same address still signs in, one password check per ADDRESS_SLOT."""
    from tracker.auth.services import ADDRESS_LIMIT, ADDRESS_SLOT, LOCKOUT

    guesser = _from(demo, "203.0.113.7")
    for n in range(ADDRESS_LIMIT - 1):
        guesser.post("/login", data={"username": f"guess{n}", "password": "wrong"})
    guesser.post("/login", data={"username": "zj_head_jk", "password": "wrong"})  # the 30th failure
    html = guesser.post("/login", data={"username": "zj_head_jk", "password": "demo1234"}).get_data(as_text=True)
    assert "该用户名在此地址已暂停登录至" in html  # even a right password, for a name that failed there
    html = guesser.post("/login", data={"username": "zj_planner", "password": "demo1234"}).get_data(as_text=True)
    assert f"请{int(ADDRESS_SLOT.total_seconds())}秒后再试" in html  # within the slot of the last check
    login(_from(demo, "198.51.100.2"), "zj_head_jk")  # other addresses are not paused
    colleague = _from(demo, "203.0.113.7")
    with timeutil.frozen(timeutil.now() + ADDRESS_SLOT):
        login(colleague, "zj_planner")  # a name that did not fail there passes, after the slot
        html = guesser.post("/login", data={"username": "zj_leader", "password": "demo1234"}
                            ).get_data(as_text=True)
        assert "秒后再试" in html  # the slot was just taken
    with timeutil.frozen(timeutil.now() + LOCKOUT + timedelta(seconds=1)):
        login(guesser, "zj_head_jk")


def test_failures_spread_over_time_do_not_pause_an_address(demo) -> None:  # type: ignore[no-untyped-def]
    from tracker.auth.services import ADDRESS_LIMIT, LOCKOUT

    office = _from(demo, "192.0.2.10")
    start = timeutil.now()
    for n in range(ADDRESS_LIMIT + 5):  # one typo every 16 minutes all day
        with timeutil.frozen(start + n * (LOCKOUT + timedelta(minutes=1))):
            html = office.post("/login", data={"username": f"typo{n}", "password": "x"}).get_data(as_text=True)
            assert "网络地址" not in html


def test_behind_a_proxy_the_forwarded_address_counts(migrated, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tracker.auth.services import ADDRESS_LIMIT

    from ..conftest import make_test_app

    app = make_test_app(migrated, tmp_path, PROXIES=1)
    try:
        client = app.test_client()
        for n in range(ADDRESS_LIMIT):
            client.post("/login", data={"username": f"g{n}", "password": "x"},
                        headers={"X-Forwarded-For": "203.0.113.9"})
        paused = client.post("/login", data={"username": "g", "password": "x"},
                             headers={"X-Forwarded-For": "203.0.113.9"})
        other = client.post("/login", data={"username": "g", "password": "x"},
                            headers={"X-Forwarded-For": "203.0.113.10"})
        assert "网络地址" in paused.get_data(as_text=True) and "网络地址" not in other.get_data(as_text=True)
    finally:
        with app.extensions["tracker.sessions"]() as s:
            s.execute(delete(LoginThrottle))
            s.commit()
        app.extensions["tracker.engine"].dispose()
