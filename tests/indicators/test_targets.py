"""Targets as plans write them, monitoring values as people report them, and the judgement of one by the other."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from tracker.config import PROJECT_ROOT
from tracker.indicators.models import Direction, Judgement
from tracker.indicators.targets import (
    JUDGEMENT_RANK,
    Reading,
    Start,
    TargetRule,
    judge,
    parse_target,
    parse_value,
    read_value,
)

SEED_PLANS = PROJECT_ROOT / "seeds" / "plans"


# -------------------------------------------------------------------------------- every form in the plans


@pytest.mark.parametrize(
    ("text", "name", "op", "direction", "low", "high", "strict"),
    [
        ("80以上", None, "ge", Direction.HIGHER, "80", None, False),
        ("≥80", None, "ge", Direction.HIGHER, "80", None, False),
        ("≥ 80", None, "ge", Direction.HIGHER, "80", None, False),
        ("不低于80", None, "ge", Direction.HIGHER, "80", None, False),
        ("72以上", None, "ge", Direction.HIGHER, "72", None, False),
        ("90%以上", None, "ge", Direction.HIGHER, "90", None, False),
        ("１０００以上", None, "ge", Direction.HIGHER, "1000", None, False),
        ("1,500以上", None, "ge", Direction.HIGHER, "1500", None, False),
        ("大于60", None, "ge", Direction.HIGHER, "60", None, True),
        ("超1500", None, "ge", Direction.HIGHER, "1500", None, True),
        ("5以下", None, "le", Direction.LOWER, None, "5", False),
        ("8.5以下", None, "le", Direction.LOWER, None, "8.5", False),
        ("110以下", None, "le", Direction.LOWER, None, "110", False),
        ("≤5", None, "le", Direction.LOWER, None, "5", False),
        ("控制在1.6以内", None, "le", Direction.LOWER, None, "1.6", False),
        ("低于26", None, "le", Direction.LOWER, None, "26", True),
        ("降至5以下", None, "le", Direction.LOWER, None, "5", False),
        ("15-20", None, "between", Direction.RANGE, "15", "20", False),
        ("15～20", None, "between", Direction.RANGE, "15", "20", False),
        ("2~3个", None, "between", Direction.RANGE, "2", "3", False),
        ("20-15", None, "between", Direction.RANGE, "15", "20", False),
        ("1:1.15", "医护比", "ratio", Direction.HIGHER, "1.15", None, False),
        ("1.00 : 0.93", "医护比", "ratio", Direction.HIGHER, "0.93", None, False),
        ("1∶1.15", "医护比", "ratio", Direction.HIGHER, "1.15", None, False),
        ("2:2.3", "医护比", "ratio", Direction.HIGHER, "1.15", None, False),
        ("1.5床/万人", "传染病收治能力", "reach", Direction.HIGHER, "1.5", None, False),
        ("78.5", "人均预期寿命", "reach", Direction.HIGHER, "78.5", None, False),
        ("1.8左右", "总和生育率", "reach", Direction.HIGHER, "1.8", None, False),
        ("112", "出生人口性别比", "reach", Direction.LOWER, None, "112", False),
        ("15", "出生缺陷发生率", "reach", Direction.LOWER, None, "15", False),
        ("提高到85", None, "ge", Direction.HIGHER, "85", None, False),
        ("稳步提高", None, "trend", Direction.HIGHER, None, None, False),
        ("持续降低", None, "trend", Direction.LOWER, None, None, False),
        ("逐步下降", None, "trend", Direction.LOWER, None, None, False),
        ("大幅提升", None, "trend", Direction.HIGHER, None, None, False),
        ("控制在正常范围内", "出生性别比", "qualitative", Direction.NONE, None, None, False),
        ("全覆盖", None, "qualitative", Direction.NONE, None, None, False),
        ("优于全省平均水平", None, "qualitative", Direction.NONE, None, None, False),
    ],
)
def test_target_forms(text: str, name: str | None, op: str, direction: Direction, low: str | None,
                      high: str | None, strict: bool) -> None:
    rule = parse_target(text, name)
    assert (rule.op, rule.direction, rule.strict) == (op, direction, strict)
    assert rule.low == (D(low) if low else None)
    assert rule.high == (D(high) if high else None)
    assert rule.text == text.strip()


def test_qualitative_targets_are_marked_for_review() -> None:
    for text in ("控制在正常范围内", "全覆盖", "优于全省平均水平", "提高5个百分点"):
        rule = parse_target(text, "某指标")
        assert rule.op == "qualitative" and rule.review and not rule.measurable


def test_a_plain_figure_takes_its_direction_from_the_name_never_from_a_guess() -> None:
    assert parse_target("78.5", "婴儿死亡率").direction == Direction.LOWER
    assert parse_target("95", "疾控机构标准化率").direction == Direction.HIGHER
    assert parse_target("1.5", "传染病收治能力").basis == "indicator_name"
    unknown = parse_target("78.5", "某项工作")
    assert unknown.direction == Direction.NONE and unknown.review and unknown.basis == "unknown"
    assert not unknown.measurable
    assert judge(unknown, read_value("80"), year=2025, target_year=2025).judgement == Judgement.PENDING


def test_without_a_name_hint_the_baseline_or_a_count_unit_tells_the_direction() -> None:
    by_baseline = parse_target("1.00 : 1.50", "床人比", baseline="1.00 : 1.85")
    assert (by_baseline.direction, by_baseline.basis, by_baseline.review) == (Direction.LOWER, "baseline", False)
    rising = parse_target("4.50", "某项资源", baseline=D("3.49"))
    assert (rising.direction, rising.basis) == (Direction.HIGHER, "baseline")
    counted = parse_target("3", "国家优质服务基层行推荐机构", unit="家")
    assert (counted.direction, counted.basis) == (Direction.HIGHER, "unit")


def test_a_name_against_the_plans_own_numbers_asks_for_review() -> None:
    rule = parse_target("107", "出生人口性别比", baseline=D("105"))
    assert rule.direction == Direction.LOWER and rule.review


def test_every_target_in_the_seed_plans_is_understood_or_marked() -> None:
    for path in sorted(SEED_PLANS.glob("*.yaml")):
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        for item in data.get("indicators") or []:
            rule = parse_target(str(item["target"]), item["name"], unit=item.get("unit"),
                                baseline=str(item["baseline"]) if item.get("baseline") else None)
            where = f"{data['key']} #{item['number']} {item['name']} {item['target']}"
            if rule.op in ("qualitative", "trend"):
                assert not rule.measurable, where
            else:
                assert rule.direction != Direction.NONE, f"{where}: direction unknown"
                assert rule.figure is not None or rule.op == "between", where


# -------------------------------------------------------------------------------- monitoring values


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("79.47", "eq", "79.47"), ("33.08%", "eq", "33.08"), ("110以下", "le", "110"), ("95以上", "ge", "95"),
        ("80以上", "ge", "80"), ("26以下", "le", "26"), ("1:1.15", "eq", "1.15"), ("1.00 : 0.84", "eq", "0.84"),
        ("约80", "eq", "80"), ("<5", "le", "5"), ("0", "eq", "0"), ("4", "eq", "4"),
    ],
)
def test_readings(text: str, op: str, value: str) -> None:
    reading = read_value(text)
    assert reading is not None and (reading.op, reading.value) == (op, D(value))
    assert parse_value(text) == D(value)


@pytest.mark.parametrize("text", ["全覆盖", "全部", "", "   ", "暂无数据", "0:1"])
def test_words_are_not_figures(text: str) -> None:
    assert read_value(text) is None


# -------------------------------------------------------------------------------- judgement


def _j(target: str, value: str, *, name: str | None = None, year: int = 2020, target_year: int = 2020,
       start: Start | None = None) -> Judgement:
    return judge(parse_target(target, name), read_value(value), year=year, target_year=target_year,
                 start=start).judgement


# 表1 of the provincial 14th plan: the 13th plan's targets and their completion in 2020.
TABLE_1 = [
    (1, "人均预期寿命", "78.5", "79.47", Judgement.ACHIEVED),
    (2, "5岁以下儿童死亡率", "8.5以下", "3.03", Judgement.ACHIEVED),
    (3, "孕产妇死亡率", "9.5以下", "3.86", Judgement.ACHIEVED),
    (4, "居民健康素养水平", "24", "33.08", Judgement.ACHIEVED),
    (5, "总和生育率", "1.6", "1.5", Judgement.NOT_ACHIEVED),
    (6, "出生人口性别比", "112", "110以下", Judgement.ACHIEVED),
    (7, "出生缺陷发生率", "15", "9.8", Judgement.ACHIEVED),
    (8, "免费计划生育服务覆盖率", "95", "95以上", Judgement.ACHIEVED),
    (9, "每千人床位数", "6", "5.99", Judgement.NOT_ACHIEVED),
    (10, "医护比", "1:1.125", "1:1.15", Judgement.ACHIEVED),
    (11, "每万人全科医生数", "2", "4", Judgement.ACHIEVED),
    (12, "县域内就诊率", "90", "88.9", Judgement.NOT_ACHIEVED),
    (13, "责任医生规范签约服务率", "50", "45.58", Judgement.NOT_ACHIEVED),
    (14, "区域医学共享中心覆盖率", "80", "80以上", Judgement.ACHIEVED),
    (15, "智慧医疗覆盖率", "80", "80以上", Judgement.ACHIEVED),
    (16, "个人卫生支出占卫生总费用比例", "30", "26以下", Judgement.ACHIEVED),
]


@pytest.mark.parametrize(("number", "name", "target", "value", "expected"), TABLE_1)
def test_table_1_judgements(number: int, name: str, target: str, value: str, expected: Judgement) -> None:
    assert _j(target, value, name=name) == expected, f"{number}. {name}"


def test_table_1_is_the_seeded_table() -> None:
    data = yaml.safe_load((SEED_PLANS / "010-zj-13.yaml").read_text(encoding="utf-8"))
    seeded = [(i["number"], i["name"], str(i["target"]), str(i["values"][2020])) for i in data["indicators"]]
    assert seeded == [row[:4] for row in TABLE_1]


def test_a_value_written_as_a_bound_is_judged_by_its_bound() -> None:
    assert _j("112", "110以下", name="出生人口性别比") == Judgement.ACHIEVED
    assert _j("105", "110以下", name="出生人口性别比") == Judgement.PENDING  # could be 104, could be 109
    assert _j("95", "90以上", name="覆盖率") == Judgement.PENDING
    assert _j("95", "96以上", name="覆盖率") == Judgement.ACHIEVED
    assert _j("95", "94以下", name="覆盖率") == Judgement.NOT_ACHIEVED
    assert _j("低于26", "26以下") == Judgement.PENDING  # ≤ 26 does not prove < 26
    assert _j("低于26", "25.9") == Judgement.ACHIEVED
    assert _j("低于26", "26") == Judgement.NOT_ACHIEVED
    assert _j("大于60", "60") == Judgement.NOT_ACHIEVED
    assert _j("60以上", "60") == Judgement.ACHIEVED


def test_ranges_and_ratios() -> None:
    assert _j("2~3个", "1") == Judgement.NOT_ACHIEVED
    assert _j("2~3个", "2") == Judgement.ACHIEVED
    assert _j("15-20", "21") == Judgement.NOT_ACHIEVED
    assert _j("1:1.125", "1:1.10", name="医护比") == Judgement.NOT_ACHIEVED
    assert _j("1.00 : 0.93", "1.00 : 0.95", name="医护比") == Judgement.ACHIEVED
    assert _j("1.00 : 1.50", "1.00 : 1.60", name="床人比") == Judgement.PENDING  # no direction without baseline
    rule = parse_target("1.00 : 1.50", "床人比", baseline="1.00 : 1.85")
    assert judge(rule, read_value("1.00 : 1.45"), year=2025, target_year=2025).judgement == Judgement.ACHIEVED


def test_trajectory_before_the_target_year() -> None:
    start = Start(2020, D("79.47"))
    life = dict(name="人均预期寿命", target_year=2025, start=start)
    assert _j("80以上", "79.68", year=2021, **life) == Judgement.ON_TRACK  # line at 79.576
    assert _j("80以上", "79.50", year=2021, **life) == Judgement.LAGGING
    assert _j("80以上", "80.02", year=2023, **life) == Judgement.ACHIEVED
    assert _j("80以上", "79.9", year=2025, **life) == Judgement.NOT_ACHIEVED
    mortality = dict(name="孕产妇死亡率", target_year=2025, start=Start(2020, D("9")))
    assert _j("5以下", "8", year=2021, **mortality) == Judgement.ON_TRACK  # line at 8.2
    assert _j("5以下", "8.5", year=2021, **mortality) == Judgement.LAGGING
    verdict = judge(parse_target("80以上"), read_value("79.5"), year=2022, target_year=2025, start=None)
    assert verdict.judgement == Judgement.PENDING


def test_qualitative_and_trend_targets_wait_for_an_evaluator() -> None:
    assert _j("稳步提高", "85") == Judgement.PENDING
    assert _j("全覆盖", "全覆盖") == Judgement.PENDING
    assert _j("80以上", "约八成") == Judgement.PENDING


# -------------------------------------------------------------------------------- properties

figures = st.decimals(min_value=D("0.01"), max_value=D("99999"), places=2, allow_nan=False, allow_infinity=False)


@given(n=figures, form=st.sampled_from(["{n}以上", "≥{n}", "不低于{n}", "{n}%以上", "大于{n}", "{n}以下", "≤{n}",
                                        "控制在{n}以内", "低于{n}", "{n}", "{n}床/万人", "达到{n}"]),
       name=st.sampled_from(["人均预期寿命", "婴儿死亡率", "覆盖率"]))
def test_bound_and_figure_round_trip(n: D, form: str, name: str) -> None:
    text = form.format(n=n)
    rule = parse_target(text, name)
    assert rule.figure == n
    assert TargetRule.from_json(rule.to_json()) == rule
    again = parse_target(rule.canonical_text(), name)
    assert (again.op, again.direction, again.figure, again.strict) == (rule.op, rule.direction, rule.figure,
                                                                        rule.strict)


@given(a=figures, b=figures)
def test_range_and_ratio_round_trip(a: D, b: D) -> None:
    rule = parse_target(f"{a}-{b}")
    assert (rule.low, rule.high) == (min(a, b), max(a, b))
    assert parse_target(rule.canonical_text()) == TargetRule("between", Direction.RANGE, rule.canonical_text(),
                                                             rule.low, rule.high)
    ratio = parse_target(f"{a}:{b}", "医护比")
    assert ratio.low == b / a
    assert TargetRule.from_json(ratio.to_json()) == ratio
    assert read_value(f"{a}:{b}") == Reading("eq", b / a)


@given(n=figures)
def test_reading_round_trip(n: D) -> None:
    for text, op in ((f"{n}", "eq"), (f"{n}以下", "le"), (f"{n}以上", "ge"), (f"{n}%", "eq")):
        reading = read_value(text)
        assert reading is not None and (reading.op, reading.value) == (op, n)


@given(target=figures, a=figures, b=figures, year=st.integers(2021, 2026),
       start=st.one_of(st.none(), figures), form=st.sampled_from(["{t}以上", "{t}以下", "{t}", "大于{t}", "低于{t}"]),
       name=st.sampled_from(["居民健康素养水平", "孕产妇死亡率"]))
def test_numeric_judgements_are_ordered(target: D, a: D, b: D, year: int, start: D | None, form: str,
                                        name: str) -> None:
    """A better figure never gets a worse judgement (for higher- and lower-is-better alike)."""
    assume(a != b)
    rule = parse_target(form.format(t=target), name)
    assume(rule.measurable)
    worse, better = (min(a, b), max(a, b)) if rule.direction == Direction.HIGHER else (max(a, b), min(a, b))
    begin = Start(2020, start) if start is not None else None

    def rank(v: D) -> int:
        verdict = judge(rule, Reading("eq", v), year=year, target_year=2025, start=begin)
        assert verdict.judgement != Judgement.PENDING or begin is None
        return -1 if verdict.judgement == Judgement.PENDING else JUDGEMENT_RANK[verdict.judgement]

    r_worse, r_better = rank(worse), rank(better)
    if -1 not in (r_worse, r_better):
        assert r_worse <= r_better


@given(target=figures, v=figures, year=st.integers(2021, 2030))
def test_meeting_the_target_is_achieved_in_any_year(target: D, v: D, year: int) -> None:
    rule = parse_target(f"{target}以上")
    verdict = judge(rule, Reading("eq", v), year=year, target_year=2025, start=Start(2020, D(0)))
    assert (verdict.judgement == Judgement.ACHIEVED) == (v >= target)
