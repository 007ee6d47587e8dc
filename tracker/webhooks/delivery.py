"""Sending events to the registered endpoints: queued set-based, signed, posted, retried.

Each minute the ``webhooks`` job (tracker.scheduler) first queues one delivery per (endpoint, event) for the new
events an active endpoint takes (its kinds, its region and the regions below) — one INSERT … SELECT per endpoint,
ON CONFLICT DO NOTHING on (endpoint, event), so nothing is queued twice however often it runs — and then posts the
deliveries that are due.

A request is JSON with the headers ``X-Tracker-Event`` (the kind), ``X-Tracker-Delivery``, ``X-Tracker-Event-Id``
(for the receiver to de-duplicate on) and ``X-Tracker-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed with the endpoint's secret>``. A 2xx answer is success; any other answer, a redirect, a
timeout or a refused connection is a failed attempt, retried after 1 minute, 5 minutes, 30 minutes, 2 hours and 12
hours, then given up. The states and how a delivery reads on a list are the notification deliveries'
(``DeliveryState``, ``delivery_status``, ``can_resend`` of tracker.notifications); ``record_sent`` and
``record_failure`` are their ``_sent`` and ``_failed`` with the webhooks' own schedule (to become one helper
taking the schedule).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.orm import Session

from .. import timeutil
from ..notifications.channels import TIMEOUT
from ..notifications.delivery import record_failure, record_sent
from ..notifications.models import DeliveryState, Event
from ..notifications.outbox import insert_ignoring_duplicates
from ..permissions import region_ids_below
from ..planning.models import Plan
from ..regions.models import Department, Region
from .models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=12))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def schedule_text() -> str:
    """The retry delays as people read them: 1 分钟、5 分钟、30 分钟、2 小时、12 小时."""
    return "、".join(f"{int(d.total_seconds() // 3600)} 小时" if d >= timedelta(hours=1)
                    else f"{int(d.total_seconds() // 60)} 分钟" for d in RETRY_DELAYS)


# Events are looked at again for this long after the queue first passed them: a change whose transaction
# committed after a later one (its event id is lower) is still delivered.
GRACE = timedelta(minutes=10)
BATCH = 200  # deliveries one run posts at most; the rest are due on the next run
BUDGET = 50.0  # seconds of posting one run spends at most (it runs every minute); the rest wait, uncounted
EXCERPT = 2000  # characters of an answer kept
USER_AGENT = "tracker-webhooks/1"

events_t = Event.__table__
deliveries_t = WebhookDelivery.__table__
endpoints_t = WebhookEndpoint.__table__


def event_region_id(e: Any = events_t) -> Any:
    """The region an event belongs to, in SQL: its department's, else its plan's, else its issuing office's
    (the order the leaders' audience reads them in, tracker.notifications.recipients)."""
    return func.coalesce(
        select(Department.region_id).where(Department.id == e.c.department_id).scalar_subquery(),
        select(Plan.region_id).where(Plan.id == e.c.plan_id).scalar_subquery(),
        select(Department.region_id).where(Department.id == e.c.office_id).scalar_subquery(),
    )


def newest_event_id(session: Session) -> int:
    return session.scalar(select(func.max(Event.id))) or 0


# --- queueing -----------------------------------------------------------------------------------------


def queue(session: Session, at: datetime) -> int:
    """One pending delivery per active endpoint and new event it takes; returns how many were queued."""
    endpoints = list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.is_active.is_(True))
                                     .order_by(WebhookEndpoint.id)))
    if not endpoints:
        return 0
    top = newest_event_id(session)
    e = events_t
    queued = 0
    for endpoint in endpoints:
        if endpoint.event_kinds:
            conditions = [e.c.id > endpoint.since_event_id, e.c.id <= top, e.c.kind.in_(endpoint.event_kinds),
                          or_(e.c.id > endpoint.scanned_event_id, e.c.created_at > at - GRACE)]
            if endpoint.region_id is not None:
                conditions.append(event_region_id().in_(sorted(region_ids_below(session, endpoint.region_id))))
            rows = select(literal(endpoint.id), e.c.id, literal(DeliveryState.PENDING.value), literal(0),
                          literal(at, deliveries_t.c.next_attempt_at.type),
                          literal(at, deliveries_t.c.created_at.type)).where(*conditions)
            statement = insert_ignoring_duplicates(session, deliveries_t, ["endpoint_id", "event_id"]).from_select(
                ["endpoint_id", "event_id", "state", "attempts", "next_attempt_at", "created_at"], rows)
            queued += session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount
        # a plain UPDATE: how far the queue has read is not an edit (the record's version stays)
        session.execute(update(endpoints_t).where(endpoints_t.c.id == endpoint.id,
                                                  endpoints_t.c.scanned_event_id < top)
                        .values(scanned_event_id=top))
    return queued


# --- the request ----------------------------------------------------------------------------------------


def payload(event: Event, region: Region | None, public_url: str | None) -> dict[str, Any]:
    link = event.link
    if link and public_url and link.startswith("/"):
        link = public_url.rstrip("/") + link
    return {
        "id": event.id,
        "type": event.kind,
        "occurred_at": timeutil.to_local(event.created_at).isoformat(timespec="seconds"),
        "title": event.title,
        "region": {"code": region.code, "name": region.name} if region is not None else None,
        "subject": {"type": event.subject_type, "id": event.subject_id, "url": link},
        "data": event.data or {},
    }


def body_of(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret (the value of ``v1=``)."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def headers_for(endpoint: WebhookEndpoint, delivery: WebhookDelivery, event: Event, body: bytes,
                at: datetime) -> dict[str, str]:
    timestamp = int(at.timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Tracker-Event": event.kind,
        "X-Tracker-Delivery": str(delivery.id),
        "X-Tracker-Event-Id": str(event.id),
        "X-Tracker-Signature": f"t={timestamp},v1={signature(endpoint.secret, timestamp, body)}",
    }


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: str | None
    error: str | None = None  # None: a 2xx
    unreachable: bool = False  # no answer at all (refused, timed out): the endpoint's other deliveries wait


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not followed: a POST must not turn into a GET to somewhere else."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_KeepRedirects)


def _excerpt(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")[:EXCERPT]


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT) -> Answer:
    # an address typed with Chinese in its path is sent percent-encoded (HTTP's request line is ASCII)
    url = urllib.parse.quote(url, safe=":/?#[]@!$&'()*+,;=%~")
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _opener.open(request, timeout=timeout) as response:  # noqa: S310 (an administrator's URL)
            return Answer(response.status, _excerpt(response.read(EXCERPT * 4)))
    except urllib.error.HTTPError as exc:
        try:
            raw = exc.read(EXCERPT * 4)
        except (OSError, http.client.HTTPException):
            raw = b""
        finally:
            exc.close()
        return Answer(exc.code, _excerpt(raw), f"接收方返回 HTTP {exc.code}")
    except TimeoutError:
        return Answer(None, None, f"接收方未在 {timeout:g} 秒内应答", unreachable=True)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return Answer(None, None, f"接收方未在 {timeout:g} 秒内应答", unreachable=True)
        return Answer(None, None, f"无法连接接收方：{exc.reason}", unreachable=True)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Answer(None, None, f"无法连接接收方：{exc}", unreachable=True)


# --- the attempts -----------------------------------------------------------------------------------------


def due(session: Session, at: datetime, limit: int) -> list[tuple[WebhookDelivery, WebhookEndpoint, Event,
                                                                   Region | None]]:
    stmt = (
        select(WebhookDelivery, WebhookEndpoint, Event, Region)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .outerjoin(Region, Region.id == event_region_id())
        .where(WebhookDelivery.state == DeliveryState.PENDING, WebhookDelivery.next_attempt_at <= at,
               WebhookEndpoint.is_active.is_(True))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    return [(d, ep, ev, r) for d, ep, ev, r in session.execute(stmt)]


def send_due(session: Session, public_url: str | None, at: datetime, limit: int = BATCH,
             budget: float = BUDGET) -> dict[str, int]:
    """Post the deliveries that are due. An endpoint that does not answer at all fails the rest of its batch
    with the same error (each is retried on its own schedule) rather than holding the run for each; slow
    answers stop the run after ``budget`` seconds, and what is left is due on the next run as it was."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    silent: dict[int, str] = {}
    stop = time.monotonic() + budget
    for delivery, endpoint, event, region in due(session, at, limit):
        if time.monotonic() > stop:
            break
        if endpoint.id in silent:
            delivery.attempted_at = at
            record_failure(delivery, silent[endpoint.id], at, delays=RETRY_DELAYS)
        else:
            body = body_of(payload(event, region, public_url))
            headers = headers_for(endpoint, delivery, event, body, at)
            answer = post(endpoint.url, body, headers)
            delivery.request_body = body.decode("utf-8")
            delivery.request_headers = headers
            delivery.attempted_at = at
            delivery.response_status = answer.status
            delivery.response_body = answer.body
            if answer.error is None:
                record_sent(delivery, at)
            else:
                record_failure(delivery, answer.error, at, delays=RETRY_DELAYS)
                if answer.unreachable:
                    silent[endpoint.id] = answer.error
        counts[{DeliveryState.SENT: "sent", DeliveryState.FAILED: "failed"}.get(delivery.state, "retry")] += 1
    session.flush()
    return counts


def run(session: Session, public_url: str | None, at: datetime | None = None) -> dict[str, int]:
    """The scheduler's job: queue what is new, then send what is due."""
    at = at or timeutil.now()
    queued = queue(session, at)
    return {"queued": queued, **send_due(session, public_url, at)}
