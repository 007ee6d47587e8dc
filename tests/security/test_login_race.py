"""Sign-in throttling under parallel attempts: many wrong passwords for one name at once get no more
password checks than the limit, and the count is not restarted by the pause while attempts are in flight.

Each attempt is a real request through the app (its own client, its own database session and connection),
the password check slowed down so that the attempts overlap."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from sqlalchemy import select

from tracker.auth import services as auth
from tracker.auth.models import LoginThrottle, User
from tracker.auth.services import MAX_FAILED_LOGINS, throttle_name

PARALLEL = 24


@pytest.fixture
def counted_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every check of a real account's password hash (the dummy hash for unknown or paused names is not
    counted), each taking 50 ms as a real hash takes about that long."""
    checked: list[str] = []
    lock = threading.Lock()
    real = auth.check_password_hash

    def slow_check(pwhash: str, password: str) -> bool:
        time.sleep(0.05)
        if pwhash != auth._dummy_hash():
            with lock:
                checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(auth, "check_password_hash", slow_check)
    return checked


def _attempt(app: Flask, username: str, password: str, address: str) -> str:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code in (200, 302), response.status_code
    return response.get_data(as_text=True)


def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(demo: Flask,
                                                                      counted_checks: list[str]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(lambda n: _attempt(demo, "zj_planner", f"wrong{n}", f"198.51.100.{n}"),
                              range(PARALLEL)))
    assert len(counted_checks) == MAX_FAILED_LOGINS
    assert sum("已暂停登录" in page for page in pages) == PARALLEL - MAX_FAILED_LOGINS + 1
    with demo.extensions["tracker.sessions"]() as s:
        row = s.get(LoginThrottle, throttle_name("zj_planner"))
        assert row is not None and row.failures == PARALLEL and row.locked_until is not None
    # the right password is refused too while the pause lasts, without a check
    assert "已暂停登录至" in _attempt(demo, "zj_planner", "demo1234", "198.51.100.200")
    assert len(counted_checks) == MAX_FAILED_LOGINS


def test_parallel_attempts_with_the_right_password_among_them(demo: Flask, counted_checks: list[str]) -> None:
    """Within the limit every attempt is checked, so a right password among them signs in whichever order
    they arrive, and the name is not left paused."""
    passwords = ["demo1234"] + [f"wrong{n}" for n in range(MAX_FAILED_LOGINS - 1)]
    with ThreadPoolExecutor(max_workers=MAX_FAILED_LOGINS) as pool:
        pages = list(pool.map(lambda p: _attempt(demo, "zj_head_jk", p, "198.51.100.1"), passwords))
    assert len(counted_checks) == MAX_FAILED_LOGINS
    assert not any("已暂停登录" in page for page in pages)
    with demo.extensions["tracker.sessions"]() as s:
        user = s.scalars(select(User).where(User.username == "zj_head_jk")).one()
        row = s.get(LoginThrottle, throttle_name("zj_head_jk"))
        assert user.last_login_at is not None and (row is None or row.locked_until is None)
