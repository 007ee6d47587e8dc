"""Reading an evaluation back — its scores, indicator rows, totals, cases, task lines, versions and the generated
summary — and the evaluation list with its choices: what the pages, the workbook and the report show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, selectinload

from ..auth.models import User
from ..indicators.models import Indicator, Judgement
from ..permissions import can_run_evaluation, visible_region_ids
from ..planning.models import Plan
from ..regions.models import Department
from ..supervision.models import CaseOutcome, CaseState, SupervisionCase
from ..tasks.models import Task, TaskLevel, TaskStatus
from ..timeutil import LOCAL_TZ, local_day_bounds
from .models import (
    DepartmentScore,
    Evaluation,
    EvaluationKind,
    IndicatorResult,
    investment_rate,
)

# ---------------------------------------------------------------------------------------------------
# The window
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        return local_day_bounds(self.start)[0]

    @property
    def end_at(self) -> datetime:
        """The instant the window closes (the end of its last local day)."""
        return local_day_bounds(self.end)[1]

    @property
    def label(self) -> str:
        return f"{self.start.year}年{self.start.month}月{self.start.day}日至{self.end.year}年{self.end.month}月{self.end.day}日"


def window_of(plan: Plan, kind: EvaluationKind, year: int, computed_on: date) -> Window:
    start = date(year, 1, 1) if kind == EvaluationKind.ANNUAL else date(min(plan.start_year, year), 1, 1)
    return Window(start, min(date(year, 12, 31), computed_on))


def evaluation_window(evaluation: Evaluation) -> Window:
    return window_of(evaluation.plan, evaluation.kind, evaluation.year,
                     evaluation.computed_at.astimezone(LOCAL_TZ).date())


def scores_of(session: Session, evaluation: Evaluation) -> list[DepartmentScore]:
    return list(session.scalars(
        select(DepartmentScore).join(Department, Department.id == DepartmentScore.department_id)
        .where(DepartmentScore.evaluation_id == evaluation.id)
        .options(selectinload(DepartmentScore.department))
        .order_by(DepartmentScore.rank.is_(None), DepartmentScore.rank, Department.sort_order, Department.id)
    ))


def indicator_rows(session: Session, evaluation: Evaluation) -> list[IndicatorResult]:
    return list(session.scalars(
        select(IndicatorResult).join(Indicator, Indicator.id == IndicatorResult.indicator_id)
        .where(IndicatorResult.evaluation_id == evaluation.id)
        .options(selectinload(IndicatorResult.indicator).selectinload(Indicator.lead_department))
        .order_by(Indicator.number)
    ))


@dataclass
class Totals:
    departments: int = 0
    due: int = 0
    done: int = 0
    on_time: int = 0
    overdue: int = 0
    achieved: int = 0
    on_track: int = 0
    lagging: int = 0
    pending: int = 0
    indicators: int = 0
    opened: int = 0
    closed: int = 0
    returned: int = 0
    planned: Decimal | None = None
    completed: Decimal | None = None

    @property
    def completion_rate(self) -> Decimal | None:
        return _ratio(self.done, self.due)

    @property
    def on_time_rate(self) -> Decimal | None:
        return _ratio(self.on_time, self.due)

    @property
    def investment_rate(self) -> Decimal | None:
        return investment_rate(self.planned, self.completed)


def _amount(value: Any) -> Decimal | None:
    """A sum of 万元 amounts (SQLite adds them as floats) back to the stored four places."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"))


def _ratio(a: int, b: int) -> Decimal | None:
    return (Decimal(a) / Decimal(b)).quantize(Decimal("0.0001")) if b else None


def totals(session: Session, evaluation: Evaluation) -> Totals:
    """Sums over the evaluation's departments and indicator results (two grouped queries)."""
    ds, ir = DepartmentScore.__table__, IndicatorResult.__table__
    row = session.execute(select(
        func.count(), func.sum(ds.c.tasks_due), func.sum(ds.c.tasks_done), func.sum(ds.c.tasks_done_on_time),
        func.sum(ds.c.tasks_overdue), func.sum(ds.c.cases_opened), func.sum(ds.c.cases_closed),
        func.sum(ds.c.cases_returned), func.sum(ds.c.investment_planned), func.sum(ds.c.investment_completed),
    ).where(ds.c.evaluation_id == evaluation.id)).one()
    result = Totals(row[0] or 0, row[1] or 0, row[2] or 0, row[3] or 0, row[4] or 0, opened=row[5] or 0,
                    closed=row[6] or 0, returned=row[7] or 0, planned=_amount(row[8]), completed=_amount(row[9]))
    for judgement, n in session.execute(select(ir.c.judgement, func.count()).where(
            ir.c.evaluation_id == evaluation.id).group_by(ir.c.judgement)):
        j = Judgement(judgement)
        result.indicators += n
        if j == Judgement.ACHIEVED:
            result.achieved += n
        elif j == Judgement.ON_TRACK:
            result.on_track += n
        elif j in (Judgement.LAGGING, Judgement.NOT_ACHIEVED):
            result.lagging += n
        else:
            result.pending += n
    return result


def case_outcomes(session: Session, evaluation: Evaluation) -> dict[int, dict[str, int]]:
    """Outcomes of the window's closed cases per department. Cases filed in a past window and closed
    before it ended do not change, so a locked evaluation reads the same figures every time."""
    window = evaluation_window(evaluation)
    c, t = SupervisionCase.__table__, Task.__table__
    rows = session.execute(
        select(c.c.department_id, c.c.outcome, func.count())
        .select_from(c.join(t, t.c.id == c.c.task_id))
        .where(t.c.plan_id == evaluation.plan_id, c.c.created_at >= window.start_at, c.c.created_at < window.end_at,
               c.c.state == CaseState.CLOSED.value, c.c.closed_at < window.end_at)
        .group_by(c.c.department_id, c.c.outcome)
    )
    result: dict[int, dict[str, int]] = {}
    for department_id, outcome, n in rows:
        result.setdefault(department_id, {})[CaseOutcome(outcome).value] = n
    return result


def cases_of(session: Session, evaluation: Evaluation) -> list[SupervisionCase]:
    window = evaluation_window(evaluation)
    return list(session.scalars(
        select(SupervisionCase).join(Task, Task.id == SupervisionCase.task_id)
        .where(Task.plan_id == evaluation.plan_id, SupervisionCase.created_at >= window.start_at,
               SupervisionCase.created_at < window.end_at)
        .options(selectinload(SupervisionCase.department), selectinload(SupervisionCase.task))
        .order_by(SupervisionCase.created_at, SupervisionCase.id)
    ))


@dataclass
class TaskLine:
    task: Task
    done: bool
    on_time: bool


def task_lines(session: Session, evaluation: Evaluation) -> list[TaskLine]:
    """The tasks the evaluation counted, each with whether it was done (on time) by the window's end."""
    window = evaluation_window(evaluation)
    child = Task.__table__.alias("child")
    tasks = session.scalars(
        select(Task).where(Task.plan_id == evaluation.plan_id, Task.level != TaskLevel.CHAPTER,
                           Task.status != TaskStatus.TERMINATED, Task.lead_department_id.is_not(None),
                           Task.deadline >= window.start, Task.deadline <= window.end,
                           ~exists().where(child.c.parent_id == Task.id))
        .options(selectinload(Task.lead_department)).order_by(Task.lead_department_id, Task.deadline, Task.id)
    ).all()
    lines = []
    for t in tasks:
        done = t.status == TaskStatus.DONE and t.completed_on is not None and t.completed_on <= window.end
        lines.append(TaskLine(t, done, done and t.completed_on is not None and t.deadline is not None
                              and t.completed_on <= t.deadline))
    return lines


def versions_of(session: Session, evaluation: Evaluation) -> list[Evaluation]:
    return list(session.scalars(
        select(Evaluation).where(Evaluation.plan_id == evaluation.plan_id, Evaluation.kind == evaluation.kind,
                                 Evaluation.year == evaluation.year).order_by(Evaluation.version.desc())))


def percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def generate_summary(session: Session, evaluation: Evaluation) -> str:
    """A short account of achievements and lagging items, from the frozen figures."""
    plan = evaluation.plan
    tot = totals(session, evaluation)
    head = f"{plan.short_name}{evaluation.year}年{evaluation.kind.label}（{evaluation_window(evaluation).label}）"
    parts = [f"{head}：纳入考核的责任单位{tot.departments}个。"]
    if tot.due:
        parts.append(f"到期任务{tot.due}项，已完成{tot.done}项（完成率{percent(tot.completion_rate)}），"
                     f"按期完成{tot.on_time}项（按期完成率{percent(tot.on_time_rate)}），未完成{tot.overdue}项。")
    else:
        parts.append("考核期内没有到期任务。")
    if tot.indicators:
        parts.append(f"主要指标{tot.indicators}项：已达成{tot.achieved}项，符合进度{tot.on_track}项，"
                     f"滞后或未达成{tot.lagging}项，待评判{tot.pending}项。")
    if tot.opened:
        parts.append(f"督办件立案{tot.opened}件，已销号{tot.closed}件，曾被退回{tot.returned}件。")
    best = session.execute(
        select(Department.name, func.coalesce(DepartmentScore.adjusted_score, DepartmentScore.score))
        .join(Department, Department.id == DepartmentScore.department_id)
        .where(DepartmentScore.evaluation_id == evaluation.id, DepartmentScore.rank.is_not(None))
        .order_by(DepartmentScore.rank, Department.sort_order).limit(3)
    ).all()
    if best:
        parts.append("综合得分居前的单位：" + "、".join(f"{name}（{score}分）" for name, score in best) + "。")
    lagging = session.execute(
        select(Indicator.name, Indicator.target_text, IndicatorResult.value_text, IndicatorResult.judgement)
        .join(Indicator, Indicator.id == IndicatorResult.indicator_id)
        .where(IndicatorResult.evaluation_id == evaluation.id,
               IndicatorResult.judgement.in_([Judgement.LAGGING, Judgement.NOT_ACHIEVED]))
        .order_by(Indicator.number)
    ).all()
    if lagging:
        parts.append("需关注的指标：" + "；".join(
            f"{name}（目标{target}，{evaluation.year}年{value}，{j.label}）" for name, target, value, j in lagging) + "。")
    elif tot.indicators:
        parts.append("已评判的指标均已达成或符合进度。")
    return "".join(parts)


# ------------------------------------------------------------------------------------------ the list and its choices


def evaluation_list(session: Session, user: User, kind: EvaluationKind | None = None, plan_id: int | None = None,
                    year: int | None = None) -> Select[Any]:
    """The evaluations of the plans the user sees, newest year first, for paging."""
    stmt = (select(Evaluation).join(Plan).where(Plan.region_id.in_(visible_region_ids(session, user)))
            .options(selectinload(Evaluation.plan).selectinload(Plan.region), selectinload(Evaluation.created_by),
                     selectinload(Evaluation.locked_by))
            .order_by(Evaluation.year.desc(), Plan.level, Plan.id, Evaluation.kind, Evaluation.version.desc()))
    if kind is not None:
        stmt = stmt.where(Evaluation.kind == kind)
    if plan_id is not None:
        stmt = stmt.where(Evaluation.plan_id == plan_id)
    if year is not None:
        stmt = stmt.where(Evaluation.year == year)
    return stmt


def visible_plans(session: Session, user: User) -> list[Plan]:
    """The plans whose evaluations the user sees (the list's plan filter)."""
    return list(session.scalars(select(Plan).where(Plan.region_id.in_(visible_region_ids(session, user)))
                                .order_by(Plan.level, Plan.id)))


def runnable_plans(session: Session, user: User) -> list[Plan]:
    """The plans of the user's own region the user may evaluate."""
    return [p for p in session.scalars(select(Plan).where(Plan.region_id == user.region_id)
                                       .order_by(Plan.level, Plan.start_year.desc(), Plan.id))
            if can_run_evaluation(user, p)]
