"""The reads behind the task pages and the report list: one function per page, shared by the page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, select
from sqlalchemy.orm import Session, selectinload

from .. import audit
from ..adjustments.models import AdjustmentRequest
from ..attachments.models import Attachment
from ..auth.models import User
from ..permissions import DEPARTMENT_ROLES, PLANNING_ROLES, can_view_case, in_regions, visible_region_ids
from ..planning.models import Plan
from ..supervision.models import CaseStep, SupervisionCase
from .models import ProgressReport, ReportState, Task


@dataclass
class TaskPage:
    """What the task page shows besides the task (loaded by the view with its milestones, children, …)."""

    ancestors: list[Task]
    attachments: list[Attachment]
    cases: list[SupervisionCase]
    open_cases: set[int]  # the cases whose course (comments, steps) the reader may see
    history: list[audit.AuditEntry]
    adjustments: list[AdjustmentRequest]


def ancestors(task: Task) -> list[Task]:
    """The task's parents, the top one first."""
    chain: list[Task] = []
    node = task.parent
    while node is not None:
        chain.insert(0, node)
        node = node.parent
    return chain


def task_page(session: Session, user: User, task: Task) -> TaskPage:
    attachments = list(session.scalars(
        select(Attachment).where(Attachment.milestone_id.in_([m.id for m in task.milestones])
                                 | Attachment.report_id.in_([r.id for r in task.reports]))
    ))
    cases = list(session.scalars(
        select(SupervisionCase).where(SupervisionCase.task_id == task.id)
        .options(selectinload(SupervisionCase.steps).selectinload(CaseStep.actor)).order_by(SupervisionCase.id.desc())))
    open_cases = {c.id for c in cases if can_view_case(session, user, c)}
    # the case steps recorded on the task stay with the case, unless the reader may open every case
    hidden = "case_" if len(open_cases) < len(cases) else None
    history = audit.history(session, ("tasks", task.id), hide_actions=hidden, except_actions=("case_filed",))
    adjustments = list(session.scalars(
        select(AdjustmentRequest).where(AdjustmentRequest.task_id == task.id).order_by(AdjustmentRequest.id.desc())))
    return TaskPage(ancestors(task), attachments, cases, open_cases, history, adjustments)


@dataclass
class ReportPage:
    attachments: list[Attachment]
    history: list[audit.AuditEntry]


def report_page(session: Session, report: ProgressReport) -> ReportPage:
    return ReportPage(
        attachments=list(session.scalars(select(Attachment).where(Attachment.report_id == report.id))),
        history=audit.history(session, ("progress_reports", report.id)),
    )


# What each side has to act on comes first: a department the reports it must finish (returned, then drafts
# waiting for the head to submit), everyone else the submitted ones waiting for review.
DEPARTMENT_FIRST = {ReportState.RETURNED: 0, ReportState.DRAFT: 1, ReportState.SUBMITTED: 2, ReportState.CONFIRMED: 3}
REVIEWER_FIRST = {ReportState.SUBMITTED: 0, ReportState.RETURNED: 1, ReportState.DRAFT: 1, ReportState.CONFIRMED: 2}


def report_regions(session: Session, user: User) -> set[int] | None:
    """The regions whose plans' reports the user reads: a planner its own region's (its review queue), the others
    those of the regions they see; None for a department, which reads its own reports whatever the plan."""
    if user.role in DEPARTMENT_ROLES:
        return None
    if user.role in PLANNING_ROLES:
        return {user.region_id}
    return visible_region_ids(session, user)


def report_list(session: Session, user: User, state: ReportState | None = None) -> Select[Any]:
    """Reports in the user's scope, for paging: planners see their region's queue, departments their own
    reports, the others those of the regions they see — what the user has to act on first."""
    stmt = (select(ProgressReport).join(ProgressReport.task).join(Task.plan)
            .options(selectinload(ProgressReport.task).selectinload(Task.plan),
                     selectinload(ProgressReport.department)))
    regions = report_regions(session, user)
    if regions is None:
        stmt = stmt.where(ProgressReport.department_id == user.department_id)
    else:
        stmt = stmt.where(in_regions(session, Plan.region_id, regions))
    if state is not None:
        stmt = stmt.where(ProgressReport.state == state)
    first = DEPARTMENT_FIRST if user.role in DEPARTMENT_ROLES else REVIEWER_FIRST
    rank = case(first, value=ProgressReport.state)
    return stmt.order_by(rank, ProgressReport.submitted_at.desc().nulls_last(), ProgressReport.id.desc())

