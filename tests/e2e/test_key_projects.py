"""Key projects in the browser: the planner returns this year's figure submitted early; the owner unit's head
enters it again and marks 开工 done; the planner confirms the figure; the plan's investment totals move by
exactly that amount."""

from __future__ import annotations

import re
from decimal import Decimal

from .conftest import login_as, shot


def _logout(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/login"))


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", "").strip())


def _register_totals(page) -> dict[str, Decimal]:  # type: ignore[no-untyped-def]
    return {name: _amount(page.locator(f'strong[data-total="{name}"]').inner_text())
            for name in ("total", "confirmed", "pending")}


def test_owner_enters_investment_and_marks_groundbreaking_then_planner_confirms(page) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    # the planner returns this year's figure the owner unit submitted early, and reads the register
    login_as(page, "zj_planner")
    page.goto("/plans")
    page.get_by_role("link", name="浙江省卫生健康事业发展“十四五”规划").click()
    page.get_by_role("link", name=re.compile(r"重大项目（17）")).click()
    page.get_by_role("link", name="“医学高峰”计划").click()
    page.locator("#year-2025").get_by_role("link", name="审核").click()
    page.fill("input[name=reason]", "请按新院区桩基施工进度核实后重新填报")
    page.get_by_role("button", name="退回").click()
    page.wait_for_selector("text=2025年完成投资已退回。")
    page.goto("/plans")
    page.get_by_role("link", name="浙江省卫生健康事业发展“十四五”规划").click()
    page.get_by_role("link", name=re.compile(r"重大项目（17）")).click()
    assert page.locator("#plan-investment-totals").get_by_text("另有2个项目投资待定，未计入合计").count() == 1
    tab_before = page.locator("#plan-investment-totals").inner_text()
    page.get_by_role("link", name=re.compile("查看重大项目库")).click()
    page.wait_for_selector("#project-table")
    before = _register_totals(page)
    assert page.get_by_text("注：另有2个项目投资待定，未计入合计。").count() == 1
    shot(page, "kp-01-register-before")
    _logout(page)

    # the owner unit's head (医政医管处) opens the project from the plan page
    login_as(page, "zj_head_yz")
    page.goto("/plans")
    page.get_by_role("link", name="浙江省卫生健康事业发展“十四五”规划").click()
    page.get_by_role("link", name=re.compile(r"重大项目（17）")).click()
    page.get_by_role("link", name="“医学高峰”计划").click()
    page.wait_for_selector("#investment-table")
    assert page.locator("#node-table").get_by_text("逾期22天").count() == 1
    # a planned and a completed bar for each year 2021–2025; this year's is the returned figure
    assert page.locator("svg.bar-chart rect").count() == 10
    assert page.locator("svg.bar-chart rect.bar-returned").count() == 1
    shot(page, "kp-02-project-before")

    # more than the total allows is refused next to the field
    assert page.locator("#year-2025").get_by_text("请按新院区桩基施工进度核实后重新填报").count() == 1
    page.get_by_role("link", name="填报2025年完成投资").click()
    page.fill("input[name=completed]", "140")
    page.get_by_role("button", name="提交").click()
    error = page.locator(".field-error")
    assert "超过项目总投资300亿元" in error.inner_text() and "投资调整申请" in error.inner_text()
    shot(page, "kp-03-refused-above-total")
    page.fill("input[name=completed]", "43.6")
    page.fill("textarea[name=note]", "新院区完成桩基和地下室底板施工")
    page.get_by_role("button", name="提交").click()
    page.wait_for_selector("text=2025年完成投资已提交，等待规划处确认。")
    assert page.locator("#year-2025").get_by_text("已提交").count() == 1

    # 开工 is done, with its actual date
    page.locator("#node-table tr", has_text="开工").get_by_role("link", name="办结").click()
    page.fill("input[name=completed_on]", "2025-11-18")
    page.fill("textarea[name=evidence]", "取得施工许可证，11月18日举行开工仪式")
    shot(page, "kp-04-node-form")
    page.locator("main").get_by_role("button", name="办结").click()
    page.wait_for_selector("text=节点“开工”已办结。")
    row = page.locator("#node-table tr", has_text="开工")
    assert "2025年11月18日" in row.inner_text() and "已完成" in row.inner_text()
    shot(page, "kp-05-project-after-owner")
    _logout(page)

    # the planner confirms
    login_as(page, "zj_planner")
    page.goto("/plans")
    page.get_by_role("link", name="浙江省卫生健康事业发展“十四五”规划").click()
    page.get_by_role("link", name=re.compile(r"重大项目（17）")).click()
    page.get_by_role("link", name=re.compile("查看重大项目库")).click()
    pending = _register_totals(page)
    assert pending["pending"] - before["pending"] == Decimal("43.6")
    assert pending["confirmed"] == before["confirmed"]
    page.get_by_role("link", name="“医学高峰”计划").click()
    page.locator("#year-2025").get_by_role("link", name="审核").click()
    assert "43.6" in page.locator("#inv-completed").inner_text()
    shot(page, "kp-06-review")
    page.get_by_role("button", name="确认").click()
    page.wait_for_selector("text=2025年完成投资已确认。")
    assert page.locator("#year-2025").get_by_text("已确认").count() == 1
    assert page.get_by_text("确认2025年完成投资43.6亿元").count() == 1
    shot(page, "kp-07-project-confirmed")

    # the plan's investment totals changed by exactly the confirmed figure
    page.get_by_role("link", name="重大项目库").first.click()
    page.wait_for_selector("#project-table")
    after = _register_totals(page)
    assert after["confirmed"] - before["confirmed"] == Decimal("43.6")
    assert after["pending"] == before["pending"]
    assert after["total"] == before["total"] == Decimal(893)
    year_2025 = page.locator("#year-totals tr", has_text="2025").inner_text()
    assert "43.6" in year_2025
    shot(page, "kp-08-register-after")
    page.get_by_role("link", name="返回规划").click()
    page.get_by_role("link", name=re.compile(r"重大项目（17）")).click()
    tab_after = page.locator("#plan-investment-totals").inner_text()
    assert tab_after != tab_before
    confirmed_text = re.search(r"已确认完成投资 ([\d,.]+) 亿元", tab_after).group(1)
    assert _amount(confirmed_text) == after["confirmed"]
    shot(page, "kp-09-plan-tab-after")
    # the refused entry came back as 422 on purpose; nothing else (no CSP violation) may show in the console
    assert [e for e in errors if "status of 422" not in e] == []


def test_total_raised_through_an_adjustment_request_and_the_register_form(page) -> None:  # type: ignore[no-untyped-def]
    login_as(page, "zj_head_yz")
    page.goto("/plans")
    page.get_by_role("link", name="浙江省卫生健康事业发展“十四五”规划").click()
    page.get_by_role("link", name=re.compile(r"重大项目（17）")).click()
    page.get_by_role("link", name="“医学高峰”计划").click()
    project_url = page.url
    page.get_by_role("link", name="申请调整总投资").click()
    page.fill("input[name=new_total]", "330.5")
    page.fill("textarea[name=reason]", "概算调整：新增儿童重症医学中心")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_selector("text=投资调整申请已提交，等待规划处审批。")
    _logout(page)

    login_as(page, "zj_planner")
    page.goto(project_url)
    section = page.locator("#adjustments")
    section.get_by_role("button", name="驳回").click()
    assert page.locator("#adjustments .field-error").inner_text() == "驳回须写明理由。"
    shot(page, "kp-10-adjustment-needs-reason")
    page.locator("#adjustments").get_by_role("button", name="批准").click()
    page.wait_for_selector("text=已批准投资调整申请，总投资已更新。")
    assert "330.5 亿元" in page.locator("#fact-total").inner_text()
    shot(page, "kp-11-adjustment-approved")
    page.get_by_role("link", name="维护项目库信息", exact=True).click()
    assert page.locator("input[name=total_investment]").get_attribute("readonly") is not None
    page.fill("input[name=funding_social]", "待定")
    page.fill("input[name=planned_2027]", "abc")
    page.get_by_role("button", name="保存").click()
    assert "不是有效金额" in page.locator(".form-row.has-error .field-error").inner_text()
    page.fill("input[name=planned_2027]", "70.5")
    shot(page, "kp-12-register-form")
    page.get_by_role("button", name="保存").click()
    # the figures do not agree (the cross-checks): the warnings come back with the box to acknowledge them
    page.wait_for_selector("#cross-checks")
    assert page.locator("input[name=funding_social]").input_value() == "待定"  # what was typed is kept
    shot(page, "kp-12b-register-warnings")
    page.check("input[name=acknowledge_warnings]")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=项目库信息已保存。")
    assert "社会资本 待定" in page.locator("#facts").inner_text()
