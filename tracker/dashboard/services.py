"""The leaders' dashboard: grouped queries over one plan — completion by chapter and by department, the
overdue trend by month, open alerts by level, and each indicator's trajectory toward its target.

Tasks counted are the leaves of the tree (the units of work; parents roll up) that are not 已终止.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    and_,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, selectinload

from ..alerts.models import Alert, AlertLevel, AlertStatus
from ..auth.models import User
from ..indicators.models import Indicator, Judgement
from ..indicators.services import Trajectory, trajectory
from ..permissions import in_regions, visible_region_ids
from ..planning.models import Plan, PlanStage
from ..regions.models import Department
from ..tasks.models import Task, TaskLevel, TaskStatus

OPEN = (TaskStatus.NOT_STARTED.value, TaskStatus.IN_PROGRESS.value, TaskStatus.OVERDUE.value)
LEVEL_ORDER = (AlertLevel.DUE_SOON, AlertLevel.OVERDUE, AlertLevel.SEVERE, AlertLevel.LAGGING)
PREFERRED_STAGES = (PlanStage.EXECUTING, PlanStage.MIDTERM, PlanStage.ISSUED, PlanStage.FINAL)


@dataclass
class Completion:
    label: str
    total: int
    done: int
    overdue: int
    progress: Decimal | None = None

    @property
    def rate(self) -> Decimal | None:
        return (Decimal(100) * self.done / self.total).quantize(Decimal("0.1")) if self.total else None


@dataclass
class MonthPoint:
    label: str
    at: date
    overdue: int
    new: int


@dataclass
class Dashboard:
    plan: Plan
    today: date
    chapters: list[Completion]
    departments: list[Completion]
    trend: list[MonthPoint]
    alerts: list[tuple[AlertLevel, int]]
    indicators: list[Trajectory]
    totals: Completion = field(default_factory=lambda: Completion("合计", 0, 0, 0))

    def chart_data(self) -> dict[str, Any]:
        """What the charts draw — the same figures the tables beside them show."""
        return {
            "chapters": [_bar(c) for c in self.chapters],
            "departments": [_bar(c) for c in self.departments],
            "trend": [{"label": p.label, "overdue": p.overdue, "new": p.new} for p in self.trend],
            "alerts": [{"level": level.value, "label": level.label, "count": n} for level, n in self.alerts],
            "indicators": [_series(t) for t in self.indicators],
        }


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _bar(c: Completion) -> dict[str, Any]:
    return {"label": c.label, "total": c.total, "done": c.done, "overdue": c.overdue, "rate": _float(c.rate)}


def _series(t: Trajectory) -> dict[str, Any]:
    i = t.indicator
    return {
        "id": i.id, "number": i.number, "name": i.name, "unit": i.unit or "", "target_text": i.target_text,
        "target_year": t.target_year, "direction": t.rule.direction.label,
        "years": [p.year for p in t.points],
        "values": [_float(p.number) if p.confirmed else None for p in t.points],  # only confirmed figures count
        "expected": [_float(p.expected) for p in t.points],
        "targets": [_float(v) for v in t.target_line],
        "baseline": {"year": t.start.year, "value": _float(t.start.value), "from_baseline": t.start.from_baseline}
        if t.start else None,
    }


def plans_for(session: Session, user: User) -> list[Plan]:
    return list(session.scalars(
        select(Plan).where(in_regions(session, Plan.region_id, visible_region_ids(session, user)))
        .options(selectinload(Plan.region)).order_by(Plan.level, Plan.region_id, Plan.start_year.desc(), Plan.id)))


def default_plan(plans: list[Plan], user: User) -> Plan | None:
    own = [p for p in plans if p.region_id == user.region_id] or plans
    for stage in PREFERRED_STAGES:
        for plan in own:
            if plan.stage == stage:
                return plan
    return own[0] if own else None


def _leaf(t: Any) -> Any:
    child = Task.__table__.alias("leaf_child")
    # children share their parent's plan: saying so lets the plan's index answer the check
    return and_(t.c.level != TaskLevel.CHAPTER.value, t.c.status != TaskStatus.TERMINATED.value,
                ~exists().where(child.c.plan_id == t.c.plan_id, child.c.parent_id == t.c.id))


def _counts(t: Any, today: date) -> list[Any]:
    one, zero = literal_column("1"), literal_column("0")
    return [
        func.count(t.c.id).label("total"),
        func.sum(case((t.c.status == TaskStatus.DONE.value, one), else_=zero)).label("done"),
        func.sum(case((and_(t.c.status.in_(OPEN), t.c.deadline < today), one), else_=zero)).label("overdue"),
        func.avg(t.c.progress).label("progress"),
    ]


def _completion(label: str, row: Any) -> Completion:
    progress = None if row.progress is None else Decimal(str(row.progress)).quantize(Decimal("0.1"))
    return Completion(label, row.total or 0, row.done or 0, row.overdue or 0, progress)


def completion_by_chapter(session: Session, plan: Plan, today: date) -> list[Completion]:
    """Each top-level task (章) with the leaves below it: one recursive query."""
    t, c = Task.__table__, Task.__table__.alias("below")
    tree = (select(t.c.id.label("id"), t.c.id.label("root"))
            .where(t.c.plan_id == plan.id, t.c.parent_id.is_(None)).cte("tree", recursive=True))
    tree = tree.union_all(select(c.c.id, tree.c.root).where(c.c.plan_id == plan.id, c.c.parent_id == tree.c.id))
    rows = {row.root: row for row in session.execute(
        select(tree.c.root, *_counts(t, today)).select_from(tree.join(t, t.c.id == tree.c.id))
        .where(t.c.plan_id == plan.id, _leaf(t)).group_by(tree.c.root))}
    roots = session.execute(select(t.c.id, t.c.code, t.c.title).where(t.c.plan_id == plan.id, t.c.parent_id.is_(None))
                            .order_by(t.c.sort_order, t.c.id)).all()
    result = []
    for root_id, code, title in roots:
        row = rows.get(root_id)
        label = f"{code} {title}" if code and not title.startswith(code) else title
        result.append(_completion(label, row) if row else Completion(label, 0, 0, 0))
    return result


def completion_by_department(session: Session, plan: Plan, today: date) -> list[Completion]:
    t, d = Task.__table__, Department.__table__
    rows = session.execute(
        select(d.c.name, *_counts(t, today)).select_from(t.join(d, d.c.id == t.c.lead_department_id))
        .where(t.c.plan_id == plan.id, _leaf(t)).group_by(d.c.id, d.c.name, d.c.sort_order)
        .order_by(func.count(t.c.id).desc(), d.c.sort_order, d.c.id))
    return [_completion(row.name, row) for row in rows]


def plan_totals(session: Session, plan: Plan, today: date) -> Completion:
    t = Task.__table__
    row = session.execute(select(*_counts(t, today)).where(t.c.plan_id == plan.id, _leaf(t))).one()
    return _completion("合计", row)


def month_points(today: date, months: int = 12) -> list[tuple[str, date, date]]:
    """(label, first day, cut-off) for the last ``months`` months. A month is counted as at the start of its
    cut-off day: the first day of the next month, or today for the current month."""
    points = []
    year, month = today.year, today.month
    for _ in range(months):
        first = date(year, month, 1)
        following = date(year + (month == 12), month % 12 + 1, 1)
        points.append((f"{year}年{month}月", first, min(following, today)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(points))


def overdue_trend(session: Session, plan: Plan, today: date, months: int = 12) -> list[MonthPoint]:
    """Tasks overdue at the end of each month (deadline passed, not finished by then), and how many of them
    fell due in that month: one grouped query over the months."""
    t = Task.__table__
    points = month_points(today, months)
    month_rows = union_all(*(
        select(literal(i, Integer).label("idx"), literal(first, Date).label("first"),
               literal(cutoff, Date).label("cutoff"))
        for i, (_, first, cutoff) in enumerate(points)
    )).subquery("months")
    # The plan's leaves once (materialised), not once per month: the leaf test is an anti-join.
    leaves = (select(t.c.id, t.c.deadline, t.c.completed_on)
              .where(t.c.plan_id == plan.id, _leaf(t), t.c.status != TaskStatus.SUSPENDED.value)
              .cte("leaves").prefix_with("MATERIALIZED"))
    one, zero = literal_column("1"), literal_column("0")
    unfinished = or_(leaves.c.completed_on.is_(None), leaves.c.completed_on >= month_rows.c.cutoff)
    joined = month_rows.outerjoin(leaves, and_(leaves.c.deadline < month_rows.c.cutoff, unfinished))
    rows = {row.idx: row for row in session.execute(
        select(month_rows.c.idx, func.count(leaves.c.id).label("overdue"),
               func.sum(case((leaves.c.deadline >= month_rows.c.first, one), else_=zero)).label("new"))
        .select_from(joined).group_by(month_rows.c.idx))}
    return [MonthPoint(label, cutoff, rows[i].overdue if i in rows else 0, (rows[i].new or 0) if i in rows else 0)
            for i, (label, _, cutoff) in enumerate(points)]


def alerts_by_level(session: Session, plan: Plan) -> list[tuple[AlertLevel, int]]:
    """Open alerts on the plan's tasks, milestones and indicators, by level: those of its tasks (and their
    milestones) and those of its indicators counted apart — an alert is on one or the other — each read by its
    index (as one OR, every open alert of every plan was read)."""
    parts = [select(Alert.level).join(Task, Task.id == Alert.task_id).where(Task.plan_id == plan.id),
             select(Alert.level).join(Indicator, Indicator.id == Alert.indicator_id)
             .where(Indicator.plan_id == plan.id)]
    levels = union_all(*(part.where(Alert.status == AlertStatus.OPEN) for part in parts)).subquery()
    counts = dict(session.execute(select(levels.c.level, func.count()).group_by(levels.c.level)).all())
    return [(level, counts.get(level, 0)) for level in LEVEL_ORDER]


def indicator_trajectories(session: Session, plan: Plan) -> list[Trajectory]:
    indicators = session.scalars(
        select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.number)
        .options(selectinload(Indicator.values), selectinload(Indicator.plan))
    ).all()
    return [trajectory(i) for i in indicators]


def latest_judgements(trajectories: list[Trajectory]) -> dict[str, int]:
    """How the latest confirmed value of each indicator is judged (only confirmed figures count), and how many
    values are not yet confirmed."""
    counts = {j.value: 0 for j in Judgement}
    counts["missing"] = 0
    counts["unconfirmed"] = 0
    for t in trajectories:
        counts["unconfirmed"] += sum(1 for p in t.points if p.value is not None and not p.confirmed)
        values = [p.value for p in t.points if p.confirmed]
        if not values:
            counts["missing"] += 1
        else:
            counts[(values[-1].judgement or Judgement.PENDING).value] += 1
    return counts


def build(session: Session, plan: Plan, today: date) -> Dashboard:
    return Dashboard(
        plan=plan, today=today,
        chapters=completion_by_chapter(session, plan, today),
        departments=completion_by_department(session, plan, today),
        trend=overdue_trend(session, plan, today),
        alerts=alerts_by_level(session, plan),
        indicators=indicator_trajectories(session, plan),
        totals=plan_totals(session, plan, today),
    )
