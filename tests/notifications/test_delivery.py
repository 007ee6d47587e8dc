"""E-mail and webhook copies: sent to local servers, retried on failure, never failing the jobs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.notifications.channels import DeliveryError, SmtpSettings, webhook_payload
from tracker.notifications.delivery import MAX_ATTEMPTS, RETRY_DELAYS
from tracker.notifications.models import (
    Channel,
    DeliveryState,
    Notification,
    NotificationDelivery,
    NotificationKind,
)
from tracker.scheduler import run_chain, run_job
from tracker.system.models import JobStatus

from ..alerts.world import World
from .conftest import SmtpServer, WebhookServer


def _deliveries(session: Session, channel: Channel | None = None) -> list[NotificationDelivery]:
    session.rollback()
    stmt = select(NotificationDelivery).order_by(NotificationDelivery.id)
    if channel:
        stmt = stmt.where(NotificationDelivery.channel == channel)
    return list(session.scalars(stmt))


@pytest.fixture
def overdue(session: Session, world: World) -> None:
    world.task(session, date(2026, 11, 1), code="1.1", title="建设疾控信息平台")
    session.commit()


def _reminders(app: Flask) -> None:
    assert run_job(app, "scan").status == JobStatus.SUCCEEDED
    runs = run_chain(app, "reminders")
    assert [r.status for r in runs] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED], [r.error for r in runs]


def test_digests_go_out_by_email(app: Flask, session: Session, world: World, overdue: None,
                                 smtp_server: SmtpServer) -> None:
    app.config["SMTP_URL"] = smtp_server.url
    _reminders(app)
    deliveries = _deliveries(session)
    # two recipients in the department, both with an address
    assert [(d.channel, d.state, d.attempts) for d in deliveries] == [(Channel.EMAIL, DeliveryState.SENT, 1)] * 2
    assert all(d.sent_at is not None for d in deliveries)
    assert sorted(r for _, rcpts, _ in smtp_server.received for r in rcpts) == [
        "head_jk@example.org", "staff_jk@example.org"]
    sender, _, message = smtp_server.received[0]
    assert sender == "duban@example.org"
    assert message["Subject"] == "11月22日督查提醒：逾期1项"
    assert "建设疾控信息平台" in message.get_content() and "测试用户：" in message.get_content()
    # running the chain again sends nothing twice
    run_chain(app, "reminders")
    assert len(smtp_server.received) == 2


def test_only_users_with_an_address_get_email(app: Flask, session: Session, world: World,
                                              smtp_server: SmtpServer) -> None:
    world.users["staff_jk"].email = None
    world.task(session, date(2026, 11, 1))
    session.commit()
    app.config["SMTP_URL"] = smtp_server.url
    _reminders(app)
    assert len(_deliveries(session)) == 1 and len(smtp_server.received) == 1


def test_a_refused_email_is_retried_later(app: Flask, session: Session, world: World, overdue: None,
                                          smtp_server: SmtpServer) -> None:
    app.config["SMTP_URL"] = smtp_server.url + "&connections=1"  # both mails, in order, over one connection
    smtp_server.answers = ["451 4.3.0 Mailbox temporarily unavailable"]
    _reminders(app)
    first, second = _deliveries(session)
    assert (first.state, first.attempts) == (DeliveryState.PENDING, 1)
    assert "451" in first.last_error and first.next_attempt_at == timeutil.now() + RETRY_DELAYS[0]
    assert second.state == DeliveryState.SENT  # the connection stayed usable for the next message

    assert run_job(app, "deliveries").counts == {"sent": 0, "retry": 0, "failed": 0}  # not due yet
    with timeutil.frozen(timeutil.now() + timedelta(minutes=6)):
        run = run_job(app, "deliveries")
    assert run.counts == {"sent": 1, "retry": 0, "failed": 0}
    first = _deliveries(session)[0]
    assert (first.state, first.attempts) == (DeliveryState.SENT, 2)
    assert len(smtp_server.received) == 2


def test_an_unreachable_server_never_fails_the_jobs_and_gives_up_after_retries(
        app: Flask, session: Session, world: World, overdue: None, closed_port: int) -> None:
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{closed_port}/"
    _reminders(app)  # both jobs succeed
    assert {d.attempts for d in _deliveries(session)} == {1}
    assert all("无法连接邮件服务器" in d.last_error for d in _deliveries(session))
    at = timeutil.now()
    for delay in RETRY_DELAYS:
        at += delay + timedelta(seconds=1)
        with timeutil.frozen(at):
            assert run_job(app, "deliveries").status == JobStatus.SUCCEEDED
    deliveries = _deliveries(session)
    assert [(d.state, d.attempts, d.next_attempt_at) for d in deliveries] == [
        (DeliveryState.FAILED, MAX_ATTEMPTS, None)] * 2
    assert session.scalar(select(Notification.id)) is not None  # the inbox copy is there regardless


def test_webhook_deliveries_are_dingtalk_json_and_retried(app: Flask, session: Session, world: World,
                                                          overdue: None, webhook_server: WebhookServer) -> None:
    app.config["WEBHOOK_URL"] = webhook_server.url
    webhook_server.answers = [(500, {}), (200, {"errcode": 310000, "errmsg": "keywords not in content"})]
    _reminders(app)
    first, second = _deliveries(session, Channel.DINGTALK)
    assert (first.state, first.attempts) == (DeliveryState.PENDING, 1) and "HTTP 500" in first.last_error
    assert (second.state, second.attempts) == (DeliveryState.PENDING, 1) and "310000" in second.last_error
    with timeutil.frozen(timeutil.now() + timedelta(minutes=6)):
        assert run_job(app, "deliveries").counts == {"sent": 2, "retry": 0, "failed": 0}
    payload = webhook_server.received[0]
    assert payload["msgtype"] == "text"
    assert payload["text"]["content"].startswith("测试用户：11月22日督查提醒：逾期1项\n")
    assert payload["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}  # head_jk's mobile


def test_an_unreachable_webhook_stops_the_batch(app: Flask, session: Session, world: World, overdue: None,
                                                closed_port: int) -> None:
    app.config["WEBHOOK_URL"] = f"http://127.0.0.1:{closed_port}/robot"
    _reminders(app)
    assert [(d.state, d.attempts) for d in _deliveries(session)] == [(DeliveryState.PENDING, 1)] * 2
    assert all("无法连接机器人接口" in d.last_error for d in _deliveries(session))


def test_channel_settings_parse() -> None:
    s = SmtpSettings.parse("smtp://user%40x:p%2Fw@mail.example.org:587/?starttls=1&from=a@b.org")
    assert (s.host, s.port, s.starttls, s.use_ssl, s.username, s.password, s.sender) == (
        "mail.example.org", 587, True, False, "user@x", "p/w", "a@b.org")
    assert SmtpSettings.parse("smtps://mail.example.org").port == 465
    with pytest.raises(DeliveryError):
        SmtpSettings.parse("http://mail.example.org")
    assert webhook_payload("标题", None) == {"msgtype": "text", "text": {"content": "标题"}}


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The SMTP connections opened, in order."""
    from tracker.notifications import delivery
    from tracker.notifications.channels import SmtpSender

    opened: list[object] = []

    class CountingSender(SmtpSender):
        def __enter__(self) -> SmtpSender:
            opened.append(self)
            return super().__enter__()

    monkeypatch.setattr(delivery, "SmtpSender", CountingSender)
    return opened


def _queue_mails(session: Session, world: World, count: int, start: int = 0) -> None:
    at = timeutil.now()
    user = world.users["head_jk"]
    for i in range(start, start + count):
        n = Notification(user_id=user.id, kind=NotificationKind.DIGEST, title=f"提醒{i}", dedupe_key=f"k{i}",
                         created_at=at)
        n.deliveries.append(NotificationDelivery(channel=Channel.EMAIL, next_attempt_at=at))
        session.add(n)
    session.commit()


def test_every_due_mail_goes_out_in_one_run_each_batch_over_four_connections(
        session: Session, world: World, smtp_server: SmtpServer, connections: list[object]) -> None:
    """No cap per run: the province's digest mails all go out within the minute they were composed, each
    once."""
    from tracker.notifications.channels import CONNECTIONS, Channels
    from tracker.notifications.delivery import BATCH, deliver_pending

    _queue_mails(session, world, BATCH + 20)  # more than one batch
    assert deliver_pending(session, Channels(smtp_url=smtp_server.url), timeutil.now()) == {
        "sent": BATCH + 20, "retry": 0, "failed": 0}
    assert CONNECTIONS == 4 and len(connections) == 2 * 4 and len(smtp_server.received) == BATCH + 20
    assert sorted(m["Subject"] for _, _, m in smtp_server.received) == sorted(f"提醒{i}" for i in range(BATCH + 20))


def test_a_run_sends_what_is_queued_while_it_sends(
        session: Session, world: World, smtp_server: SmtpServer, connections: list[object],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.notifications import delivery
    from tracker.notifications.channels import Channels

    _queue_mails(session, world, 3)
    send_batch = delivery._send_batch
    batches = []

    def then_queue_more(*args: object) -> object:
        batches.append(len(args[1]))  # type: ignore[arg-type]
        counts = send_batch(*args)  # type: ignore[arg-type]
        if len(batches) == 1:
            _queue_mails(session, world, 2, start=3)  # (a request composing, between two batches)
        return counts

    monkeypatch.setattr(delivery, "_send_batch", then_queue_more)
    assert delivery.deliver_pending(session, Channels(smtp_url=smtp_server.url + "&connections=1"), batch=3) == {
        "sent": 5, "retry": 0, "failed": 0}
    assert batches == [3, 2] and len(connections) == 2 and len(smtp_server.received) == 5


def test_no_batch_starts_after_the_time_budget(
        session: Session, world: World, smtp_server: SmtpServer, connections: list[object]) -> None:
    """The rest wait for the next run, untouched: no attempt counted, still due."""
    from tracker.notifications.channels import Channels
    from tracker.notifications.delivery import deliver_pending

    _queue_mails(session, world, 7)
    channels = Channels(smtp_url=smtp_server.url + "&connections=1")
    assert deliver_pending(session, channels, batch=3, budget=timedelta(0)) == {"sent": 3, "retry": 0, "failed": 0}
    session.commit()  # (the job's commit)
    waiting = [d for d in _deliveries(session) if d.state == DeliveryState.PENDING]
    assert len(waiting) == 4 and {d.attempts for d in waiting} == {0} and len(connections) == 1
    assert deliver_pending(session, channels, batch=3, limit=2) == {"sent": 2, "retry": 0, "failed": 0}
    session.commit()
    assert deliver_pending(session, channels, batch=3) == {"sent": 2, "retry": 0, "failed": 0}
    assert len(smtp_server.received) == 7 and len(connections) == 3


def test_a_batch_is_dealt_out_over_the_urls_connections_and_a_lost_one_leaves_only_its_mails_for_later(
        session: Session, world: World, smtp_server: SmtpServer, connections: list[object],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.notifications import delivery
    from tracker.notifications.channels import Channels

    _queue_mails(session, world, 7)
    url = smtp_server.url + "&connections=3"
    assert delivery.deliver_pending(session, Channels(smtp_url=url)) == {"sent": 7, "retry": 0, "failed": 0}
    assert len(connections) == 3 and sorted(m["Subject"] for _, _, m in smtp_server.received) == sorted(
        f"提醒{i}" for i in range(7))

    _queue_mails(session, world, 6, start=7)
    send = delivery.SmtpSender.send

    def the_second_connection_drops(self: object, to: str, subject: str, body: str) -> None:
        if self in connections[4:5]:  # (the second connection opened for this run)
            raise DeliveryError("邮件服务器断开连接：测试", unreachable=True)
        send(self, to, subject, body)  # type: ignore[arg-type]

    monkeypatch.setattr(delivery.SmtpSender, "send", the_second_connection_drops)
    assert delivery.deliver_pending(session, Channels(smtp_url=url)) == {"sent": 4, "retry": 2, "failed": 0}
    session.commit()
    waiting = [d for d in _deliveries(session) if d.state == DeliveryState.PENDING]
    assert len(waiting) == 2 and {d.attempts for d in waiting} == {1}
    assert {d.last_error for d in waiting} == {"邮件服务器断开连接：测试"}


def test_the_smtp_urls_connections_are_a_small_number() -> None:
    from tracker.notifications.channels import SmtpSettings

    assert SmtpSettings.parse("smtp://mail.example.org").connections == 4
    assert SmtpSettings.parse("smtp://mail.example.org/?connections=8").connections == 8
    for wrong in ("0", "21", "x", "-1"):
        with pytest.raises(DeliveryError, match="connections"):
            SmtpSettings.parse(f"smtp://mail.example.org/?connections={wrong}")


def test_deliveries_run_every_minute() -> None:
    from tracker.scheduler import JOBS

    assert JOBS["deliveries"].every_minutes == 1


def test_outbound_copies_carry_whole_links_when_the_address_is_known() -> None:
    from tracker.notifications.delivery import outbound_body
    from tracker.notifications.models import Notification as N

    message = N(title="约谈：浙卫督〔2026〕3号", body="约谈通知书：/supervision/3/steps/9.docx", link="/supervision/3")
    assert outbound_body(message, None) == "约谈通知书：/supervision/3/steps/9.docx"
    assert outbound_body(message, "https://duban.example.gov.cn/") == (
        "约谈通知书：https://duban.example.gov.cn/supervision/3/steps/9.docx\n"
        "查看：https://duban.example.gov.cn/supervision/3")
