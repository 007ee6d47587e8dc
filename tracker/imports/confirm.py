"""Confirming the draft of a plan document: the plan, its tasks, indicators and key projects.

The planner confirms a draft (:mod:`.draft`) once it is corrected: everything that would stop the
confirmation is checked first (:func:`_check_draft`), then the plan (or, for a document imported before,
the plan it went into) gets its tasks, key projects and indicators through the planning area's own services,
so every rule and audit entry is the same as by hand, all in the caller's one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..auth.models import User
from ..errors import DomainError, InvalidTransition
from ..indicators.models import Indicator, IndicatorNature
from ..permissions import can_edit_plan, can_work_on_import, require
from ..planning import indicators as planning_indicators
from ..planning import services as planning
from ..planning.models import InvestmentUnit, Plan, PlanLevel, PlanStage
from ..projects import amounts
from ..projects.models import KeyProject, ProjectKind, ProjectStatus
from ..regions.models import Department
from ..regions.services import departments_of
from ..tasks.models import PROJECT_KINDS, Task, TaskKind, TaskLevel
from ..tasks.services import roll_up_plan
from ..timeutil import now
from .blocks import name_key
from .draft import Draft, DraftProject, Item
from .models import ImportDocument, ImportState
from .naming import match_department
from .services import NOT_YOURS, department_of


@dataclass
class ConfirmInput:
    title: str
    short_name: str
    start_year: int
    end_year: int
    parent_id: int | None = None
    issuing_body: str | None = None
    doc_number: str | None = None
    investment_unit: InvestmentUnit = InvestmentUnit.WAN
    stage: PlanStage = PlanStage.ISSUED
    stage_date: date | None = None
    default_lead_id: int | None = None
    update: bool = False  # update the plan this document was imported into before


@dataclass
class Confirmed:
    plan: Plan
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    untouched: list[str] = field(default_factory=list)
    defaulted: int = 0


_TASK_LEVEL = {"chapter": TaskLevel.CHAPTER, "key_task": TaskLevel.KEY_TASK, "measure": TaskLevel.MEASURE}


def _due(item: Item, start: date, end: date) -> date:
    """The deadline the document's text gives the item ("2027年底前"), within the plan; else the plan's end."""
    due = item.due
    return due if due is not None and start <= due <= end else end


def placed(draft: Draft) -> list[tuple[Item, Item | None, TaskLevel]]:
    """Every item that becomes a task with the item it goes under and its level (sections only group)."""
    by_id = {i.id: i for i in draft.items}
    out = []
    for item in draft.items:
        if item.type == "section":
            continue
        parent = by_id.get(item.parent) if item.parent else None
        while parent is not None and parent.type == "section":
            parent = by_id.get(parent.parent) if parent.parent else None
        if item.type == "box":
            if parent is not None and parent.type == "measure":
                parent = by_id.get(parent.parent) if parent.parent else None
            level = TaskLevel.MEASURE if parent is not None and parent.type == "key_task" else TaskLevel.KEY_TASK
        else:
            level = _TASK_LEVEL[item.type]
        out.append((item, parent, level))
    return out


def _check_draft(draft: Draft, data: ConfirmInput, existing: set[str],
                 existing_indicators: set[int]) -> None:
    """Everything that would stop the confirmation, before anything is created. (Tasks and indicators the
    plan already has, when it is updated, keep their departments and nature.)"""
    tasks = placed(draft)
    if not tasks and not draft.indicators and not draft.projects:
        raise DomainError("草稿是空的：没有任务、指标或项目可以导入。")
    codes: dict[str, str] = {}
    for item, parent, level in tasks:
        if level == TaskLevel.MEASURE and (parent is None or parent.type != "key_task"):
            raise DomainError(f"工作举措 {item.code}“{item.title[:20]}”不在重点任务之下，请调整后再确认。")
        if item.code in codes:
            raise DomainError(f"编号“{item.code}”重复（“{codes[item.code][:20]}”和“{item.title[:20]}”），"
                              "请修改后再确认。")
        codes[item.code] = item.title
    # (tasks the plan already has keep their departments when it is updated)
    unassigned: list[Item | DraftProject] = [
        i for i, _p, level in tasks if level != TaskLevel.CHAPTER and not i.lead and i.code not in existing]
    unassigned += [p for p in draft.projects if not p.lead]
    if unassigned and data.default_lead_id is None:
        raise DomainError(f"有 {len(unassigned)} 项任务或项目还没有牵头单位。请按规则分配，或在此选择一个默认牵头单位。",
                          field="default_lead_id")
    numbers: set[int] = set()
    for indicator in draft.indicators:
        if not indicator.target:
            raise DomainError(f"指标 {indicator.number}“{indicator.name[:20]}”没有目标值，请补充或删除后再确认。")
        if indicator.number in numbers:
            raise DomainError(f"指标序号 {indicator.number} 重复，请修改后再确认。")
        numbers.add(indicator.number)
    no_nature = [i for i in draft.missing_natures() if i.number not in existing_indicators]
    if no_nature:
        first = no_nature[0]
        more = f"等 {len(no_nature)} 项指标" if len(no_nature) > 1 else ""
        raise DomainError(f"指标 {first.number}“{first.name[:20]}”{more}未注明属性（约束性或预期性）。"
                          "属性决定指标滞后时是否预警，不能默认，请在草稿的指标表中选择后再确认。")
    for project in draft.projects:
        unit = InvestmentUnit.from_label(project.unit or "万元")
        for field_name in ("total", "period"):
            try:
                amounts.parse(getattr(project, field_name), unit, allow_tbd=True)  # type: ignore[arg-type]
            except amounts.AmountError as exc:
                raise DomainError(f"项目“{project.name[:20]}”：{exc}") from None
    if data.start_year > data.end_year:
        raise DomainError("结束年份不能早于起始年份。", field="end_year")


def confirm(session: Session, actor: User, document: ImportDocument, data: ConfirmInput) -> Confirmed:
    """Create (or update) the plan from the draft: tasks, indicators and key projects, in one transaction."""
    require(can_work_on_import(actor, document), NOT_YOURS)
    if document.state != ImportState.DRAFT:
        raise InvalidTransition(f"该导入{document.state.label}，不能再次确认。")
    if data.update and document.plan is None:
        raise DomainError("原规划已不存在，请选择新建规划。", field="update")
    target = document.plan if data.update else None
    if target is not None:
        require(can_edit_plan(actor, target), "只有本地区的规划处可以更新该规划。")
    draft = Draft.from_json(document.draft)
    if target is not None:
        differences = plan_differences(session, document)
        if differences is not None and differences.renumbered:
            item, task = differences.renumbered[0]
            raise DomainError(f"新版文档调整了 {len(differences.renumbered)} 项任务的编号（如“{task.title[:20]}”由 "
                              f"{task.code} 改为 {item.code}），按编号更新会把任务对错。请先在规划中调整这些任务的编号，"
                              "或选择新建规划。", field="update")
    _check_draft(draft, data,
                 set(session.scalars(select(Task.code).where(Task.plan_id == target.id))) if target else set(),
                 set(session.scalars(select(Indicator.number).where(Indicator.plan_id == target.id)))
                 if target else set())
    departments = departments_of(session, document.region_id)
    default_lead = department_of(session, document.region_id, data.default_lead_id, "default_lead_id", "默认牵头单位")

    if target is None:
        region = actor.department.region
        plan = planning.create_plan(session, actor, planning.PlanData(
            title=data.title, short_name=data.short_name, level=PlanLevel(region.level.value),
            start_year=data.start_year, end_year=data.end_year, parent_id=data.parent_id,
            issuing_body=data.issuing_body, doc_number=data.doc_number, investment_unit=data.investment_unit,
            description=None), stage=data.stage, stage_date=data.stage_date,
            stage_note=f"由文档《{document.filename}》导入")
    else:
        plan = target
    result = Confirmed(plan)
    start, deadline = date(plan.start_year, 1, 1), date(plan.end_year, 12, 31)
    existing = {t.code: t for t in session.scalars(select(Task).where(Task.plan_id == plan.id))}
    made: dict[str, Task] = {}

    def bump(bucket: dict[str, int], key: str) -> None:
        bucket[key] = bucket.get(key, 0) + 1

    for item, parent, level in placed(draft):
        parent_task = made.get(parent.id) if parent else None
        kind = TaskKind(item.kind or TaskKind.TASK.value) if level != TaskLevel.CHAPTER else TaskKind.TASK
        description = item.description or None
        lead_id = item.lead
        if lead_id is None and level != TaskLevel.CHAPTER and default_lead is not None:
            lead_id = default_lead.id
        task = existing.get(item.code)
        try:
            if task is None:
                task = planning.create_task(session, actor, plan, parent_task.id if parent_task else None,
                                            planning.TaskData(
                                                level=level, code=item.code, title=item.title[:300],
                                                description=description, kind=kind, lead_department_id=lead_id,
                                                co_department_ids=list(item.co),
                                                start_date=None if level == TaskLevel.CHAPTER else start,
                                                deadline=None if level == TaskLevel.CHAPTER
                                                else _due(item, start, deadline)))
                bump(result.created, "任务")
                if level != TaskLevel.CHAPTER and not item.lead:
                    result.defaulted += 1
                if item.type == "box" and kind in PROJECT_KINDS:
                    _add_project(session, actor, task, plan, content=description, items=item.box_items)
            elif _update_from_item(session, actor, task, item, kind, lead_id):
                bump(result.updated, "任务")
        except DomainError as exc:
            raise DomainError(f"{item.code}“{item.title[:20]}”：{exc.message}") from None
        made[item.id] = task
    if target is not None:
        seen = {i.code for i, _p, _l in placed(draft)}
        result.untouched = [f"{t.code} {t.title}" for code, t in existing.items() if code not in seen]

    _confirm_projects(session, actor, draft, plan, departments, default_lead, result)
    _confirm_indicators(session, actor, draft, plan, result)

    roll_up_plan(session, plan.id, actor)  # parents from the children just made or changed
    document.state = ImportState.CONFIRMED
    document.plan_id = plan.id
    document.confirmed_at = now()
    summary = "，".join(f"新建{k} {v}" for k, v in result.created.items() if v)
    summary += "".join(f"，更新{k} {v}" for k, v in result.updated.items() if v)
    audit.record(session, actor, document, "confirm", {"state": ["待确认", "已导入"]},
                 f"确认导入到《{plan.title}》：{summary or '没有变化'}")
    audit.record(session, actor, plan, "import", {}, f"从文档《{document.filename}》导入：{summary or '没有变化'}")
    session.flush()
    return result


# 建设性质 as project tables write it → the register's kind (first match wins: 异地新建 is a relocation)
_KIND_WORDS = ((ProjectKind.RELOCATION, ("迁建", "异地", "易地")), (ProjectKind.EXPANSION, ("扩建", "改建", "改造")),
               (ProjectKind.NEW, ("新建",)), (ProjectKind.DIGITAL, ("信息化", "数字化")))


def project_kind(nature: str | None) -> ProjectKind:
    """The register's kind of a project whose table says 建设性质 ``nature`` (新建, 改扩建, 迁建 …); 其他 for
    what it has no kind for (续建, or nothing said)."""
    text = (nature or "").strip()
    return next((kind for kind, words in _KIND_WORDS if any(w in text for w in words)), ProjectKind.OTHER)


def _add_project(session: Session, actor: User, task: Task, plan: Plan, *, content: str | None,
                 items: list[str], total: amounts.Entered | None = None, period: amounts.Entered | None = None,
                 start_year: int | None = None, end_year: int | None = None,
                 kind: ProjectKind = ProjectKind.OTHER) -> KeyProject:
    total = total or amounts.Entered()
    period = period or amounts.Entered()
    project = KeyProject(task=task, region_id=plan.region_id, kind=kind, status=ProjectStatus.PREPARING,
                         content=content, items=list(items), total_investment=total.wan, total_tbd=total.tbd,
                         period_investment=period.wan, period_tbd=period.tbd, start_year=start_year,
                         end_year=end_year)
    session.add(project)
    session.flush()
    unit = plan.investment_unit
    audit.record(session, actor, project, "create", {
        "kind": [None, kind.label],
        "total_investment": [None, amounts.as_text(total.wan, unit, tbd=total.tbd) or None],
        "period_investment": [None, amounts.as_text(period.wan, unit, tbd=period.tbd) or None],
        "items": [None, "、".join(items) or None],
    }, f"导入重大项目信息（{task.code} {task.title[:30]}）")
    return project


def _update_from_item(session: Session, actor: User, task: Task, item: Item, kind: TaskKind,
                      lead_id: int | None) -> bool:
    """Bring an existing task in line with the document: title, text and kind; departments where the draft
    names them. Deadlines, status and progress stay as they are."""
    title = item.title[:300]
    description = item.description or None
    new_lead = item.lead or task.lead_department_id or lead_id
    new_co = list(item.co) or [d.id for d in task.co_departments]
    same = (task.title == title and (task.description or None) == description and task.kind == kind
            and task.lead_department_id == new_lead and sorted(d.id for d in task.co_departments) == sorted(new_co))
    if same:
        return False
    planning.update_task(session, actor, task, planning.TaskData(
        level=task.level, code=task.code, title=title, description=description, kind=kind,
        lead_department_id=new_lead, co_department_ids=new_co, responsible_person=task.responsible_person,
        start_date=task.start_date, deadline=task.deadline, year=task.year, weight=task.weight,
        upstream_task_id=task.upstream_task_id, indicator_ids=[i.id for i in task.indicators]), task.version_id)
    return True


def _confirm_projects(session: Session, actor: User, draft: Draft, plan: Plan,
                      departments: list[Department], default_lead: Department | None, result: Confirmed) -> None:
    projects = draft.projects
    if not projects:
        return
    existing = {t.code for t in session.scalars(select(Task).where(Task.plan_id == plan.id))}
    start, deadline = date(plan.start_year, 1, 1), date(plan.end_year, 12, 31)
    for n, project in enumerate(projects, start=1):
        code = f"项目{n}"
        if code in existing:
            continue
        unit = InvestmentUnit.from_label(project.unit or "万元")
        lead = project.lead or (match_department(departments, project.owner) or default_lead)
        lead_id = lead if isinstance(lead, int) else (lead.id if lead else None)
        kind = project_kind(project.nature)
        description = "\n".join(filter(None, [
            project.content, project.owner and f"建设单位：{project.owner}",
            project.nature and kind == ProjectKind.OTHER and f"建设性质：{project.nature}",  # (续建 …: kept as text)
            project.remarks and f"备注：{project.remarks}"])) or None
        try:
            task = planning.create_task(session, actor, plan, None, planning.TaskData(
                level=TaskLevel.KEY_TASK, code=code, title=project.name[:300], description=description,
                kind=TaskKind.PROJECT, lead_department_id=lead_id, start_date=start, deadline=deadline))
        except DomainError as exc:
            raise DomainError(f"项目“{project.name[:20]}”：{exc.message}") from None
        _add_project(session, actor, task, plan, content=project.content, items=[],
                     total=amounts.parse(project.total, unit, allow_tbd=True),
                     period=amounts.parse(project.period, unit, allow_tbd=True),
                     start_year=project.start_year, end_year=project.end_year, kind=kind)
        result.created["重大项目"] = result.created.get("重大项目", 0) + 1


def _confirm_indicators(session: Session, actor: User, draft: Draft, plan: Plan, result: Confirmed) -> None:
    """Create the draft's indicators, or update the plan's indicator of the same number. A new indicator has
    the nature the document or the planner gave it (``_check_draft`` refused any without); an existing
    one keeps its own unless the draft names one."""
    existing = {i.number: i for i in session.scalars(select(Indicator).where(Indicator.plan_id == plan.id))}
    for item in draft.indicators:
        current = existing.get(item.number)
        nature = IndicatorNature(item.nature) if item.nature else current.nature if current else None
        if nature is None:
            raise DomainError(f"指标 {item.number}“{item.name[:20]}”未注明属性（约束性或预期性）。")
        assert item.target is not None  # (refused without by _check_draft)
        data = planning_indicators.IndicatorData(
            number=item.number, name=item.name[:120], target_text=item.target[:60], nature=nature,
            category=(item.category or None) and item.category[:40], unit=item.unit,
            baseline_text=item.baseline, baseline_year=item.baseline_year,
            target_year=item.target_year or plan.end_year, lead_department_id=item.lead,
            definition=item.definition)
        try:
            if current is None:
                planning_indicators.create_indicator(session, actor, plan, data)
                result.created["指标"] = result.created.get("指标", 0) + 1
            elif name_key(current.name) == name_key(data.name) and current.target_text == data.target_text and \
                    (current.baseline_text or None) == (data.baseline_text or None):
                continue
            else:
                data.lead_department_id = data.lead_department_id or current.lead_department_id
                data.definition = data.definition or current.definition
                planning_indicators.update_indicator(session, actor, current, data, current.version_id)
                result.updated["指标"] = result.updated.get("指标", 0) + 1
        except DomainError as exc:
            raise DomainError(f"指标 {item.number}“{item.name[:20]}”：{exc.message}") from None



def suggested_short_name(title: str | None) -> str:
    if not title:
        return ""
    short = re.sub(r"[“”\"《》]", "", title)
    short = short.replace("卫生健康事业发展", "卫健").replace("规划", "")
    return short[:60]



@dataclass
class PlanDifferences:
    """What confirming a draft with "更新原规划" would do to the plan's tasks (matched by title, then by code
    with a similar title)."""

    plan: Plan
    new: list[Item] = field(default_factory=list)
    retitled: list[tuple[Item, Task]] = field(default_factory=list)
    renumbered: list[tuple[Item, Task]] = field(default_factory=list)
    missing: list[Task] = field(default_factory=list)  # in the plan, not in the draft: kept as they are


def plan_differences(session: Session, document: ImportDocument) -> PlanDifferences | None:
    """The draft of a (revised) document against the tasks of the plan it was imported into (for the draft
    page's "与已导入规划相比"); None when the draft has no plan."""
    from .revision import SIMILAR, similarity

    plan = document.plan
    if plan is None or document.state != ImportState.DRAFT:
        return None
    tasks = list(session.scalars(select(Task).where(Task.plan_id == plan.id).order_by(Task.id)))
    by_code = {t.code: t for t in tasks}
    by_title: dict[str, list[Task]] = {}
    for task in tasks:
        by_title.setdefault(name_key(task.title), []).append(task)
    result = PlanDifferences(plan)
    seen: set[int] = set()
    items = placed(Draft.from_json(document.draft))
    for item, _parent, _level in items:
        same = [t for t in by_title.get(name_key(item.title[:300]), []) if t.id not in seen]
        if same:
            task = next((t for t in same if t.code == item.code), same[0])
            seen.add(task.id)
            if task.code != item.code:
                result.renumbered.append((item, task))
    for item, _parent, _level in items:
        if any(i is item for i, _t in result.renumbered) or any(
                t.code == item.code and t.id in seen and name_key(t.title) == name_key(item.title[:300])
                for t in tasks):
            continue
        task = by_code.get(item.code)
        if task is not None and task.id not in seen and similarity(task.title, item.title) >= SIMILAR:
            seen.add(task.id)
            result.retitled.append((item, task))
        else:
            result.new.append(item)
    result.missing = [t for t in tasks if t.id not in seen]
    return result
