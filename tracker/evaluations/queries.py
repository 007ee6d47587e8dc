"""Reading an evaluation back — its scores, indicator rows, totals, cases, task lines, versions and the generated
summary — and the evaluation list with its choices: what the pages, the workbook and the report show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, case, exists, func, literal, select
from sqlalchemy.orm import Session, selectinload

from ..auth.models import User
from ..indicators.consistency import Course, course
from ..indicators.models import Indicator, IndicatorNature, IndicatorValue, Judgement, ValueState
from ..indicators.services import rule_of, target_year_of, trajectory_start
from ..indicators.targets import read_value
from ..permissions import can_run_evaluation, in_regions, visible_region_ids
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
    """The evaluation's indicators in the plan's order (as its 表1)."""
    return list(session.scalars(
        select(IndicatorResult).join(Indicator, Indicator.id == IndicatorResult.indicator_id)
        .where(IndicatorResult.evaluation_id == evaluation.id)
        .options(selectinload(IndicatorResult.indicator).selectinload(Indicator.lead_department))
        .order_by(Indicator.number)
    ))


def binding_first(results: list[IndicatorResult]) -> list[IndicatorResult]:
    """As plan evaluations examine them: binding (约束性) indicators first, then in the plan's order."""
    return sorted(results, key=lambda r: (r.indicator.nature != IndicatorNature.BINDING, r.indicator.number))


def courses(session: Session, evaluation: Evaluation) -> dict[int, Course]:
    """目标一致法 for each indicator of the evaluation's plan in its year: the expected pace, the latest confirmed
    value, the projection to the target year and the light (the evaluation's tolerance). Values are read as they
    are now: only confirmed ones count, as in the judgement."""
    tolerance = Decimal(evaluation.pace_tolerance if evaluation.pace_tolerance is not None else 10) / 100
    out = {}
    for indicator in session.scalars(select(Indicator).where(Indicator.plan_id == evaluation.plan_id)
                                     .options(selectinload(Indicator.values), selectinload(Indicator.plan))):
        values = [v for v in indicator.values if v.state == ValueState.CONFIRMED]
        confirmed = [(v.year, reading.value) for v in values
                     if (reading := read_value(v.value_text)) is not None and reading.op == "eq"]
        out[indicator.id] = course(rule_of(indicator), trajectory_start(indicator, values), target_year_of(indicator),
                                   evaluation.year, confirmed, tolerance)
    return out


def tied_ranks(scores: list[DepartmentScore]) -> set[int]:
    """The ranks more than one department shares (shown as 并列第N)."""
    seen: dict[int, int] = {}
    for s in scores:
        if s.rank is not None:
            seen[s.rank] = seen.get(s.rank, 0) + 1
    return {rank for rank, n in seen.items() if n > 1}


def rank_label(rank: int | None, tied: set[int]) -> str:
    """1 / 并列第1 / — (a department without figures that carry weight has no rank)."""
    if rank is None:
        return "—"
    return f"并列第{rank}" if rank in tied else str(rank)


def rates_coincide(scores: list[DepartmentScore]) -> bool:
    """Whether every department with tasks due has the same completion and on-time rate (every task done was
    done on time): the two weights then act as one, which the page and the report say."""
    rated = [s for s in scores if s.tasks_due]
    return bool(rated) and all(s.completion_rate == s.on_time_rate for s in rated)


@dataclass(frozen=True)
class Unconfirmed:
    """Monitoring values of a plan's year not yet confirmed: entered (待确认) and returned (已退回)."""

    year: int
    entered: int = 0
    returned: int = 0

    @property
    def total(self) -> int:
        return self.entered + self.returned

    @property
    def detail(self) -> str:
        return "、".join(f"{label}{n}个" for label, n in (("待确认", self.entered), ("已退回", self.returned)) if n)

    @property
    def question(self) -> str:
        """What computing asks while there are any."""
        return (f"仍有{self.total}个{self.year}年监测值未确认（{self.detail}），未确认的监测值不予评判、不计分。"
                "确认后再计算？")


def unconfirmed_values(session: Session, plan: Plan, year: int) -> Unconfirmed:
    """The plan's values of ``year`` not yet confirmed, as they stand now (one grouped query)."""
    v, i = IndicatorValue.__table__, Indicator.__table__
    counts = dict(session.execute(
        select(v.c.state, func.count()).select_from(v.join(i, i.c.id == v.c.indicator_id))
        .where(i.c.plan_id == plan.id, v.c.year == year, v.c.state != ValueState.CONFIRMED.value)
        .group_by(v.c.state)).all())
    return Unconfirmed(year, counts.get(ValueState.ENTERED.value, 0) or counts.get(ValueState.ENTERED, 0),
                       counts.get(ValueState.RETURNED.value, 0) or counts.get(ValueState.RETURNED, 0))


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
    missing: int = 0  # indicators without a value of the year (counted in pending)
    unconfirmed: int = 0  # values entered but not confirmed (待确认): not judged
    values_returned: int = 0  # values returned by the planner (已退回): not judged

    @property
    def judged(self) -> int:
        return self.achieved + self.on_track + self.lagging

    @property
    def not_confirmed(self) -> int:
        return self.unconfirmed + self.values_returned

    @property
    def confirmed(self) -> int:
        """Indicators with a confirmed value of the year."""
        return self.indicators - self.missing - self.not_confirmed

    @property
    def not_confirmed_detail(self) -> str:
        return Unconfirmed(0, self.unconfirmed, self.values_returned).detail

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
    review = case((ir.c.value_state == ValueState.ENTERED.value, literal("entered")),
                  (ir.c.value_state == ValueState.RETURNED.value, literal("returned")),
                  (ir.c.value_text.is_(None), literal("missing")), else_=literal(""))
    for judgement, state, n in session.execute(select(ir.c.judgement, review, func.count()).where(
            ir.c.evaluation_id == evaluation.id).group_by(ir.c.judgement, review)):
        j = Judgement(judgement)
        result.indicators += n
        if state == "entered":
            result.unconfirmed += n
        elif state == "returned":
            result.values_returned += n
        elif j == Judgement.ACHIEVED:
            result.achieved += n
        elif j == Judgement.ON_TRACK:
            result.on_track += n
        elif j in (Judgement.LAGGING, Judgement.NOT_ACHIEVED):
            result.lagging += n
        else:
            result.pending += n
            result.missing += n if state == "missing" else 0
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


def _indicator_sentence(tot: Totals, year: int) -> str:
    """What was judged — never more: only confirmed values are judged."""
    if tot.judged:
        text = (f"主要指标{tot.indicators}项：已达成{tot.achieved}项，符合进度{tot.on_track}项，"
                f"滞后或未达成{tot.lagging}项，待评判{tot.pending}项。")
    elif tot.confirmed:
        text = f"主要指标{tot.indicators}项：已确认的{tot.confirmed}个监测值均待考核组评判，指标尚未评判。"
    else:
        text = f"主要指标{tot.indicators}项：本年度尚无已确认的监测值，指标未评判。"
    if tot.not_confirmed:
        text += f"另有{tot.not_confirmed}个{year}年监测值未确认（{tot.not_confirmed_detail}），未予评判、不计分。"
    return text


def _names(names: list[str], limit: int = 5) -> str:
    return "、".join(names[:limit]) + ("等" if len(names) > limit else "")


def _ranking_sentence(session: Session, evaluation: Evaluation) -> str:
    """The leading departments, ties named as ties (11个单位并列第1), and no praise for a score of nothing."""
    final = func.coalesce(DepartmentScore.adjusted_score, DepartmentScore.score)
    rows = session.execute(
        select(DepartmentScore.rank, final, Department.name)
        .join(Department, Department.id == DepartmentScore.department_id)
        .where(DepartmentScore.evaluation_id == evaluation.id, DepartmentScore.rank.is_not(None),
               DepartmentScore.rank <= 3)
        .order_by(DepartmentScore.rank, Department.sort_order, Department.id)
    ).all()
    if not rows:
        return ""
    groups: dict[int, tuple[Decimal, list[str]]] = {}
    for rank, score, name in rows:
        groups.setdefault(rank, (Decimal(str(score)).quantize(Decimal("0.01")), []))[1].append(name)
    top_score, top_names = groups[min(groups)]
    if top_score == 0:  # the best is nothing: nobody leads
        return (f"参与评分的{len(top_names)}个单位综合得分均为0分。" if len(top_names) > 1
                else f"参与评分的单位{top_names[0]}综合得分为0分。")
    pieces, named = [], 0
    for rank, (score, names) in sorted(groups.items()):
        if named >= 3:
            break
        if len(names) > 1:
            pieces.append(f"{len(names)}个单位并列第{rank}（{score}分）：{_names(names)}")
        else:
            pieces.append(f"第{rank}名{names[0]}（{score}分）")
        named += len(names)
    return "综合得分排名：" + "；".join(pieces) + "。"


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
        parts.append(_indicator_sentence(tot, evaluation.year))
    if tot.opened:
        parts.append(f"督办件立案{tot.opened}件，已销号{tot.closed}件，曾被退回{tot.returned}件。")
    parts.append(_ranking_sentence(session, evaluation))
    if tot.due and rates_coincide(scores_of(session, evaluation)):
        w = evaluation.weights
        parts.append(f"各单位的任务完成率与按期完成率相同（已完成的任务均按期完成），两项权重"
                     f"（{w.get('completion', 0)}、{w.get('on_time', 0)}）实际作为一项计分。")
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
    elif tot.judged:
        parts.append("已评判的指标均已达成或符合进度。")
    return "".join(parts)


# ------------------------------------------------------------------------------------------ the list and its choices


def evaluation_list(session: Session, user: User, kind: EvaluationKind | None = None, plan_id: int | None = None,
                    year: int | None = None) -> Select[Any]:
    """The evaluations of the plans the user sees, newest year first, for paging."""
    stmt = (select(Evaluation).join(Plan).where(in_regions(session, Plan.region_id, visible_region_ids(session, user)))
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
    return list(session.scalars(select(Plan).where(in_regions(session, Plan.region_id, visible_region_ids(session, user)))
                                .order_by(Plan.level, Plan.id)))


def runnable_plans(session: Session, user: User) -> list[Plan]:
    """The plans of the user's own region the user may evaluate."""
    return [p for p in session.scalars(select(Plan).where(Plan.region_id == user.region_id)
                                       .order_by(Plan.level, Plan.start_year.desc(), Plan.id))
            if can_run_evaluation(user, p)]
