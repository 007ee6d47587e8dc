"""Never lose typed text (js/drafts.js): a save refused because the session ended or the upload was too large
comes back with what was typed, a notice says so, and a save that went through forgets the draft."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from tracker.regions.models import Department
from tracker.tasks.models import ProgressReport, Task, TaskLevel

from .conftest import login_as

WORDS = "完成全省疾控机构标准化建设评估，12个地市均已提交自评报告。"


def _task_id(app: Flask) -> int:
    session = app.extensions["tracker.sessions"]()
    try:
        return session.scalars(select(Task.id).join(Task.lead_department).where(
            Department.name == "疾控处", Department.region_id == 1, Task.level == TaskLevel.ANNUAL,
            Task.year == 2025)
            .order_by(Task.id)).first()
    finally:
        session.close()


def _reports(app: Flask, task_id: int) -> int:
    session = app.extensions["tracker.sessions"]()
    try:
        return len(session.scalars(select(ProgressReport.id).where(ProgressReport.task_id == task_id)).all())
    finally:
        session.close()


def test_text_typed_before_the_session_ended_comes_back(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    task_id = _task_id(live_app)
    before = _reports(live_app, task_id)
    form = f"/tasks/{task_id}/reports/new"
    login_as(page, "zj_head_jk")
    page.goto(form)
    page.fill("textarea[name=achievements]", WORDS)
    page.fill("textarea[name=problems]", "个别地市数据报送滞后。")
    page.press("textarea[name=problems]", "Tab")  # leaving the field keeps the draft at once
    # signed out elsewhere: this browser's session is gone before the save arrives
    page.context.clear_cookies()
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_load_state()
    assert _reports(live_app, task_id) == before  # nothing was saved
    login_as(page, "zj_head_jk")
    page.goto(form)
    assert page.input_value("textarea[name=achievements]") == WORDS
    assert page.input_value("textarea[name=problems]") == "个别地市数据报送滞后。"
    notice = page.locator(".draft-restored")
    assert "已恢复您" in notice.inner_text() and "没有保存成功" in notice.inner_text()
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_url(lambda url: "/reports/new" not in url)
    assert _reports(live_app, task_id) == before + 1, (page.url, page.locator("main").inner_text()[:500])
    # the save went through: the draft is forgotten
    page.goto(form)
    assert page.input_value("textarea[name=achievements]") == ""
    assert page.locator(".draft-restored").count() == 0


def test_text_typed_beside_a_too_large_upload_comes_back_and_can_be_thrown_away(page, live_app: Flask,  # type: ignore[no-untyped-def]
                                                                               tmp_path) -> None:
    live_app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    task_id = _task_id(live_app)
    form = f"/tasks/{task_id}/reports/new"
    big = tmp_path / "材料.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * 200_000)
    login_as(page, "zj_head_jk")
    page.goto(form)
    page.fill("textarea[name=achievements]", WORDS)
    page.press("textarea[name=achievements]", "Tab")
    page.set_input_files("input[type=file]", str(big))
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".error-page").count() == 1  # 413: too large
    page.goto(form)
    assert page.input_value("textarea[name=achievements]") == WORDS
    page.click(".draft-restored button")  # 放弃恢复的内容
    assert page.input_value("textarea[name=achievements]") == ""
    page.reload()
    assert page.locator(".draft-restored").count() == 0
