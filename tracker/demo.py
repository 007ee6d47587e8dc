"""The demo told as of one day: the seeded plans as they stood on the demo clock's day, and a supervision
office's week around it.

The seed files record what the plan documents and their execution say, up to the day they were written. A
demo placed on an earlier day (``tracker demo --date 2025-06-16``) must not show what had not happened yet:
:func:`rewind` takes back every fact dated after the day — completions, reports of later periods, monitoring
values and investment of years not yet over, plan stages still to come, evaluations not yet made. Then
:func:`tell_story` runs the overdue scan of the day and lets the supervision offices work their cases through
the real services, each step back-dated on the clock, so the case list holds every state with reports,
returns, reminders and ratings, and every demo account finds work on its first page.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from .alerts.models import Alert, AlertLevel, AlertStatus
from .alerts.services import scan
from .auth.models import Role, User
from .evaluations.models import Evaluation
from .indicators.models import IndicatorValue, ValueState
from .planning.models import Plan, PlanStage, PlanStageEvent
from .projects.models import KeyProject, ProjectInvestment, ProjectStatus
from .regions.models import Department, Region
from .seeding import CONFIRMED_AFTER, REVIEWED_AFTER, SUBMITTED_AFTER
from .supervision.models import CaseAction, CaseOutcome, CaseSource, CaseState, SupervisionCase
from .supervision.services import CaseInput, file_case, perform
from .tasks.models import (
    Milestone,
    MilestoneStatus,
    ProgressReport,
    ReportState,
    Task,
    TaskLevel,
    TaskStatus,
    period_end,
)
from .tasks.services import roll_up_all
from .timeutil import LOCAL_TZ, frozen

# The demo day unless one is asked for: inside the 十四五 period, a week after the second quarter's reports were due.
DEFAULT_DAY = date(2025, 7, 8)


def rewind(session: Session, day: date) -> dict[str, int]:
    """Take back every seeded fact dated after ``day``; returns how many of each kind were taken back."""
    counts: dict[str, int] = {}
    counts["完成的任务"] = session.execute(
        update(Task).where(Task.completed_on > day)
        .values(status=TaskStatus.IN_PROGRESS, completed_on=None, progress=50)).rowcount
    counts["未开始的任务"] = session.execute(
        update(Task).where(Task.start_date > day, Task.status != TaskStatus.NOT_STARTED)
        .values(status=TaskStatus.NOT_STARTED, completed_on=None, progress=0)).rowcount
    counts["完成的节点"] = session.execute(
        update(Milestone).where(Milestone.completed_on > day)
        .values(status=MilestoneStatus.PENDING, completed_on=None, evidence=None)).rowcount
    reports = list(session.scalars(select(ProgressReport)))
    later = [r for r in reports if period_end(r.period, r.period_year, r.period_no) >= day]
    for report in later:
        session.delete(report)
    counts["以后各期的填报"] = len(later)
    # what the seeds record as submitted, reviewed or confirmed after the day is still waiting for it (the
    # seeds' own timing: seeding.SUBMITTED_AFTER… days after the period or the year ended)
    waiting, drafts = 0, 0
    for report in set(reports) - set(later):
        ended = period_end(report.period, report.period_year, report.period_no)
        if report.state != ReportState.DRAFT and ended + timedelta(days=SUBMITTED_AFTER) > day:
            report.state, report.submitted_at, report.submitted_by_id = ReportState.DRAFT, None, None
            drafts += 1
        if report.state in (ReportState.CONFIRMED, ReportState.RETURNED) and \
                ended + timedelta(days=REVIEWED_AFTER) > day:
            report.state, report.reviewed_at, report.reviewed_by_id = ReportState.SUBMITTED, None, None
            report.return_reason = None
            waiting += 1
        if report.state == ReportState.DRAFT:
            report.reviewed_at = report.reviewed_by_id = report.return_reason = None
    counts["待审核的填报"], counts["未提交的填报"] = waiting, drafts
    last_year = day.year - 1
    if date(last_year, 12, 31) + timedelta(days=CONFIRMED_AFTER) > day:
        counts["待确认的监测值"] = session.execute(
            update(IndicatorValue).where(IndicatorValue.year == last_year, IndicatorValue.state == ValueState.CONFIRMED)
            .values(state=ValueState.ENTERED, confirmed_at=None, confirmed_by_id=None)).rowcount
        counts["待确认的投资"] = session.execute(
            update(ProjectInvestment).where(ProjectInvestment.year == last_year,
                                            ProjectInvestment.state == ReportState.CONFIRMED)
            .values(state=ReportState.SUBMITTED, confirmed_at=None, confirmed_by_id=None)).rowcount
    # a year's monitoring value and evaluation are known only once the year is over; investment is entered
    # during the year, and a project finishes in its last year at the earliest
    counts["监测值"] = session.execute(delete(IndicatorValue).where(IndicatorValue.year >= day.year)).rowcount
    counts["年度投资"] = session.execute(
        delete(ProjectInvestment).where(ProjectInvestment.year > day.year)).rowcount
    counts["竣工的项目"] = session.execute(
        update(KeyProject).where(KeyProject.status.in_([ProjectStatus.COMPLETED, ProjectStatus.IN_USE]),
                                 KeyProject.end_year > day.year)
        .values(status=ProjectStatus.BUILDING)).rowcount
    # locked evaluations refuse changes through the ORM; the database's cascade takes their figures along
    counts["评估"] = session.execute(delete(Evaluation).where(Evaluation.year >= day.year)
                                   .execution_options(synchronize_session=False)).rowcount
    counts["规划阶段"] = session.execute(delete(PlanStageEvent).where(PlanStageEvent.on_date > day)).rowcount
    session.flush()
    for plan in session.scalars(select(Plan)):
        reached = [e for e in plan.stage_events if e.on_date <= day]
        if reached:
            plan.stage = max(reached, key=lambda e: (e.on_date, e.id)).stage
    session.flush()
    counts["晚于期限的节点"] = _fall_behind(session, day)
    roll_up_all(session)
    return {k: v for k, v in counts.items() if v}


# How much late and coming work a demo day shows at the least, wherever the seeds' own dates are sparse.
LATE_AT_LEAST = 12
RECENT_AT_LEAST = 3  # late by less than a month (逾期), not yet 严重逾期
SOON_AT_LEAST = 3    # due within the next week (临期)
CHECKPOINT = "报送阶段性进展材料"


def _fall_behind(session: Session, day: date) -> int:
    """Not everything is done on time: of the milestones due in the four months before the day, every
    third one (by id, so the same each time) is still open, some of them over a month late (严重逾期). Where
    the seeds have few milestones near the day, the window reaches further back (up to two years), so a demo
    on any day of a plan period has late work."""
    window, late = 120, []
    while True:
        due = list(session.scalars(select(Milestone).where(Milestone.due_date < day,
                                                            Milestone.due_date >= day - timedelta(days=window))
                                   .order_by(Milestone.id)))
        late = due[::3]
        if len(late) >= LATE_AT_LEAST or window >= 730:
            break
        window *= 2
    for milestone in late:
        _reopen(milestone)
    session.flush()
    return len(late) + _checkpoints(session, day)


def _reopen(milestone: Milestone) -> None:
    milestone.status, milestone.completed_on, milestone.evidence = MilestoneStatus.PENDING, None, None
    task = milestone.task
    if task.status == TaskStatus.DONE:
        task.status, task.completed_on, task.progress = TaskStatus.IN_PROGRESS, None, min(task.progress, 80)


def _checkpoints(session: Session, day: date) -> int:
    """Work of the days around the demo day, in each region with a supervision office: where its plans hold
    fewer than a few milestones just past due (逾期, under a month) or due within the week (临期), its open
    tasks of departments that have a head get a progress checkpoint (报送阶段性进展材料) on those days, one
    department after another. A region with no plan in execution gets none."""
    offices = select(Department.region_id).join(User, User.department_id == Department.id).where(
        User.role == Role.SUPERVISOR, User.is_active.is_(True))
    headed = select(User.department_id).where(User.role == Role.DEPT_HEAD, User.is_active.is_(True))
    added = 0
    for region_id in sorted(set(session.scalars(offices))):
        def open_count(since: date, until: date, region_id: int = region_id) -> int:
            return session.scalar(select(func.count()).select_from(Milestone).join(Milestone.task).join(Task.plan)
                                  .where(Plan.region_id == region_id, Milestone.status == MilestoneStatus.PENDING,
                                         Milestone.due_date >= since, Milestone.due_date <= until)) or 0

        wanted = [day - timedelta(days=d) for d in (6, 13, 20)][:max(0, RECENT_AT_LEAST - open_count(
            day - timedelta(days=25), day - timedelta(days=1)))]
        wanted += [day + timedelta(days=d) for d in (1, 3, 5)][:max(0, SOON_AT_LEAST - open_count(
            day, day + timedelta(days=5)))]
        tasks = session.scalars(
            select(Task).join(Task.plan).where(
                Plan.region_id == region_id, Plan.stage == PlanStage.EXECUTING,
                Task.level != TaskLevel.CHAPTER, Task.status != TaskStatus.DONE,
                Task.start_date <= day - timedelta(days=30), Task.deadline >= day + timedelta(days=10),
                Task.lead_department_id.in_(headed))
            .order_by(Task.deadline, Task.id))
        by_department: dict[int | None, Task] = {}
        for task in tasks:
            by_department.setdefault(task.lead_department_id, task)
        if not wanted or not by_department:
            continue
        for due, task in zip(wanted, itertools.cycle(by_department.values()), strict=False):
            session.add(Milestone(task=task, title=CHECKPOINT, due_date=due, status=MilestoneStatus.PENDING))
            if task.status == TaskStatus.NOT_STARTED:
                task.status = TaskStatus.IN_PROGRESS
            added += 1
    session.flush()
    return added


@contextmanager
def _on(day: date, hour: int = 10) -> Iterator[datetime]:
    with frozen(datetime.combine(day, time(hour, 0), LOCAL_TZ)) as at:
        yield at


@dataclass(frozen=True)
class Course:
    """How far a case has gone by the demo day: filed ``days_ago``, then these steps, a day or more apart."""

    days_ago: int
    steps: tuple[tuple[CaseAction, str], ...]
    source: CaseSource = CaseSource.ALERT
    response_days: int = 10


_ISSUE = (CaseAction.ISSUE, "请于答复期限内报送整改方案和整改结果。")
_ACK = (CaseAction.ACKNOWLEDGE, "已签收，正在研究整改措施。")
_PLAN = (CaseAction.PLAN, "已制定整改方案：明确责任人和时间表，每周调度一次。")
_PROGRESS = (CaseAction.PROGRESS, "已完成整改方案中的前两项措施，其余正在推进。")
_SUBMIT = (CaseAction.SUBMIT, "整改已完成，附整改报告和佐证材料，请复核。")
_RETURN = (CaseAction.RETURN, "佐证材料不全，缺少验收记录，请补充后重新提交。")
_REMIND = (CaseAction.REMIND, "督办件已过答复期限，请抓紧报送整改情况。")
_INTERVIEW = (CaseAction.INTERVIEW, "约谈分管负责人，要求两周内完成整改。")
_CLOSE = (CaseAction.CLOSE, "整改到位，同意销号。")

# One case in each state of the loop, and the ways a case goes: on time, returned, late with a reminder and an
# interview. Offices take them in this order (the first office gets the variety), and round again.
COURSES = (
    Course(90, (_ISSUE, _ACK, _REMIND, _INTERVIEW, _PLAN, _SUBMIT, _RETURN, _SUBMIT, _CLOSE)),  # 已销号, late
    Course(3, (_ISSUE,)),                                                   # 已下发, waiting to be signed for
    Course(26, (_ISSUE, _ACK, _PLAN, _SUBMIT), CaseSource.ROUTINE),         # 提交复核, waiting for the office
    Course(40, (_ISSUE, _ACK, _PLAN, _SUBMIT, _RETURN, _PROGRESS)),         # 退回 once, rectifying again
    Course(8, (_ISSUE, _ACK)),                                              # 已签收
    Course(30, (_ISSUE, _REMIND), response_days=5),                         # past its answer date, reminded
    Course(70, (_ISSUE, _ACK, _PLAN, _SUBMIT, _CLOSE), CaseSource.SPECIAL),  # 已销号, on time
    Course(20, (_ISSUE, _ACK, _PLAN, _PROGRESS)),                           # 整改中
)


def tell_story(session: Session, day: date) -> dict[str, int]:
    """Scan the day and let every supervision office work its cases up to ``day``."""
    with _on(day, 1):
        scan(session, day)
    filed = 0
    courses = itertools.cycle(COURSES)
    for office in session.scalars(select(User).where(User.role == Role.SUPERVISOR, User.is_active.is_(True))
                                  .order_by(User.id)):
        filed += _office_cases(session, office, day, courses)
        filed += _planless_cases(session, office, day)
    with _on(day, 1):
        scan(session, day)  # the cases' tasks keep their alerts; a closed one's task may have moved on
    return {"督办件": filed}


def _planless_cases(session: Session, office: User, day: date) -> int:
    """A special inspection (专项督查) asking how a region without a plan of its own in execution carries out the
    plan above. An office whose own region runs none (温岭 after its 2021 annual plan) has its own departments
    answer one, waiting for the office's review; a region just below with no office either (鹿城区) gets one to
    sign for."""
    region = office.department.region
    filed = 0
    if not _runs_plan(session, region.id):
        above = region.parent
        while above is not None and above.parent is not None and not _runs_plan(session, above.id):
            above = above.parent
        for head in _heads(session, region.id).values():
            _inspect(session, office, head, region, above or region, day, answered=True)
            filed += 1
    for below in region.children:
        has_office = session.scalar(select(func.count()).select_from(User).join(User.department).where(
            Department.region_id == below.id, User.role == Role.SUPERVISOR))
        if _runs_plan(session, below.id) or has_office:
            continue
        for head in _heads(session, below.id).values():
            _inspect(session, office, head, below, region, day, answered=False)
            filed += 1
    return filed


def _runs_plan(session: Session, region_id: int) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Plan).where(
        Plan.region_id == region_id, Plan.stage == PlanStage.EXECUTING)))


def _inspect(session: Session, office: User, head: User, region: Region, above: Region, day: date,
             answered: bool) -> None:
    with _on(day - timedelta(days=12 if answered else 2), 9):
        case = file_case(session, office, CaseInput(
            source=CaseSource.SPECIAL, department=head.department,
            title=f"关于{region.name}落实{above.name}卫生健康规划任务情况的专项督查",
            problem=f"{region.name}目前没有执行中的本级卫生健康事业发展规划或实施方案，"
                    f"{above.name}规划任务在本地区的分解落实情况不明。",
            requirements="请于答复期限内报送本地区落实规划任务的工作方案、责任分工和进展情况。"))
    steps = [(office, CaseAction.ISSUE, _ISSUE[1])]
    if answered:
        steps += [(head, CaseAction.ACKNOWLEDGE, _ACK[1]),
                  (head, CaseAction.PLAN, "已对照上级规划梳理本地区承担的任务，明确责任科室和时间表。"),
                  (head, CaseAction.SUBMIT, "已报送落实规划任务的工作方案、责任分工表和进展情况，请复核。")]
    for n, (actor, action, words) in enumerate(steps):
        with _on(day - timedelta(days=(11 - 3 * n) if answered else 1), 10):
            perform(session, actor, case, action, comment=words, version=case.version_id,
                    response_days=10 if action == CaseAction.ISSUE else None)
    session.flush()


def _heads(session: Session, region_id: int) -> dict[int, User]:
    """Each department's head in the region (the one who signs for and answers a case)."""
    heads: dict[int, User] = {}
    for user in session.scalars(select(User).where(User.role == Role.DEPT_HEAD, User.is_active.is_(True))
                                .order_by(User.id)):
        if user.department.region_id == region_id:
            heads.setdefault(user.department_id, user)
    return heads


def _office_cases(session: Session, office: User, day: date, courses: Iterator[Course]) -> int:
    """File the office's cases on the worst alerts of its own region whose departments have a head."""
    region_id = office.department.region_id
    heads = _heads(session, region_id)
    if not heads:
        return 0
    alerts = list(session.scalars(
        select(Alert).join(Alert.task).where(Alert.status == AlertStatus.OPEN, Alert.task_id.is_not(None),
                                             Alert.level.in_([AlertLevel.SEVERE, AlertLevel.OVERDUE]),
                                             Task.lead_department_id.in_(heads))
        .order_by(Alert.level.desc(), Task.deadline, Alert.id)))
    filed, used = 0, set()
    for alert in alerts:
        task = alert.task
        if task is None or task.plan.region_id != region_id or task.id in used or filed == len(COURSES):
            continue
        course = next(courses)
        used.add(task.id)
        _work(session, office, heads[task.lead_department_id], alert, course, day)
        filed += 1
    return filed


def _work(session: Session, office: User, head: User, alert: Alert, course: Course, day: date) -> SupervisionCase:
    task = alert.task
    assert task is not None
    start = day - timedelta(days=course.days_ago)
    with _on(start, 9):
        case = file_case(session, office, CaseInput(
            source=course.source, department=head.department, task=task, alert=alert if course.source ==
            CaseSource.ALERT else None, title=f"关于“{task.title[:40]}”进度滞后的督办",
            problem=f"该任务截止日期为{task.deadline:%Y年%m月%d日}，至今未完成。",
            requirements="请查明原因，制定整改措施，按期报送整改结果。"))
    gap = max(1, course.days_ago // (len(course.steps) + 1))
    for n, (action, words) in enumerate(course.steps, start=1):
        at = min(start + timedelta(days=gap * n), day)
        actor = office if action in (CaseAction.ISSUE, CaseAction.RETURN, CaseAction.REMIND, CaseAction.INTERVIEW,
                                     CaseAction.CLOSE) else head
        with _on(at, 10 + n % 6):
            if action == CaseAction.CLOSE:
                late = case.state == CaseState.SUBMITTED and case.return_count > 0
                perform(session, actor, case, action, comment=words, version=case.version_id,
                        outcome=CaseOutcome.LATE if late else CaseOutcome.ON_TIME, rating=2 if late else 4)
            else:
                perform(session, actor, case, action, comment=words, version=case.version_id,
                        response_days=course.response_days if action == CaseAction.ISSUE else None)
        session.flush()
    return case
