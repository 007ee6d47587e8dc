"""The overdue scan under faults, on the demo data: two schedulers starting it at the same moment, and a
scan killed halfway. Either way the database ends exactly as one clean run on an identical copy leaves it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tracker.alerts.models import Alert
from tracker.audit import AuditEntry
from tracker.config import PROJECT_ROOT
from tracker.scheduler import run_job
from tracker.seeding import RECORDED_ON
from tracker.system.models import JobRun, JobStatus
from tracker.system.services import job_lock
from tracker.tasks.models import Milestone, Task

from ..conftest import make_test_app
from .conftest import backend_alive, lock_waiters, require_postgresql, tables_written, wait_until

FIRST_DAY = RECORDED_ON  # the day the demo data was recorded: the first scan raises every alert
NEXT_DAY = date(2025, 12, 10)  # 18 days on: alerts change level, more work falls overdue


def state(engine: Engine) -> dict[str, Any]:
    """What a scan decides, without ids and timestamps (which differ between copies and runs)."""
    with Session(engine) as s:
        alerts = sorted(s.execute(select(
            Alert.rule, Alert.level, Alert.target, Alert.task_id, Alert.milestone_id, Alert.indicator_id,
            Alert.due_date, Alert.status, Alert.raised_on, Alert.level_changed_on, Alert.resolved_reason,
        )).tuples(), key=repr)
        return {
            "alerts": alerts,
            "tasks": s.execute(select(Task.id, Task.status, Task.version_id).order_by(Task.id)).all(),
            "milestones": s.execute(select(Milestone.id, Milestone.status, Milestone.version_id)
                                    .order_by(Milestone.id)).all(),
            "scan audit": sorted(s.execute(select(AuditEntry.object_type, AuditEntry.object_id, AuditEntry.summary)
                                           .where(AuditEntry.action == "scan")).tuples()),
        }


def scan_runs(engine: Engine) -> list[tuple[date, JobStatus]]:
    with Session(engine) as s:
        return list(s.execute(select(JobRun.run_date, JobRun.status).where(JobRun.job == "scan")
                              .order_by(JobRun.id)).tuples())


STARTUP = 60  # seconds a fresh process may take to import the app on a loaded machine


@pytest.fixture
def run_job_process(tmp_path: Path) -> Iterator[Callable[[str, date], subprocess.Popen[str]]]:
    """Start ``tracker run-job scan --date DAY`` in a process of its own, as cron or a second scheduler
    runs it; whatever is still running at the end of the test is killed."""
    started: list[subprocess.Popen[str]] = []

    def start(database_url: str, day: date) -> subprocess.Popen[str]:
        env = {**os.environ, "DATABASE_URL": database_url, "TRACKER_INSTANCE": str(tmp_path / "instance")}
        process = subprocess.Popen(
            [sys.executable, "-c", "from tracker.cli import main; main()", "run-job", "scan", "--date",
             day.isoformat()],
            env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=STARTUP + 30)
    return process.returncode, out + err


@pytest.fixture
def clean(demo_copy: Callable[[], str], tmp_path: Path) -> Iterator[Flask]:
    """A second app over an identical copy of the demo data, where the scan runs once, undisturbed."""
    app = make_test_app(demo_copy(), tmp_path / "clean")
    yield app
    app.extensions["tracker.engine"].dispose()


def test_two_schedulers_scanning_at_once_leave_one_set_of_alerts(demo: Flask, clean: Flask,
                                                                  run_job_process) -> None:  # type: ignore[no-untyped-def]
    engine = demo.extensions["tracker.engine"]
    postgresql = engine.dialect.name == "postgresql"
    gate = Session(engine)
    try:
        if postgresql:
            job_lock(gate, "scan")  # hold the scan's own lock so that both processes queue on it together
        processes = [run_job_process(demo.config["DATABASE_URL"], FIRST_DAY) for _ in range(2)]
        if postgresql:
            wait_until(lambda: len(lock_waiters(engine, "%pg_advisory_xact_lock%")) == 2,
                       "both scans to wait on the job lock", STARTUP)
    finally:
        gate.rollback()
        gate.close()
    results = [finish(p) for p in processes]
    assert [code for code, _ in results] == [0, 0], results

    assert run_job(clean, "scan", FIRST_DAY).status == JobStatus.SUCCEEDED
    scanned = state(engine)
    assert scanned == state(clean.extensions["tracker.engine"])  # one set of alerts, statuses and audit rows
    assert scanned["alerts"]  # the demo's first scan has plenty to raise
    assert scan_runs(engine) == [(FIRST_DAY, JobStatus.SUCCEEDED)] * 2
    with Session(engine) as s:
        raised = sorted(r.counts["raised"] for r in s.scalars(select(JobRun).where(JobRun.job == "scan")))
    assert raised == [0, len(scanned["alerts"])]  # whichever ran second found nothing left to do


def test_a_scan_killed_halfway_leaves_nothing_and_the_next_run_completes(
        demo: Flask, clean: Flask, run_job_process) -> None:  # type: ignore[no-untyped-def]
    require_postgresql(demo, "SQLite's scan takes the database's write lock in its first statement, so no "
                             "lock held by another connection can stop it halfway")
    engine = demo.extensions["tracker.engine"]
    for app in (demo, clean):  # both copies start from the same scanned day
        assert run_job(app, "scan", FIRST_DAY).status == JobStatus.SUCCEEDED
    before = state(engine)

    # The scan syncs task and milestone statuses first, then works on the alerts: holding the alerts
    # table stops it there, with its status updates done but not committed.
    with engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE"))
        process = run_job_process(demo.config["DATABASE_URL"], NEXT_DAY)
        (pid,) = wait_until(lambda: lock_waiters(engine, "%alerts%"), "the scan to block on the alerts table",
                            STARTUP)
        assert {"tasks", "milestones", "audit_entries"} <= tables_written(engine, pid)  # halfway: statuses done
        process.send_signal(signal.SIGKILL)
        assert finish(process)[0] == -signal.SIGKILL
        blocker.rollback()
    # The orphaned backend finds its client gone once the lock is released, and its transaction ends.
    wait_until(lambda: not backend_alive(engine, pid), "the killed scan's backend to end")
    assert state(engine) == before  # nothing of the killed run stayed
    assert scan_runs(engine) == [(FIRST_DAY, JobStatus.SUCCEEDED)]  # and it left no run record behind

    code, output = finish(run_job_process(demo.config["DATABASE_URL"], NEXT_DAY))
    assert code == 0, output
    assert run_job(clean, "scan", NEXT_DAY).status == JobStatus.SUCCEEDED
    after = state(engine)
    assert after == state(clean.extensions["tracker.engine"])
    assert after != before  # the day's scan did change things
    assert scan_runs(engine) == [(FIRST_DAY, JobStatus.SUCCEEDED), (NEXT_DAY, JobStatus.SUCCEEDED)]
