"""Scheduled jobs: the registry, the wrapper that records each run, and the scheduler process.

Each run of a job is one transaction: the job's work and its ``job_runs`` record are committed
together; on an error everything is rolled back and a failed run is recorded with the error. Runs of
the same job are serialised across processes (see :func:`tracker.system.services.job_lock`), so
running a job twice, or in two processes at once, changes nothing the second time.

The scheduler runs in its own process (``tracker scheduler``), never inside a web worker:

    tracker scheduler                 # APScheduler, Asia/Shanghai
    tracker scheduler --every scan=5  # the scan every 5 seconds instead of at 01:00 (trying a job out, tests)
    tracker run-job scan [--date D]   # one run, for cron users and tests

Two scheduler processes (on two machines, for instance) may run beside each other: each run of a job takes
the job's lock, and a job's second run on a day finds its work done.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from . import timeutil
from .db import unit_of_work
from .system.models import JobRun, JobStatus
from .system.services import job_lock, last_success

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    session: Session
    day: date
    config: Mapping[str, Any]


@dataclass(frozen=True)
class Job:
    name: str
    label: str
    func: Callable[[JobContext], dict[str, Any]]
    daily_at: time | None = None  # local time of the daily run; None for interval jobs
    every_minutes: int | None = None
    then: tuple[str, ...] = ()  # jobs run right after this one succeeds
    record_idle: bool = True  # False: a run that found nothing to do leaves no record


JOBS: dict[str, Job] = {}


def job(name: str, label: str, *, daily_at: time | None = None, every_minutes: int | None = None,
        then: tuple[str, ...] = (), record_idle: bool = True) -> Callable[[Callable[[JobContext], dict[str, Any]]],
                                                                     Callable[[JobContext], dict[str, Any]]]:
    def register(func: Callable[[JobContext], dict[str, Any]]) -> Callable[[JobContext], dict[str, Any]]:
        JOBS[name] = Job(name, label, func, daily_at, every_minutes, then, record_idle)
        return func

    return register


@job("scan", "逾期扫描", daily_at=time(1, 0))
def _scan(ctx: JobContext) -> dict[str, Any]:
    from .alerts.services import scan

    return scan(ctx.session, ctx.day)


@job("indicator_alerts", "约束性指标滞后预警", daily_at=time(1, 30))
def _indicator_alerts(ctx: JobContext) -> dict[str, Any]:
    from .indicators.services import scan_indicator_alerts

    return scan_indicator_alerts(ctx.session, ctx.day)


@job("reminders", "到期提醒", daily_at=time(8, 0), then=("deliveries",))
def _reminders(ctx: JobContext) -> dict[str, Any]:
    from .notifications.channels import Channels
    from .notifications.services import compose_digests

    return compose_digests(ctx.session, ctx.day, Channels.from_config(ctx.config))


@job("case_reminders", "督办催办", daily_at=time(8, 15), then=("deliveries",))
def _case_reminders(ctx: JobContext) -> dict[str, Any]:
    from .notifications.channels import Channels
    from .supervision.jobs import remind_cases

    return remind_cases(ctx.session, ctx.day, Channels.from_config(ctx.config))


@job("report_reminders", "填报提醒", daily_at=time(8, 30), then=("deliveries",))
def _report_reminders(ctx: JobContext) -> dict[str, Any]:
    from .notifications.channels import Channels
    from .notifications.services import compose_report_reminders

    return compose_report_reminders(ctx.session, ctx.day, Channels.from_config(ctx.config))


@job("deliveries", "邮件与机器人发送", every_minutes=1, record_idle=False)
def _deliveries(ctx: JobContext) -> dict[str, Any]:
    from .notifications.channels import Channels
    from .notifications.delivery import deliver_pending

    return deliver_pending(ctx.session, Channels.from_config(ctx.config))


@job("webhooks", "事件推送", every_minutes=1, record_idle=False)
def _webhooks(ctx: JobContext) -> dict[str, Any]:
    from .webhooks.delivery import run

    return run(ctx.session, ctx.config.get("PUBLIC_URL") or None)


@job("tidy_uploads", "清理未引用的附件文件", daily_at=time(3, 0))
def _tidy_uploads(ctx: JobContext) -> dict[str, Any]:
    from .attachments.services import remove_orphans

    counts = remove_orphans(ctx.session, Path(ctx.config["UPLOAD_DIR"]))
    return {"removed": counts["removed"]}


def run_job(app: Flask, name: str, day: date | None = None) -> JobRun:
    """Run one job once, in one transaction, and record the run. Never raises for a failing job."""
    if name not in JOBS:
        raise KeyError(name)
    day = day or timeutil.today()
    factory = app.extensions["tracker.sessions"]
    started = timeutil.now()
    host = run_host()
    with app.app_context():
        session = factory()
        try:
            job_lock(session, name)  # first statement of the transaction
            counts = JOBS[name].func(JobContext(session, day, app.config))
            run = JobRun(job=name, run_date=day, status=JobStatus.SUCCEEDED, started_at=started,
                         finished_at=timeutil.now(), counts=_plain(counts), host=host)
            if JOBS[name].record_idle or any(counts.values()):
                session.add(run)
            session.commit()
        except Exception as exc:
            session.rollback()
            log.exception("job %s failed", name)
            error = f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exc(limit=8))
            run = JobRun(job=name, run_date=day, status=JobStatus.FAILED, started_at=started,
                         finished_at=timeutil.now(), counts={}, error=error[:20000], host=host)
            with unit_of_work(factory) as record:
                record.add(run)
        finally:
            session.close()
    return run


def run_host() -> str:
    """Where a run happened, as job_runs records it: the machine and the process (``web1:4711``)."""
    return f"{socket.gethostname()}:{os.getpid()}"[-120:]


def run_chain(app: Flask, name: str, day: date | None = None) -> list[JobRun]:
    """Run a job and, when it succeeds, the jobs that follow it."""
    runs = [run_job(app, name, day)]
    if runs[0].status == JobStatus.SUCCEEDED:
        for follower in JOBS[name].then:
            runs.append(run_job(app, follower, day))
    return runs


def _plain(value: Any) -> Any:
    """Counts as JSON (dates and enums as text)."""
    if isinstance(value, dict):
        return {str(getattr(k, "value", k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return getattr(value, "value", value)


def catch_up(app: Flask) -> list[JobRun]:
    """At start-up, run today's daily jobs whose time has passed but that have not succeeded today."""
    local = timeutil.to_local(timeutil.now())
    runs: list[JobRun] = []
    for j in sorted((j for j in JOBS.values() if j.daily_at), key=lambda j: j.daily_at or time()):
        if j.daily_at is None or local.time() < j.daily_at:
            continue
        with unit_of_work(app.extensions["tracker.sessions"]) as session:
            last = last_success(session, j.name)
        if last is None or last.run_date < local.date():
            runs += run_chain(app, j.name)
    return runs


def build_scheduler(app: Flask, every: Mapping[str, float] | None = None) -> Any:
    """The APScheduler of every job at its time; ``every`` runs the jobs it names each so many seconds instead."""
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler = BlockingScheduler(
        timezone=timeutil.LOCAL_TZ,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    every = every or {}
    for j in JOBS.values():
        if j.name in every:
            trigger: Any = IntervalTrigger(seconds=every[j.name], timezone=timeutil.LOCAL_TZ)
        elif j.daily_at is not None:
            trigger = CronTrigger(hour=j.daily_at.hour, minute=j.daily_at.minute, timezone=timeutil.LOCAL_TZ)
        elif j.every_minutes:
            trigger = IntervalTrigger(minutes=j.every_minutes, timezone=timeutil.LOCAL_TZ)
        else:
            continue
        scheduler.add_job(run_chain, trigger, args=[app, j.name], id=j.name, name=j.label, replace_existing=True)
    return scheduler


# ---------------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------------


def _echo_run(run: JobRun) -> None:
    label = JOBS[run.job].label if run.job in JOBS else run.job
    if run.status == JobStatus.SUCCEEDED:
        counts = {k: v for k, v in run.counts.items() if k != "warnings"}
        click.echo(f"{label}（{run.run_date.isoformat()}）完成：{counts}")
        for warning in run.counts.get("warnings", []):
            click.echo(f"警告：{warning}", err=True)
    else:
        click.echo(f"{label}（{run.run_date.isoformat()}）失败：{(run.error or '').splitlines()[0]}", err=True)


@click.command("run-job", help="立即运行一个定时任务一次：" + "、".join(JOBS) + "。")
@click.argument("name", type=click.Choice(sorted(JOBS)))
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="按该日期运行（默认今天，Asia/Shanghai）")
@with_appcontext
def run_job_command(name: str, day: datetime | None) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runs = run_chain(app, name, day.date() if day else None)
    for run in runs:
        _echo_run(run)
    if any(r.status != JobStatus.SUCCEEDED for r in runs):
        sys.exit(1)


def _every(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, float]:
    """``--every NAME=SECONDS`` options as {job: seconds}."""
    every: dict[str, float] = {}
    for value in values:
        name, _, seconds = value.partition("=")
        if name not in JOBS:
            raise click.BadParameter(f"没有名为 {name!r} 的任务（可选：{'、'.join(JOBS)}）")
        if not seconds.replace(".", "", 1).isdigit() or float(seconds) <= 0:
            raise click.BadParameter(f"{value!r}：间隔应为正的秒数，如 {name}=30")
        every[name] = float(seconds)
    return every


@click.command("scheduler", help="启动定时任务进程（逾期扫描、到期提醒、填报提醒、消息发送）。")
@click.option("--no-catch-up", is_flag=True, help="启动时不补跑今天已错过的任务")
@click.option("--every", "every", multiple=True, callback=_every, metavar="NAME=SECONDS",
              help="让该任务每隔这么多秒运行一次，代替它的定时（试运行某个任务、测试用）；可重复")
@with_appcontext
def scheduler_command(no_catch_up: bool, every: dict[str, float]) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scheduler = build_scheduler(app, every)

    def stop(_signum: int, _frame: Any) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    click.echo("定时任务已启动（Asia/Shanghai）：" + "；".join(
        f"{j.label} 每{every[j.name]:g}秒" if j.name in every
        else f"{j.label} 每天{j.daily_at:%H:%M}" if j.daily_at else f"{j.label} 每{j.every_minutes}分钟"
        for j in JOBS.values()))
    if not no_catch_up:
        for run in catch_up(app):
            _echo_run(run)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


def spawn_scheduler(database_url: str) -> subprocess.Popen[bytes]:
    """Start ``tracker scheduler`` as a child process (for the demo); it dies with its parent on Linux."""
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.Popen(
        [sys.executable, "-c", "from tracker.cli import main; main(['scheduler'])"],
        env=env, preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
    )


def stop_scheduler(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _die_with_parent() -> None:
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
