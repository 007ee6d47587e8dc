"""Benchmark of the overdue engine at province scale (a script, not a test).

    .venv/bin/python -m tests.bench.scan_bench                      # SQLite and PostgreSQL
    .venv/bin/python -m tests.bench.scan_bench --no-postgres        # SQLite only
    .venv/bin/python -m tests.bench.scan_bench --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

It builds a fresh database of each kind (PostgreSQL: a new database created and dropped again), fills it
with tests/bench/dataset.py's province (1 province, 11 cities, 90 counties, 100 plans, 30,000 tasks,
120,000 milestones, ...) and times, on 2026-11-22:

* a naive per-row ORM loop doing the scan's work (status, audit entry and alert per task and milestone),
* the set-based scan on the same data (after putting the data back), and checks both produce the same alerts,
* the second scan of the day (changes nothing) and the next day's scan,
* composing the daily digests of every department's users,
* the overdue list page, its JSON and the Excel export of every open alert, as the province's supervisor.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, create_engine, delete, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tracker import create_app, timeutil
from tracker.alerts.models import Alert, AlertLevel, AlertRule, AlertStatus, AlertTarget, ResolveReason
from tracker.alerts.services import ACTIVE_STAGES, AlertRules, level_of, prepare_calendar, scan
from tracker.audit import AuditEntry
from tracker.notifications.channels import Channels
from tracker.notifications.models import Event, Notification
from tracker.notifications.services import compose_digests
from tracker.schema import upgrade_database
from tracker.tasks.models import Milestone, MilestoneStatus, Task, TaskLevel, TaskStatus

from .dataset import PASSWORD, TODAY, analyze, generate


@dataclass
class Result:
    label: str
    figures: dict[str, Any] = field(default_factory=dict)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def reset(session: Session) -> None:
    """Put the data back as generated: no alerts, their events or scan audit entries, no 已逾期 statuses."""
    session.execute(delete(Event).where(Event.subject_type == Alert.__tablename__))
    session.execute(delete(Alert))
    session.execute(delete(AuditEntry.__table__))
    session.execute(update(Task).where(Task.status == TaskStatus.OVERDUE).values(
        status=case((Task.progress > 0, TaskStatus.IN_PROGRESS.value), else_=TaskStatus.NOT_STARTED.value))
        .execution_options(synchronize_session=False))
    session.execute(update(Milestone).where(Milestone.status == MilestoneStatus.OVERDUE)
                    .values(status=MilestoneStatus.PENDING.value).execution_options(synchronize_session=False))
    session.commit()


# ---------------------------------------------------------------------------------------------------
# The naive loop: the same work, one row at a time through the ORM
# ---------------------------------------------------------------------------------------------------


def naive_scan(session: Session, today: date) -> dict[str, int]:
    rules = AlertRules.load(session)
    th, _ = prepare_calendar(session, rules, today)
    at = timeutil.now()
    counts = {"raised": 0, "upgraded": 0, "resolved": 0, "cancelled": 0}
    open_statuses = (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.OVERDUE)

    def audit(obj: Any, before: str, after: str) -> None:
        session.add(AuditEntry(at=at, actor_id=None, object_type=obj.__tablename__, object_id=obj.id,
                               action="scan", summary="逾期扫描", changes={"status": [before, after]}))

    def settle(alert: Alert | None, level: AlertLevel | None, target: AlertTarget, task: Task,
               milestone: Milestone | None, due: date | None) -> None:
        if alert is not None and alert.due_date != due:
            alert.status, alert.resolved_at = AlertStatus.RESOLVED, at
            alert.resolved_reason = ResolveReason.DEADLINE_CHANGED.value
            counts["resolved"] += 1
            alert = None
        if alert is not None and level is None:
            alert.status, alert.resolved_at = AlertStatus.CANCELLED, at
            alert.resolved_reason = ResolveReason.NOT_APPLICABLE.value
            counts["cancelled"] += 1
        elif alert is not None and alert.level != level:
            alert.level, alert.level_changed_on = level, today
            counts["upgraded"] += 1
        elif alert is None and level is not None:
            session.add(Alert(rule=AlertRule.DEADLINE, level=level, target=target, task_id=task.id,
                              milestone_id=milestone.id if milestone else None, due_date=due,
                              status=AlertStatus.OPEN, raised_on=today, level_changed_on=today))
            counts["raised"] += 1

    for task in session.scalars(select(Task).where(Task.level != TaskLevel.CHAPTER)):
        active = task.plan.stage in ACTIVE_STAGES
        candidate = active and task.status in open_statuses and task.deadline is not None
        if candidate and task.status != TaskStatus.OVERDUE and task.deadline < th.overdue_before:
            audit(task, task.status.label, TaskStatus.OVERDUE.label)
            task.status = TaskStatus.OVERDUE
        alert = session.scalar(select(Alert).where(Alert.status == AlertStatus.OPEN, Alert.target == AlertTarget.TASK,
                                                   Alert.rule == AlertRule.DEADLINE, Alert.task_id == task.id))
        if alert is not None and task.status == TaskStatus.DONE:
            alert.status, alert.resolved_at, alert.resolved_reason = AlertStatus.RESOLVED, at, "done"
            counts["resolved"] += 1
            continue
        settle(alert, level_of(task.deadline, th) if candidate else None, AlertTarget.TASK, task, None, task.deadline)

    for milestone in session.scalars(select(Milestone)):
        task = session.get(Task, milestone.task_id)
        assert task is not None
        candidate = (task.plan.stage in ACTIVE_STAGES and task.status in open_statuses
                     and milestone.status in (MilestoneStatus.PENDING, MilestoneStatus.OVERDUE))
        if candidate and milestone.status == MilestoneStatus.PENDING and milestone.due_date < th.overdue_before:
            audit(milestone, milestone.status.label, MilestoneStatus.OVERDUE.label)
            milestone.status = MilestoneStatus.OVERDUE
        alert = session.scalar(select(Alert).where(Alert.status == AlertStatus.OPEN,
                                                   Alert.target == AlertTarget.MILESTONE,
                                                   Alert.rule == AlertRule.DEADLINE, Alert.milestone_id == milestone.id))
        settle(alert, level_of(milestone.due_date, th) if candidate else None, AlertTarget.MILESTONE, task, milestone,
               milestone.due_date)
    return counts


def alert_set(session: Session) -> set[tuple[Any, ...]]:
    return set(session.execute(select(Alert.target, Alert.task_id, Alert.milestone_id, Alert.level, Alert.due_date)
                               .where(Alert.status == AlertStatus.OPEN)).all())


# ---------------------------------------------------------------------------------------------------
# One database
# ---------------------------------------------------------------------------------------------------


def run(url: str, label: str, instance: Path) -> Result:
    result = Result(label)
    print(f"\n--- {label} ---", flush=True)
    t, _ = _timed(lambda: upgrade_database(url))
    print(f"schema (alembic upgrade): {t:.1f} s", flush=True)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": instance, "TESTING": True})
    factory = app.extensions["tracker.sessions"]
    with timeutil.frozen(TODAY):
        with factory() as session:
            t, sizes = _timed(lambda: generate(session))
        result.figures["generate"] = t
        result.figures["sizes"] = sizes
        print(f"dataset: {sizes} in {t:.1f} s", flush=True)

        with factory() as session:
            t, naive = _timed(lambda: (naive_scan(session, TODAY), session.commit())[0])
            naive_alerts = alert_set(session)
        result.figures["naive"] = t
        print(f"naive per-row ORM loop: {t:.2f} s {naive}", flush=True)

        with factory() as session:
            reset(session)
        with factory() as session:
            t, counts = _timed(lambda: (scan(session, TODAY), session.commit())[0])
            same = alert_set(session) == naive_alerts
        result.figures.update(scan=t, raised=counts["raised"], open=counts["open"], same=same,
                              statuses=counts["tasks_overdue"] + counts["milestones_overdue"])
        print(f"set-based scan: {t:.3f} s raised={counts['raised']} open={counts['open']} same alerts as loop: {same}",
              flush=True)

        analyze(factory)  # autovacuum (PostgreSQL) or PRAGMA optimize (SQLite) would, after 14,000 new rows
        with factory() as session:
            t, again = _timed(lambda: (scan(session, TODAY), session.commit())[0])
        changed = sum(again[k] for k in ("raised", "upgraded", "resolved", "cancelled", "tasks_overdue"))
        result.figures.update(second=t, second_changes=changed)
        print(f"second scan, same day: {t:.3f} s, changes: {changed}", flush=True)

        with factory() as session:
            t, counts_digest = _timed(lambda: (compose_digests(session, TODAY, Channels()), session.commit())[0])
            messages = session.scalar(select(func.count()).select_from(Notification))
        result.figures.update(digest=t, digest_messages=messages, digest_departments=counts_digest["departments"])
        print(f"daily digests: {t:.2f} s, {messages} messages to the users of {counts_digest['departments']} "
              f"departments", flush=True)

    next_day = TODAY + timedelta(days=1)
    with timeutil.frozen(next_day), factory() as session:
        t, nxt = _timed(lambda: (scan(session, next_day), session.commit())[0])
    result.figures.update(next_day=t, next_day_counts={k: nxt[k] for k in ("raised", "upgraded", "resolved")})
    print(f"next day's scan: {t:.3f} s {result.figures['next_day_counts']}", flush=True)

    with timeutil.frozen(next_day):
        client = app.test_client()
        response = client.post("/login", data={"username": "sup1", "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        for name, path in (("page", "/alerts/overdue"), ("json", "/alerts/overdue.json")):
            times = []
            for _ in range(11):
                start = time.perf_counter()
                r = client.get(path)
                times.append(time.perf_counter() - start)
                assert r.status_code == 200
            result.figures[name] = (statistics.median(times), sorted(times)[-1])
            print(f"overdue list {name}: median {statistics.median(times) * 1000:.0f} ms", flush=True)
        start = time.perf_counter()
        r = client.get("/alerts/overdue/export.xlsx")
        result.figures["export"] = time.perf_counter() - start
        assert r.status_code == 200
        with factory() as session:
            rows = session.scalar(select(func.count()).select_from(Alert).where(Alert.status == AlertStatus.OPEN))
        result.figures["export_rows"] = rows
        print(f"Excel export of all {rows} open alerts: {result.figures['export']:.2f} s ({len(r.data) // 1024} KiB)",
              flush=True)
    app.extensions["tracker.engine"].dispose()
    return result


def report(results: list[Result]) -> None:
    def row(label: str, fmt: Callable[[Result], str]) -> None:
        print(f"{label:<42}" + "".join(f"{fmt(r):>18}" for r in results))

    sizes = results[0].figures["sizes"]
    print("\n" + "=" * (42 + 18 * len(results)))
    print("Overdue engine at province scale, " + ", ".join(f"{v:,} {k}" for k, v in sizes.items()))
    print("=" * (42 + 18 * len(results)))
    row("", lambda r: r.label)
    row("generate dataset (batched inserts)", lambda r: f"{r.figures['generate']:.1f} s")
    row("naive per-row ORM loop", lambda r: f"{r.figures['naive']:.2f} s")
    row("set-based scan (full, first of the day)", lambda r: f"{r.figures['scan']:.3f} s")
    row("ratio loop / scan", lambda r: f"{r.figures['naive'] / r.figures['scan']:.0f}x")
    row("alerts raised (same set as the loop)", lambda r: f"{r.figures['raised']:,} ({'yes' if r.figures['same'] else 'NO'})")
    row("statuses set to 已逾期", lambda r: f"{r.figures['statuses']:,}")
    row("second scan, same day (changes)", lambda r: f"{r.figures['second']:.3f} s ({r.figures['second_changes']})")
    row("next day's scan", lambda r: f"{r.figures['next_day']:.3f} s")
    row("daily digests (messages)", lambda r: f"{r.figures['digest']:.2f} s ({r.figures['digest_messages']:,})")
    row("overdue list page, median (max)", lambda r: f"{r.figures['page'][0] * 1000:.0f} ({r.figures['page'][1] * 1000:.0f}) ms")
    row("overdue list JSON, median (max)", lambda r: f"{r.figures['json'][0] * 1000:.0f} ({r.figures['json'][1] * 1000:.0f}) ms")
    row("Excel export of every open alert", lambda r: f"{r.figures['export']:.2f} s ({r.figures['export_rows']:,})")
    ok = all(r.figures["scan"] < 2 and r.figures["naive"] / r.figures["scan"] >= 20 and r.figures["same"]
             for r in results)
    print(f"\ntarget (full scan < 2 s, >= 20x the loop, same alerts): {'met' if ok else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server to create the benchmark database on")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        results.append(run(f"sqlite:///{Path(tmp) / 'bench.db'}", "SQLite", Path(tmp) / "instance"))
        if not args.no_postgres:
            admin_url = make_url(args.pg)
            name = f"tracker_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = admin_url.set(database=name).render_as_string(hide_password=False)
                results.append(run(url, "PostgreSQL", Path(tmp) / "instance"))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
