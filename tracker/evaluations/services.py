"""考核评估: compute a plan's results for a year per department, adjust, grade and lock.

The computation is set-based: one INSERT … SELECT freezes the indicator results, one INSERT … SELECT
aggregates tasks, indicator results, supervision cases and project investments per department (GROUP BY)
and scores them with the evaluation's weights, and one UPDATE ranks and grades — the same handful of
statements for ten departments or a thousand.

What is counted, for a plan, a kind and a year:

* the window: 年度监测 covers the year; 中期评估 and 总结评估 everything from the plan's first year to the end
  of the year. A window never reaches past the day it is computed on.
* tasks: the leaves of the task tree (the units of work; parents only roll up) that are not 已终止 and whose
  deadline falls in the window, by lead department. Done = 已完成 with a completion date in the window;
  on time = done no later than the deadline; overdue = due but not done.
* indicators: the year's value of each indicator and its judgement, frozen into the evaluation, counted for
  the indicator's lead department (未达成 counts as lagging; 待评判 is not counted). Only confirmed values
  are judged: an entered value is frozen as 待确认 and a returned one as 已退回 with the reason, neither
  counted; computing while there are any asks the evaluator first.
* supervision: cases on the plan's tasks filed in the window, by the department they were issued to; closed
  = 销号 before the window ends; returned = sent back at least once.
* investment: the key projects' planned investment and their completed investment as confirmed by the
  planner (submitted, returned and draft figures are not counted, as in the register) of the window's
  years, in 万元, by the lead department of the project's task.
* 中期评估 and 总结评估 also freeze the plan's key tasks, key projects and cascade (:mod:`.plan_review`).

Score = 100 × Σ weight × rate ÷ Σ weight, over the rates a department has figures for (completion rate,
on-time rate, indicators achieved or on track ÷ indicators judged, cases closed ÷ cases filed). A
department with none of them is listed without a score, rank or grade.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.orm import Session

from .. import audit
from ..auth.models import User
from ..errors import DomainError, InvalidTransition, StaleObject
from ..indicators.models import Indicator, IndicatorValue, Judgement, ValueState
from ..indicators.services import rejudge_plan
from ..notifications.outbox import emit, link_to
from ..permissions import can_reopen_evaluation, can_run_evaluation, require
from ..planning.models import Plan
from ..projects.models import KeyProject, ProjectInvestment
from ..supervision.models import CaseState, SupervisionCase
from ..tasks.models import ReportState, Task, TaskLevel, TaskStatus
from ..timeutil import now, today
from . import plan_review
from .models import (
    UNCONFIRMED_NOTE,
    DepartmentScore,
    Evaluation,
    EvaluationKind,
    EvaluationState,
    Grade,
    IndicatorResult,
)
from .queries import (
    Window,
    evaluation_window,
    generate_summary,
    unconfirmed_values,
)

WEIGHT_KEYS = ("completion", "on_time", "indicators", "supervision")
# the names of the weights and grades are those of the audited settings (one table: tracker.audit.FIELD_LABELS)
WEIGHT_LABELS = {k: audit.label_of(f"weights.{k}") for k in WEIGHT_KEYS}
DEFAULT_WEIGHTS = {"completion": 40, "on_time": 20, "indicators": 30, "supervision": 10}
GRADE_KEYS = ("excellent", "good", "pass")
DEFAULT_THRESHOLDS = {"excellent": 90, "good": 80, "pass": 60}
DEFAULT_TOLERANCE = 10
GRADE_LABELS = {k: audit.label_of(f"grade_thresholds.{k}") for k in GRADE_KEYS}

EVALUATION_FIELDS = ["state", "weights", "grade_thresholds", "pace_tolerance", "computed_at"]
CONCLUSION_FIELDS = ["overview", "problems", "suggestions"]
CONCLUSION_LIMIT = 5000
CONFIRM_FIELD = "proceed_unconfirmed"  # the form's checkbox that says to compute with values not yet confirmed
LOCKED_MESSAGE = "该考核已锁定，不能再修改。如需更正，须由系统管理员重新开放，生成新的草稿版本。"
REOPEN_MESSAGE = "该考核结果已锁定。如需按当前数据重新计算，须由系统管理员写明理由重新开放（生成新的草稿版本）。"
LOCK_CONFIRM_FIELD = "confirm"  # the lock form's checkbox that says the evaluator knows what locking means
LOCK_MEANING = "锁定后考核结果不能再修改，重新计算将生成新版本"


# ---------------------------------------------------------------------------------------------------
# Settings: weights and grade thresholds
# ---------------------------------------------------------------------------------------------------


@dataclass
class Settings:
    weights: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    thresholds: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    tolerance: int = DEFAULT_TOLERANCE  # 目标一致法: percent of the expected pace still 基本符合

    def check(self) -> None:
        for key in WEIGHT_KEYS:
            w = self.weights.get(key)
            if not isinstance(w, int) or isinstance(w, bool) or not 0 <= w <= 100:
                raise DomainError("权重须为0到100之间的整数。", field=f"weight_{key}")
        if sum(self.weights[k] for k in WEIGHT_KEYS) != 100:
            raise DomainError(f"各项权重之和须为100（现为{sum(self.weights[k] for k in WEIGHT_KEYS)}）。",
                              field="weight_completion")
        for key in GRADE_KEYS:
            t = self.thresholds.get(key)
            if not isinstance(t, int) or isinstance(t, bool) or not 0 <= t <= 100:
                raise DomainError("等次分数线须为0到100之间的整数。", field=f"threshold_{key}")
        if not self.thresholds["pass"] < self.thresholds["good"] < self.thresholds["excellent"]:
            raise DomainError("分数线须满足：合格 < 良好 < 优秀。", field="threshold_good")
        if not isinstance(self.tolerance, int) or isinstance(self.tolerance, bool) or not 0 <= self.tolerance <= 50:
            raise DomainError("容差须为0到50之间的整数（百分比）。", field="tolerance")

    @classmethod
    def of(cls, evaluation: Evaluation) -> Settings:
        return cls({k: int(evaluation.weights.get(k, DEFAULT_WEIGHTS[k])) for k in WEIGHT_KEYS},
                   {k: int(evaluation.grade_thresholds.get(k, DEFAULT_THRESHOLDS[k])) for k in GRADE_KEYS},
                   evaluation.pace_tolerance if evaluation.pace_tolerance is not None else DEFAULT_TOLERANCE)


# ---------------------------------------------------------------------------------------------------
# Running, recomputing, adjusting, locking
# ---------------------------------------------------------------------------------------------------


def latest_version(session: Session, plan: Plan, kind: EvaluationKind, year: int) -> Evaluation | None:
    return session.scalar(
        select(Evaluation).where(Evaluation.plan_id == plan.id, Evaluation.kind == kind, Evaluation.year == year)
        .order_by(Evaluation.version.desc()).limit(1)
    )


def ensure_draft(evaluation: Evaluation) -> None:
    if evaluation.state != EvaluationState.DRAFT:
        raise InvalidTransition(LOCKED_MESSAGE)


def check_unconfirmed(session: Session, plan: Plan, year: int, proceed: bool) -> None:
    """Computing with values not yet confirmed asks first: they are neither judged nor scored."""
    pending = unconfirmed_values(session, plan, year)
    if pending.total and not proceed:
        raise DomainError(f"{pending.question}请勾选确认后再计算，或先请规划处确认监测值。",
                          field=CONFIRM_FIELD)


def run_evaluation(session: Session, actor: User | None, plan: Plan, kind: EvaluationKind, year: int,
                   settings: Settings | None = None, *, proceed_unconfirmed: bool = False) -> Evaluation:
    """Compute (or recompute) the plan's evaluation of ``kind`` for ``year``.

    A draft of the same plan, kind and year is computed again in place (its adjustments are kept);
    when the latest version is locked, a new version is made and the locked one stays as it was.
    Only confirmed monitoring values are judged and scored: while the year has values not yet confirmed,
    the evaluator must say to go ahead (``proceed_unconfirmed``). ``actor`` None is the seed loader, which
    has nobody to ask (its results still show the values as 待确认 / 已退回).
    """
    if actor is not None:
        require(can_run_evaluation(actor, plan), "只有本级考核组可以开展该规划的考核评估。")
    settings = settings or Settings()
    settings.check()
    current_year = today().year
    if not plan.start_year <= year <= current_year:
        raise DomainError(f"考核年度须在 {plan.start_year} 到 {current_year} 之间。", field="year")
    if actor is not None:
        check_unconfirmed(session, plan, year, proceed_unconfirmed)
    return _store(session, actor, plan, kind, year, settings)


def _store(session: Session, actor: User | None, plan: Plan, kind: EvaluationKind, year: int, settings: Settings,
           *, carry_from: Evaluation | None = None, note: str = "") -> Evaluation:
    """Compute into the latest draft (in place) or, when the latest version is locked or there is none, into a
    new version; ``carry_from`` is the version whose score adjustments a new version starts with, ``note`` what
    the audit entry adds to its summary."""
    latest = latest_version(session, plan, kind, year)
    if latest is not None and latest.state == EvaluationState.LOCKED and carry_from is None and actor is not None:
        # a locked result is the signed one: only the administrator's reopen (with its reason) makes a new draft
        raise InvalidTransition(REOPEN_MESSAGE)
    if latest is not None and latest.state == EvaluationState.DRAFT:
        evaluation = latest
        before = audit.snapshot(evaluation, EVALUATION_FIELDS)
        action, summary = "recompute", "重新计算"
    else:
        evaluation = Evaluation(plan=plan, kind=kind, year=year, version=latest.version + 1 if latest else 1,
                                created_by_id=actor.id if actor else None, computed_at=now())
        session.add(evaluation)
        before = {}
        action, summary = "create", f"开展{year}年{kind.label}" + (f"（第{evaluation.version}版）"
                                                                   if evaluation.version > 1 else "")
    evaluation.weights = {k: settings.weights[k] for k in WEIGHT_KEYS}
    evaluation.grade_thresholds = {k: settings.thresholds[k] for k in GRADE_KEYS}
    evaluation.pace_tolerance = settings.tolerance
    if carry_from is not None:  # a reopened version starts with the evaluators' words of the one it replaces
        for name in CONCLUSION_FIELDS:
            setattr(evaluation, name, getattr(carry_from, name))
    session.flush()
    compute(session, evaluation, carry_from=carry_from)
    audit.record(session, actor, evaluation, action,
                 audit.diff(before, audit.snapshot(evaluation, EVALUATION_FIELDS)), summary + note)
    session.flush()
    if carry_from is None:  # a reopened version is announced as the reopening
        _announce(session, actor, evaluation, "compute", f"已生成（第{evaluation.version}版，草稿）")
    return evaluation


def _announce(session: Session, actor: User | None, evaluation: Evaluation, action: str, what: str,
              body: str | None = None) -> None:
    emit(session, f"evaluation.{action}", evaluation, actor=actor,
         title=f"{evaluation.plan.short_name or evaluation.plan.title}{evaluation.year}年{evaluation.kind.label}{what}",
         body=body, link=link_to("evaluations.show", evaluation_id=evaluation.id), plan_id=evaluation.plan_id)


def recompute(session: Session, actor: User, evaluation: Evaluation, settings: Settings | None = None, *,
              proceed_unconfirmed: bool = False) -> Evaluation:
    """Compute again with the stored (or new) settings: in place for a draft, a new version when locked."""
    return run_evaluation(session, actor, evaluation.plan, evaluation.kind, evaluation.year,
                          settings or Settings.of(evaluation), proceed_unconfirmed=proceed_unconfirmed)


def compute(session: Session, evaluation: Evaluation, *, carry_from: Evaluation | None = None) -> None:
    """Fill the evaluation's indicator results and department scores from the current data; the score
    adjustments kept are the evaluation's own (or ``carry_from``'s, a version it was reopened from)."""
    ensure_draft(evaluation)
    session.flush()
    plan = evaluation.plan
    ds, ir = DepartmentScore.__table__, IndicatorResult.__table__
    carried = session.execute(
        select(ds.c.department_id, ds.c.adjusted_score, ds.c.adjust_reason, ds.c.adjusted_by_id)
        .where(ds.c.evaluation_id == (carry_from or evaluation).id, ds.c.adjusted_score.is_not(None))
    ).all()
    session.execute(delete(ds).where(ds.c.evaluation_id == evaluation.id))
    session.execute(delete(ir).where(ir.c.evaluation_id == evaluation.id))
    rejudge_plan(session, plan)
    evaluation.computed_at = now()
    session.flush()
    window = evaluation_window(evaluation)
    _insert_indicator_results(session, evaluation)
    _insert_scores(session, evaluation, window)
    evaluation.plan_review = plan_review.snapshot(session, evaluation, window)
    for department_id, adjusted, reason, adjusted_by in carried:
        session.execute(update(ds).where(ds.c.evaluation_id == evaluation.id, ds.c.department_id == department_id)
                        .values(adjusted_score=adjusted, adjust_reason=reason, adjusted_by_id=adjusted_by))
    rank_and_grade(session, evaluation)
    evaluation.summary = generate_summary(session, evaluation)
    session.flush()
    session.expire(evaluation, ["scores", "indicator_results"])


def _insert_indicator_results(session: Session, evaluation: Evaluation) -> None:
    """Freeze each indicator's value of the year: a confirmed value with its judgement; an entered or returned
    one as 待确认 / 已退回 (with the reason), not judged; none as missing."""
    i, v, ir = Indicator.__table__, IndicatorValue.__table__, IndicatorResult.__table__
    missing = f"无{evaluation.year}年监测值。"
    confirmed = v.c.state == ValueState.CONFIRMED.value
    session.execute(ir.insert().from_select(
        ["evaluation_id", "indicator_id", "value_text", "judgement", "note", "value_state"],
        select(literal(evaluation.id, Integer), i.c.id, v.c.value_text,
               case((confirmed, func.coalesce(v.c.judgement, literal(Judgement.PENDING.value))),
                    else_=literal(Judgement.PENDING.value)),
               case((v.c.id.is_(None), literal(missing)),
                    (v.c.state == ValueState.ENTERED.value, literal(UNCONFIRMED_NOTE)),
                    (v.c.state == ValueState.RETURNED.value, v.c.return_reason),
                    else_=v.c.judgement_note),
               v.c.state)
        .select_from(i.outerjoin(v, and_(v.c.indicator_id == i.c.id, v.c.year == evaluation.year)))
        .where(i.c.plan_id == evaluation.plan_id)
    ))


def _int(value: int) -> Any:
    """A validated integer written into the statement (PostgreSQL needs no parameter type for it)."""
    return literal_column(str(int(value)))


def _insert_scores(session: Session, evaluation: Evaluation, window: Window) -> None:
    t, child = Task.__table__, Task.__table__.alias("child")
    i, ir = Indicator.__table__, IndicatorResult.__table__
    c, ct = SupervisionCase.__table__, Task.__table__.alias("case_task")
    pi, kp, pt = ProjectInvestment.__table__, KeyProject.__table__, Task.__table__.alias("project_task")
    ds = DepartmentScore.__table__
    one = literal_column("1")
    zero = literal_column("0")

    done = and_(t.c.status == TaskStatus.DONE.value, t.c.completed_on <= window.end)
    tasks = (
        select(t.c.lead_department_id.label("dept"), func.count().label("due"),
               func.sum(case((done, one), else_=zero)).label("done"),
               func.sum(case((and_(done, t.c.completed_on <= t.c.deadline), one), else_=zero)).label("on_time"))
        .where(t.c.plan_id == evaluation.plan_id, t.c.level != TaskLevel.CHAPTER.value,
               t.c.status != TaskStatus.TERMINATED.value, t.c.lead_department_id.is_not(None),
               t.c.deadline >= window.start, t.c.deadline <= window.end,
               ~exists().where(child.c.parent_id == t.c.id))
        .group_by(t.c.lead_department_id).subquery("tasks_agg")
    )
    judged = ir.c.judgement
    indicators = (
        select(i.c.lead_department_id.label("dept"),
               func.sum(case((judged == Judgement.ACHIEVED.value, one), else_=zero)).label("achieved"),
               func.sum(case((judged == Judgement.ON_TRACK.value, one), else_=zero)).label("on_track"),
               func.sum(case((judged.in_([Judgement.LAGGING.value, Judgement.NOT_ACHIEVED.value]), one),
                             else_=zero)).label("lagging"))
        .select_from(ir.join(i, i.c.id == ir.c.indicator_id))
        .where(ir.c.evaluation_id == evaluation.id, i.c.lead_department_id.is_not(None))
        .group_by(i.c.lead_department_id).subquery("indicators_agg")
    )
    closed = and_(c.c.state == CaseState.CLOSED.value, c.c.closed_at < window.end_at)
    cases = (
        select(c.c.department_id.label("dept"), func.count().label("opened"),
               func.sum(case((closed, one), else_=zero)).label("closed"),
               func.sum(case((c.c.return_count > 0, one), else_=zero)).label("returned"))
        .select_from(c.join(ct, ct.c.id == c.c.task_id))
        .where(ct.c.plan_id == evaluation.plan_id, c.c.created_at >= window.start_at, c.c.created_at < window.end_at)
        .group_by(c.c.department_id).subquery("cases_agg")
    )
    first_year, last_year = window.start.year, window.end.year
    confirmed = pi.c.state == ReportState.CONFIRMED.value
    investments = (
        select(pt.c.lead_department_id.label("dept"), func.coalesce(func.sum(pi.c.planned), zero).label("planned"),
               func.coalesce(func.sum(case((confirmed, pi.c.completed))), zero).label("completed"))
        .select_from(pi.join(kp, kp.c.id == pi.c.project_id).join(pt, pt.c.id == kp.c.task_id))
        .where(pt.c.plan_id == evaluation.plan_id, pi.c.year >= first_year, pi.c.year <= last_year,
               pt.c.lead_department_id.is_not(None))
        .group_by(pt.c.lead_department_id).subquery("investments_agg")
    )
    departments = union(*(select(q.c.dept) for q in (tasks, indicators, cases, investments))).subquery("depts")

    due = func.coalesce(tasks.c.due, 0)
    n_done = func.coalesce(tasks.c.done, 0)
    n_on_time = func.coalesce(tasks.c.on_time, 0)
    achieved = func.coalesce(indicators.c.achieved, 0)
    on_track = func.coalesce(indicators.c.on_track, 0)
    lagging = func.coalesce(indicators.c.lagging, 0)
    judged_n = achieved + on_track + lagging
    opened = func.coalesce(cases.c.opened, 0)
    n_closed = func.coalesce(cases.c.closed, 0)
    real = literal_column("1.0")

    def rate(numerator: Any, denominator: Any) -> Any:
        return case((denominator > 0, numerator * real / denominator), else_=zero)

    def has(count: Any) -> Any:
        return case((count > 0, one), else_=zero)

    w = Settings.of(evaluation).weights
    numerator = (_int(w["completion"]) * rate(n_done, due) + _int(w["on_time"]) * rate(n_on_time, due)
                 + _int(w["indicators"]) * rate(achieved + on_track, judged_n)
                 + _int(w["supervision"]) * rate(n_closed, opened))
    denominator = (_int(w["completion"]) * has(due) + _int(w["on_time"]) * has(due)
                   + _int(w["indicators"]) * has(judged_n) + _int(w["supervision"]) * has(opened))
    score = case((denominator > 0, func.round(literal_column("100.0") * numerator / denominator, 2)), else_=zero)

    session.execute(ds.insert().from_select(
        ["evaluation_id", "department_id", "tasks_due", "tasks_done", "tasks_done_on_time", "tasks_overdue",
         "completion_rate", "on_time_rate", "indicators_achieved", "indicators_on_track", "indicators_lagging",
         "cases_opened", "cases_closed", "cases_returned", "investment_planned", "investment_completed", "score"],
        select(
            literal(evaluation.id, Integer), departments.c.dept, due, n_done, n_on_time, due - n_done,
            case((due > 0, func.round(n_done * real / due, 4)), else_=null()),
            case((due > 0, func.round(n_on_time * real / due, 4)), else_=null()),
            achieved, on_track, lagging, opened, n_closed, func.coalesce(cases.c.returned, 0),
            investments.c.planned, investments.c.completed, score,
        )
        .select_from(
            departments.outerjoin(tasks, tasks.c.dept == departments.c.dept)
            .outerjoin(indicators, indicators.c.dept == departments.c.dept)
            .outerjoin(cases, cases.c.dept == departments.c.dept)
            .outerjoin(investments, investments.c.dept == departments.c.dept)
        )
    ))


def _scored(table: Any, weights: dict[str, int]) -> Any:
    """Whether a department score row has any figure that carries weight."""
    terms = []
    if weights["completion"] + weights["on_time"] > 0:
        terms.append(table.c.tasks_due > 0)
    if weights["indicators"] > 0:
        terms.append(table.c.indicators_achieved + table.c.indicators_on_track + table.c.indicators_lagging > 0)
    if weights["supervision"] > 0:
        terms.append(table.c.cases_opened > 0)
    return or_(*terms) if terms else literal(False)


def rank_and_grade(session: Session, evaluation: Evaluation) -> None:
    """One UPDATE: rank by final score (adjusted where adjusted) and grade by the thresholds."""
    ensure_draft(evaluation)
    settings = Settings.of(evaluation)
    ds = DepartmentScore.__table__
    other = ds.alias("other")
    final = func.coalesce(ds.c.adjusted_score, ds.c.score)
    other_final = func.coalesce(other.c.adjusted_score, other.c.score)
    higher = (select(func.count()).select_from(other)
              .where(other.c.evaluation_id == ds.c.evaluation_id, _scored(other, settings.weights),
                     other_final > final)
              .scalar_subquery())
    th = settings.thresholds
    scored = _scored(ds, settings.weights)
    session.execute(
        update(ds).where(ds.c.evaluation_id == evaluation.id).values(
            rank=case((scored, higher + 1), else_=null()),
            grade=case(
                (~scored, null()),
                (final >= _int(th["excellent"]), literal(Grade.EXCELLENT.value)),
                (final >= _int(th["good"]), literal(Grade.GOOD.value)),
                (final >= _int(th["pass"]), literal(Grade.PASS.value)),
                else_=literal(Grade.FAIL.value),
            ),
        )
    )
    session.expire(evaluation, ["scores"])


def score_fingerprint(score: DepartmentScore) -> str:
    """What the evaluator saw of a score; a save against a different one is stale."""
    raw = f"{score.score}|{score.adjusted_score}|{score.adjust_reason}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def parse_score(text: str | None) -> Decimal | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError("请输入0到100之间的分数，最多两位小数。", field="adjusted_score") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise DomainError("请输入0到100之间的分数，最多两位小数。", field="adjusted_score")
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def adjust_score(session: Session, actor: User, score: DepartmentScore, adjusted: Decimal | None,
                 reason: str | None, seen: str | None) -> None:
    """Set (or, with ``adjusted`` None, withdraw) an evaluator's adjusted score; a reason is required."""
    evaluation = score.evaluation
    require(can_run_evaluation(actor, evaluation.plan), "只有本级考核组可以调整考核得分。")
    ensure_draft(evaluation)
    if seen != score_fingerprint(score):
        raise StaleObject("保存失败：该单位的得分在您打开页面后已被重新计算或调整，您的修改没有保存。请查看最新得分后重新填写。")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("调整得分须写明理由。", field="reason")
    if len(reason) > 2000:
        raise DomainError("理由不能超过2000字。", field="reason")
    if adjusted is not None and not 0 <= adjusted <= 100:
        raise DomainError("请输入0到100之间的分数，最多两位小数。", field="adjusted_score")
    if adjusted is None and score.adjusted_score is None:
        raise DomainError("请填写调整后的得分。", field="adjusted_score")
    before = {"adjusted_score": audit.plain(score.adjusted_score), "adjust_reason": score.adjust_reason}
    score.adjusted_score = adjusted
    score.adjust_reason = reason if adjusted is not None else None
    score.adjusted_by_id = actor.id if adjusted is not None else None
    session.flush()
    rank_and_grade(session, evaluation)
    evaluation.summary = generate_summary(session, evaluation)  # the leading departments may have changed
    department = score.department.name
    audit.record(session, actor, evaluation, "adjust",
                 audit.diff(before, {"adjusted_score": audit.plain(adjusted), "adjust_reason": score.adjust_reason}),
                 (f"调整{department}得分为 {adjusted}：{reason}" if adjusted is not None
                  else f"撤销{department}的得分调整：{reason}"))
    session.flush()


def write_conclusions(session: Session, actor: User, evaluation: Evaluation, texts: dict[str, str | None]) -> None:
    """The evaluators' 总体情况, 存在问题 and 下一步工作建议 (one point a line): kept with this version, printed
    in the report, locked with the result. An empty field goes back to the text drawn from the figures."""
    require(can_run_evaluation(actor, evaluation.plan), "只有本级考核组可以撰写评估结论。")
    ensure_draft(evaluation)
    cleaned = {}
    for name in CONCLUSION_FIELDS:
        text = "\n".join(line.strip() for line in (texts.get(name) or "").splitlines() if line.strip()) or None
        if text is not None and len(text) > CONCLUSION_LIMIT:
            raise DomainError(f"不能超过{CONCLUSION_LIMIT}字。", field=name)
        cleaned[name] = text
    before = audit.snapshot(evaluation, CONCLUSION_FIELDS)
    for name, text in cleaned.items():
        setattr(evaluation, name, text)
    session.flush()
    audit.record_change(session, actor, evaluation, "conclusions", before, CONCLUSION_FIELDS, "撰写评估结论")


def change_settings(session: Session, actor: User, evaluation: Evaluation, settings: Settings, *,
                    proceed_unconfirmed: bool = False) -> Evaluation:
    require(can_run_evaluation(actor, evaluation.plan), "只有本级考核组可以设置考核权重和等次分数线。")
    ensure_draft(evaluation)
    return recompute(session, actor, evaluation, settings, proceed_unconfirmed=proceed_unconfirmed)


def lock(session: Session, actor: User | None, evaluation: Evaluation, *, confirmed: bool = False) -> None:
    """Lock the evaluation: from now on it never changes (recomputing makes a new version). Irreversible for
    the evaluator, so they confirm it (``confirmed``); ``actor`` None is the seed loader, which has nobody to ask."""
    if actor is not None:
        require(can_run_evaluation(actor, evaluation.plan), "只有本级考核组可以锁定考核结果。")
    ensure_draft(evaluation)
    if actor is not None and not confirmed:
        raise DomainError(f"请勾选确认：{LOCK_MEANING}。", field=LOCK_CONFIRM_FIELD)
    before = audit.snapshot(evaluation, EVALUATION_FIELDS)
    evaluation.state = EvaluationState.LOCKED
    evaluation.locked_at = now()
    evaluation.locked_by_id = actor.id if actor else None
    session.flush()
    audit.record(session, actor, evaluation, "lock", audit.diff(before, audit.snapshot(evaluation, EVALUATION_FIELDS)),
                 f"锁定{evaluation.year}年{evaluation.kind.label}结果（第{evaluation.version}版）")
    session.flush()
    _announce(session, actor, evaluation, "lock", f"结果已锁定（第{evaluation.version}版）")


def ensure_reopenable(session: Session, evaluation: Evaluation) -> None:
    """Only a locked evaluation that is its plan's, kind's and year's latest version is reopened."""
    if evaluation.state != EvaluationState.LOCKED:
        raise InvalidTransition("该考核尚未锁定（草稿可直接重新计算和调整），无需重新开放。")
    latest = latest_version(session, evaluation.plan, evaluation.kind, evaluation.year)
    if latest is not None and latest.id != evaluation.id:
        raise InvalidTransition(f"该考核已有更新的第{latest.version}版，不能再重新开放第{evaluation.version}版。")


def reopen(session: Session, actor: User, evaluation: Evaluation, reason: str | None) -> Evaluation:
    """An administrator reopens a locked evaluation: a new draft version, computed with the locked version's
    weights and thresholds from the current data and starting with its score adjustments; the locked version
    stays as it was. The reason is required and audited on both versions."""
    require(can_reopen_evaluation(actor), "只有系统管理员可以重新开放已锁定的考核结果。")
    ensure_reopenable(session, evaluation)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("重新开放须写明理由。", field="reason")
    if len(reason) > 2000:
        raise DomainError("理由不能超过2000字。", field="reason")
    draft = _store(session, actor, evaluation.plan, evaluation.kind, evaluation.year, Settings.of(evaluation),
                   carry_from=evaluation, note=f"，由第{evaluation.version}版重新开放：{reason}")
    audit.record(session, actor, evaluation, "reopen", None,
                 f"重新开放第{evaluation.version}版，生成第{draft.version}版草稿：{reason}")
    session.flush()
    _announce(session, actor, draft, "reopen", f"已重新开放（第{draft.version}版草稿）", f"理由：{reason}")
    return draft
