"""The one place that knows what time it is and which time zone people read.

Every stored instant is aware UTC; calendar deadlines are plain dates in Asia/Shanghai.
Tests freeze the clock with :func:`frozen`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None


def now() -> datetime:
    """The current instant, aware UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def today() -> date:
    """Today's date in Asia/Shanghai."""
    return now().astimezone(LOCAL_TZ).date()


@contextmanager
def frozen(at: datetime | date | str) -> Iterator[datetime]:
    """Freeze the clock; a date or ``YYYY-MM-DD`` means 09:00 local time that day."""
    global _frozen
    if isinstance(at, str):
        at = date.fromisoformat(at)
    if not isinstance(at, datetime):
        at = datetime.combine(at, time(9, 0), LOCAL_TZ)
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    previous, _frozen = _frozen, at.astimezone(UTC)
    try:
        yield _frozen
    finally:
        _frozen = previous


def to_local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a local calendar day starts and ends (half-open)."""
    start = datetime.combine(day, time.min, LOCAL_TZ)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def format_date(value: date | datetime | None) -> str:
    """2025年12月31日 — the way people read a date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def format_datetime(value: datetime | None) -> str:
    """2025年12月31日 14:05 in Asia/Shanghai."""
    if value is None:
        return ""
    local = to_local(value)
    return f"{format_date(local.date())} {local:%H:%M}"
