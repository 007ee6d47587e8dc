"""Outbound deliveries: sending the queued e-mail, robot and 浙政钉 copies of notifications.

A run sends what is due in batches of 500 until nothing is due or its time budget is spent: each batch's mail
over a few SMTP connections at once (``connections`` in the SMTP URL, default 4), the robots as many as their
rate allows, 浙政钉 as many per user as its daily allowance allows. The day's 2,400 digest mails of a province
leave within seconds of being composed. A failure
is recorded on the delivery and retried with a growing delay, and never reaches the job or the request that
composed the message.

Rate limits are read from the database, not kept in memory (several processes may send): a robot takes 20
messages a minute, so a run sends what the last minute's SENT deliveries of that channel leave room for; 浙政钉
takes 100 messages a user a day. What does not fit waits — it stays pending with a later ``next_attempt_at``
and no attempt counted: a queue, not a failure.

The administrator's list of deliveries (``/admin/deliveries``) and its 重新发送 live here too.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from .. import audit, timeutil
from ..auth.models import User
from ..db import LabeledEnum
from ..errors import InvalidTransition, NotFound
from .channels import (
    Channels,
    DeliveryError,
    SmtpSender,
    SmtpSettings,
    ZzdClient,
    dingtalk_url,
    post_webhook,
    webhook_payload,
    wecom_payload,
)
from .models import Channel, DeliveryState, Notification, NotificationDelivery

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
ROBOT_RATE = 20  # messages a minute per robot (DingTalk and WeCom); DingTalk blocks an abuser for 10 minutes
RATE_WINDOW = timedelta(minutes=1)
ZZD_DAILY_PER_USER = 100  # 浙政钉 work notifications one app may send one user a day
ROBOTS = (Channel.DINGTALK, Channel.WECOM)
BATCH = 500  # due deliveries one batch takes: one query; its mail over the SMTP URL's connections (4)
BUDGET = timedelta(seconds=40)  # no new batch after this: the job runs every minute

Row = tuple[NotificationDelivery, Notification, User]


def record_failure(delivery: Any, error: str, at: datetime, *, final: bool = False,
                   delays: tuple[timedelta, ...] = RETRY_DELAYS) -> None:
    """An attempt failed: retried after the next of ``delays``, or given up after the last (or at once when
    ``final``). For every outbound delivery: a notification's copy and a webhook's post alike."""
    delivery.attempts += 1
    delivery.last_error = error[:2000]
    if final or delivery.attempts > len(delays):
        delivery.state = DeliveryState.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = at + delays[delivery.attempts - 1]
    channel = getattr(delivery, "channel", None)
    log.warning("delivery %s (%s) attempt %s failed: %s", delivery.id, channel.value if channel else "webhook",
                delivery.attempts, error)


def record_sent(delivery: Any, at: datetime) -> None:
    delivery.attempts += 1
    delivery.state = DeliveryState.SENT
    delivery.sent_at = at
    delivery.next_attempt_at = None
    delivery.last_error = None


def _wait(delivery: NotificationDelivery, until: datetime) -> None:
    """Over a rate limit: the delivery keeps its place in the queue; no attempt is counted."""
    delivery.next_attempt_at = until


def deliver_pending(session: Session, channels: Channels, at: datetime | None = None, limit: int | None = None,
                    *, batch: int = BATCH, budget: timedelta = BUDGET) -> dict[str, int]:
    """Send the deliveries that are due, ``batch`` at a time (each batch's mail over one SMTP connection), until
    none is due, ``limit`` have been looked at, or ``budget`` is spent (no batch starts after it: the rest go
    out on the next run). Failures are recorded on the delivery and retried later.

    Each batch asks again what is due at that moment, so messages queued while a run sends go out in the same
    run. Returns how many were sent, will be retried and were given up; ``waiting`` (only when some were) counts
    those held back by a rate limit.
    """
    deadline = time.monotonic() + budget.total_seconds()
    counts: Counter[str] = Counter()
    seen: set[int] = set()
    while limit is None or counts.total() < limit:
        now = at or timeutil.now()
        size = batch if limit is None else min(batch, limit - counts.total())
        due = _due(session, now, size)
        rows = [row for row in due if row[0].id not in seen]  # (a channel no sender knows leaves its rows due)
        if not rows:
            break
        seen.update(d.id for d, _, _ in rows)
        counts.update(_send_batch(session, rows, channels, now))
        if len(due) < size or time.monotonic() >= deadline:
            break
    result = {key: counts[key] for key in ("sent", "retry", "failed")}
    if counts["waiting"]:
        result["waiting"] = counts["waiting"]
    return result


def _due(session: Session, at: datetime, size: int) -> list[Row]:
    """The first ``size`` deliveries due at ``at``, oldest due first, with their message and recipient."""
    stmt = (
        select(NotificationDelivery, Notification, User)
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .join(User, User.id == Notification.user_id)
        .where(NotificationDelivery.state == DeliveryState.PENDING, NotificationDelivery.next_attempt_at <= at)
        .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
        .limit(size)
    )
    return [(d, n, u) for d, n, u in session.execute(stmt)]


def _send_batch(session: Session, rows: list[Row], channels: Channels, at: datetime) -> Counter[str]:
    """Send one batch by its channels, within their rate limits; what each delivery came to, counted."""
    by_channel: dict[Channel, list[Row]] = defaultdict(list)
    for row in rows:
        by_channel[row[0].channel].append(row)
    waiting = 0
    _send_emails(by_channel[Channel.EMAIL], channels, at)
    for robot in ROBOTS:
        allowed, held = _robot_allowance(session, robot, by_channel[robot], at)
        waiting += held
        _send_robot(robot, allowed, channels, at)
    allowed, held = _zzd_allowance(session, by_channel[Channel.ZZD], at)
    waiting += held
    _send_zzd(allowed, channels, at)
    session.flush()  # the next batch's rate limits count these sends

    sent = sum(1 for d, _, _ in rows if d.state == DeliveryState.SENT)
    failed = sum(1 for d, _, _ in rows if d.state == DeliveryState.FAILED)
    return Counter(sent=sent, retry=len(rows) - sent - failed - waiting, failed=failed, waiting=waiting)


# --- rate limits --------------------------------------------------------------------------------------


def _robot_allowance(session: Session, channel: Channel, rows: list[Row], at: datetime) -> tuple[list[Row], int]:
    """The rows a robot may take now (20 a minute, counting what was sent in the last minute); the rest wait
    a minute."""
    if not rows:
        return rows, 0
    recent = session.scalar(
        select(func.count()).select_from(NotificationDelivery)
        .where(NotificationDelivery.channel == channel, NotificationDelivery.state == DeliveryState.SENT,
               NotificationDelivery.sent_at > at - RATE_WINDOW, NotificationDelivery.sent_at <= at)
    ) or 0
    room = max(ROBOT_RATE - recent, 0)
    for delivery, _, _ in rows[room:]:
        _wait(delivery, at + RATE_WINDOW)
    return rows[:room], len(rows[room:])


def _zzd_allowance(session: Session, rows: list[Row], at: datetime) -> tuple[list[Row], int]:
    """The rows 浙政钉 may take today (100 a user a local day, counting what was sent today); the rest wait for
    the next day."""
    if not rows:
        return rows, 0
    start, end = timeutil.local_day_bounds(timeutil.to_local(at).date())
    user_ids = {user.id for _, _, user in rows}
    sent_today = dict(session.execute(
        select(Notification.user_id, func.count())
        .join(NotificationDelivery, NotificationDelivery.notification_id == Notification.id)
        .where(NotificationDelivery.channel == Channel.ZZD, NotificationDelivery.state == DeliveryState.SENT,
               NotificationDelivery.sent_at >= start, NotificationDelivery.sent_at < end,
               Notification.user_id.in_(user_ids))
        .group_by(Notification.user_id)
    ).tuples().all())
    allowed, held = [], 0
    for row in rows:
        user_id = row[2].id
        if sent_today.get(user_id, 0) < ZZD_DAILY_PER_USER:
            sent_today[user_id] = sent_today.get(user_id, 0) + 1  # this run's sends count against today too
            allowed.append(row)
        else:
            _wait(row[0], end)
            held += 1
    return allowed, held


# --- senders ------------------------------------------------------------------------------------------


def _send_emails(rows: list[Row], channels: Channels, at: datetime) -> None:
    """A batch's mail, dealt out over the SMTP URL's ``connections`` (each mail waits for four replies of the
    server; over several connections those waits overlap). Each outcome is recorded here, in this thread."""
    if not rows:
        return
    if not channels.smtp_url:
        for delivery, _, _ in rows:
            record_failure(delivery, "未配置邮件服务器（TRACKER_SMTP_URL）", at)
        return
    try:
        connections = SmtpSettings.parse(channels.smtp_url).connections
    except DeliveryError as exc:
        for delivery, _, _ in rows:
            record_failure(delivery, str(exc), at)
        return
    mails: list[tuple[int, str, str, str] | None] = [
        (i, user.email, notification.title, _email_body(notification, user, channels.public_url)) if user.email
        else None for i, (_, notification, user) in enumerate(rows)]
    for (delivery, _, _), mail in zip(rows, mails, strict=True):
        if mail is None:
            record_failure(delivery, "用户未填写电子邮箱", at)
    to_send = [mail for mail in mails if mail is not None]
    shares = [share for share in (to_send[k::connections] for k in range(connections)) if share]
    if len(shares) == 1:
        outcomes = [_send_over_one_connection(channels.smtp_url, shares[0])]
    else:
        with ThreadPoolExecutor(len(shares), thread_name_prefix="smtp") as pool:
            outcomes = list(pool.map(partial(_send_over_one_connection, channels.smtp_url), shares))
    for outcome in outcomes:
        for i, error in outcome:
            if error is None:
                record_sent(rows[i][0], at)
            else:
                record_failure(rows[i][0], error, at)


def _send_over_one_connection(url: str, mails: list[tuple[int, str, str, str]]) -> list[tuple[int, str | None]]:
    """Send ``mails`` (row, address, subject, text) over one connection; each row's error, or None when sent.
    When the server goes away the rest of them wait for the retry with its error."""
    outcome: list[tuple[int, str | None]] = []
    try:
        with SmtpSender(url) as sender:
            for i, to, subject, text in mails:
                try:
                    sender.send(to, subject, text)
                except DeliveryError as exc:
                    outcome.append((i, str(exc)))
                    if exc.unreachable:
                        raise
                else:
                    outcome.append((i, None))
    except DeliveryError as exc:
        done = {i for i, _ in outcome}
        outcome += [(i, str(exc)) for i, *_ in mails if i not in done]
    return outcome


PATH_IN_TEXT = re.compile(r"(?<=：)(/[^\s，。；]+)")


def outbound_body(notification: Notification, public_url: str | None) -> str | None:
    """The message's text as it leaves the system: with the system's address (TRACKER_PUBLIC_URL) its links
    become whole URLs a phone can open, and the page it is about is named at the end."""
    body = notification.body
    if not public_url:
        return body
    base = public_url.rstrip("/")
    body = PATH_IN_TEXT.sub(lambda m: base + m.group(1), body) if body else body
    if notification.link and notification.link.startswith("/"):
        body = (body + "\n" if body else "") + f"查看：{base}{notification.link}"
    return body


def _email_body(notification: Notification, user: User, public_url: str | None = None) -> str:
    parts = [f"{user.name}：", "", notification.title]
    body = outbound_body(notification, public_url)
    if body:
        parts += ["", body]
    parts += ["", "请登录规划执行督查系统查看和办理。", "（本邮件由系统自动发送，请勿回复。）"]
    return "\n".join(parts)


def _robot_sender(channel: Channel, channels: Channels, at: datetime) -> Callable[[Row], None] | None:
    """How one row is posted to the robot, or None when the robot is not configured."""
    if channel == Channel.DINGTALK and channels.dingtalk_url:
        url, secret = channels.dingtalk_url, channels.dingtalk_secret

        def dingtalk(row: Row) -> None:
            _, notification, user = row
            payload = webhook_payload(f"{user.name}：{notification.title}",
                                      outbound_body(notification, channels.public_url), user.phone)
            post_webhook(dingtalk_url(url, secret, at), payload)

        return dingtalk
    if channel == Channel.WECOM and channels.wecom_url:
        wecom_url = channels.wecom_url

        def wecom(row: Row) -> None:
            _, notification, user = row
            payload = wecom_payload(f"{user.name}：{notification.title}",
                                    outbound_body(notification, channels.public_url), user.phone)
            post_webhook(wecom_url, payload, service="企业微信机器人接口")

        return wecom
    return None


NOT_CONFIGURED = {
    Channel.DINGTALK: "未配置钉钉机器人（TRACKER_DINGTALK_URL）",
    Channel.WECOM: "未配置企业微信机器人（TRACKER_WECOM_URL）",
    Channel.ZZD: "未配置浙政钉应用（TRACKER_ZZD_BASE_URL、TRACKER_ZZD_APP_KEY、TRACKER_ZZD_APP_SECRET、TRACKER_ZZD_TENANT_ID）",
}


def _send_robot(channel: Channel, rows: list[Row], channels: Channels, at: datetime) -> None:
    if not rows:
        return
    send = _robot_sender(channel, channels, at)
    if send is None:
        for delivery, _, _ in rows:
            record_failure(delivery, NOT_CONFIGURED[channel], at)
        return
    for i, row in enumerate(rows):
        try:
            send(row)
        except DeliveryError as exc:
            record_failure(row[0], str(exc), at)
            if exc.unreachable:
                for rest, _, _ in rows[i + 1:]:
                    record_failure(rest, str(exc), at)
                return
        else:
            record_sent(row[0], at)


def biz_msg_id(delivery: NotificationDelivery) -> str:
    """The id 浙政钉 de-duplicates on: the same for every attempt of one delivery."""
    return f"tracker-{delivery.id}"


def _send_zzd(rows: list[Row], channels: Channels, at: datetime) -> None:
    if not rows:
        return
    if channels.zzd is None:
        for delivery, _, _ in rows:
            record_failure(delivery, NOT_CONFIGURED[Channel.ZZD], at)
        return
    client = ZzdClient(channels.zzd, at)
    for i, (delivery, notification, user) in enumerate(rows):
        if not user.zzd_account_id:
            record_failure(delivery, "用户未填写浙政钉账号（zzd_account_id），无法发送工作通知", at, final=True)
            continue
        try:
            client.send(user.zzd_account_id, biz_msg_id(delivery), notification.title,
                        outbound_body(notification, channels.public_url))
        except DeliveryError as exc:
            record_failure(delivery, str(exc), at)
            if exc.unreachable:
                for rest, _, _ in rows[i + 1:]:
                    record_failure(rest, str(exc), at)
                return
        else:
            record_sent(delivery, at)


# --- the administrator's list ---------------------------------------------------------------------------


class DeliveryStatus(LabeledEnum):
    """How a delivery reads on the list: a pending delivery that has failed before is being retried."""

    SENT = "sent", "已发送"
    RETRYING = "retrying", "重试中"
    PENDING = "pending", "待发送"
    FAILED = "failed", "发送失败"


def delivery_status(delivery: NotificationDelivery) -> DeliveryStatus:
    if delivery.state == DeliveryState.PENDING:
        return DeliveryStatus.RETRYING if delivery.attempts > 0 else DeliveryStatus.PENDING
    return DeliveryStatus(delivery.state.value)


def status_condition(status: DeliveryStatus, d: Any = NotificationDelivery) -> Any:
    """Where a delivery (of a notification, or of a webhook: ``d``) stands, as a condition."""
    if status == DeliveryStatus.RETRYING:
        return and_(d.state == DeliveryState.PENDING, d.attempts > 0)
    if status == DeliveryStatus.PENDING:
        return and_(d.state == DeliveryState.PENDING, d.attempts == 0)
    return d.state == DeliveryState(status.value)


def delivery_list(status: DeliveryStatus | None = None, channel: Channel | None = None) -> Select[Any]:
    """(delivery, notification, recipient) rows, newest first, for the administrator's list."""
    stmt = (
        select(NotificationDelivery, Notification, User)
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .join(User, User.id == Notification.user_id)
        .order_by(Notification.created_at.desc(), NotificationDelivery.id.desc())
    )
    if status is not None:
        stmt = stmt.where(status_condition(status))
    if channel is not None:
        stmt = stmt.where(NotificationDelivery.channel == channel)
    return stmt


def can_resend(delivery: NotificationDelivery) -> bool:
    return delivery_status(delivery) in (DeliveryStatus.FAILED, DeliveryStatus.RETRYING)


def resend(session: Session, actor: User, delivery_id: int, at: datetime | None = None) -> NotificationDelivery:
    """Queue a failed or retrying delivery to go out on the next run (an administrator's 重新发送)."""
    delivery = session.get(NotificationDelivery, delivery_id)
    if delivery is None:
        raise NotFound("该发送记录不存在。")
    if not can_resend(delivery):
        raise InvalidTransition(f"该发送记录{delivery_status(delivery).label}，无需重新发送。")
    before = delivery_status(delivery)
    delivery.state = DeliveryState.PENDING
    delivery.next_attempt_at = at or timeutil.now()
    audit.record(session, actor, delivery, "resend", {"state": [before.label, DeliveryStatus.PENDING.label]},
                 summary=f"重新发送（{delivery.channel.label}，已尝试 {delivery.attempts} 次）")
    session.flush()
    return delivery
