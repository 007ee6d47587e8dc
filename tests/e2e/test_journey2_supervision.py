"""Journey 2, second half: from the overdue list to a closed case, and a deadline extension."""

from __future__ import annotations

import re

from tracker.alerts.services import scan
from tracker.db import unit_of_work
from tracker.timeutil import today

from .conftest import login_as, shot


def _logout(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/login"))


def _act(page, action: str, comment: str | None = None) -> None:  # type: ignore[no-untyped-def]
    form = page.locator("form.case-action").filter(has=page.get_by_role("button", name=action, exact=True))
    if comment is not None:
        form.locator("textarea[name=comment]").fill(comment)
    form.get_by_role("button", name=action, exact=True).click()
    page.wait_for_selector(f"text=已{action}。")


def test_case_from_overdue_list_to_closing_and_an_extension(page, live_app) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(live_app.extensions["tracker.sessions"]) as session:
        scan(session, today())

    # the supervision office picks an overdue task of 疾控处 from the overdue list
    login_as(page, "zj_supervisor")
    page.goto("/alerts/overdue")
    page.select_option("select[name=department]", label="浙江省 · 疾控处")
    page.locator("#overdue-filters").get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"department="))
    row = page.locator("#overdue-table tbody tr").filter(has=page.locator("input[name=alert_ids]")).first
    task_title = row.locator("td a").first.inner_text()
    row.locator("input[name=alert_ids]").check()
    shot(page, "j2-01-overdue-selected")
    page.get_by_role("button", name="对所选立案并下发督办单").click()
    page.wait_for_selector("text=已立案并下发")
    assert page.get_by_text(re.compile(r"督〔2025〕\d+号")).count() >= 1
    case_url = page.url
    shot(page, "j2-02-case-issued")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载督办单（Word）").click()
    assert download.value.suggested_filename.endswith(".docx")
    _logout(page)

    # the department acknowledges and files its rectification
    login_as(page, "zj_head_jk")
    assert page.get_by_text("待办督办件").count() == 1
    page.goto(case_url)
    _act(page, "签收")
    _act(page, "提交整改方案", "成立专班，12月底前完成设备采购和人员配置")
    _act(page, "提交复核", "已完成整改，设备到位")
    shot(page, "j2-03-submitted")
    _logout(page)

    # the office returns it with a reason
    login_as(page, "zj_supervisor")
    page.goto(case_url)
    _act(page, "退回", "缺少设备验收单据")
    _logout(page)

    # the department resubmits
    login_as(page, "zj_head_jk")
    page.goto(case_url)
    assert page.get_by_text("缺少设备验收单据").count() >= 1
    _act(page, "报送整改进展", "已补充验收单据")
    _act(page, "提交复核", "整改完成，附验收单据")
    _logout(page)

    # the office closes it with an outcome
    login_as(page, "zj_supervisor")
    page.goto(case_url)
    form = page.locator("form.case-action").filter(has=page.get_by_role("button", name="销号", exact=True))
    form.locator("select[name=outcome]").select_option(label="逾期整改")
    form.locator("select[name=rating]").select_option(label="4星")
    form.get_by_role("button", name="销号", exact=True).click()
    page.wait_for_selector("text=已销号。")
    assert page.get_by_text("逾期整改 · 4星").count() == 1
    shot(page, "j2-04-closed")
    page.get_by_role("link", name=task_title).first.click()
    assert page.locator("#cases").get_by_text("销号").count() >= 1
    _logout(page)

    # the department asks for a deadline extension; the planner approves it
    login_as(page, "zj_head_jk")
    page.goto("/workspace?bucket=overdue&role=lead")
    page.locator("#workspace-tasks tbody tr").first.locator("td a").first.click()
    page.get_by_role("link", name="申请调整期限").click()
    page.fill("input[name=new_date]", "2026-03-31")
    page.fill("textarea[name=reason]", "设备供货延迟，需顺延至2026年一季度")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_selector("text=调整申请已提交")
    task_url = page.url
    _logout(page)
    login_as(page, "zj_planner")
    page.goto("/adjustments/?state=pending")
    page.locator("table.grid tbody tr").first.get_by_role("link").first.click()
    page.select_option("select[name=decision]", "approve")
    page.fill("textarea[name=comment]", "同意顺延")
    page.get_by_role("button", name="提交审批").click()
    page.wait_for_selector("text=已批准，调整已生效")
    page.goto(task_url)
    assert page.get_by_text("2026年3月31日").count() >= 1
    shot(page, "j2-05-extension-approved")
