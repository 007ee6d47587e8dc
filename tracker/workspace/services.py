"""The department workspace: every task and milestone where the department leads or co-operates."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..alerts.models import AlertLevel, AlertTarget
from ..alerts.services import open_alert_levels, open_milestone_alert_levels
from ..planning.models import Plan
from ..supervision.models import CaseState, SupervisionCase
from ..tasks.models import (
    OPEN_STATUSES,
    Milestone,
    MilestoneStatus,
    ProgressReport,
    Task,
    TaskLevel,
    TaskStatus,
    task_co_departments,
)

DUE_SOON_DAYS = 15


@dataclass
class WorkspaceFilters:
    plan_id: int | None = None
    status: TaskStatus | None = None
    milestone_status: MilestoneStatus | None = None  # the milestones tab's status filter
    year: int | None = None
    role: str | None = None  # "lead" | "co" | None
    bucket: str | None = None  # "overdue" | "soon" | None


def _is_co(department_id: int) -> Any:
    return exists().where(task_co_departments.c.task_id == Task.id,
                          task_co_departments.c.department_id == department_id)


def _mine(department_id: int) -> Any:
    """Tasks the department leads or co-operates on, as an id set both indexes can answer
    (an OR of the two conditions would scan every task)."""
    return Task.id.in_(
        select(Task.id).where(Task.lead_department_id == department_id)
        .union(select(task_co_departments.c.task_id).where(task_co_departments.c.department_id == department_id))
    )


def deadline_bucket(today: date) -> Any:
    """0 overdue, 1 due within 15 days, 2 other open work, 3 closed."""
    open_ = Task.status.in_([s.value for s in OPEN_STATUSES])
    return case(
        (and_(open_, Task.deadline < today), 0),
        (and_(open_, Task.deadline <= today + timedelta(days=DUE_SOON_DAYS)), 1),
        (open_, 2),
        else_=3,
    )


def year_condition(year: int) -> Any:
    """A task of the year: an annual task of that year, or another task due in it."""
    return or_(Task.year == year, and_(Task.year.is_(None), func.extract("year", Task.deadline) == year))


def role_condition(department_id: int, role: str | None) -> Any:
    """The tasks of the chosen role: led, co-operated on, or both (the id-set union)."""
    if role == "lead":
        return Task.lead_department_id == department_id
    if role == "co":
        return _is_co(department_id)
    return _mine(department_id)


def _base(department_id: int, filters: WorkspaceFilters, today: date) -> Select[Any]:
    stmt = select(Task).where(Task.level != TaskLevel.CHAPTER, role_condition(department_id, filters.role))
    if filters.plan_id:
        stmt = stmt.where(Task.plan_id == filters.plan_id)
    if filters.status:
        stmt = stmt.where(Task.status == filters.status)
    if filters.year:
        stmt = stmt.where(year_condition(filters.year))
    if filters.bucket == "overdue":
        stmt = stmt.where(deadline_bucket(today) == 0)
    elif filters.bucket == "soon":
        stmt = stmt.where(deadline_bucket(today) == 1)
    return stmt


def task_query(department_id: int, filters: WorkspaceFilters, today: date) -> Select[Any]:
    bucket = deadline_bucket(today)
    return (
        _base(department_id, filters, today)
        .options(selectinload(Task.plan), selectinload(Task.lead_department))
        .order_by(bucket, case((bucket == 3, None), else_=Task.deadline), Task.deadline.desc(), Task.id)
    )


def counts(session: Session, department_id: int, filters: WorkspaceFilters, today: date) -> dict[str, int]:
    unbucketed = replace(filters, bucket=None)
    sub = _base(department_id, unbucketed, today).with_only_columns(
        deadline_bucket(today).label("bucket"), Task.lead_department_id.label("lead"), Task.status.label("status")
    ).subquery()
    row = session.execute(select(
        func.count(),
        func.sum(case((sub.c.bucket == 0, 1), else_=0)),
        func.sum(case((sub.c.bucket == 1, 1), else_=0)),
        func.sum(case((sub.c.status == TaskStatus.DONE.value, 1), else_=0)),
        func.sum(case((sub.c.lead == department_id, 1), else_=0)),
    )).one()
    total, overdue, soon, done, lead = (int(v or 0) for v in row)
    return {"total": total, "overdue": overdue, "soon": soon, "done": done, "lead": lead, "co": total - lead}


def last_reports(session: Session, department_id: int, task_ids: list[int]) -> dict[int, ProgressReport]:
    """The department's latest report on each task (one query for the page)."""
    if not task_ids:
        return {}
    reports = session.scalars(
        select(ProgressReport)
        .where(ProgressReport.task_id.in_(task_ids), ProgressReport.department_id == department_id)
        .order_by(ProgressReport.task_id, ProgressReport.period_year, ProgressReport.id)
    )
    latest: dict[int, ProgressReport] = {}
    for report in reports:
        latest[report.task_id] = report
    return latest


def alert_levels(session: Session, target: AlertTarget, ids: list[int]) -> dict[int, AlertLevel]:
    """The most severe open alert level of each task or milestone on the page, as the task page shows it."""
    if target == AlertTarget.TASK:
        return open_alert_levels(session, ids)
    return open_milestone_alert_levels(session, ids)


OPEN_MILESTONE_STATUSES = (MilestoneStatus.PENDING.value, MilestoneStatus.OVERDUE.value)


def _milestone_bucket(today: date) -> Any:
    """0 overdue, 1 due within 15 days, 2 other open milestones, 3 done or waived."""
    open_ = Milestone.status.in_(OPEN_MILESTONE_STATUSES)
    return case(
        (and_(open_, Milestone.due_date < today), 0),
        (and_(open_, Milestone.due_date <= today + timedelta(days=DUE_SOON_DAYS)), 1),
        (open_, 2),
        else_=3,
    )


def _milestone_base(department_id: int, filters: WorkspaceFilters, today: date) -> Select[Any]:
    """Milestones of the tasks the department leads or co-operates on (or the chosen role's). Without a
    status filter only open milestones (未完成, 已逾期) are listed."""
    stmt = select(Milestone).join(Milestone.task).where(role_condition(department_id, filters.role))
    if filters.milestone_status:
        stmt = stmt.where(Milestone.status == filters.milestone_status)
    else:
        stmt = stmt.where(Milestone.status.in_(OPEN_MILESTONE_STATUSES))
    if filters.plan_id:
        stmt = stmt.where(Task.plan_id == filters.plan_id)
    if filters.year:
        stmt = stmt.where(func.extract("year", Milestone.due_date) == filters.year)
    if filters.bucket == "overdue":
        stmt = stmt.where(_milestone_bucket(today) == 0)
    elif filters.bucket == "soon":
        stmt = stmt.where(_milestone_bucket(today) == 1)
    return stmt


def milestone_query(department_id: int, filters: WorkspaceFilters, today: date) -> Select[Any]:
    """The milestones tab: overdue first, then due within 15 days, then by due date."""
    return (
        _milestone_base(department_id, filters, today)
        .options(selectinload(Milestone.task).selectinload(Task.plan),
                 selectinload(Milestone.task).selectinload(Task.lead_department))
        .order_by(_milestone_bucket(today), Milestone.due_date, Milestone.id)
    )


def milestone_counts(session: Session, department_id: int, filters: WorkspaceFilters,
                     today: date) -> dict[str, int]:
    """Counts above the milestones tab: every listed milestone, overdue, due within 15 days, lead / co."""
    unbucketed = replace(filters, bucket=None)
    sub = _milestone_base(department_id, unbucketed, today).with_only_columns(
        _milestone_bucket(today).label("bucket"), Task.lead_department_id.label("lead")
    ).subquery()
    row = session.execute(select(
        func.count(),
        func.sum(case((sub.c.bucket == 0, 1), else_=0)),
        func.sum(case((sub.c.bucket == 1, 1), else_=0)),
        func.sum(case((sub.c.lead == department_id, 1), else_=0)),
    )).one()
    total, overdue, soon, lead = (int(v or 0) for v in row)
    return {"total": total, "overdue": overdue, "soon": soon, "lead": lead, "co": total - lead}


def workspace_plans(session: Session, department_id: int) -> list[Plan]:
    task_plans = select(Task.plan_id).where(_mine(department_id))
    return list(session.scalars(select(Plan).where(Plan.id.in_(task_plans)).order_by(Plan.id)))


def cases_awaiting(session: Session, department_id: int) -> list[SupervisionCase]:
    """督办件 the department must act on: 待签收 first, then 待整改, by response deadline."""
    waiting = [CaseState.ISSUED, CaseState.ACKNOWLEDGED, CaseState.RECTIFYING]
    return list(session.scalars(
        select(SupervisionCase).where(SupervisionCase.department_id == department_id,
                                      SupervisionCase.state.in_(waiting))
        .options(selectinload(SupervisionCase.task))
        .order_by(case((SupervisionCase.state == CaseState.ISSUED, 0), else_=1), SupervisionCase.response_deadline)
    ))
