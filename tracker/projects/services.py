"""Key projects (规划带项目、项目带资金): the register of a plan, the yearly investment plan and completed
investment (entered by the owner unit, confirmed by the planner), construction nodes, and changes of a
project's total investment through an adjustment request.

Every write takes the acting user, checks permission and the record's version, changes the record,
writes the audit entry and flushes; the caller's unit of work commits. Amounts are Decimals in 万元;
sums are taken in Python over Decimals (SQLite has no exact decimal arithmetic), so no float drift.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from .. import audit, review
from ..adjustments import notices
from ..adjustments.models import AdjustmentKind, AdjustmentRequest, AdjustmentState
from ..auth.models import User
from ..errors import DomainError, InvalidTransition, NotFound, StaleObject
from ..notifications.outbox import link_to
from ..permissions import (
    can_edit_project_register,
    can_enter_investment,
    can_keep_project_register,
    can_request_investment_adjustment,
    can_review_investment,
    can_submit_investment,
    can_update_task,
    region_ids_below,
    require,
)
from ..planning.models import Plan
from ..planning.queries import TreeNode, flatten, task_tree
from ..tasks.models import (
    PROJECT_KINDS,
    Milestone,
    ProjectNode,
    ReportState,
    Task,
    TaskKind,
    TaskLevel,
    TaskStatus,
)
from ..tasks.services import complete_milestone
from ..timeutil import now, today
from ..versioning import check_version
from . import amounts, checks
from .amounts import Entered
from .figures import NODE_ORDER, ZERO, shown, total_of, unit_of
from .models import FundingSource, KeyProject, ProjectFunding, ProjectInvestment, ProjectKind, ProjectStatus

PROJECT_FIELDS = ["kind", "status", "region", "content", "total_investment", "total_tbd", "period_investment",
                  "period_tbd", "start_year", "end_year", "version_id"]
INVESTMENT_FIELDS = ["year", "planned", "completed", "note", "state", "return_reason", "version_id"]

# Finishing these nodes moves the project on (never back): 开工 → 在建, 竣工验收 → 已竣工, 投入使用 → 已投用.
NODE_MOVES_STATUS = {
    ProjectNode.GROUNDBREAKING: ProjectStatus.BUILDING,
    ProjectNode.ACCEPTANCE: ProjectStatus.COMPLETED,
    ProjectNode.OPERATION: ProjectStatus.IN_USE,
}
STATUS_RANK = {ProjectStatus.PREPARING: 0, ProjectStatus.BUILDING: 1, ProjectStatus.COMPLETED: 2,
               ProjectStatus.IN_USE: 3}

CEILING_HINT = "如总投资确需调整，请由责任单位提出投资调整申请，经规划处批准后再填报。"


@dataclass
class RegisterInput:
    kind: ProjectKind
    status: ProjectStatus
    region_id: int | None
    content: str | None
    start_year: int | None
    end_year: int | None
    total: Entered
    period: Entered
    funding: dict[FundingSource, Entered]
    planned: dict[int, Entered]


def _register_snapshot(project: KeyProject) -> dict[str, Any]:
    snap = audit.snapshot(project, PROJECT_FIELDS)
    for f in sorted(project.funding, key=lambda f: list(FundingSource).index(f.source)):
        snap[f"funding.{f.source.value}"] = amounts.TBD if f.amount is None else audit.plain(f.amount)
    for inv in project.investments:
        if inv.planned is not None:
            snap[f"planned.{inv.year}"] = audit.plain(inv.planned)
    return snap


def register_warnings(plan: Plan, project: KeyProject | None, data: RegisterInput) -> list[str]:
    """The cross-checks (:func:`.checks.cross_check`) of a register entry as typed."""
    return checks.cross_check(checks.register_facts(
        plan, project, data.total.wan, {year: e.wan for year, e in data.planned.items()},
        [e.wan for e in data.funding.values() if not e.empty], data.status))


def _acknowledged(warnings: list[str]) -> str:
    """What the audit entry says of the warnings the planner acknowledged."""
    return f"；已核对提示：{''.join(warnings)}" if warnings else ""


def update_register(session: Session, actor: User, project: KeyProject, data: RegisterInput,
                    version: int | None, *, acknowledged: bool | Collection[str] = False) -> None:
    """The planner keeps a project's register entry: facts, funding and the yearly investment plan.

    A total investment, once fixed, changes only through an approved adjustment request. Figures that do
    not agree (:mod:`.checks`) are saved only when the planner acknowledged every warning (``acknowledged``:
    the warnings they saw, or True for all); the audit entry records them."""
    task = project.task
    require(can_edit_project_register(actor, task), "只有本级规划处可以维护项目库。")
    check_version(session, project, version)
    _validate_register(session, task.plan, project, data)
    warnings = register_warnings(task.plan, project, data)
    checks.require_acknowledged(warnings, acknowledged)

    before = _register_snapshot(project)
    _apply_register(project, data)
    # The register entry is one record: any change here (funding and yearly rows included) moves its version.
    project.updated_at = now()
    flag_modified(project, "updated_at")
    session.flush()
    changes = audit.diff(before, _register_snapshot(project))
    audit.record(session, actor, project, "update", changes, "维护项目库信息" + _acknowledged(warnings))


@dataclass
class ProjectTask:
    """The task side of a new project: its name, kind and place in the plan, the owner unit (the task's
    lead department) and the co-operating units. A blank code takes the next free one."""

    title: str
    kind: TaskKind
    parent_id: int | None
    lead_department_id: int | None
    co_department_ids: list[int] = field(default_factory=list)
    code: str | None = None


PARENT_LEVELS = frozenset({TaskLevel.CHAPTER, TaskLevel.KEY_TASK})
PROJECT_LEVELS = frozenset({TaskLevel.KEY_TASK, TaskLevel.MEASURE})


def project_parents(session: Session, plan: Plan) -> list[TreeNode]:
    """Where a new project may go: the plan's chapters and key tasks that are still open."""
    return [n for n in flatten(task_tree(session, plan))
            if n.task.level in PARENT_LEVELS and n.task.status != TaskStatus.TERMINATED]


def create_project(session: Session, actor: User, plan: Plan, task_data: ProjectTask,
                   data: RegisterInput, *, acknowledged: bool | Collection[str] = False) -> KeyProject:
    """The planner adds a project to the plan's register: its task (重大工程 or 重大项目, under a chapter or a key
    task, led by the owner unit, due at the end of the completion year) and its register entry, with the
    same rules and cross-checks as :func:`update_register`."""
    # imported here: planning builds query aliases on import, which needs every model loaded first
    from ..planning import services as planning

    require(can_keep_project_register(actor, plan), "只有本级规划处可以维护项目库。")
    if task_data.kind not in PROJECT_KINDS:
        raise DomainError("项目类型须为“重大工程”或“重大项目”。", field="task_kind")
    parent = planning.plan_task(session, plan, task_data.parent_id, "parent_id")
    if parent is not None and parent.level not in PARENT_LEVELS:
        raise DomainError("项目须列在某一章或某项重点任务之下。", field="parent_id")
    _validate_register(session, plan, None, data)
    warnings = register_warnings(plan, None, data)
    checks.require_acknowledged(warnings, acknowledged)
    level = TaskLevel.MEASURE if parent is not None and parent.level == TaskLevel.KEY_TASK else TaskLevel.KEY_TASK
    last_year = data.end_year or max(plan.end_year, data.start_year or plan.end_year)
    code = (task_data.code or "").strip() or planning.suggest_code(session, plan, parent, level)
    task = planning.create_task(session, actor, plan, parent.id if parent is not None else None, planning.TaskData(
        level=level, code=code, title=task_data.title, kind=task_data.kind,
        lead_department_id=task_data.lead_department_id, co_department_ids=list(task_data.co_department_ids),
        start_date=date(data.start_year, 1, 1) if data.start_year else None, deadline=date(last_year, 12, 31)))
    project = KeyProject(task=task)
    _apply_register(project, data)
    session.add(project)
    session.flush()
    audit.record(session, actor, project, "create", audit.diff({}, _register_snapshot(project)),
                 f"新增重大项目 {task.code} {task.title[:30]}" + _acknowledged(warnings))
    return project


def ensure_project(session: Session, actor: User, task: Task) -> KeyProject | None:
    """A key task or measure whose kind is 重大工程 or 重大项目 is listed in its plan's register: the project is
    created with the register's defaults (前期, 其他, located in the plan's region) when the task has none
    yet. The work below a project (its measures and annual tasks, which take the project's kind by
    default) is part of that project, not a project of its own. Returns the new project, or None when
    there was nothing to do."""
    if task.kind not in PROJECT_KINDS or task.project is not None or task.level not in PROJECT_LEVELS:
        return None
    above = task.parent
    while above is not None:
        if above.kind in PROJECT_KINDS:
            return None
        above = above.parent
    require(can_edit_project_register(actor, task), "只有本级规划处可以维护项目库。")
    plan = task.plan
    project = KeyProject(task=task, kind=ProjectKind.OTHER, status=ProjectStatus.PREPARING, region_id=plan.region_id)
    session.add(project)
    session.flush()
    audit.record(session, actor, project, "create", audit.diff({}, _register_snapshot(project)),
                 f"“{task.kind.label}”列入重大项目库（{task.code} {task.title[:30]}）")
    return project


def _apply_register(project: KeyProject, data: RegisterInput) -> None:
    """Write a checked register entry onto the project (a fixed total stays as it is)."""
    project.kind, project.status, project.region_id = data.kind, data.status, data.region_id
    project.content = (data.content or "").strip() or None
    project.start_year, project.end_year = data.start_year, data.end_year
    if project.total_investment is None:
        project.total_investment, project.total_tbd = data.total.wan, data.total.tbd
    project.period_investment, project.period_tbd = data.period.wan, data.period.tbd

    existing = {f.source: f for f in project.funding}
    for source, entered in data.funding.items():
        row = existing.get(source)
        if entered.empty:
            if row is not None:
                project.funding.remove(row)
        elif row is None:
            project.funding.append(ProjectFunding(source=source, amount=entered.wan))
        else:
            row.amount = entered.wan

    by_year = {i.year: i for i in project.investments}
    for year, entered in sorted(data.planned.items()):
        inv = by_year.get(year)
        if inv is None:
            if entered.wan is not None:
                project.investments.append(ProjectInvestment(year=year, planned=entered.wan, state=ReportState.DRAFT))
        elif entered.wan != inv.planned:
            inv.planned = entered.wan
            if inv.planned is None and inv.completed is None and not inv.note and inv.state == ReportState.DRAFT:
                project.investments.remove(inv)


def _validate_register(session: Session, plan: Plan, project: KeyProject | None, data: RegisterInput) -> None:
    """Every rule of a register entry, for an existing project or (``project`` None) a new one."""
    unit = plan.investment_unit
    if data.region_id is not None and data.region_id not in region_ids_below(session, plan.region_id):
        raise DomainError("建设地点须为本规划所在地区或其下辖地区。", field="region")
    for name, year in (("start_year", data.start_year), ("end_year", data.end_year)):
        if year is not None and not 1990 <= year <= 2100:
            raise DomainError("年份须在 1990 到 2100 之间。", field=name)
    if data.start_year and data.end_year and data.end_year < data.start_year:
        raise DomainError("建成年份不能早于开工年份。", field="end_year")

    entered = total_of(i.completed for i in project.investments) if project is not None else ZERO
    if project is not None and project.total_investment is not None:
        if data.total.tbd or data.total.wan != project.total_investment:
            raise DomainError("总投资已确定，不能在此修改。如需调整，请由责任单位提出投资调整申请，经规划处批准后生效。",
                              field="total_investment")
        total = project.total_investment
    else:
        total = data.total.wan
        if total is not None and total < entered:
            raise DomainError(f"总投资不能低于已填报的累计完成投资（{shown(entered, unit)}）。", field="total_investment")
    if total is not None and data.period.wan is not None and data.period.wan > total:
        raise DomainError("规划期内计划投资不能超过总投资。", field="period_investment")
    funded = total_of(e.wan for e in data.funding.values())
    if total is not None and funded > total:
        first = next(source for source, e in data.funding.items() if e.wan is not None)
        raise DomainError(f"各渠道资金合计（{shown(funded, unit)}）超过总投资（{shown(total, unit)}）。",
                          field=f"funding_{first.value}")
    for year, e in data.planned.items():
        if e.tbd:
            raise DomainError("年度计划投资须填写具体金额或留空。", field=f"planned_{year}")


# ------------------------------------------------------------------------------------------ yearly investment


def entry_years(project: KeyProject) -> list[int]:
    """The years the owner unit may report completed investment for: from the start of construction
    (or of the plan period) to this year."""
    first = min([project.start_year or project.task.plan.start_year] + [i.year for i in project.investments])
    return list(range(first, today().year + 1))


def investment_of(project: KeyProject, year: int) -> ProjectInvestment | None:
    return next((i for i in project.investments if i.year == year), None)


def _check_ceiling(project: KeyProject, year: int, completed: Decimal) -> None:
    """The cumulative completed investment (every year's figure on record) may not pass the total."""
    total = project.total_investment
    if total is None:
        return
    cumulative = total_of(i.completed for i in project.investments if i.year != year) + completed
    if cumulative > total:
        unit = unit_of(project)
        raise DomainError(f"填报后累计完成投资将达到{shown(cumulative, unit)}，超过项目总投资{shown(total, unit)}，"
                          f"不能保存。{CEILING_HINT}", field="completed")


def save_investment(session: Session, actor: User, project: KeyProject, year: int, *, completed: Decimal | None,
                    note: str | None, version: int | None, submit: bool = False) -> ProjectInvestment:
    """The owner unit records a year's completed investment (a draft, or sent straight to the planner by
    the head). ``version`` is the row's version the form was loaded with, 0 when there was no row."""
    task = project.task
    require(can_enter_investment(actor, task), "只有项目责任单位可以填报完成投资。")
    if submit:
        require(can_submit_investment(actor, task), "完成投资须由责任单位负责人提交。")
    inv = investment_of(project, year)
    if inv is None:
        if version:
            raise StaleObject("保存失败：该年度的填报已不存在，请刷新页面后重新填写。")
    else:
        check_version(session, inv, version)
        if inv.state not in EDITABLE_STATES:
            raise InvalidTransition(f"{year}年完成投资{inv.state.label}，不能再修改。")
    if year not in entry_years(project):
        raise DomainError("只能填报项目建设以来至今年的完成投资。", field="year")
    if completed is None:
        raise DomainError("请填写完成投资金额。", field="completed")
    _check_ceiling(project, year, completed)
    note = (note or "").strip() or None

    if inv is None:
        inv = ProjectInvestment(year=year, completed=completed, note=note, state=ReportState.DRAFT,
                                entered_by_id=actor.id)
        try:
            with session.begin_nested():
                project.investments.append(inv)
                session.flush()
        except IntegrityError:
            raise StaleObject("保存失败：他人刚刚填报了该年度的完成投资，您的填写没有保存。请刷新页面查看后再填写。") from None
        audit.record(session, actor, inv, "create", audit.diff({}, audit.snapshot(inv, INVESTMENT_FIELDS)),
                     f"填报{year}年完成投资")
    else:
        before = audit.snapshot(inv, INVESTMENT_FIELDS)
        inv.completed, inv.note, inv.entered_by_id = completed, note, actor.id
        audit.record_change(session, actor, inv, "update", before, INVESTMENT_FIELDS, f"修改{year}年完成投资")
    if submit:
        transition_investment(session, actor, inv, "submit", version=inv.version_id)
    return inv


def _check_submitted_figure(session: Session, inv: ProjectInvestment, action: str, reason: str | None) -> None:
    """A figure is sent or confirmed only when there is one, and only within the project's total."""
    if action in (review.SUBMIT, review.CONFIRM):
        if inv.completed is None:
            raise DomainError("该年度尚未填写完成投资。", field="completed")
        _check_ceiling(inv.project, inv.year, inv.completed)


def _investment_summary(inv: ProjectInvestment, label: str, reason: str | None) -> str:
    amount = shown(inv.completed, unit_of(inv.project)) if inv.completed is not None else ""
    return f"{label}{inv.year}年完成投资{amount}" + (f"：{reason}" if reason else "")


# A year's completed investment goes round the review lifecycle like a progress report: the owner unit's
# head submits it, the planner of the plan's region confirms or returns it. Only the confirmation is
# stamped (confirmed_at), and a return takes it away again; there is no submission stamp.
INVESTMENT_REVIEW = review.Reviewed(
    states={stage: ReportState(stage.value) for stage in review.Stage},
    may={
        review.SUBMIT: (lambda user, inv: can_submit_investment(user, inv.project.task),
                        "完成投资须由责任单位负责人提交。"),
        review.CONFIRM: (lambda user, inv: can_review_investment(user, inv.project.task),
                         "只有本级规划处可以确认或退回完成投资。"),
        review.RETURN: (lambda user, inv: can_review_investment(user, inv.project.task),
                        "只有本级规划处可以确认或退回完成投资。"),
    },
    stamps={
        review.SUBMIT: review.Stamp(clear=("return_reason",)),
        review.CONFIRM: review.Stamp("confirmed_at", "confirmed_by_id", clear=("return_reason",)),
        review.RETURN: review.Stamp(clear=("confirmed_at", "confirmed_by_id")),
    },
    fields=INVESTMENT_FIELDS,
    refused=lambda inv, action: f"{inv.year}年完成投资当前为“{inv.state.label}”，不能{review.action_label(action)}。",
    summary=_investment_summary,
    check=_check_submitted_figure,
    notice=lambda inv: review.Notice(
        "investment", f"“{inv.project.task.code} {inv.project.task.title}”{inv.year}年完成投资",
        link_to("projects.investment", investment_id=inv.id), inv.project.task.lead_department_id,
        inv.project.task.plan_id, inv.entered_by_id),
)
EDITABLE_STATES = INVESTMENT_REVIEW.editable


def transition_investment(session: Session, actor: User, inv: ProjectInvestment, action: str, *,
                          reason: str | None = None, version: int | None = None) -> None:
    """submit (the owner unit's head), confirm or return with a reason (the planner of the plan's region)."""
    review.move(session, actor, INVESTMENT_REVIEW, inv, action, reason=reason, version=version)


# ------------------------------------------------------------------------------------------ construction nodes


def complete_node(session: Session, actor: User, project: KeyProject, milestone: Milestone, *,
                  completed_on: date, evidence: str, version: int | None) -> None:
    """Mark a construction node done on its actual date (the task's milestone rules apply), and move the
    project's status on when the node says so."""
    if milestone.task_id != project.task_id or milestone.node is None:
        raise NotFound("该节点不属于此项目。")
    require(can_update_task(actor, project.task), "只有项目责任单位负责人或本级规划处可以办结建设节点。")
    check_version(session, milestone, version)
    for other in project.task.milestones:
        if (other.node is not None and other.completed_on is not None
                and NODE_ORDER[other.node] < NODE_ORDER[milestone.node] and completed_on < other.completed_on):
            raise DomainError(f"实际完成日期不能早于前序节点“{other.node.label}”的完成日期"
                              f"（{other.completed_on:%Y-%m-%d}）。", field="completed_on")
    complete_milestone(session, actor, milestone, completed_on=completed_on, evidence=evidence, version=version)
    moved_to = NODE_MOVES_STATUS.get(milestone.node)
    if (moved_to is not None and project.status in STATUS_RANK
            and STATUS_RANK[moved_to] > STATUS_RANK[project.status]):
        before = audit.snapshot(project, PROJECT_FIELDS)
        project.status = moved_to
        session.flush()
        audit.record(session, actor, project, "status", audit.diff(before, audit.snapshot(project, PROJECT_FIELDS)),
                     f"节点“{milestone.node.label}”办结，项目状态改为“{moved_to.label}”")


# ------------------------------------------------------------------------------------------ adjustments


def project_adjustments(session: Session, project: KeyProject) -> list[AdjustmentRequest]:
    return list(session.scalars(
        select(AdjustmentRequest)
        .where(AdjustmentRequest.project_id == project.id, AdjustmentRequest.kind == AdjustmentKind.INVESTMENT)
        .options(selectinload(AdjustmentRequest.requested_by), selectinload(AdjustmentRequest.decided_by))
        .order_by(AdjustmentRequest.id.desc())))


def pending_adjustment(session: Session, project: KeyProject) -> AdjustmentRequest | None:
    return session.scalar(select(AdjustmentRequest).where(
        AdjustmentRequest.project_id == project.id, AdjustmentRequest.state == AdjustmentState.PENDING))


def request_total_change(session: Session, actor: User, project: KeyProject, *, new_total: Decimal | None,
                         reason: str | None) -> AdjustmentRequest:
    """The owner unit's head asks to change the project's total investment; the planner decides."""
    require(can_request_investment_adjustment(actor, project.task), "只有项目责任单位负责人可以申请调整总投资。")
    if pending_adjustment(session, project) is not None:
        raise InvalidTransition("该项目已有待审批的投资调整申请，请等待规划处审批后再申请。")
    unit = unit_of(project)
    if new_total is None:
        raise DomainError("请填写调整后的总投资。", field="new_total")
    if new_total == project.total_investment:
        raise DomainError("调整后的总投资与现有总投资相同。", field="new_total")
    entered = total_of(i.completed for i in project.investments)
    if new_total < entered:
        raise DomainError(f"调整后的总投资不能低于已填报的累计完成投资（{shown(entered, unit)}）。", field="new_total")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明调整理由。", field="reason")
    old = (amounts.TBD if project.total_tbd
           else amounts.canonical(project.total_investment) if project.total_investment is not None else None)
    req = AdjustmentRequest(kind=AdjustmentKind.INVESTMENT, state=AdjustmentState.PENDING, project_id=project.id,
                            department_id=actor.department_id, requested_by_id=actor.id, old_value=old,
                            new_value=amounts.canonical(new_total), reason=reason, created_at=now())
    try:
        with session.begin_nested():
            session.add(req)
            session.flush()
    except IntegrityError:
        raise InvalidTransition("该项目已有待审批的投资调整申请，请等待规划处审批后再申请。") from None
    audit.record(session, actor, req, "create", {"new_value": [old, req.new_value]},
                 f"申请将总投资调整为{shown(new_total, unit)}：{reason[:100]}")
    notices.announce(session, actor, req, "file")
    return req


def check_total_change(session: Session, req: AdjustmentRequest) -> None:
    """Before an investment adjustment is approved: the new total may not fall below what is entered."""
    project = req.project
    assert project is not None
    entered = total_of(i.completed for i in project.investments)
    if Decimal(req.new_value or "0") < entered:
        raise DomainError(f"调整后的总投资低于已填报的累计完成投资（{shown(entered, unit_of(project))}），不能批准。",
                          field="comment")


def apply_total_change(session: Session, actor: User, req: AdjustmentRequest) -> None:
    """An approved investment adjustment: the project's total becomes the requested one."""
    project = req.project
    assert project is not None
    new_total = Decimal(req.new_value or "0")
    before = audit.snapshot(project, PROJECT_FIELDS)
    project.total_investment, project.total_tbd = new_total, False
    audit.record_change(session, actor, project, "adjust_total", before, PROJECT_FIELDS,
                        f"批准投资调整申请 #{req.id}，总投资调整为{shown(new_total, unit_of(project))}")


# ------------------------------------------------------------------------------------------ history


@dataclass
class HistoryItem:
    entry: audit.AuditEntry
    subject: str


def project_history(session: Session, project: KeyProject, limit: int = 300) -> list[HistoryItem]:
    """Every audit entry of the project, its yearly figures, its construction nodes and its adjustments."""
    subjects: dict[tuple[str, int], str] = {("key_projects", project.id): "项目"}
    subjects |= {("project_investments", i.id): f"{i.year}年投资" for i in project.investments}
    subjects |= {("milestones", m.id): f"节点：{m.title}" for m in project.task.milestones if m.node is not None}
    req_ids = session.scalars(select(AdjustmentRequest.id).where(AdjustmentRequest.project_id == project.id))
    subjects |= {("adjustment_requests", i): f"调整申请 #{i}" for i in req_ids}
    by_type: dict[str, list[int]] = {}
    for kind, ident in subjects:
        by_type.setdefault(kind, []).append(ident)
    entries = audit.history(session, *by_type.items(), limit=limit)
    return [HistoryItem(e, subjects[(e.object_type, e.object_id)]) for e in entries]
