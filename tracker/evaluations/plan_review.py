"""中期评估 and 总结评估 also review the plan itself: its key tasks (重点任务), its key projects and the cascade
to the plans below. Computed with the evaluation and frozen on it as a JSON snapshot (``Evaluation.plan_review``),
as the department scores and indicator results are frozen in their tables: a locked evaluation shows the
figures it was locked with, whatever happens to the tasks, projects and plans afterwards.

The evaluation's date is the end of its window (the year's 31 December, or the day it is computed on); the
window closes at the end of that day, so what falls due on it and is not done by then is late — as the
departments' 逾期未完成 counts it.

* Key tasks (the 重点任务 level of the tree): lead department; the deadline as it stood on that date (a deadline
  extension approved later had not moved it yet); status then — 已完成 (done by that date), 暂缓 / 已终止 (as
  recorded), 已逾期 (due by that date, not done), 未启动 (not begun), else 进行中; the approved deadline
  extensions by that date; and the 督办 history of the task and the tasks under it: cases filed by that date,
  closed (销号) by it, returned at least once, late (closed as 逾期整改, or open past the response deadline).
* Key projects: planned investment of the window's years and completed investment as confirmed by the planner
  (submitted, returned and draft figures do not count — the register's rule), and the construction nodes due by
  that date and not done.
* The cascade: the plan's coverage report (:func:`tracker.planning.cascade.coverage`, the coverage page's own
  query) — which lower plans implement each key task, and the share of key tasks each lower plan implements.

Each part is one set-based query (the coverage report is its own handful), whatever the size of the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from ..adjustments.models import AdjustmentKind, AdjustmentRequest, AdjustmentState
from ..planning.cascade import coverage
from ..projects.models import KeyProject, ProjectInvestment
from ..regions.models import Department
from ..supervision.models import CaseOutcome, CaseState, SupervisionCase
from ..tasks.models import Milestone, MilestoneStatus, ReportState, Task, TaskLevel, TaskStatus
from .models import Evaluation, EvaluationKind, investment_rate
from .queries import Window

ONE, ZERO = literal_column("1"), literal_column("0")


def reviewed(kind: EvaluationKind) -> bool:
    """Whether an evaluation of ``kind`` reviews key tasks, key projects and the cascade."""
    return kind != EvaluationKind.ANNUAL


# ---------------------------------------------------------------------------------------------------
# Computing the snapshot
# ---------------------------------------------------------------------------------------------------


def snapshot(session: Session, evaluation: Evaluation, window: Window) -> dict[str, Any] | None:
    """The key tasks, key projects and cascade of the evaluation's plan on the window's last day (JSON-ready),
    or None for an annual evaluation."""
    if not reviewed(evaluation.kind):
        return None
    return {"as_of": window.end.isoformat(), "key_tasks": _key_tasks(session, evaluation, window),
            "projects": _projects(session, evaluation, window), "cascade": _cascade(session, evaluation)}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _wan(value: Any) -> str | None:
    """A 万元 sum (SQLite adds as floats) as exact text with the stored four places."""
    return None if value is None else str(Decimal(str(value)).quantize(Decimal("0.0001")))


def _key_tasks(session: Session, evaluation: Evaluation, window: Window) -> list[dict[str, Any]]:
    t, chapter, d = Task.__table__, Task.__table__.alias("chapter"), Department.__table__
    a, c = AdjustmentRequest.__table__, SupervisionCase.__table__
    end, end_at = window.end, window.end_at
    extension = and_(a.c.kind == AdjustmentKind.DEADLINE.value, a.c.state == AdjustmentState.APPROVED.value,
                     a.c.task_id.is_not(None), a.c.milestone_id.is_(None))
    extensions = (select(a.c.task_id, func.count().label("n"), func.min(a.c.old_date).label("first"))
                  .where(extension, a.c.decided_at < end_at).group_by(a.c.task_id).subquery("extensions"))
    # an extension approved after the evaluation's date had not yet moved the deadline
    moved_later = (select(a.c.old_date).where(extension, a.c.task_id == t.c.id, a.c.decided_at >= end_at)
                   .order_by(a.c.decided_at, a.c.id).limit(1).scalar_subquery())
    deadline = func.coalesce(moved_later, t.c.deadline)

    # each key task with every task under it (measures, annual tasks): its 督办 history
    subtree = (select(t.c.id.label("key_id"), t.c.id.label("task_id"))
               .where(t.c.plan_id == evaluation.plan_id, t.c.level == TaskLevel.KEY_TASK.value)
               .cte("subtree", recursive=True))
    below = Task.__table__.alias("below")
    subtree = subtree.union_all(select(subtree.c.key_id, below.c.id).where(below.c.parent_id == subtree.c.task_id))
    closed = and_(c.c.state == CaseState.CLOSED.value, c.c.closed_at < end_at)
    late = or_(and_(closed, c.c.outcome == CaseOutcome.LATE.value),
               and_(~closed, c.c.response_deadline <= end))
    cases = (select(subtree.c.key_id, func.count().label("n"),
                    func.sum(case((closed, ONE), else_=ZERO)).label("closed"),
                    func.sum(case((c.c.return_count > 0, ONE), else_=ZERO)).label("returned"),
                    func.sum(case((late, ONE), else_=ZERO)).label("late"))
             .select_from(subtree.join(c, c.c.task_id == subtree.c.task_id))
             .where(c.c.created_at < end_at).group_by(subtree.c.key_id).subquery("key_cases"))

    status = case(
        (and_(t.c.status == TaskStatus.DONE.value, t.c.completed_on <= end), literal(TaskStatus.DONE.value)),
        (t.c.status == TaskStatus.TERMINATED.value, literal(TaskStatus.TERMINATED.value)),
        (t.c.status == TaskStatus.SUSPENDED.value, literal(TaskStatus.SUSPENDED.value)),
        (deadline <= end, literal(TaskStatus.OVERDUE.value)),
        (or_(t.c.start_date > end, and_(t.c.status == TaskStatus.NOT_STARTED.value, t.c.progress == 0)),
         literal(TaskStatus.NOT_STARTED.value)),
        else_=literal(TaskStatus.IN_PROGRESS.value),
    )
    rows = session.execute(
        select(t.c.id, t.c.code, t.c.title, d.c.name, deadline, status, func.coalesce(extensions.c.n, 0),
               extensions.c.first, func.coalesce(cases.c.n, 0), func.coalesce(cases.c.closed, 0),
               func.coalesce(cases.c.returned, 0), func.coalesce(cases.c.late, 0))
        .select_from(t.outerjoin(d, d.c.id == t.c.lead_department_id)
                     .outerjoin(chapter, chapter.c.id == t.c.parent_id)
                     .outerjoin(extensions, extensions.c.task_id == t.c.id)
                     .outerjoin(cases, cases.c.key_id == t.c.id))
        .where(t.c.plan_id == evaluation.plan_id, t.c.level == TaskLevel.KEY_TASK.value)
        .order_by(chapter.c.sort_order, chapter.c.id, t.c.sort_order, t.c.id)
    ).all()
    return [{"task_id": r[0], "code": r[1], "title": r[2], "department": r[3], "deadline": _iso(_date(r[4])),
             "status": str(r[5]), "extensions": int(r[6]), "original_deadline": _iso(_date(r[7])),
             "cases": int(r[8]), "closed": int(r[9]), "returned": int(r[10]), "late": int(r[11])} for r in rows]


def _date(value: Any) -> date | None:
    """A date column read through an expression (SQLite hands back text for a COALESCE of dates)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _projects(session: Session, evaluation: Evaluation, window: Window) -> list[dict[str, Any]]:
    kp, pt, pi, m = KeyProject.__table__, Task.__table__.alias("project_task"), ProjectInvestment.__table__, \
        Milestone.__table__
    d = Department.__table__
    end = window.end
    confirmed = pi.c.state == ReportState.CONFIRMED.value
    investments = (
        select(pi.c.project_id, func.sum(pi.c.planned).label("planned"),
               func.coalesce(func.sum(case((confirmed, pi.c.completed))), ZERO).label("completed"),
               func.sum(case((and_(~confirmed, pi.c.completed.is_not(None)), ONE), else_=ZERO)).label("unconfirmed"))
        .where(pi.c.year >= window.start.year, pi.c.year <= end.year)
        .group_by(pi.c.project_id).subquery("project_investment")
    )
    done = and_(m.c.status == MilestoneStatus.DONE.value, m.c.completed_on <= end)
    late_node = and_(m.c.node.is_not(None), m.c.due_date <= end, ~done, m.c.status != MilestoneStatus.WAIVED.value)
    nodes = (
        select(m.c.task_id, func.count().label("n"),
               func.sum(case((m.c.due_date <= end, ONE), else_=ZERO)).label("due"),
               func.sum(case((done, ONE), else_=ZERO)).label("done"),
               func.sum(case((late_node, ONE), else_=ZERO)).label("late"))
        .where(m.c.node.is_not(None)).group_by(m.c.task_id).subquery("project_nodes")
    )
    in_plan = pt.c.plan_id == evaluation.plan_id
    rows = session.execute(
        select(kp.c.id, pt.c.id, pt.c.code, pt.c.title, d.c.name, kp.c.total_investment, investments.c.planned,
               investments.c.completed, func.coalesce(investments.c.unconfirmed, 0), func.coalesce(nodes.c.n, 0),
               func.coalesce(nodes.c.due, 0), func.coalesce(nodes.c.done, 0), func.coalesce(nodes.c.late, 0))
        .select_from(kp.join(pt, pt.c.id == kp.c.task_id).outerjoin(d, d.c.id == pt.c.lead_department_id)
                     .outerjoin(investments, investments.c.project_id == kp.c.id)
                     .outerjoin(nodes, nodes.c.task_id == pt.c.id))
        .where(in_plan).order_by(pt.c.id)
    ).all()
    late_nodes: dict[int, list[str]] = {}
    for task_id, title, due in session.execute(
            select(m.c.task_id, m.c.title, m.c.due_date).select_from(m.join(pt, pt.c.id == m.c.task_id))
            .where(in_plan, late_node, pt.c.id.in_(select(kp.c.task_id))).order_by(m.c.due_date, m.c.id)):
        late_nodes.setdefault(task_id, []).append(f"{title}（{_date(due).isoformat()}）")  # type: ignore[union-attr]
    return [{"project_id": r[0], "task_id": r[1], "code": r[2], "title": r[3], "department": r[4],
             "total": _wan(r[5]), "planned": _wan(r[6]), "completed": _wan(r[7]) if r[6] is not None else None,
             "unconfirmed": int(r[8]), "nodes": int(r[9]), "nodes_due": int(r[10]), "nodes_done": int(r[11]),
             "nodes_late": int(r[12]), "late_nodes": late_nodes.get(r[1], [])} for r in rows]


def _cascade(session: Session, evaluation: Evaluation) -> dict[str, Any]:
    """The coverage page's report, reduced to the plan's key tasks: who implements each, and each lower plan's
    share."""
    report = coverage(session, evaluation.plan)
    rows = [row for row in report.tasks if row.task.level == TaskLevel.KEY_TASK]
    plans = []
    for region in report.regions:
        for plan in report.child_plans[region.id]:
            covered = sum(1 for row in rows if any(t.plan_id == plan.id for t in row.by_region.get(region.id, [])))
            plans.append({"plan_id": plan.id, "short_name": plan.short_name, "title": plan.title,
                          "level": plan.level.label, "region": plan.region.name, "column": region.name,
                          "covered": covered})
    return {
        "key_tasks": len(rows),
        "regions": [{"name": region.name, "plans": len(report.child_plans[region.id]),
                     "covered": report.summary[region.id]["tasks"]} for region in report.regions],
        "plans": plans,
        "covered_any": sum(1 for row in rows if row.by_region),
        "tasks": [{"task_id": row.task.id, "code": row.task.code, "title": row.task.title,
                   "implemented_by": [f"{t.plan.short_name} {t.code}" for found in row.by_region.values() for t in found],
                   "regions": len(row.by_region)} for row in rows],
    }


# ---------------------------------------------------------------------------------------------------
# Reading it back
# ---------------------------------------------------------------------------------------------------


def _ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _amount(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


@dataclass(frozen=True)
class KeyTaskRow:
    task_id: int
    code: str
    title: str
    department: str | None
    deadline: date | None  # as it stood on the evaluation's date
    original_deadline: date | None  # before the first extension approved by then
    status: TaskStatus
    extensions: int
    cases: int
    closed: int
    returned: int
    late: int

    @property
    def extended(self) -> bool:
        return self.extensions > 0


@dataclass(frozen=True)
class ProjectRow:
    project_id: int
    task_id: int
    code: str
    title: str
    department: str | None
    total: Decimal | None
    planned: Decimal | None  # the window's years, 万元
    completed: Decimal | None  # confirmed only, 万元
    unconfirmed: int  # completed figures entered but not confirmed (not counted)
    nodes: int
    nodes_due: int
    nodes_done: int
    nodes_late: int
    late_nodes: list[str]

    @property
    def rate(self) -> Decimal | None:
        return investment_rate(self.planned, self.completed)


@dataclass(frozen=True)
class PlanCoverage:
    plan_id: int
    short_name: str
    title: str
    level: str
    region: str
    column: str  # the region directly below the plan's own that it counts for
    covered: int
    total: int

    @property
    def rate(self) -> Decimal | None:
        return _ratio(self.covered, self.total)


@dataclass(frozen=True)
class RegionCoverage:
    name: str
    plans: int
    covered: int
    total: int

    @property
    def rate(self) -> Decimal | None:
        return _ratio(self.covered, self.total)


@dataclass(frozen=True)
class CascadeRow:
    task_id: int
    code: str
    title: str
    implemented_by: list[str]
    regions: int


@dataclass
class Review:
    as_of: date
    key_tasks: list[KeyTaskRow] = field(default_factory=list)
    projects: list[ProjectRow] = field(default_factory=list)
    plans: list[PlanCoverage] = field(default_factory=list)
    regions: list[RegionCoverage] = field(default_factory=list)
    cascade: list[CascadeRow] = field(default_factory=list)
    key_task_total: int = 0
    covered_any: int = 0

    # key tasks
    @property
    def done(self) -> int:
        return sum(1 for r in self.key_tasks if r.status == TaskStatus.DONE)

    @property
    def done_rate(self) -> Decimal | None:
        return _ratio(self.done, len(self.key_tasks))

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.key_tasks if r.status == TaskStatus.OVERDUE)

    @property
    def extended(self) -> int:
        return sum(1 for r in self.key_tasks if r.extended)

    @property
    def cases(self) -> int:
        return sum(r.cases for r in self.key_tasks)

    # projects
    @property
    def planned(self) -> Decimal | None:
        amounts = [p.planned for p in self.projects if p.planned is not None]
        return sum(amounts, Decimal(0)) if amounts else None

    @property
    def completed(self) -> Decimal | None:
        amounts = [p.completed for p in self.projects if p.completed is not None]
        return sum(amounts, Decimal(0)) if amounts else None

    @property
    def investment_rate(self) -> Decimal | None:
        return investment_rate(self.planned, self.completed)

    @property
    def nodes_late(self) -> int:
        return sum(p.nodes_late for p in self.projects)

    @property
    def unconfirmed(self) -> int:
        return sum(p.unconfirmed for p in self.projects)

    # cascade
    @property
    def overall_rate(self) -> Decimal | None:
        """Key tasks implemented by at least one lower plan."""
        return _ratio(self.covered_any, self.key_task_total)


def read(evaluation: Evaluation) -> Review | None:
    """The frozen review of a mid-term or final evaluation (None for an annual one, or one computed before
    reviews were kept)."""
    data = evaluation.plan_review
    if not data:
        return None
    cascade = data.get("cascade") or {}
    total = int(cascade.get("key_tasks", 0))
    return Review(
        as_of=date.fromisoformat(data["as_of"]),
        key_tasks=[KeyTaskRow(r["task_id"], r["code"], r["title"], r["department"], _day(r["deadline"]),
                              _day(r["original_deadline"]), TaskStatus(r["status"]), r["extensions"], r["cases"],
                              r["closed"], r["returned"], r["late"]) for r in data.get("key_tasks", [])],
        projects=[ProjectRow(p["project_id"], p["task_id"], p["code"], p["title"], p["department"],
                             _amount(p["total"]), _amount(p["planned"]), _amount(p["completed"]), p["unconfirmed"],
                             p["nodes"], p["nodes_due"], p["nodes_done"], p["nodes_late"], list(p["late_nodes"]))
                  for p in data.get("projects", [])],
        plans=[PlanCoverage(p["plan_id"], p["short_name"], p["title"], p["level"], p["region"], p["column"],
                            p["covered"], total) for p in cascade.get("plans", [])],
        regions=[RegionCoverage(r["name"], r["plans"], r["covered"], total) for r in cascade.get("regions", [])],
        cascade=[CascadeRow(r["task_id"], r["code"], r["title"], list(r["implemented_by"]), r["regions"])
                 for r in cascade.get("tasks", [])],
        key_task_total=total, covered_any=int(cascade.get("covered_any", 0)),
    )
