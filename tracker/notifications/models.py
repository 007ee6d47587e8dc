from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, LabeledEnum, enum_type

if TYPE_CHECKING:
    from ..auth.models import User


class NotificationKind(LabeledEnum):
    DIGEST = "digest", "每日提醒"
    REMINDER = "reminder", "到期提醒"
    OVERDUE = "overdue", "逾期提醒"
    REPORT = "report", "填报提醒"
    SUPERVISION = "supervision", "督办"
    REVIEW = "review", "审核"
    ADJUSTMENT = "adjustment", "调整"
    EVALUATION = "evaluation", "评估"
    PROGRESS = "progress", "完成情况"
    SYSTEM = "system", "系统"


class Channel(LabeledEnum):
    """Where a copy of a notification goes besides the inbox."""

    EMAIL = "email", "电子邮件"
    DINGTALK = "dingtalk", "钉钉机器人"
    WECOM = "wecom", "企业微信机器人"
    ZZD = "zzd", "浙政钉工作通知"


class DeliveryMode(LabeledEnum):
    """How a user takes a channel: each message at once, only the daily digest, or nothing."""

    IMMEDIATE = "immediate", "即时发送"
    DIGEST = "digest", "每日汇总"
    OFF = "off", "不接收"


class DeliveryState(LabeledEnum):
    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class Event(Base):
    """事件 (the outbox): one row per change that people hear of, written in the change's transaction.

    Who hears of it follows from its kind (``notifications.recipients.RULES``) and the scope columns
    here; the inbox messages are written from it at once, outbound copies are queued with them.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int]
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="SET NULL"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(index=True)


class NotificationPreference(Base):
    """A user's choice for one channel; without a row the role's default applies."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "preference_channel"), primary_key=True)
    mode: Mapped[DeliveryMode] = mapped_column(enum_type(DeliveryMode, "delivery_mode"))


class Notification(Base):
    """通知: one message in a user's in-app inbox."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_unread", "user_id", "created_at",
              sqlite_where=text("read_at IS NULL"), postgresql_where=text("read_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_type(NotificationKind, "notification_kind"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    deliveries: Mapped[list[NotificationDelivery]] = relationship(
        back_populates="notification", cascade="all, delete-orphan"
    )


class NotificationDelivery(Base):
    """An outbound copy of a notification (e-mail or webhook), retried until sent or given up."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name="sent_has_time"),
        Index("ix_notification_deliveries_state", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "delivery_channel"))
    state: Mapped[DeliveryState] = mapped_column(
        enum_type(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    notification: Mapped[Notification] = relationship(back_populates="deliveries")
