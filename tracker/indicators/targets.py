"""Targets as plans write them, understood — and monitoring values judged against them.

``parse_target("80以上")`` gives a rule: at least 80, higher is better. Forms this module knows:

* bounds: ``80以上`` ``≥80`` ``不低于80`` ``90%以上`` ``大于60`` ``超1500`` — and ``5以下`` ``≤5`` ``8.5以下``
  ``控制在1.6以内`` ``低于26``. ``以上/以下/以内`` include the figure itself (as Chinese legal usage has it);
  ``大于/超/高于/低于/小于`` and ``>``/``<`` do not (``rule.strict``).
* ranges: ``15-20`` ``2~3个`` ``15～20`` ``15%—20%`` — within the range is achieved.
* ratios: ``1:1.15`` ``1.00 : 0.93`` ``1∶1.15`` — compared as ratios (the quotient second ÷ first).
* a figure with a direction in its wording: ``提高到85`` ``降至5以下``.
* a plain figure to reach: ``78.5`` ``1.5床/万人`` ``40%`` ``1.8左右`` — the wording has no direction, so it
  comes from the indicator's name (``死亡率`` is lower-is-better, ``覆盖率`` higher-is-better), else from the
  plan's own baseline (baseline 3.49 → target 4.50 means higher), else from a count unit (``个``、``家``).
  With none of these the direction stays unknown and the rule is marked for review: nothing is guessed.
* trends: ``稳步提高`` ``持续降低`` ``逐步下降`` — direction known, judged by an evaluator against the baseline.
* anything else (``控制在正常范围内``, ``全覆盖``, ``优于全省平均水平``) is kept as written and left to an
  evaluator's judgement.

``rule.basis`` says where the direction came from and ``rule.review`` is true when a person should confirm it.

Monitoring values are read the same way (:func:`read_value`): ``79.47`` is a figure, ``110以下`` is a bound
(the true value is at most 110), ``1:1.15`` is a ratio. :func:`judge` compares a reading with a rule: achieved,
on track (against the straight line from the baseline to the target), lagging, not achieved at the target
year, or pending when only a person can tell.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from .models import Direction, Judgement

NUM = r"(\d+(?:\.\d+)?)"
_SPACES = re.compile(r"\s+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９．：∶～－＜＞％，／（）＝",
    "0123456789.::~-<>%,/()=",
)

# Direction from the indicator's name. Lower-is-better is looked up first, so "药占比" and
# "个人卫生支出占卫生总费用比例" are lower although they contain "占比" and "比例".
LOWER_IS_BETTER_HINTS = (
    "死亡率", "性别比", "个人卫生支出", "发生率", "发病率", "患病率", "感染率", "吸烟率", "肥胖率", "近视率",
    "病死率", "占卫生总费用比例", "过早死亡", "药占比", "耗占比", "自付比例", "平均住院日", "等待时间",
    "次均费用", "费用增长", "不合格率", "事故", "失访率", "流失率", "差错率",
)
HIGHER_IS_BETTER_HINTS = (
    "预期寿命", "期望寿命", "素养", "覆盖率", "覆盖面", "签约", "服务率", "管理率", "标准化率", "规范化",
    "达标率", "合格率", "监测率", "结算率", "就诊率", "接种率", "普及率", "治愈率", "控制率", "检出率",
    "知晓率", "受益率", "完成率", "使用率", "参保率", "满意度", "占比", "比例", "医护比", "生育率",
    "增长率", "指数", "托位", "床位", "医师", "医生", "护士", "人才", "卫生人员", "能力", "产值",
    "学科", "专科", "中心", "卫生院", "牵头单位", "机构数", "数",
)
# Units that count things built or reached: more is better.
COUNT_UNITS = ("个", "家", "名", "项", "所", "支", "座", "张床")

UP_WORDS = ("提高", "提升", "增长", "增加", "上升", "扩大", "增强", "加强")
DOWN_WORDS = ("降低", "下降", "减少", "缩小", "缩短")

_GE_PREFIX = r"(?:≥|>=|>|不低于|不少于|不小于|达到|超过|超|大于|高于|至少|提高到|提高至|提升到|提升至|增加到|增加至|增长到|增长至|增至|达)"
_LE_PREFIX = r"(?:≤|<=|<|控制在|不高于|不超过|不大于|小于|低于|少于|降低到|降低至|下降到|下降至|降到|降至|减少到|减少至|减至)"
_STRICT_WORDS = (">", "超过", "超", "大于", "高于", "<", "小于", "低于", "少于")
_UNIT = r"([^\d:~\-]*?)"
_GE_SUFFIX = r"(?:及以上|以上水平|以上)"
_LE_SUFFIX = r"(?:及以下|以下|以内)"
_ABOUT = r"(?:左右)?"


@dataclass(frozen=True)
class TargetRule:
    op: str  # ge | le | between | ratio | reach | trend | qualitative
    direction: Direction
    text: str
    low: Decimal | None = None
    high: Decimal | None = None
    basis: str = "wording"  # wording | indicator_name | baseline | unit | planner | unknown
    review: bool = False
    strict: bool = False  # 大于/低于…: the figure itself does not meet the target

    @property
    def measurable(self) -> bool:
        return self.op in ("ge", "le", "between", "ratio", "reach") and self.direction != Direction.NONE

    @property
    def figure(self) -> Decimal | None:
        """The one number of a bound, figure or ratio target (None for ranges and words)."""
        if self.op in ("between", "trend", "qualitative"):
            return None
        return self.low if self.low is not None else self.high

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["direction"] = self.direction.value
        data["low"] = None if self.low is None else _plain(self.low)
        data["high"] = None if self.high is None else _plain(self.high)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TargetRule:
        return cls(
            op=data["op"], direction=Direction(data["direction"]), text=data["text"],
            low=None if data.get("low") is None else Decimal(data["low"]),
            high=None if data.get("high") is None else Decimal(data["high"]),
            basis=data.get("basis", "wording"), review=bool(data.get("review")), strict=bool(data.get("strict")),
        )

    def canonical_text(self) -> str:
        """The rule written back the way plans write it (``≥80`` → ``80以上``)."""
        low = None if self.low is None else _plain(self.low)
        high = None if self.high is None else _plain(self.high)
        match self.op:
            case "ge":
                return f"大于{low}" if self.strict else f"{low}以上"
            case "le":
                return f"低于{high}" if self.strict else f"{high}以下"
            case "between":
                return f"{low}-{high}"
            case "ratio":
                return f"1:{low}"
            case "reach":
                return f"{low if low is not None else high}"
            case _:
                return self.text


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 1.1500 → 1.15, 1E+3 → 1000."""
    text = format(value.normalize(), "f")
    return text


def normalise(text: str) -> str:
    s = _SPACES.sub("", text.translate(_FULLWIDTH)).replace("≧", "≥").replace("≦", "≤")
    s = s.replace("～", "~").replace("〜", "~").replace("—", "-").replace("–", "-")
    return _THOUSANDS.sub("", s)


def _dec(value: str) -> Decimal:
    return Decimal(value)


def _direction_from_name(name: str | None) -> Direction | None:
    if not name:
        return None
    n = normalise(name)
    if any(h in n for h in LOWER_IS_BETTER_HINTS):
        return Direction.LOWER
    if any(h in n for h in HIGHER_IS_BETTER_HINTS):
        return Direction.HIGHER
    return None


def infer_direction(name: str | None, unit: str | None = None, baseline: Decimal | None = None,
                    target: Decimal | None = None) -> tuple[Direction, str, bool]:
    """(direction, basis, review) for a figure whose wording gives no direction."""
    by_name = _direction_from_name(name)
    by_baseline = None
    if baseline is not None and target is not None and baseline != target:
        by_baseline = Direction.HIGHER if target > baseline else Direction.LOWER
    if by_name is not None:
        # The name is the domain's meaning; a plan moving the other way needs a person's eye.
        return by_name, "indicator_name", by_baseline is not None and by_baseline != by_name
    if by_baseline is not None:
        return by_baseline, "baseline", False
    if unit and normalise(unit) in COUNT_UNITS:
        return Direction.HIGHER, "unit", False
    return Direction.NONE, "unknown", True


def parse_target(text: str, indicator_name: str | None = None, *, unit: str | None = None,
                 baseline: Decimal | str | None = None) -> TargetRule:
    raw = text.strip()
    s = normalise(raw)
    if isinstance(baseline, str):
        baseline = parse_value(baseline)
    try:
        rule = _parse_numeric(raw, s, indicator_name, unit, baseline)
    except InvalidOperation:
        rule = None
    if rule is not None:
        return rule
    ups = any(w in s for w in UP_WORDS)
    downs = any(w in s for w in DOWN_WORDS)
    if ups and not downs and not re.search(r"\d", s):
        return TargetRule("trend", Direction.HIGHER, raw)
    if downs and not ups and not re.search(r"\d", s):
        return TargetRule("trend", Direction.LOWER, raw)
    return TargetRule("qualitative", Direction.NONE, raw, basis="unknown", review=True)


def _parse_numeric(raw: str, s: str, name: str | None, unit: str | None,
                   baseline: Decimal | None) -> TargetRule | None:
    # ratio 1:1.15, 1.00:0.93
    if m := re.fullmatch(rf"{NUM}:{NUM}{_ABOUT}", s):
        first, second = _dec(m[1]), _dec(m[2])
        if first == 0:
            return TargetRule("qualitative", Direction.NONE, raw, review=True, basis="unknown")
        quotient = second / first
        direction, basis, review = infer_direction(name, None, baseline, quotient)
        return TargetRule("ratio", direction, raw, low=quotient, basis=basis, review=review)
    # ranges 15-20, 2~3个, 15%-20%
    if m := re.fullmatch(rf"{NUM}{_UNIT}(?:-|~|至|到){NUM}{_UNIT}", s):
        low, high = sorted((_dec(m[1]), _dec(m[3])))
        return TargetRule("between", Direction.RANGE, raw, low=low, high=high)
    # at least: 80以上, ≥80, 不低于80, 大于60, 超1500, 提高到85
    if (m := re.fullmatch(rf"({_GE_PREFIX})?{NUM}{_UNIT}{_GE_SUFFIX}", s)) or \
            (m := re.fullmatch(rf"({_GE_PREFIX}){NUM}{_UNIT}{_ABOUT}", s)):
        prefix = m[1] or ""
        strict = prefix in _STRICT_WORDS and not re.search(_GE_SUFFIX, s)
        if prefix in ("达到", "达") and not re.search(_GE_SUFFIX, s):
            return _reach(raw, _dec(m[2]), name, unit, baseline)
        return TargetRule("ge", Direction.HIGHER, raw, low=_dec(m[2]), strict=strict)
    # at most: 5以下, ≤5, 控制在1.6以内, 低于26, 降至5以下
    if (m := re.fullmatch(rf"({_LE_PREFIX})?{NUM}{_UNIT}{_LE_SUFFIX}", s)) or \
            (m := re.fullmatch(rf"({_LE_PREFIX}){NUM}{_UNIT}{_ABOUT}", s)):
        prefix = m[1] or ""
        strict = prefix in _STRICT_WORDS and not re.search(_LE_SUFFIX, s)
        return TargetRule("le", Direction.LOWER, raw, high=_dec(m[2]), strict=strict)
    # a figure to reach: 78.5, 1.5床/万人, 40%, 1.8左右
    if m := re.fullmatch(rf"{NUM}{_UNIT}{_ABOUT}", s):
        return _reach(raw, _dec(m[1]), name, unit, baseline)
    return None


def _reach(raw: str, value: Decimal, name: str | None, unit: str | None, baseline: Decimal | None) -> TargetRule:
    direction, basis, review = infer_direction(name, unit, baseline, value)
    if direction == Direction.LOWER:
        return TargetRule("reach", direction, raw, high=value, basis=basis, review=review)
    return TargetRule("reach", direction, raw, low=value, basis=basis, review=review)


def with_direction(rule: TargetRule, direction: Direction, basis: str = "planner") -> TargetRule:
    """A figure or ratio rule with its direction settled by a person."""
    value = rule.figure
    if rule.op == "reach":
        if direction == Direction.LOWER:
            return replace(rule, direction=direction, low=None, high=value, basis=basis, review=False)
        return replace(rule, direction=direction, low=value, high=None, basis=basis, review=False)
    if rule.op == "ratio":
        return replace(rule, direction=direction, basis=basis, review=False)
    return rule


# ---------------------------------------------------------------------------------------------------
# Monitoring values
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """A monitoring value as written: ``eq`` a figure, ``le`` at most, ``ge`` at least."""

    op: str  # eq | le | ge
    value: Decimal
    strict: bool = False


# Values are kept as NUMERIC(18, 4): a figure of 10^14 or more is no reading (PostgreSQL refuses to store it).
TOO_LARGE = Decimal(10) ** 14


def read_value(text: str | None) -> Reading | None:
    """``79.47`` → eq 79.47; ``110以下`` → le 110; ``95以上`` → ge 95; ``1:1.15`` → eq 1.15; words → None."""
    reading = _read(text)
    return reading if reading is None or abs(reading.value) < TOO_LARGE else None


def _read(text: str | None) -> Reading | None:
    if text is None:
        return None
    s = normalise(str(text))
    if not s:
        return None
    try:
        if m := re.fullmatch(rf"{NUM}:{NUM}", s):
            first = _dec(m[1])
            return None if first == 0 else Reading("eq", _dec(m[2]) / first)
        if m := re.fullmatch(rf"({_GE_PREFIX})?{NUM}{_UNIT}{_GE_SUFFIX}", s):
            return Reading("ge", _dec(m[2]))
        if m := re.fullmatch(rf"({_LE_PREFIX})?{NUM}{_UNIT}{_LE_SUFFIX}", s):
            return Reading("le", _dec(m[2]))
        if m := re.fullmatch(rf"(?:约|达到|为)?{NUM}{_UNIT}{_ABOUT}", s):
            return Reading("eq", _dec(m[1]))
        if m := re.fullmatch(rf"({_GE_PREFIX}){NUM}{_UNIT}", s):
            return Reading("ge", _dec(m[2]), strict=m[1] in _STRICT_WORDS)
        if m := re.fullmatch(rf"({_LE_PREFIX}){NUM}{_UNIT}", s):
            return Reading("le", _dec(m[2]), strict=m[1] in _STRICT_WORDS)
    except InvalidOperation:
        return None
    return None


# What a monitoring value of a numeric indicator may be: a figure, optionally in the indicator's unit, or a
# bound of one as the plan texts write it (110以下, 95以上, ≥95). Approximations and other units are refused.
_FIGURE = re.compile(rf"(≥|>=|>|≤|<=|<)?{NUM}(.*?)({_GE_SUFFIX}|{_LE_SUFFIX})?")
_APPROXIMATE = ("约", "左右", "大约", "近", "接近", "上下", "多")


def figure_refusal(text: str, unit: str | None, *, ratio: bool = False) -> str | None:
    """Why ``text`` is not a monitoring value of a numeric indicator in ``unit`` (None when it is one).

    Whatever this accepts, :func:`read_value` reads as the same figure (a test holds both to that)."""
    s = normalise(text)
    example = "1:1.15" if ratio else f"1450{unit or ''}、110以下、95以上"
    if ratio and re.fullmatch(rf"{NUM}:{NUM}", s):
        return None if read_value(s) is not None else f"监测值“{text}”不是有效的比值，请按“1:1.15”的格式填写。"
    if not ratio and re.fullmatch(rf"{NUM}:{NUM}", s):
        return f"监测值“{text}”是比值，该指标不按比值计，请按数字填写（如 {example}）。"
    if read_value(s) is None:
        return f"监测值“{text}”无法识别为数值，请按数字填写（如 {example}）。"
    if any(word in s for word in _APPROXIMATE):
        return f"监测值“{text}”是约数。监测值须为确切的数值，请填写统计数（如 {example}）。"
    m = _FIGURE.fullmatch(s)
    if m is None or (m[1] and m[4]):
        return f"监测值“{text}”无法识别为数值，请按数字填写（如 {example}）。"
    written, own = m[3], normalise(unit or "")
    if written and written != own:
        if own:
            return f"监测值“{text}”的单位“{written}”与指标单位“{unit}”不符，请按{unit}填写数值（如 {example}）。"
        return f"该指标没有计量单位，监测值“{text}”不能带“{written}”，请只填写数值（如 {example}）。"
    return None


def parse_value(text: str) -> Decimal | None:
    """The number in a monitoring value as written (``79.47``, ``110以下``, ``33.08%``, ``1:1.15``), or None."""
    reading = read_value(text)
    if reading is not None:
        return reading.value
    s = normalise(text)
    m = re.search(NUM, s)
    if m is None:
        return None
    try:
        value = _dec(m[1])
    except InvalidOperation:
        return None
    return value if abs(value) < TOO_LARGE else None


# ---------------------------------------------------------------------------------------------------
# Judgement
# ---------------------------------------------------------------------------------------------------

# How good a judgement is, for ordering: lagging and not achieved are the worst, achieved the best.
JUDGEMENT_RANK = {Judgement.NOT_ACHIEVED: 0, Judgement.LAGGING: 0, Judgement.ON_TRACK: 1, Judgement.ACHIEVED: 2}


@dataclass(frozen=True)
class Verdict:
    judgement: Judgement
    note: str
    expected: Decimal | None = None  # the trajectory's figure for the year, where there is one


@dataclass(frozen=True)
class Start:
    """Where the straight-line trajectory starts: the baseline, or the first monitoring value."""

    year: int
    value: Decimal
    from_baseline: bool = True


# Wide enough for any figure a person types; a figure beyond it (1e999) is shown as it is, unrounded.
_WIDE = Context(prec=100)


def rounded(value: Decimal, places: int = 4) -> Decimal:
    """``value`` to ``places`` decimals — the one rounding of figures for people to read."""
    if not value.is_finite() or value.adjusted() > 90:
        return value
    return value.quantize(Decimal(1).scaleb(-places), context=_WIDE)


def _num(value: Decimal) -> str:
    return _plain(rounded(value))


def expected_at(start: Start, target: Decimal, target_year: int, year: int) -> Decimal:
    """The straight-line trajectory from ``start`` to ``target`` at ``year``."""
    if target_year <= start.year or year >= target_year:
        return target
    if year <= start.year:
        return start.value
    return start.value + (target - start.value) * Decimal(year - start.year) / Decimal(target_year - start.year)


def _beyond(rule: TargetRule, r: Reading, *, above: bool) -> bool:
    """Does the reading lie wholly beyond the range's upper end (``above``) or its lower end? ``21以上`` does for
    ``15-20``; ``20以上`` may be 20 itself."""
    assert rule.low is not None and rule.high is not None
    if above:
        return r.op in ("eq", "ge") and (r.value > rule.high or (r.op == "ge" and r.strict and r.value == rule.high))
    return r.op in ("eq", "le") and (r.value < rule.low or (r.op == "le" and r.strict and r.value == rule.low))


def _meets(rule: TargetRule, r: Reading) -> bool | None:
    """Does the reading meet the target? None when a bound cannot tell."""
    if rule.op == "between":
        assert rule.low is not None and rule.high is not None
        if r.op == "eq":
            return rule.low <= r.value <= rule.high
        return False if _beyond(rule, r, above=True) or _beyond(rule, r, above=False) else None
    target = rule.figure
    assert target is not None
    if rule.direction == Direction.HIGHER:
        if r.op == "eq":
            return r.value > target if rule.strict else r.value >= target
        if r.op == "ge":  # the value is at least r.value
            return True if (r.value > target or (r.value == target and (not rule.strict or r.strict))) else None
        return False if (r.value < target or (r.value == target and (rule.strict or r.strict))) else None
    # lower is better
    if r.op == "eq":
        return r.value < target if rule.strict else r.value <= target
    if r.op == "le":  # the value is at most r.value
        return True if (r.value < target or (r.value == target and (not rule.strict or r.strict))) else None
    return False if (r.value > target or (r.value == target and (rule.strict or r.strict))) else None


def meets(rule: TargetRule, reading: Reading) -> bool | None:
    """Does the reading meet a measurable target? None when a bound cannot tell (or the rule is not numeric)."""
    if not rule.measurable:
        return None
    return _meets(rule, reading)


def _ahead(direction: Direction, r: Reading, expected: Decimal) -> bool | None:
    """Is the reading at or ahead of the trajectory? None when a bound cannot tell."""
    if direction == Direction.HIGHER:
        if r.op in ("eq", "ge") and r.value >= expected:
            return True
        if r.op in ("eq", "le") and (r.value < expected or (r.op == "le" and r.strict and r.value == expected)):
            return False
        return None
    if r.op in ("eq", "le") and r.value <= expected:
        return True
    if r.op in ("eq", "ge") and (r.value > expected or (r.op == "ge" and r.strict and r.value == expected)):
        return False
    return None


def judge(rule: TargetRule, reading: Reading | None, *, year: int, target_year: int,
          start: Start | None = None) -> Verdict:
    """Judge one year's value against the target and the straight-line trajectory to it."""
    if rule.op in ("trend", "qualitative"):
        return Verdict(Judgement.PENDING, "定性或趋势目标，由考核组评判。")
    if rule.direction == Direction.NONE:
        return Verdict(Judgement.PENDING, "目标值的方向无法从表述、指标名称或基期值判断，由考核组评判。")
    if reading is None:
        return Verdict(Judgement.PENDING, "监测值无法按数值读取，由考核组评判。")
    meets = _meets(rule, reading)
    if meets:
        early = "（提前达成）" if year < target_year else ""
        return Verdict(Judgement.ACHIEVED, f"达到目标值{early}。")
    if meets is None and year >= target_year:
        return Verdict(Judgement.PENDING, "监测值只给出了范围，无法判断是否达到目标值，由考核组评判。")
    if year >= target_year:
        return Verdict(Judgement.NOT_ACHIEVED, f"{target_year}年目标未达到。")
    # Before the target year: compare with the trajectory.
    direction = rule.direction
    if rule.op == "between":
        assert rule.low is not None and rule.high is not None
        if start is None:
            return Verdict(Judgement.PENDING, "无基期值，无法计算进度，由考核组评判。")
        if start.value < rule.low:
            direction, target = Direction.HIGHER, rule.low
        elif start.value > rule.high:
            direction, target = Direction.LOWER, rule.high
        else:
            return Verdict(Judgement.LAGGING, "监测值超出目标区间。")
        if _beyond(rule, reading, above=direction == Direction.HIGHER):
            return Verdict(Judgement.LAGGING, "监测值越过了目标区间。")
    else:
        target = rule.figure  # type: ignore[assignment]
        assert target is not None
    if start is None:
        return Verdict(Judgement.PENDING, "无基期值，无法计算进度，由考核组评判。")
    expected = expected_at(start, target, target_year, year)
    ahead = _ahead(direction, reading, expected)
    origin = "基期值" if start.from_baseline else f"{start.year}年监测值（无基期值）"
    if ahead is None:
        return Verdict(Judgement.PENDING, "监测值只给出了范围，无法判断进度，由考核组评判。", expected)
    if ahead:
        return Verdict(Judgement.ON_TRACK, f"不低于按{origin}至目标值直线推算的{year}年进度值 {_num(expected)}。"
                       if direction == Direction.HIGHER else
                       f"不高于按{origin}至目标值直线推算的{year}年进度值 {_num(expected)}。", expected)
    return Verdict(Judgement.LAGGING, f"落后于按{origin}至目标值直线推算的{year}年进度值 {_num(expected)}。",
                   expected)
