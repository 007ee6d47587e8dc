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
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from .. import audit, timeutil
from ..alerts.models import LEVEL_RANK, Alert, AlertLevel, AlertRule, AlertStatus, AlertTarget
from ..alerts.services import ACTIVE_STAGES, calendar_years_for
from ..auth.models import Role, User
from ..errors import NotFound
from ..permissions import DEPARTMENT_ROLES, region_ids_below
from ..planning.models import Plan
from ..regions.models import Department
from ..supervision.models import DEFAULT_PREFIX, CaseState, SupervisionCase
from ..supervision.services import AWAITING_DEPARTMENT
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
    period_name,
    task_co_departments,
)
from .channels import Channels
from .models import (
    Channel,
    DeliveryMode,
    Notification,
    NotificationDelivery,
    NotificationKind,
    NotificationPreference,
)
from .outbox import Message, default_mode, link_to, notify

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
# Preferences
# ---------------------------------------------------------------------------------------------------


def modes_of(session: Session, user: User) -> dict[Channel, DeliveryMode]:
    """The user's mode per channel: their own choice, else their role's default."""
    chosen = dict(session.execute(select(NotificationPreference.channel, NotificationPreference.mode)
                                  .where(NotificationPreference.user_id == user.id)).tuples().all())
    return {channel: chosen.get(channel, default_mode(user.role)) for channel in Channel}


def set_modes(session: Session, user: User, modes: dict[Channel, DeliveryMode]) -> None:
    existing = {p.channel: p for p in session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    for channel, mode in modes.items():
        if channel in existing:
            existing[channel].mode = mode
        else:
            session.add(NotificationPreference(user_id=user.id, channel=channel, mode=mode))
    session.flush()


@dataclass
class Preferences:
    modes: dict[Channel, DeliveryMode]
    email: str | None
    phone: str | None
    zzd_account_id: str | None


CONTACT_FIELDS = ["email", "phone", "zzd_account_id"]


def save_preferences(session: Session, user: User, prefs: Preferences) -> None:
    """The user's own choices: a mode per channel and the addresses the channels reach them at (audited)."""
    before = {**audit.snapshot(user, CONTACT_FIELDS),
              **{f"mode_{c.value}": m.label for c, m in modes_of(session, user).items()}}
    user.email = (prefs.email or "").strip() or None
    user.phone = (prefs.phone or "").strip() or None
    user.zzd_account_id = (prefs.zzd_account_id or "").strip() or None
    set_modes(session, user, prefs.modes)
    after = {**audit.snapshot(user, CONTACT_FIELDS), **{f"mode_{c.value}": m.label for c, m in prefs.modes.items()}}
    changes = audit.diff(before, after)
    if changes:
        audit.record(session, user, user, "preferences", changes, "修改消息接收方式")


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


def _workspace_link() -> str | None:
    return link_to("workspace.index") or link_to("notifications.index")


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
    parts: dict[int, list[tuple[str, str, str | None]]] = defaultdict(list)  # user -> (title, body, link)
    for dept_id in sorted(departments):
        title, body = _digest_text(day, new_items.get(dept_id, []), totals.get(dept_id, {}))
        for user_id in recipients.get(dept_id, []):
            parts[user_id].append((title, body, link))
    offices = _office_digests(session, since, day)
    for user_id, part in offices.items():
        parts[user_id].append(part)
    for user_id, part in _recaps(session, since, day).items():
        parts[user_id].append(part)
    messages = [_one_message(day, user_parts) | {"user_id": user_id} for user_id, user_parts in sorted(parts.items())]
    created = notify(session, NotificationKind.DIGEST, digest_key(day), [Message(**m) for m in messages], channels)
    return {"since": since.isoformat(), "departments": len(departments), "messages": created,
            "recipients": len(messages), "items": len(changed), "offices": len(offices)}


def _one_message(day: date, parts: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    """A person's digest of the day: their department's alerts, their office's cases, the day's messages."""
    if len(parts) == 1:
        title, body, link = parts[0]
    else:
        title = f"{day.month}月{day.day}日督查提醒：" + "；".join(t.split("：", 1)[-1] for t, _, _ in parts)
        body = "\n\n".join(b for _, b, _ in parts)
        link = next((lk for _, _, lk in parts if lk), None)
    return {"title": title, "body": body, "link": link}


def _office_digests(session: Session, since: date, day: date) -> dict[int, tuple[str, str, str | None]]:
    """The supervision office's own digest, per supervisor: new 严重逾期 items in the office's scope (its region
    and those below), its cases past their answer date, and its cases waiting for review."""
    supervisors = session.execute(
        select(User.id, User.department_id, Department.region_id).join(Department, Department.id == User.department_id)
        .where(User.role == Role.SUPERVISOR, User.is_active.is_(True)).order_by(User.id)).all()
    if not supervisors:
        return {}
    severe = session.execute(
        select(Plan.region_id, Plan.short_name, Task.code, Task.title, Alert.due_date)
        .select_from(Alert).join(Task, Task.id == Alert.task_id).join(Plan, Plan.id == Task.plan_id)
        .where(Alert.status == AlertStatus.OPEN, Alert.level == AlertLevel.SEVERE, Task.status.in_(OPEN_STATUSES),
               or_(and_(Alert.raised_on > since, Alert.raised_on <= day),
                   and_(Alert.level_changed_on > since, Alert.level_changed_on <= day)))
        .order_by(Alert.due_date, Task.code)).all()
    offices = {office_id for _, office_id, _ in supervisors}
    cases = session.execute(
        select(SupervisionCase.office_id, SupervisionCase.state, SupervisionCase.number_prefix,
               SupervisionCase.number_year, SupervisionCase.number_seq, SupervisionCase.title,
               SupervisionCase.response_deadline)
        .where(SupervisionCase.office_id.in_(offices),
               or_(SupervisionCase.state == CaseState.SUBMITTED,
                   and_(SupervisionCase.state.in_([s.value for s in AWAITING_DEPARTMENT]),
                        SupervisionCase.response_deadline < day)))
        .order_by(SupervisionCase.response_deadline, SupervisionCase.id)).all()
    late: dict[int, list[str]] = defaultdict(list)
    review: dict[int, list[str]] = defaultdict(list)
    for office_id, state, prefix, year, seq, title, deadline in cases:
        label = f"{prefix or DEFAULT_PREFIX}〔{year}〕{seq}号 {title}"
        if state == CaseState.SUBMITTED:
            review[office_id].append(label)
        else:
            late[office_id].append(f"{label}（答复期限{timeutil.format_date(deadline)}）")
    link = link_to("supervision.index")
    out: dict[int, tuple[str, str, str | None]] = {}
    scopes: dict[int, set[int]] = {}
    for user_id, office_id, region_id in supervisors:
        if region_id not in scopes:
            scopes[region_id] = region_ids_below(session, region_id)
        mine = [row for row in severe if row[0] in scopes[region_id]]
        if not (mine or late[office_id] or review[office_id]):
            continue
        heads, lines = [], []
        for what, rows in (("新增严重逾期", [f"{p} {c} {t}（截止{timeutil.format_date(d)}）" for _, p, c, t, d in mine]),
                           ("超期未答复督办件", late[office_id]), ("待复核督办件", review[office_id])):
            if rows:
                heads.append(f"{what}{len(rows)}项")
                lines.append(f"{what} {len(rows)} 项：")
                lines += rows[:DIGEST_ITEM_LIMIT]
                if len(rows) > DIGEST_ITEM_LIMIT:
                    lines.append(f"……另有 {len(rows) - DIGEST_ITEM_LIMIT} 项，请登录系统查看。")
        out[user_id] = (f"{day.month}月{day.day}日督查室提醒：" + "、".join(heads), "\n".join(lines), link)
    return out


def _recaps(session: Session, since: date, day: date) -> dict[int, tuple[str, str, str | None]]:
    """The messages of the day (events) each person received since the last digest, for those who read the
    digest rather than each message (everyone finds them in the inbox at once)."""
    start = datetime.combine(since + timedelta(days=1), time.min, timeutil.LOCAL_TZ)
    end = datetime.combine(day + timedelta(days=1), time.min, timeutil.LOCAL_TZ)
    rows = session.execute(
        select(Notification.user_id, Notification.title).where(
            Notification.event_id.is_not(None), Notification.created_at >= start, Notification.created_at < end)
        .order_by(Notification.user_id, Notification.id)).all()
    titles: dict[int, list[str]] = defaultdict(list)
    for user_id, title in rows:
        titles[user_id].append(title)
    link = link_to("notifications.index")
    out = {}
    for user_id, items in titles.items():
        lines = [f"收到的消息 {len(items)} 条：", *items[:DIGEST_ITEM_LIMIT]]
        if len(items) > DIGEST_ITEM_LIMIT:
            lines.append(f"……另有 {len(items) - DIGEST_ITEM_LIMIT} 条，请在“通知”中查看。")
        out[user_id] = (f"{day.month}月{day.day}日消息汇总：{len(items)}条", "\n".join(lines), link)
    return out


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
        return period_name(self.period, self.year, self.number)

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
