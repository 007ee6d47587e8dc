"""A value of a numeric indicator is a number in the indicator's unit; words and approximations are refused."""

from __future__ import annotations

import pytest

from tracker.indicators.targets import figure_refusal, read_value


@pytest.mark.parametrize(("text", "unit", "value"), [
    ("1450", "万人", "1450"), ("1450万人", "万人", "1450"), ("92%", "%", "92"), ("92.5％", "%", "92.5"),
    ("1,450", "人", "1450"), ("110以下", None, "110"), ("95以上", "%", "95"), ("≥95", "%", "95"),
])
def test_figures_are_accepted_and_read_alike(text: str, unit: str | None, value: str) -> None:
    assert figure_refusal(text, unit) is None
    reading = read_value(text)
    assert reading is not None and str(reading.value) == value


@pytest.mark.parametrize(("text", "unit", "message"), [
    ("约1450", "万人", "监测值“约1450”是约数"),
    ("1450左右", None, "是约数"),
    ("92%", None, "该指标没有计量单位，监测值“92%”不能带“%”"),
    ("92%", "‰", "监测值“92%”的单位“%”与指标单位“‰”不符"),
    ("约九成五", "%", "无法识别为数值"),
    ("1:1.15", "%", "是比值"),
])
def test_other_values_are_refused_with_a_reason(text: str, unit: str | None, message: str) -> None:
    refusal = figure_refusal(text, unit)
    assert refusal is not None and message in refusal, refusal


def test_ratio_indicators_take_ratios() -> None:
    assert figure_refusal("1:1.15", None, ratio=True) is None
