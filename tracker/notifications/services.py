"""Notifications: the in-app inbox, the daily digest, report reminders and outbound deliveries.

Every user gets at most one digest a day (``dedupe_key`` ``digest:YYYY-MM-DD``), however many of their
department's items changed; a period's report reminder is one message per user per period. E-mail and
webhook copies are queued as deliveries and sent by the ``deliveries`` job, which retries failures with
a growing delay and never lets a failure reach the job that composed the message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from .. import timeutil
from ..alerts.models import LEVEL_RANK, Alert, AlertLevel, AlertRule, AlertStatus, AlertTarget
from ..alerts.services import ACTIVE_STAGES, calendar_years_for
from ..auth.models import User
from ..errors import NotFound
from ..permissions import DEPARTMENT_ROLES
from ..planning.models import Plan
from ..regions.models import Department
from ..system.calendar import WorkCalendar, work_calendar
from ..system.models import JobRun, JobStatus
from ..system.services import all_settings, ensure_calendar_years
from ..tasks.models import (
    OPEN_STATUSES,
    Milestone,
    ProgressReport,
    ReportPeriod,
    ReportState,
    Task,
    TaskLevel,
    task_co_departments,
)
from .channels import Channels
from .models import Channel, DeliveryState, Notification, NotificationDelivery, NotificationKind

DIGEST_ITEM_LIMIT = 30

notifications_t = Notification.__table__
deliveries_t = NotificationDelivery.__table__
users_t = User.__table__


# ---------------------------------------------------------------------------------------------------
# The inbox
# ---------------------------------------------------------------------------------------------------


def _count(session: Session, statement: Any) -> int:
    """Execute an INSERT/UPDATE and return how many rows it changed."""
    return session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def inbox_statement(user: User, unread_only: bool = False) -> Select[Any]:
    stmt = (select(Notification).where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc()))
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt


def mark_read(session: Session, user: User, notification_id: int) -> Notification:
    """Mark one of the user's own messages read (another user's message does not exist for them)."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound("该通知不存在。")
    if notification.read_at is None:
        notification.read_at = timeutil.now()
        session.flush()
    return notification


def mark_all_read(session: Session, user: User) -> int:
    result = session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=timeutil.now()).execution_options(synchronize_session=False)
    )
    session.expire_all()
    return result.rowcount


# ---------------------------------------------------------------------------------------------------
# Creating messages
# ---------------------------------------------------------------------------------------------------


@dataclass
class Message:
    user_id: int
    title: str
    body: str | None = None
    link: str | None = None


def _insert_ignoring_duplicates(session: Session, table: Any, index_elements: list[str]) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing(index_elements=index_elements)


def notify(session: Session, kind: NotificationKind, dedupe_key: str, messages: list[Message],
           channels: Channels, at: datetime | None = None) -> int:
    """Put messages in inboxes (once per user and ``dedupe_key``) and queue their outbound copies.

    Returns how many messages were new.
    """
    if not messages:
        return 0
    at = at or timeutil.now()
    key_filter = and_(notifications_t.c.dedupe_key == dedupe_key,
                      notifications_t.c.user_id.in_({m.user_id for m in messages}))
    before = session.scalar(select(func.count()).select_from(notifications_t).where(key_filter)) or 0
    session.execute(
        _insert_ignoring_duplicates(session, notifications_t, ["user_id", "dedupe_key"]),
        [{"user_id": m.user_id, "kind": kind.value, "title": m.title[:200], "body": m.body,
          "link": (m.link or None) and m.link[:300], "dedupe_key": dedupe_key, "created_at": at} for m in messages],
    )
    after = session.scalar(select(func.count()).select_from(notifications_t).where(key_filter)) or 0
    queue_deliveries(session, channels, notifications_t.c.dedupe_key == dedupe_key, at)
    return after - before


def queue_deliveries(session: Session, channels: Channels, which: Any, at: datetime) -> int:
    """One pending delivery per configured channel for the selected notifications (INSERT … SELECT)."""
    n, u, d = notifications_t, users_t, deliveries_t
    queued = 0
    wanted: list[tuple[Channel, Any]] = []
    if channels.smtp_url:
        wanted.append((Channel.EMAIL, and_(u.c.email.is_not(None), u.c.email != "")))
    if channels.webhook_url:
        wanted.append((Channel.DINGTALK, literal(True)))
    for channel, condition in wanted:
        queued += _count(
            session,
            _insert_ignoring_duplicates(session, d, ["notification_id", "channel"]).from_select(
                ["notification_id", "channel", "state", "attempts", "next_attempt_at"],
                select(n.c.id, literal(channel.value), literal(DeliveryState.PENDING.value), literal(0),
                       literal(at, d.c.next_attempt_at.type))
                .select_from(n.join(u, u.c.id == n.c.user_id))
                .where(which, condition, ~exists().where(d.c.notification_id == n.c.id, d.c.channel == channel.value)),
            )
        )
    return queued


def department_recipients(session: Session, department_ids: Iterable[int]) -> dict[int, list[int]]:
    """{department id: ids of its active heads and staff} — who hears about the department's work."""
    ids = list(set(department_ids))
    out: dict[int, list[int]] = defaultdict(list)
    if not ids:
        return out
    for user_id, dept_id in session.execute(
        select(User.id, User.department_id).where(User.department_id.in_(ids), User.is_active.is_(True),
                                                  User.role.in_(DEPARTMENT_ROLES)).order_by(User.id)
    ):
        out[dept_id].append(user_id)
    return out


def _path(endpoint: str, **values: Any) -> str | None:
    """A link path for a message (jobs run without a request)."""
    from flask import current_app, has_app_context

    if not has_app_context() or endpoint not in current_app.view_functions:
        return None
    return current_app.url_map.bind("localhost").build(endpoint, values)


def _workspace_link() -> str | None:
    return _path("workspace.index") or _path("notifications.index")


# ---------------------------------------------------------------------------------------------------
# The daily digest
# ---------------------------------------------------------------------------------------------------


def digest_key(day: date) -> str:
    return f"digest:{day.isoformat()}"


def _digest_since(session: Session, day: date) -> date:
    """Changes after this day go into the digest of ``day``: those since the last digest, a week at most."""
    last = session.scalar(
        select(func.max(JobRun.run_date)).where(JobRun.job == "reminders", JobRun.status == JobStatus.SUCCEEDED,
                                                JobRun.run_date < day)
    )
    if last is None:
        return day - timedelta(days=1)
    return max(last, day - timedelta(days=7))


def _item_line(level: AlertLevel, target: AlertTarget, due: date | None, plan: str, code: str, title: str,
               milestone: str | None, day: date) -> str:
    what = f"{plan} {code} {title}"
    if target == AlertTarget.MILESTONE and milestone:
        what += f" · 节点“{milestone}”"
    when = ""
    if due is not None:
        days = (day - due).days
        left = f"逾期{days}天" if days > 0 else ("今日到期" if days == 0 else f"剩{-days}天")
        when = f"（截止{timeutil.format_date(due)}，{left}）"
    return f"【{level.label}】{what}{when}"


def compose_digests(session: Session, day: date, channels: Channels) -> dict[str, Any]:
    """One message per user of each department whose items became due soon, overdue or severe since the
    last digest (督办单 awaiting an answer are chased by the ``case_reminders`` job)."""
    since = _digest_since(session, day)
    changed = session.execute(
        select(Task.lead_department_id, Alert.level, Alert.target, Alert.due_date, Plan.short_name, Task.code,
               Task.title, Milestone.title)
        .select_from(Alert)
        .join(Task, Task.id == Alert.task_id).join(Plan, Plan.id == Task.plan_id)
        .outerjoin(Milestone, Milestone.id == Alert.milestone_id)
        .where(Alert.status == AlertStatus.OPEN, Alert.rule.in_([AlertRule.DEADLINE, AlertRule.PACE]),
               Task.status.in_(OPEN_STATUSES), Task.lead_department_id.is_not(None),
               or_(and_(Alert.raised_on > since, Alert.raised_on <= day),
                   and_(Alert.level_changed_on > since, Alert.level_changed_on <= day)))
        .order_by(Task.lead_department_id, Alert.due_date, Task.code, Alert.id)
    ).all()
    new_items: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for dept_id, *rest in changed:
        new_items[dept_id].append(tuple(rest))

    departments = set(new_items)
    totals: dict[int, dict[AlertLevel, int]] = defaultdict(dict)
    if departments:
        for dept_id, level, n in session.execute(
            select(Task.lead_department_id, Alert.level, func.count()).join(Task, Task.id == Alert.task_id)
            .where(Alert.status == AlertStatus.OPEN, Task.status.in_(OPEN_STATUSES),
                   Task.lead_department_id.in_(departments))
            .group_by(Task.lead_department_id, Alert.level)
        ):
            totals[dept_id][level] = n

    recipients = department_recipients(session, departments)
    link = _workspace_link()
    messages = []
    for dept_id in sorted(departments):
        if not recipients.get(dept_id):
            continue
        title, body = _digest_text(day, new_items.get(dept_id, []), totals.get(dept_id, {}))
        messages += [Message(user_id, title, body, link) for user_id in recipients[dept_id]]
    created = notify(session, NotificationKind.DIGEST, digest_key(day), messages, channels)
    return {"since": since.isoformat(), "departments": len(departments), "messages": created,
            "recipients": len(messages), "items": len(changed)}


def _digest_text(day: date, items: list[tuple[Any, ...]], totals: dict[AlertLevel, int]) -> tuple[str, str]:
    per_level: dict[AlertLevel, int] = defaultdict(int)
    for level, *_ in items:
        per_level[level] += 1
    parts = [f"{level.label}{n}项" for level, n in sorted(per_level.items(), key=lambda kv: -LEVEL_RANK[kv[0]])]
    title = f"{day.month}月{day.day}日督查提醒：" + "、".join(parts)
    lines: list[str] = []
    if items:
        ordered = sorted(items, key=lambda it: (-LEVEL_RANK[it[0]], it[2] or date.max))
        lines.append(f"新增或升级的预警 {len(items)} 项：")
        lines += [_item_line(*it, day=day) for it in ordered[:DIGEST_ITEM_LIMIT]]
        if len(items) > DIGEST_ITEM_LIMIT:
            lines.append(f"……另有 {len(items) - DIGEST_ITEM_LIMIT} 项，请登录系统查看。")
    if totals:
        summary = "、".join(f"{lvl.label}{n}项" for lvl, n in sorted(totals.items(), key=lambda kv: -LEVEL_RANK[kv[0]]))
        lines.append(f"本单位目前未解除的预警：{summary}。")
    return title, "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Report reminders
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportingPeriod:
    period: ReportPeriod
    year: int
    number: int
    start: date
    end: date

    @property
    def label(self) -> str:
        match self.period:
            case ReportPeriod.MONTH:
                return f"{self.year}年{self.number}月"
            case ReportPeriod.QUARTER:
                return f"{self.year}年第{'一二三四'[self.number - 1]}季度"
            case ReportPeriod.HALF:
                return f"{self.year}年{'上下'[self.number - 1]}半年"
            case _:
                return f"{self.year}年度"

    @property
    def key(self) -> str:
        return f"report:{self.period.value}:{self.year}-{self.number}"


def reporting_period(period: ReportPeriod, day: date) -> ReportingPeriod:
    months = {ReportPeriod.MONTH: 1, ReportPeriod.QUARTER: 3, ReportPeriod.HALF: 6, ReportPeriod.YEAR: 12}[period]
    number = (day.month - 1) // months + 1
    start = date(day.year, (number - 1) * months + 1, 1)
    end_month = number * months
    end = (date(day.year + 1, 1, 1) if end_month == 12 else date(day.year, end_month + 1, 1)) - timedelta(days=1)
    return ReportingPeriod(period, day.year, number, start, end)


def reminder_periods(calendar: WorkCalendar, period: ReportPeriod, remind_before: int, due_after: int,
                     day: date) -> list[tuple[ReportingPeriod, date]]:
    """The periods whose reminder window holds ``day``, with each one's report due date."""
    current = reporting_period(period, day)
    previous = reporting_period(period, current.start - timedelta(days=1))
    out = []
    for p in (previous, current):
        opens = calendar.add_working_days(p.end, -remind_before) if remind_before else p.end
        due = calendar.add_working_days(p.end, due_after) if due_after else p.end
        if opens <= day <= due:
            out.append((p, due))
    return out


def missing_reports(session: Session, p: ReportingPeriod) -> dict[int, int]:
    """{department id: open leaf tasks it leads or co-operates on with no submitted report for ``p``}."""
    child = aliased(Task)
    leaf_open = and_(
        Task.level != TaskLevel.CHAPTER, Task.status.in_(OPEN_STATUSES),
        or_(Task.start_date.is_(None), Task.start_date <= p.end),
        Task.plan_id.in_(select(Plan.id).where(Plan.stage.in_(ACTIVE_STAGES))),
        ~exists().where(child.parent_id == Task.id),
    )
    lead = select(Task.id.label("task_id"), Task.lead_department_id.label("department_id")).where(
        leaf_open, Task.lead_department_id.is_not(None))
    co = (select(task_co_departments.c.task_id, task_co_departments.c.department_id)
          .join(Task, Task.id == task_co_departments.c.task_id).where(leaf_open))
    assigned = lead.union_all(co).subquery()
    reported = exists().where(
        ProgressReport.task_id == assigned.c.task_id, ProgressReport.department_id == assigned.c.department_id,
        ProgressReport.period == p.period, ProgressReport.period_year == p.year,
        ProgressReport.period_no == p.number,
        ProgressReport.state.in_([ReportState.SUBMITTED, ReportState.CONFIRMED]),
    )
    rows = session.execute(select(assigned.c.department_id, func.count()).where(~reported)
                           .group_by(assigned.c.department_id))
    return {dept_id: n for dept_id, n in rows}


def compose_report_reminders(session: Session, day: date, channels: Channels) -> dict[str, Any]:
    settings = all_settings(session)
    period = ReportPeriod(settings["reports.period"])
    warnings = ensure_calendar_years(session, calendar_years_for(day))
    calendar = work_calendar(session)
    windows = reminder_periods(calendar, period, int(settings["reports.remind_working_days"]),
                               int(settings["reports.due_working_days"]), day)
    counts: dict[str, Any] = {"periods": [p.label for p, _ in windows], "messages": 0, "departments": 0}
    link = _workspace_link()
    for p, due in windows:
        missing = missing_reports(session, p)
        recipients = department_recipients(session, missing)
        names = dict(session.execute(select(Department.id, Department.name).where(Department.id.in_(missing))).all())
        messages = [
            Message(user_id, f"请于{timeutil.format_date(due)}前报送{p.label}进展",
                    f"{names.get(dept_id, '本单位')}有 {n} 项任务尚未报送{p.label}进展，"
                    f"请于{timeutil.format_date(due)}前在“我的工作台”中填报并提交。", link)
            for dept_id, n in missing.items() for user_id in recipients.get(dept_id, [])
        ]
        counts["messages"] += notify(session, NotificationKind.REPORT, p.key, messages, channels)
        counts["departments"] += len(missing)
    warnings += [f"{y}年节假日数据缺失，按周一至周五计算工作日。" for y in sorted(calendar.consulted_missing)
                 if not any(w.startswith(f"{y}年") for w in warnings)]
    if warnings:
        counts["warnings"] = warnings
    return counts
