"""Append-only audit trail: who changed what, when, before and after."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .db import Base
from .timeutil import now

if TYPE_CHECKING:
    from .auth.models import User


class AuditEntry(Base):
    """One change to one record. Never updated, never deleted."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str | None] = mapped_column(Text)
    # {"field": [before, after], ...}
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)

    actor: Mapped[User | None] = relationship()


class AuditImmutable(Exception):
    pass


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(*_args: Any) -> None:
    raise AuditImmutable("audit entries cannot be changed")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(*_args: Any) -> None:
    raise AuditImmutable("audit entries cannot be deleted")


def plain(value: Any) -> Any:
    """A JSON-friendly form of a column value."""
    if isinstance(value, Enum):
        return getattr(value, "label", value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Base):
        return str(value)
    return value


def snapshot(obj: Base, fields: list[str]) -> dict[str, Any]:
    return {f: plain(getattr(obj, f)) for f in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def record(
    session: Session,
    actor: User | None,
    obj: Base,
    action: str,
    changes: dict[str, list[Any]] | None = None,
    summary: str | None = None,
) -> AuditEntry:
    """Append an audit entry for ``obj`` (which must have been flushed so it has an id)."""
    if inspect(obj).identity is None:
        session.flush()
    entry = AuditEntry(
        at=now(),
        actor_id=actor.id if actor is not None else None,
        object_type=obj.__tablename__,
        object_id=obj.id,  # type: ignore[attr-defined]
        action=action,
        summary=summary,
        changes=changes or {},
    )
    session.add(entry)
    return entry
