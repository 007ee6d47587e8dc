"""The one place that knows what time it is and which time zone people read.

Every stored instant is aware UTC; calendar deadlines are plain dates in Asia/Shanghai.
Tests freeze the clock with :func:`frozen`. The demo runs on a demo clock (:func:`start_demo_clock`): a
chosen day inside the plan period that advances in real time from the moment the demo starts, so every
"now" of the pages, the jobs and what users do reads the same day. Production never runs on one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen: datetime | None = None
_offset: timedelta | None = None  # the demo clock: how far it is set from the real one


def now() -> datetime:
    """The current instant, aware UTC."""
    if _frozen is not None:
        return _frozen
    if _offset is not None:
        return datetime.now(UTC) + _offset
    return datetime.now(UTC)


def demo_clock_setting(day: date, started: datetime | None = None) -> str:
    """``TRACKER_DEMO_CLOCK``'s value for a demo clock that read 09:00 of ``day`` at the real instant
    ``started`` (now): ``2025-06-16T09:00:00+08:00@2026-12-07T02:50:00+00:00``. Processes started with it
    (the web server, the scheduler) read the same advancing clock."""
    start = datetime.combine(day, time(9, 0), LOCAL_TZ)
    return f"{start.isoformat()}@{(started or datetime.now(UTC)).isoformat()}"


def start_demo_clock(setting: str | None) -> None:
    """Run this process on the demo clock ``setting`` describes (None: the real clock)."""
    global _offset
    if not setting:
        _offset = None
        return
    try:
        shown, _, real = setting.partition("@")
        demo_start, real_start = datetime.fromisoformat(shown), datetime.fromisoformat(real)
    except ValueError:
        raise ValueError(f"TRACKER_DEMO_CLOCK 应为“演示时刻@真实时刻”（ISO 8601），而不是 {setting!r}") from None
    if demo_start.tzinfo is None or real_start.tzinfo is None:
        raise ValueError("TRACKER_DEMO_CLOCK 的两个时刻都须带时区")
    _offset = demo_start - real_start


def demo_clock_on() -> bool:
    return _offset is not None


def demo_clock_offset() -> timedelta | None:
    """How far the demo clock is set from the real one (None: the real clock)."""
    return _offset


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
