"""Writing what people hear of, in the transaction of the change: events, inbox messages, queued copies.

``emit`` records an event (the outbox row) and puts its message in the inbox of everyone the recipient
table names, in the same transaction as the change it reports: if the change rolls back, so does every
message about it, and the inbox shows it within the request that made it. Outbound copies (e-mail,
robots, 浙政钉) are queued here as deliveries for each channel a recipient takes at once; the daily digest
carries the rest. Nothing is sent twice: one message per user and ``dedupe_key``, one delivery per
message and channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from .. import timeutil
from ..auth.models import Role, User
from .channels import Channels
from .models import (
    Channel,
    DeliveryMode,
    DeliveryState,
    Event,
    Notification,
    NotificationDelivery,
    NotificationKind,
    NotificationPreference,
)
from .recipients import RULES, recipients

notifications_t = Notification.__table__
deliveries_t = NotificationDelivery.__table__
users_t = User.__table__
preferences_t = NotificationPreference.__table__

# Without a choice of their own: those who act on a message at once hear of it at once; those who oversee
# read the daily digest.
DEFAULT_MODES: dict[Role, DeliveryMode] = {
    Role.DEPT_HEAD: DeliveryMode.IMMEDIATE,
    Role.DEPT_STAFF: DeliveryMode.IMMEDIATE,
    Role.SUPERVISOR: DeliveryMode.IMMEDIATE,
    Role.PLANNER: DeliveryMode.DIGEST,
    Role.EVALUATOR: DeliveryMode.DIGEST,
    Role.LEADER: DeliveryMode.DIGEST,
    Role.ADMIN: DeliveryMode.DIGEST,
}


@dataclass
class Message:
    user_id: int
    title: str
    body: str | None = None
    link: str | None = None


def insert_ignoring_duplicates(session: Session, table: Any, index_elements: list[str]) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing(index_elements=index_elements)


def _count(session: Session, statement: Any) -> int:
    """Execute an INSERT/UPDATE and return how many rows it changed."""
    return session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount


def link_to(endpoint: str, **values: Any) -> str | None:
    """A link path for a message (jobs run without a request)."""
    from flask import current_app, has_app_context

    if not has_app_context() or endpoint not in current_app.view_functions:
        return None
    return current_app.url_map.bind("localhost").build(endpoint, values)


def current_channels() -> Channels:
    from flask import current_app, has_app_context

    return Channels.from_config(current_app.config) if has_app_context() else Channels()


# ---------------------------------------------------------------------------------------------------
# Preferences
# ---------------------------------------------------------------------------------------------------


def default_mode(role: Role) -> DeliveryMode:
    return DEFAULT_MODES.get(role, DeliveryMode.DIGEST)


def _mode_expression(channel: Channel) -> Any:
    """A user's mode for ``channel`` in SQL: their own choice, else their role's default."""
    p, u = preferences_t, users_t
    chosen = (select(p.c.mode).where(p.c.user_id == u.c.id, p.c.channel == channel.value)
              .scalar_subquery())
    default = case(*((u.c.role == role.value, mode.value) for role, mode in DEFAULT_MODES.items()),
                   else_=DeliveryMode.DIGEST.value)
    return func.coalesce(chosen, default)


ADDRESSED = {
    Channel.EMAIL: lambda u: and_(u.c.email.is_not(None), u.c.email != ""),
    Channel.ZZD: lambda u: and_(u.c.zzd_account_id.is_not(None), u.c.zzd_account_id != ""),
}


# ---------------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------------


def notify(session: Session, kind: NotificationKind, dedupe_key: str, messages: list[Message],
           channels: Channels, at: datetime | None = None) -> int:
    """Put messages in inboxes (once per user and ``dedupe_key``: a job run twice adds nothing) and queue their
    outbound copies. Returns how many messages were new."""
    if not messages:
        return 0
    at = at or timeutil.now()
    key_filter = and_(notifications_t.c.dedupe_key == dedupe_key,
                      notifications_t.c.user_id.in_({m.user_id for m in messages}))
    before = session.scalar(select(func.count()).select_from(notifications_t).where(key_filter)) or 0
    session.execute(insert_ignoring_duplicates(session, notifications_t, ["user_id", "dedupe_key"]),
                    _rows(kind, dedupe_key, messages, at, None))
    after = session.scalar(select(func.count()).select_from(notifications_t).where(key_filter)) or 0
    queue_deliveries(session, channels, at, dedupe_key=dedupe_key)
    return after - before


def _rows(kind: NotificationKind, dedupe_key: str, messages: list[Message], at: datetime,
          event_id: int | None) -> list[dict[str, Any]]:
    return [{"user_id": m.user_id, "kind": kind.value, "title": m.title[:200], "body": m.body,
             "link": (m.link or None) and m.link[:300], "dedupe_key": dedupe_key, "event_id": event_id,
             "created_at": at} for m in messages]


def queue_deliveries(session: Session, channels: Channels, at: datetime, *, dedupe_key: str | None = None,
                     event_id: int | None = None) -> int:
    """One pending delivery per configured channel for the messages of ``event_id`` (or ``dedupe_key``) whose
    user takes that channel: a message about an event goes out to those who take the channel at once, a daily
    message (digest, reminder) to everyone who has not turned the channel off (one INSERT … SELECT)."""
    configured = tuple(channels.configured())
    if not configured:
        return 0
    statement = _queue_statement(configured, event_id is not None)
    params = {"which": event_id if event_id is not None else dedupe_key, "at": at}
    return session.execute(statement, params, execution_options={"preserve_rowcount": True}).rowcount


@lru_cache(maxsize=32)
def _queue_statement(channels: tuple[Channel, ...], by_event: bool) -> Any:
    """Built once per set of channels: a request pays only for running it. A plain INSERT … SELECT (its compiled
    form is cached, unlike the dialects' ON CONFLICT): the NOT EXISTS guard keeps it from queueing twice."""
    n, u, d = notifications_t, users_t, deliveries_t
    which = (n.c.event_id if by_event else n.c.dedupe_key) == bindparam("which")
    at = bindparam("at", type_=d.c.next_attempt_at.type)
    selects = []
    for channel in channels:
        mode = _mode_expression(channel)
        wanted = case((n.c.event_id.is_(None), mode != DeliveryMode.OFF.value),
                      else_=mode == DeliveryMode.IMMEDIATE.value)
        addressed = ADDRESSED.get(channel, lambda _u: literal(True))(u)
        selects.append(
            select(n.c.id, literal(channel.value), literal(DeliveryState.PENDING.value), literal(0), at)
            .select_from(n.join(u, u.c.id == n.c.user_id))
            .where(which, wanted, addressed,
                   ~exists().where(d.c.notification_id == n.c.id, d.c.channel == channel.value)))
    return insert(d).from_select(["notification_id", "channel", "state", "attempts", "next_attempt_at"],
                                 selects[0] if len(selects) == 1 else union_all(*selects))


# ---------------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------------


def emit(session: Session, kind: str, subject: Any, *, actor: User | None, title: str, body: str | None = None,
         link: str | None = None, department_id: int | None = None, office_id: int | None = None,
         plan_id: int | None = None, person_id: int | None = None, data: dict[str, Any] | None = None,
         channels: Channels | None = None) -> Event:
    """Record that ``kind`` happened to ``subject`` (a saved row) and tell everyone ``RULES[kind]`` names.

    Call it inside the change's transaction, after the change is flushed."""
    rule = RULES[kind]
    at = timeutil.now()
    event = Event(kind=kind, actor_id=actor.id if actor else None, subject_type=subject.__tablename__,
                  subject_id=subject.id, department_id=department_id, office_id=office_id, plan_id=plan_id,
                  person_id=person_id, title=title[:200], body=body, link=link and link[:300], data=data or {},
                  created_at=at)
    session.add(event)
    session.flush()
    if rule.inbox:
        messages = [Message(user_id, event.title, body, link) for user_id in recipients(session, event)]
        if messages:  # a new event's messages are new: a plain INSERT
            session.execute(insert(notifications_t), _rows(rule.kind, f"event:{event.id}", messages, at, event.id))
            queue_deliveries(session, channels or current_channels(), at, event_id=event.id)
    return event
