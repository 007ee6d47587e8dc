"""The read-only pages render in a real browser with Chinese text and no console errors."""

from __future__ import annotations

from .conftest import login_as, shot


def test_plan_pages_render(page) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login_as(page, "zj_planner")
    page.goto("/plans")
    assert page.get_by_text("浙江省卫生健康事业发展“十四五”规划").count() >= 1
    shot(page, "plans-index")
    page.get_by_role("link", name="浙江省卫生健康事业发展“十四五”规划").click()
    page.wait_for_selector("table.tree")
    shot(page, "plan-tasks")
    page.get_by_role("link", name="主要指标（20）").click()
    assert page.get_by_text("人均预期寿命").count() >= 1
    shot(page, "plan-indicators")
    page.get_by_role("link", name="任务清单").click()
    page.get_by_role("link", name="强化公共卫生安全防控体系建设").first.click()
    page.wait_for_selector("text=下级任务")
    shot(page, "task-page")
    assert errors == []
