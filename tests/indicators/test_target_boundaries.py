"""Targets and monitoring values at their edges: a value exactly at a bound, a bound against a bound, strict wording
(大于/低于) against inclusive wording (以上/以下/不低于), the trajectory's own boundaries, and the largest figure a value
may hold. Every expectation is written out: no example is drawn at random."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from tracker.indicators.models import Direction, Judgement
from tracker.indicators.targets import (
    JUDGEMENT_RANK,
    Reading,
    Start,
    expected_at,
    infer_direction,
    judge,
    meets,
    parse_target,
    parse_value,
    read_value,
    with_direction,
)

A, N, P = Judgement.ACHIEVED, Judgement.NOT_ACHIEVED, Judgement.PENDING


def _final(target: str, value: str, name: str | None = None) -> Judgement:
    """The judgement in the target year."""
    return judge(parse_target(target, name), read_value(value), year=2025, target_year=2025).judgement


# -------------------------------------------------------------------------------- values at a bound


@pytest.mark.parametrize(("target", "value", "expected"), [
    # at most 110, the figure included (以下)
    ("110以下", "110", A), ("110以下", "109.99", A), ("110以下", "110.01", N),
    ("110以下", "110以下", A), ("110以下", "低于110", A), ("110以下", "109以下", A),
    ("110以下", "111以下", P),  # could be 105, could be 111
    ("110以下", "110以上", P),  # 110 meets it, 111 does not
    ("110以下", "超过110", N), ("110以下", "111以上", N), ("110以下", "109以上", P),
    # below 110, the figure excluded (低于)
    ("低于110", "110", N), ("低于110", "109.99", A), ("低于110", "110.01", N),
    ("低于110", "110以下", P), ("低于110", "低于110", A), ("低于110", "109以下", A),
    ("低于110", "110以上", N), ("低于110", "超过110", N), ("低于110", "109以上", P),
    # at least 80, the figure included (≥, 以上, 不低于)
    ("≥80", "80", A), ("≥80", "79.99", N), ("≥80", "80.01", A),
    ("≥80", "80以上", A), ("≥80", "大于80", A), ("≥80", "81以上", A),
    ("≥80", "79以上", P),  # could be 85, could be 79
    ("≥80", "80以下", P),  # 80 meets it, 79 does not
    ("≥80", "低于80", N), ("≥80", "79以下", N), ("≥80", "81以下", P),
    ("不低于80", "80", A), ("80以上", "80", A), ("80%以上", "80%", A),
    # above 80, the figure excluded (大于, 超, 高于)
    ("大于80", "80", N), ("大于80", "80.01", A), ("超80", "80", N), ("高于80", "80", N),
    ("大于80", "80以上", P), ("大于80", "大于80", A), ("大于80", "81以上", A),
    ("大于80", "80以下", N), ("大于80", "低于80", N), ("大于80", "81以下", P),
])
def test_a_value_at_the_bound_and_either_side_of_it(target: str, value: str, expected: Judgement) -> None:
    assert _final(target, value) == expected


def test_a_bound_that_meets_the_target_is_achieved_early() -> None:
    verdict = judge(parse_target("110以下"), read_value("110"), year=2023, target_year=2025)
    assert (verdict.judgement, verdict.note) == (A, "达到目标值（提前达成）。")
    verdict = judge(parse_target("110以下"), read_value("110"), year=2025, target_year=2025)
    assert (verdict.judgement, verdict.note) == (A, "达到目标值。")
    verdict = judge(parse_target("110以下"), read_value("111"), year=2025, target_year=2025)
    assert (verdict.judgement, verdict.note) == (N, "2025年目标未达到。")
    verdict = judge(parse_target("110以下"), read_value("111以下"), year=2025, target_year=2025)
    assert verdict == (judge(parse_target("110以下"), read_value("111以下"), year=2026, target_year=2025))
    assert verdict.judgement == P and "只给出了范围" in verdict.note


def test_meets_answers_only_for_measurable_rules() -> None:
    assert meets(parse_target("≥80"), Reading("eq", D(80))) is True
    assert meets(parse_target("≥80"), Reading("le", D(80))) is None
    assert meets(parse_target("稳步提高"), Reading("eq", D(80))) is None
    assert meets(parse_target("80", "某项工作"), Reading("eq", D(80))) is None  # direction unknown
    assert meets(with_direction(parse_target("80", "某项工作"), Direction.HIGHER), Reading("eq", D(80))) is True


@pytest.mark.parametrize(("target", "value", "expected"), [
    ("15-20", "15", A), ("15-20", "20", A), ("15-20", "14.99", N), ("15-20", "20.01", N),
    ("15-20", "20以下", P), ("15-20", "15以上", P), ("15-20", "20以上", P), ("15-20", "15以下", P),
    ("15-20", "21以下", P), ("15-20", "14以上", P), ("15-20", "大于19", P), ("15-20", "低于16", P),
    # a bound wholly beyond one end: not achieved (at least 21, more than 20, at most 14, less than 15)
    ("15-20", "21以上", N), ("15-20", "大于20", N), ("15-20", "14以下", N), ("15-20", "低于15", N),
])
def test_a_range_includes_both_ends(target: str, value: str, expected: Judgement) -> None:
    assert _final(target, value) == expected


# -------------------------------------------------------------------------------- 不低于 as a target and as a value


def test_no_lower_than_95_as_a_target() -> None:
    rule = parse_target("不低于95")
    assert (rule.op, rule.direction, rule.low, rule.high, rule.strict, rule.review) == (
        "ge", Direction.HIGHER, D(95), None, False, False)
    assert rule.canonical_text() == "95以上" and rule.measurable and rule.figure == D(95)
    assert _final("不低于95", "95") == A and _final("不低于95", "94.9") == N


@pytest.mark.parametrize(("text", "reading"), [
    ("不低于95", Reading("ge", D(95))), ("不少于95", Reading("ge", D(95))), ("≥95", Reading("ge", D(95))),
    ("95以上", Reading("ge", D(95))), ("超过95", Reading("ge", D(95), strict=True)),
    ("大于95%", Reading("ge", D(95), strict=True)), ("不高于5", Reading("le", D(5))),
    ("≤5", Reading("le", D(5))), ("低于5", Reading("le", D(5), strict=True)), ("<5", Reading("le", D(5), strict=True)),
    ("5以内", Reading("le", D(5))), ("约95", Reading("eq", D(95))), ("达到95", Reading("eq", D(95))),
    ("95左右", Reading("eq", D(95))), ("2:3", Reading("eq", D("1.5"))),
])
def test_monitoring_values_with_their_wording(text: str, reading: Reading) -> None:
    assert read_value(text) == reading
    assert parse_value(text) == reading.value


@pytest.mark.parametrize(("target", "expected"), [
    ("95以上", A), ("≥95", A), ("不低于95", A), ("大于95", P), ("96以上", P), ("94以上", A),
    ("95以下", P), ("低于95", N), ("94以下", N),
])
def test_no_lower_than_95_as_a_value(target: str, expected: Judgement) -> None:
    assert _final(target, "不低于95") == expected


# -------------------------------------------------------------------------------- the trajectory's edges


def test_expected_at_the_start_the_target_and_beyond() -> None:
    start = Start(2020, D(70))
    assert expected_at(start, D(80), 2025, 2019) == D(70)
    assert expected_at(start, D(80), 2025, 2020) == D(70)
    assert expected_at(start, D(80), 2025, 2021) == D(72)
    assert expected_at(start, D(80), 2025, 2024) == D(78)
    assert expected_at(start, D(80), 2025, 2025) == D(80)
    assert expected_at(start, D(80), 2025, 2026) == D(80)
    assert expected_at(start, D(80), 2020, 2019) == D(80)  # a target due in the start year: no line to draw
    assert expected_at(start, D(80), 2019, 2018) == D(80)


@pytest.mark.parametrize(("target", "start", "value", "expected"), [
    # higher is better: the line from 70 (2020) to 80 (2025) is at 72 in 2021
    ("80以上", "70", "72", Judgement.ON_TRACK), ("80以上", "70", "71.99", Judgement.LAGGING),
    ("80以上", "70", "72以上", Judgement.ON_TRACK), ("80以上", "70", "大于72", Judgement.ON_TRACK),
    ("80以上", "70", "72以下", P), ("80以上", "70", "低于72", Judgement.LAGGING),
    ("80以上", "70", "71以下", Judgement.LAGGING), ("80以上", "70", "73以下", P),
    ("80以上", "70", "71以上", P), ("80以上", "70", "低于73", P),
    # lower is better: the line from 10 (2020) to 5 (2025) is at 9 in 2021
    ("5以下", "10", "9", Judgement.ON_TRACK), ("5以下", "10", "9.01", Judgement.LAGGING),
    ("5以下", "10", "9以下", Judgement.ON_TRACK), ("5以下", "10", "低于9", Judgement.ON_TRACK),
    ("5以下", "10", "9以上", P), ("5以下", "10", "超过9", Judgement.LAGGING),
    ("5以下", "10", "10以上", Judgement.LAGGING), ("5以下", "10", "8以上", P),
    ("5以下", "10", "10以下", P), ("5以下", "10", "超过8", P),
])
def test_on_track_at_the_line_and_either_side_of_it(target: str, start: str, value: str,
                                                    expected: Judgement) -> None:
    verdict = judge(parse_target(target), read_value(value), year=2021, target_year=2025, start=Start(2020, D(start)))
    assert verdict.judgement == expected
    assert verdict.expected == (D(72) if target == "80以上" else D(9))


def test_the_trajectory_verdicts_say_where_the_line_is() -> None:
    higher = judge(parse_target("80以上"), read_value("72"), year=2021, target_year=2025, start=Start(2020, D(70)))
    assert higher.note == "不低于按基期值至目标值直线推算的2021年进度值 72。"
    lower = judge(parse_target("5以下"), read_value("9"), year=2021, target_year=2025,
                  start=Start(2020, D(10), from_baseline=False))
    assert lower.note == "不高于按2020年监测值（无基期值）至目标值直线推算的2021年进度值 9。"
    lagging = judge(parse_target("80以上"), read_value("71"), year=2021, target_year=2025, start=Start(2020, D(70)))
    assert lagging.note == "落后于按基期值至目标值直线推算的2021年进度值 72。" and lagging.expected == D(72)
    unknown = judge(parse_target("80以上"), read_value("72以下"), year=2021, target_year=2025,
                    start=Start(2020, D(70)))
    assert (unknown.judgement, unknown.expected) == (P, D(72)) and "只给出了范围" in unknown.note


@pytest.mark.parametrize(("start", "value", "expected", "note"), [
    ("10", "12", Judgement.ON_TRACK, "不低于"),  # below the range: rising towards 15, the line at 11 in 2021
    ("10", "10.5", Judgement.LAGGING, "落后于"),
    ("10", "21", Judgement.LAGGING, "越过了目标区间"),  # past the far end
    ("10", "20", A, "达到目标值"),
    ("30", "27", Judgement.ON_TRACK, "不高于"),  # above the range: falling towards 20, the line at 28 in 2021
    ("30", "29", Judgement.LAGGING, "落后于"),
    ("30", "14", Judgement.LAGGING, "越过了目标区间"),
    ("17", "25", Judgement.LAGGING, "超出目标区间"),  # started inside the range and left it
    ("15", "25", Judgement.LAGGING, "超出目标区间"), ("15", "14", Judgement.LAGGING, "超出目标区间"),
    ("20", "25", Judgement.LAGGING, "超出目标区间"), ("20", "14", Judgement.LAGGING, "超出目标区间"),
    # a bound beyond the far end has overshot; one that may be at the end has not
    ("10", "21以上", Judgement.LAGGING, "越过了目标区间"), ("10", "大于20", Judgement.LAGGING, "越过了目标区间"),
    ("10", "20以上", Judgement.ON_TRACK, "不低于"), ("10", "20以下", P, "只给出了范围"),
    ("30", "14以下", Judgement.LAGGING, "越过了目标区间"), ("30", "低于15", Judgement.LAGGING, "越过了目标区间"),
    ("30", "15以下", Judgement.ON_TRACK, "不高于"), ("30", "15以上", P, "只给出了范围"),
])
def test_a_range_before_the_target_year(start: str, value: str, expected: Judgement, note: str) -> None:
    verdict = judge(parse_target("15-20"), read_value(value), year=2021, target_year=2025, start=Start(2020, D(start)))
    assert verdict.judgement == expected and note in verdict.note


def test_without_a_start_the_progress_waits_for_an_evaluator() -> None:
    for target in ("15-20", "80以上"):
        verdict = judge(parse_target(target), read_value("12"), year=2021, target_year=2025, start=None)
        assert (verdict.judgement, verdict.note) == (P, "无基期值，无法计算进度，由考核组评判。")


# -------------------------------------------------------------------------------- the largest figure


def test_a_figure_of_ten_to_the_fourteenth_is_no_reading() -> None:
    below = "99999999999999"
    assert read_value(below) == Reading("eq", D(below)) and parse_value(below) == D(below)
    assert read_value("-99999999999999") is None  # no sign in a figure as written
    for text in ("100000000000000", "100000000000000以下", "100000000000000人"):
        assert read_value(text) is None
    assert parse_value("100000000000000") is None
    assert parse_value("约合100000000000000元") is None
    assert parse_value("约合99999999999999元") == D(below)


# -------------------------------------------------------------------------------- wording at its edges


@pytest.mark.parametrize(("text", "name", "op", "direction", "figure", "strict"), [
    ("达到80", "覆盖率", "reach", Direction.HIGHER, "80", False),  # a figure to reach: the name gives the direction
    ("达到80以上", "某项工作", "ge", Direction.HIGHER, "80", False),  # 以上 makes it a bound
    ("超1500以上", None, "ge", Direction.HIGHER, "1500", False),  # 以上 includes the figure, whatever the prefix
    ("高于80", None, "ge", Direction.HIGHER, "80", True),
    ("低于5以下", None, "le", Direction.LOWER, "5", False),
    ("少于5", None, "le", Direction.LOWER, "5", True),
    ("不超过5", None, "le", Direction.LOWER, "5", False),
    ("降至5", None, "le", Direction.LOWER, "5", False),
])
def test_strict_and_inclusive_wording(text: str, name: str | None, op: str, direction: Direction, figure: str,
                                      strict: bool) -> None:
    rule = parse_target(text, name)
    assert (rule.op, rule.direction, rule.figure, rule.strict) == (op, direction, D(figure), strict)


@pytest.mark.parametrize("text", ["先降低后提高", "提高5个百分点", "降低5个百分点", "有升有降，总体降低并提高", "0:1", "0:0"])
def test_mixed_directions_and_figures_in_words_are_left_to_a_person(text: str) -> None:
    rule = parse_target(text, "某项工作")
    assert (rule.op, rule.direction, rule.review, rule.basis, rule.measurable) == (
        "qualitative", Direction.NONE, True, "unknown", False)


def test_canonical_text_of_every_kind_of_rule() -> None:
    for text, canonical in (("≥80", "80以上"), ("大于60", "大于60"), ("≤5", "5以下"), ("低于26", "低于26"),
                            ("15～20", "15-20"), ("1:1.15", "1:1.15"), ("2:2.3", "1:1.15"), ("稳步提高", "稳步提高"),
                            ("全覆盖", "全覆盖")):
        assert parse_target(text, "医护比").canonical_text() == canonical, text
    assert parse_target("78.5", "人均预期寿命").canonical_text() == "78.5"
    assert parse_target("15", "出生缺陷发生率").canonical_text() == "15"


def test_the_direction_of_a_plain_figure_and_when_to_ask() -> None:
    def told(text: str, name: str, **kw: Any) -> tuple[Direction, str, bool]:
        rule = parse_target(text, name, **kw)
        return rule.direction, rule.basis, rule.review

    assert told("95", "覆盖率") == (Direction.HIGHER, "indicator_name", False)
    assert told("4.50", "覆盖率", baseline="3.49") == (Direction.HIGHER, "indicator_name", False)  # both agree
    assert told("3.00", "覆盖率", baseline="3.49") == (Direction.HIGHER, "indicator_name", True)  # they disagree
    assert told("80", "覆盖率", baseline="80") == (Direction.HIGHER, "indicator_name", False)  # no move: no say
    assert told("80", "某项工作", baseline="80") == (Direction.NONE, "unknown", True)
    assert told("3", "某项工作", unit="家") == (Direction.HIGHER, "unit", False)
    assert told("3", "某项工作", unit="%") == (Direction.NONE, "unknown", True)
    assert infer_direction("某项工作", None, D("3.49")) == (Direction.NONE, "unknown", True)  # no target to compare
    assert infer_direction("覆盖率", None, D("3.49")) == (Direction.HIGHER, "indicator_name", False)


def test_a_planner_settles_the_direction_of_a_figure_or_ratio() -> None:
    unknown = parse_target("80", "某项工作")
    lower = with_direction(unknown, Direction.LOWER)
    assert (lower.op, lower.direction, lower.low, lower.high, lower.basis, lower.review) == (
        "reach", Direction.LOWER, None, D(80), "planner", False)
    higher = with_direction(lower, Direction.HIGHER, basis="evaluator")
    assert (higher.direction, higher.low, higher.high, higher.basis, higher.review) == (
        Direction.HIGHER, D(80), None, "evaluator", False)
    ratio = with_direction(parse_target("1.00 : 1.50", "床人比"), Direction.LOWER)
    assert (ratio.op, ratio.direction, ratio.low, ratio.basis, ratio.review) == (
        "ratio", Direction.LOWER, D("1.5"), "planner", False)
    bound = parse_target("80以上")
    assert with_direction(bound, Direction.LOWER) is bound  # a bound has its direction in its wording
    assert with_direction(parse_target("全覆盖"), Direction.HIGHER) == parse_target("全覆盖")


def test_judgements_rank_lagging_with_not_achieved_below_on_track_below_achieved() -> None:
    rank = JUDGEMENT_RANK
    assert rank[Judgement.NOT_ACHIEVED] == rank[Judgement.LAGGING] < rank[Judgement.ON_TRACK] < rank[A]
    assert Judgement.PENDING not in rank


def test_words_have_no_figure() -> None:
    for text in ("全覆盖", "暂无数据", ""):
        assert parse_value(text) is None
    assert parse_value("约合1,500元") == D(1500)  # a figure inside words, read as a last resort
