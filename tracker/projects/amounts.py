"""Investment amounts: stored exactly in 万元, read and written in the plan's unit (万元 or 亿元).

Every change of unit for entered, exported or compared amounts goes through :func:`to_wan` and
:func:`from_wan`; amounts are :class:`~decimal.Decimal` from the form to the database and back, never
floats. "待定" (to be decided) is kept apart from the number: an :class:`Entered` amount is either a
number or to-be-decided or empty.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from ..planning.models import InvestmentUnit

TBD = "待定"

# How many 万元 one unit holds.
WAN_PER_UNIT = {InvestmentUnit.WAN: Decimal(1), InvestmentUnit.YI: Decimal(10000)}

# The columns are Numeric(18, 4) in 万元: four decimal places. SQLite keeps them as 8-byte floats, which
# hold 15 significant digits exactly, so an amount has at most eleven integer digits (under 1000万亿元).
STORED_PLACES = 4
MAX_WAN = Decimal("99999999999.9999")

_NUMBER = re.compile(r"^\d+(\.\d+)?$")


class AmountError(ValueError):
    """Text that is not an acceptable amount; the message is shown next to the field."""


@dataclass(frozen=True)
class Entered:
    """An amount as a person gave it: ``wan`` in 万元, or ``tbd`` for 待定, or neither (left empty)."""

    wan: Decimal | None = None
    tbd: bool = False

    @property
    def empty(self) -> bool:
        return self.wan is None and not self.tbd


def to_wan(amount: Decimal, unit: InvestmentUnit) -> Decimal:
    """An amount in ``unit`` as 万元 (exact)."""
    return amount * WAN_PER_UNIT[unit]


def from_wan(amount: Decimal, unit: InvestmentUnit) -> Decimal:
    """An amount stored in 万元 as ``unit`` (exact: dividing by a power of ten)."""
    return amount / WAN_PER_UNIT[unit]


def places(unit: InvestmentUnit) -> int:
    """Decimal places a person may write in ``unit`` so the 万元 figure still fits four places."""
    return STORED_PLACES + (len(str(WAN_PER_UNIT[unit])) - 1)


def parse(text: str | None, unit: InvestmentUnit, *, allow_tbd: bool = False) -> Entered:
    """Read an amount written in ``unit``: digits with an optional decimal part (full-width digits and
    thousands separators are accepted), or "待定" where allowed, or nothing."""
    raw = unicodedata.normalize("NFKC", text or "").strip().replace(",", "").replace("，", "").replace(" ", "")
    if raw == "":
        return Entered()
    if raw == TBD:
        if not allow_tbd:
            raise AmountError("此处须填写具体金额，不能填“待定”。")
        return Entered(tbd=True)
    if raw.startswith("-"):
        raise AmountError("金额不能为负数。")
    if not _NUMBER.match(raw):
        hint = "数字或“待定”" if allow_tbd else "数字"
        raise AmountError(f"“{(text or '').strip()[:20]}”不是有效金额，请填写{hint}（单位：{unit.label}）。")
    amount = Decimal(raw)
    decimals = len(raw.partition(".")[2])
    if decimals > places(unit):
        raise AmountError(f"金额以{unit.label}为单位最多保留{places(unit)}位小数。")
    wan = to_wan(amount, unit)
    if wan > MAX_WAN:
        raise AmountError("金额过大，请核对单位。")
    return Entered(wan=wan.quantize(Decimal(1).scaleb(-STORED_PLACES)))


def as_text(wan: Decimal | None, unit: InvestmentUnit, *, tbd: bool = False) -> str:
    """The plain figure in ``unit`` a form shows for editing (no grouping, no trailing zeros)."""
    if tbd:
        return TBD
    if wan is None:
        return ""
    text = format(from_wan(wan, unit), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def canonical(wan: Decimal) -> str:
    """A 万元 figure as the text an adjustment request stores (old_value / new_value)."""
    return format(wan.quantize(Decimal(1).scaleb(-STORED_PLACES)), "f")


def stored(text: str | None) -> Decimal | None:
    """The 万元 figure an adjustment request stored as text (None for none or 待定)."""
    if not text or text == TBD:
        return None
    return Decimal(text)


def share(part: Decimal, whole: Decimal | None) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to one decimal place; None when there is no whole."""
    if whole is None or whole <= 0:
        return None
    return (part * 100 / whole).quantize(Decimal("0.1"))
