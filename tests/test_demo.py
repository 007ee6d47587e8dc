"""The demo told as of a day: the demo clock, the plans as they stood on the day, and the cases of the week."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import create_app, timeutil
from tracker import demo as story
from tracker.alerts.models import Alert, AlertLevel, AlertStatus
from tracker.auth.models import User, UserKind
from tracker.evaluations.models import Evaluation
from tracker.indicators.models import IndicatorValue
from tracker.planning.models import Plan, PlanStage
from tracker.projects.models import ProjectInvestment
from tracker.seeding import RECORDED_ON
from tracker.supervision.models import CaseAction, CaseState, CaseStep, SupervisionCase
from tracker.tasks.models import Milestone, ProgressReport, Task, TaskStatus, period_end

from .conftest import login


def test_the_demo_clock_reads_the_demo_day_and_advances_with_real_time() -> None:
    started = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    setting = timeutil.demo_clock_setting(date(2025, 6, 16), started)
    assert setting == "2025-06-16T09:00:00+08:00@2026-12-07T02:00:00+00:00"
    try:
        timeutil.start_demo_clock(setting)
        assert timeutil.demo_clock_on()
        # the clock reads 09:00 of the demo day at the real instant `started`, and moves on with real time
        assert started + timeutil.demo_clock_offset() == datetime(2025, 6, 16, 1, 0, tzinfo=UTC)
        with timeutil.frozen("2024-01-02"):  # a frozen clock (the tests') still wins
            assert timeutil.today() == date(2024, 1, 2)
    finally:
        timeutil.start_demo_clock(None)
    assert not timeutil.demo_clock_on()
    with pytest.raises(ValueError, match="TRACKER_DEMO_CLOCK"):
        timeutil.start_demo_clock("2025-06-16")


def test_production_never_runs_on_a_demo_clock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    setting = timeutil.demo_clock_setting(date(2025, 6, 16))
    with pytest.raises(RuntimeError, match="演示时钟"):
        create_app({"PRODUCTION": True, "SECRET_KEY": "x" * 32, "DEMO_CLOCK": setting,
                    "DATABASE_URL": "sqlite://", "INSTANCE_PATH": tmp_path})
    assert not timeutil.demo_clock_on()


def test_the_demo_is_not_told_after_the_seeds_were_recorded(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "--date", "2026-01-05", "--no-scheduler"])
    assert result.exit_code == 2 and "演示数据记录到2025年11月22日" in result.output
    assert not timeutil.demo_clock_on()


def test_the_header_shows_the_demo_day(demo: Flask, client) -> None:  # type: ignore[no-untyped-def]
    login(client, "zj_head_jk")
    assert "演示日期" not in client.get("/workspace").get_data(as_text=True)
    try:
        timeutil.start_demo_clock(timeutil.demo_clock_setting(date(2025, 6, 16)))
        page = client.get("/workspace").get_data(as_text=True)
    finally:
        timeutil.start_demo_clock(None)
    assert "演示日期 2025年11月22日" in page  # the day the tests over the demo data freeze the clock on


def test_seeded_reports_were_submitted_when_their_period_ended(demo: Flask, session: Session) -> None:
    for report in session.scalars(select(ProgressReport).where(ProgressReport.submitted_at.is_not(None))):
        ended = period_end(report.period, report.period_year, report.period_no)
        assert timeutil.to_local(report.submitted_at).date() > ended, report.id
        assert report.reviewed_at is None or report.reviewed_at >= report.submitted_at


def test_rewinding_takes_back_what_had_not_happened_yet(demo: Flask, session: Session) -> None:
    day = date(2025, 9, 20)
    counts = story.rewind(session, day)
    assert counts["完成的任务"] > 0 and counts["以后各期的填报"] > 0
    assert session.scalar(select(func.count()).select_from(Task).where(Task.completed_on > day)) == 0
    assert session.scalar(select(func.count()).select_from(Milestone).where(Milestone.completed_on > day)) == 0
    assert all(period_end(r.period, r.period_year, r.period_no) < day for r in session.scalars(select(ProgressReport)))
    assert session.scalar(select(func.max(IndicatorValue.year))) < day.year
    assert session.scalar(select(func.count()).select_from(ProjectInvestment)
                          .where(ProjectInvestment.year > day.year)) == 0
    assert session.scalar(select(func.count()).select_from(Evaluation).where(Evaluation.year >= day.year)) == 0
    assert {p.code: p.stage for p in session.scalars(select(Plan))}["zj-14"] == PlanStage.EXECUTING
    started_later = session.scalars(select(Task).where(Task.start_date > day)).all()
    assert all(t.status == TaskStatus.NOT_STARTED for t in started_later)


# Three days of the plan period: a spring day of its third year, the summer of its last and the day the seeds were
# recorded. The demo told on any of them has the same mix of work.
DAYS = [date(2023, 4, 7), story.DEFAULT_DAY, RECORDED_ON]
# Every demo account lands on a page with work on it (a task, a report, a case, a plan, an evaluation…) — Wenling's
# office too after 2021, when its only plan is archived: it lands on its 专项督查 waiting for review.
WORK_LINK = re.compile(r'href="/(?:tasks|reports|supervision|plans|evaluations|indicators|admin/users)/\d+')


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_the_demo_on_any_day_has_every_kind_of_work_and_every_state_of_a_case(demo: Flask, session: Session,
                                                                              day: date) -> None:
    with timeutil.frozen(day):
        story.rewind(session, day)
        told = story.tell_story(session, day)
    session.commit()
    assert told["督办件"] >= len(CaseState) - 1
    levels = dict(session.execute(select(Alert.level, func.count()).where(Alert.status == AlertStatus.OPEN)
                                  .group_by(Alert.level)).all())
    assert all(levels.get(level, 0) >= 3 for level in (AlertLevel.DUE_SOON, AlertLevel.OVERDUE, AlertLevel.SEVERE))
    assert session.scalar(select(func.count()).select_from(Task).where(Task.status == TaskStatus.DONE)) > 0
    states = set(session.scalars(select(SupervisionCase.state)))
    assert states >= {CaseState.ISSUED, CaseState.ACKNOWLEDGED, CaseState.RECTIFYING, CaseState.SUBMITTED,
                      CaseState.CLOSED}
    actions = set(session.scalars(select(CaseStep.action)))
    assert {CaseAction.RETURN, CaseAction.REMIND, CaseAction.INTERVIEW, CaseAction.CLOSE} <= actions
    closed = session.scalars(select(SupervisionCase).where(SupervisionCase.state == CaseState.CLOSED)).all()
    assert {c.rating for c in closed} >= {2, 4}
    # every step happened on or before the day, in order
    for case in session.scalars(select(SupervisionCase)):
        times = [s.created_at for s in case.steps]
        assert times == sorted(times) and timeutil.to_local(times[-1]).date() <= day
    # a case past its answer date: the office's overdue cases are not empty
    assert any(c.response_deadline and c.response_deadline < day and c.state == CaseState.ISSUED
               for c in session.scalars(select(SupervisionCase)))
    # nothing reviewed or submitted after the day: later reviews are still waiting
    assert all(r.reviewed_at is None or timeutil.to_local(r.reviewed_at).date() <= day
               and r.submitted_at is not None and timeutil.to_local(r.submitted_at).date() <= day
               for r in session.scalars(select(ProgressReport)))
    idle = set()
    with timeutil.frozen(day):
        for username in session.scalars(select(User.username).where(User.kind == UserKind.PERSON).order_by(User.id)):
            client = demo.test_client()
            login(client, username)
            if not WORK_LINK.search(client.get("/", follow_redirects=True).get_data(as_text=True)):
                idle.add(username)
    assert idle == set()
