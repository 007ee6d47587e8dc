"""Every webhooks route × every role of the demo, GET and POST: only the administrator gets in; everyone else
signed in gets the Chinese 403 page, a visitor the sign-in page; a POST refused changes nothing."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.notifications.models import DeliveryState
from tracker.notifications.outbox import emit
from tracker.tasks.models import Task
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint
from tracker.webhooks.services import EndpointInput, create_endpoint

from ..indicators.routes import ROLES, Route, check, clients, endpoints, only

ADMIN = only("admin")
MISSING = {**only(), "admin": 404}
ROUTES = [
    Route("webhooks.endpoints", "/admin/webhooks", ADMIN),
    Route("webhooks.new", "/admin/webhooks/new", ADMIN),
    Route("webhooks.edit", "/admin/webhooks/{endpoint}/edit", ADMIN),
    Route("webhooks.edit", "/admin/webhooks/999999/edit", MISSING),
    Route("webhooks.deliveries", "/admin/webhooks/{endpoint}/deliveries", ADMIN),
    Route("webhooks.deliveries", "/admin/webhooks/{endpoint}/deliveries?status=failed&type=task.done", ADMIN),
    Route("webhooks.deliveries", "/admin/webhooks/999999/deliveries", MISSING),
    Route("webhooks.toggle", "/admin/webhooks/{endpoint}/active", {}, default=405),
    Route("webhooks.secret", "/admin/webhooks/{endpoint}/secret", {}, default=405),
    Route("webhooks.delete", "/admin/webhooks/{endpoint}/delete", {}, default=405),
    Route("webhooks.resend", "/admin/webhooks/deliveries/{failed}/resend", {}, default=405),
]


def _world(demo: Flask, session: Session) -> dict[str, int]:
    """An endpoint of the demo's administrator with a sent and a failed delivery."""
    admin = session.scalars(select(User).where(User.username == "admin")).one()
    endpoint, _ = create_endpoint(session, admin, EndpointInput("省数据平台", "https://data.example.gov.cn/hook",
                                                                ["task.done"], None))
    task = session.scalars(select(Task).order_by(Task.id)).first()
    ids = {"endpoint": endpoint.id}
    for key, state in (("sent", DeliveryState.SENT), ("failed", DeliveryState.FAILED)):
        event = emit(session, "task.done", task, actor=admin, title="任务已完成", department_id=task.lead_department_id,
                     plan_id=task.plan_id)
        delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, state=state, attempts=1,
                                   created_at=event.created_at,
                                   sent_at=event.created_at if state == DeliveryState.SENT else None,
                                   last_error=None if state == DeliveryState.SENT else "接收方返回 HTTP 500")
        session.add(delivery)
        session.flush()
        ids[key] = delivery.id
    session.commit()
    return ids


def test_every_get_and_role(demo: Flask, session: Session) -> None:
    ids = _world(demo, session)
    assert check(demo, ROUTES, ids) == []
    assert endpoints(demo, "webhooks.") == {r.endpoint for r in ROUTES}


def _version(session: Session, endpoint_id: int) -> str:
    session.rollback()
    session.expire_all()
    return str(session.get(WebhookEndpoint, endpoint_id).version_id)


def test_every_post_and_role(demo: Flask, session: Session) -> None:
    ids = _world(demo, session)
    e, version = ids["endpoint"], _version(session, ids["endpoint"])
    posts = [  # (path, data, the administrator's answer), in the order the administrator sends them
        ("/admin/webhooks/new", {}, 422),
        (f"/admin/webhooks/{e}/edit", {"version": version}, 422),
        ("/admin/webhooks/999999/edit", {}, 404),
        (f"/admin/webhooks/{e}/active", {"version": version, "active": "0"}, 302),
        (f"/admin/webhooks/{e}/secret", {"version": "+1"}, 200),
        ("/admin/webhooks/999999/secret", {"version": "1"}, 404),
        (f"/admin/webhooks/deliveries/{ids['failed']}/resend", {}, 302),
        (f"/admin/webhooks/deliveries/{ids['sent']}/resend", {}, 409),
        ("/admin/webhooks/deliveries/999999/resend", {}, 404),
        ("/admin/webhooks/999999/active", {"version": "1", "active": "1"}, 404),
        ("/admin/webhooks/999999/delete", {"version": "1"}, 404),
        (f"/admin/webhooks/{e}/delete", {"version": "+1"}, 302),
    ]
    assert {p.split("/")[-1] for p, _, _ in posts} >= {"new", "edit", "active", "secret", "resend", "delete"}
    by_role = clients(demo)
    wrong = []
    for role in ROLES:
        if role == "admin":
            continue
        for path, data, _ in posts:
            response = by_role[role].post(path, data={**data, "version": version})
            expected = 302 if role == "anon" else 403
            if response.status_code != expected:
                wrong.append(f"POST {path} as {role}: {response.status_code}, expected {expected}")
            if role == "anon":
                assert "/login" in response.headers["Location"]
            else:
                assert "无权访问" in response.get_data(as_text=True)
    assert wrong == []
    assert _version(session, e) == version  # nobody else changed a thing
    assert session.get(WebhookDelivery, ids["failed"]).state == DeliveryState.FAILED

    for path, data, expected in posts:
        if data.get("version") == "+1":
            data = {**data, "version": _version(session, e)}
        response = by_role["admin"].post(path, data=data)
        if response.status_code != expected:
            wrong.append(f"POST {path} as admin: {response.status_code}, expected {expected}")
    assert wrong == []
    session.rollback()
    session.expire_all()
    assert session.get(WebhookEndpoint, e) is None
