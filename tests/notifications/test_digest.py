"""The daily digest (one message per user per day) and the report reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.notifications.models import Notification, NotificationKind
from tracker.scheduler import run_job
from tracker.supervision.models import CaseSource, CaseState, SupervisionCase
from tracker.system.models import JobStatus
from tracker.system.services import update_settings
from tracker.tasks.models import ProgressReport, ReportPeriod, ReportState, TaskLevel

from ..alerts.world import World


def _messages(session: Session, kind: NotificationKind | None = None) -> list[tuple[str, str, str, str]]:
    session.rollback()
    stmt = select(Notification).order_by(Notification.user_id, Notification.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return [(n.user.username, n.dedupe_key or "", n.title, n.body or "") for n in session.scalars(stmt)]


def _day(app: Flask, when: str, *jobs: str) -> None:
    with timeutil.frozen(when):
        for job in jobs:
            run = run_job(app, job)
            assert run.status == JobStatus.SUCCEEDED, run.error


def test_one_digest_per_user_per_day_not_per_item(app: Flask, session: Session, world: World) -> None:
    t1 = world.task(session, date(2026, 11, 1), code="1.1", title="一号任务")
    world.task(session, date(2026, 9, 1), code="1.2", title="二号任务")
    world.task(session, date(2026, 11, 24), code="1.3", title="三号任务")
    world.milestone(session, t1, date(2026, 10, 30), title="中期检查")
    world.task(session, date(2026, 11, 1), lead="yz", code="2.1", title="医政任务",
               co_departments=[world.depts["jk"]])
    session.commit()

    _day(app, "2026-11-22", "scan", "reminders", "reminders")  # twice: still one each
    messages = _messages(session)
    # the departments' digests, and the province's supervision office hears of the new 严重逾期 item in its scope
    assert sorted((u, k) for u, k, _, _ in messages) == [
        ("head_jk", "digest:2026-11-22"), ("head_yz", "digest:2026-11-22"), ("staff_jk", "digest:2026-11-22"),
        ("sup", "digest:2026-11-22")]
    office = next(m for m in messages if m[0] == "sup")
    assert office[2] == "11月22日督查室提醒：新增严重逾期1项"
    assert "省规划 1.2 二号任务（截止2026年9月1日）" in office[3]
    messages = [m for m in messages if m[0] != "sup"]
    _, _, title, body = messages[0]
    assert title == "11月22日督查提醒：严重逾期1项、逾期2项、临期1项"
    assert "【严重逾期】省规划 1.2 二号任务（截止2026年9月1日，逾期82天）" in body
    assert "【逾期】省规划 1.1 一号任务 · 节点“中期检查”（截止2026年10月30日，逾期23天）" in body
    assert "【临期】省规划 1.3 三号任务（截止2026年11月24日，剩2天）" in body
    assert "医政任务" not in body  # the co-operating department is not told; the lead department is
    assert "本单位目前未解除的预警：严重逾期1项、逾期2项、临期1项。" in body

    # the next day: only what changed is listed; one more message per user
    world_task = world.task(session, date(2026, 11, 26), code="1.4", title="四号任务")
    session.commit()
    _day(app, "2026-11-23", "scan", "reminders")
    new = [m for m in _messages(session) if m[1] == "digest:2026-11-23"]
    assert [u for u, *_ in new] == ["head_jk", "staff_jk"]  # 医政医管处 and the office: nothing new
    body = new[0][3]
    assert "四号任务" in body and "二号任务" not in body and "三号任务" not in body  # 1.3 is still 临期
    assert world_task.id

    # nothing changes on the 24th except 1.3 becoming overdue
    _day(app, "2026-11-25", "scan", "reminders")
    latest = [m for m in _messages(session) if m[1] == "digest:2026-11-25"]
    assert {u for u, *_ in latest} == {"head_jk", "staff_jk"}
    assert "【逾期】省规划 1.3 三号任务" in latest[0][3]


def test_no_digest_when_nothing_changed(app: Flask, session: Session, world: World) -> None:
    world.task(session, date(2026, 11, 1))
    session.commit()
    _day(app, "2026-11-22", "scan", "reminders")
    assert len(_messages(session)) == 2
    _day(app, "2026-11-23", "scan", "reminders")  # still overdue, same level: no message
    assert len(_messages(session)) == 2


def test_the_supervision_office_has_its_own_digest(app: Flask, session: Session, world: World) -> None:
    """Cases past their answer date and cases waiting for review, of the office's own cases only; one message a
    day for each supervisor, together with the day's messages they received."""
    task = world.task(session, date(2027, 6, 30))
    for seq, state, deadline in ((1, CaseState.ISSUED, date(2026, 11, 20)), (2, CaseState.SUBMITTED, date(2026, 12, 1)),
                                 (3, CaseState.ISSUED, date(2026, 12, 20))):
        session.add(SupervisionCase(
            number_year=2026, number_seq=seq, number_prefix="浙卫督", office_id=world.depts["dc"].id,
            source=CaseSource.ROUTINE, state=state, task_id=task.id if seq == 1 else None,
            department_id=world.depts["jk"].id, title=f"督办事项{seq}", problem="进度滞后", response_deadline=deadline,
            issued_at=datetime(2026, 11, 10, 2, tzinfo=UTC),
            acknowledged_at=datetime(2026, 11, 11, 2, tzinfo=UTC) if state == CaseState.SUBMITTED else None,
            submitted_at=datetime(2026, 11, 12, 2, tzinfo=UTC) if state == CaseState.SUBMITTED else None))
    session.commit()
    _day(app, "2026-11-22", "reminders", "reminders")
    office = [m for m in _messages(session, NotificationKind.DIGEST) if m[0] == "sup"]
    assert len(office) == 1
    _, _, title, body = office[0]
    assert title == "11月22日督查室提醒：超期未答复督办件1项、待复核督办件1项"
    assert "浙卫督〔2026〕1号 督办事项1（答复期限2026年11月20日）" in body
    assert "浙卫督〔2026〕2号 督办事项2" in body and "督办事项3" not in body
    assert not [m for m in _messages(session, NotificationKind.DIGEST) if m[0] == "city_sup"]  # not its cases


def test_unanswered_supervision_notices_are_chased_by_their_own_job(app: Flask, session: Session,
                                                                  world: World) -> None:
    task = world.task(session, date(2027, 6, 30))
    session.add(SupervisionCase(
        number_year=2026, number_seq=7, office_id=world.depts["dc"].id, source=CaseSource.ROUTINE,
        state=CaseState.ISSUED, task_id=task.id,
        department_id=world.depts["jk"].id, title="推进疫苗接种信息化", problem="进度滞后",
        response_deadline=date(2026, 11, 23), issued_at=datetime(2026, 11, 20, 2, tzinfo=UTC),
    ))
    session.commit()
    _day(app, "2026-11-22", "scan", "reminders")
    assert _messages(session, NotificationKind.DIGEST) == []  # nothing in the digest about cases
    _day(app, "2026-11-22", "case_reminders", "case_reminders")
    messages = _messages(session, NotificationKind.SUPERVISION)
    assert {u for u, *_ in messages} == {"head_jk", "staff_jk"}  # once each, however often it runs


def test_report_reminders_once_per_user_per_period(app: Flask, session: Session, world: World) -> None:
    reported = world.task(session, date(2027, 6, 30), code="r1", level=TaskLevel.MEASURE)
    world.task(session, date(2027, 6, 30), code="r2", level=TaskLevel.MEASURE, lead="yz")
    world.task(session, date(2027, 6, 30), code="r3", level=TaskLevel.MEASURE, co_departments=[world.depts["yz"]])
    session.add(ProgressReport(task_id=reported.id, department_id=world.depts["jk"].id, period=ReportPeriod.QUARTER,
                               period_year=2026, period_no=4, progress=50, state=ReportState.SUBMITTED,
                               submitted_at=timeutil.now()))
    session.commit()
    _day(app, "2026-11-22", "report_reminders")
    assert _messages(session) == []  # Q4 reminders open three working days before 12-31

    _day(app, "2026-12-28", "report_reminders", "report_reminders")
    messages = _messages(session, NotificationKind.REPORT)
    by_user = {u: (k, t, b) for u, k, t, b in messages}
    assert set(by_user) == {"head_jk", "staff_jk", "head_yz"}
    key, title, body = by_user["head_yz"]
    assert key == "report:quarter:2026-4"
    assert title.startswith("请于2027年1月") and "2026年第四季度" in title
    assert "医政医管处有 2 项任务尚未报送2026年第四季度进展" in body  # r2 as lead, r3 as co-operator
    assert "疾控处有 1 项任务" in by_user["head_jk"][2]  # r1 was reported already

    update_settings(session, world.users["admin"], {"reports.period": "month"})
    session.commit()
    _day(app, "2026-12-29", "report_reminders")
    assert {k for _, k, _, _ in _messages(session)} == {"report:quarter:2026-4", "report:month:2026-12"}
