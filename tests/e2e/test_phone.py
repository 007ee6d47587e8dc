"""Phone layouts (390 × 844, touch): what officials do away from a desk, page by page and role by role.

Each page is checked for no sideways scroll, the header's menu button (opens, closes, Escape), tap targets of
its main actions of at least 44 px and tables shown as cards labelled by their column headers. Screenshots go
to $PHONE_SCREENSHOTS when set, else to the test's tmp_path. One test at 1366 px checks the desktop header.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tracker.alerts.services import scan
from tracker.db import unit_of_work
from tracker.timeutil import today

from ..conftest import PASSWORD
from .conftest import LiveServer, login_as

WIDTH, HEIGHT = 390, 844
MIN_TAP = 44


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("PHONE_SCREENSHOTS") or tmp_path / "phone")
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def phone(browser, live_server: LiveServer) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """Opens a phone-sized page signed in as the given user (a context of its own for each)."""
    contexts = []

    def open_as(username: str, *, javascript: bool = True):  # type: ignore[no-untyped-def]
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                      viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True, java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        login_as(page, username, PASSWORD)
        return page

    yield open_as
    for context in contexts:
        context.close()


def _png() -> bytes:
    """A real 2 × 2 PNG, as a phone camera's photo stands in for in the upload."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xb9\x1c\x1c" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _tall_enough(locator, what: str) -> None:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    assert box is not None, f"{what} is not shown"
    assert box["height"] >= MIN_TAP and box["width"] >= MIN_TAP, f"{what} is {box['width']:.0f}×{box['height']:.0f} px"


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width} px wide"


def _menu_works(page, current: str | None = None, shot: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    button = page.locator("header .menu-toggle")
    menu = page.locator("#site-menu")
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert not menu.is_visible()
    _tall_enough(button, "the menu button")
    button.tap()
    assert button.get_attribute("aria-expanded") == "true"
    assert menu.is_visible()
    links = menu.locator("nav.mainnav a")
    assert links.count() >= 2
    for i in range(links.count()):
        _tall_enough(links.nth(i), f"menu item {links.nth(i).inner_text()}")
    _tall_enough(menu.get_by_role("button", name="退出"), "退出")
    if current:
        assert menu.locator("a[aria-current=page]").first.inner_text().strip().startswith(current)
    _fits(page)
    if shot:
        page.screenshot(path=str(shot))
    page.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false"
    assert not menu.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('menu-toggle')")
    button.tap()
    button.tap()
    assert button.get_attribute("aria-expanded") == "false"


_CARD_INFO = """sel => {
  const t = document.querySelector(sel);
  const heads = [...t.tHead.rows[0].cells].map(c => c.textContent.trim());
  const row = t.tBodies[0].rows[0];
  return {thead: t.tHead.getBoundingClientRect().height, right: t.getBoundingClientRect().right,
          display: getComputedStyle(row).display, heads: heads,
          cells: [...row.cells].map(c => [c.dataset.label ?? null, getComputedStyle(c, '::before').content,
                                          c.textContent.trim() === '' || getComputedStyle(c).display === 'none'])};
}"""


def _cards(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    info = page.evaluate(_CARD_INFO, selector)
    assert info["thead"] <= 1, f"{selector}: the header row is still shown"
    assert info["display"] in ("flex", "block"), f"{selector}: rows are not cards"
    assert info["right"] <= WIDTH
    labelled = [(label, before) for label, before, _ in info["cells"] if label]
    assert labelled, f"{selector}: no cell is labelled"
    for label, before in labelled:
        assert before == f'"{label}"', f"{selector}: {label} is not shown"
        assert any(label in head for head in info["heads"]), f"{selector}: {label} is not a column header"


def _one_column(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    columns = page.evaluate("s => getComputedStyle(document.querySelector(s)).gridTemplateColumns", selector)
    assert len(columns.split()) == 1, f"{selector} has columns {columns}"


def _look(page, shots: Path, name: str, current: str | None = None) -> None:  # type: ignore[no-untyped-def]
    _fits(page)
    _menu_works(page, current, shots / f"{name}-menu.png" if current else None)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    page.screenshot(path=str(shots / f"{name}-top.png"))


def _scan(app: Flask) -> None:
    with unit_of_work(app.extensions["tracker.sessions"]) as session:
        scan(session, today())


def test_department_head_works_from_a_phone(phone, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page = phone("zj_head_jk")
    page.wait_for_url(re.compile(r"/workspace"))
    _look(page, shots, "head-01-workspace", current="我的工作台")
    _cards(page, "#workspace-tasks")
    row = page.locator("#workspace-tasks tbody tr").first
    _tall_enough(row.get_by_role("link", name="填报"), "填报")
    _tall_enough(page.locator("nav.tabs").get_by_role("link", name="节点", exact=True), "the 节点 tab")
    _tall_enough(page.locator("form.filters").get_by_role("button", name="筛选"), "筛选")

    page.locator("nav.tabs").get_by_role("link", name="节点", exact=True).tap()
    page.wait_for_url(re.compile(r"view=milestones"))
    _look(page, shots, "head-02-milestones")
    _cards(page, "#workspace-milestones")
    done = page.locator("#workspace-milestones").get_by_role("link", name="办结").first
    _tall_enough(done, "办结")
    done.tap()

    # a milestone done with a photo straight from the camera; documents stay allowed in the other input
    page.wait_for_url(re.compile(r"/complete"))
    _look(page, shots, "head-03-milestone-form")
    camera = page.locator("input[type=file][capture]")
    assert camera.get_attribute("accept") == "image/*" and camera.get_attribute("name") == "files"
    _tall_enough(camera, "the camera input")
    documents = page.locator("input[type=file]:not([capture])")
    assert ".pdf" in (documents.get_attribute("accept") or "") and ".docx" in (documents.get_attribute("accept") or "")
    page.fill("textarea[name=evidence]", "现场验收照片")
    camera.set_input_files(files=[{"name": "现场.png", "mimeType": "image/png", "buffer": _png()}])
    submit = page.locator("main").get_by_role("button", name="办结")
    _tall_enough(submit, "办结")
    submit.tap()
    page.wait_for_selector("text=已办结")
    assert page.get_by_role("link", name="现场.png").count() == 1

    # the task page
    _look(page, shots, "head-04-task")
    _cards(page, "#task-milestones")
    _cards(page, "#history table")
    _tall_enough(page.get_by_role("link", name="更新状态和进度"), "更新状态和进度")
    facts = page.evaluate("getComputedStyle(document.querySelector('.facts dl')).gridTemplateColumns")
    assert len(facts.split()) == 2, "the task's facts are one term and its value a line"


def test_staff_files_a_progress_report_from_a_phone(phone, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page = phone("zj_staff_jk")
    page.wait_for_url(re.compile(r"/workspace"))
    _look(page, shots, "staff-01-workspace", current="我的工作台")
    _cards(page, "#workspace-tasks")
    link = page.locator("#workspace-tasks tbody tr").first.get_by_role("link", name="填报")
    _tall_enough(link, "填报")
    link.tap()

    page.wait_for_selector("select[name=period]")
    _look(page, shots, "staff-02-report-form")
    _one_column(page, "form .form-grid")
    for name in ("period", "period_year", "period_no", "progress"):
        _tall_enough(page.locator(f"[name={name}]"), name)
    assert page.locator("input[type=file][capture]").get_attribute("accept") == "image/*"
    page.select_option("select[name=period]", "half")
    page.fill("input[name=period_year]", "2025")
    page.select_option("select[name=period_no]", "1")
    page.fill("textarea[name=achievements]", "完成上半年监测点巡查")
    save = page.get_by_role("button", name="保存草稿")
    _tall_enough(save, "保存草稿")
    save.tap()
    page.wait_for_selector("text=进展填报已保存为草稿")
    _look(page, shots, "staff-03-report")
    _tall_enough(page.locator(".page-head .actions").get_by_role("link", name="修改", exact=True), "修改")

    page.goto("/notifications")
    _look(page, shots, "staff-04-notifications")


def test_a_case_is_issued_and_answered_from_phones(phone, live_app: Flask, shots: Path) -> None:  # type: ignore[no-untyped-def]
    _scan(live_app)

    # the supervision office: the overdue list as cards, a row picked and a case issued
    office = phone("zj_supervisor")
    office.goto("/alerts/overdue")
    _look(office, shots, "office-01-overdue", current="逾期清单")
    _cards(office, "#overdue-table")
    _cards(office, "#department-counts")
    office.select_option("select[name=department]", label="浙江省 · 疾控处")
    office.locator("#overdue-filters").get_by_role("button", name="筛选").tap()
    office.wait_for_url(re.compile(r"department="))
    pick = office.locator("#overdue-table label.pick").first
    _tall_enough(pick, "the row's 选择立案")
    pick.tap()
    assert office.locator("#overdue-table input[name=alert_ids]").first.is_checked()
    issue = office.get_by_role("button", name="对所选立案并下发督办单")
    _tall_enough(issue, "对所选立案并下发督办单")
    issue.tap()
    office.wait_for_selector("text=已立案并下发")
    _look(office, shots, "office-02-case")
    office.goto("/supervision/")
    _look(office, shots, "office-03-cases", current="督查督办")
    _cards(office, "#cases")
    office.goto("/notifications")
    _look(office, shots, "office-04-notifications")

    # the department: the case on top of the workspace, signed for and answered with a photo
    head = phone("zj_head_jk")
    head.wait_for_url(re.compile(r"/workspace"))
    _cards(head, "#my-cases table")
    handle = head.locator("#my-cases").get_by_role("link", name="办理").first
    _tall_enough(handle, "办理")
    handle.tap()
    head.wait_for_url(re.compile(r"/supervision/\d+"))
    _look(head, shots, "head-05-case")
    acknowledge = head.locator("form.case-action").get_by_role("button", name="签收", exact=True)
    _tall_enough(acknowledge, "签收")
    acknowledge.tap()
    head.wait_for_selector("text=已签收。")
    form = head.locator("form.case-action").filter(has=head.get_by_role("button", name="提交整改方案", exact=True))
    form.locator("textarea[name=comment]").fill("成立专班，现场照片见附件")
    camera = form.locator("input[type=file][capture]")
    _tall_enough(camera, "the camera input")
    camera.set_input_files(files=[{"name": "整改现场.png", "mimeType": "image/png", "buffer": _png()}])
    send = form.get_by_role("button", name="提交整改方案", exact=True)
    _tall_enough(send, "提交整改方案")
    send.tap()
    head.wait_for_selector("text=已提交整改方案。")
    assert head.locator("#case-answer").get_by_role("link", name="整改现场.png").count() == 1
    _look(head, shots, "head-06-case-answered")

    head.goto("/notifications")
    _look(head, shots, "head-07-notifications")
    first = head.locator("#inbox .message-actions button").first
    if first.count():
        _tall_enough(first, "the message's button")


def test_leader_reads_the_dashboard_and_the_overdue_list_on_a_phone(phone, live_app: Flask, shots: Path) -> None:  # type: ignore[no-untyped-def]
    _scan(live_app)
    page = phone("zj_leader")
    page.goto("/dashboard")
    page.wait_for_selector("[data-chart=chapters][data-rendered]")
    _look(page, shots, "leader-01-dashboard", current="领导驾驶舱")
    _tall_enough(page.get_by_role("button", name="查看"), "查看")
    boxes = page.locator(".dash-scroll")
    assert boxes.count() >= 3
    for i in range(boxes.count()):
        assert boxes.nth(i).get_attribute("tabindex") == "0" and boxes.nth(i).get_attribute("aria-label")
    page.goto("/alerts/overdue")
    _look(page, shots, "leader-02-overdue", current="逾期清单")
    _cards(page, "#overdue-table")
    _tall_enough(page.get_by_role("link", name="导出 Excel"), "导出 Excel")
    page.goto("/notifications")
    _look(page, shots, "leader-03-notifications")


def test_without_javascript_the_menu_is_stacked(phone, shots: Path) -> None:  # type: ignore[no-untyped-def]
    page = phone("zj_head_jk", javascript=False)
    page.goto("/workspace")
    _fits(page)
    assert not page.locator("header .menu-toggle").is_visible()
    links = page.locator("#site-menu nav.mainnav a")
    assert links.count() >= 2
    boxes = [links.nth(i).bounding_box() for i in range(links.count())]
    assert all(b is not None and b["height"] >= MIN_TAP for b in boxes)
    assert all(a["y"] < b["y"] for a, b in zip(boxes, boxes[1:], strict=False)), "one link a line"
    page.screenshot(path=str(shots / "nojs-workspace.png"))


def test_desktop_header_keeps_the_menu_inline(browser, live_server: LiveServer, shots: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        login_as(page, "zj_supervisor")
        page.goto("/alerts/overdue")
        assert not page.locator("header .menu-toggle").is_visible()
        links = page.locator("header nav.mainnav a")
        assert links.count() >= 3
        tops = {round(links.nth(i).bounding_box()["y"]) for i in range(links.count())}
        assert len(tops) == 1, "the menu is one row"
        assert page.locator("header").bounding_box()["height"] == 52
        assert page.locator("header .userbox").is_visible()
        assert page.locator("header a[aria-current=page]").inner_text() == "逾期清单"
        assert page.locator("#overdue-table thead").is_visible()
        # the skip link is the first thing Tab reaches and takes the focus to the page's content
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "跳到正文"
        assert page.locator(".skip-link").is_visible()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.screenshot(path=str(shots / "desktop-overdue.png"))
    finally:
        context.close()
