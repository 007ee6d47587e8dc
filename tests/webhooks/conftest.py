"""A receiver on 127.0.0.1 that records every request and answers what the test tells it to, and a small
province (tests.alerts.world) with an administrator to register endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

import pytest
from sqlalchemy.orm import Session

from tracker.notifications.outbox import emit
from tracker.tasks.models import Task
from tracker.webhooks.services import EndpointInput, create_endpoint

from .. import loopback
from ..alerts.world import World, build_world
from ..loopback import post_server


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    received: list[Request] = field(default_factory=list)
    answers: list[tuple[int, str]] = field(default_factory=list)  # the next answers; then 200 "ok"
    always: tuple[int, str] | None = None  # the answer to every request, when set

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tracker"

    def next_answer(self) -> tuple[int, str]:
        if self.answers:
            return self.answers.pop(0)
        return self.always or (200, '{"ok": true}')


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hooks: list[Receiver] = []

    def respond(path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        hooks[0].received.append(Request(path, headers, body))
        return hooks[0].next_answer()

    with post_server(respond) as server:
        hooks.append(Receiver(server))
        yield hooks[0]


@pytest.fixture
def closed_port() -> int:
    return loopback.closed_port()


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session)
    session.commit()
    return w


def register(session: Session, world: World, url: str, kinds: list[str], region_id: int | None = None,
             name: str = "省数据平台") -> tuple[int, str]:
    """An endpoint registered by the administrator: its id and secret."""
    endpoint, secret = create_endpoint(session, world.users["admin"], EndpointInput(name, url, kinds, region_id))
    session.commit()
    return endpoint.id, secret


def finish(session: Session, world: World, task: Task, kind: str = "task.done") -> int:
    """An event of ``kind`` about ``task`` as the outbox writes it (the lead department's, the plan's); its id."""
    event = emit(session, kind, task, actor=world.users["planner"], title=f"任务已完成：{task.code} {task.title}",
                 link=f"/tasks/{task.id}", department_id=task.lead_department_id, plan_id=task.plan_id,
                 data={"status": "done"})
    session.commit()
    return event.id


def fresh(session: Session) -> None:
    """See what requests and jobs committed since (a rollback alone expires nothing when no transaction is open)."""
    session.rollback()
    session.expire_all()
