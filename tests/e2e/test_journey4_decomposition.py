"""Journey 4 by hand: the provincial planner drafts the next plan, a chapter, a key task with lead and
co-operating departments, splits it into annual tasks, adds a milestone and sees the tree."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import login_as, shot

PLAN = "浙江省卫生健康事业发展“十五五”规划"
CHAPTER = "全方位推进健康浙江建设"
KEY_TASK = "完善重大疫情监测预警体系"


def test_planner_decomposes_a_new_plan(page) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login_as(page, "zj_planner")

    # the plan
    page.goto("/plans")
    page.get_by_role("link", name="新建规划").click()
    page.fill("input[name=title]", PLAN)
    page.fill("input[name=short_name]", "省卫健十五五")
    page.fill("input[name=start_year]", "2026")
    page.fill("input[name=end_year]", "2030")
    page.fill("input[name=issuing_body]", "浙江省人民政府办公厅")
    page.select_option("select[name=investment_unit]", label="亿元")
    page.select_option("select[name=stage]", label="起草")  # drafted ahead of its period: no 文号 yet
    page.fill("input[name=stage_date]", "2025-11-03")
    page.fill("textarea[name=description]", "围绕健康浙江建设，部署“十五五”时期卫生健康重点任务。")
    shot(page, "journey4-01-new-plan-form")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=已新建规划")
    assert page.get_by_role("heading", name=PLAN).count() == 1
    assert page.get_by_text("该规划还没有任务。").count() == 1
    plan_url = page.url

    # a chapter
    page.get_by_role("link", name="新增章").click()
    assert page.input_value("input[name=code]") == "一"
    expect(page.locator("[data-annual-only]")).to_be_hidden()  # the page's script hides it once it has run
    page.fill("input[name=title]", CHAPTER)
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector(f"text=已新建章 一 {CHAPTER}")

    # a key task in the chapter with lead and co-operating departments
    page.get_by_role("link", name="新增重点任务").click()
    chapter_option = page.locator("select[name=parent_id] option", has_text=CHAPTER)
    page.select_option("select[name=parent_id]", value=chapter_option.get_attribute("value"))
    assert page.input_value("select[name=level]") == "key_task"
    page.fill("input[name=code]", "1")
    page.fill("input[name=title]", KEY_TASK)
    page.fill("textarea[name=description]", "建设智慧化多点触发监测预警平台，健全传染病和突发公共卫生事件报告网络。")
    page.select_option("select[name=lead_department_id]", label="疾控处")
    page.get_by_label("省疾病预防控制中心", exact=True).check()
    page.get_by_label("应急办", exact=True).check()
    page.get_by_label("省卫生健康信息中心", exact=True).check()
    page.fill("input[name=responsible_person]", "林志刚")
    page.fill("input[name=start_date]", "2026-01-01")
    page.fill("input[name=deadline]", "2030-06-30")
    shot(page, "journey4-02-key-task-form")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector(f"text=已新建重点任务 1 {KEY_TASK}")
    facts = page.locator("section.facts").inner_text()
    assert "疾控处" in facts and "省疾病预防控制中心" in facts and "应急办" in facts and "林志刚" in facts
    assert "2030年6月30日" in facts

    # split into annual tasks for each year of the plan, each with a year-end milestone
    page.get_by_role("link", name="拆分为年度任务").click()
    for year in range(2026, 2031):
        assert page.get_by_label(f"{year}年", exact=True).is_checked()
    assert page.input_value("select[name=lead_department_id]") == page.locator(
        "select[name=lead_department_id] option", has_text="疾控处").first.get_attribute("value")
    assert page.get_by_label("应急办", exact=True).is_checked()
    page.fill("input[name=title]", "监测预警体系建设")
    assert page.get_by_label("每项年度任务添加年末节点").is_checked()
    page.fill("input[name=milestone_title]", "完成年度建设目标")
    shot(page, "journey4-03-split-form")
    page.get_by_role("button", name="拆分").click()
    page.wait_for_selector("text=已拆分为 5 项年度任务：1.1、1.2、1.3、1.4、1.5。")
    children = page.locator("section.card", has=page.locator("h2", has_text="下级任务")).inner_text()
    for year in range(2026, 2031):
        assert f"{year}年度监测预警体系建设" in children
    assert "2030年6月30日" in children  # the last year ends with the key task
    shot(page, "journey4-04-key-task-with-annual-tasks")

    # one more milestone on the 2027 annual task
    page.get_by_role("link", name="2027年度监测预警体系建设").click()
    page.wait_for_selector("text=完成年度建设目标")
    page.get_by_role("link", name="管理节点").click()
    page.fill("#milestone-form input[name=title]", "完成省级监测预警平台上线")
    page.fill("#milestone-form input[name=due_date]", "2027-06-30")
    page.get_by_role("button", name="添加节点").click()
    page.wait_for_selector("text=已添加节点“完成省级监测预警平台上线”。")
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 2
    assert "2027年6月30日" in rows.nth(0).inner_text() and "2027年12月31日" in rows.nth(1).inner_text()
    shot(page, "journey4-05-milestones")

    # a date after the task's deadline is not accepted by the form (the server refuses it as well)
    page.fill("#milestone-form input[name=title]", "年后验收")
    page.fill("#milestone-form input[name=due_date]", "2028-01-15")
    page.get_by_role("button", name="添加节点").click()
    assert page.locator("#milestone-form input[name=due_date]").evaluate("el => el.validity.rangeOverflow")
    assert page.locator("table.grid tbody tr").count() == 2

    # the whole tree on the plan page
    page.goto(plan_url)
    tree = page.locator("table.tree tbody")
    codes = [c.strip() for c in tree.locator("td.code").all_inner_texts()]
    assert codes == ["一", "1", "1.1", "1.2", "1.3", "1.4", "1.5"]
    assert tree.locator("tr.level-chapter").inner_text().startswith("一")
    assert "疾控处" in tree.locator("tr.level-key_task").inner_text()
    assert page.get_by_role("link", name="任务清单（7）").count() == 1
    assert page.get_by_text("起草").first.is_visible()
    shot(page, "journey4-06-plan-tree")
    assert errors == []


def test_planner_adds_an_indicator_and_sees_the_target_understood(page) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login_as(page, "zj_planner")
    page.goto("/plans")
    page.get_by_role("link", name="浙江省卫生健康事业发展“十四五”规划").click()
    page.get_by_role("link", name="管理指标").click()
    assert page.get_by_text("不低于 80岁（越高越好）。").count() == 1  # 人均预期寿命 80以上
    page.get_by_role("link", name="新增指标").click()
    assert page.input_value("input[name=number]") == "21"

    # the understanding follows what the planner types
    page.fill("input[name=name]", "新生儿死亡率")
    page.fill("input[name=unit]", "‰")
    page.fill("input[name=target_text]", "2.5以下")
    page.wait_for_selector("#target-understood >> text=不高于 2.5‰（越低越好）。")
    page.fill("input[name=target_text]", "2.5")
    page.wait_for_selector("#target-understood >> text=方向依据指标名称判断")
    page.select_option("select[name=direction]", label="越高越好")
    page.wait_for_selector("#target-understood >> text=方向已由规划处确认")
    page.select_option("select[name=direction]", label="按目标值自动识别")
    page.fill("input[name=target_text]", "2.5以下")
    page.fill("input[name=category]", "健康水平")
    page.fill("input[name=baseline_text]", "1.2")
    page.select_option("select[name=nature]", label="预期性")
    page.select_option("select[name=lead_department_id]", label="妇幼健康处")
    page.fill("input[name=number]", "1")  # taken: refused next to the field
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector(".field-error")
    assert "序号 1 已被指标“人均预期寿命”使用。" in page.locator(".form-row.has-error").inner_text()
    assert "不高于 2.5‰（越低越好）。" in page.locator("#target-understood").inner_text()
    shot(page, "journey4-07-indicator-refused")
    page.fill("input[name=number]", "21")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=系统理解的目标：不高于 2.5‰（越低越好）。")
    row = page.locator("table.grid tbody tr", has_text="新生儿死亡率")
    assert "2.5以下" in row.inner_text() and "妇幼健康处" in row.inner_text()
    shot(page, "journey4-08-indicators")
    # the refused save came back as 422, which Chromium reports; nothing else went wrong
    assert [e for e in errors if "status of 422" not in e] == []
