"""Cascading plans down the levels, and how far the regions below have got.

A city or county planner creates their plan from the plan above, choosing the parent's tasks and
indicators it implements: the chosen tasks are copied with their upstream link (``Task.upstream``) and the
departments of the same name in the new plan's region; the chosen indicators are copied with the
parent's targets, ready to be sharpened. Indicators carry no upstream column, so a child indicator
implements the parent indicator of the same name.

The coverage report of a plan answers, for each of its tasks and indicators: which plans of the regions
directly below implement it, which of those regions have nothing yet, and where a child's target is
weaker than the parent's (compared with the rules of :mod:`tracker.indicators.targets`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import audit
from ..auth.models import User
from ..errors import DomainError
from ..imports.blocks import name_key
from ..indicators.models import Direction, Indicator
from ..indicators.targets import TargetRule, normalise, parse_target
from ..permissions import can_cascade_from, region_ids_below, require
from ..regions.models import Department, Region
from ..tasks.models import Task, TaskLevel
from . import indicators as planning_indicators
from . import services as planning
from .models import InvestmentUnit, Plan, PlanLevel, PlanStage
from .queries import flatten, task_tree

CASCADE_LEVELS = (TaskLevel.CHAPTER, TaskLevel.KEY_TASK, TaskLevel.MEASURE)


@dataclass
class CascadeInput:
    title: str
    short_name: str
    start_year: int
    end_year: int
    task_ids: list[int]
    indicator_ids: list[int]
    default_lead_id: int | None = None
    issuing_body: str | None = None
    investment_unit: InvestmentUnit = InvestmentUnit.WAN
    stage: PlanStage = PlanStage.DRAFTING
    stage_date: date | None = None


@dataclass
class Cascaded:
    plan: Plan
    tasks: int = 0
    indicators: int = 0
    defaulted: list[str] = field(default_factory=list)  # tasks whose lead department had no namesake


def cascade_choices(session: Session, parent: Plan) -> list[Task]:
    """The parent's tasks a child plan may implement (chapters, key tasks, measures), in tree order."""
    return [n.task for n in flatten(task_tree(session, parent)) if n.task.level in CASCADE_LEVELS]


def create_from_parent(session: Session, actor: User, parent: Plan, data: CascadeInput) -> Cascaded:
    """A plan of the actor's region implementing the chosen tasks and indicators of ``parent``."""
    require(can_cascade_from(session, actor, parent), "只能从上级地区的规划分解本地区的规划（仅限规划处）。")
    chosen = set(data.task_ids)
    candidates = cascade_choices(session, parent)
    known = {t.id for t in candidates}
    unknown = chosen - known
    if unknown:
        raise DomainError("所选任务不属于上位规划。", field="task_ids")
    parent_indicators = {i.id: i for i in session.scalars(select(Indicator).where(Indicator.plan_id == parent.id))}
    if set(data.indicator_ids) - set(parent_indicators):
        raise DomainError("所选指标不属于上位规划。", field="indicator_ids")
    if not chosen and not data.indicator_ids:
        raise DomainError("请至少选择一项要落实的任务或指标。", field="task_ids")
    # a chosen task brings the tasks above it (a key task needs its chapter)
    by_id = {t.id: t for t in candidates}
    for task_id in list(chosen):
        node = by_id[task_id].parent
        while node is not None and node.id in by_id:
            chosen.add(node.id)
            node = node.parent
    region = actor.department.region
    departments = {d.name: d for d in session.scalars(select(Department).where(Department.region_id == region.id,
                                                                               Department.is_active))}
    default_lead = None
    if data.default_lead_id is not None:
        default_lead = session.get(Department, data.default_lead_id)
        if default_lead is None or default_lead.region_id != region.id:
            raise DomainError("默认牵头单位须为本地区的单位。", field="default_lead_id")
    needs_default = [t for t in candidates if t.id in chosen and t.level != TaskLevel.CHAPTER
                     and _namesake(departments, t.lead_department) is None]
    if needs_default and default_lead is None:
        raise DomainError(f"有 {len(needs_default)} 项任务的牵头单位在本地区没有同名单位（如“"
                          f"{needs_default[0].lead_department.name if needs_default[0].lead_department else ''}”），"
                          "请选择默认牵头单位。", field="default_lead_id")

    plan = planning.create_plan(session, actor, planning.PlanData(
        title=data.title, short_name=data.short_name, level=PlanLevel(region.level.value),
        start_year=data.start_year, end_year=data.end_year, parent_id=parent.id, issuing_body=data.issuing_body,
        investment_unit=data.investment_unit), stage=data.stage, stage_date=data.stage_date,
        stage_note=f"依据《{parent.title}》分解")
    result = Cascaded(plan)
    start, end = date(plan.start_year, 1, 1), date(plan.end_year, 12, 31)
    copies: dict[int, Task] = {}
    for task in candidates:
        if task.id not in chosen:
            continue
        holder = task.parent
        while holder is not None and holder.id not in copies:
            holder = holder.parent
        lead = _namesake(departments, task.lead_department)
        if lead is None and task.level != TaskLevel.CHAPTER:
            lead = default_lead
            result.defaulted.append(f"{task.code} {task.title}")
        co = [d.id for d in (_namesake(departments, c) for c in task.co_departments) if d is not None and d is not lead]
        deadline = None
        begin = None
        if task.level != TaskLevel.CHAPTER:
            deadline = min(task.deadline, end) if task.deadline else end
            deadline = max(deadline, start)
            begin = max(task.start_date, start) if task.start_date else start
            begin = min(begin, deadline)
        try:
            copy = planning.create_task(session, actor, plan, copies[holder.id].id if holder else None,
                                        planning.TaskData(
                                            level=task.level, code=task.code, title=task.title,
                                            description=task.description, kind=task.kind,
                                            lead_department_id=lead.id if lead else None, co_department_ids=co,
                                            start_date=begin, deadline=deadline,
                                            upstream_task_id=task.id))
        except DomainError as exc:
            raise DomainError(f"任务 {task.code}“{task.title[:20]}”：{exc.message}", field="task_ids") from None
        copies[task.id] = copy
        result.tasks += 1
    for indicator_id in data.indicator_ids:
        source = parent_indicators[indicator_id]
        lead = _namesake(departments, source.lead_department)
        planning_indicators.create_indicator(session, actor, plan, planning_indicators.IndicatorData(
            number=source.number, name=source.name, target_text=source.target_text, nature=source.nature,
            category=source.category, unit=source.unit, target_year=source.target_year,
            lead_department_id=lead.id if lead else None, definition=source.definition,
            data_source=source.data_source))
        result.indicators += 1
    audit.record(session, actor, plan, "cascade", {},
                 f"依据《{parent.title}》分解：落实任务 {result.tasks} 项、指标 {result.indicators} 项")
    session.flush()
    return result


def _namesake(departments: dict[str, Department], dept: Department | None) -> Department | None:
    """The department of the same name in the child region (a 疾控处 for a 疾控处)."""
    if dept is None:
        return None
    return departments.get(dept.name)


# ------------------------------------------------------------------------------------------- coverage


@dataclass
class TaskCoverage:
    task: Task
    depth: int
    by_region: dict[int, list[Task]]  # region id -> the child tasks implementing this task there
    missing: list[Region]


@dataclass
class TargetComparison:
    plan: Plan
    region_id: int  # the column (region directly below) the plan counts for
    indicator: Indicator
    verdict: str  # weaker | same | stronger | unknown
    note: str


@dataclass
class IndicatorCoverage:
    indicator: Indicator
    children: list[TargetComparison]
    missing: list[Region]

    @property
    def weaker(self) -> list[TargetComparison]:
        return [c for c in self.children if c.verdict == "weaker"]


@dataclass
class Coverage:
    plan: Plan
    regions: list[Region]
    child_plans: dict[int, list[Plan]]  # region id -> plans
    tasks: list[TaskCoverage]
    indicators: list[IndicatorCoverage]
    summary: dict[int, dict[str, int]]  # region id -> counts

    @property
    def weaker_count(self) -> int:
        return sum(len(i.weaker) for i in self.indicators)


def coverage(session: Session, plan: Plan) -> Coverage:
    """Which plans of the regions directly below implement each task and indicator of ``plan``."""
    regions = list(session.scalars(select(Region).where(Region.parent_id == plan.region_id).order_by(Region.code)))
    # each region below, and the regions under it: a county plan implementing a provincial plan counts
    # for its city
    column_of: dict[int, int] = {}
    for region in regions:
        for below in region_ids_below(session, region.id):
            column_of[below] = region.id
    children = list(session.scalars(
        select(Plan).where(Plan.parent_id == plan.id, Plan.region_id.in_(column_of))
        .options(selectinload(Plan.region)).order_by(Plan.region_id, Plan.id)
    ))
    child_plans: dict[int, list[Plan]] = {r.id: [] for r in regions}
    for child in children:
        child_plans[column_of[child.region_id]].append(child)
    plan_region = {c.id: column_of[c.region_id] for c in children}

    nodes = [n for n in flatten(task_tree(session, plan)) if n.task.level != TaskLevel.ANNUAL]
    linked = list(session.scalars(
        select(Task).where(Task.upstream_task_id.in_([n.task.id for n in nodes]), Task.plan_id.in_(plan_region))
        .options(selectinload(Task.plan)).order_by(Task.plan_id, Task.sort_order, Task.id)
    )) if nodes and plan_region else []
    by_upstream: dict[int, dict[int, list[Task]]] = {}
    for task in linked:
        by_upstream.setdefault(task.upstream_task_id or 0, {}).setdefault(plan_region[task.plan_id], []).append(task)
    # A key task counts as implemented where a child task links to it or to one of its measures; measures
    # are listed only where a child implements them.
    key_of: dict[int, int] = {}
    for node in nodes:
        if node.task.level == TaskLevel.MEASURE and node.task.parent_id is not None:
            key_of[node.task.id] = node.task.parent_id
    rolled: dict[int, dict[int, list[Task]]] = {}
    for task_id, found in by_upstream.items():
        for target in (task_id, key_of.get(task_id)):
            if target is None:
                continue
            for region_id, child_tasks in found.items():
                listed = rolled.setdefault(target, {}).setdefault(region_id, [])
                listed.extend(t for t in child_tasks if t not in listed)
    tasks = []
    for node in nodes:
        if node.task.level == TaskLevel.MEASURE and node.task.id not in by_upstream:
            continue
        found = rolled.get(node.task.id, {}) if node.task.level != TaskLevel.MEASURE else by_upstream[node.task.id]
        tasks.append(TaskCoverage(node.task, node.depth, found, [r for r in regions if r.id not in found]))

    child_indicators: dict[int, dict[str, Indicator]] = {}
    if children:
        for indicator in session.scalars(select(Indicator).where(Indicator.plan_id.in_(plan_region))):
            child_indicators.setdefault(indicator.plan_id, {})[name_key(indicator.name)] = indicator
    indicators = []
    for indicator in session.scalars(select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.number)):
        comparisons = []
        covered_regions: set[int] = set()
        for child in children:
            match = child_indicators.get(child.id, {}).get(name_key(indicator.name))
            if match is None:
                continue
            covered_regions.add(plan_region[child.id])
            verdict, note = compare_targets(indicator, match)
            comparisons.append(TargetComparison(child, plan_region[child.id], match, verdict, note))
        indicators.append(IndicatorCoverage(indicator, comparisons, [r for r in regions if r.id not in covered_regions]))

    countable = [t for t in tasks if t.task.level == TaskLevel.KEY_TASK]
    summary = {}
    for region in regions:
        summary[region.id] = {
            "plans": len(child_plans[region.id]),
            "tasks": sum(1 for t in countable if region.id in t.by_region),
            "indicators": sum(1 for i in indicators if region.id not in {r.id for r in i.missing}),
            "weaker": sum(1 for i in indicators for c in i.weaker if c.region_id == region.id),
        }
    return Coverage(plan, regions, child_plans, tasks, indicators, summary)


def _rule(indicator: Indicator) -> TargetRule:
    if indicator.target_rule and indicator.target_rule.get("op"):
        return TargetRule.from_json(indicator.target_rule)
    return parse_target(indicator.target_text, indicator.name, unit=indicator.unit, baseline=indicator.baseline_value)


def _same_unit(a: str | None, b: str | None) -> bool:
    return normalise(a or "") == normalise(b or "")


def compare_targets(parent: Indicator, child: Indicator) -> tuple[str, str]:
    """Is the child's target weaker than, as strong as, or stronger than the parent's?"""
    p, c = _rule(parent), _rule(child)
    if not _same_unit(parent.unit, child.unit) and parent.unit and child.unit:
        return "unknown", f"计量单位不同（{parent.unit} / {child.unit}），无法比较"
    if p.op in ("qualitative",) or c.op in ("qualitative",):
        return "unknown", "定性目标，需人工比较"
    if p.op == "trend" or c.op == "trend":
        if p.op == c.op == "trend":
            return ("same", "同为趋势目标") if p.direction == c.direction else ("weaker", "趋势方向与上级相反")
        if c.op == "trend" and p.direction in (Direction.HIGHER, Direction.LOWER):
            return "unknown", "下级为趋势表述，上级为具体数值，需人工比较"
        return "unknown", "上级为趋势表述，需人工比较"
    if p.op == "between" or c.op == "between":
        if p.op == c.op == "between":
            assert p.low is not None and p.high is not None and c.low is not None and c.high is not None
            if c.low >= p.low and c.high <= p.high:
                return ("same", "区间相同") if (c.low, c.high) == (p.low, p.high) else ("stronger", "区间在上级区间之内")
            return "weaker", f"区间 {_num(c.low)}–{_num(c.high)} 超出上级区间 {_num(p.low)}–{_num(p.high)}"
        return "unknown", "区间目标与单值目标，需人工比较"
    direction = p.direction if p.direction != Direction.NONE else c.direction
    pf, cf = p.figure, c.figure
    if direction not in (Direction.HIGHER, Direction.LOWER) or pf is None or cf is None:
        return "unknown", "目标方向无法判断，需人工比较"
    if cf == pf:
        if c.strict == p.strict:
            return "same", "目标值相同"
        if c.strict:
            return "stronger", "目标值相同，下级要求严格高于（低于）该值"
        return "weaker", "目标值相同，但上级要求严格高于（低于）该值"
    better = cf > pf if direction == Direction.HIGHER else cf < pf
    if not better and child.target_year and parent.target_year and child.target_year < parent.target_year:
        return "unknown", f"下级目标年份（{child.target_year}年）早于上级（{parent.target_year}年），需对照进度人工比较"
    if better:
        return "stronger", f"高于上级目标 {_num(pf)}" if direction == Direction.HIGHER else f"低于上级目标 {_num(pf)}"
    return "weaker", (f"低于上级目标 {_num(pf)}（越高越好）" if direction == Direction.HIGHER
                      else f"高于上级目标 {_num(pf)}（越低越好）")


def _num(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text
