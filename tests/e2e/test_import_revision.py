"""The planner corrects a draft, then the document's revised version arrives: uploaded as a new version of
the draft, the correction is kept and what the new version adds, removes and changes is marked."""

from __future__ import annotations

from pathlib import Path

from ..imports.docgen import build_docx
from ..imports.test_revision import V1, V2
from .conftest import login_as, shot


def test_a_revised_document_keeps_the_planners_correction(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    first, revised = tmp_path / "十五五规划（征求意见稿）.docx", tmp_path / "十五五规划（送审稿）.docx"
    first.write_bytes(build_docx(V1))
    revised.write_bytes(build_docx(V2))
    login_as(page, "zj_planner")

    page.goto("/imports")
    page.set_input_files("input[name=file]", str(first))
    page.get_by_role("button", name="上传并识别").click()
    page.wait_for_selector("text=已读取文档")

    # correct one item's title in the page
    page.get_by_role("link", name="编辑 1.3 加强慢性病综合防控").click()
    page.fill("input[name=title]", "加强慢性病和重大疾病综合防控")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=已保存 1.3 加强慢性病和重大疾病综合防控")

    # the revised file, uploaded from the draft's page as its new version
    form = page.locator("#revise-form")
    form.locator("input[name=file]").set_input_files(str(revised))
    shot(page, "import-revision-01-upload")
    form.get_by_role("button", name="上传修订版").click()
    page.wait_for_selector("text=已作为新版本读取")
    tree = page.locator("#tree")
    kept = tree.locator("tr", has_text="加强慢性病和重大疾病综合防控")
    assert kept.count() == 1 and kept.get_by_text("已核对").is_visible()
    assert tree.get_by_text("加强慢性病综合防控", exact=True).count() == 0
    added = tree.locator("tr", has_text="建设智慧医疗平台")
    assert added.locator(".badge", has_text="新增").is_visible()
    assert tree.get_by_text("提升应急处置能力", exact=True).count() == 0

    comparison = page.locator("#comparison")
    assert comparison.get_by_role("heading", name="与上一版相比").is_visible()
    comparison.get_by_role("link", name="工作举措 2.2 建设智慧医疗平台").click()
    assert page.url.endswith("#item-" + added.get_attribute("id").removeprefix("item-"))  # type: ignore[union-attr]
    assert "工作举措 1.2 提升应急处置能力" in comparison.locator(".removed").inner_text()
    assert "推进紧密型县域医共体高质量建设" in comparison.locator(".changed").inner_text()
    shot(page, "import-revision-02-compared")

    # an item gone from the new version is kept anyway
    comparison.locator(".removed li", has_text="提升应急处置能力").get_by_role("button", name="仍然保留").click()
    page.wait_for_selector("text=提升应急处置能力，请核对它的位置")
    assert page.locator("#tree tr", has_text="提升应急处置能力").get_by_text("待核对").is_visible()
    assert errors == []


def test_a_deleted_item_stays_deleted_and_a_flagged_item_shows_both_texts(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    first, revised = tmp_path / "规划（征求意见稿）.docx", tmp_path / "规划（送审稿）.docx"
    first.write_bytes(build_docx(V1))
    revised.write_bytes(build_docx(V2))
    login_as(page, "zj_planner")
    page.goto("/imports")
    page.set_input_files("input[name=file]", str(first))
    page.get_by_role("button", name="上传并识别").click()
    page.wait_for_selector("text=已读取文档")

    # the planner deletes one item and corrects another that the new version will change as well
    page.locator("#tree tr", has_text="发展中医药事业").get_by_role("button", name="删除").click()
    page.wait_for_selector("#tree")
    assert page.locator("#tree tr", has_text="发展中医药事业").count() == 0
    page.get_by_role("link", name="编辑 1.1 完善疾病预防控制体系").click()
    page.fill("input[name=title]", "完善现代疾病预防控制体系")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("text=已保存 1.1 完善现代疾病预防控制体系")

    form = page.locator("#revise-form")
    form.locator("input[name=file]").set_input_files(str(revised))
    form.get_by_role("button", name="上传修订版").click()
    page.wait_for_selector("text=已作为新版本读取")
    # still deleted, not 新增: listed with 恢复
    assert page.locator("#tree tr", has_text="发展中医药事业").count() == 0
    deleted = page.locator("#deleted-by-you li", has_text="发展中医药事业")
    assert deleted.is_visible()
    shot(page, "import-revision-03-deleted-by-you")
    deleted.get_by_role("button", name="恢复").click()
    page.wait_for_selector("text=已恢复")
    assert page.locator("#tree tr", has_text="发展中医药事业").locator(".badge", has_text="已恢复").is_visible()

    # the flagged item's edit form shows the previous and the new text, and takes the new one
    page.get_by_role("link", name="编辑 1.1 完善现代疾病预防控制体系").click()
    proposal = page.locator("#proposal")
    assert "建设市疾控中心生物安全三级实验室" in proposal.locator("ins").inner_text()
    assert "建设市疾控中心实验室" in proposal.locator("del").inner_text()
    shot(page, "import-revision-04-proposal")
    proposal.get_by_role("button", name="采用新版原文").click()
    page.wait_for_selector("text=已采用新版原文")
    assert page.locator("#proposal").count() == 0
    assert "生物安全三级实验室" in page.locator("textarea[name=description]").input_value()
    assert errors == []
