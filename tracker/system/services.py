"""System settings, the working-day calendar and the lock that keeps scheduled jobs from overlapping.

Settings are rows of ``settings`` (JSON values); a key without a row has its default from
:data:`SETTINGS`. The calendar tables are read through :mod:`tracker.timeutil`; this module writes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, false, select, text, update
from sqlalchemy.orm import Session

from .. import audit
from ..auth.models import User
from ..errors import DomainError
from ..permissions import can_administer, require
from ..tasks.models import ReportPeriod
from ..timeutil import now
from .calendar import chinese_calendar_year, forget_calendar, work_calendar
from .models import CalendarDay, CalendarYear, DayKind, JobRun, JobStatus, Setting

# ---------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingSpec:
    """One setting; its label is the audit table's (tracker.audit.FIELD_LABELS), so the settings page and the
    history of a change name it alike."""

    key: str
    default: Any
    kind: type
    lo: int | None = None
    hi: int | None = None
    choices: tuple[tuple[str, str], ...] | None = None
    hint: str = ""
    group: str = ""

    @property
    def label(self) -> str:
        return audit.label_of(self.key)


SETTING_GROUPS = {"alerts": "预警规则", "reports": "填报提醒"}

SETTINGS: dict[str, SettingSpec] = {
    s.key: s
    for s in [
        SettingSpec("alerts.due_soon_working_days", 5, int, 0, 30,
                    hint="截止日期前 N 个工作日内（含截止当日）列为临期；0 表示不发临期预警。", group="alerts"),
        SettingSpec("alerts.severe_after_days", 30, int, 1, 3650,
                    hint="超过截止日期 M 个自然日仍未完成，列为严重逾期。", group="alerts"),
        SettingSpec("alerts.holiday_rolls_forward", False, bool,
                    hint="勾选后，截止日期落在节假日或周末的，顺延至下一个工作日再判定逾期。", group="alerts"),
        SettingSpec("alerts.pace_enabled", False, bool,
                    hint="按任务起止时间计算应完成进度，与填报进度相差超过阈值时预警。", group="alerts"),
        SettingSpec("alerts.pace_threshold", 30, int, 5, 100,
                    hint="时间进度减去实际进度超过该值时列为进度滞后。", group="alerts"),
        SettingSpec("reports.period", ReportPeriod.QUARTER.value, str,
                    choices=tuple(ReportPeriod.choices()), hint="按此周期提醒责任单位填报进展。", group="reports"),
        SettingSpec("reports.remind_working_days", 3, int, 0, 30,
                    hint="填报期末前 N 个工作日起开始提醒。", group="reports"),
        SettingSpec("reports.due_working_days", 5, int, 0, 30,
                    hint="每期进展须在期末后第 N 个工作日前提交，此后不再提醒该期。", group="reports"),
    ]
}


def all_settings(session: Session) -> dict[str, Any]:
    """Every setting's current value (stored or default), from one query."""
    stored = {k: v for k, v in session.execute(select(Setting.key, Setting.value)) if k in SETTINGS}
    return {key: stored.get(key, spec.default) for key, spec in SETTINGS.items()}


def get_setting(session: Session, key: str) -> Any:
    spec = SETTINGS[key]
    value = session.scalar(select(Setting.value).where(Setting.key == key))
    return spec.default if value is None else value


def clean_setting(spec: SettingSpec, raw: Any) -> Any:
    """A setting value checked against its spec; a bad one raises DomainError naming the field."""
    field = spec.key.replace(".", "__")
    if spec.kind is bool:
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in {"1", "true", "on", "yes", "y"}
    if spec.kind is int:
        try:
            value = int(str(raw).strip())
        except (TypeError, ValueError):
            raise DomainError(f"“{spec.label}”须为整数。", field=field) from None
        if (spec.lo is not None and value < spec.lo) or (spec.hi is not None and value > spec.hi):
            raise DomainError(f"“{spec.label}”须在 {spec.lo} 到 {spec.hi} 之间。", field=field)
        return value
    value = str(raw or "").strip()
    if spec.choices is not None and value not in {v for v, _ in spec.choices}:
        raise DomainError(f"“{spec.label}”的取值无效。", field=field)
    return value


def update_settings(session: Session, actor: User, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Change some settings; returns {key: [before, after]} of what changed (and audits it)."""
    require(can_administer(actor), "只有系统管理员可以修改系统设置。")
    current = all_settings(session)
    changes: dict[str, list[Any]] = {}
    for key, raw in values.items():
        spec = SETTINGS.get(key)
        if spec is None:
            raise DomainError(f"未知的设置项：{key}")
        value = clean_setting(spec, raw)
        if value == current[key]:
            continue
        row = session.get(Setting, key)
        if row is None:
            row = Setting(key=key)
            session.add(row)
        row.value = value
        row.updated_at = now()
        row.updated_by_id = actor.id
        changes[key] = [current[key], value]
    if changes:
        audit.record(session, actor, ("settings", 0), "update", changes,
                     "修改系统设置：" + "、".join(SETTINGS[k].label for k in changes))
        session.flush()
    return changes



# ---------------------------------------------------------------------------------------------------
# The holiday calendar
# ---------------------------------------------------------------------------------------------------

SOURCE_LIBRARY = "chinese-calendar"
SOURCE_MANUAL = "manual"
SOURCE_LABELS = {SOURCE_LIBRARY: "chinese-calendar 载入", SOURCE_MANUAL: "手工录入"}


def _day_key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def missing_year_warning(year: int) -> str:
    return (f"{year}年节假日数据缺失（chinese-calendar 暂无该年数据），工作日暂按周一至周五计算；"
            f"请系统管理员在“节假日日历”中录入{year}年的法定节假日和调休上班日。")


def load_library_year(session: Session, actor: User | None, year: int) -> int:
    """Replace ``year`` in the calendar with chinese-calendar's data; returns the number of days loaded."""
    if actor is not None:
        require(can_administer(actor), "只有系统管理员可以维护节假日日历。")
    days = chinese_calendar_year(year)
    if days is None:
        raise DomainError(f"chinese-calendar 没有{year}年的数据，请手工录入该年的节假日和调休上班日。", field="year")
    session.execute(delete(CalendarDay).where(CalendarDay.day >= date(year, 1, 1),
                                              CalendarDay.day <= date(year, 12, 31)))
    for day, kind, name in days:
        session.add(CalendarDay(day=day, kind=DayKind(kind), name=name))
    row = session.get(CalendarYear, year)
    if row is None:
        session.add(CalendarYear(year=year, source=SOURCE_LIBRARY, loaded_at=now()))
    else:
        row.source, row.loaded_at = SOURCE_LIBRARY, now()
    audit.record(session, actor, ("calendar_years", year), "load", {"source": [None, SOURCE_LIBRARY]},
                 f"从 chinese-calendar 载入{year}年节假日（{len(days)}天）")
    session.flush()
    forget_calendar(session)
    return len(days)


def ensure_calendar_years(session: Session, years: Iterable[int]) -> list[str]:
    """Seed every year not yet in the calendar from chinese-calendar; warn about years nobody knows."""
    known = set(session.scalars(select(CalendarYear.year)))
    warnings = []
    for year in sorted(set(years) - known):
        if chinese_calendar_year(year) is None:
            warnings.append(missing_year_warning(year))
        else:
            load_library_year(session, None, year)
    return warnings


@dataclass
class CalendarYearView:
    year: int
    days: list[CalendarDay]
    loaded: CalendarYear | None
    library_has_year: bool
    warnings: list[str]

    @property
    def holidays(self) -> list[CalendarDay]:
        return [d for d in self.days if d.kind == DayKind.HOLIDAY]

    @property
    def workdays(self) -> list[CalendarDay]:
        return [d for d in self.days if d.kind == DayKind.WORKDAY]

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.loaded.source, self.loaded.source) if self.loaded else "无数据"


def calendar_warnings(session: Session, years: Iterable[int]) -> list[str]:
    """Warnings for years the calendar has no data for (the admin page shows these)."""
    known = set(session.scalars(select(CalendarYear.year)))
    out = []
    for year in sorted(set(years) - known):
        if chinese_calendar_year(year) is None:
            out.append(missing_year_warning(year))
        else:
            out.append(f"{year}年节假日尚未载入；可点击“从 chinese-calendar 载入”，或在首次逾期扫描时自动载入。")
    return out


def calendar_year(session: Session, year: int, today: date) -> CalendarYearView:
    days = list(session.scalars(select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1),
                                                          CalendarDay.day <= date(year, 12, 31))
                                .order_by(CalendarDay.day)))
    check = {year, today.year} | ({today.year + 1} if today.month >= 10 else set())
    return CalendarYearView(year=year, days=days, loaded=session.get(CalendarYear, year),
                            library_has_year=chinese_calendar_year(year) is not None,
                            warnings=calendar_warnings(session, check))


def calendar_years(session: Session) -> list[CalendarYear]:
    return list(session.scalars(select(CalendarYear).order_by(CalendarYear.year.desc())))


def set_calendar_day(session: Session, actor: User, day: date, kind: DayKind, name: str | None) -> CalendarDay:
    """Add (or change) a holiday or a make-up working day; the year then counts as maintained."""
    require(can_administer(actor), "只有系统管理员可以维护节假日日历。")
    name = (name or "").strip()[:40] or None
    if kind == DayKind.WORKDAY and day.weekday() < 5:
        raise DomainError("调休上班日应为周六或周日（周一至周五本就是工作日）。", field="day")
    row = session.get(CalendarDay, day)
    before = [row.kind.label, row.name] if row else None
    if row is None:
        row = CalendarDay(day=day, kind=kind, name=name)
        session.add(row)
    else:
        row.kind, row.name = kind, name
    if session.get(CalendarYear, day.year) is None:
        session.add(CalendarYear(year=day.year, source=SOURCE_MANUAL, loaded_at=now()))
    audit.record(session, actor, ("calendar_days", _day_key(day)), "set", {"day": [before, [kind.label, name]]},
                 f"设置{day.isoformat()}为{kind.label}" + (f"（{name}）" if name else ""))
    session.flush()
    forget_calendar(session)
    return row


def remove_calendar_day(session: Session, actor: User, day: date) -> None:
    require(can_administer(actor), "只有系统管理员可以维护节假日日历。")
    row = session.get(CalendarDay, day)
    if row is None:
        raise DomainError(f"{day.isoformat()}不在节假日日历中。", field="day")
    audit.record(session, actor, ("calendar_days", _day_key(day)), "remove",
                 {"day": [[row.kind.label, row.name], None]}, f"删除{day.isoformat()}（{row.kind.label}）")
    session.delete(row)
    session.flush()
    forget_calendar(session)


def working_day_summary(session: Session, year: int) -> dict[str, int]:
    """How many working days the calendar gives the year (a sanity figure for the admin page)."""
    calendar = work_calendar(session)
    start = date(year, 1, 1)
    total = calendar.working_days_between(date(year - 1, 12, 31), date(year, 12, 31))
    return {"working_days": total, "days": (date(year + 1, 1, 1) - start).days}


# ---------------------------------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------------------------------


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"tracker.job.{name}".encode(), digest_size=8).digest(), "big",
                          signed=True)


def job_lock(session: Session, name: str) -> None:
    """Serialise runs of one job across processes until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: take the database's write lock now (a write
    that changes nothing), so a second run waits for the first to commit and then sees its work. On
    SQLite this must be the first statement of the transaction.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(name)})
    elif dialect == "sqlite":
        session.execute(update(JobRun).where(false()).values(job=JobRun.job))


def recent_job_runs(session: Session, limit: int = 50, job: str | None = None) -> list[JobRun]:
    stmt = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job:
        stmt = stmt.where(JobRun.job == job)
    return list(session.scalars(stmt))


def last_success(session: Session, job: str) -> JobRun | None:
    return session.scalar(select(JobRun).where(JobRun.job == job, JobRun.status == JobStatus.SUCCEEDED)
                          .order_by(JobRun.run_date.desc(), JobRun.id.desc()).limit(1))
