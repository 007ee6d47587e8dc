"""Outbound deliveries: sending the queued e-mail and robot copies of notifications.

Each configured channel sends its due deliveries in one batch (one SMTP connection for all the mails);
a failure is recorded on the delivery and retried with a growing delay, and never reaches the job or
the request that composed the message.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import timeutil
from ..auth.models import User
from .channels import Channels, DeliveryError, SmtpSender, post_webhook, webhook_payload
from .models import Channel, DeliveryState, Notification, NotificationDelivery

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DELIVERY_BATCH = 500



def _failed(delivery: NotificationDelivery, error: str, at: datetime) -> None:
    delivery.attempts += 1
    delivery.last_error = error[:2000]
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = DeliveryState.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = at + RETRY_DELAYS[delivery.attempts - 1]
    log.warning("delivery %s (%s) attempt %s failed: %s", delivery.id, delivery.channel.value, delivery.attempts,
                error)


def _sent(delivery: NotificationDelivery, at: datetime) -> None:
    delivery.attempts += 1
    delivery.state = DeliveryState.SENT
    delivery.sent_at = at
    delivery.next_attempt_at = None


def deliver_pending(session: Session, channels: Channels, at: datetime | None = None,
                    limit: int = DELIVERY_BATCH) -> dict[str, int]:
    """Send the deliveries that are due; failures are recorded on the delivery and retried later."""
    at = at or timeutil.now()
    rows = session.execute(
        select(NotificationDelivery, Notification, User)
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .join(User, User.id == Notification.user_id)
        .where(NotificationDelivery.state == DeliveryState.PENDING, NotificationDelivery.next_attempt_at <= at)
        .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
        .limit(limit)
    ).all()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    emails = [r for r in rows if r[0].channel == Channel.EMAIL]
    hooks = [r for r in rows if r[0].channel == Channel.DINGTALK]
    _send_emails(emails, channels, at)
    _send_webhooks(hooks, channels, at)
    for delivery, _, _ in rows:
        if delivery.state == DeliveryState.SENT:
            counts["sent"] += 1
        elif delivery.state == DeliveryState.FAILED:
            counts["failed"] += 1
        else:
            counts["retry"] += 1
    session.flush()
    return counts


def _send_emails(rows: list[Any], channels: Channels, at: datetime) -> None:
    if not rows:
        return
    if not channels.smtp_url:
        for delivery, _, _ in rows:
            _failed(delivery, "未配置邮件服务器（TRACKER_SMTP_URL）", at)
        return
    done: set[int] = set()
    try:
        with SmtpSender(channels.smtp_url) as sender:
            for i, (delivery, notification, user) in enumerate(rows):
                done.add(i)
                if not user.email:
                    _failed(delivery, "用户未填写电子邮箱", at)
                    continue
                try:
                    sender.send(user.email, notification.title, _email_body(notification, user))
                except DeliveryError as exc:
                    _failed(delivery, str(exc), at)
                    if exc.unreachable:  # the server went away: the rest of the batch waits for the retry
                        raise
                else:
                    _sent(delivery, at)
    except DeliveryError as exc:
        for i, (delivery, _, _) in enumerate(rows):
            if i not in done:
                _failed(delivery, str(exc), at)


def _email_body(notification: Notification, user: User) -> str:
    parts = [f"{user.name}：", "", notification.title]
    if notification.body:
        parts += ["", notification.body]
    parts += ["", "请登录规划执行督查系统查看和办理。", "（本邮件由系统自动发送，请勿回复。）"]
    return "\n".join(parts)


def _send_webhooks(rows: list[Any], channels: Channels, at: datetime) -> None:
    if not rows:
        return
    if not channels.webhook_url:
        for delivery, _, _ in rows:
            _failed(delivery, "未配置机器人接口（TRACKER_WEBHOOK_URL）", at)
        return
    for i, (delivery, notification, user) in enumerate(rows):
        payload = webhook_payload(f"{user.name}：{notification.title}", notification.body, user.phone)
        try:
            post_webhook(channels.webhook_url, payload)
        except DeliveryError as exc:
            _failed(delivery, str(exc), at)
            if exc.unreachable:
                for rest, _, _ in rows[i + 1:]:
                    _failed(rest, str(exc), at)
                return
        else:
            _sent(delivery, at)
