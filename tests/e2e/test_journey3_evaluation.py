"""Journey 3: the evaluator runs the annual evaluation for last year, reviews the ranking and the indicator
table, adjusts one score with a reason, locks it and downloads the workbook and the printable report."""

from __future__ import annotations

import re
from decimal import Decimal

from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import expect

from .conftest import DOWNLOADS, login_as, shot


def test_evaluator_adjusts_locks_and_exports(page) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login_as(page, "zj_evaluator")
    page.get_by_role("navigation").get_by_role("link", name="考核评估").click()
    expect(page.get_by_role("heading", name="考核评估", exact=True)).to_be_visible()
    shot(page, "j3-01-evaluations")

    page.get_by_role("link", name="开展考核评估").click()
    page.get_by_label("规划", exact=True).select_option(label="浙江省卫生健康事业发展“十四五”规划（2021—2025年）")
    page.get_by_label("考核类型").select_option("annual")
    page.get_by_label("考核年度").fill("2024")
    shot(page, "j3-02-run-form")
    page.get_by_role("button", name="开始计算").click()
    expect(page.get_by_role("heading", name=re.compile("2024年年度监测"))).to_be_visible()
    expect(page.get_by_text("已完成2024年年度监测计算")).to_be_visible()
    rows = page.locator("#department-scores tbody tr")
    assert rows.count() >= 10
    ranks = [rows.nth(i).locator("td").first.inner_text().strip() for i in range(rows.count())]
    # equal scores share a rank: "并列第1" for each of them, then the next rank after the tie
    # a department with nothing to score in the year comes last, unranked
    ranked = [r for r in ranks if r != "—"]
    assert ranks[len(ranked):] == ["—"] * (len(ranks) - len(ranked))
    assert all("不参与评分" in rows.nth(i).inner_text() for i in range(len(ranked), len(ranks)))
    numbers = [int(re.sub(r"\D", "", r)) for r in ranked if re.fullmatch(r"(并列第)?\d+", r)]
    assert len(numbers) == len(ranked) >= 10 and numbers == sorted(numbers) and numbers[0] == 1
    tied = [r for r in ranks if r.startswith("并列第")]
    assert all(ranks.count(r) >= 2 for r in tied)
    shot(page, "j3-03-ranking")

    page.get_by_role("link", name="指标完成情况").click()
    table = page.locator("#indicator-results")
    expect(table.get_by_role("row", name=re.compile("人均预期寿命.*80以上.*80.25.*已达成"))).to_be_visible()
    expect(table.get_by_role("row", name=re.compile("国家级卫生人才数.*350.*326.*滞后"))).to_be_visible()
    shot(page, "j3-04-indicators")

    page.get_by_role("link", name=re.compile("部门考核")).click()
    scored = [i for i in range(rows.count()) if rows.nth(i).locator("td").first.inner_text().strip().isdigit()]
    last = rows.nth(scored[-1])
    department = last.locator("td").nth(1).inner_text().strip()
    headers = [h.strip() for h in page.locator("#department-scores thead th").all_inner_texts()]
    before = last.locator("td").nth(headers.index("计算得分")).inner_text().strip()
    page.get_by_role("link", name=f"调整{department}得分").click()
    expect(page.get_by_role("heading", name=f"调整得分：{department}")).to_be_visible()
    page.get_by_label("调整后得分").fill("65")
    page.get_by_role("button", name="保存调整").click()
    expect(page.get_by_text("调整得分须写明理由。")).to_be_visible()
    shot(page, "j3-05-reason-required")
    page.get_by_label("调整理由").fill("承接省政府专项督查任务，年内额外完成3项，经考核组复核予以调整")
    page.get_by_role("button", name="保存调整").click()
    expect(page.get_by_text(f"已调整{department}的得分。")).to_be_visible()
    row = page.locator("#department-scores tbody tr", has_text=department)
    expect(row).to_contain_text("65.00")
    expect(row).to_contain_text("合格")
    shot(page, "j3-06-adjusted")

    page.get_by_role("link", name="锁定考核结果").click()
    expect(page.get_by_text("锁定后考核结果不能再修改，重新计算将生成新版本").first).to_be_visible()
    page.get_by_label("我已知悉：锁定后考核结果不能再修改，重新计算将生成新版本").check()
    page.get_by_role("button", name="确认锁定").click()
    expect(page.get_by_text("结果已锁定，此后不再变化")).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("已锁定")
    assert page.get_by_role("link", name=f"调整{department}得分").count() == 0
    assert page.get_by_role("link", name="锁定考核结果").count() == 0
    shot(page, "j3-07-locked")

    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    with page.expect_download() as info:
        page.get_by_role("link", name="导出Excel").click()
    download = info.value
    assert download.suggested_filename == "省卫健十四五2024年年度监测_第1版.xlsx"
    workbook = DOWNLOADS / download.suggested_filename
    download.save_as(workbook)
    wb = load_workbook(workbook)
    assert wb.sheetnames == ["汇总", "部门考核", "任务完成情况", "指标完成情况", "督办情况"]
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True) if r and r[0]}
    assert summary["状态"] == "已锁定" and summary["考核类型"] == "年度监测"
    sheet = wb["部门考核"]
    header = next(r for r in sheet.iter_rows(values_only=True) if r and "调整后得分" in r)
    column = {name: i for i, name in enumerate(header)}
    found = [dict(zip(header, r, strict=False)) for r in sheet.iter_rows(min_row=4, values_only=True)
             if r[1] == department]
    assert len(found) == 1 and {"计算得分", "调整后得分", "调整理由"} <= column.keys()
    assert Decimal(str(found[0]["调整后得分"])) == Decimal("65") and "专项督查任务" in found[0]["调整理由"]
    assert Decimal(str(found[0]["计算得分"])) == Decimal(before)

    with page.expect_download() as info:
        page.get_by_role("link", name="下载评估报告（Word）").click()
    report = DOWNLOADS / info.value.suggested_filename
    info.value.save_as(report)
    text = "\n".join(p.text for p in Document(str(report)).paragraphs)
    assert "2024年年度监测报告" in text and f"{department}由{before}分调整为65.00分" in text
    assert [e for e in errors if "status of 422" not in e] == []  # the refused adjustment is a 422 page
