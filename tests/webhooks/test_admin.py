"""The administrator's pages: register an endpoint (its secret shown once), bad addresses refused next to the
field, edits checked against the version the form was loaded at, every change audited; the delivery log with
its filters, each request and answer, and 重新发送."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.audit import AuditEntry
from tracker.notifications.models import DeliveryState
from tracker.scheduler import run_job
from tracker.webhooks.models import WebhookDelivery, WebhookEndpoint

from ..alerts.world import World
from ..conftest import client_for
from .conftest import Receiver, finish, fresh, register

FORM = {"name": "省卫生健康数据平台", "url": "https://data.example.gov.cn/hooks/tracker",
        "event_kinds": ["case.issue", "task.done"], "region_id": "", "is_active": "y"}


def _audit(session: Session, endpoint_id: int) -> list[AuditEntry]:
    fresh(session)
    return list(session.scalars(select(AuditEntry).where(AuditEntry.object_type == "webhook_endpoints",
                                                         AuditEntry.object_id == endpoint_id)
                                .order_by(AuditEntry.id)))


def test_register_shows_the_secret_once(app: Flask, session: Session, world: World) -> None:
    client = client_for(app, "adm")
    form_page = client.get("/admin/webhooks/new").get_data(as_text=True)
    assert 'value="case.issue"' in form_page and 'value="alert.raise"' in form_page  # every kind of the outbox
    response = client.post("/admin/webhooks/new", data=FORM)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    fresh(session)
    endpoint = session.scalars(select(WebhookEndpoint)).one()
    html = response.get_data(as_text=True)
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in html
    assert (endpoint.url, endpoint.event_kinds, endpoint.region_id, endpoint.is_active) == (
        FORM["url"], ["case.issue", "task.done"], None, True)
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert endpoint.secret not in listing and f"{endpoint.secret_hint}…" in listing and "事件推送" in listing
    assert endpoint.secret not in client.get(f"/admin/webhooks/{endpoint.id}/edit").get_data(as_text=True)
    [entry] = _audit(session, endpoint.id)
    assert entry.action == "create" and entry.changes["url"] == [None, FORM["url"]]
    assert entry.changes["secret_hint"] == [None, endpoint.secret_hint]
    assert endpoint.secret not in str(entry.changes)


def test_bad_addresses_are_refused_next_to_the_field(app: Flask, session: Session, world: World) -> None:
    client = client_for(app, "adm")
    for url, message in [("ftp://data.example.gov.cn/in", "须以 http:// 或 https:// 开头"),
                         ("data.example.gov.cn/hooks", "须以 http:// 或 https:// 开头"),
                         ("javascript:alert(1)", "须以 http:// 或 https:// 开头"),
                         ("https://", "缺少有效的主机名"),
                         ("http://data example.gov.cn/", "不能包含空格"),
                         ("http://data.example.gov.cn:99999/", "端口无效"),
                         ("https://" + "a" * 500 + ".cn/", "不能超过500个字符")]:
        response = client.post("/admin/webhooks/new", data={**FORM, "url": url})
        assert response.status_code == 422, url
        html = response.get_data(as_text=True)
        assert re.search(r'class="field-error"[^>]*>推送地址[^<]*' + re.escape(message), html), (url, html[-3000:])
    response = client.post("/admin/webhooks/new", data={**FORM, "event_kinds": []})
    assert response.status_code == 422 and "请至少选择一种事件类型" in response.get_data(as_text=True)
    response = client.post("/admin/webhooks/new", data={**FORM, "event_kinds": ["task.exploded"]})
    assert response.status_code == 422 and "未知的事件类型：task.exploded" in response.get_data(as_text=True)
    response = client.post("/admin/webhooks/new", data={**FORM, "region_id": "999999"})
    assert response.status_code == 422 and "所选区域不存在" in response.get_data(as_text=True)
    fresh(session)
    assert session.scalars(select(WebhookEndpoint)).all() == []
    register(session, world, "https://a.example.org/", ["task.done"], name=FORM["name"])
    response = client.post("/admin/webhooks/new", data=FORM)
    assert response.status_code == 422 and "已有同名的推送地址" in response.get_data(as_text=True)


def test_edit_checks_the_version_and_is_audited(app: Flask, session: Session, world: World) -> None:
    endpoint_id, _ = register(session, world, "https://a.example.org/hook", ["task.done"])
    client = client_for(app, "adm")
    page = client.get(f"/admin/webhooks/{endpoint_id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page or 'value="1"' in page
    data = {**FORM, "region_id": str(world.city.id), "version": "1"}
    response = client.post(f"/admin/webhooks/{endpoint_id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    fresh(session)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    assert (endpoint.name, endpoint.region_id, endpoint.version_id) == (FORM["name"], world.city.id, 2)
    entry = _audit(session, endpoint_id)[-1]
    assert entry.action == "update" and entry.changes["scope_region"] == [None, "温州市"]
    assert entry.changes["url"] == ["https://a.example.org/hook", FORM["url"]]

    # a second save from the page loaded at version 1 is refused with what changed since
    response = client.post(f"/admin/webhooks/{endpoint_id}/edit", data={**data, "name": "另一个名称"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "已被他人修改" in html and "温州市" in html
    fresh(session)
    assert session.get(WebhookEndpoint, endpoint_id).name == FORM["name"]
    for action in ("active", "secret", "delete"):
        response = client.post(f"/admin/webhooks/{endpoint_id}/{action}", data={"version": "1", "active": "0"})
        assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True), action
    fresh(session)
    assert session.get(WebhookEndpoint, endpoint_id).is_active


def test_switch_off_and_on_new_secret_and_delete(app: Flask, session: Session, world: World) -> None:
    endpoint_id, old = register(session, world, "https://a.example.org/hook", ["task.done"])
    client = client_for(app, "adm")
    assert client.post(f"/admin/webhooks/{endpoint_id}/active", data={"version": "1", "active": "0"}).status_code == 302
    fresh(session)
    assert not session.get(WebhookEndpoint, endpoint_id).is_active
    assert client.post(f"/admin/webhooks/{endpoint_id}/active", data={"version": "2", "active": "0"}).status_code == 409
    assert client.post(f"/admin/webhooks/{endpoint_id}/active", data={"version": "2", "active": "1"}).status_code == 302

    response = client.post(f"/admin/webhooks/{endpoint_id}/secret", data={"version": "3"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    fresh(session)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    assert endpoint.secret != old and endpoint.secret in response.get_data(as_text=True)
    assert "旧密钥已失效" in response.get_data(as_text=True)

    assert client.post(f"/admin/webhooks/{endpoint_id}/delete", data={"version": "4"}).status_code == 302
    fresh(session)
    assert session.get(WebhookEndpoint, endpoint_id) is None
    actions = [e.action for e in _audit(session, endpoint_id)]
    assert actions == ["create", "deactivate", "activate", "regenerate_secret", "delete"]
    assert client.post(f"/admin/webhooks/{endpoint_id}/delete", data={"version": "4"}).status_code == 404


def test_the_log_filters_shows_each_request_and_resends(app: Flask, session: Session, world: World,
                                                        receiver: Receiver) -> None:
    endpoint_id, _ = register(session, world, receiver.url, ["task.done", "milestone.done"])
    task = world.task(session, date(2026, 12, 31), title="建设疾控信息平台")
    finish(session, world, task)
    failing = finish(session, world, task, "milestone.done")
    receiver.answers = [(200, '{"ok": true}'), (400, '{"error": "签名无效"}')]
    assert run_job(app, "webhooks").counts["sent"] == 1
    fresh(session)
    bad = session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_id == failing)).one()
    bad.state, bad.next_attempt_at = DeliveryState.FAILED, None  # given up (the schedule is walked elsewhere)
    session.commit()

    client = client_for(app, "adm")
    html = client.get(f"/admin/webhooks/{endpoint_id}/deliveries").get_data(as_text=True)
    assert "已发送" in html and "发送失败" in html and "HTTP 400" in html and "签名无效" in html
    assert "X-Tracker-Signature: t=" in html and "&#34;type&#34;: &#34;task.done&#34;" in html
    assert html.count("重新发送</button>") == 1
    html = client.get(f"/admin/webhooks/{endpoint_id}/deliveries?status=failed").get_data(as_text=True)
    assert 'data-status="failed"' in html and 'data-status="sent"' not in html
    html = client.get(f"/admin/webhooks/{endpoint_id}/deliveries?type=task.done").get_data(as_text=True)
    assert 'data-status="sent"' in html and 'data-status="failed"' not in html
    assert client.get(f"/admin/webhooks/{endpoint_id}/deliveries?status=lost").status_code == 400
    assert client.get(f"/admin/webhooks/{endpoint_id}/deliveries?type=nothing").status_code == 400

    response = client.post(f"/admin/webhooks/deliveries/{bad.id}/resend",
                           data={"next": f"/admin/webhooks/{endpoint_id}/deliveries?status=failed"})
    assert response.status_code == 302 and response.location.endswith("?status=failed")
    assert run_job(app, "webhooks").counts["sent"] == 1
    fresh(session)
    bad = session.get(WebhookDelivery, bad.id)
    assert (bad.state, bad.attempts, bad.response_status) == (DeliveryState.SENT, 2, 200)
    assert [int(r.headers["X-Tracker-Event-Id"]) for r in receiver.received][-1] == failing
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "webhook_deliveries")).one()
    assert (entry.object_id, entry.action, entry.changes) == (bad.id, "resend", {"state": ["发送失败", "待发送"]})
    # a sent one needs nothing
    assert client.post(f"/admin/webhooks/deliveries/{bad.id}/resend").status_code == 409
    assert client.post("/admin/webhooks/deliveries/999999/resend").status_code == 404


def test_posts_need_the_csrf_token(app: Flask, session: Session, world: World) -> None:
    endpoint_id, _ = register(session, world, "https://a.example.org/hook", ["task.done"])
    client = client_for(app, "adm")
    app.config["WTF_CSRF_ENABLED"] = True
    for path in ("/admin/webhooks/new", f"/admin/webhooks/{endpoint_id}/edit", f"/admin/webhooks/{endpoint_id}/active",
                 f"/admin/webhooks/{endpoint_id}/secret", f"/admin/webhooks/{endpoint_id}/delete"):
        response = client.post(path, data={**FORM, "version": "1"})
        assert response.status_code == 400 and "安全令牌" in response.get_data(as_text=True), path
    fresh(session)
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    assert (endpoint.version_id, endpoint.name) == (1, "省数据平台")


def test_only_administrators(app: Flask, session: Session, world: World) -> None:
    endpoint_id, _ = register(session, world, "https://a.example.org/hook", ["task.done"])
    planner = client_for(app, "planner")
    for path in ("/admin/webhooks", "/admin/webhooks/new", f"/admin/webhooks/{endpoint_id}/deliveries"):
        response = planner.get(path)
        assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)
    assert planner.post(f"/admin/webhooks/{endpoint_id}/delete", data={"version": "1"}).status_code == 403
    assert app.test_client().get("/admin/webhooks").status_code == 302
    fresh(session)
    assert session.get(WebhookEndpoint, endpoint_id) is not None
