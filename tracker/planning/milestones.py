"""Milestones (节点) of a task: added, edited and removed by the planner; done ones are records."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit
from ..adjustments.models import AdjustmentRequest
from ..alerts.models import Alert
from ..attachments.models import Attachment
from ..auth.models import User
from ..errors import Checks, DomainError
from ..permissions import can_edit_plan, require
from ..tasks.models import Milestone, MilestoneStatus, ProjectNode, Task, TaskLevel
from ..timeutil import format_date
from .services import NOT_YOURS, check_version, required_text

MILESTONE_FIELDS = ["title", "node", "due_date"]


def _check_milestone(task: Task, title: str | None, due_date: date | None) -> str:
    """Every rule of the milestone form, every refusal at once (errors.Checks); returns the title."""
    if task.level == TaskLevel.CHAPTER:
        raise DomainError("章不设节点，请在其下的任务中添加。")
    checks = Checks()
    title = checks.attempt(required_text, title, "title", "请填写节点名称。")
    if due_date is None:
        checks.fail("due_date", "请填写节点的计划日期。")
    elif task.deadline is not None and due_date > task.deadline:
        checks.fail("due_date", f"节点日期不能晚于任务的截止日期（{format_date(task.deadline)}）。")
    checks.done()
    return title or ""


def check_milestone(task: Task, title: str | None, due_date: date | None) -> None:
    """The milestone rules alone, for a form whose own checks failed: every error in one round."""
    _check_milestone(task, title, due_date)


def add_milestone(session: Session, actor: User, task: Task, title: str | None, due_date: date | None,
                  node: ProjectNode | None = None) -> Milestone:
    require(can_edit_plan(actor, task.plan), NOT_YOURS)
    title = _check_milestone(task, title, due_date)
    assert due_date is not None
    milestone = Milestone(task=task, title=title, due_date=due_date, node=node)
    session.add(milestone)
    session.flush()
    audit.record(session, actor, milestone, "create",
                 changes=audit.diff({}, audit.snapshot(milestone, MILESTONE_FIELDS)),
                 summary=f"任务 {task.code} 新增节点“{title}”")
    session.flush()
    return milestone


def update_milestone(session: Session, actor: User, milestone: Milestone, title: str | None,
                     due_date: date | None, node: ProjectNode | None, version: int | None) -> Milestone:
    task = milestone.task
    require(can_edit_plan(actor, task.plan), NOT_YOURS)
    check_version(milestone, version, "节点")
    if milestone.status == MilestoneStatus.DONE:
        raise DomainError("已完成的节点是执行记录，不能修改。")
    title = _check_milestone(task, title, due_date)
    assert due_date is not None
    before = audit.snapshot(milestone, MILESTONE_FIELDS)
    milestone.title, milestone.due_date, milestone.node = title, due_date, node
    changes = audit.diff(before, audit.snapshot(milestone, MILESTONE_FIELDS))
    if changes:
        audit.record(session, actor, milestone, "update", changes=changes, summary=f"修改任务 {task.code} 的节点")
    session.flush()
    return milestone


def milestone_removal_blockers(session: Session, milestone: Milestone) -> list[str]:
    reasons = []
    if milestone.status == MilestoneStatus.DONE:
        reasons.append("已完成")
    alerts = session.scalar(select(func.count()).select_from(Alert).where(Alert.milestone_id == milestone.id))
    if alerts:
        reasons.append(f"有 {alerts} 条预警记录")
    files = session.scalar(select(func.count()).select_from(Attachment).where(Attachment.milestone_id == milestone.id))
    if files:
        reasons.append(f"有 {files} 个附件")
    requests = session.scalar(select(func.count()).select_from(AdjustmentRequest)
                              .where(AdjustmentRequest.milestone_id == milestone.id))
    if requests:
        reasons.append(f"有 {requests} 条调整申请")
    return reasons


def remove_milestone(session: Session, actor: User, milestone: Milestone) -> None:
    task = milestone.task
    require(can_edit_plan(actor, task.plan), NOT_YOURS)
    blockers = milestone_removal_blockers(session, milestone)
    if blockers:
        raise DomainError(f"节点“{milestone.title}”" + "、".join(blockers) + "，不能删除。")
    audit.record(session, actor, milestone, "delete",
                 changes={k: [v, None] for k, v in audit.snapshot(milestone, MILESTONE_FIELDS).items()
                          if v is not None},
                 summary=f"删除任务 {task.code} 的节点“{milestone.title}”")
    task.milestones.remove(milestone)
    session.flush()
