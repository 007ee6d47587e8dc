"""The in-app inbox and the unread count in the header."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.notifications.channels import Channels
from tracker.notifications.models import Notification, NotificationKind
from tracker.notifications.outbox import Message, notify
from tracker.notifications.services import unread_count

from ..alerts.world import World
from ..conftest import login


def _send(session: Session, world: World, n: int = 3, user: str = "head_jk") -> list[int]:
    uid = world.users[user].id
    for i in range(n):
        notify(session, NotificationKind.SYSTEM, f"test:{i}",
               [Message(uid, f"第{i + 1}条通知", f"正文{i + 1}", "/plans" if i == 0 else "https://evil.example/")],
               Channels())
    session.commit()
    return list(session.scalars(select(Notification.id).where(Notification.user_id == uid).order_by(Notification.id)))


def test_notify_is_once_per_user_and_key(session: Session, world: World) -> None:
    uid = world.users["head_jk"].id
    assert notify(session, NotificationKind.SYSTEM, "k", [Message(uid, "一")], Channels()) == 1
    assert notify(session, NotificationKind.SYSTEM, "k", [Message(uid, "一（重复）")], Channels()) == 0
    assert unread_count(session, world.users["head_jk"]) == 1


def test_the_header_shows_the_unread_count(client: FlaskClient, session: Session, world: World) -> None:
    _send(session, world)
    login(client, "head_jk")
    html = client.get("/notifications").get_data(as_text=True)
    assert '<span class="unread" aria-label="未读 3 条">3</span>' in html
    assert "第1条通知" in html and "正文3" in html
    client.post("/logout")
    login(client, "staff_jk")
    html = client.get("/notifications").get_data(as_text=True)
    assert 'class="unread"' not in html and "暂无通知。" in html


def test_mark_read_one_and_all(client: FlaskClient, session: Session, world: World) -> None:
    ids = _send(session, world)
    login(client, "head_jk")
    response = client.post(f"/notifications/{ids[0]}/read", data={"open": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/plans"
    response = client.post(f"/notifications/{ids[1]}/read", data={"open": "1"})
    assert response.headers["Location"] == "/notifications"  # never off-site
    assert '<span class="unread" aria-label="未读 1 条">1</span>' in client.get("/notifications").get_data(as_text=True)
    html = client.get("/notifications?unread=1").get_data(as_text=True)
    assert "第3条通知" in html and "第1条通知" not in html
    client.post("/notifications/read-all")
    session.rollback()
    assert unread_count(session, world.users["head_jk"]) == 0
    read_at = session.get(Notification, ids[2]).read_at
    assert read_at == timeutil.now()


def test_another_users_message_does_not_exist_for_you(client: FlaskClient, session: Session, world: World) -> None:
    ids = _send(session, world)
    login(client, "staff_jk")
    assert client.post(f"/notifications/{ids[0]}/read").status_code == 404
    session.rollback()
    assert session.get(Notification, ids[0]).read_at is None


def test_the_inbox_needs_a_login(client: FlaskClient) -> None:
    assert client.get("/notifications").status_code == 302
