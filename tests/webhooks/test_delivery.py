"""Events reach the registered endpoints: signed, only the kinds and regions each takes, once, retried with a
growing delay after a failure and given up after the last attempt."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.notifications.models import DeliveryState
from tracker.scheduler import JOBS, run_job
from tracker.system.models import JobStatus
from tracker.webhooks.delivery import MAX_ATTEMPTS, RETRY_DELAYS
from tracker.webhooks.models import WebhookDelivery

from ..alerts.world import World
from .conftest import Receiver, finish, fresh, register


def _run(app: Flask) -> dict[str, int]:
    run = run_job(app, "webhooks")
    assert run.status == JobStatus.SUCCEEDED, run.error
    return run.counts


def _deliveries(session: Session) -> list[WebhookDelivery]:
    fresh(session)
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def verify(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does (README-snippet.md): recompute the HMAC of "<t>.<body>" and compare."""
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_the_job_runs_every_minute() -> None:
    assert JOBS["webhooks"].every_minutes == 1


def test_an_event_is_posted_signed_with_the_endpoints_secret(app: Flask, session: Session, world: World,
                                                             receiver: Receiver) -> None:
    app.config["PUBLIC_URL"] = "https://duban.example.gov.cn/"
    endpoint_id, secret = register(session, world, receiver.url, ["task.done"])
    task = world.task(session, date(2026, 12, 31), code="3.2.1", title="建设疾控信息平台")
    event_id = finish(session, world, task)

    assert _run(app) == {"queued": 1, "sent": 1, "retry": 0, "failed": 0}
    [request] = receiver.received
    [delivery] = _deliveries(session)
    assert request.path == "/hooks/tracker"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Tracker-Event"] == "task.done"
    assert request.headers["X-Tracker-Event-Id"] == str(event_id)
    assert request.headers["X-Tracker-Delivery"] == str(delivery.id)
    signature = request.headers["X-Tracker-Signature"]
    assert signature.startswith(f"t={int(timeutil.now().timestamp())},v1=")
    assert verify(secret, signature, request.body)
    assert not verify(secret + "x", signature, request.body)
    assert not verify(secret, signature, request.body.replace(b"3.2.1", b"3.2.2"))

    body = json.loads(request.body)
    assert body == {
        "id": event_id, "type": "task.done", "occurred_at": "2026-11-22T09:00:00+08:00",
        "title": "任务已完成：3.2.1 建设疾控信息平台",
        "region": {"code": world.province.code, "name": "浙江省"},
        "subject": {"type": "tasks", "id": task.id, "url": f"https://duban.example.gov.cn/tasks/{task.id}"},
        "data": {"status": "done"},
    }
    assert (delivery.endpoint_id, delivery.state, delivery.attempts, delivery.response_status) == (
        endpoint_id, DeliveryState.SENT, 1, 200)
    assert delivery.sent_at == timeutil.now() and delivery.request_body == request.body.decode()
    assert delivery.request_headers["X-Tracker-Signature"] == signature and delivery.response_body == '{"ok": true}'


def test_only_the_kinds_and_the_region_an_endpoint_takes(app: Flask, session: Session, world: World,
                                                        receiver: Receiver) -> None:
    register(session, world, receiver.url, ["task.done"], region_id=world.city.id, name="温州市平台")
    county = world.task(session, date(2026, 12, 31), plan="a", lead="a_jk", title="乐清任务")
    city = world.task(session, date(2026, 12, 31), plan="city", lead="city_jk", title="温州任务")
    province = world.task(session, date(2026, 12, 31), title="全省任务")
    wanted = [finish(session, world, county), finish(session, world, city)]
    finish(session, world, province)  # above the city
    finish(session, world, county, "milestone.done")  # a kind it does not take
    _run(app)
    assert sorted(int(r.headers["X-Tracker-Event-Id"]) for r in receiver.received) == wanted
    regions = {json.loads(r.body)["region"]["name"] for r in receiver.received}
    assert regions == {"乐清市", "温州市"}


def test_nothing_is_sent_twice_and_nothing_from_before_registration(app: Flask, session: Session, world: World,
                                                                    receiver: Receiver) -> None:
    task = world.task(session, date(2026, 12, 31))
    finish(session, world, task)  # before the endpoint existed
    register(session, world, receiver.url, ["task.done", "milestone.done"])
    after = finish(session, world, task)
    assert _run(app)["queued"] == 1
    assert _run(app) == {"queued": 0, "sent": 0, "retry": 0, "failed": 0}  # the events of the last minutes again
    with timeutil.frozen(timeutil.now() + timedelta(minutes=1)):
        _run(app)
    assert [int(r.headers["X-Tracker-Event-Id"]) for r in receiver.received] == [after]
    assert len(_deliveries(session)) == 1


def test_a_failed_post_is_retried_with_a_growing_delay_then_given_up(app: Flask, session: Session, world: World,
                                                                     receiver: Receiver) -> None:
    register(session, world, receiver.url, ["task.done"])
    event_id = finish(session, world, world.task(session, date(2026, 12, 31)))
    receiver.always = (500, '{"error": "数据库维护中"}')
    start = timeutil.now()
    assert _run(app) == {"queued": 1, "sent": 0, "retry": 1, "failed": 0}
    [delivery] = _deliveries(session)
    assert (delivery.state, delivery.attempts, delivery.response_status) == (DeliveryState.PENDING, 1, 500)
    assert delivery.next_attempt_at == start + RETRY_DELAYS[0]
    assert delivery.last_error == "接收方返回 HTTP 500" and "数据库维护中" in delivery.response_body

    assert _run(app)["retry"] == 0 and len(receiver.received) == 1  # not due yet
    at = start
    for n, delay in enumerate(RETRY_DELAYS, start=2):
        at += delay
        with timeutil.frozen(at):
            _run(app)
        [delivery] = _deliveries(session)
        assert delivery.attempts == n
        if n < MAX_ATTEMPTS:
            assert delivery.next_attempt_at == at + RETRY_DELAYS[n - 1]
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (DeliveryState.FAILED, MAX_ATTEMPTS, None)
    assert len(receiver.received) == MAX_ATTEMPTS == 6
    # every attempt is the same delivery of the same event: the receiver can tell a repeat
    assert {(r.headers["X-Tracker-Delivery"], r.headers["X-Tracker-Event-Id"]) for r in receiver.received} == {
        (str(delivery.id), str(event_id))}
    with timeutil.frozen(at + timedelta(days=2)):
        _run(app)
    assert len(receiver.received) == MAX_ATTEMPTS  # given up


def test_a_redirect_is_not_followed(app: Flask, session: Session, world: World, receiver: Receiver) -> None:
    register(session, world, receiver.url, ["task.done"])
    finish(session, world, world.task(session, date(2026, 12, 31)))
    receiver.answers = [(302, "")]
    _run(app)
    [delivery] = _deliveries(session)
    assert (delivery.state, delivery.response_status, delivery.last_error) == (
        DeliveryState.PENDING, 302, "接收方返回 HTTP 302")
    assert len(receiver.received) == 1


def test_an_unreachable_endpoint_never_fails_the_job(app: Flask, session: Session, world: World,
                                                     closed_port: int) -> None:
    register(session, world, f"http://127.0.0.1:{closed_port}/hook", ["task.done"])
    task = world.task(session, date(2026, 12, 31))
    finish(session, world, task)
    finish(session, world, task)
    assert _run(app) == {"queued": 2, "sent": 0, "retry": 2, "failed": 0}
    assert all(d.last_error.startswith("无法连接接收方") and d.response_status is None for d in _deliveries(session))


def test_a_switched_off_endpoint_gets_nothing(app: Flask, session: Session, world: World,
                                              receiver: Receiver) -> None:
    from tracker.webhooks.models import WebhookEndpoint
    from tracker.webhooks.services import set_active

    endpoint_id, _ = register(session, world, receiver.url, ["task.done"])
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    set_active(session, world.users["admin"], endpoint, False, endpoint.version_id)
    session.commit()
    task = world.task(session, date(2026, 12, 31))
    finish(session, world, task)
    assert _run(app)["queued"] == 0
    set_active(session, world.users["admin"], endpoint, True, endpoint.version_id)
    session.commit()
    later = finish(session, world, task)
    with timeutil.frozen(timeutil.now() + timedelta(minutes=1)):
        _run(app)
    assert [int(r.headers["X-Tracker-Event-Id"]) for r in receiver.received] == [later]


def test_a_run_posts_for_a_bounded_time_and_leaves_the_rest_as_they_were(app: Flask, session: Session,
                                                                         world: World, receiver: Receiver) -> None:
    from tracker.webhooks.delivery import queue, send_due

    register(session, world, receiver.url, ["task.done"])
    event_id = finish(session, world, world.task(session, date(2026, 12, 31)))
    at = timeutil.now()
    assert queue(session, at) == 1
    assert send_due(session, None, at, budget=-1) == {"sent": 0, "retry": 0, "failed": 0}
    session.commit()
    [delivery] = _deliveries(session)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (DeliveryState.PENDING, 0, at)
    assert receiver.received == []
    assert _run(app)["sent"] == 1
    # without TRACKER_PUBLIC_URL the subject's page is its path
    assert json.loads(receiver.received[0].body)["subject"]["url"].startswith("/tasks/")
    assert receiver.received[0].headers["X-Tracker-Event-Id"] == str(event_id)
