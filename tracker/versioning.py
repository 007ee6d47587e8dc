"""Optimistic locking for every edited record: a form carries the record's ``version_id``; a save made from
another version is refused with what others changed since (read from the audit trail, in Chinese)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .errors import StaleObject
from .timeutil import format_datetime


def changes_since(session: Session, obj: Any, version: int) -> list[str]:
    """Human-readable lines for the changes others saved after ``version`` (from the audit trail)."""
    lines = []
    for entry in audit.history(session, (obj.__tablename__, obj.id), limit=20):
        v = entry.changes.get("version_id")
        if v is None or v[1] is None or int(v[1]) <= version:
            continue
        fields = "；".join(
            f"{audit.label_of(k, entry.object_type)}：{audit.display_value(b, k)} → {audit.display_value(a, k)}"
            for k, (b, a) in entry.changes.items() if k != "version_id")
        who = entry.actor.name if entry.actor else "系统"
        lines.append(f"{who} 于 {format_datetime(entry.at)} {entry.summary or entry.action}：{fields}")
    return list(reversed(lines))


STALE_MESSAGE = "保存失败：此记录在您打开页面后已被他人修改，您的修改没有保存。请查看最新内容后重新填写。"


def check_version(session: Session, obj: Any, version: int | None, message: str = STALE_MESSAGE, *,
                  list_changes: bool = True) -> None:
    """Refuse a save from a form loaded at another version than the record's.

    The row is locked first (FOR UPDATE; SQLite's writers queue anyway): of two saves made from the same
    version at once, the second waits for the first to commit and is then refused here with what
    changed, rather than failing later at the UPDATE's own version check with nothing to show.
    """
    model = type(obj)
    current = session.scalar(select(model.version_id).where(model.id == obj.id).with_for_update())
    if version is None or version != current:
        session.refresh(obj)  # loaded before the row was ours: the page shows the record as it is now
        lines = changes_since(session, obj, version or 0) if list_changes else []
        detail = ("\n" + "\n".join(lines)) if lines else ""
        raise StaleObject(message + detail)
