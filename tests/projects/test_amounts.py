"""Amounts are exact: entered in the plan's unit, kept in 万元, summed as Decimals, shown back unchanged."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.planning.models import InvestmentUnit
from tracker.projects import amounts
from tracker.projects.amounts import AmountError, Entered
from tracker.projects.figures import summarize
from tracker.projects.models import KeyProject, ProjectInvestment
from tracker.tasks.models import ReportState
from tracker.templating import money

YI, WAN = InvestmentUnit.YI, InvestmentUnit.WAN
FIXTURES_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300, deadline=None)

# Amounts a person may write: up to 8 decimal places in 亿元 (4 in 万元), below the ceiling.
yi_amounts = st.decimals(min_value=0, max_value=Decimal("9999999.99999999"), places=8, allow_nan=False,
                         allow_infinity=False)
wan_amounts = st.decimals(min_value=0, max_value=Decimal("99999999999.9999"), places=4, allow_nan=False,
                          allow_infinity=False)


@FIXTURES_OK
@given(yi_amounts)
def test_yi_round_trip_is_exact(amount: Decimal) -> None:
    entered = amounts.parse(format(amount, "f"), YI)
    assert entered.wan == amount * 10000
    assert amounts.from_wan(entered.wan, YI) == amount
    # what a form shows for editing reads back to the same stored figure
    assert amounts.parse(amounts.as_text(entered.wan, YI), YI) == entered
    # and 万元 is the same figure, just written differently
    assert amounts.parse(amounts.as_text(entered.wan, WAN), WAN) == entered


@FIXTURES_OK
@given(wan_amounts)
def test_wan_round_trip_is_exact(amount: Decimal) -> None:
    entered = amounts.parse(format(amount, "f"), WAN)
    assert entered.wan == amount
    assert amounts.to_wan(amounts.from_wan(amount, YI), YI) == amount
    assert amounts.parse(amounts.as_text(amount, YI), YI).wan == amount


@FIXTURES_OK
@given(st.lists(yi_amounts, min_size=1, max_size=30))
def test_sums_in_wan_equal_sums_in_yi(values: list[Decimal]) -> None:
    """Adding the stored 万元 figures and converting once gives exactly the sum of what was entered."""
    stored = [amounts.parse(format(v, "f"), YI).wan for v in values]
    assert amounts.from_wan(sum(stored, Decimal(0)), YI) == sum(values, Decimal(0))


@FIXTURES_OK
@given(st.lists(st.tuples(yi_amounts, st.booleans()), min_size=1, max_size=12))
def test_summary_adds_exactly_and_leaves_tbd_out(rows: list[tuple[Decimal, bool]]) -> None:
    projects = []
    for value, tbd in rows:
        wan = amounts.to_wan(value, YI)
        p = KeyProject(total_investment=None if tbd else wan, total_tbd=tbd, period_investment=wan, period_tbd=False)
        p.investments = [ProjectInvestment(year=2026, planned=wan, completed=wan, state=ReportState.CONFIRMED)]
        p.funding = []
        projects.append(p)
    s = summarize(projects)
    assert amounts.from_wan(s.total, YI) == sum((v for v, tbd in rows if not tbd), Decimal(0))
    assert amounts.from_wan(s.confirmed, YI) == sum((v for v, _ in rows), Decimal(0))
    assert s.total_tbd == s.tbd_projects == sum(1 for _, tbd in rows if tbd)
    assert (s.note is None) == (s.tbd_projects == 0)
    if s.tbd_projects:
        assert s.note == f"另有{s.tbd_projects}个项目投资待定，未计入合计"


def test_no_float_drift() -> None:
    tenth, fifth = amounts.parse("0.1", YI).wan, amounts.parse("0.2", YI).wan
    assert money(tenth + fifth, "亿元") == "0.3"
    assert amounts.from_wan(tenth + fifth, YI) == Decimal("0.3")
    assert 0.1 + 0.2 != 0.3  # what the same sum in floats would have given


@pytest.mark.parametrize(("text", "unit", "expected"), [
    ("12.5", YI, Entered(wan=Decimal("125000.0000"))),
    ("１２．５", YI, Entered(wan=Decimal("125000"))),
    ("1,234.5", WAN, Entered(wan=Decimal("1234.5"))),
    ("0.00000001", YI, Entered(wan=Decimal("0.0001"))),
    ("  ", YI, Entered()),
    ("待定", YI, Entered(tbd=True)),
])
def test_parse_accepts(text: str, unit: InvestmentUnit, expected: Entered) -> None:
    assert amounts.parse(text, unit, allow_tbd=True) == expected


@pytest.mark.parametrize(("text", "unit", "message"), [
    ("abc", YI, "不是有效金额"),
    ("-1", YI, "不能为负数"),
    ("1e3", YI, "不是有效金额"),
    ("1.2.3", YI, "不是有效金额"),
    ("0.000000001", YI, "最多保留8位小数"),
    ("1.12345", WAN, "最多保留4位小数"),
    ("100000000000", WAN, "金额过大"),
    ("待定", YI, "不能填“待定”"),
    ("NaN", YI, "不是有效金额"),
])
def test_parse_refuses_with_a_message(text: str, unit: InvestmentUnit, message: str) -> None:
    with pytest.raises(AmountError) as info:
        amounts.parse(text, unit)
    assert message in str(info.value)


def test_display_matches_the_conversion() -> None:
    for text in ("165", "4.86", "0.62", "1234.5678"):
        wan = amounts.parse(text, YI).wan
        assert money(wan, "亿元").replace(",", "") == amounts.as_text(wan, YI)
    assert money(Decimal("12345.6789"), "万元") == "12,345.6789"
    assert amounts.share(Decimal(1), Decimal(3)) == Decimal("33.3") and amounts.share(Decimal(1), None) is None
