"""The API's tests: the route matrix's demo world, a token per user, a client that sends it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tracker.api.models import TokenScope
from tracker.api.services import NewToken, create_token
from tracker.auth.models import User
from tracker.db import unit_of_work
from tracker.notifications.models import Notification, NotificationKind
from tracker.timeutil import now

from ..test_route_matrix import _build


@pytest.fixture
def world(demo: Flask) -> dict[str, int]:
    """The route matrix's records (a province task of 疾控处 with a case, a Wenzhou task, …) and a message
    in 疾控处 head's inbox."""
    ids = _build(demo).ids
    with unit_of_work(demo.extensions["tracker.sessions"]) as s:
        head = s.scalars(select(User).where(User.username == "zj_head_jk")).one()
        note = Notification(user_id=head.id, kind=NotificationKind.SYSTEM, title="测试通知", created_at=now())
        s.add(note)
        s.flush()
        ids["notification"] = note.id
    return ids


MakeToken = Callable[..., str]


@pytest.fixture
def make_token(demo: Flask) -> MakeToken:
    def make(username: str, scope: TokenScope = TokenScope.WRITE, days: int = 30, name: str = "测试") -> str:
        with unit_of_work(demo.extensions["tracker.sessions"]) as s:
            user = s.scalars(select(User).where(User.username == username)).one()
            return create_token(s, user, NewToken(name=name, scope=scope, days=days))[1]
    return make


class Api:
    """Requests to /api/v1 with a token."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client, self.token = client, token

    def __call__(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                 **kw: Any) -> TestResponse:
        sent = dict(headers or {})
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.open("/api/v1" + path, method=method, headers=sent, **kw)

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self("GET", path, **kw)


@pytest.fixture
def api_as(demo: Flask, make_token: MakeToken) -> Callable[..., Api]:
    def as_user(username: str | None, scope: TokenScope = TokenScope.WRITE) -> Api:
        return Api(demo.test_client(), make_token(username, scope) if username else None)
    return as_user
