"""The demo evaluations are computed from the seeded plans: 表1 of the 13th plan, the 14th plan's 2023 mid-term and
2024 monitoring — and its 2025 final evaluation once the year's values are confirmed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.evaluations.models import Evaluation, EvaluationKind, EvaluationState, IndicatorResult
from tracker.indicators.models import Indicator, IndicatorValue, Judgement
from tracker.planning.models import Plan
from tracker.seeding import SeedError, load_seeds

from ..conftest import SEEDS
from ..indicators.test_targets import TABLE_1
from . import final_2025

ZJ14_2023 = {
    1: Judgement.ACHIEVED, 2: Judgement.ACHIEVED, 3: Judgement.ACHIEVED, 4: Judgement.ON_TRACK,
    5: Judgement.ON_TRACK, 6: Judgement.LAGGING, 7: Judgement.LAGGING, 8: Judgement.LAGGING,
    9: Judgement.ON_TRACK, 10: Judgement.ON_TRACK, 11: Judgement.ON_TRACK, 12: Judgement.ON_TRACK,
    13: Judgement.ON_TRACK, 14: Judgement.ACHIEVED, 15: Judgement.ON_TRACK, 16: Judgement.ON_TRACK,
    17: Judgement.PENDING, 18: Judgement.ACHIEVED, 19: Judgement.LAGGING, 20: Judgement.ON_TRACK,
}

ZJ14_2025 = {
    1: Judgement.ACHIEVED, 2: Judgement.ACHIEVED, 3: Judgement.ACHIEVED, 4: Judgement.ACHIEVED,
    5: Judgement.ACHIEVED, 6: Judgement.NOT_ACHIEVED, 7: Judgement.ACHIEVED, 8: Judgement.NOT_ACHIEVED,
    9: Judgement.ACHIEVED, 10: Judgement.ACHIEVED, 11: Judgement.ACHIEVED, 12: Judgement.ACHIEVED,
    13: Judgement.ACHIEVED, 14: Judgement.ACHIEVED, 15: Judgement.NOT_ACHIEVED, 16: Judgement.ACHIEVED,
    17: Judgement.PENDING, 18: Judgement.ACHIEVED, 19: Judgement.NOT_ACHIEVED, 20: Judgement.ACHIEVED,
}


def _evaluation(session: Session, code: str, kind: EvaluationKind, year: int) -> Evaluation:
    return session.scalars(select(Evaluation).join(Plan).where(
        Plan.code == code, Evaluation.kind == kind, Evaluation.year == year)).one()


def _results(session: Session, evaluation: Evaluation) -> dict[int, IndicatorResult]:
    return {r.indicator.number: r for r in session.scalars(
        select(IndicatorResult).where(IndicatorResult.evaluation_id == evaluation.id))}


def test_thirteenth_plan_final_evaluation_is_table_1(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    evaluation = _evaluation(session, "zj-13", EvaluationKind.FINAL, 2020)
    assert evaluation.state == EvaluationState.LOCKED and evaluation.locked_at is not None
    results = _results(session, evaluation)
    assert [(n, results[n].value_text, results[n].judgement) for n in sorted(results)] == [
        (number, value, judgement) for number, _, _, value, judgement in TABLE_1]
    assert evaluation.summary and "已达成12项" in evaluation.summary and "总和生育率（目标1.6，2020年1.5，未达成）" in \
        evaluation.summary


def test_fourteenth_plan_midterm_and_annual(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    midterm = _evaluation(session, "zj-14", EvaluationKind.MIDTERM, 2023)
    annual = _evaluation(session, "zj-14", EvaluationKind.ANNUAL, 2024)
    assert (midterm.state, annual.state) == (EvaluationState.LOCKED, EvaluationState.DRAFT)
    assert {n: r.judgement for n, r in _results(session, midterm).items()} == ZJ14_2023
    assert midterm.scores and annual.scores
    assert all(s.tasks_due >= s.tasks_done >= s.tasks_done_on_time for s in midterm.scores)
    assert sum(s.tasks_due for s in midterm.scores) > sum(s.tasks_due for s in annual.scores)


def test_fourteenth_plan_final_from_the_2025_values(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    """The 2025 values entered and confirmed after the demo's day, the final evaluation judges them."""
    with timeutil.frozen(final_2025.EVALUATED):
        final = final_2025.final_evaluation(session)
    midterm = _evaluation(session, "zj-14", EvaluationKind.MIDTERM, 2023)
    assert final.state == EvaluationState.LOCKED
    assert {n: r.judgement for n, r in _results(session, final).items()} == ZJ14_2025
    assert final.scores
    assert all(s.tasks_due >= s.tasks_done >= s.tasks_done_on_time for s in final.scores)
    assert sum(s.tasks_due for s in final.scores) > sum(s.tasks_due for s in midterm.scores)


def test_every_seeded_value_is_judged(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    unjudged = session.scalar(select(func.count()).select_from(IndicatorValue).where(IndicatorValue.judgement.is_(None)))
    assert unjudged == 0
    life = session.scalars(select(Indicator).join(Plan).where(Plan.code == "zj-14", Indicator.number == 1)).one()
    assert [v.judgement for v in life.values] == [Judgement.ON_TRACK, Judgement.ON_TRACK, Judgement.ACHIEVED,
                                                  Judgement.ACHIEVED]
    ratio = session.scalars(select(Indicator).join(Plan).where(Plan.code == "yq-14", Indicator.name == "床人比")).one()
    assert ratio.direction.value == "lower" and ratio.target_rule["basis"] == "baseline"


def test_loading_twice_changes_nothing(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    before = session.scalar(select(func.count()).select_from(Evaluation))
    assert load_seeds(session, SEEDS) == {}
    session.commit()
    assert session.scalar(select(func.count()).select_from(Evaluation)) == before == 3


@pytest.mark.parametrize(
    ("line", "field", "problem"),
    [
        ("  - {plan: zj-99, kind: 总结评估, year: 2020}", "plan", "规划 zj-99 不存在"),
        ("  - {plan: zj-13, kind: 季度考核, year: 2020}", "kind", "不是有效值"),
        ("  - {plan: zj-13, kind: 年度监测, year: 2031}", "year", "考核年度须在"),
        ("  - {plan: zj-13, kind: 年度监测, year: 2019, weights: {completion: 90}}", "weight_completion", "权重之和"),
    ],
)
def test_a_wrong_entry_is_named(app, session: Session, tmp_path: Path, line: str, field: str,  # type: ignore[no-untyped-def]
                                problem: str) -> None:
    root = tmp_path / "seeds"
    shutil.copytree(SEEDS, root)
    (root / "evaluations.yaml").write_text(f"evaluations:\n{line}\n", encoding="utf-8")
    with pytest.raises(SeedError) as error:
        load_seeds(session, root)
    assert error.value.file == "evaluations.yaml" and error.value.field == field and problem in error.value.problem
