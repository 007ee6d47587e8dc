"""目标一致法: each indicator's course toward its target, as plan evaluations write it.

For an indicator and a year: the expected-pace value on the straight line from the baseline to the target
(:func:`tracker.indicators.targets.expected_at`), the latest confirmed value up to that year, a projection to
the target year from the confirmed values so far (a least-squares line through them and the baseline, from two
points on), and a five-level light:

* 提前完成 — the target is met before its year;
* 符合进度 — at or ahead of the expected pace (or met in its year);
* 基本符合 — behind, but within the evaluator's tolerance: the share of the expected progress made is at least
  ``1 - tolerance``;
* 滞后 — at least half of the expected progress made;
* 严重滞后 — less than half, or moving away from the target.

Only confirmed values count (what the evaluation judges). Targets that are not figures with a direction
(trends, words, ratios, ranges already inside) get no light: an evaluator judges them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .models import Direction
from .targets import Reading, Start, TargetRule, expected_at, meets

HALF = Decimal("0.5")
DEFAULT_TOLERANCE = Decimal("0.1")


class Light(StrEnum):
    AHEAD = "ahead"
    ON_PACE = "on_pace"
    NEAR = "near"
    BEHIND = "behind"
    FAR_BEHIND = "far_behind"
    NONE = "none"

    @property
    def label(self) -> str:
        return LIGHT_LABELS[self]


LIGHT_LABELS = {Light.AHEAD: "提前完成", Light.ON_PACE: "符合进度", Light.NEAR: "基本符合", Light.BEHIND: "滞后",
                Light.FAR_BEHIND: "严重滞后", Light.NONE: "由考核组评判"}
# Worst first, for ordering and counting.
LIGHT_ORDER = (Light.FAR_BEHIND, Light.BEHIND, Light.NEAR, Light.ON_PACE, Light.AHEAD, Light.NONE)


@dataclass(frozen=True)
class Course:
    expected: Decimal | None  # the straight line's figure for the year (进度值)
    latest: tuple[int, Decimal] | None  # (year, value): the latest confirmed figure up to the year
    projection: Decimal | None  # where the trend of the confirmed figures reaches in the target year
    light: Light
    share: Decimal | None = None  # the share of the expected progress made (1 = on the line)
    note: str = ""


def project(points: Sequence[tuple[int, Decimal]], target_year: int) -> Decimal | None:
    """The least-squares line through (year, value) points, read at ``target_year`` (two points at least)."""
    if len({year for year, _ in points}) < 2:
        return None
    n = Decimal(len(points))
    mean_x = sum(Decimal(x) for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((Decimal(x) - mean_x) ** 2 for x, _ in points)
    sxy = sum((Decimal(x) - mean_x) * (y - mean_y) for x, y in points)
    slope = sxy / sxx
    return mean_y + slope * (Decimal(target_year) - mean_x)


def _target_figure(rule: TargetRule, start: Start) -> tuple[Decimal, Direction] | None:
    """The figure to steer for, and which way: a bound's or figure's own, a range's nearer end."""
    if rule.op == "between":
        assert rule.low is not None and rule.high is not None
        if start.value < rule.low:
            return rule.low, Direction.HIGHER
        if start.value > rule.high:
            return rule.high, Direction.LOWER
        return None
    figure = rule.figure
    return (figure, rule.direction) if figure is not None else None


def course(rule: TargetRule, start: Start | None, target_year: int, year: int,
           confirmed: Sequence[tuple[int, Decimal]], tolerance: Decimal = DEFAULT_TOLERANCE) -> Course:
    """The indicator's course in ``year`` from its confirmed figures (year, value)."""
    known = sorted((y, v) for y, v in confirmed if y <= year)
    latest = known[-1] if known else None
    if not rule.measurable or rule.op == "ratio":
        return Course(None, latest, None, Light.NONE, note="目标不是带方向的数值，由考核组评判。")
    if start is None:
        return Course(None, latest, None, Light.NONE, note="无基期值，无法计算进度。")
    steer = _target_figure(rule, start)
    if steer is None:
        return Course(None, latest, None, Light.NONE, note="基期值已在目标区间内，由考核组评判。")
    target, direction = steer
    points = known if not start.from_baseline else sorted({start.year: start.value, **dict(known)}.items())
    projection = project(points, target_year)
    if projection is not None:
        projection = projection.quantize(Decimal("0.01"))
    if latest is None:
        return Course(expected_at(start, target, target_year, year), None, projection, Light.NONE,
                      note=f"无{year}年及以前已确认的监测值。")
    at_year, value = latest
    expected = expected_at(start, target, target_year, year)
    if meets(rule, Reading("eq", value)):
        light = Light.AHEAD if at_year < target_year else Light.ON_PACE
        return Course(expected, latest, projection, light, Decimal(1), "已达到目标值。")
    sign = 1 if direction == Direction.HIGHER else -1
    # the latest figure is measured against the line in its own year (a year without a figure is no better)
    planned = (expected_at(start, target, target_year, at_year) - start.value) * sign
    made = (value - start.value) * sign
    # where the line asks for nothing yet (the start year itself), holding the start is on pace
    share = made / planned if planned > 0 else Decimal(1 if made >= 0 else 0)
    if share >= 1:
        light = Light.ON_PACE
    elif share >= 1 - tolerance:
        light = Light.NEAR
    elif share >= HALF:
        light = Light.BEHIND
    else:
        light = Light.FAR_BEHIND
    note = f"完成应有进度的{_percent(share)}。"
    if projection is not None and at_year < target_year:
        reached = (projection - target) * sign >= 0
        note += f"按目前趋势，{target_year}年{'可以' if reached else '难以'}达到目标值。"
    return Course(expected, latest, projection, light, share, note)


def _percent(share: Decimal) -> str:
    return f"{(share * 100).quantize(Decimal('0.1'))}%"


def light_counts(lights: Sequence[Light]) -> dict[Light, int]:
    return {light: sum(1 for x in lights if x == light) for light in LIGHT_ORDER}
