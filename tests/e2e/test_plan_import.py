"""Journey 4, the fast way: the provincial planner uploads the plan document, fixes a flagged item,
assigns departments by keyword rules, confirms the draft and sees the plan with its tasks."""

from __future__ import annotations

from pathlib import Path

from ..imports.conftest import seed
from ..imports.docgen import build_docx
from .conftest import login_as, shot

TITLE = "浙江省卫生健康事业发展“十四五”规划"
IMPORTED = TITLE + "（导入稿）"


def test_planner_imports_the_provincial_plan(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    document = tmp_path / "浙江省卫生健康事业发展十四五规划.docx"
    document.write_bytes(build_docx(seed("003").read_text(encoding="utf-8"), numbering=True))
    login_as(page, "zj_planner")

    page.goto("/plans")
    page.get_by_role("link", name="导入规划文档").click()
    page.set_input_files("input[name=file]", str(document))
    shot(page, "plan-import-01-upload")
    page.get_by_role("button", name="上传并识别").click()
    page.wait_for_selector("text=已读取文档")
    counts = page.locator(".import-counts").inner_text()
    for figure in ("章\n11", "重点任务\n33", "专栏\n17", "指标\n20", "回顾表行\n16"):
        assert figure in counts, counts
    assert page.locator("#tree").get_by_text("强化公共卫生安全防控体系建设", exact=True).is_visible()
    shot(page, "plan-import-02-preview")

    # fix a flagged item: the background chapter holds no tasks; keep it, with a description
    flagged = page.locator("tr.is-unsure", has_text="发展背景")
    assert flagged.get_by_text("待核对").is_visible()
    before = int(page.locator(".import-counts .count", has_text="待核对").locator("strong").inner_text())
    page.get_by_role("link", name="编辑 一 发展背景").click()
    page.wait_for_selector("text=本章没有识别出任务")  # a narrative chapter: flagged, its headings kept as sections
    page.fill("textarea[name=description]", "回顾“十三五”时期的成效，分析“十四五”时期面临的形势。")
    shot(page, "plan-import-03-fix-item")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=已保存 一 发展背景")
    row = page.locator("tr", has_text="发展背景").first
    assert row.get_by_text("已核对").is_visible()
    after = int(page.locator(".import-counts .count", has_text="待核对").locator("strong").inner_text())
    assert after == before - 1

    # departments by keyword rules, saved for the region
    for keyword, department in (("公共卫生", "疾控处"), ("中医", "中医药管理处"), ("人才", "人事处")):
        page.fill("input[name=keyword]", keyword)
        page.select_option("select[name=department_id]", label=department)
        page.get_by_role("button", name="添加规则").click()
        page.wait_for_selector(f"text=已保存规则：含“{keyword}”")
    page.get_by_role("button", name="按规则分配").click()
    page.wait_for_selector("text=已按规则分配")
    task_row = page.locator("tr", has_text="强化公共卫生安全防控体系建设").first
    assert "疾控处" in task_row.inner_text()
    assert "中医药管理处" in page.locator("tr", has_text="健全中医医疗服务体系").first.inner_text()
    shot(page, "plan-import-04-assigned")

    # 表2 does not say which indicators are 约束性: the planner chooses before confirming (here all 预期性)
    assert page.locator("#indicators").get_by_text("未注明（请选择）").count() == 20
    page.locator("#nature-form select[name=nature]").select_option(label="预期性")
    page.get_by_role("button", name="设置未注明属性的 20 项指标").click()
    page.wait_for_selector("text=已把 20 项未注明属性的指标设为预期性指标")
    assert page.locator("#indicators").get_by_text("未注明（请选择）").count() == 0

    # confirm: the plan, its tasks and indicators in one go
    page.get_by_role("link", name="确认导入").first.click()
    assert page.input_value("input[name=title]") == TITLE
    assert page.input_value("input[name=start_year]") == "2021"
    page.fill("input[name=short_name]", "省卫健十四五（导入）")
    page.select_option("select[name=default_lead_id]", label="规划发展与信息化处")
    page.select_option("select[name=investment_unit]", label="亿元")
    page.fill("input[name=stage_date]", "2021-05-08")
    shot(page, "plan-import-05-confirm")
    page.get_by_role("button", name="确认导入").click()
    # the demo holds this plan already: a second one of the same name and period is refused, named
    page.wait_for_selector("text=本地区已有同名规划")
    shot(page, "plan-import-05b-duplicate")
    page.fill("input[name=title]", IMPORTED)
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_selector(f"text=已导入《{IMPORTED}》")
    assert page.get_by_role("heading", name=IMPORTED).count() == 1
    tree = page.locator("table.tree")
    assert tree.get_by_role("link", name="统筹安全与发展，建设强大公共卫生体系").is_visible()
    assert "疾控处" in tree.locator("tr", has_text="强化公共卫生安全防控体系建设").first.inner_text()
    assert tree.get_by_role("link", name="公共卫生体系建设").is_visible()  # 专栏1
    assert page.get_by_role("link", name="任务清单（61）").is_visible()  # 11 chapters, 33 key tasks, 17 专栏
    shot(page, "plan-import-06-plan")
    page.get_by_role("link", name="主要指标（20）").click()
    assert page.get_by_text("卫生健康数字化改革综合指数").is_visible()
    shot(page, "plan-import-07-indicators")
    assert [e for e in errors if "status of 422" not in e] == []  # the refused duplicate is a 422 page


def test_planner_round_trips_the_task_list_and_reads_the_coverage(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    from tracker.imports.tasklist import COLUMNS, HEADER_ROW, SHEET

    column = {c.key: i for i, c in enumerate(COLUMNS, start=1)}
    login_as(page, "zj_planner")
    page.goto("/plans")
    shot(page, "plan-import-08-plan-list")
    page.get_by_role("link", name="浙江省卫生健康事业发展“十四五”规划").first.click()
    with page.expect_download() as download:
        page.get_by_role("link", name="导出任务分解表").click()
    exported = tmp_path / "tasks.xlsx"
    download.value.save_as(exported)
    plan_url = page.url

    # a file with mistakes: every problem listed with its row and column, nothing imported
    wb = load_workbook(exported)
    ws = wb[SHEET]
    ws.cell(HEADER_ROW + 2, column["lead"], "不存在的处")
    ws.cell(HEADER_ROW + 3, column["deadline"], "明年")
    broken = tmp_path / "broken.xlsx"
    wb.save(broken)
    page.get_by_role("link", name="导入任务分解表").click()
    page.set_input_files("input[name=file]", str(broken))
    page.get_by_role("button", name="上传并检查").click()
    page.wait_for_selector("text=发现 2 处问题，未导入任何内容")
    assert page.locator("#problems tbody tr").count() == 2
    shot(page, "plan-import-09-tasklist-errors")

    # the exported file unchanged: nothing to change
    page.set_input_files("input[name=file]", str(exported))
    page.get_by_role("button", name="上传并检查").click()
    page.wait_for_selector("#no-changes")
    shot(page, "plan-import-10-tasklist-unchanged")
    page.get_by_role("button", name="确认（不作改动）").click()
    page.wait_for_selector("text=任务分解表已导入：新建 0 项，更新 0 项")
    assert page.url == plan_url

    page.get_by_role("link", name="覆盖情况").click()
    page.wait_for_selector("text=在下级地区的落实情况")
    summary = page.locator("table.coverage-summary").inner_text()
    assert "杭州市" in summary and "尚无规划" in summary and "温州市" in summary
    assert page.get_by_text("弱于上级").count() >= 1
    shot(page, "plan-import-11-coverage")


def test_city_planner_cascades_the_provincial_plan(page) -> None:  # type: ignore[no-untyped-def]
    login_as(page, "wz_planner")
    page.goto("/plans")
    page.get_by_role("link", name="浙江省卫生健康事业发展“十四五”规划").first.click()
    page.get_by_role("link", name="分解为本级规划").click()
    page.wait_for_selector("text=依据《浙江省卫生健康事业发展“十四五”规划》建立温州市的规划")
    page.fill("input[name=title]", "温州市卫生健康事业发展“十四五”规划（分解稿）")
    page.fill("input[name=short_name]", "温州分解稿")
    page.select_option("select[name=default_lead_id]", label="规财处")
    shot(page, "plan-import-12-cascade")
    page.get_by_role("button", name="建立规划").click()
    page.wait_for_selector("text=已依据《浙江省卫生健康事业发展“十四五”规划》建立")
    assert page.get_by_role("heading", name="温州市卫生健康事业发展“十四五”规划（分解稿）").count() == 1
    assert page.get_by_role("link", name="任务清单（42）").is_visible()  # 33 key tasks and the 9 chapters holding them
    shot(page, "plan-import-13-cascaded")
