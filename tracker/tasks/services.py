"""The business rules of updating work: status and progress, milestones, progress reports, roll-up.

Every function takes the acting user, checks permission and the record's version, changes the
record, writes the audit entry and flushes. The caller's unit of work commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Integer, and_, cast, func, literal, literal_column, null, select, update
from sqlalchemy.orm import Session

from .. import audit, review
from ..auth.models import Role, User
from ..errors import Checks, DomainError, InvalidTransition
from ..notifications.outbox import emit, link_to
from ..permissions import (
    can_edit_report,
    can_report_on_task,
    can_review_report,
    can_submit_report,
    can_update_task,
    require,
)
from ..timeutil import now, today
from ..versioning import check_version
from .models import (
    Milestone,
    MilestoneStatus,
    ProgressReport,
    ReportPeriod,
    ReportState,
    Task,
    TaskLevel,
    TaskStatus,
)

TASK_FIELDS = ["status", "progress", "completed_on", "status_note", "version_id"]
MILESTONE_FIELDS = ["status", "completed_on", "evidence", "version_id"]
REPORT_FIELDS = ["period", "period_year", "period_no", "progress", "achievements", "problems", "next_steps",
                 "state", "return_reason", "version_id"]

# Statuses a person may choose; 已逾期 is set by the overdue scan only.
SETTABLE_STATUSES = (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.SUSPENDED,
                     TaskStatus.TERMINATED)
STATUSES_NEEDING_NOTE = frozenset({TaskStatus.SUSPENDED, TaskStatus.TERMINATED})
# An overdue task saved as still open stays 已逾期: only finishing, suspending, terminating it or a new deadline
# (an approved adjustment, which the scan re-evaluates at once) ends it — so the status never disagrees with
# the deadline.
STILL_OPEN = frozenset({TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS})


# ---------------------------------------------------------------- status and progress


@dataclass
class StatusUpdate:
    status: TaskStatus
    progress: int
    note: str | None
    version: int | None


def update_task_status(session: Session, actor: User, task: Task, change: StatusUpdate) -> None:
    require(can_update_task(actor, task), "只有牵头单位负责人或本级规划处可以更新该任务的状态和进度。")
    check_version(session, task, change.version)
    if change.status not in SETTABLE_STATUSES:
        raise DomainError("“已逾期”由系统根据截止日期自动判定，不能手工选择。", field="status")
    if not 0 <= change.progress <= 100:
        raise DomainError("进度须在 0 到 100 之间。", field="progress")
    note = (change.note or "").strip() or None
    has_children = session.scalar(select(func.count()).where(Task.parent_id == task.id)) > 0
    if has_children and change.progress != task.progress:
        raise DomainError("该任务的进度由下级任务自动汇总，不能直接修改。", field="progress")
    if change.status == TaskStatus.DONE and change.progress < 100 and not note:
        raise DomainError("进度未达到100%时标记“已完成”，须在说明中写明原因。", field="note")
    if change.status in STATUSES_NEEDING_NOTE and not note:
        raise DomainError(f"标记“{change.status.label}”须写明原因。", field="note")

    before = audit.snapshot(task, TASK_FIELDS)
    finished = change.status == TaskStatus.DONE and task.status != TaskStatus.DONE
    if finished:
        task.completed_on = today()
    elif change.status != TaskStatus.DONE:
        task.completed_on = None
    task.status = TaskStatus.OVERDUE if task.status == TaskStatus.OVERDUE and change.status in STILL_OPEN \
        else change.status
    task.progress = change.progress
    task.status_note = note
    audit.record_change(session, actor, task, "update_status", before, TASK_FIELDS, "更新状态和进度")
    if finished:
        emit(session, "task.done", task, actor=actor, title=f"任务已完成：{task.code} {task.title}", body=note,
             link=link_to("tasks.show", task_id=task.id), department_id=task.lead_department_id, plan_id=task.plan_id)
    roll_up(session, [task.parent_id] if task.parent_id else [], actor)


audit_t = audit.AuditEntry.__table__
ROLL_UP_SUMMARY = "由下级任务汇总"


def _roll_up_changes(session: Session, old: Any, new: Any, version: Any) -> Any:
    """The audit entry's ``changes`` of a rolled-up parent, built in SQL: progress and version before → after."""
    if session.get_bind().dialect.name == "postgresql":
        build_object, build_array = func.json_build_object, func.json_build_array
    else:
        build_object, build_array = func.json_object, func.json_array
    return build_object(literal_column("'progress'"), build_array(old, new),
                        literal_column("'version_id'"), build_array(version, version + 1))


def _recompute(session: Session, parent_ids: set[int], actor: User | None) -> None:
    """Each parent's progress becomes the weight-averaged progress of its children that are not terminated
    (a parent whose children are all terminated keeps its own figure).

    A parent whose figure changes gets an audit entry and a new version, so a form opened on it before the
    roll-up is refused as stale: one INSERT … SELECT and one UPDATE … WHERE over the changed parents.

    The parents are locked first (in id order). Two roll-ups of one parent then queue, and the second reads
    the children after the first has committed — otherwise it would average the children as they were when
    it started and write back over the first one's share (SQLite's writers queue anyway)."""
    t = Task.__table__
    child = t.alias("child")
    weighted = (
        select(func.sum(child.c.progress * child.c.weight) / func.nullif(func.sum(child.c.weight), 0))
        .where(child.c.parent_id == t.c.id, child.c.status != TaskStatus.TERMINATED.value)
        .scalar_subquery()
    )
    rolled = cast(func.coalesce(func.round(weighted), t.c.progress), Integer)
    changed = and_(t.c.id.in_(parent_ids), rolled != t.c.progress)
    session.flush()  # the change below goes first (the statements here are Core: no autoflush)
    session.execute(select(t.c.id).where(t.c.id.in_(parent_ids)).order_by(t.c.id).with_for_update())
    at = now()
    session.execute(audit_t.insert().from_select(
        ["at", "actor_id", "object_type", "object_id", "action", "summary", "changes"],
        select(literal(at, audit_t.c.at.type), literal(actor.id, Integer) if actor else null(), literal(t.name),
               t.c.id, literal("roll_up"), literal(ROLL_UP_SUMMARY),
               _roll_up_changes(session, t.c.progress, rolled, t.c.version_id)).where(changed),
    ))
    session.execute(update(t).where(changed).values(progress=rolled, version_id=t.c.version_id + 1, updated_at=at))


def roll_up(session: Session, parent_ids: Sequence[int | None], actor: User | None = None) -> None:
    """Recompute these parents, then their parents, up to the chapter (``actor`` made the change below)."""
    ids = {i for i in parent_ids if i is not None}
    while ids:
        _recompute(session, ids, actor)
        ids = set(session.scalars(select(Task.parent_id).where(Task.id.in_(ids), Task.parent_id.is_not(None))))
    session.expire_all()


def roll_up_plan(session: Session, plan_id: int, actor: User | None = None) -> None:
    """Recompute every parent of a plan bottom-up (measures → key tasks → chapters), one pass a level."""
    has_children = select(Task.parent_id).where(Task.plan_id == plan_id, Task.parent_id.is_not(None))
    for level in (TaskLevel.MEASURE, TaskLevel.KEY_TASK, TaskLevel.CHAPTER):
        ids = set(session.scalars(select(Task.id).where(Task.plan_id == plan_id, Task.level == level,
                                                        Task.id.in_(has_children))))
        if ids:
            _recompute(session, ids, actor)
    session.expire_all()


def roll_up_all(session: Session) -> None:
    """Every plan's parents from their children (after the seeds are loaded, or a backup restored)."""
    for plan_id in session.scalars(select(Task.plan_id).distinct().order_by(Task.plan_id)).all():
        roll_up_plan(session, plan_id)


# ---------------------------------------------------------------- milestones


def complete_milestone(session: Session, actor: User, milestone: Milestone, *, completed_on: date,
                       evidence: str, version: int | None) -> None:
    task = milestone.task
    require(can_update_task(actor, task), "只有牵头单位负责人或本级规划处可以办结节点。")
    check_version(session, milestone, version)
    if milestone.status == MilestoneStatus.DONE:
        raise InvalidTransition("该节点已办结。")
    if milestone.status == MilestoneStatus.WAIVED:
        raise InvalidTransition("该节点已豁免，无需办结。")
    evidence = (evidence or "").strip()
    if not evidence:
        raise DomainError("请填写佐证说明（完成了什么、依据是什么）。", field="evidence")
    if completed_on > today():
        raise DomainError("完成日期不能晚于今天。", field="completed_on")
    if task.start_date and completed_on < task.start_date:
        raise DomainError("完成日期不能早于任务开始日期。", field="completed_on")
    before = audit.snapshot(milestone, MILESTONE_FIELDS)
    milestone.status = MilestoneStatus.DONE
    milestone.completed_on = completed_on
    milestone.evidence = evidence
    audit.record_change(session, actor, milestone, "complete", before, MILESTONE_FIELDS, f"办结节点“{milestone.title}”")
    audit.record(session, actor, task, "milestone_done", {}, f"办结节点“{milestone.title}”：{evidence[:100]}")
    emit(session, "milestone.done", milestone, actor=actor, title=f"节点已办结：{task.code} {milestone.title}",
         body=evidence[:500], link=link_to("tasks.show", task_id=task.id), department_id=task.lead_department_id,
         plan_id=task.plan_id)


# ---------------------------------------------------------------- progress reports


def _announce_on_task(session: Session, actor: User, report: ProgressReport, action: str, reason: str | None) -> None:
    """A report's review shows in its task's history too."""
    audit.record(session, actor, report.task, f"report_{action}", {},
                 f"{review.ACTION_LABELS[action]}{report.department.name}{report.period_label}进展填报"
                 + (f"：{reason}" if reason else ""))


# A progress report goes round the review lifecycle: the department head submits it, the planner of the
# plan's region confirms it or returns it with a reason; a review stamps reviewed_at and a new submission
# empties it again.
REPORT_REVIEW = review.Reviewed(
    states={stage: ReportState(stage.value) for stage in review.Stage},
    may={
        review.SUBMIT: (can_submit_report, "填报须由本单位负责人提交。"),
        review.CONFIRM: (can_review_report, "只有本级规划处可以审核填报。"),
        review.RETURN: (can_review_report, "只有本级规划处可以审核填报。"),
    },
    stamps={
        review.SUBMIT: review.Stamp("submitted_at", "submitted_by_id",
                                    clear=("return_reason", "reviewed_at", "reviewed_by_id")),
        review.CONFIRM: review.Stamp("reviewed_at", "reviewed_by_id", clear=("return_reason",)),
        review.RETURN: review.Stamp("reviewed_at", "reviewed_by_id"),
    },
    fields=REPORT_FIELDS,
    refused=lambda report, action: f"填报当前为“{report.state.label}”，不能{review.action_label(action)}。",
    summary=lambda report, label, _reason: f"{label}{report.period_label}进展填报",
    after=_announce_on_task,
    notice=lambda report: review.Notice(
        "report", f"{report.department.name}“{report.task.code} {report.task.title}”{report.period_label}进展填报",
        link_to("tasks.report", report_id=report.id), report.department_id, report.task.plan_id,
        report.created_by_id),
)
EDITABLE_REPORT_STATES = REPORT_REVIEW.editable


@dataclass
class ReportInput:
    period: ReportPeriod
    period_year: int
    period_no: int
    progress: int
    achievements: str | None
    problems: str | None
    next_steps: str | None


def _validate_report(task: Task, data: ReportInput) -> None:
    """Every rule a report breaks, all at once."""
    checks = Checks()
    count = len(data.period.numbers)
    if not 1 <= data.period_no <= count:
        checks.fail("period_no", f"{data.period.label}报的期次应在 1 到 {count} 之间。")
    first = task.start_date.year if task.start_date else 1990
    last = task.deadline.year + 1 if task.deadline else 2100
    if not first <= data.period_year <= last:
        checks.fail("period_year", f"填报年度应在 {first} 到 {last} 年之间。")
    elif data.period_year > today().year:
        checks.fail("period_year", "不能填报未来年度。")
    if not 0 <= data.progress <= 100:
        checks.fail("progress", "进度须在 0 到 100 之间。")
    if not (data.achievements or "").strip():
        checks.fail("achievements", "请填写完成情况。")
    checks.done()


def create_report(session: Session, actor: User, task: Task, data: ReportInput) -> ProgressReport:
    require(can_report_on_task(actor, task), "只有该任务的牵头或配合单位可以填报进展。")
    _validate_report(task, data)
    exists = session.scalar(select(ProgressReport.id).where(
        ProgressReport.task_id == task.id, ProgressReport.department_id == actor.department_id,
        ProgressReport.period == data.period, ProgressReport.period_year == data.period_year,
        ProgressReport.period_no == data.period_no))
    if exists:
        raise DomainError("本单位该期的填报已存在，请打开原填报修改。", field="period_no",
                          link=("打开原填报", "tasks.report", {"report_id": exists}))
    report = ProgressReport(task=task, department_id=actor.department_id, created_by_id=actor.id,
                            state=ReportState.DRAFT, **_report_values(data))
    session.add(report)
    session.flush()
    audit.record(session, actor, report, "create", audit.diff({}, audit.snapshot(report, REPORT_FIELDS)),
                 f"起草{report.period_label}进展填报")
    audit.record(session, actor, task, "report_drafted", {}, f"{actor.department.name}起草{report.period_label}进展填报")
    if actor.role == Role.DEPT_STAFF:  # the head submits it: tell them a draft is waiting
        emit(session, "report.draft", report, actor=actor,
             title=f"待提交：{actor.name}起草了“{task.code} {task.title}”{report.period_label}进展填报",
             link=link_to("tasks.report", report_id=report.id), department_id=report.department_id,
             plan_id=task.plan_id, person_id=actor.id)
    return report


def _report_values(data: ReportInput) -> dict[str, Any]:
    return dict(period=data.period, period_year=data.period_year, period_no=data.period_no,
                progress=data.progress, achievements=(data.achievements or "").strip() or None,
                problems=(data.problems or "").strip() or None, next_steps=(data.next_steps or "").strip() or None)


def update_report(session: Session, actor: User, report: ProgressReport, data: ReportInput,
                  version: int | None) -> None:
    require(can_edit_report(actor, report), "只能修改本单位的填报。")
    check_version(session, report, version)
    if report.state not in EDITABLE_REPORT_STATES:
        raise InvalidTransition(f"填报已{report.state.label}，不能再修改。")
    _validate_report(report.task, data)
    before = audit.snapshot(report, REPORT_FIELDS)
    for key, value in _report_values(data).items():
        setattr(report, key, value)
    audit.record_change(session, actor, report, "update", before, REPORT_FIELDS, "修改进展填报")


def transition_report(session: Session, actor: User, report: ProgressReport, action: str, *,
                      reason: str | None = None, version: int | None = None) -> None:
    """submit (department head), confirm or return with a reason (planner of the plan's region)."""
    review.move(session, actor, REPORT_REVIEW, report, action, reason=reason, version=version)
