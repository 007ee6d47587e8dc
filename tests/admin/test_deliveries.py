"""The administrator's list of outbound deliveries: states, why they failed, filters and 重新发送."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.audit import AuditEntry
from tracker.notifications.models import (
    Channel,
    DeliveryState,
    Notification,
    NotificationDelivery,
    NotificationKind,
)

from ..alerts.world import World, build_world
from ..conftest import client_for


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


@pytest.fixture
def deliveries(session: Session, world: World) -> dict[str, int]:
    """One delivery in each state the page shows, keyed by that state."""
    at = timeutil.now()
    rows = {
        "sent": dict(channel=Channel.EMAIL, state=DeliveryState.SENT, attempts=1, sent_at=at - timedelta(hours=1)),
        "retrying": dict(channel=Channel.DINGTALK, attempts=2, last_error="机器人接口返回 HTTP 502",
                         next_attempt_at=at + timedelta(minutes=15)),
        "pending": dict(channel=Channel.WECOM, next_attempt_at=at),
        "failed": dict(channel=Channel.ZZD, state=DeliveryState.FAILED, attempts=1,
                       last_error="用户未填写浙政钉账号（zzd_account_id），无法发送工作通知"),
    }
    ids = {}
    for i, (key, values) in enumerate(rows.items()):
        n = Notification(user_id=world.users["head_jk"].id, kind=NotificationKind.DIGEST, title=f"督查提醒{key}",
                         dedupe_key=f"d{i}", created_at=at - timedelta(minutes=i))
        d = NotificationDelivery(**values)
        n.deliveries.append(d)
        session.add(n)
        session.flush()
        ids[key] = d.id
    session.commit()
    return ids


def test_the_list_shows_each_delivery_and_why_it_failed(app: Flask, deliveries: dict[str, int]) -> None:
    html = client_for(app, "adm").get("/admin/deliveries").get_data(as_text=True)
    for label in ("已发送", "重试中", "待发送", "发送失败", "电子邮件", "钉钉机器人", "企业微信机器人", "浙政钉工作通知"):
        assert label in html
    assert "机器人接口返回 HTTP 502" in html and "浙政钉账号" in html
    assert "督查提醒sent" in html and "head_jk" in html
    assert html.count("重新发送</button>") == 2  # the failed and the retrying one


def test_the_list_filters_by_state_and_channel(app: Flask, deliveries: dict[str, int]) -> None:
    client = client_for(app, "adm")
    html = client.get("/admin/deliveries?status=retrying").get_data(as_text=True)
    assert "督查提醒retrying" in html and "督查提醒pending" not in html and "督查提醒failed" not in html
    html = client.get("/admin/deliveries?status=pending").get_data(as_text=True)
    assert "督查提醒pending" in html and "督查提醒retrying" not in html
    html = client.get("/admin/deliveries?channel=zzd").get_data(as_text=True)
    assert "督查提醒failed" in html and "督查提醒sent" not in html
    html = client.get("/admin/deliveries?status=failed&channel=email").get_data(as_text=True)
    assert "没有符合条件的发送记录" in html
    assert client.get("/admin/deliveries?status=lost").status_code == 400


def test_resend_queues_a_failed_delivery_and_is_audited(app: Flask, session: Session,
                                                        deliveries: dict[str, int]) -> None:
    client = client_for(app, "adm")
    response = client.post(f"/admin/deliveries/{deliveries['failed']}/resend",
                           data={"next": "/admin/deliveries?status=failed"})
    assert response.status_code == 302 and response.location.endswith("/admin/deliveries?status=failed")
    session.expire_all()
    delivery = session.get(NotificationDelivery, deliveries["failed"])
    assert (delivery.state, delivery.next_attempt_at, delivery.attempts) == (
        DeliveryState.PENDING, timeutil.now(), 1)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "notification_deliveries")).one()
    assert (entry.object_id, entry.action, entry.changes) == (delivery.id, "resend", {"state": ["发送失败", "待发送"]})
    # a retrying one may be sent at once too; a sent or a waiting one needs nothing
    assert client.post(f"/admin/deliveries/{deliveries['retrying']}/resend").status_code == 302
    assert client.post(f"/admin/deliveries/{deliveries['sent']}/resend").status_code == 409
    assert client.post(f"/admin/deliveries/{deliveries['pending']}/resend").status_code == 409
    assert client.post("/admin/deliveries/999999/resend").status_code == 404
    assert client.post(f"/admin/deliveries/{deliveries['failed']}/resend",
                       data={"next": "https://evil.example/"}).location.endswith("/admin/deliveries")


def test_only_administrators_see_or_resend(app: Flask, deliveries: dict[str, int]) -> None:
    client = client_for(app, "planner")
    assert client.get("/admin/deliveries").status_code == 403
    assert client.post(f"/admin/deliveries/{deliveries['failed']}/resend").status_code == 403
    assert app.test_client().get("/admin/deliveries").status_code == 302  # to the sign-in page
