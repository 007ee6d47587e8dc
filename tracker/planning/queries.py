"""Plans: listing in scope, the task tree, figures for the plan page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, selectinload

from ..auth.models import User
from ..indicators.models import Indicator
from ..permissions import in_regions, visible_region_ids
from ..projects.models import KeyProject
from ..regions.services import RegionChoice, region_choices
from ..tasks.models import Task, TaskLevel, TaskStatus
from .models import Plan, PlanLevel, PlanStage


@dataclass
class PlanFilters:
    level: PlanLevel | None = None
    region_id: int | None = None
    stage: PlanStage | None = None
    q: str | None = None
    archived: bool = False  # 显示已归档: archived plans are left out unless asked for (or their stage is chosen)


def visible_regions(session: Session, user: User, chosen: int | None = None) -> list[RegionChoice]:
    """The list's region filter: the regions whose plans the user sees, as a tree opened down to the chosen one."""
    return region_choices(session, visible_region_ids(session, user), user.region_id, chosen)


def plans_in_scope(session: Session, user: User, filters: PlanFilters) -> Select[Any]:
    """Plans in the user's scope, filtered, for paging (a nation holds a thousand): province first, then by
    region, newest period first."""
    stmt = (
        select(Plan)
        .where(in_regions(session, Plan.region_id, visible_region_ids(session, user)))
        .options(selectinload(Plan.region))
        .order_by(Plan.level, Plan.region_id, Plan.start_year.desc(), Plan.id)
    )
    if filters.level:
        stmt = stmt.where(Plan.level == filters.level)
    if filters.region_id:
        stmt = stmt.where(Plan.region_id == filters.region_id)
    if filters.stage:
        stmt = stmt.where(Plan.stage == filters.stage)
    elif not filters.archived:
        stmt = stmt.where(Plan.stage != PlanStage.ARCHIVED)
    if filters.q:
        like = f"%{filters.q.strip()}%"
        stmt = stmt.where(Plan.title.like(like) | Plan.short_name.like(like))
    return stmt


def with_counts(session: Session, plans: list[Plan]) -> list[tuple[Plan, dict[str, int]]]:
    """The plans (one page of them) with their task counts by status (one grouped query)."""
    counts = status_counts(session, [p.id for p in plans])
    return [(p, counts.get(p.id, {})) for p in plans]


def status_counts(session: Session, plan_ids: list[int]) -> dict[int, dict[str, int]]:
    if not plan_ids:
        return {}
    rows = session.execute(
        select(Task.plan_id, Task.status, func.count())
        .where(Task.plan_id.in_(plan_ids), Task.level != TaskLevel.CHAPTER)
        .group_by(Task.plan_id, Task.status)
    )
    result: dict[int, dict[str, int]] = {}
    for plan_id, status, n in rows:
        result.setdefault(plan_id, {})[status.value] = n
    for per_plan in result.values():
        per_plan["total"] = sum(per_plan.values())
    return result


@dataclass
class TreeNode:
    task: Task
    children: list[TreeNode] = field(default_factory=list)
    depth: int = 0


def task_tree(session: Session, plan: Plan) -> list[TreeNode]:
    """The whole task tree of a plan from one query, in display order."""
    tasks = list(
        session.scalars(
            select(Task)
            .where(Task.plan_id == plan.id)
            .options(selectinload(Task.lead_department), selectinload(Task.project))
            .order_by(Task.sort_order, Task.id)
        )
    )
    nodes = {t.id: TreeNode(t) for t in tasks}
    roots: list[TreeNode] = []
    for t in tasks:
        node = nodes[t.id]
        parent = nodes.get(t.parent_id) if t.parent_id else None
        (parent.children if parent else roots).append(node)

    def set_depth(items: list[TreeNode], depth: int) -> None:
        for n in items:
            n.depth = depth
            set_depth(n.children, depth + 1)

    set_depth(roots, 0)
    return roots


# Levels from the top of the tree down, for "show down to this level".
LEVEL_ORDER = [TaskLevel.CHAPTER, TaskLevel.KEY_TASK, TaskLevel.MEASURE, TaskLevel.ANNUAL]


@dataclass
class TreeFilters:
    depth: TaskLevel | None = None  # the deepest level shown
    status: TaskStatus | None = None
    department_id: int | None = None
    year: int | None = None
    q: str | None = None

    @property
    def narrowed(self) -> bool:
        return any(v is not None for v in (self.depth, self.status, self.department_id, self.year, self.q))


def tree_order(session: Session, plan: Plan) -> list[tuple[int, int]]:
    """(task id, depth) of every task of the plan in display order, from one narrow query."""
    rows = session.execute(select(Task.id, Task.parent_id).where(Task.plan_id == plan.id)
                           .order_by(Task.sort_order, Task.id)).all()
    ids = {task_id for task_id, _ in rows}
    children: dict[int | None, list[int]] = {}
    for task_id, parent_id in rows:
        children.setdefault(parent_id if parent_id in ids else None, []).append(task_id)
    order: list[tuple[int, int]] = []
    stack = [(task_id, 0) for task_id in reversed(children.get(None, []))]
    while stack:
        task_id, depth = stack.pop()
        order.append((task_id, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(task_id, [])))
    return order


def tree_page(session: Session, plan: Plan, filters: TreeFilters, number: int,
              size: int = 200) -> tuple[list[TreeNode], int]:
    """One page of the plan's task tree in display order, the filters applied; and how many rows match.

    The order comes from ids alone; only the page's tasks are loaded whole."""
    order = tree_order(session, plan)
    if filters.narrowed:
        f = filters
        stmt = select(Task.id).where(Task.plan_id == plan.id)
        if f.depth is not None:
            stmt = stmt.where(Task.level.in_(LEVEL_ORDER[:LEVEL_ORDER.index(f.depth) + 1]))
        if f.status is not None:
            stmt = stmt.where(Task.status == f.status)
        if f.department_id is not None:
            stmt = stmt.where(Task.lead_department_id == f.department_id)
        if f.year is not None:
            stmt = stmt.where((Task.year == f.year) | ((Task.year.is_(None)) & (func.extract("year", Task.deadline)
                                                                               == f.year)))
        if f.q:
            like = f"%{f.q}%"
            stmt = stmt.where(Task.title.like(like) | Task.code.like(like))
        matching = set(session.scalars(stmt))
        order = [(task_id, depth) for task_id, depth in order if task_id in matching]
    chosen = order[(number - 1) * size:number * size]
    tasks = {t.id: t for t in session.scalars(
        select(Task).where(Task.id.in_([task_id for task_id, _ in chosen]))
        .options(selectinload(Task.lead_department), selectinload(Task.project)))}
    return [TreeNode(tasks[task_id], depth=depth) for task_id, depth in chosen], len(order)


def tab_counts(session: Session, plan: Plan) -> dict[str, int]:
    """How many tasks, indicators and projects the plan's tabs hold."""
    return {
        "tasks": session.scalar(select(func.count()).where(Task.plan_id == plan.id)) or 0,
        "indicators": session.scalar(select(func.count()).where(Indicator.plan_id == plan.id)) or 0,
        "projects": session.scalar(select(func.count()).select_from(KeyProject).join(KeyProject.task)
                                   .where(Task.plan_id == plan.id)) or 0,
    }


def plan_departments(session: Session, plan: Plan) -> list[Any]:
    """The departments leading tasks of the plan (the task filter's choices)."""
    from ..regions.models import Department

    return list(session.scalars(select(Department).where(Department.id.in_(
        select(Task.lead_department_id).where(Task.plan_id == plan.id).distinct()))
        .order_by(Department.sort_order, Department.id)))


def flatten(nodes: list[TreeNode]) -> list[TreeNode]:
    out: list[TreeNode] = []
    for n in nodes:
        out.append(n)
        out.extend(flatten(n.children))
    return out


def plan_indicators(session: Session, plan: Plan) -> list[Indicator]:
    return list(
        session.scalars(
            select(Indicator)
            .where(Indicator.plan_id == plan.id)
            .options(selectinload(Indicator.values), selectinload(Indicator.lead_department))
            .order_by(Indicator.number)
        )
    )


def plan_projects(session: Session, plan: Plan) -> list[KeyProject]:
    return list(
        session.scalars(
            select(KeyProject)
            .join(KeyProject.task)
            .where(Task.plan_id == plan.id)
            .options(
                selectinload(KeyProject.task).selectinload(Task.lead_department),
                selectinload(KeyProject.task).selectinload(Task.milestones),  # the 开工 node (cross-checks)
                selectinload(KeyProject.investments),
                selectinload(KeyProject.funding),
            )
            .order_by(Task.sort_order, Task.id)
        )
    )


def plan_progress(session: Session, plan: Plan) -> dict[str, Any]:
    """Headline figures: key tasks by status, average progress of key tasks."""
    row = session.execute(
        select(
            func.count(),
            func.sum(case((Task.status == TaskStatus.DONE, 1), else_=0)),
            func.avg(Task.progress),
        ).where(Task.plan_id == plan.id, Task.level == TaskLevel.KEY_TASK)
    ).one()
    total, done, avg = row
    return {"key_tasks": total or 0, "key_done": done or 0, "avg_progress": round(float(avg or 0))}
