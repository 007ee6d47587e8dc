"""Decomposition by the planner: plans and their lifecycle, tasks at every level of the tree.

Every function takes the acting user, checks the rules, changes the records, writes the audit entries
and flushes; the request (or the caller) commits. Refused input raises ``DomainError(field=...)`` naming
the form field it belongs to; a form loaded before someone else saved the record raises ``StaleObject``.
Inputs are checked before anything is changed, so a refusal leaves the session as it was.

One idea, though long: the rules by which a planner shapes a plan and its tree (the plan, its lifecycle and
each task's place, fields and links), kept together because the task rules read the plan's. Moving a task,
closing and deleting it are in tree.py, milestones and indicators in their own modules, deleting a plan in
deletion.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased, object_session
from sqlalchemy.orm.attributes import flag_modified

from .. import audit, versioning
from ..auth.models import User
from ..errors import Checks, DomainError
from ..indicators.models import Indicator
from ..permissions import can_create_plan, can_edit_plan, region_ids_above, require
from ..regions.models import Department, Region
from ..tasks.models import Task, TaskKind, TaskLevel, TaskStatus
from ..timeutil import format_date, today
from .models import InvestmentUnit, Plan, PlanLevel, PlanStage, PlanStageEvent
from .queries import flatten, task_tree

_UpstreamTask = aliased(Task)
NOT_YOURS = "只有本地区的规划处可以编辑该规划及其任务。"

# Where each level may sit in the tree: a chapter at the top, annual tasks under a key task or measure.
LEVEL_PARENTS: dict[TaskLevel, frozenset[TaskLevel | None]] = {
    TaskLevel.CHAPTER: frozenset({None}),
    TaskLevel.KEY_TASK: frozenset({None, TaskLevel.CHAPTER}),
    TaskLevel.MEASURE: frozenset({TaskLevel.KEY_TASK}),
    TaskLevel.ANNUAL: frozenset({TaskLevel.KEY_TASK, TaskLevel.MEASURE}),
}
PLACEMENT_RULES = {
    TaskLevel.CHAPTER: "章只能位于规划的顶层。",
    TaskLevel.KEY_TASK: "重点任务须位于规划顶层或某一章之下。",
    TaskLevel.MEASURE: "工作举措须位于重点任务之下。",
    TaskLevel.ANNUAL: "年度任务须位于重点任务或工作举措之下。",
}
SPLITTABLE_LEVELS = frozenset({TaskLevel.KEY_TASK, TaskLevel.MEASURE})
CLOSED_STATUSES = frozenset({TaskStatus.DONE, TaskStatus.TERMINATED})
MAX_CODE_LENGTH = 40
MAX_TITLE_LENGTH = 300


def level_fits(level: TaskLevel, parent: Task | None) -> bool:
    return (parent.level if parent is not None else None) in LEVEL_PARENTS[level]


def child_levels(level: TaskLevel | None) -> list[TaskLevel]:
    """Levels that may be created under a task of ``level`` (None: the top of the plan)."""
    return [lv for lv in TaskLevel if level in LEVEL_PARENTS[lv]]


def check_version(obj: Any, version: int | None, what: str) -> None:
    """Refuse a save whose form was loaded before the record last changed. The row is locked first, as
    for a department's updates, so of two saves at once the second is refused here; the planning pages
    show what changed beside the form."""
    session = object_session(obj)
    assert session is not None, "a stored record"
    versioning.check_version(session, obj, version, f"该{what}在您打开表单后已被他人修改，您的修改没有保存。",
                        list_changes=False)


def check_open(parent: Task, field_name: str | None = None) -> None:
    """Nothing new goes under a terminated task."""
    if parent.status == TaskStatus.TERMINATED:
        raise DomainError(f"“{parent.code} {parent.title}”已终止，不能在其下安排任务。", field=field_name)


def last_change(session: Session, obj: Any) -> audit.AuditEntry | None:
    return next(iter(audit.history(session, (obj.__tablename__, obj.id), limit=1)), None)


def clean_text(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text or None


def required_text(text: str | None, field_name: str, message: str) -> str:
    value = clean_text(text)
    if value is None:
        raise DomainError(message, field=field_name)
    return value


# ---------------------------------------------------------------------------------------------- plans


@dataclass
class PlanData:
    title: str
    short_name: str
    level: PlanLevel
    start_year: int
    end_year: int
    parent_id: int | None = None
    issuing_body: str | None = None
    doc_number: str | None = None
    investment_unit: InvestmentUnit = InvestmentUnit.WAN
    description: str | None = None


PLAN_FIELDS = ["title", "short_name", "level", "start_year", "end_year", "parent", "issuing_body", "doc_number",
               "investment_unit", "description"]


def plan_descendant_ids(session: Session, plan_id: int) -> set[int]:
    ids: set[int] = set()
    frontier = {plan_id}
    while frontier:
        frontier = set(session.scalars(select(Plan.id).where(Plan.parent_id.in_(frontier)))) - ids
        ids |= frontier
    return ids


def parent_plan_options(session: Session, actor: User, plan: Plan | None = None) -> list[Plan]:
    """Plans that may be the parent (上位规划): of the planner's region or a region above it; not an archived
    one (but the plan's own parent stays choosable)."""
    region_ids = {actor.region_id} | region_ids_above(session, actor.region_id)
    kept = or_(Plan.stage != PlanStage.ARCHIVED, Plan.id == plan.parent_id) if plan is not None and plan.parent_id \
        else Plan.stage != PlanStage.ARCHIVED
    stmt = (select(Plan).where(Plan.region_id.in_(region_ids), kept)
            .order_by(Plan.level, Plan.start_year.desc(), Plan.id))
    if plan is not None:
        stmt = stmt.where(Plan.id.not_in({plan.id} | plan_descendant_ids(session, plan.id)))
    return list(session.scalars(stmt))


def _check_not_duplicate(session: Session, region: Region, data: PlanData, plan: Plan | None) -> None:
    """No second plan of the region and level with the same title or short name over an overlapping period
    (unique constraints catch two exact submissions at once; this names the plan already there)."""
    title, short_name = (data.title or "").strip(), (data.short_name or "").strip()
    stmt = select(Plan).where(Plan.region_id == region.id, Plan.level == data.level,
                              or_(Plan.title == title, Plan.short_name == short_name),
                              Plan.start_year <= data.end_year, Plan.end_year >= data.start_year)
    if plan is not None:
        stmt = stmt.where(Plan.id != plan.id)
    existing = session.scalars(stmt.order_by(Plan.id).limit(1)).first()
    if existing is not None:
        same = "title" if existing.title == title else "short_name"
        raise DomainError(f"本地区已有{'同名' if same == 'title' else '同简称'}规划《{existing.title}》"
                          f"（{existing.period_label}，编号 {existing.code}），规划期重叠，不能重复。", field=same)


def _check_plan(session: Session, region: Region, data: PlanData, plan: Plan | None) -> Plan | None:
    """Every rule of the plan form, every refusal at once (errors.Checks); returns the chosen 上位规划."""
    checks = Checks()
    checks.attempt(required_text, data.title, "title", "请填写规划名称。")
    checks.attempt(required_text, data.short_name, "short_name", "请填写规划简称。")
    if data.level is not None and data.level.value != region.level.value:
        checks.fail("level", f"{region.name}为{region.level.label}级行政区划，只能编制{region.level.label}级规划。")
    years = data.start_year is not None and data.end_year is not None
    if years and data.end_year < data.start_year:
        checks.fail("end_year", "结束年份不能早于起始年份。")
    elif years and data.level is not None:
        checks.attempt(_check_not_duplicate, session, region, data, plan)
    parent = None
    if data.parent_id is not None:
        parent = session.get(Plan, data.parent_id)
        if parent is None:
            checks.fail("parent_id", "所选上位规划不存在。")
        elif parent.region_id != region.id and parent.region_id not in region_ids_above(session, region.id):
            checks.fail("parent_id", "上位规划须为本地区或上级地区的规划。")
        elif plan is not None and (parent.id == plan.id or parent.id in plan_descendant_ids(session, plan.id)):
            checks.fail("parent_id", "不能选择本规划或其下级规划作为上位规划。")
    checks.done()
    return parent


def check_plan(session: Session, actor: User, data: PlanData, plan: Plan | None) -> None:
    """The plan rules alone, for a form whose own checks failed: the page then shows every error in one round."""
    _check_plan(session, plan.region if plan is not None else actor.department.region, data, plan)


def _apply_plan(plan: Plan, data: PlanData, parent: Plan | None) -> None:
    plan.title = required_text(data.title, "title", "请填写规划名称。")
    plan.short_name = required_text(data.short_name, "short_name", "请填写规划简称。")
    plan.level = data.level
    plan.start_year, plan.end_year = data.start_year, data.end_year
    plan.parent = parent
    plan.issuing_body = clean_text(data.issuing_body)
    plan.doc_number = clean_text(data.doc_number)
    plan.investment_unit = data.investment_unit
    plan.description = clean_text(data.description)


def _new_plan_code(session: Session, region: Region, start_year: int, end_year: int) -> str:
    base = f"{region.code}-{start_year}" if start_year == end_year else f"{region.code}-{start_year}-{end_year}"
    taken = set(session.scalars(select(Plan.code).where(Plan.code.like(f"{base}%"))))
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


def create_plan(session: Session, actor: User, data: PlanData, *, stage: PlanStage = PlanStage.DRAFTING,
                stage_date: date | None = None, stage_note: str | None = None) -> Plan:
    """A new plan of the planner's own region, with its first lifecycle step."""
    require(can_create_plan(actor), "只有规划处可以新建规划。")
    region = actor.department.region
    parent = _check_plan(session, region, data, None)
    stage_date = stage_date or today()
    if stage_date > today():
        raise DomainError("阶段日期不能晚于今天。", field="stage_date")
    plan = Plan(code=_new_plan_code(session, region, data.start_year, data.end_year), region=region, stage=stage)
    _apply_plan(plan, data, parent)
    plan.stage_events.append(PlanStageEvent(stage=stage, on_date=stage_date, note=clean_text(stage_note),
                                            recorded_by=actor))
    session.add(plan)
    session.flush()
    after = audit.snapshot(plan, [*PLAN_FIELDS, "stage"])
    audit.record(session, actor, plan, "create", changes=audit.diff({}, after), summary=f"新建规划《{plan.title}》")
    session.flush()
    return plan


def update_plan(session: Session, actor: User, plan: Plan, data: PlanData, version: int | None) -> Plan:
    require(can_edit_plan(actor, plan), NOT_YOURS)
    check_version(plan, version, "规划")
    parent = _check_plan(session, plan.region, data, plan)
    # Narrowing the period must not leave annual tasks of the old period outside the new one.
    outside = session.scalar(
        select(Task).where(Task.plan_id == plan.id, Task.year.between(plan.start_year, plan.end_year),
                           or_(Task.year < data.start_year, Task.year > data.end_year))
        .order_by(Task.year).limit(1)
    )
    if outside is not None:
        raise DomainError(f"年度任务 {outside.code} 的年度（{outside.year}年）不在新的规划期内，请先调整该任务。",
                          field="start_year" if outside.year is not None and outside.year < data.start_year
                          else "end_year")
    if (parent.id if parent else None) != plan.parent_id:
        linked = session.scalar(
            select(func.count()).select_from(Task)
            .join(_UpstreamTask, Task.upstream_task_id == _UpstreamTask.id)
            .where(Task.plan_id == plan.id, _UpstreamTask.plan_id == plan.parent_id)
        ) if plan.parent_id is not None else 0
        if linked:
            raise DomainError(f"本规划有 {linked} 项任务已关联原上位规划的任务，请先解除关联再更换上位规划。",
                              field="parent_id")
    before = audit.snapshot(plan, PLAN_FIELDS)
    _apply_plan(plan, data, parent)
    changes = audit.diff(before, audit.snapshot(plan, PLAN_FIELDS))
    if changes:
        audit.record(session, actor, plan, "update", changes=changes, summary="修改规划信息")
    session.flush()
    return plan


ARCHIVE_MEANING = "归档后该规划不再出现在规划列表和规划选择中（可勾选“显示已归档”查看），记录更晚的阶段即恢复"


def record_stage(session: Session, actor: User, plan: Plan, stage: PlanStage, on_date: date,
                 note: str | None = None, *, confirm_archive: bool = False) -> PlanStageEvent:
    """Record a lifecycle step; the plan's stage is the step with the latest date. Archiving (归档) hides the
    plan from the lists, so the planner confirms it (``confirm_archive``)."""
    require(can_edit_plan(actor, plan), NOT_YOURS)
    if on_date > today():
        raise DomainError("阶段日期不能晚于今天。", field="on_date")
    if stage == PlanStage.ARCHIVED and not confirm_archive:
        raise DomainError(f"请勾选确认归档：{ARCHIVE_MEANING}。", field="confirm_archive")
    event = PlanStageEvent(stage=stage, on_date=on_date, note=clean_text(note), recorded_by=actor)
    plan.stage_events.append(event)
    session.flush()
    latest = max(plan.stage_events, key=lambda e: (e.on_date, e.id))
    old = plan.stage
    plan.stage = latest.stage
    changes = {"stage": [old.label, latest.stage.label]} if old != latest.stage else {}
    audit.record(session, actor, plan, "stage", changes=changes,
                 summary=f"记录阶段：{stage.label}（{format_date(on_date)}）" + (f"，{event.note}" if event.note else ""))
    session.flush()
    return event


# ---------------------------------------------------------------------------------------------- tasks


@dataclass
class TaskData:
    level: TaskLevel
    code: str
    title: str
    description: str | None = None
    kind: TaskKind = TaskKind.TASK
    lead_department_id: int | None = None
    co_department_ids: list[int] = field(default_factory=list)
    responsible_person: str | None = None
    start_date: date | None = None
    deadline: date | None = None
    year: int | None = None
    weight: int = 1
    upstream_task_id: int | None = None
    indicator_ids: list[int] = field(default_factory=list)
    # A deadline outside the plan's period needs the planner's say-so and a reason (audited). None: the caller
    # brings tasks from elsewhere (an import, a cascade, a key project) and has nobody to ask.
    confirm_outside_period: bool | None = None
    outside_period_reason: str | None = None


OUTSIDE_PERIOD = "不在规划期"  # the words of the deadline's refusal, by which the form knows to ask
MAX_OUTSIDE_PERIOD_REASON = 500


TASK_FIELDS = ["level", "code", "title", "description", "kind", "lead_department", "responsible_person",
               "start_date", "deadline", "year", "weight"]


def listed(names: list[str]) -> str | None:
    """Several names as one readable history value."""
    return "、".join(names) or None


def task_snapshot(task: Task) -> dict[str, Any]:
    """What the history shows of a task: its own fields and whom and what it links to, by name."""
    data = audit.snapshot(task, TASK_FIELDS)
    data["parent"] = f"{task.parent.code} {task.parent.title}" if task.parent else None
    data["co_departments"] = listed([d.name for d in task.co_departments])
    data["upstream"] = f"{task.upstream.plan.short_name} {task.upstream.code}" if task.upstream else None
    data["indicators"] = listed([f"{i.number}. {i.name}" for i in task.indicators])
    return data


def descendant_ids(session: Session, task: Task) -> set[int]:
    ids: set[int] = set()
    frontier = {task.id}
    while frontier:
        frontier = set(session.scalars(select(Task.id).where(Task.parent_id.in_(frontier)))) - ids
        ids |= frontier
    return ids


def region_department(session: Session, plan: Plan, dept_id: int, field_name: str, what: str) -> Department:
    dept = session.get(Department, dept_id)
    if dept is None:
        raise DomainError(f"所选{what}不存在。", field=field_name)
    if dept.region_id != plan.region_id:
        raise DomainError(f"{what}须为本规划所在地区（{plan.region.name}）的部门，"
                          f"“{dept.region.name}{dept.name}”不属于该地区。", field=field_name)
    return dept


def _code_owner(session: Session, plan: Plan, code: str) -> Task | None:
    return session.scalar(select(Task).where(Task.plan_id == plan.id, Task.code == code))


@dataclass
class _Resolved:
    lead: Department | None
    co: list[Department]
    upstream: Task | None
    indicators: list[Indicator]
    outside_period: str | None = None  # what the audit entry says of a deadline outside the plan's period


def _check_task(session: Session, plan: Plan, data: TaskData, parent: Task | None, task: Task | None) -> _Resolved:
    """Every rule of the task form; every refusal at once (errors.Checks), each with its field."""
    checks = Checks()
    data.code = clean_text(data.code) or ""
    data.title = clean_text(data.title) or ""
    if not data.code:
        checks.fail("code", "请填写编号。")
    elif len(data.code) > MAX_CODE_LENGTH:
        checks.fail("code", f"编号不能超过{MAX_CODE_LENGTH}个字符。")
    elif (owner := _code_owner(session, plan, data.code)) is not None and owner is not task:
        checks.fail("code", f"编号“{data.code}”在本规划中已被“{owner.title}”使用。")
    if not data.title:
        checks.fail("title", "请填写任务名称。")
    if not level_fits(data.level, parent):
        checks.fail("level", PLACEMENT_RULES[data.level])
    elif task is not None:
        child = next((c for c in task.children if data.level not in LEVEL_PARENTS[c.level]), None)
        if child is not None:
            checks.fail("level", f"该任务下已有{child.level.label}“{child.code}”，不能改为{data.level.label}。")

    lead = None
    if data.lead_department_id is not None:
        lead = checks.attempt(region_department, session, plan, data.lead_department_id, "lead_department_id",
                              "牵头单位")
    elif data.level != TaskLevel.CHAPTER:
        checks.fail("lead_department_id", "请选择牵头单位（有且只有一个）。")
    co: list[Department] = []
    for dept_id in dict.fromkeys(data.co_department_ids):
        dept = checks.attempt(region_department, session, plan, dept_id, "co_department_ids", "配合单位")
        if dept is not None and dept is not lead:
            co.append(dept)

    if data.level == TaskLevel.ANNUAL:
        unchanged = task is not None and task.year == data.year  # an earlier year stays as it was
        if data.year is None:
            checks.fail("year", "年度任务须填写年度。")
        elif not unchanged and not plan.start_year <= data.year <= plan.end_year:
            checks.fail("year", f"年度须在规划期（{plan.period_label}）内。")
        else:
            data.start_date = data.start_date or date(data.year, 1, 1)
            data.deadline = data.deadline or date(data.year, 12, 31)
    else:
        data.year = None
    if data.deadline is None and data.level != TaskLevel.CHAPTER and data.level != TaskLevel.ANNUAL:
        checks.fail("deadline", "请填写截止日期。")
    if data.start_date and data.deadline and data.deadline < data.start_date:
        checks.fail("deadline", "截止日期不能早于开始日期。")
    elif task is not None and data.deadline is not None:
        late = next((m for m in task.milestones if m.due_date > data.deadline), None)
        if late is not None:
            checks.fail("deadline", f"节点“{late.title}”的计划日期（{format_date(late.due_date)}）晚于新的截止日期，"
                                    "请先调整节点。")
    if data.weight is None or not 1 <= data.weight <= 100:
        checks.fail("weight", "权重须为1到100之间的整数。")
    outside = checks.attempt(_check_outside_period, plan, data, task)

    upstream = checks.attempt(upstream_in_parent_plan, session, plan, data.upstream_task_id)
    indicators: list[Indicator] = []
    for ind_id in dict.fromkeys(data.indicator_ids):
        indicator = session.get(Indicator, ind_id)
        if indicator is None or indicator.plan_id != plan.id:
            checks.fail("indicator_ids", "所选指标不存在或不属于本规划。")
            break
        indicators.append(indicator)
    checks.done()
    return _Resolved(lead, co, upstream, indicators, outside)


def check_task(session: Session, plan: Plan, parent_id: int | None, task: Task | None, data: TaskData) -> None:
    """The task rules alone, for a form whose own checks failed: the page then shows every error in one round
    (without a valid level there is nothing to check them against)."""
    if not isinstance(data.level, TaskLevel):
        return
    parent = task.parent if task is not None else plan_task(session, plan, parent_id, "parent_id")
    _check_task(session, plan, data, parent, task)


def _check_outside_period(plan: Plan, data: TaskData, task: Task | None) -> str | None:
    """A new or moved deadline outside the plan's period (2035 in a 2026–2030 plan) is saved only with the
    planner's confirmation and a reason; returns what the audit entry says of it (None when inside, unchanged
    or not asked). An unchanged deadline stays as it was."""
    deadline = data.deadline
    if data.confirm_outside_period is None or deadline is None:
        return None
    if plan.start_year <= deadline.year <= plan.end_year or (task is not None and task.deadline == deadline):
        return None
    if not data.confirm_outside_period:
        raise DomainError(f"截止日期{format_date(deadline)}{OUTSIDE_PERIOD}（{plan.period_label}）内。"
                          "如确需如此，请勾选确认并写明理由。", field="deadline")
    reason = (data.outside_period_reason or "").strip()
    if not reason:
        raise DomainError("请写明截止日期超出规划期的理由。", field="outside_period_reason")
    if len(reason) > MAX_OUTSIDE_PERIOD_REASON:
        raise DomainError(f"理由不能超过{MAX_OUTSIDE_PERIOD_REASON}字。", field="outside_period_reason")
    return f"截止日期{format_date(deadline)}超出规划期（{plan.period_label}），理由：{reason}"


def upstream_in_parent_plan(session: Session, plan: Plan, upstream_id: int | None,
                            field_name: str = "upstream_task_id") -> Task | None:
    """The chosen upstream task, which must belong to the plan's parent plan (or a field error)."""
    if upstream_id is None:
        return None
    if plan.parent_id is None:
        raise DomainError("本规划没有设置上位规划，不能关联上位任务。", field=field_name)
    upstream = session.get(Task, upstream_id)
    if upstream is None:
        raise DomainError("所选上位任务不存在。", field=field_name)
    if upstream.plan_id != plan.parent_id:
        raise DomainError(f"上位任务须属于上位规划《{plan.parent.title if plan.parent else ''}》。", field=field_name)
    return upstream


def _apply_task(task: Task, data: TaskData, resolved: _Resolved) -> None:
    task.level = data.level
    task.code = data.code
    task.title = data.title
    task.description = clean_text(data.description)
    task.kind = data.kind
    task.lead_department = resolved.lead
    task.co_departments = resolved.co
    task.responsible_person = clean_text(data.responsible_person)
    task.start_date = data.start_date
    task.deadline = data.deadline
    task.year = data.year
    task.weight = data.weight
    task.upstream = resolved.upstream
    task.indicators = resolved.indicators


def next_sort_order(session: Session, plan: Plan, parent: Task | None) -> int:
    stmt = select(func.max(Task.sort_order)).where(Task.plan_id == plan.id)
    stmt = stmt.where(Task.parent_id.is_(None) if parent is None else Task.parent_id == parent.id)
    current = session.scalar(stmt)
    return 0 if current is None else current + 1


def plan_task(session: Session, plan: Plan, task_id: int | None, field_name: str) -> Task | None:
    """A task of this plan chosen in a form, or a field error."""
    if task_id is None:
        return None
    task = session.get(Task, task_id)
    if task is None or task.plan_id != plan.id:
        raise DomainError("所选上级任务不存在或不属于本规划。", field=field_name)
    return task


def create_task(session: Session, actor: User, plan: Plan, parent_id: int | None, data: TaskData) -> Task:
    require(can_edit_plan(actor, plan), NOT_YOURS)
    parent = plan_task(session, plan, parent_id, "parent_id")
    if parent is not None:
        check_open(parent, "parent_id")
    resolved = _check_task(session, plan, data, parent, None)
    task = Task(plan=plan, parent=parent, status=TaskStatus.NOT_STARTED, progress=0,
                sort_order=next_sort_order(session, plan, parent))
    _apply_task(task, data, resolved)
    session.add(task)
    session.flush()
    audit.record(session, actor, task, "create", changes=audit.diff({}, task_snapshot(task)),
                 summary=f"新建{task.level.label} {task.code}" + (f"；{resolved.outside_period}"
                                                                 if resolved.outside_period else ""))
    session.flush()
    return task


def update_task(session: Session, actor: User, task: Task, data: TaskData, version: int | None) -> Task:
    require(can_edit_plan(actor, task.plan), NOT_YOURS)
    check_version(task, version, "任务")
    resolved = _check_task(session, task.plan, data, task.parent, task)
    before = task_snapshot(task)
    _apply_task(task, data, resolved)
    changes = audit.diff(before, task_snapshot(task))
    if changes:
        audit.record(session, actor, task, "update", changes=changes,
                     summary="修改任务信息" + (f"；{resolved.outside_period}" if resolved.outside_period else ""))
        flag_modified(task, "updated_at")  # the row, and so its version, changes even when only links did
        session.flush()
    return task


def parent_options(session: Session, plan: Plan, task: Task | None = None) -> list[Any]:
    """Tree nodes that can hold children (chapters, key tasks, measures), minus a task and its subtree."""
    excluded = ({task.id} | descendant_ids(session, task)) if task is not None else set()
    return [n for n in flatten(task_tree(session, plan))
            if n.task.level != TaskLevel.ANNUAL and n.task.id not in excluded]


def upstream_options(session: Session, plan: Plan) -> list[Any]:
    if plan.parent is None:
        return []
    return flatten(task_tree(session, plan.parent))


def department_options(session: Session, plan: Plan, keep: list[Department] | None = None) -> list[Department]:
    """Active departments of the plan's region, plus any inactive one already assigned."""
    keep_ids = {d.id for d in keep or []}
    return list(session.scalars(
        select(Department)
        .where(Department.region_id == plan.region_id, or_(Department.is_active, Department.id.in_(keep_ids)))
        .order_by(Department.sort_order, Department.id)
    ))


def indicator_options(session: Session, plan: Plan) -> list[Indicator]:
    return list(session.scalars(select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.number)))


_NUMERALS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 40 → 四十 (chapters are numbered this way)."""
    if n < 10:
        return _NUMERALS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _NUMERALS[tens]) + "十" + (_NUMERALS[ones] if ones else "")


def child_numbers(codes: set[str], prefix: str) -> list[int]:
    return [int(c[len(prefix):]) for c in codes
            if c.startswith(prefix) and c[len(prefix):].isascii() and c[len(prefix):].isdigit()]


def suggest_code(session: Session, plan: Plan, parent: Task | None, level: TaskLevel) -> str:
    """The next free code in the plan's numbering: 一 二 … for chapters, 1 2 … for key tasks, 1.1 below."""
    codes = set(session.scalars(select(Task.code).where(Task.plan_id == plan.id)))
    if level == TaskLevel.CHAPTER:
        n = sum(1 for c in codes if c and all(ch in _NUMERALS + "十" for ch in c)) + 1
        while chinese_numeral(n) in codes and n < 99:
            n += 1
        return chinese_numeral(n)
    if parent is None or parent.level == TaskLevel.CHAPTER:
        return str(max(child_numbers(codes, ""), default=0) + 1)
    return f"{parent.code}.{max(child_numbers(codes, parent.code + '.'), default=0) + 1}"


def new_task_defaults(session: Session, plan: Plan, parent: Task | None, level: TaskLevel) -> dict[str, Any]:
    """The new-task form as first shown: the next code, and below a parent its departments and dates."""
    data: dict[str, Any] = {"parent_id": parent.id if parent else None, "level": level, "weight": 1,
                            "code": suggest_code(session, plan, parent, level)}
    if parent is not None:
        data.update(lead_department_id=parent.lead_department_id, kind=parent.kind,
                    co_department_ids=[d.id for d in parent.co_departments],
                    responsible_person=parent.responsible_person, start_date=parent.start_date,
                    deadline=parent.deadline)
    if level == TaskLevel.ANNUAL:
        year = today().year if plan.start_year <= today().year <= plan.end_year else plan.start_year
        start, end = date(year, 1, 1), date(year, 12, 31)
        if parent is not None and parent.start_date and parent.deadline:
            start, end = max(start, parent.start_date), min(end, parent.deadline)
        data.update(year=year, start_date=start, deadline=end)
    return data
