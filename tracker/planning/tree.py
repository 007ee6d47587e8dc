"""Shaping the task tree: moving, linking to the parent plan, deleting or closing, splitting into years."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import audit
from ..adjustments.models import AdjustmentRequest
from ..alerts.models import Alert
from ..attachments.models import Attachment
from ..auth.models import User
from ..errors import DomainError
from ..permissions import can_edit_plan, require
from ..projects.models import KeyProject, ProjectInvestment
from ..supervision.models import SupervisionCase
from ..tasks.models import Milestone, MilestoneStatus, ProgressReport, Task, TaskLevel, TaskStatus
from ..timeutil import format_date
from .milestones import MILESTONE_FIELDS
from .services import (
    CLOSED_STATUSES,
    MAX_CODE_LENGTH,
    MAX_TITLE_LENGTH,
    NOT_YOURS,
    PLACEMENT_RULES,
    SPLITTABLE_LEVELS,
    check_open,
    check_version,
    child_numbers,
    clean_text,
    descendant_ids,
    level_fits,
    listed,
    next_sort_order,
    plan_task,
    region_department,
    required_text,
    task_snapshot,
    upstream_in_parent_plan,
)


def move_task(session: Session, actor: User, task: Task, parent_id: int | None, version: int | None) -> Task:
    """Re-parent within the plan, never under the task's own subtree, keeping levels consistent."""
    require(can_edit_plan(actor, task.plan), NOT_YOURS)
    check_version(task, version, "任务")
    parent = plan_task(session, task.plan, parent_id, "parent_id")
    if parent is not None and (parent.id == task.id or parent.id in descendant_ids(session, task)):
        raise DomainError("不能把任务移到它自己或它的下级任务之下。", field="parent_id")
    if not level_fits(task.level, parent):
        raise DomainError(PLACEMENT_RULES[task.level], field="parent_id")
    if parent is not None:
        check_open(parent, "parent_id")
    if (parent.id if parent else None) == task.parent_id:
        raise DomainError("任务已经位于该位置。", field="parent_id")
    before = {"parent": f"{task.parent.code} {task.parent.title}" if task.parent else "（顶层）"}
    task.parent = parent
    task.sort_order = next_sort_order(session, task.plan, parent)
    after = {"parent": f"{parent.code} {parent.title}" if parent else "（顶层）"}
    audit.record(session, actor, task, "move", changes=audit.diff(before, after), summary="移动任务")
    session.flush()
    return task


def link_upstream(session: Session, actor: User, task: Task, upstream_id: int | None,
                  version: int | None) -> Task:
    """Link a task to the task of the parent plan it implements (or unlink it)."""
    require(can_edit_plan(actor, task.plan), NOT_YOURS)
    check_version(task, version, "任务")
    upstream = upstream_in_parent_plan(session, task.plan, upstream_id)
    if upstream is task.upstream:
        return task
    before = task_snapshot(task)
    task.upstream = upstream
    audit.record(session, actor, task, "link_upstream", changes=audit.diff(before, task_snapshot(task)),
                 summary="关联上位任务" if upstream else "解除上位任务关联")
    session.flush()
    return task


def deletion_blockers(session: Session, task: Task) -> list[str]:
    """Why deleting this task would break the tree or lose history (empty: it may be deleted)."""

    def count(stmt: Any) -> int:
        return session.scalar(stmt) or 0

    milestone_ids = select(Milestone.id).where(Milestone.task_id == task.id)
    checks = [
        (count(select(func.count()).select_from(Task).where(Task.parent_id == task.id)), "项下级任务"),
        (count(select(func.count()).select_from(ProgressReport).where(ProgressReport.task_id == task.id)),
         "份进展填报"),
        (count(select(func.count()).select_from(Milestone)
               .where(Milestone.task_id == task.id, Milestone.status == MilestoneStatus.DONE)), "个已完成的节点"),
        (count(select(func.count()).select_from(Alert).where(Alert.task_id == task.id)), "条预警记录"),
        (count(select(func.count()).select_from(SupervisionCase).where(SupervisionCase.task_id == task.id)),
         "件督办件"),
        (count(select(func.count()).select_from(Task).where(Task.upstream_task_id == task.id)),
         "项下级规划任务承接该任务"),
        (count(select(func.count()).select_from(Attachment)
               .where(or_(Attachment.task_id == task.id, Attachment.milestone_id.in_(milestone_ids)))), "个附件"),
        (count(select(func.count()).select_from(AdjustmentRequest).where(AdjustmentRequest.task_id == task.id)),
         "条调整申请"),
        (count(select(func.count()).select_from(ProjectInvestment).join(KeyProject)
               .where(KeyProject.task_id == task.id)), "个年度的项目投资记录"),
    ]
    reasons = [f"有 {n} {what}" for n, what in checks if n]
    if task.progress > 0 or task.status == TaskStatus.DONE:
        reasons.append(f"已有执行进度（{task.status.label}，{task.progress}%）")
    return reasons


def delete_task(session: Session, actor: User, task: Task, version: int | None) -> None:
    require(can_edit_plan(actor, task.plan), NOT_YOURS)
    check_version(task, version, "任务")
    blockers = deletion_blockers(session, task)
    if blockers:
        raise DomainError("该任务" + "、".join(blockers) + "，不能删除；可以终止该任务。")
    before = task_snapshot(task)
    before["milestones"] = listed([f"{m.title}（{m.due_date.isoformat()}）" for m in task.milestones])
    audit.record(session, actor, task, "delete", changes={k: [v, None] for k, v in before.items() if v is not None},
                 summary=f"删除{task.level.label} {task.code} {task.title}")
    session.delete(task)
    session.flush()


def close_task(session: Session, actor: User, task: Task, reason: str, version: int | None) -> list[Task]:
    """Terminate a task (已终止, with the reason) and its open subtree; pending milestones are waived."""
    require(can_edit_plan(actor, task.plan), NOT_YOURS)
    check_version(task, version, "任务")
    reason = required_text(reason, "reason", "请填写终止原因。")
    if task.status in CLOSED_STATUSES:
        raise DomainError(f"该任务的状态为“{task.status.label}”，无需终止。")
    subtree = [task, *session.scalars(select(Task).where(Task.id.in_(descendant_ids(session, task)))
                                      .order_by(Task.id))]
    closed = []
    for item in subtree:
        if item.status in CLOSED_STATUSES:
            continue
        note = reason if item is task else f"随上级任务 {task.code} 终止：{reason}"
        before = {"status": item.status.label, "status_note": item.status_note}
        item.status, item.status_note = TaskStatus.TERMINATED, note
        audit.record(session, actor, item, "close", changes=audit.diff(before, {"status": item.status.label,
                                                                               "status_note": note}),
                     summary="终止任务")
        for m in item.milestones:
            if m.is_open:
                old = m.status.label
                m.status = MilestoneStatus.WAIVED
                audit.record(session, actor, m, "waive", changes={"status": [old, m.status.label]},
                             summary=f"任务 {item.code} 终止，节点豁免")
        closed.append(item)
    session.flush()
    return closed


# -------------------------------------------------------------------------------- annual splitting


@dataclass
class SplitData:
    years: list[int]
    title: str
    lead_department_id: int | None
    co_department_ids: list[int] = field(default_factory=list)
    responsible_person: str | None = None
    milestone_title: str | None = None  # a year-end milestone for each annual task when given


def existing_years(task: Task) -> dict[int, Task]:
    return {c.year: c for c in task.children if c.level == TaskLevel.ANNUAL and c.year is not None}


def split_defaults(task: Task) -> dict[str, Any]:
    """The split form as first shown: every open year of the plan within the task's dates, its departments."""
    have = existing_years(task)
    years = [y for y in range(task.plan.start_year, task.plan.end_year + 1)
             if y not in have and (task.deadline is None or date(y, 1, 1) <= task.deadline)
             and (task.start_date is None or date(y, 12, 31) >= task.start_date)]
    return {"years": years, "title": task.title, "lead_department_id": task.lead_department_id,
            "co_department_ids": [d.id for d in task.co_departments], "responsible_person": task.responsible_person}


def split_into_annual_tasks(session: Session, actor: User, parent: Task, data: SplitData) -> list[Task]:
    """One annual task per chosen year, coded "<parent>.<n>", running Jan 1 – Dec 31 within the parent's dates."""
    plan = parent.plan
    require(can_edit_plan(actor, plan), NOT_YOURS)
    if parent.level not in SPLITTABLE_LEVELS:
        raise DomainError("只有重点任务和工作举措可以拆分为年度任务。")
    check_open(parent)
    if parent.deadline is None:
        raise DomainError("请先为该任务设置截止日期。")
    years = sorted(set(data.years))
    if not years:
        raise DomainError("请至少选择一个年度。", field="years")
    have = existing_years(parent)
    for year in years:
        if not plan.start_year <= year <= plan.end_year:
            raise DomainError(f"{year}年不在规划期（{plan.period_label}）内。", field="years")
        if date(year, 1, 1) > parent.deadline:
            raise DomainError(f"{year}年晚于该任务的截止日期（{format_date(parent.deadline)}），不能拆分到该年。",
                              field="years")
        if parent.start_date and date(year, 12, 31) < parent.start_date:
            raise DomainError(f"{year}年早于该任务的开始日期（{format_date(parent.start_date)}），不能拆分到该年。",
                              field="years")
        if year in have:
            raise DomainError(f"{year}年已有年度任务“{have[year].code} {have[year].title}”。", field="years")
    title = required_text(data.title, "title", "请填写年度任务名称。")
    if data.lead_department_id is None:
        raise DomainError("请选择牵头单位（有且只有一个）。", field="lead_department_id")
    lead = region_department(session, plan, data.lead_department_id, "lead_department_id", "牵头单位")
    co = [d for d in (region_department(session, plan, i, "co_department_ids", "配合单位")
                      for i in dict.fromkeys(data.co_department_ids)) if d is not lead]
    milestone_title = clean_text(data.milestone_title)
    if len(f"{years[-1]}年度{title}") > MAX_TITLE_LENGTH:
        raise DomainError(f"名称过长：加上“某年度”后不能超过{MAX_TITLE_LENGTH}字。", field="title")

    codes = set(session.scalars(select(Task.code).where(Task.plan_id == plan.id)))
    n = max(child_numbers(codes, parent.code + "."), default=0)
    planned: list[tuple[int, str]] = []
    for year in years:
        n += 1
        while f"{parent.code}.{n}" in codes:
            n += 1
        planned.append((year, f"{parent.code}.{n}"))
    too_long = next((code for _, code in planned if len(code) > MAX_CODE_LENGTH), None)
    if too_long:
        raise DomainError(f"编号“{too_long}”超过{MAX_CODE_LENGTH}个字符。", field="years")

    order = next_sort_order(session, plan, parent)
    created: list[Task] = []
    for year, code in planned:
        start = max(date(year, 1, 1), parent.start_date) if parent.start_date else date(year, 1, 1)
        task = Task(plan=plan, parent=parent, level=TaskLevel.ANNUAL, code=code, title=f"{year}年度{title}",
                    kind=parent.kind, lead_department=lead, co_departments=list(co),
                    responsible_person=clean_text(data.responsible_person), start_date=start,
                    deadline=min(date(year, 12, 31), parent.deadline), year=year, status=TaskStatus.NOT_STARTED,
                    progress=0, weight=1, sort_order=order)
        order += 1
        session.add(task)
        session.flush()
        audit.record(session, actor, task, "create", changes=audit.diff({}, task_snapshot(task)),
                     summary=f"由 {parent.code} 拆分为{year}年度任务")
        if milestone_title:
            milestone = Milestone(task=task, title=milestone_title, due_date=task.deadline)
            session.add(milestone)
            session.flush()
            audit.record(session, actor, milestone, "create",
                         changes=audit.diff({}, audit.snapshot(milestone, MILESTONE_FIELDS)),
                         summary=f"为任务 {code} 新增年末节点")
        created.append(task)
    audit.record(session, actor, parent, "split",
                 changes={"children": [None, listed([f"{t.code} {t.title}" for t in created])]},
                 summary=f"拆分为 {len(created)} 项年度任务")
    session.flush()
    return created
