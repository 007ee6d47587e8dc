"""The evaluation's figures, scores, ranks and grades; drafts, locks and versions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.auth.models import Role
from tracker.errors import DomainError, InvalidTransition, StaleObject
from tracker.evaluations.models import (
    DepartmentScore,
    Evaluation,
    EvaluationKind,
    EvaluationLocked,
    EvaluationState,
    Grade,
    IndicatorResult,
)
from tracker.evaluations.queries import scores_of, totals
from tracker.evaluations.services import (
    Settings,
    adjust_score,
    compute,
    lock,
    recompute,
    reopen,
    run_evaluation,
    score_fingerprint,
)
from tracker.indicators.models import Judgement
from tracker.tasks.models import TaskStatus

from .. import factories as f
from .world import World, build_world


def _by_name(session: Session, evaluation: Evaluation) -> dict[str, DepartmentScore]:
    session.expire_all()
    return {s.department.name: s for s in scores_of(session, evaluation)}


def test_department_figures(world: World, session: Session) -> None:
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    session.commit()
    s = _by_name(session, evaluation)
    assert set(s) == {"甲处", "乙处", "丙处", "丁处"}
    a, b, c, d = s["甲处"], s["乙处"], s["丙处"], s["丁处"]
    assert (a.tasks_due, a.tasks_done, a.tasks_done_on_time, a.tasks_overdue) == (4, 2, 1, 2)
    assert (a.completion_rate, a.on_time_rate) == (Decimal("0.5"), Decimal("0.25"))
    assert (a.indicators_achieved, a.indicators_on_track, a.indicators_lagging) == (1, 0, 1)
    assert (a.cases_opened, a.cases_closed, a.cases_returned) == (0, 0, 0)
    assert a.score == Decimal("44.44")
    assert (b.tasks_due, b.tasks_done, b.tasks_done_on_time, b.tasks_overdue) == (2, 1, 1, 1)
    assert (b.indicators_achieved, b.indicators_on_track, b.indicators_lagging) == (0, 0, 0)  # trend: pending
    assert (b.cases_opened, b.cases_closed, b.cases_returned) == (2, 1, 1)
    assert b.score == Decimal("50.00")
    assert (c.tasks_due, c.indicators_achieved, c.score) == (0, 1, Decimal("100.00"))
    assert (d.investment_planned, d.investment_completed) == (Decimal("100"), Decimal("80"))
    assert (d.score, d.rank, d.grade) == (0, None, None)
    assert (c.rank, b.rank, a.rank) == (1, 2, 3)
    assert (c.grade, b.grade, a.grade) == (Grade.EXCELLENT, Grade.FAIL, Grade.FAIL)
    assert all(x.investment_planned is None for x in (a, b, c))


def test_indicator_results_are_frozen(world: World, session: Session) -> None:
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    session.commit()
    results = {r.indicator.name: r for r in session.scalars(
        select(IndicatorResult).where(IndicatorResult.evaluation_id == evaluation.id))}
    assert (results["居民健康素养水平"].value_text, results["居民健康素养水平"].judgement) == ("41.5", Judgement.ACHIEVED)
    assert results["孕产妇死亡率"].judgement == Judgement.NOT_ACHIEVED
    assert results["人均基本公共卫生服务经费"].judgement == Judgement.PENDING
    missing = results["每千人床位数"]
    assert (missing.value_text, missing.judgement, missing.note) == (None, Judgement.PENDING, "无2025年监测值。")
    tot = totals(session, evaluation)
    assert (tot.indicators, tot.achieved, tot.lagging, tot.pending) == (5, 2, 1, 2)
    assert (tot.due, tot.done, tot.on_time, tot.opened, tot.closed) == (6, 3, 2, 2, 1)
    assert evaluation.summary and "到期任务6项，已完成3项（完成率50.0%）" in evaluation.summary
    assert "孕产妇死亡率（目标7以下，2025年7.6，未达成）" in evaluation.summary


def test_weights_and_thresholds_are_the_evaluators(world: World, session: Session) -> None:
    settings = Settings({"completion": 100, "on_time": 0, "indicators": 0, "supervision": 0},
                        {"excellent": 95, "good": 85, "pass": 50})
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025, settings)
    session.commit()
    s = _by_name(session, evaluation)
    assert evaluation.weights == settings.weights and evaluation.grade_thresholds == settings.thresholds
    assert (s["甲处"].score, s["乙处"].score) == (Decimal("50.00"), Decimal("50.00"))
    assert (s["甲处"].rank, s["乙处"].rank, s["丙处"].rank) == (1, 1, None)  # 丙处 has no due task
    assert s["甲处"].grade == Grade.PASS


@pytest.mark.parametrize(
    ("weights", "thresholds", "field"),
    [
        ({"completion": 50, "on_time": 20, "indicators": 20, "supervision": 20}, {}, "weight_completion"),
        ({"completion": 101, "on_time": 0, "indicators": 0, "supervision": 0}, {}, "weight_completion"),
        ({}, {"excellent": 80, "good": 90, "pass": 60}, "threshold_good"),
        ({}, {"excellent": 90, "good": 80, "pass": -1}, "threshold_pass"),
    ],
)
def test_settings_are_checked(world: World, session: Session, weights: dict, thresholds: dict, field: str) -> None:
    settings = Settings({**Settings().weights, **weights}, {**Settings().thresholds, **thresholds})
    with pytest.raises(DomainError) as refused:
        run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025, settings)
    assert refused.value.field == field


def test_years_are_checked(world: World, session: Session) -> None:
    for year in (2019, 2027):
        with pytest.raises(DomainError, match="考核年度须在 2021 到 2026 之间"):
            run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, year)


def test_final_evaluation_counts_the_whole_period(world: World, session: Session) -> None:
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.FINAL, 2025)
    session.commit()
    s = _by_name(session, evaluation)
    assert (s["甲处"].tasks_due, s["甲处"].tasks_done) == (5, 3)  # plus the task done in 2024
    assert (s["甲处"].cases_opened, s["甲处"].cases_closed) == (1, 1)
    assert (s["丁处"].investment_planned, s["丁处"].investment_completed) == (Decimal("150"), Decimal("130"))


def test_only_the_regions_evaluator_runs(world: World, session: Session) -> None:
    for user in (world.leader, world.planner, world.head):
        with pytest.raises(DomainError) as refused:
            run_evaluation(session, user, world.plan, EvaluationKind.ANNUAL, 2025)
        assert refused.value.status_code == 403


def test_adjustment_needs_a_reason(world: World, session: Session) -> None:
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    session.commit()
    a = _by_name(session, evaluation)["甲处"]
    for reason in (None, "", "   "):
        with pytest.raises(DomainError, match="调整得分须写明理由") as refused:
            adjust_score(session, world.evaluator, a, Decimal("60"), reason, score_fingerprint(a))
        assert refused.value.field == "reason"
    session.rollback()
    # The database refuses it too.
    with pytest.raises(IntegrityError):
        session.execute(update(DepartmentScore).where(DepartmentScore.id == a.id).values(adjusted_score=60))
    session.rollback()

    a = _by_name(session, evaluation)["甲处"]
    adjust_score(session, world.evaluator, a, Decimal("99.5"), "年中承接省委专项任务，额外完成", score_fingerprint(a))
    session.commit()
    s = _by_name(session, evaluation)
    assert (s["甲处"].adjusted_score, s["甲处"].final_score, s["甲处"].rank, s["甲处"].grade) == (
        Decimal("99.50"), Decimal("99.50"), 2, Grade.EXCELLENT)
    assert (s["丙处"].rank, s["乙处"].rank) == (1, 3)
    with pytest.raises(StaleObject):
        adjust_score(session, world.evaluator, s["甲处"], Decimal("90"), "再调", "stale")
    with pytest.raises(DomainError):
        adjust_score(session, world.evaluator, s["甲处"], Decimal("101"), "超出", score_fingerprint(s["甲处"]))


def test_recomputing_a_draft_keeps_its_adjustments(world: World, session: Session) -> None:
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    session.commit()
    a = _by_name(session, evaluation)["甲处"]
    adjust_score(session, world.evaluator, a, Decimal("70"), "补充材料证明已完成", score_fingerprint(a))
    session.commit()
    task = session.get(type(world.tasks["a_open"]), world.tasks["a_open"].id)
    assert task is not None
    task.status, task.completed_on, task.progress = TaskStatus.DONE, task.deadline, 100
    session.commit()
    again = recompute(session, world.evaluator, evaluation)
    session.commit()
    assert again.id == evaluation.id and again.version == 1
    a = _by_name(session, again)["甲处"]
    assert (a.tasks_done, a.adjusted_score, a.adjust_reason) == (3, Decimal("70"), "补充材料证明已完成")


def test_a_locked_evaluation_never_changes(world: World, session: Session) -> None:
    evaluation = run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    session.commit()
    before = {n: (s.tasks_done, s.score, s.rank) for n, s in _by_name(session, evaluation).items()}
    lock(session, world.evaluator, evaluation, confirmed=True)
    session.commit()
    assert evaluation.state == EvaluationState.LOCKED and evaluation.locked_at is not None

    a = _by_name(session, evaluation)["甲处"]
    with pytest.raises(InvalidTransition):
        adjust_score(session, world.evaluator, a, Decimal("90"), "理由", score_fingerprint(a))
    with pytest.raises(InvalidTransition):
        compute(session, evaluation)
    with pytest.raises(InvalidTransition):
        lock(session, world.evaluator, evaluation, confirmed=True)
    session.rollback()

    a = _by_name(session, evaluation)["甲处"]
    a.score = Decimal("100")
    with pytest.raises(EvaluationLocked):
        session.flush()
    session.rollback()
    evaluation = session.get(Evaluation, evaluation.id)
    assert evaluation is not None
    evaluation.summary = "改写"
    with pytest.raises(EvaluationLocked):
        session.flush()
    session.rollback()
    session.delete(session.scalars(select(IndicatorResult).where(IndicatorResult.evaluation_id == evaluation.id)).first())
    with pytest.raises(EvaluationLocked):
        session.flush()
    session.rollback()

    # The data moves on; the locked version does not. The evaluator cannot recompute it (nor run it again):
    # the administrator's reopen makes version 2.
    task = session.get(type(world.tasks["a_open"]), world.tasks["a_open"].id)
    assert task is not None
    task.status, task.completed_on, task.progress = TaskStatus.DONE, task.deadline, 100
    session.commit()
    evaluation = session.get(Evaluation, evaluation.id)
    assert evaluation is not None
    with pytest.raises(InvalidTransition, match="须由系统管理员"):
        recompute(session, world.evaluator, evaluation)
    with pytest.raises(InvalidTransition, match="须由系统管理员"):
        run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
    session.rollback()
    evaluation = session.get(Evaluation, evaluation.id)
    assert evaluation is not None
    admin = f.user(session, world.departments["甲处"], Role.ADMIN, "compute_admin")
    second = reopen(session, admin, evaluation, "省统计局更正了年度数据")
    session.commit()
    assert (second.version, second.state) == (2, EvaluationState.DRAFT) and second.id != evaluation.id
    assert {n: (s.tasks_done, s.score, s.rank) for n, s in _by_name(session, evaluation).items()} == before
    assert _by_name(session, second)["甲处"].tasks_done == 3


def _statements(session: Session, world: World) -> int:
    engine = session.get_bind()
    count = 0

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        nonlocal count
        if statement.strip().upper() != "BEGIN":  # opening the transaction is not the computation's
            count += 1

    event.listen(engine, "before_cursor_execute", seen)
    try:
        run_evaluation(session, world.evaluator, world.plan, EvaluationKind.ANNUAL, 2025)
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return count


def test_computation_is_set_based(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    """The same statements for four departments or a hundred and four."""
    small_world = build_world(session)
    session.commit()  # (the world's own commit is not the computation's: it renews the overdue list's version)
    small = _statements(session, small_world)
    large_world = build_world(session, extra_departments=100, tag="big")
    session.commit()
    large = _statements(session, large_world)
    assert large == small
    assert len(scores_of(session, session.scalars(select(Evaluation).where(
        Evaluation.plan_id == large_world.plan.id)).one())) == 104
