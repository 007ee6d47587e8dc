"""Targets as plans write them, understood.

``parse_target("80以上")`` gives a rule: at least 80, higher is better. Forms this module knows:

* bounds: ``80以上`` ``≥80`` ``不低于80`` ``5以下`` ``≤5`` ``控制在1.6以内`` ``低于…`` ``90%以上``
* ranges: ``15-20`` ``2~3个`` ``15～20``
* ratios: ``1:1.15`` ``1.00 : 0.93`` (compared as the quotient second/first)
* a plain figure to reach: ``78.5`` ``1.5床/万人`` ``40`` — the direction then comes from the indicator's name
  (``死亡率`` is lower-is-better) and the rule says so; without a hint it is marked for review
* trends: ``稳步提高`` ``持续降低`` ``逐步下降`` — direction known, judged by an evaluator against the baseline
* anything else (``控制在正常范围内``, ``全覆盖``) is kept as written and left to an evaluator's judgement.

The parser never guesses silently: ``rule["basis"]`` says where the direction came from and
``rule["review"]`` is true when a person should confirm it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .models import Direction

NUM = r"(\d+(?:\.\d+)?)"
_SPACES = re.compile(r"\s+")
_FULLWIDTH = str.maketrans("０１２３４５６７８９．：～－＜＞％", "0123456789.:~-<>%")

LOWER_IS_BETTER_HINTS = (
    "死亡率", "性别比", "个人卫生支出", "发生率", "患病率", "感染率", "吸烟率", "肥胖率", "近视率",
    "病死率", "报告率", "占卫生总费用比例",
)

UP_WORDS = ("提高", "提升", "增长", "增加", "上升", "扩大")
DOWN_WORDS = ("降低", "下降", "减少", "缩小")


@dataclass(frozen=True)
class TargetRule:
    op: str  # ge | le | between | ratio | reach | trend | qualitative
    direction: Direction
    text: str
    low: Decimal | None = None
    high: Decimal | None = None
    basis: str = "wording"  # wording | indicator_name | unknown
    review: bool = False

    @property
    def measurable(self) -> bool:
        return self.op in ("ge", "le", "between", "ratio", "reach") and self.direction != Direction.NONE

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["direction"] = self.direction.value
        data["low"] = None if self.low is None else str(self.low)
        data["high"] = None if self.high is None else str(self.high)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TargetRule:
        return cls(
            op=data["op"], direction=Direction(data["direction"]), text=data["text"],
            low=None if data.get("low") is None else Decimal(data["low"]),
            high=None if data.get("high") is None else Decimal(data["high"]),
            basis=data.get("basis", "wording"), review=bool(data.get("review")),
        )


def normalise(text: str) -> str:
    return _SPACES.sub("", text.translate(_FULLWIDTH)).replace("≧", "≥").replace("≦", "≤")


def _dec(value: str) -> Decimal:
    return Decimal(value)


def _direction_from_name(name: str | None) -> tuple[Direction, str, bool]:
    if name and any(h in name for h in LOWER_IS_BETTER_HINTS):
        return Direction.LOWER, "indicator_name", False
    if name:
        return Direction.HIGHER, "indicator_name", True
    return Direction.NONE, "unknown", True


def parse_target(text: str, indicator_name: str | None = None) -> TargetRule:
    raw = text.strip()
    s = normalise(raw)
    try:
        # ratio 1:1.15
        if m := re.fullmatch(rf"{NUM}:{NUM}", s):
            first, second = _dec(m[1]), _dec(m[2])
            if first == 0:
                return TargetRule("qualitative", Direction.NONE, raw, review=True, basis="unknown")
            direction, basis, review = _direction_from_name(indicator_name)
            return TargetRule("ratio", direction, raw, low=second / first, basis=basis, review=review)
        # ranges 15-20, 2~3个
        if m := re.fullmatch(rf"{NUM}(?:[-~—至到]){NUM}([^\d]*)", s):
            low, high = sorted((_dec(m[1]), _dec(m[2])))
            return TargetRule("between", Direction.RANGE, raw, low=low, high=high)
        # at least
        if m := re.fullmatch(rf"(?:≥|>=|>|不低于|不少于|达到|超过|大于)?{NUM}[^\d]*?(?:以上|及以上|以上水平)", s) or \
                re.fullmatch(rf"(?:≥|>=|>|不低于|不少于|超过|大于){NUM}[^\d]*", s):
            return TargetRule("ge", Direction.HIGHER, raw, low=_dec(m[1]))
        # at most
        if m := re.fullmatch(rf"(?:≤|<=|<|控制在|低于|不高于|不超过|小于)?{NUM}[^\d]*?(?:以下|以内|及以下)", s) or \
                re.fullmatch(rf"(?:≤|<=|<|低于|不高于|不超过|小于|控制在){NUM}[^\d]*", s):
            return TargetRule("le", Direction.LOWER, raw, high=_dec(m[1]))
        # a figure to reach: 78.5, 1.5床/万人, 40%
        if m := re.fullmatch(rf"(?:达到)?{NUM}([^\d:~\-]*)", s):
            direction, basis, review = _direction_from_name(indicator_name)
            value = _dec(m[1])
            if direction == Direction.LOWER:
                return TargetRule("reach", direction, raw, high=value, basis=basis, review=review)
            return TargetRule("reach", direction, raw, low=value, basis=basis, review=review)
    except InvalidOperation:
        pass
    if any(w in s for w in UP_WORDS) and not any(w in s for w in DOWN_WORDS):
        return TargetRule("trend", Direction.HIGHER, raw)
    if any(w in s for w in DOWN_WORDS) and not any(w in s for w in UP_WORDS):
        return TargetRule("trend", Direction.LOWER, raw)
    return TargetRule("qualitative", Direction.NONE, raw, basis="unknown", review=True)


def parse_value(text: str) -> Decimal | None:
    """The number in a monitoring value as written (``79.47``, ``110以下``, ``33.08%``), or None."""
    s = normalise(text)
    if m := re.fullmatch(rf"{NUM}:{NUM}", s):
        first = _dec(m[1])
        return None if first == 0 else _dec(m[2]) / first
    m = re.search(NUM, s)
    if m is None:
        return None
    try:
        return _dec(m[1])
    except InvalidOperation:
        return None
