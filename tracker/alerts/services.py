"""The overdue engine: alert rules, the set-based scan, and the badges of open alerts (the overdue list's
queries are in ``overdue.py``).

The scan works on sets: a handful of ``UPDATE … WHERE`` and ``INSERT … SELECT`` statements, whatever
the number of tasks. The working-day arithmetic happens once per scan in Python (a few dates: "overdue
before", "severe before", "due soon until"); the database compares deadlines with those dates.

One idea, the life of an alert, in one file: the scan raises and closes alerts for every item at once, and a
change to one item closes or moves that item's alerts in its own transaction by the same rules (``_close``,
``_place``), so the two cannot drift apart.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    Select,
    and_,
    case,
    cast,
    event,
    exists,
    func,
    inspect,
    literal,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from .. import timeutil
from ..audit import AuditEntry
from ..notifications.models import Event
from ..planning.models import Plan, PlanStage
from ..system.calendar import WorkCalendar, work_calendar
from ..system.services import all_settings, ensure_calendar_years, job_lock
from ..tasks.models import OPEN_STATUSES, Milestone, MilestoneStatus, Task, TaskLevel, TaskStatus
from .models import LEVEL_RANK, Alert, AlertLevel, AlertRule, AlertStatus, AlertTarget, ResolveReason

# Plans whose tasks are being carried out; drafts and archived plans raise no alerts.
ACTIVE_STAGES = (PlanStage.ISSUED, PlanStage.EXECUTING, PlanStage.MIDTERM, PlanStage.FINAL)
OPEN_TASK_STATUSES = tuple(s.value for s in (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.OVERDUE))
OPEN_MILESTONE_STATUSES = (MilestoneStatus.PENDING.value, MilestoneStatus.OVERDUE.value)
SCAN_RULES = (AlertRule.DEADLINE.value, AlertRule.PACE.value)

alerts_t = Alert.__table__
tasks_t = Task.__table__
milestones_t = Milestone.__table__
plans_t = Plan.__table__
audit_t = AuditEntry.__table__


# ---------------------------------------------------------------------------------------------------
# Rules and thresholds
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRules:
    due_soon_working_days: int = 5
    severe_after_days: int = 30
    holiday_rolls_forward: bool = False
    pace_enabled: bool = False
    pace_threshold: int = 30

    @classmethod
    def load(cls, session: Session) -> AlertRules:
        s = all_settings(session)
        return cls(
            due_soon_working_days=int(s["alerts.due_soon_working_days"]),
            severe_after_days=int(s["alerts.severe_after_days"]),
            holiday_rolls_forward=bool(s["alerts.holiday_rolls_forward"]),
            pace_enabled=bool(s["alerts.pace_enabled"]),
            pace_threshold=int(s["alerts.pace_threshold"]),
        )


@dataclass(frozen=True)
class Thresholds:
    """The day's rules as dates. A deadline ``d`` of an open item is

    severe   when d <  severe_before,
    overdue  when d <  overdue_before,
    due soon when overdue_before <= d <= due_soon_until (None: no due-soon alerts).
    """

    today: date
    overdue_before: date
    severe_before: date
    due_soon_until: date | None


def thresholds(calendar: WorkCalendar, rules: AlertRules, today: date) -> Thresholds:
    def first_deadline_counting_from(day: date) -> date:
        """The earliest deadline whose effective deadline is ``day`` or later.

        Without rolling forward a deadline is its own effective deadline. With it, a deadline on a
        non-working day counts as the next working day, so the days just before ``day`` that are all
        non-working also count from ``day``.
        """
        if not rules.holiday_rolls_forward:
            return day
        first = day
        for _ in range(60):
            before = first - timedelta(days=1)
            if calendar.is_working_day(before):
                break
            first = before
        return first

    due_soon_until = None
    if rules.due_soon_working_days > 0:
        due_soon_until = calendar.add_working_days(today, rules.due_soon_working_days)
    return Thresholds(
        today=today,
        overdue_before=first_deadline_counting_from(today),
        severe_before=first_deadline_counting_from(today - timedelta(days=rules.severe_after_days)),
        due_soon_until=due_soon_until,
    )


def level_rules(th: Thresholds) -> list[tuple[AlertLevel, Callable[[Any, Any], Any], date]]:
    """The deadline rule, most severe first: (level, comparison, bound) — a deadline ``d`` is at the first
    level whose ``comparison(d, bound)`` holds. ``level_of`` asks it of a date in Python and ``_level_case``
    of a column in SQL, so the two cannot drift apart."""
    rules: list[tuple[AlertLevel, Callable[[Any, Any], Any], date]] = [
        (AlertLevel.SEVERE, operator.lt, th.severe_before),
        (AlertLevel.OVERDUE, operator.lt, th.overdue_before),
    ]
    if th.due_soon_until is not None:
        rules.append((AlertLevel.DUE_SOON, operator.le, th.due_soon_until))
    return rules


def level_of(deadline: date | None, th: Thresholds) -> AlertLevel | None:
    """The deadline-rule level of one open item (the scan does the same in SQL)."""
    if deadline is None:
        return None
    return next((level for level, compare, bound in level_rules(th) if compare(deadline, bound)), None)


def _level_case(column: Any, th: Thresholds) -> ColumnElement[Any]:
    return case(*[(compare(column, literal(bound, Date)), literal(level.value))
                  for level, compare, bound in level_rules(th)], else_=null())


def calendar_years_for(today: date) -> set[int]:
    """The years a scan on ``today`` needs (next year from October, when it is usually published)."""
    years = {today.year - 1, today.year}
    if today.month >= 10:
        years.add(today.year + 1)
    return years


def prepare_calendar(session: Session, rules: AlertRules, today: date) -> tuple[Thresholds, list[str]]:
    """Seed the calendar years the scan needs, compute the thresholds, and collect warnings."""
    years = calendar_years_for(today)
    warnings = ensure_calendar_years(session, years)
    calendar = work_calendar(session)
    th = thresholds(calendar, rules, today)
    extra = calendar.consulted_missing - years
    if extra:  # the window reached a year not prepared yet (e.g. late December)
        warnings += ensure_calendar_years(session, extra)
        calendar = work_calendar(session)
        th = thresholds(calendar, rules, today)
    for year in sorted(calendar.consulted_missing):
        message = f"{year}年节假日数据缺失，本次扫描按周一至周五计算该年工作日。"
        if message not in warnings:
            warnings.append(message)
    return th, warnings


# ---------------------------------------------------------------------------------------------------
# The scan
# ---------------------------------------------------------------------------------------------------


def _count(session: Session, statement: Any) -> int:
    """Execute an INSERT/UPDATE and return how many rows it changed."""
    return session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _json(session: Session, value: ColumnElement[Any]) -> ColumnElement[Any]:
    """A JSON text value for a JSON column in INSERT … SELECT (PostgreSQL wants a cast)."""
    return cast(value, JSON) if _dialect(session) == "postgresql" else value


def days_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    """Calendar days from ``start`` to ``end`` (two date expressions)."""
    if _dialect(session) == "sqlite":
        return func.julianday(end) - func.julianday(start)
    return end - start  # PostgreSQL: date - date is a number of days


def _insert_ignoring_duplicates(session: Session, target: AlertTarget) -> Any:
    """INSERT into alerts that skips rows an open alert of the same rule and item already holds
    (the partial unique indexes), so concurrent scans cannot duplicate alerts."""
    if _dialect(session) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    column = "task_id" if target == AlertTarget.TASK else "milestone_id"
    return insert(alerts_t).on_conflict_do_nothing(
        index_elements=["rule", column],
        index_where=text(f"status = 'open' AND target = '{target.value}'"),
    )


def _active_plan_ids() -> Select[Any]:
    return select(plans_t.c.id).where(plans_t.c.stage.in_([s.value for s in ACTIVE_STAGES]))


def _open_task_ids() -> Select[Any]:
    return select(tasks_t.c.id).where(tasks_t.c.status.in_(OPEN_TASK_STATUSES),
                                      tasks_t.c.plan_id.in_(_active_plan_ids()))


def _status_json(session: Session, column: Any, labels: dict[str, str], to_label: str) -> ColumnElement[Any]:
    whens = [(column == value, literal(json.dumps({"status": [label, to_label]}, ensure_ascii=False)))
             for value, label in labels.items()]
    return _json(session, case(*whens, else_=literal(json.dumps({"status": [None, to_label]}))))


def _audit_rows(session: Session, table: Any, where: Any, summary: str, changes: ColumnElement[Any],
                at: datetime) -> None:
    session.execute(audit_t.insert().from_select(
        ["at", "actor_id", "object_type", "object_id", "action", "summary", "changes"],
        select(literal(at, audit_t.c.at.type), null(), literal(table.name), table.c.id, literal("scan"),
               literal(summary), changes).where(where),
    ))


def _sync_statuses(session: Session, th: Thresholds, at: datetime) -> dict[str, int]:
    """已逾期 follows the deadline: open items past it become overdue, and go back when it moves."""
    t, m = tasks_t, milestones_t
    labels = {s.value: s.label for s in TaskStatus}
    ms_labels = {s.value: s.label for s in MilestoneStatus}
    counts = {}

    becomes_overdue = and_(
        t.c.status.in_([TaskStatus.NOT_STARTED.value, TaskStatus.IN_PROGRESS.value]),
        t.c.level != TaskLevel.CHAPTER.value,
        t.c.deadline < literal(th.overdue_before, Date),
        t.c.plan_id.in_(_active_plan_ids()),
    )
    _audit_rows(session, t, becomes_overdue, "逾期扫描：已过截止日期，状态改为已逾期",
                _status_json(session, t.c.status, labels, TaskStatus.OVERDUE.label), at)
    counts["tasks_overdue"] = _count(
        session,
        update(t).where(becomes_overdue)
        .values(status=TaskStatus.OVERDUE.value, version_id=t.c.version_id + 1, updated_at=at)
    )

    back_on_time = and_(t.c.status == TaskStatus.OVERDUE.value,
                        or_(t.c.deadline.is_(None), t.c.deadline >= literal(th.overdue_before, Date)))
    new_status = case((t.c.progress > 0, literal(TaskStatus.IN_PROGRESS.value)),
                      else_=literal(TaskStatus.NOT_STARTED.value))
    _audit_rows(session, t, back_on_time, "逾期扫描：截止日期已调整，不再逾期",
                _json(session, case((t.c.progress > 0, literal(json.dumps(
                    {"status": [TaskStatus.OVERDUE.label, TaskStatus.IN_PROGRESS.label]}, ensure_ascii=False))),
                    else_=literal(json.dumps({"status": [TaskStatus.OVERDUE.label, TaskStatus.NOT_STARTED.label]},
                                             ensure_ascii=False)))), at)
    counts["tasks_reopened"] = _count(
        session,
        update(t).where(back_on_time).values(status=new_status, version_id=t.c.version_id + 1, updated_at=at)
    )

    ms_overdue = and_(m.c.status == MilestoneStatus.PENDING.value,
                      m.c.due_date < literal(th.overdue_before, Date),
                      m.c.task_id.in_(_open_task_ids()))
    _audit_rows(session, m, ms_overdue, "逾期扫描：节点已过计划日期，状态改为已逾期",
                _status_json(session, m.c.status, ms_labels, MilestoneStatus.OVERDUE.label), at)
    counts["milestones_overdue"] = _count(
        session,
        update(m).where(ms_overdue)
        .values(status=MilestoneStatus.OVERDUE.value, version_id=m.c.version_id + 1, updated_at=at)
    )

    ms_back = and_(m.c.status == MilestoneStatus.OVERDUE.value, m.c.due_date >= literal(th.overdue_before, Date))
    _audit_rows(session, m, ms_back, "逾期扫描：节点日期已调整，不再逾期",
                _status_json(session, m.c.status, ms_labels, MilestoneStatus.PENDING.label), at)
    counts["milestones_reopened"] = _count(
        session,
        update(m).where(ms_back)
        .values(status=MilestoneStatus.PENDING.value, version_id=m.c.version_id + 1, updated_at=at)
    )
    return counts


def _close(session: Session, where: Any, status: AlertStatus, reason: ResolveReason, at: datetime) -> int:
    a = alerts_t
    return _count(
        session,
        update(a).where(a.c.status == AlertStatus.OPEN.value, where)
        .values(status=status.value, resolved_at=at, resolved_reason=reason.value)
    )


# ---------------------------------------------------------------------------------------------------
# An alert follows its item: closed when the item closes, and placed where its task stands
# ---------------------------------------------------------------------------------------------------


def _place(t: Any, p: Any) -> dict[str, ColumnElement[Any]]:
    """An alert's place in the overdue list (its ``plan_id``, ``region_id`` and ``department_id``) from its task
    ``t`` and that task's plan ``p`` — the one rule, used where alerts are raised and where they are kept in step."""
    return {"plan_id": t.c.plan_id, "region_id": p.c.region_id, "department_id": t.c.lead_department_id}


def keep_in_step(session: Session, *, task_ids: Collection[int] | None = None,
                 plan_ids: Collection[int] | None = None) -> int:
    """Put the alerts of the given tasks (or of the given plans' tasks) where their tasks now stand; with neither,
    every open alert that stands elsewhere (the scan's repair of a change written past the ORM)."""
    a, t, p = alerts_t, tasks_t, plans_t
    place = _place(t, p)
    where = [a.c.task_id == t.c.id, p.c.id == t.c.plan_id]
    if task_ids is not None:
        where.append(t.c.id.in_(task_ids))
    elif plan_ids is not None:
        where.append(t.c.plan_id.in_(plan_ids))
    else:
        where += [a.c.status == AlertStatus.OPEN.value,
                  or_(*(a.c[name].is_distinct_from(value) for name, value in place.items()))]
    return _count(session, update(a).where(*where).values(**place))


def _close_items(session: Session, column: Any, ids: Collection[int], done: bool, at: datetime) -> int:
    """The items (tasks or milestones, by ``column``) left the open statuses: their open alerts close — resolved if
    they were finished, cancelled otherwise (suspended, terminated, waived) — as the scan would close them."""
    status, reason = ((AlertStatus.RESOLVED, ResolveReason.DONE) if done
                      else (AlertStatus.CANCELLED, ResolveReason.NOT_APPLICABLE))
    return _close(session, and_(alerts_t.c.rule.in_(SCAN_RULES), column.in_(ids)), status, reason, at)


def _changed(instance: object, *names: str) -> bool:
    attrs = inspect(instance).attrs
    return any(attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_flush")
def _follow_items(session: Session, _context: Any) -> None:
    """Keep every alert in step with its item in the transaction that changes the item, so an open alert is
    always of an open item and stands where its task stands: the overdue list reads the alerts alone.

    A task leaving the open statuses closes its alerts and its milestones'; a milestone leaving them, its own.
    A task given another lead department or plan, a plan moved to another region, and an alert added through
    the ORM are placed afresh. (The scan closes and places anything changed by statements past the ORM.)"""
    closed: dict[tuple[str, bool], list[int]] = {}
    placed_tasks: set[int] = set()
    placed_plans: set[int] = set()
    for instance in session.dirty:
        if isinstance(instance, Task):
            if _changed(instance, "status") and instance.status not in OPEN_STATUSES:
                closed.setdefault(("task", instance.status == TaskStatus.DONE), []).append(instance.id)
            if _changed(instance, "lead_department_id", "lead_department", "plan_id", "plan"):
                placed_tasks.add(instance.id)
        elif isinstance(instance, Milestone):
            if _changed(instance, "status") and instance.status.value not in OPEN_MILESTONE_STATUSES:
                closed.setdefault(("milestone", instance.status == MilestoneStatus.DONE), []).append(instance.id)
        elif isinstance(instance, Plan) and _changed(instance, "region_id", "region"):
            placed_plans.add(instance.id)
    placed_tasks.update(a.task_id for a in session.new if isinstance(a, Alert) and a.task_id is not None)
    if not (closed or placed_tasks or placed_plans):
        return
    at = timeutil.now()
    for (kind, done), ids in closed.items():
        column = alerts_t.c.task_id if kind == "task" else alerts_t.c.milestone_id
        _close_items(session, column, ids, done, at)
    if placed_tasks:
        keep_in_step(session, task_ids=placed_tasks)
    if placed_plans:
        keep_in_step(session, plan_ids=placed_plans)


def _task_candidate(t: Any) -> ColumnElement[bool]:
    return and_(t.c.level != TaskLevel.CHAPTER.value, t.c.deadline.is_not(None),
                t.c.status.in_(OPEN_TASK_STATUSES), t.c.plan_id.in_(_active_plan_ids()))


def _milestone_candidate(m: Any) -> ColumnElement[bool]:
    return and_(m.c.status.in_(OPEN_MILESTONE_STATUSES), m.c.task_id.in_(_open_task_ids()))


def _deadline_rule(th: Thresholds, session: Session, at: datetime) -> dict[str, int]:
    a, t, m, p = alerts_t, tasks_t, milestones_t, plans_t
    deadline = a.c.rule == AlertRule.DEADLINE.value
    is_task = a.c.target == AlertTarget.TASK.value
    is_milestone = a.c.target == AlertTarget.MILESTONE.value
    counts = {"resolved": 0, "cancelled": 0, "upgraded": 0, "raised": 0}

    # Each step is one UPDATE per kind of item: an OR of EXISTS over two tables keeps the planner from
    # using either table's keys, and the step then visits every open alert once per alert.
    # 1. Done: the item (or, for a milestone, its task) is finished.
    for done in (exists().where(t.c.id == a.c.task_id, t.c.status == TaskStatus.DONE.value),
                 and_(is_milestone, exists().where(m.c.id == a.c.milestone_id,
                                                   m.c.status == MilestoneStatus.DONE.value))):
        counts["resolved"] += _close(session, and_(a.c.rule.in_(SCAN_RULES), done), AlertStatus.RESOLVED,
                                     ResolveReason.DONE, at)

    # 2. The deadline moved (an approved adjustment): this alert ends; step 5 re-evaluates the item.
    for moved in (and_(is_task, exists().where(t.c.id == a.c.task_id, t.c.deadline.is_distinct_from(a.c.due_date))),
                  and_(is_milestone, exists().where(m.c.id == a.c.milestone_id, m.c.due_date != a.c.due_date))):
        counts["resolved"] += _close(session, and_(deadline, moved), AlertStatus.RESOLVED,
                                     ResolveReason.DEADLINE_CHANGED, at)

    # 3. No longer applicable: suspended, terminated, waived, plan archived, or outside the rules now.
    level_now = _level_case(a.c.due_date, th)
    for gone in (
        and_(is_task, or_(~exists().where(t.c.id == a.c.task_id, _task_candidate(t)), level_now.is_(None))),
        and_(is_milestone, or_(~exists().where(m.c.id == a.c.milestone_id, _milestone_candidate(m)),
                               level_now.is_(None))),
        a.c.target.not_in([AlertTarget.TASK.value, AlertTarget.MILESTONE.value]),
    ):
        counts["cancelled"] += _close(session, and_(deadline, gone), AlertStatus.CANCELLED,
                                      ResolveReason.NOT_APPLICABLE, at)

    # 4. Level changes (due soon → overdue → severe as the days pass).
    counts["upgraded"] += _count(
        session,
        update(a).where(a.c.status == AlertStatus.OPEN.value, deadline, a.c.level != level_now)
        .values(level=level_now, level_changed_on=literal(th.today, Date))
    )

    # 5. New alerts for items that have none open, placed where their tasks stand.
    place = _place(t, p)
    columns = ["rule", "level", "target", "task_id", "milestone_id", "due_date", "status", "raised_on",
               "level_changed_on", *place]
    today = literal(th.today, Date)
    task_level = _level_case(t.c.deadline, th)
    no_open_task_alert = ~exists().where(a.c.status == AlertStatus.OPEN.value, a.c.target == AlertTarget.TASK.value,
                                         a.c.rule == AlertRule.DEADLINE.value, a.c.task_id == t.c.id)
    counts["raised"] += _count(
        session,
        _insert_ignoring_duplicates(session, AlertTarget.TASK).from_select(columns, select(
            literal(AlertRule.DEADLINE.value), task_level, literal(AlertTarget.TASK.value), t.c.id, null(),
            t.c.deadline, literal(AlertStatus.OPEN.value), today, today, *place.values(),
        ).select_from(t.join(p, p.c.id == t.c.plan_id))
         .where(_task_candidate(t), task_level.is_not(None), no_open_task_alert))
    )

    ms_level = _level_case(m.c.due_date, th)
    no_open_ms_alert = ~exists().where(a.c.status == AlertStatus.OPEN.value,
                                       a.c.target == AlertTarget.MILESTONE.value,
                                       a.c.rule == AlertRule.DEADLINE.value, a.c.milestone_id == m.c.id)
    counts["raised"] += _count(
        session,
        _insert_ignoring_duplicates(session, AlertTarget.MILESTONE).from_select(columns, select(
            literal(AlertRule.DEADLINE.value), ms_level, literal(AlertTarget.MILESTONE.value), m.c.task_id,
            m.c.id, m.c.due_date, literal(AlertStatus.OPEN.value), today, today, *place.values(),
        ).select_from(m.join(t, t.c.id == m.c.task_id).join(p, p.c.id == t.c.plan_id))
         .where(_milestone_candidate(m), ms_level.is_not(None), no_open_ms_alert))
    )
    return counts


def _pace_rule(session: Session, rules: AlertRules, th: Thresholds, at: datetime) -> dict[str, int]:
    """进度滞后: the share of the task's time that has passed runs ahead of its progress by more than
    the threshold (before the deadline; after it the deadline rule takes over)."""
    a, t, p = alerts_t, tasks_t, plans_t
    pace = a.c.rule == AlertRule.PACE.value
    counts = {"resolved": 0, "cancelled": 0, "raised": 0}
    if not rules.pace_enabled:
        counts["cancelled"] += _close(session, pace, AlertStatus.CANCELLED, ResolveReason.NOT_APPLICABLE, at)
        return counts
    today = literal(th.today, Date)
    before_deadline = and_(_task_candidate(t), t.c.start_date.is_not(None), t.c.start_date < today,
                           t.c.deadline > t.c.start_date, t.c.deadline >= literal(th.overdue_before, Date))
    lagging = and_(before_deadline,
                   days_between(session, t.c.start_date, today) * 100
                   > (t.c.progress + rules.pace_threshold) * days_between(session, t.c.start_date, t.c.deadline))
    counts["cancelled"] += _close(
        session, and_(pace, ~exists().where(t.c.id == a.c.task_id, before_deadline)),
        AlertStatus.CANCELLED, ResolveReason.NOT_APPLICABLE, at)
    counts["resolved"] += _close(
        session, and_(pace, ~exists().where(t.c.id == a.c.task_id, lagging)),
        AlertStatus.RESOLVED, ResolveReason.CAUGHT_UP, at)
    no_open = ~exists().where(a.c.status == AlertStatus.OPEN.value, a.c.target == AlertTarget.TASK.value,
                              pace, a.c.task_id == t.c.id)
    place = _place(t, p)
    counts["raised"] += _count(
        session,
        _insert_ignoring_duplicates(session, AlertTarget.TASK).from_select(
            ["rule", "level", "target", "task_id", "due_date", "status", "raised_on", "level_changed_on", *place],
            select(literal(AlertRule.PACE.value), literal(AlertLevel.LAGGING.value),
                   literal(AlertTarget.TASK.value), t.c.id, t.c.deadline, literal(AlertStatus.OPEN.value),
                   today, today, *place.values())
            .select_from(t.join(p, p.c.id == t.c.plan_id)).where(lagging, no_open))
    )
    return counts


def open_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Alert.level, func.count()).where(Alert.status == AlertStatus.OPEN)
                           .group_by(Alert.level))
    return {level.value: n for level, n in rows}


def record_events(session: Session, day: date, at: datetime) -> int:
    """One event row (``alert.raise`` / ``alert.escalate``) per alert raised or raised a level on ``day``,
    written by the scan that did it, once however often the scan runs (INSERT … SELECT). The department
    hears of them in its daily digest."""
    a, t, p, e = Alert.__table__, Task.__table__, Plan.__table__, Event.__table__
    level_label = case(*((a.c.level == level.value, level.label) for level in AlertLevel), else_="")
    title = func.substr(literal("【") + level_label + literal("】") + func.coalesce(p.c.short_name, p.c.title)
                        + literal(" ") + t.c.code + literal(" ") + t.c.title, 1, 200)
    body = literal("预警等级：") + level_label  # an alert reaches each level once
    written = 0
    for kind, when in (("alert.raise", a.c.raised_on == day),
                       ("alert.escalate", and_(a.c.level_changed_on == day, a.c.raised_on < day))):
        already = exists().where(e.c.kind.like("alert.%"), e.c.subject_type == a.name, e.c.subject_id == a.c.id,
                                 e.c.body == body)
        first = session.scalar(select(func.min(a.c.id)).where(a.c.status == AlertStatus.OPEN.value, when))
        if first is None:
            continue  # nothing raised (or raised a level) that day
        if _dialect(session) == "postgresql":
            # Without nested loops (``_without_nested_loops``) PostgreSQL hashes the events it compares with; only
            # those of the day's alerts can match, whose ids are at least the least of theirs — not every alert
            # event ever written (some hundred thousand a day at nation scale). The bound is a value, so the plan
            # reads them from the subject index. SQLite probes that index alert by alert, and a bound there made
            # it read the events from the bound on for each alert.
            already = already.where(e.c.subject_id >= first)
        written += _count(session, e.insert().from_select(
            ["kind", "subject_type", "subject_id", "department_id", "plan_id", "title", "body", "data", "created_at"],
            select(literal(kind), literal(a.name), a.c.id, t.c.lead_department_id, t.c.plan_id, title, body,
                   literal({}, JSON), literal(at, e.c.created_at.type))
            .select_from(a.join(t, t.c.id == a.c.task_id).join(p, p.c.id == t.c.plan_id))
            .where(a.c.status == AlertStatus.OPEN.value, when, ~already),
        ))
    return written


@contextmanager
def _without_nested_loops(session: Session) -> Iterator[None]:
    """The scan's statements each read and write tens of thousands of rows, set against set; on PostgreSQL they
    are planned without nested loops. A table the planner believes empty — the alerts before the first scan, or
    after most were resolved, until the next ANALYZE — is otherwise read again for each row of the other side:
    raising a nation's 140,000 alerts into an empty table read it 98,000 times as it grew (60 s), and the day's
    events over them took 457 s, where hash joins take a second."""
    if _dialect(session) != "postgresql":
        yield
        return
    session.execute(text("SET LOCAL enable_nestloop = off"))
    try:
        yield
    finally:
        session.execute(text("SET LOCAL enable_nestloop = on"))


def scan(session: Session, on: date | None = None) -> dict[str, Any]:
    """Raise, upgrade and resolve the deadline (and pace) alerts of every task and milestone for ``on``.

    Idempotent: a second run for the same day changes nothing. Concurrent runs queue on the job lock,
    and the partial unique indexes refuse a second open alert for an item anyway.
    """
    session.flush()
    job_lock(session, "scan")
    today = on or timeutil.today()
    at = timeutil.now()
    rules = AlertRules.load(session)
    th, warnings = prepare_calendar(session, rules, today)

    with _without_nested_loops(session):
        counts: dict[str, Any] = _sync_statuses(session, th, at)
        deadline = _deadline_rule(th, session, at)
        pace = _pace_rule(session, rules, th, at)
        for key in ("raised", "upgraded", "resolved", "cancelled"):
            counts[key] = deadline.get(key, 0) + pace.get(key, 0)
        counts["placed"] = keep_in_step(session)
        counts["events"] = record_events(session, today, at)
        counts["open"] = open_counts(session)
    counts["thresholds"] = {
        "overdue_before": th.overdue_before.isoformat(),
        "severe_before": th.severe_before.isoformat(),
        "due_soon_until": th.due_soon_until.isoformat() if th.due_soon_until else None,
    }
    if warnings:
        counts["warnings"] = warnings
    session.expire_all()  # the statements changed rows behind the identity map
    return counts


# ---------------------------------------------------------------------------------------------------
# Badges: the most severe open alert of each task or milestone
# ---------------------------------------------------------------------------------------------------


def _most_severe(rows: Iterable[tuple[int, AlertLevel]]) -> dict[int, AlertLevel]:
    out: dict[int, AlertLevel] = {}
    for item_id, level in rows:
        if item_id not in out or LEVEL_RANK[level] > LEVEL_RANK[out[item_id]]:
            out[item_id] = level
    return out


def open_alert_levels(session: Session, task_ids: Iterable[int]) -> dict[int, AlertLevel]:
    """{task id: level} of the tasks' own open alerts (not their milestones'), skipping finished tasks."""
    ids = list(set(task_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Alert.task_id, Alert.level).join(Task, Task.id == Alert.task_id)
        .where(Alert.status == AlertStatus.OPEN, Alert.target == AlertTarget.TASK, Alert.task_id.in_(ids),
               Task.status.in_(OPEN_STATUSES))
    )
    return _most_severe((i, lvl) for i, lvl in rows if i is not None)


def open_milestone_alert_levels(session: Session, milestone_ids: Iterable[int]) -> dict[int, AlertLevel]:
    """{milestone id: level} of open milestone alerts, skipping finished milestones and tasks."""
    ids = list(set(milestone_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Alert.milestone_id, Alert.level)
        .join(Milestone, Milestone.id == Alert.milestone_id).join(Task, Task.id == Milestone.task_id)
        .where(Alert.status == AlertStatus.OPEN, Alert.target == AlertTarget.MILESTONE,
               Alert.milestone_id.in_(ids), Milestone.status.in_(OPEN_MILESTONE_STATUSES),
               Task.status.in_(OPEN_STATUSES))
    )
    return _most_severe((i, lvl) for i, lvl in rows if i is not None)


@dataclass
class TaskAlerts:
    task: AlertLevel | None
    milestones: list[tuple[Milestone, AlertLevel]]

    @property
    def any(self) -> bool:
        return self.task is not None or bool(self.milestones)


def task_alerts(session: Session, task: Task) -> TaskAlerts:
    """The task page's badges: the task's level and each alerted milestone's."""
    levels = open_milestone_alert_levels(session, [m.id for m in task.milestones])
    return TaskAlerts(task=open_alert_levels(session, [task.id]).get(task.id),
                      milestones=[(m, levels[m.id]) for m in task.milestones if m.id in levels])
