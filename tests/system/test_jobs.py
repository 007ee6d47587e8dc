"""Scheduled jobs: the run record, failures, the CLI, the scheduler's set-up and its own process."""

from __future__ import annotations

import time as clock
from datetime import date, datetime, time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.alerts.models import Alert
from tracker.scheduler import JOBS, Job, JobContext, build_scheduler, catch_up, run_chain, run_job
from tracker.system.models import JobRun, JobStatus, Setting

from ..alerts.world import World, build_world
from ..conftest import login


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session)
    w.task(session, date(2026, 10, 1))
    session.commit()
    return w


def test_a_run_is_recorded_with_its_counts(app: Flask, session: Session, world: World) -> None:
    run = run_job(app, "scan")
    assert run.status == JobStatus.SUCCEEDED and run.error is None
    stored = session.get(JobRun, run.id)
    assert stored is not None
    assert (stored.job, stored.run_date, stored.counts["raised"]) == ("scan", date(2026, 11, 22), 1)
    assert stored.started_at <= stored.finished_at and stored.host


def test_a_failing_job_rolls_back_and_records_the_error(app: Flask, session: Session, world: World,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: JobContext) -> dict[str, Any]:
        from tracker.alerts.services import scan

        scan(ctx.session, ctx.day)  # writes alerts …
        ctx.session.add(Setting(key="x", value=1))
        raise RuntimeError("磁盘已满")  # … which must not stay

    monkeypatch.setitem(JOBS, "scan", Job("scan", "逾期扫描", broken, daily_at=time(1, 0)))
    run = run_job(app, "scan")
    assert run.status == JobStatus.FAILED and "RuntimeError: 磁盘已满" in run.error
    assert session.scalar(select(func.count()).select_from(Alert)) == 0
    assert session.get(Setting, "x") is None
    assert session.scalars(select(JobRun.status)).all() == [JobStatus.FAILED]


def test_run_job_command(app: Flask, session: Session, world: World) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["run-job", "scan", "--date", "2026-11-23"])
    assert result.exit_code == 0, result.output
    assert "逾期扫描（2026-11-23）完成" in result.output
    assert session.scalars(select(JobRun.run_date)).all() == [date(2026, 11, 23)]
    result = runner.invoke(args=["run-job", "reminders"])
    assert result.exit_code == 0 and "到期提醒" in result.output and "邮件与机器人发送" in result.output
    assert runner.invoke(args=["run-job", "nonsense"]).exit_code == 2
    assert runner.invoke(args=["run-job", "scan", "--date", "2026-13-01"]).exit_code == 2


def test_run_job_command_fails_loudly(app: Flask, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(ctx: JobContext) -> dict[str, Any]:
        raise ValueError("坏了")

    monkeypatch.setitem(JOBS, "scan", Job("scan", "逾期扫描", broken))
    result = app.test_cli_runner().invoke(args=["run-job", "scan"])
    assert result.exit_code == 1 and "失败：ValueError: 坏了" in result.output


def test_a_chain_runs_followers_after_success(app: Flask, world: World) -> None:
    runs = run_chain(app, "reminders")
    assert [r.job for r in runs] == ["reminders", "deliveries"]


def test_the_scheduler_is_set_up_for_shanghai_with_guards(app: Flask) -> None:
    scheduler = build_scheduler(app)
    assert str(scheduler.timezone) == "Asia/Shanghai"
    assert scheduler._job_defaults == {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {"scan", "indicator_alerts", "reminders", "case_reminders", "report_reminders", "deliveries",
                         "tidy_uploads", "webhooks"}
    assert str(jobs["scan"].trigger) == "cron[hour='1', minute='0']"
    assert str(jobs["reminders"].trigger) == "cron[hour='8', minute='0']"
    assert str(jobs["deliveries"].trigger).startswith("interval[0:01:00]")
    assert jobs["scan"].args[1] == "scan"


def test_every_runs_a_job_each_so_many_seconds_instead_of_at_its_time(app: Flask) -> None:
    jobs = {j.id: j for j in build_scheduler(app, {"scan": 2, "deliveries": 0.5}).get_jobs()}
    assert str(jobs["scan"].trigger).startswith("interval[0:00:02]")
    assert str(jobs["deliveries"].trigger).startswith("interval[0:00:00.500000]")
    assert str(jobs["reminders"].trigger) == "cron[hour='8', minute='0']"


@pytest.mark.parametrize("value", ["nonsense=5", "scan", "scan=0", "scan=-1", "scan=soon"])
def test_every_is_refused_for_an_unknown_job_or_a_bad_interval(app: Flask, value: str) -> None:
    result = app.test_cli_runner().invoke(args=["scheduler", "--every", value])
    assert result.exit_code == 2 and "--every" in result.output


def test_catch_up_runs_todays_missed_daily_jobs_once(app: Flask, session: Session, world: World) -> None:
    with timeutil.frozen(datetime(2026, 11, 22, 0, 30, tzinfo=timeutil.LOCAL_TZ)):
        assert catch_up(app) == []  # nothing is due before 01:00
    runs = catch_up(app)  # 09:00
    assert [r.job for r in runs] == ["scan", "indicator_alerts", "tidy_uploads", "reminders", "deliveries", "case_reminders",
                                     "deliveries",
                                     "report_reminders", "deliveries"]
    assert catch_up(app) == []


def test_the_jobs_page_and_run_now(client: FlaskClient, world: World) -> None:
    login(client, "adm")
    html = client.get("/system/jobs").get_data(as_text=True)
    assert "逾期扫描" in html and "每天 01:00" in html and "暂无运行记录" in html
    response = client.post("/system/jobs/scan/run")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "逾期扫描已完成。" in html and "2027年节假日数据缺失" in html
    assert '<div data-count="raised">新增预警：1</div>' in html
    assert client.post("/system/jobs/nonsense/run").status_code == 302


def test_demo_starts_the_scheduler_beside_the_server_and_stops_it(app: Flask,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import werkzeug.serving

    import tracker.scheduler

    events: list[str] = []
    monkeypatch.setattr(tracker.scheduler, "spawn_scheduler", lambda url: events.append(f"spawn {url}") or "proc")
    monkeypatch.setattr(tracker.scheduler, "stop_scheduler", lambda proc: events.append(f"stop {proc}"))
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *a, **kw: events.append("serve"))
    result = app.test_cli_runner().invoke(args=["demo", "--no-seed", "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert events == [f"spawn {app.config['DATABASE_URL']}", "serve", "stop proc"]


def test_the_scheduler_runs_in_its_own_process(app: Flask, session: Session, world: World) -> None:
    from tracker.scheduler import spawn_scheduler, stop_scheduler

    process = spawn_scheduler(app.config["DATABASE_URL"])
    try:
        deadline = clock.monotonic() + 30
        local_hour = datetime.now(timeutil.LOCAL_TZ).hour
        while clock.monotonic() < deadline and process.poll() is None:
            session.rollback()
            if local_hour < 1 or session.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == "scan")):
                break
            clock.sleep(0.3)
        assert process.poll() is None, "the scheduler process keeps running"
        if local_hour >= 1:  # after 01:00 it catches up today's scan at start
            assert session.scalar(select(JobRun.status).where(JobRun.job == "scan")) == JobStatus.SUCCEEDED
    finally:
        stop_scheduler(process)
    assert process.returncode is not None


def test_an_idle_delivery_run_leaves_no_record(app: Flask, session: Session, world: World) -> None:
    run = run_job(app, "deliveries")
    assert run.status == JobStatus.SUCCEEDED and run.counts == {"sent": 0, "retry": 0, "failed": 0}
    assert session.scalars(select(JobRun.job)).all() == []  # every minute would bury the useful runs
    assert run_job(app, "scan").status == JobStatus.SUCCEEDED
    session.rollback()
    assert session.scalars(select(JobRun.job)).all() == ["scan"]
