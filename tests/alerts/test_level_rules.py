"""The deadline rule at its boundaries: the thresholds of a day, ``level_of`` (Python) and ``_level_case`` (the
SQL the scan runs) on each side of every threshold, and the 已逾期 status of tasks and milestones, which
follows the same due-today boundary both ways."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import Date, literal, select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.alerts.models import Alert, AlertLevel, AlertStatus, ResolveReason
from tracker.alerts.services import AlertRules, _level_case, level_of, thresholds
from tracker.audit import AuditEntry
from tracker.planning.models import PlanStage
from tracker.system import calendar as workdays
from tracker.tasks.models import Milestone, MilestoneStatus, Task, TaskLevel, TaskStatus

from .world import World

SEVERE, OVERDUE, DUE_SOON = AlertLevel.SEVERE, AlertLevel.OVERDUE, AlertLevel.DUE_SOON

# 2025: the National Day holiday 10-01…10-08, make-up working days on Sunday 09-28 and Saturday 10-11.
NATIONAL_DAY_2025 = workdays.WorkCalendar(holidays={date(2025, 10, d) for d in range(1, 9)},
                                          workdays={date(2025, 9, 28), date(2025, 10, 11)}, known_years={2025})
# Late November 2026 has no holiday: Monday to Friday.
WEEKDAYS_2026 = workdays.WorkCalendar(known_years={2026})
# A one-day holiday on Monday 2026-11-23: with the weekend before it, three days in a row off.
LONG_WEEKEND_2026 = workdays.WorkCalendar(holidays={date(2026, 11, 23)}, known_years={2026})


@dataclass(frozen=True)
class Day:
    """One day's rules, its thresholds as dates, and the level of deadlines on each side of them."""

    name: str
    calendar: workdays.WorkCalendar
    rules: AlertRules
    today: date
    overdue_before: date
    severe_before: date
    due_soon_until: date | None
    levels: dict[date | None, AlertLevel | None] = field(default_factory=dict)


DAYS = [
    Day("a Sunday, 5 working days ahead, severe after 30 days", WEEKDAYS_2026, AlertRules(), date(2026, 11, 22),
        overdue_before=date(2026, 11, 22), severe_before=date(2026, 10, 23), due_soon_until=date(2026, 11, 27),
        levels={
            date(2026, 10, 22): SEVERE,  # 31 days late
            date(2026, 10, 23): OVERDUE,  # 30 days late: not yet severe
            date(2026, 10, 24): OVERDUE,
            date(2026, 11, 21): OVERDUE,  # one day late
            date(2026, 11, 22): DUE_SOON,  # due today: not late
            date(2026, 11, 23): DUE_SOON,
            date(2026, 11, 26): DUE_SOON,
            date(2026, 11, 27): DUE_SOON,  # the 5th working day: the last one warned about
            date(2026, 11, 28): None,  # the day after (a Saturday)
            date(2026, 11, 30): None,  # the 6th working day
            None: None,
        }),
    Day("one working day ahead, severe after one day", WEEKDAYS_2026,
        AlertRules(due_soon_working_days=1, severe_after_days=1), date(2026, 11, 23),
        overdue_before=date(2026, 11, 23), severe_before=date(2026, 11, 22), due_soon_until=date(2026, 11, 24),
        levels={date(2026, 11, 21): SEVERE, date(2026, 11, 22): OVERDUE, date(2026, 11, 23): DUE_SOON,
                date(2026, 11, 24): DUE_SOON, date(2026, 11, 25): None}),
    Day("no due-soon alerts", WEEKDAYS_2026, AlertRules(due_soon_working_days=0), date(2026, 11, 22),
        overdue_before=date(2026, 11, 22), severe_before=date(2026, 10, 23), due_soon_until=None,
        levels={date(2026, 10, 22): SEVERE, date(2026, 10, 23): OVERDUE, date(2026, 11, 21): OVERDUE,
                date(2026, 11, 22): None, date(2026, 11, 23): None}),
    Day("the first working day after the holiday, deadlines rolling forward", NATIONAL_DAY_2025,
        AlertRules(holiday_rolls_forward=True), date(2025, 10, 9),
        overdue_before=date(2025, 10, 1), severe_before=date(2025, 9, 9), due_soon_until=date(2025, 10, 15),
        levels={
            date(2025, 9, 8): SEVERE,
            date(2025, 9, 9): OVERDUE,
            date(2025, 9, 10): OVERDUE,
            date(2025, 9, 30): OVERDUE,  # the last working day before the holiday
            date(2025, 10, 1): DUE_SOON,  # a holiday deadline counts from today
            date(2025, 10, 8): DUE_SOON,
            date(2025, 10, 9): DUE_SOON,
            date(2025, 10, 14): DUE_SOON,
            date(2025, 10, 15): DUE_SOON,  # 10-10, 10-11 (make-up Saturday), 10-13, 10-14, 10-15
            date(2025, 10, 16): None,
        }),
    Day("the severe threshold falls in the holiday and rolls forward too", NATIONAL_DAY_2025,
        AlertRules(holiday_rolls_forward=True), date(2025, 11, 4),
        overdue_before=date(2025, 11, 4), severe_before=date(2025, 10, 1), due_soon_until=date(2025, 11, 11),
        levels={date(2025, 9, 30): SEVERE, date(2025, 10, 1): OVERDUE, date(2025, 10, 5): OVERDUE,
                date(2025, 11, 3): OVERDUE, date(2025, 11, 4): DUE_SOON, date(2025, 11, 11): DUE_SOON,
                date(2025, 11, 12): None}),
    Day("the same day without rolling forward", NATIONAL_DAY_2025, AlertRules(), date(2025, 11, 4),
        overdue_before=date(2025, 11, 4), severe_before=date(2025, 10, 5), due_soon_until=date(2025, 11, 11),
        levels={date(2025, 10, 1): SEVERE, date(2025, 10, 4): SEVERE, date(2025, 10, 5): OVERDUE,
                date(2025, 11, 3): OVERDUE, date(2025, 11, 4): DUE_SOON}),
    Day("after three days off, deadlines rolling forward", LONG_WEEKEND_2026,
        AlertRules(holiday_rolls_forward=True), date(2026, 11, 24),
        overdue_before=date(2026, 11, 21), severe_before=date(2026, 10, 24), due_soon_until=date(2026, 12, 1),
        levels={date(2026, 10, 23): SEVERE,  # a Friday, 32 days late
                date(2026, 10, 24): OVERDUE,  # the Saturday after it counts from Monday 10-26: 29 days late
                date(2026, 11, 20): OVERDUE, date(2026, 11, 21): DUE_SOON, date(2026, 11, 22): DUE_SOON,
                date(2026, 11, 23): DUE_SOON, date(2026, 12, 1): DUE_SOON, date(2026, 12, 2): None}),
]


def _sql_level(session: Session, deadline: date | None, th: object) -> AlertLevel | None:
    value = session.scalar(select(_level_case(literal(deadline, Date), th)))
    return None if value is None else AlertLevel(value)


@pytest.mark.parametrize("day", DAYS, ids=[d.name for d in DAYS])
def test_thresholds_of_a_day(day: Day) -> None:
    th = thresholds(day.calendar, day.rules, day.today)
    assert (th.today, th.overdue_before, th.severe_before, th.due_soon_until) == (
        day.today, day.overdue_before, day.severe_before, day.due_soon_until)


@pytest.mark.parametrize("day", DAYS, ids=[d.name for d in DAYS])
def test_level_of_and_the_sql_rule_agree_on_each_side_of_every_threshold(session: Session, day: Day) -> None:
    th = thresholds(day.calendar, day.rules, day.today)
    deadlines: set[date | None] = {None, *day.levels}
    for edge in (th.overdue_before, th.severe_before, th.due_soon_until):
        if edge is not None:
            deadlines |= {edge - timedelta(days=1), edge, edge + timedelta(days=1)}
    for deadline in sorted(deadlines, key=lambda d: d or date.min):
        python, sql = level_of(deadline, th), _sql_level(session, deadline, th)
        assert python == sql, f"{day.name}: deadline {deadline}: level_of {python}, SQL {sql}"
        if deadline in day.levels:
            assert python == day.levels[deadline], f"{day.name}: deadline {deadline}"


# -------------------------------------------------------------------------------- statuses in the scan


def _alerts(session: Session, status: AlertStatus | None = None) -> list[Alert]:
    session.expire_all()
    stmt = select(Alert).order_by(Alert.id)
    return list(session.scalars(stmt if status is None else stmt.where(Alert.status == status)))


def _status(session: Session, obj: Task | Milestone) -> tuple[object, int]:
    session.expire_all()
    fresh = session.get(type(obj), obj.id)
    assert fresh is not None
    return fresh.status, fresh.version_id


def _scan_entries(session: Session, obj: Task | Milestone) -> list[dict[str, object]]:
    return [e.changes for e in session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == obj.__tablename__, AuditEntry.object_id == obj.id,
                                 AuditEntry.action == "scan").order_by(AuditEntry.id))]


def test_a_milestone_due_today_is_not_overdue_and_one_due_yesterday_is(session: Session, world: World,
                                                                       run_scan) -> None:
    task = world.task(session, date(2026, 12, 31))
    today = world.milestone(session, task, date(2026, 11, 22))
    yesterday = world.milestone(session, task, date(2026, 11, 21))
    session.commit()
    counts = run_scan()
    assert counts["milestones_overdue"] == 1
    assert _status(session, today) == (MilestoneStatus.PENDING, 1)
    assert _status(session, yesterday) == (MilestoneStatus.OVERDUE, 2)
    assert {(a.milestone_id, a.level) for a in _alerts(session)} == {(today.id, DUE_SOON), (yesterday.id, OVERDUE)}
    assert _scan_entries(session, today) == []
    assert _scan_entries(session, yesterday) == [{"status": ["未完成", "已逾期"]}]

    with timeutil.frozen("2026-11-23"):
        run_scan()
    assert _status(session, today) == (MilestoneStatus.OVERDUE, 2)


def test_a_milestone_moved_to_today_is_no_longer_overdue(session: Session, world: World, run_scan) -> None:
    task = world.task(session, date(2026, 12, 31))
    to_today = world.milestone(session, task, date(2026, 11, 1))
    to_yesterday = world.milestone(session, task, date(2026, 11, 1))
    session.commit()
    run_scan()
    assert _status(session, to_today)[0] == _status(session, to_yesterday)[0] == MilestoneStatus.OVERDUE

    for milestone, due in ((to_today, date(2026, 11, 22)), (to_yesterday, date(2026, 11, 21))):
        session.get(Milestone, milestone.id).due_date = due  # an approved adjustment
    session.commit()
    before = {m.id: _status(session, m)[1] for m in (to_today, to_yesterday)}
    counts = run_scan()
    assert counts["milestones_reopened"] == 1
    assert _status(session, to_today) == (MilestoneStatus.PENDING, before[to_today.id] + 1)
    assert _status(session, to_yesterday) == (MilestoneStatus.OVERDUE, before[to_yesterday.id])
    assert _scan_entries(session, to_today)[-1] == {"status": ["已逾期", "未完成"]}
    open_levels = {a.milestone_id: a.level for a in _alerts(session, AlertStatus.OPEN)}
    assert open_levels == {to_today.id: DUE_SOON, to_yesterday.id: OVERDUE}
    moved = _alerts(session, AlertStatus.RESOLVED)
    assert {(a.milestone_id, a.resolved_reason) for a in moved} == {
        (to_today.id, ResolveReason.DEADLINE_CHANGED.value), (to_yesterday.id, ResolveReason.DEADLINE_CHANGED.value)}


def test_a_task_moved_to_today_is_no_longer_overdue(session: Session, world: World, run_scan) -> None:
    started = world.task(session, date(2026, 11, 1), progress=1)
    not_started = world.task(session, date(2026, 11, 1), progress=0, status=TaskStatus.NOT_STARTED)
    still_late = world.task(session, date(2026, 11, 1), progress=50)
    session.commit()
    run_scan()
    assert {_status(session, t)[0] for t in (started, not_started, still_late)} == {TaskStatus.OVERDUE}

    for task, deadline in ((started, date(2026, 11, 22)), (not_started, date(2026, 11, 22)),
                           (still_late, date(2026, 11, 21))):
        session.get(Task, task.id).deadline = deadline
    session.commit()
    before = {t.id: _status(session, t)[1] for t in (started, not_started, still_late)}
    counts = run_scan()
    assert counts["tasks_reopened"] == 2 and counts["tasks_overdue"] == 0
    assert _status(session, started) == (TaskStatus.IN_PROGRESS, before[started.id] + 1)
    assert _status(session, not_started) == (TaskStatus.NOT_STARTED, before[not_started.id] + 1)
    assert _status(session, still_late) == (TaskStatus.OVERDUE, before[still_late.id])
    assert _scan_entries(session, started)[-1] == {"status": ["已逾期", "进行中"]}
    assert _scan_entries(session, not_started)[-1] == {"status": ["已逾期", "未启动"]}
    assert len(_scan_entries(session, still_late)) == 1


def test_only_open_work_of_plans_being_carried_out_turns_overdue(session: Session, world: World, run_scan) -> None:
    late = date(2026, 11, 1)
    task = world.task(session, late)
    chapter = world.task(session, late, level=TaskLevel.CHAPTER, lead_department=None)
    suspended = world.task(session, date(2026, 12, 31), status=TaskStatus.SUSPENDED, status_note="暂缓")
    done = world.task(session, date(2026, 12, 31), status=TaskStatus.DONE, progress=100,
                      completed_on=date(2026, 10, 1))
    world.plans["b"].stage = PlanStage.ARCHIVED
    archived = world.task(session, late, plan="b", lead="b_jk")
    milestones = {name: world.milestone(session, parent, late)
                  for name, parent in (("open", task), ("suspended", suspended), ("done", done),
                                       ("archived", archived))}
    waived = world.milestone(session, task, late, status=MilestoneStatus.WAIVED)
    session.commit()
    counts = run_scan()
    assert (counts["tasks_overdue"], counts["milestones_overdue"]) == (1, 1)
    assert _status(session, task)[0] == TaskStatus.OVERDUE
    for other, status in ((chapter, TaskStatus.IN_PROGRESS), (suspended, TaskStatus.SUSPENDED),
                          (done, TaskStatus.DONE), (archived, TaskStatus.IN_PROGRESS)):
        assert _status(session, other) == (status, 1)
    assert _status(session, milestones["open"])[0] == MilestoneStatus.OVERDUE
    for name in ("suspended", "done", "archived"):
        assert _status(session, milestones[name]) == (MilestoneStatus.PENDING, 1), name
    assert _status(session, waived) == (MilestoneStatus.WAIVED, 1)
    alerted = {(a.task_id, a.milestone_id) for a in _alerts(session, AlertStatus.OPEN)}
    assert alerted == {(task.id, None), (task.id, milestones["open"].id)}
