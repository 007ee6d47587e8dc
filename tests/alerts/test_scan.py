"""The overdue scan: levels by date and working days, resolution, idempotence and concurrency."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.alerts.models import Alert, AlertLevel, AlertRule, AlertStatus, AlertTarget, ResolveReason
from tracker.alerts.services import (
    AlertRules,
    open_alert_levels,
    open_milestone_alert_levels,
    scan,
    thresholds,
)
from tracker.audit import AuditEntry
from tracker.config import PROJECT_ROOT
from tracker.planning.models import PlanStage
from tracker.scheduler import run_job
from tracker.system import calendar as workdays
from tracker.system.models import CalendarYear, JobRun, JobStatus
from tracker.system.services import load_library_year, update_settings
from tracker.tasks.models import MilestoneStatus, Task, TaskLevel, TaskStatus

from .conftest import open_alerts
from .world import World


def _alerts(session: Session, **where: object) -> list[Alert]:
    session.expire_all()
    stmt = select(Alert).order_by(Alert.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(Alert, key) == value)
    return list(session.scalars(stmt))


def test_due_today_is_not_overdue_and_the_day_after_is(session: Session, world: World, run_scan) -> None:
    task = world.task(session, date(2026, 11, 22))
    session.commit()

    counts = run_scan()
    (alert,) = _alerts(session)
    assert (alert.level, alert.target, alert.task_id, alert.due_date) == (
        AlertLevel.DUE_SOON, AlertTarget.TASK, task.id, date(2026, 11, 22))
    assert counts["raised"] == 1
    assert session.get(type(task), task.id).status == TaskStatus.IN_PROGRESS

    with timeutil.frozen("2026-11-23"):
        counts = run_scan()
    (alert,) = _alerts(session)
    assert alert.level == AlertLevel.OVERDUE and alert.status == AlertStatus.OPEN
    assert alert.raised_on == date(2026, 11, 22) and alert.level_changed_on == date(2026, 11, 23)
    assert counts["upgraded"] == 1 and counts["raised"] == 0
    refreshed = session.get(type(task), task.id)
    assert refreshed.status == TaskStatus.OVERDUE
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "tasks",
                                                     AuditEntry.object_id == task.id)).one()
    assert entry.actor_id is None and entry.changes == {"status": ["进行中", "已逾期"]}


def test_due_soon_counts_working_days_across_the_national_day_holiday(session: Session, world: World,
                                                                      run_scan) -> None:
    # Friday 2025-09-26; then 9/28 (make-up Sunday), 9/29, 9/30, holiday 10/1–10/8, 10/9, 10/10.
    fifth = world.task(session, date(2025, 10, 10))
    sixth = world.task(session, date(2025, 10, 11))
    beyond = world.task(session, date(2025, 10, 13))
    session.commit()
    with timeutil.frozen("2025-09-26"):
        run_scan()
    assert session.get(CalendarYear, 2025).source == "chinese-calendar"
    levels = open_alert_levels(session, [fifth.id, sixth.id, beyond.id])
    assert levels == {fifth.id: AlertLevel.DUE_SOON}  # 14 calendar days away, but 5 working days


def test_a_make_up_saturday_counts_as_a_working_day(session: Session, world: World, run_scan) -> None:
    load_library_year(session, None, 2025)
    calendar = workdays.work_calendar(session)
    assert calendar.is_working_day(date(2025, 10, 11))  # Saturday, 调休上班
    assert not calendar.is_working_day(date(2025, 10, 8))  # Wednesday, 国庆节
    assert calendar.add_working_days(date(2025, 10, 3), 3) == date(2025, 10, 11)
    # From the holiday 10/3: 10/9, 10/10, 10/11 (Saturday), 10/13, 10/14 are the next five working days.
    in_window = world.task(session, date(2025, 10, 14))
    outside = world.task(session, date(2025, 10, 15))
    session.commit()
    with timeutil.frozen("2025-10-03"):
        run_scan()
    assert open_alert_levels(session, [in_window.id, outside.id]) == {in_window.id: AlertLevel.DUE_SOON}


def test_severe_after_m_calendar_days(session: Session, world: World, run_scan) -> None:
    thirty = world.task(session, date(2026, 10, 23))  # 30 days past on 11-22: still 逾期
    thirty_one = world.task(session, date(2026, 10, 22))
    session.commit()
    run_scan()
    assert open_alert_levels(session, [thirty.id, thirty_one.id]) == {
        thirty.id: AlertLevel.OVERDUE, thirty_one.id: AlertLevel.SEVERE}

    update_settings(session, world.users["admin"], {"alerts.severe_after_days": 10})
    session.commit()
    counts = run_scan()
    assert counts["upgraded"] == 1
    assert open_alert_levels(session, [thirty.id]) == {thirty.id: AlertLevel.SEVERE}


def test_milestones_get_their_own_alerts(session: Session, world: World, run_scan) -> None:
    task = world.task(session, date(2026, 12, 31))
    late = world.milestone(session, task, date(2026, 11, 1))
    soon = world.milestone(session, task, date(2026, 11, 25))
    later = world.milestone(session, task, date(2026, 12, 20))
    session.commit()
    run_scan()
    assert open_alert_levels(session, [task.id]) == {}
    assert open_milestone_alert_levels(session, [late.id, soon.id, later.id]) == {
        late.id: AlertLevel.OVERDUE, soon.id: AlertLevel.DUE_SOON}
    session.expire_all()
    assert session.get(type(late), late.id).status == MilestoneStatus.OVERDUE


def test_done_items_resolve_their_alerts(session: Session, world: World, run_scan) -> None:
    task = world.task(session, date(2026, 11, 1))
    other = world.task(session, date(2026, 12, 31))
    milestone = world.milestone(session, other, date(2026, 11, 10))
    session.commit()
    run_scan()
    assert len(_alerts(session, status=AlertStatus.OPEN)) == 2

    task = session.get(type(task), task.id)
    task.status, task.completed_on, task.progress = TaskStatus.DONE, date(2026, 11, 22), 100
    milestone = session.get(type(milestone), milestone.id)
    milestone.status, milestone.completed_on = MilestoneStatus.DONE, date(2026, 11, 20)
    session.commit()  # the alerts close with their items, in the same transaction
    resolved = _alerts(session, status=AlertStatus.RESOLVED)
    assert len(resolved) == 2 and {a.resolved_reason for a in resolved} == {ResolveReason.DONE.value}
    assert all(a.resolved_at is not None for a in resolved)
    assert _alerts(session, status=AlertStatus.OPEN) == []
    assert run_scan()["resolved"] == 0  # nothing left for the scan


def test_the_scan_closes_and_places_what_statements_past_the_orm_changed(session: Session, world: World,
                                                                        run_scan) -> None:
    """A status or lead department written by a statement (not through the ORM) is caught up by the next scan."""
    done = world.task(session, date(2026, 11, 1))
    moved = world.task(session, date(2026, 11, 2))
    session.commit()
    run_scan()
    session.execute(update(Task).where(Task.id == done.id).values(status=TaskStatus.DONE, completed_on=date(2026, 11, 20), progress=100))
    session.execute(update(Task).where(Task.id == moved.id).values(lead_department_id=world.depts["yz"].id))
    session.commit()
    counts = run_scan()
    assert counts["resolved"] == 1 and counts["placed"] == 1
    (alert,) = _alerts(session, status=AlertStatus.OPEN)
    assert (alert.task_id, alert.department_id) == (moved.id, world.depts["yz"].id)
    assert run_scan()["placed"] == 0


def test_a_moved_deadline_resolves_and_re_evaluates(session: Session, world: World, run_scan) -> None:
    task = world.task(session, date(2026, 11, 1), progress=40)
    session.commit()
    run_scan()
    (first,) = _alerts(session)
    assert first.level == AlertLevel.OVERDUE

    # an approved adjustment moves the deadline to three working days from now: due soon, not overdue
    task = session.get(type(task), task.id)
    task.deadline = date(2026, 11, 25)
    session.commit()
    counts = run_scan()
    assert counts["resolved"] == 1 and counts["raised"] == 1
    old, new = _alerts(session)
    assert (old.status, old.resolved_reason) == (AlertStatus.RESOLVED, ResolveReason.DEADLINE_CHANGED.value)
    assert (new.status, new.level, new.due_date) == (AlertStatus.OPEN, AlertLevel.DUE_SOON, date(2026, 11, 25))
    assert session.get(type(task), task.id).status == TaskStatus.IN_PROGRESS  # no longer 已逾期

    task = session.get(type(task), task.id)
    task.deadline = date(2027, 6, 30)
    session.commit()
    run_scan()
    assert _alerts(session, status=AlertStatus.OPEN) == []


def test_suspended_tasks_and_inactive_plans_raise_nothing(session: Session, world: World, run_scan) -> None:
    task = world.task(session, date(2026, 11, 1))
    world.task(session, date(2026, 11, 1), status=TaskStatus.SUSPENDED, status_note="暂缓")
    world.task(session, date(2026, 11, 1), level=TaskLevel.CHAPTER, lead_department=None)
    world.plans["b"].stage = PlanStage.ARCHIVED
    world.task(session, date(2026, 11, 1), plan="b", lead="b_jk")
    session.commit()
    run_scan()
    assert [a.task_id for a in _alerts(session)] == [task.id]

    task = session.get(type(task), task.id)
    task.status, task.status_note = TaskStatus.TERMINATED, "终止"
    session.commit()  # cancelled with the task, in the same transaction
    assert run_scan()["cancelled"] == 0
    (alert,) = _alerts(session)
    assert (alert.status, alert.resolved_reason) == (AlertStatus.CANCELLED, ResolveReason.NOT_APPLICABLE.value)


def test_a_deadline_on_a_holiday_rolls_forward_only_when_the_setting_says_so(session: Session, world: World,
                                                                            run_scan) -> None:
    task = world.task(session, date(2025, 10, 5))  # Sunday inside the National Day holiday
    session.commit()
    with timeutil.frozen("2025-10-09"):  # first working day after the holiday
        run_scan()
        assert open_alert_levels(session, [task.id]) == {task.id: AlertLevel.OVERDUE}
        update_settings(session, world.users["admin"], {"alerts.holiday_rolls_forward": True})
        session.commit()
        run_scan()
        # counted from 10-09, the deadline is today: due, not late
        assert open_alert_levels(session, [task.id]) == {task.id: AlertLevel.DUE_SOON}
    with timeutil.frozen("2025-10-10"):
        run_scan()
        assert open_alert_levels(session, [task.id]) == {task.id: AlertLevel.OVERDUE}


def test_thresholds_with_rolling_deadlines() -> None:
    calendar = workdays.WorkCalendar(holidays={date(2025, 10, d) for d in range(1, 9)},
                                     workdays={date(2025, 9, 28), date(2025, 10, 11)}, known_years={2025})
    th = thresholds(calendar, AlertRules(holiday_rolls_forward=True, severe_after_days=30), date(2025, 10, 9))
    assert th.overdue_before == date(2025, 10, 1)  # 10-01 … 10-08 all count from 10-09
    th = thresholds(calendar, AlertRules(), date(2025, 10, 9))
    assert th.overdue_before == date(2025, 10, 9) and th.due_soon_until == date(2025, 10, 15)


def test_pace_rule_flags_tasks_behind_their_time(session: Session, world: World, run_scan) -> None:
    behind = world.task(session, date(2026, 12, 31), start_date=date(2026, 1, 1), progress=20)
    on_track = world.task(session, date(2026, 12, 31), start_date=date(2026, 1, 1), progress=80)
    session.commit()
    run_scan()
    assert _alerts(session, rule=AlertRule.PACE) == []  # off by default

    update_settings(session, world.users["admin"], {"alerts.pace_enabled": True, "alerts.pace_threshold": 30})
    session.commit()
    run_scan()
    assert open_alert_levels(session, [behind.id, on_track.id]) == {behind.id: AlertLevel.LAGGING}

    task = session.get(type(behind), behind.id)
    task.progress = 75
    session.commit()
    run_scan()
    (alert,) = _alerts(session, rule=AlertRule.PACE)
    assert (alert.status, alert.resolved_reason) == (AlertStatus.RESOLVED, ResolveReason.CAUGHT_UP.value)


def test_a_year_without_calendar_data_is_a_warning_not_a_crash(app: Flask, session: Session, world: World) -> None:
    task = world.task(session, date(2027, 1, 5))
    session.commit()
    with timeutil.frozen("2026-12-30"):
        run = run_job(app, "scan")
    assert run.status == JobStatus.SUCCEEDED
    assert any("2027年节假日数据缺失" in w for w in run.counts["warnings"])
    # weekdays stand in for 2027: 12-31, 01-01, 01-04, 01-05 → due within 5 working days
    assert open_alert_levels(session, [task.id]) == {task.id: AlertLevel.DUE_SOON}
    stored = session.get(JobRun, run.id)
    assert stored is not None and stored.counts["warnings"] == run.counts["warnings"]


def test_the_scan_twice_changes_nothing(app: Flask, session: Session, world: World, run_scan) -> None:
    task = world.task(session, date(2026, 10, 1))
    world.task(session, date(2026, 11, 24))
    world.milestone(session, task, date(2026, 9, 1))
    session.commit()
    first = run_scan()
    before = open_alerts(session)
    audit_before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    second = run_scan()
    assert open_alerts(session) == before and len(before) == 3
    assert first["raised"] == 3
    assert {k: second[k] for k in ("raised", "upgraded", "resolved", "cancelled", "tasks_overdue",
                                   "milestones_overdue")} == dict.fromkeys(
        ("raised", "upgraded", "resolved", "cancelled", "tasks_overdue", "milestones_overdue"), 0)
    assert session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) == audit_before


def _seed_for_concurrency(session: Session, world: World) -> None:
    for i in range(40):
        task = world.task(session, date(2026, 9, 1 + i % 28), code=f"c{i}")
        world.milestone(session, task, date(2026, 8, 1 + i % 28))
        world.task(session, date(2026, 11, 23 + i % 3), code=f"s{i}")
    session.commit()


def test_two_scans_at_once_in_threads_give_one_set_of_alerts(app: Flask, session: Session, world: World) -> None:
    _seed_for_concurrency(session, world)
    barrier = threading.Barrier(2)
    runs: list[JobRun] = []

    def worker() -> None:
        barrier.wait()
        runs.append(run_job(app, "scan"))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r.status for r in runs] == [JobStatus.SUCCEEDED] * 2, [r.error for r in runs]
    assert sorted(r.counts["raised"] for r in runs) == [0, 120]
    alerts = open_alerts(session)
    assert len(alerts) == 120 and len(set(alerts)) == 120


def test_two_scans_at_once_in_two_processes_give_one_set_of_alerts(app: Flask, session: Session, world: World,
                                                                   tmp_path) -> None:  # type: ignore[no-untyped-def]
    _seed_for_concurrency(session, world)
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "TRACKER_INSTANCE": str(tmp_path)}
    command = [sys.executable, "-c", "from tracker.cli import main; main()", "run-job", "scan", "--date",
               "2026-11-22"]
    procs = [subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    runs = list(session.scalars(select(JobRun).where(JobRun.job == "scan")))
    assert sorted(r.counts["raised"] for r in runs) == [0, 120]
    assert len(open_alerts(session)) == 120


def test_open_alert_levels_give_the_most_severe_and_skip_finished_items(session: Session, world: World,
                                                                         run_scan) -> None:
    overdue = world.task(session, date(2026, 11, 1), start_date=date(2026, 1, 1), progress=0)
    done = world.task(session, date(2026, 11, 1))
    update_settings(session, world.users["admin"], {"alerts.pace_enabled": True})
    session.commit()
    run_scan()
    done = session.get(type(done), done.id)
    done.status, done.completed_on = TaskStatus.DONE, date(2026, 11, 22)
    session.add(Alert(rule=AlertRule.PACE, level=AlertLevel.LAGGING, target=AlertTarget.TASK, task_id=overdue.id,
                      due_date=overdue.deadline, raised_on=date(2026, 11, 22), level_changed_on=date(2026, 11, 22)))
    session.commit()
    assert open_alert_levels(session, [overdue.id, done.id, 999999]) == {overdue.id: AlertLevel.OVERDUE}
    assert open_alert_levels(session, []) == {}


@pytest.mark.parametrize("username", ["planner"])
def test_the_task_page_shows_the_alert_badge(client, session: Session, world: World, run_scan,
                                             username: str) -> None:  # type: ignore[no-untyped-def]
    from ..conftest import login

    task = world.task(session, date(2026, 10, 1))
    world.milestone(session, task, date(2026, 11, 24), title="完成验收")
    session.commit()
    run_scan()
    login(client, username)
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'class="badge alert-severe"' in html
    assert "节点“完成验收”临期" in html


def _scan_watching_statements(session: Session, before: Callable[..., None]) -> None:
    """Scan on 2026-11-22 with ``before`` called before each statement the engine sends (the cursor, the statement and
    its parameters, as SQLAlchemy's ``before_cursor_execute``)."""
    from sqlalchemy import event

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    try:
        with timeutil.frozen(date(2026, 11, 22)):
            scan(session)
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_on_postgresql_the_scan_joins_sets_by_hashing_even_into_an_empty_table(session: Session, world: World,
                                                                               run_scan) -> None:
    """Before the first scan the planner believes the alerts table empty, and would read it again for each new
    alert as the INSERT … SELECT fills it (a nation's first scan: minutes). The scan's statements run without
    nested loops, and the setting ends with the scan."""
    if session.get_bind().dialect.name != "postgresql":
        return
    world.task(session, date(2026, 11, 1))
    session.commit()
    seen: list[str] = []

    def before(_conn: object, cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith(("INSERT INTO alerts", "INSERT INTO events", "UPDATE tasks", "UPDATE alerts")):
            cursor.execute("SHOW enable_nestloop")
            seen.append(cursor.fetchone()[0])

    _scan_watching_statements(session, before)
    assert len(seen) > 5 and set(seen) == {"off"}
    assert session.connection().exec_driver_sql("SHOW enable_nestloop").scalar() == "on"
    session.commit()
    assert _alerts(session, status=AlertStatus.OPEN)


def test_the_columns_the_scan_sets_are_in_no_index_so_that_postgresql_writes_them_in_place(session: Session) -> None:
    """Marking a nation's 97,508 tasks 已逾期 re-entered each row in all nine of the task's indexes (the search's
    characters and pairs among them: 7 s); with none of the columns the scan sets indexed, and room kept on the
    pages, PostgreSQL writes the new row version beside the old one and touches no index."""
    from sqlalchemy import inspect, text

    written = {"status", "version_id", "updated_at"}
    inspector = inspect(session.connection())
    for table in ("tasks", "milestones"):
        for index in inspector.get_indexes(table):
            assert not written & set(index["column_names"]), (table, index["name"])
    if session.get_bind().dialect.name == "postgresql":
        options = dict(session.execute(text(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN ('tasks', 'milestones')")).all())
        assert options == {"tasks": ["fillfactor=70"], "milestones": ["fillfactor=80"]}
        # the search index's expressions name only the searched columns
        for (definition,) in session.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE tablename IN ('tasks', 'milestones')")):
            assert not any(f"({column}" in definition or f" {column}" in definition for column in written), definition


def test_the_days_events_are_checked_alert_by_alert_through_the_subject_index(session: Session, world: World) -> None:
    """Whether an alert's event was written already is one probe of ``ix_events_subject`` by the alert's id: a
    bound on the ids read beside it once made SQLite read every event from the bound on for each alert (the
    second scan of a province's day: 0.2 → 8 s)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    world.task(session, date(2026, 11, 1))
    session.commit()
    plans: list[str] = []

    def before(_conn: object, cursor, statement: str, parameters, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO events"):
            select_part = statement[statement.index("SELECT"):]
            plans.extend(row[3] for row in cursor.execute("EXPLAIN QUERY PLAN " + select_part, parameters))

    _scan_watching_statements(session, before)
    probes = [p for p in plans if "events" in p and "ix_events_subject" in p]
    assert probes and all("subject_id=?" in p for p in probes), plans


def test_an_alert_added_through_the_orm_stands_where_its_task_stands(session: Session, world: World) -> None:
    task = world.task(session, date(2026, 11, 1), plan="city", lead="city_jk")
    session.flush()
    alert = Alert(rule=AlertRule.DEADLINE, level=AlertLevel.OVERDUE, target=AlertTarget.TASK, task_id=task.id,
                  due_date=task.deadline, raised_on=date(2026, 11, 2), level_changed_on=date(2026, 11, 2))
    session.add(alert)
    session.commit()
    session.refresh(alert)
    assert (alert.plan_id, alert.region_id, alert.department_id) == (
        world.plans["city"].id, world.city.id, world.depts["city_jk"].id)
