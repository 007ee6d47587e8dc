"""Journey 5: the leader opens the dashboard; every chart renders as SVG beside its table."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import expect

from tracker.scheduler import run_job
from tracker.system.models import JobStatus

from .conftest import SCREENSHOTS, login_as, shot

CHARTS = ("chapters", "departments", "trend", "alerts")


def test_leader_dashboard_renders_its_charts(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    assert run_job(live_app, "scan").status == JobStatus.SUCCEEDED  # alerts for the alert chart
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    login_as(page, "zj_leader")
    page.get_by_role("navigation").get_by_role("link", name="领导驾驶舱").click()
    expect(page.get_by_role("heading", name="领导驾驶舱 · 浙江省卫生健康事业发展“十四五”规划")).to_be_visible()
    for kind in CHARTS:
        page.locator(f'[data-chart="{kind}"] svg').first.wait_for()
        assert page.locator(f'[data-chart="{kind}"]').get_attribute("data-rendered") == "true"
    indicators = page.locator('[data-chart="indicator"]')
    assert indicators.count() == 19  # 20 indicators; the trend target (稳步提高) has no line to draw
    for i in range(indicators.count()):
        indicators.nth(i).locator("svg").first.wait_for()
    shot(page, "j5-01-dashboard")

    # The chart draws the table's figures.
    first_rate = page.locator("#table-chapters tbody tr").nth(2).locator("td").nth(4).inner_text().strip()
    assert first_rate.endswith("%")
    expect(page.locator('[data-chart="chapters"] svg')).to_contain_text(first_rate.replace(".0%", "%"))
    alert_rows = page.locator("#table-alerts tbody tr")
    severe = alert_rows.nth(2).locator("td").nth(1).inner_text().strip()
    assert int(severe) > 0
    expect(page.locator('[data-chart="alerts"] svg')).to_contain_text(severe)
    life = page.locator("section.indicator-panel", has_text="人均预期寿命").first
    expect(life.locator("svg")).to_contain_text("80.25")
    expect(life.locator("svg")).to_contain_text("目标 80")
    expect(life.locator("table")).to_contain_text("80.25")

    page.locator('[data-chart="trend"]').scroll_into_view_if_needed()
    shot(page, "j5-02-trend-and-alerts")
    page.locator("section.indicator-panel").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "j5-03-indicators.png"))  # the viewport: charts at full size

    page.get_by_label("选择规划").select_option(label="浙江省 · 省卫健十三五")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", name="领导驾驶舱 · 浙江省卫生与健康“十三五”规划")).to_be_visible()
    page.locator('[data-chart="indicator"] svg').first.wait_for()
    assert page.locator('[data-chart="indicator"]').count() == 16
    shot(page, "j5-04-thirteenth-plan")
    assert problems == []
