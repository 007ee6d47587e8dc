"""Figures read with the decimals their indicator is written with, not four."""

from __future__ import annotations

from types import SimpleNamespace

from tracker.indicators.services import figure, places_of


def test_an_indicators_figures_keep_the_decimals_it_is_written_with() -> None:
    life = SimpleNamespace(baseline_text="79.47", target_text="80以上")
    beds = SimpleNamespace(baseline_text="6.0", target_text="7")
    share = SimpleNamespace(baseline_text="90", target_text="95")
    assert places_of(life) == 2 and places_of(beds) == 1 and places_of(share) == 1
    assert figure("79.99333333", places_of(life)) == "79.99"
    assert figure("92.5000", places_of(share)) == "92.5"
    assert figure("93", places_of(share)) == "93"
    assert places_of(SimpleNamespace(baseline_text=None, target_text="0.123456")) == 4


def test_a_huge_figure_is_shown_not_refused_with_a_500() -> None:
    """A target typed as 1000000000000000000000000000000 once broke the rounding (precision 28)."""
    from decimal import Decimal

    from tracker.indicators.targets import parse_target
    from tracker.planning.indicators import explain

    huge = "1000000000000000000000000000000"
    assert figure(Decimal(huge)) == huge
    assert huge in explain(parse_target(huge, "床位数", unit="张"), "张")
