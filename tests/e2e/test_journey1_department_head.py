"""Journey 1: a department head's Monday morning, and the planner's review of the report."""

from __future__ import annotations

import re

from .conftest import login_as, shot


def _logout(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/login"))


def test_department_head_updates_work_and_report_goes_round_the_review(page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    login_as(page, "zj_head_jk")
    page.wait_for_url(re.compile(r"/workspace"))
    rows = page.locator("#workspace-tasks tbody tr")
    assert rows.count() > 3
    first_deadline = rows.nth(0).locator("td").nth(4).inner_text()
    assert "逾期" in first_deadline, "overdue work comes first"
    shot(page, "j1-01-workspace")

    # update progress on three tasks the department leads
    updated = 0
    for i in range(rows.count()):
        row = rows.nth(i)
        link = row.get_by_role("link", name="更新")
        if link.count() == 0:
            continue
        link.click()
        page.wait_for_url(re.compile(r"/status"))
        progress = page.locator("input[name=progress]")
        if progress.get_attribute("readonly") is not None:
            page.go_back()
            continue
        value = min(100, int(progress.input_value()) + 5)
        progress.fill(str(value))
        page.fill("textarea[name=note]", f"第{updated + 1}项：本周推进情况良好")
        page.get_by_role("button", name="保存").click()
        page.wait_for_url(re.compile(r"/workspace"))
        assert page.get_by_text("已更新状态和进度。").count() == 1
        updated += 1
        rows = page.locator("#workspace-tasks tbody tr")
        if updated == 3:
            break
    assert updated == 3
    shot(page, "j1-02-progress-updated")

    # mark a milestone done with an evidence note and a file
    page.locator("nav.tabs").get_by_role("link", name="节点", exact=True).click()
    page.locator("#workspace-milestones").get_by_role("link", name="办结").first.click()
    page.fill("textarea[name=evidence]", "已完成现场验收，验收意见见附件")
    evidence = tmp_path / "验收意见.pdf"
    evidence.write_bytes(b"%PDF-1.4\n%demo evidence\n")
    page.set_input_files("input[name=files]", str(evidence))
    shot(page, "j1-03-milestone-form")
    page.locator("main").get_by_role("button", name="办结").click()
    page.wait_for_selector("text=已办结")
    assert page.get_by_role("link", name="验收意见.pdf").count() == 1
    shot(page, "j1-04-milestone-done")

    # file and submit the quarterly report on the first task in the workspace
    page.goto("/workspace?role=lead")
    page.locator("#workspace-tasks tbody tr").first.get_by_role("link", name="填报").click()
    # the quarters of 2025 that have ended are on file already: this is the first half-year's report
    page.select_option("select[name=period]", "half")
    page.fill("input[name=period_year]", "2025")
    page.select_option("select[name=period_no]", "1")
    page.fill("textarea[name=achievements]", "上半年完成标准化建设评估，覆盖11个设区市")
    page.fill("textarea[name=problems]", "部分县级疾控中心设备配置滞后")
    page.fill("textarea[name=next_steps]", "12月底前完成设备采购")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_selector("text=进展填报已保存为草稿")
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("text=填报已提交")
    report_url = page.url
    shot(page, "j1-05-report-submitted")
    _logout(page)

    # the planner returns it with a reason
    login_as(page, "zj_planner")
    page.goto("/reports?state=submitted")
    assert page.get_by_text("2025年上半年").count() >= 1
    page.goto(report_url)
    page.fill("input[name=reason]", "请补充设备采购资金到位情况")
    page.get_by_role("button", name="退回").click()
    page.wait_for_selector("text=填报已退回")
    shot(page, "j1-06-report-returned")
    _logout(page)

    # the head fixes and resubmits
    login_as(page, "zj_head_jk")
    page.goto(report_url)
    assert page.get_by_text("请补充设备采购资金到位情况").count() >= 1
    page.get_by_role("link", name="修改", exact=True).click()
    page.fill("textarea[name=achievements]", "上半年完成标准化建设评估，覆盖11个设区市；设备采购资金1200万元已到位")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_selector("text=填报已保存")
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("text=填报已提交")
    _logout(page)

    # the planner confirms
    login_as(page, "zj_planner")
    page.goto(report_url)
    page.get_by_role("button", name="确认").click()
    page.wait_for_selector("text=填报已确认。")
    assert page.locator(".badge.report-confirmed").count() == 1
    shot(page, "j1-07-report-confirmed")
