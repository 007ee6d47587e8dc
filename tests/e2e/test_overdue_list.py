"""Journey 2, first half: the supervision office filters the overdue list and exports it to Excel."""

from __future__ import annotations

from flask import Flask
from openpyxl import load_workbook

from tracker.scheduler import run_job
from tracker.system.models import JobStatus
from tracker.timeutil import format_date

from .conftest import DOWNLOADS, login_as, shot


def test_supervisor_filters_the_overdue_list_and_exports_it(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    assert run_job(live_app, "scan").status == JobStatus.SUCCEEDED
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    login_as(page, "zj_supervisor")
    page.get_by_role("link", name="逾期清单").first.click()
    page.wait_for_selector("#overdue-table")
    assert page.locator("#level-counts").get_by_text("严重逾期").count() == 1
    shot(page, "overdue-list")

    page.select_option("select[name=plan]", label="省卫健十四五")
    page.select_option("select[name=level]", "severe")
    page.select_option("select[name=kind]", "task")
    page.fill("input[name=days_min]", "30")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(lambda url: "level=severe" in url)
    headers = [h.strip().rstrip(" ↑↓") for h in page.locator("#overdue-table thead th").all_inner_texts()]
    col = {name: headers.index(name) for name in ("预警", "类型", "编号", "任务 / 节点", "截止日期", "逾期天数")}
    rows = page.locator("#overdue-table tbody tr")
    count = rows.count()
    assert count >= 3
    shown = []
    for i in range(count):
        cells = rows.nth(i).locator("td")
        assert cells.nth(col["预警"]).inner_text().strip() == "严重逾期"
        assert cells.nth(col["类型"]).inner_text().strip() == "任务"
        days = int(cells.nth(col["逾期天数"]).get_attribute("data-days") or "0")
        assert days >= 30
        shown.append((cells.nth(col["编号"]).inner_text().strip(), cells.nth(col["任务 / 节点"]).inner_text().strip(),
                      cells.nth(col["截止日期"]).inner_text().strip(), days))
    assert [d for *_, d in shown] == sorted((d for *_, d in shown), reverse=True)  # most days overdue first
    shot(page, "overdue-list-filtered")

    with page.expect_download() as info:
        page.get_by_role("link", name="导出 Excel").click()
    download = info.value
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    target = DOWNLOADS / download.suggested_filename
    download.save_as(target)
    assert download.suggested_filename == "逾期清单_20251122.xlsx"

    sheet = load_workbook(target)["逾期清单"]
    assert "预警等级：严重逾期" in sheet["A2"].value and "逾期天数：不少于30天" in sheet["A2"].value
    exported = [(r[5], r[6], format_date(r[10]), r[11]) for r in sheet.iter_rows(min_row=4, values_only=True)]
    assert exported == shown

    # each row links to its task, which shows the same badge
    rows.first.locator("td").nth(col["任务 / 节点"]).get_by_role("link").click()
    page.wait_for_selector("#task-alerts")
    assert page.locator("#task-alerts span.alert-severe[title=任务预警]").count() == 1  # its milestones may add their own
    shot(page, "task-alert-badge")
    assert errors == []


def test_admin_calendar_and_inbox_pages_render(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    from tracker.scheduler import run_chain

    assert run_job(live_app, "scan").status == JobStatus.SUCCEEDED
    assert all(r.status == JobStatus.SUCCEEDED for r in run_chain(live_app, "reminders"))
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    login_as(page, "admin")
    page.goto("/system/calendar?year=2027")  # a year chinese-calendar does not know yet
    assert page.get_by_text("2027年节假日数据缺失").count() == 1
    page.fill("#calendar-load-form input[name=year]", "2025")
    page.get_by_role("button", name="载入").click()
    page.wait_for_selector("#calendar-days tr[data-day='2025-10-11']")
    shot(page, "system-calendar")
    page.goto("/system/jobs")
    assert page.locator("#job-runs tr.run-succeeded").count() >= 2  # scan, reminders (idle sends leave none)
    shot(page, "system-jobs")
    page.goto("/system/settings")
    shot(page, "system-settings")

    page.context.clear_cookies()
    login_as(page, "zj_head_jk")
    badge = page.locator("#inbox-link .unread")
    assert badge.inner_text() == "1"
    page.locator("#inbox-link").click()
    page.wait_for_selector("#inbox .unread-message")
    assert "督查提醒" in page.locator("#inbox .message-title").first.inner_text()
    shot(page, "inbox")
    page.get_by_role("button", name="标为已读").first.click()
    page.wait_for_selector("#inbox .message:not(.unread-message)")
    assert page.locator("#inbox-link .unread").count() == 0
    assert errors == []
