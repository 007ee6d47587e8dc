"""Printing a list: A4 landscape, no navigation or filter form, the filters as one line, the header row on
every page."""

from __future__ import annotations

from .conftest import SCREENSHOTS, login_as


def test_the_overdue_list_prints_with_its_filters_as_a_line(page) -> None:  # type: ignore[no-untyped-def]
    login_as(page, "zj_supervisor")
    page.goto("/alerts/overdue?level=severe")
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    line = page.locator(".print-filters")
    assert line.is_visible() and "预警等级：严重逾期" in line.inner_text()
    assert not page.locator(".topbar").is_visible() and not page.locator("form.filters").is_visible()
    assert page.locator("table thead").first.evaluate("e => getComputedStyle(e).display") == "table-header-group"
    SCREENSHOTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(SCREENSHOTS / "print-overdue.pdf"), prefer_css_page_size=True)
    assert pdf[:4] == b"%PDF"
