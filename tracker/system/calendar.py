"""Working days (工作日): Monday to Friday, minus statutory holidays, plus make-up working days (调休上班).

The calendar lives in the calendar_days / calendar_years tables, which an admin edits and which are seeded
from chinese-calendar for the years that library knows. A year with no data counts Monday to Friday as
working days; callers ask `missing_years` / `consulted_missing` to warn about it. (The clock itself is
`tracker.timeutil`.)
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import CalendarDay, CalendarYear, DayKind

HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}

_CALENDAR_KEY = "tracker.work_calendar"


class WorkCalendar:
    """The working-day calendar of the years it knows, with weekdays as the rule for the rest."""

    __slots__ = ("holidays", "workdays", "known_years", "consulted_missing")

    def __init__(self, holidays: set[date] | frozenset[date] = frozenset(),
                 workdays: set[date] | frozenset[date] = frozenset(),
                 known_years: set[int] | frozenset[int] = frozenset()) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.known_years = frozenset(known_years)
        # Years without data that a computation had to fall back on (for warnings).
        self.consulted_missing: set[int] = set()

    def is_working_day(self, day: date) -> bool:
        if day.year not in self.known_years:
            self.consulted_missing.add(day.year)
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (before it when n is negative); ``day`` itself for 0."""
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        current = day
        while remaining:
            current += step
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative (counting [end, start)) when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=i)))

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, otherwise the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def missing_years(self, years: range | list[int] | set[int]) -> list[int]:
        return sorted(y for y in years if y not in self.known_years)


def work_calendar(session: Session) -> WorkCalendar:
    """The calendar from the database, loaded once per session (edits call :func:`forget_calendar`)."""
    cached = session.info.get(_CALENDAR_KEY)
    if cached is not None:
        return cached
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, kind in session.execute(select(CalendarDay.day, CalendarDay.kind)):
        (workdays if kind == DayKind.WORKDAY else holidays).add(day)
    years = set(session.scalars(select(CalendarYear.year)))
    calendar = WorkCalendar(holidays, workdays, years)
    session.info[_CALENDAR_KEY] = calendar
    return calendar


def forget_calendar(session: Session) -> None:
    session.info.pop(_CALENDAR_KEY, None)


def is_working_day(session: Session, day: date) -> bool:
    return work_calendar(session).is_working_day(day)


def add_working_days(session: Session, day: date, n: int) -> date:
    return work_calendar(session).add_working_days(day, n)


def working_days_between(session: Session, start: date, end: date) -> int:
    return work_calendar(session).working_days_between(start, end)


def next_working_day(session: Session, day: date) -> date:
    return work_calendar(session).next_working_day(day)


def chinese_calendar_year(year: int) -> list[tuple[date, str, str]] | None:
    """The statutory holidays and make-up working days chinese-calendar knows for ``year``
    as (day, "holiday" | "workday", Chinese name), or None when the library has no data for it."""
    import chinese_calendar

    try:
        chinese_calendar.is_holiday(date(year, 1, 1))
    except NotImplementedError:
        return None
    days = [(d, "holiday", HOLIDAY_NAMES.get(name, name)) for d, name in chinese_calendar.holidays.items()
            if d.year == year]
    days += [(d, "workday", HOLIDAY_NAMES.get(name, name)) for d, name in chinese_calendar.workdays.items()
             if d.year == year]
    return sorted(days)
