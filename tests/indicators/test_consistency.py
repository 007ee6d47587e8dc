"""目标一致法: the expected pace, the projection and the five-level light."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from tracker.indicators.consistency import LIGHT_ORDER, Light, course, project
from tracker.indicators.targets import Start, parse_target

RISE = parse_target("90以上", "健康素养水平")  # baseline 80 in 2020, 90 in 2025: 2 points a year
FALL = parse_target("7以下", "孕产妇死亡率")  # baseline 10 in 2020, 7 in 2025
START, FALL_START = Start(2020, D(80)), Start(2020, D(10))


def _light(value: str, year: int = 2023, rule=RISE, start=START, tolerance=D("0.1")) -> Light:  # type: ignore[no-untyped-def]
    return course(rule, start, 2025, year, [(year, D(value))], tolerance).light


def test_the_five_levels_against_the_straight_line() -> None:
    assert course(RISE, START, 2025, 2023, [(2023, D(86))]).expected == D(86)
    assert _light("90") == Light.AHEAD  # met two years early
    assert _light("86") == Light.ON_PACE and _light("87") == Light.ON_PACE
    assert _light("85.5") == Light.NEAR  # 5.5 of 6 points: 91.7 % of the way, within a tolerance of 10 %
    assert _light("85.5", tolerance=D("0.05")) == Light.BEHIND  # a stricter evaluator
    assert _light("84") == Light.BEHIND  # two thirds of the way
    assert _light("82") == Light.FAR_BEHIND and _light("79") == Light.FAR_BEHIND  # a third; and backwards
    assert _light("90", year=2025) == Light.ON_PACE  # met in its year
    assert _light("89.5", year=2025) == Light.NEAR


def test_lower_is_better_too() -> None:
    assert _light("8.2", rule=FALL, start=FALL_START) == Light.ON_PACE  # expected 8.2 in 2023
    assert _light("8.5", rule=FALL, start=FALL_START) == Light.BEHIND
    assert _light("6.9", rule=FALL, start=FALL_START) == Light.AHEAD
    assert _light("10.5", rule=FALL, start=FALL_START) == Light.FAR_BEHIND


def test_projection_is_the_trend_of_the_confirmed_values_and_the_baseline() -> None:
    assert project([(2020, D(80)), (2021, D(82)), (2022, D(84))], 2025) == D(90)
    assert project([(2022, D(84))], 2025) is None
    c = course(RISE, START, 2025, 2022, [(2021, D(81)), (2022, D(82))])
    assert c.latest == (2022, D(82)) and c.projection is not None and c.projection < 90
    assert "难以达到目标值" in c.note
    assert course(RISE, START, 2025, 2022, [(2023, D(99))]).latest is None  # later years do not count


def test_targets_without_a_direction_get_no_light() -> None:
    assert course(parse_target("稳步提高"), START, 2025, 2023, [(2023, D(85))]).light == Light.NONE
    assert course(RISE, None, 2025, 2023, [(2023, D(85))]).light == Light.NONE


@given(st.decimals(min_value=70, max_value=100, places=1), st.decimals(min_value=70, max_value=100, places=1),
       st.integers(min_value=2021, max_value=2025))
def test_a_better_figure_never_gets_a_worse_light(a: D, b: D, year: int) -> None:
    low, high = sorted((a, b))
    worse = LIGHT_ORDER.index(_light(str(low), year))
    better = LIGHT_ORDER.index(_light(str(high), year))
    assert better >= worse
