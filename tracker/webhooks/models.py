"""Outbound webhooks: the endpoints an administrator registers and one delivery per (endpoint, event)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import DUPLICATE, Base, enum_type
from ..notifications.models import DeliveryState

if TYPE_CHECKING:
    from ..notifications.models import Event
    from ..regions.models import Region

__all__ = ["WebhookDelivery", "WebhookEndpoint"]


class WebhookEndpoint(Base):
    """推送地址: a receiver of events (the outbox, ``events``) of the kinds it takes, optionally only those of
    one region and the regions below it.

    The secret signs every request (HMAC-SHA256); it is kept in full because signing needs it, and shown in
    full only when it is made. The endpoint takes the events whose id is above ``since_event_id`` (the newest
    event when it was registered or switched back on); ``scanned_event_id`` is how far the queueing job has
    looked, so each run reads only the new events (and the last minutes', for transactions that committed late).
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        UniqueConstraint("name", info={DUPLICATE: "已有同名的推送地址，请换一个名称。"}),
        CheckConstraint("scanned_event_id >= since_event_id", name="scanned_after_since"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    url: Mapped[str] = mapped_column(String(500))
    event_kinds: Mapped[list[Any]] = mapped_column(default=list)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"))
    is_active: Mapped[bool] = mapped_column(default=True)
    secret: Mapped[str] = mapped_column(String(100))
    secret_hint: Mapped[str] = mapped_column(String(20))
    since_event_id: Mapped[int] = mapped_column(default=0)
    scanned_event_id: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version_id: Mapped[int] = mapped_column(default=1)

    region: Mapped[Region | None] = relationship()
    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="endpoint", cascade="all, delete-orphan", passive_deletes=True)

    __mapper_args__ = {"version_id_col": version_id}

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(Base):
    """One event for one endpoint: sent once it is answered with a 2xx, else retried with a growing delay and
    given up after the last attempt. The last request (body and headers) and answer are kept for the log."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name="sent_has_time"),
        Index("ix_webhook_deliveries_state", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    state: Mapped[DeliveryState] = mapped_column(
        enum_type(DeliveryState, "webhook_delivery_state"), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    attempted_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    request_headers: Mapped[dict[str, Any] | None]
    request_body: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="deliveries")
    event: Mapped[Event] = relationship()
