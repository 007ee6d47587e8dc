"""The administrator's endpoints and their delivery log: register, edit, switch on and off, delete, make a new
secret, re-send — each audited, each edit checked against the version the form was loaded at."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from .. import audit, timeutil
from ..auth.models import User
from ..errors import DomainError, InvalidTransition, NotFound
from ..notifications.delivery import DeliveryStatus, can_resend, delivery_status, status_condition
from ..notifications.models import DeliveryState, Event
from ..notifications.recipients import RULES
from ..permissions import can_administer, require
from ..regions.models import Region
from ..text import CONTROL_CHARACTERS
from ..versioning import check_version
from .delivery import newest_event_id
from .models import WebhookDelivery, WebhookEndpoint

SECRET_PREFIX = "whsec_"
HINT_LENGTH = 12  # the characters of a secret shown after it was made ("whsec_" and 6 more)
URL_LENGTH = 500
ADMINS_ONLY = "只有系统管理员可以管理事件推送。"
# What the audit trail keeps of an endpoint (never the secret itself: its first characters)
ENDPOINT_FIELDS = ["name", "url", "event_kinds", "scope_region", "is_active", "secret_hint", "version_id"]


def event_kinds() -> list[tuple[str, str]]:
    """The kinds an endpoint may take (every kind the outbox records, tracker.notifications.recipients.RULES),
    with the label of the notifications they belong to, in RULES' order."""
    return [(kind, getattr(rule, "label", None) or rule.kind.label) for kind, rule in RULES.items()]


def endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name, WebhookEndpoint.id)))


def delivery_counts(session: Session) -> dict[int, dict[DeliveryStatus, int]]:
    """Per endpoint, how many of its deliveries are in each status (for the list)."""
    d = WebhookDelivery
    status = _status_expression()
    counts: dict[int, dict[DeliveryStatus, int]] = {}
    for endpoint_id, value, n in session.execute(select(d.endpoint_id, status, func.count())
                                                 .group_by(d.endpoint_id, status)):
        counts.setdefault(endpoint_id, {})[DeliveryStatus(value)] = n
    return counts


def _status_expression() -> Any:
    d = WebhookDelivery
    return case((and_(d.state == DeliveryState.PENDING, d.attempts > 0), DeliveryStatus.RETRYING.value),
                else_=d.state)


def delivery_list(endpoint: WebhookEndpoint, status: DeliveryStatus | None = None,
                  kind: str | None = None) -> Select[Any]:
    """(delivery, event) rows of one endpoint, the newest first."""
    stmt = (select(WebhookDelivery, Event).join(Event, Event.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc()))
    if status is not None:
        stmt = stmt.where(status_condition(status, WebhookDelivery))
    if kind is not None:
        stmt = stmt.where(Event.kind == kind)
    return stmt


# --- endpoints ------------------------------------------------------------------------------------------


@dataclass
class EndpointInput:
    name: str
    url: str
    event_kinds: list[str]
    region_id: int | None
    is_active: bool = True


def clean_url(url: str | None) -> str:
    """An http(s) address with a host, or a DomainError on the URL field."""
    url = (url or "").strip()
    if not url:
        raise DomainError("请填写推送地址。", field="url")
    if len(url) > URL_LENGTH:
        raise DomainError(f"推送地址不能超过{URL_LENGTH}个字符。", field="url")
    if any(c.isspace() for c in url) or CONTROL_CHARACTERS.search(url):
        raise DomainError("推送地址不能包含空格或控制字符。", field="url")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise DomainError("推送地址须以 http:// 或 https:// 开头。", field="url")
    try:
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise DomainError("推送地址的端口无效。", field="url") from None
    if not host or host.startswith(".") or host.endswith("..") or ".." in host:
        raise DomainError("推送地址缺少有效的主机名，例如 https://data.example.gov.cn/hooks/tracker。",
                          field="url") from None
    if port == 0:
        raise DomainError("推送地址的端口无效。", field="url")
    return url


def _validate(session: Session, data: EndpointInput, endpoint: WebhookEndpoint | None = None) -> EndpointInput:
    name = (data.name or "").strip()
    if not name:
        raise DomainError("请填写名称。", field="name")
    if len(name) > 60:
        raise DomainError("名称不能超过60个字。", field="name")
    same = select(WebhookEndpoint.id).where(WebhookEndpoint.name == name)
    if endpoint is not None:
        same = same.where(WebhookEndpoint.id != endpoint.id)
    if session.scalar(same) is not None:
        raise DomainError("已有同名的推送地址，请换一个名称。", field="name")
    url = clean_url(data.url)
    unknown = [k for k in data.event_kinds if k not in RULES]
    if unknown:
        raise DomainError("未知的事件类型：" + "、".join(unknown), field="event_kinds")
    if not data.event_kinds:
        raise DomainError("请至少选择一种事件类型。", field="event_kinds")
    if data.region_id is not None and session.get(Region, data.region_id) is None:
        raise DomainError("所选区域不存在。", field="region_id")
    kinds = [k for k in RULES if k in set(data.event_kinds)]  # RULES' order, no repeats
    return EndpointInput(name, url, kinds, data.region_id, data.is_active)


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"name": endpoint.name, "url": endpoint.url, "event_kinds": list(endpoint.event_kinds or []),
            "scope_region": endpoint.region.name if endpoint.region is not None else None,
            "is_active": endpoint.is_active, "secret_hint": endpoint.secret_hint,
            "version_id": endpoint.version_id}


def _new_secret(endpoint: WebhookEndpoint) -> str:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint.secret = secret
    endpoint.secret_hint = secret[:HINT_LENGTH]
    return secret


def _start_from_now(session: Session, endpoint: WebhookEndpoint) -> None:
    """The endpoint takes the events from now on (not those before it was registered or while it was off)."""
    top = newest_event_id(session)
    endpoint.since_event_id = endpoint.scanned_event_id = top


def create_endpoint(session: Session, actor: User, data: EndpointInput) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its secret (shown to the administrator once)."""
    require(can_administer(actor), ADMINS_ONLY)
    data = _validate(session, data)
    at = timeutil.now()
    endpoint = WebhookEndpoint(name=data.name, url=data.url, event_kinds=data.event_kinds, region_id=data.region_id,
                               is_active=data.is_active, created_by_id=actor.id, created_at=at, updated_at=at)
    secret = _new_secret(endpoint)
    _start_from_now(session, endpoint)
    session.add(endpoint)
    session.flush()
    session.refresh(endpoint, ["region"])
    changes = {k: [None, v] for k, v in _snapshot(endpoint).items() if v not in (None, [], "")}
    audit.record(session, actor, endpoint, "create", changes, f"新建推送地址“{endpoint.name}”")
    return endpoint, secret


def update_endpoint(session: Session, actor: User, endpoint: WebhookEndpoint, data: EndpointInput,
                    version: int | None) -> None:
    require(can_administer(actor), ADMINS_ONLY)
    check_version(session, endpoint, version)
    data = _validate(session, data, endpoint)
    before = _snapshot(endpoint)
    if data.is_active and not endpoint.is_active:
        _start_from_now(session, endpoint)
    endpoint.name, endpoint.url, endpoint.event_kinds = data.name, data.url, data.event_kinds
    endpoint.region_id, endpoint.is_active = data.region_id, data.is_active
    endpoint.updated_at = timeutil.now()
    session.flush()
    session.refresh(endpoint, ["region"])
    audit.record(session, actor, endpoint, "update", audit.diff(before, _snapshot(endpoint)),
                 f"修改推送地址“{endpoint.name}”")


def set_active(session: Session, actor: User, endpoint: WebhookEndpoint, active: bool,
               version: int | None) -> None:
    """启用 / 停用. Switched back on, it takes the events from then on; its queued deliveries wait while it is off."""
    require(can_administer(actor), ADMINS_ONLY)
    check_version(session, endpoint, version)
    if endpoint.is_active == active:
        raise InvalidTransition(f"该推送地址已{'启用' if active else '停用'}。")
    before = _snapshot(endpoint)
    if active:
        _start_from_now(session, endpoint)
    endpoint.is_active = active
    endpoint.updated_at = timeutil.now()
    session.flush()
    audit.record(session, actor, endpoint, "activate" if active else "deactivate",
                 audit.diff(before, _snapshot(endpoint)), f"{'启用' if active else '停用'}推送地址“{endpoint.name}”")


def regenerate_secret(session: Session, actor: User, endpoint: WebhookEndpoint, version: int | None) -> str:
    """重新生成密钥: the old secret stops signing at once; returns the new one (shown once)."""
    require(can_administer(actor), ADMINS_ONLY)
    check_version(session, endpoint, version)
    before = _snapshot(endpoint)
    secret = _new_secret(endpoint)
    endpoint.updated_at = timeutil.now()
    session.flush()
    audit.record(session, actor, endpoint, "regenerate_secret", audit.diff(before, _snapshot(endpoint)),
                 f"重新生成推送地址“{endpoint.name}”的密钥")
    return secret


def delete_endpoint(session: Session, actor: User, endpoint: WebhookEndpoint, version: int | None) -> None:
    """Delete an endpoint with its delivery log (the audit trail keeps what it was)."""
    require(can_administer(actor), ADMINS_ONLY)
    check_version(session, endpoint, version)
    changes = {k: [v, None] for k, v in _snapshot(endpoint).items() if v not in (None, [], "")}
    audit.record(session, actor, endpoint, "delete", changes, f"删除推送地址“{endpoint.name}”")
    session.delete(endpoint)
    session.flush()


# --- deliveries -----------------------------------------------------------------------------------------


def resend(session: Session, actor: User, delivery_id: int, at: datetime | None = None) -> WebhookDelivery:
    """重新发送: a failed (or retrying) delivery goes out on the next run."""
    require(can_administer(actor), ADMINS_ONLY)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("该推送记录不存在。")
    if not can_resend(delivery):  # type: ignore[arg-type]
        raise InvalidTransition(f"该推送记录{delivery_status(delivery).label}，无需重新发送。")  # type: ignore[arg-type]
    before = delivery_status(delivery)  # type: ignore[arg-type]
    delivery.state = DeliveryState.PENDING
    delivery.next_attempt_at = at or timeutil.now()
    audit.record(session, actor, delivery, "resend", {"state": [before.label, DeliveryStatus.PENDING.label]},
                 summary=f"重新推送事件 {delivery.event_id}（已尝试 {delivery.attempts} 次）")
    session.flush()
    return delivery
