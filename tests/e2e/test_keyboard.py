"""Keyboard only: signing in, updating a task's status, filtering the overdue list and a drop-down menu with Tab,
Shift+Tab, Enter, Space, Escape and the arrow keys (and typing into text fields), each page begun from its skip link.

Nothing is clicked or filled by selector; the test only reads where the focus is and what the page says.
"""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from tracker.alerts.services import scan
from tracker.db import unit_of_work
from tracker.planning.models import Plan
from tracker.tasks.models import Task
from tracker.timeutil import today

from ..conftest import PASSWORD

FOCUSED = """() => { const e = document.activeElement;
  return {tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name') || '', text: (e.innerText || '').trim(),
          href: e.getAttribute('href') || '', value: e.value === undefined ? null : e.value,
          option: e.tagName === 'SELECT' && e.selectedIndex >= 0 ? e.options[e.selectedIndex].text : null,
          invalid: e.getAttribute('aria-invalid'), describedby: e.getAttribute('aria-describedby') || ''}; }"""


def focused(page) -> dict:  # type: ignore[no-untyped-def]
    return page.evaluate(FOCUSED)  # type: ignore[no-any-return]


def from_skip_link(page) -> None:  # type: ignore[no-untyped-def]
    """Back to the page's first stop, the skip link, and through it: the focus is then on the page's content."""
    page.keyboard.press("Tab")  # from wherever the focus (or the browser's starting point) is
    for _ in range(60):
        if page.evaluate("document.activeElement.classList.contains('skip-link')"):
            break
        page.keyboard.press("Shift+Tab")
    else:
        raise AssertionError("the skip link is not reachable")
    assert page.locator(".skip-link").is_visible(), "the focused skip link is shown"
    assert focused(page)["text"] == "跳到正文"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"


def tab_to(page, test: str, what: str, limit: int = 150) -> dict:  # type: ignore[no-untyped-def]
    """Tab until the focused element passes ``test`` (a JavaScript expression of ``e``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(e => Boolean({test}))(document.activeElement)"):
            return focused(page)
    raise AssertionError(f"Tab never reached {what}")


def choose(page, wanted: str, *, by: str = "option") -> None:  # type: ignore[no-untyped-def]
    """Arrow keys on the focused (closed) select until the wanted option is chosen."""
    for key in ("ArrowDown", "ArrowUp"):
        for _ in range(60):
            if focused(page)[by] == wanted:
                return
            before = focused(page)[by]
            page.keyboard.press(key)
            if focused(page)[by] == before:
                break  # the end of the list
    raise AssertionError(f"no option {wanted!r}")


def sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    from_skip_link(page)
    assert tab_to(page, "e.name === 'username'", "the user name")["tag"] == "input"
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def test_signing_in_by_keyboard(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    from_skip_link(page)
    tab_to(page, "e.name === 'username'", "the user name")
    page.keyboard.type("zj_head_jk")
    page.keyboard.press("Tab")
    page.keyboard.type("wrong-password")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash-error")
    sign_in(page, "zj_head_jk")
    assert re.search(r"/workspace", page.url)
    assert page.locator("header .userbox").inner_text().count("疾控处") == 1


def test_updating_a_task_status_by_keyboard(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, "zj_head_jk")
    from_skip_link(page)
    link = tab_to(page, "e.closest('#workspace-tasks') && e.innerText.trim() === '更新'", "a task's 更新")
    task_id = int(re.search(r"/tasks/(\d+)/status", link["href"]).group(1))  # type: ignore[union-attr]
    with live_app.extensions["tracker.sessions"]() as s:
        before = s.get(Task, task_id).progress  # type: ignore[union-attr]
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/tasks/{task_id}/status"))

    from_skip_link(page)
    tab_to(page, "e.name === 'status'", "the status")
    choose(page, "suspended", by="value")
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "progress"
    for _ in range(3):
        page.keyboard.press("ArrowUp")
    assert focused(page)["value"] == str(min(before + 3, 100))
    tab_to(page, "e.tagName === 'BUTTON' && e.innerText.trim() === '保存'", "保存")
    page.keyboard.press("Enter")

    # 暂缓 needs a reason: the page comes back with the focus on the note, tied to its message
    page.wait_for_selector(".field-error")
    note = focused(page)
    assert note["name"] == "note" and note["invalid"] == "true"
    message = page.locator(f"#{note['describedby'].split()[-1]}").inner_text()
    assert "须写明原因" in message
    page.keyboard.type("等待省级统一部署")
    tab_to(page, "e.tagName === 'BUTTON' && e.innerText.trim() === '保存'", "保存")
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r"/workspace"))
    page.wait_for_selector(".flash-success")
    with live_app.extensions["tracker.sessions"]() as s:
        task = s.get(Task, task_id)
        assert task is not None
        assert task.status.value == "suspended" and task.progress == min(before + 3, 100)
        assert task.status_note == "等待省级统一部署"


def test_filtering_the_overdue_list_by_keyboard(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(live_app.extensions["tracker.sessions"]) as session:
        scan(session, today())
    sign_in(page, "zj_supervisor")
    from_skip_link(page)
    page.keyboard.press("Shift+Tab")  # back from the content into the header's menu
    for _ in range(20):
        if focused(page)["text"] == "跳到正文":
            break
        page.keyboard.press("Shift+Tab")
    tab_to(page, "e.closest('nav.mainnav') && e.innerText.trim() === '逾期清单'", "逾期清单 in the menu")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/alerts/overdue", page.url)

    from_skip_link(page)
    tab_to(page, "e.name === 'department'", "牵头单位")
    choose(page, "浙江省 · 疾控处")
    tab_to(page, "e.tagName === 'BUTTON' && e.innerText.trim() === '筛选'", "筛选")
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r"department=\d+"))
    rows = page.locator("#overdue-table tbody tr")
    assert rows.count() >= 1
    leads = page.locator("#overdue-table tbody td[data-label=牵头单位]").all_inner_texts()
    assert leads and all("疾控处" in text for text in leads), leads

    # sorted by days overdue from the column's header, the order told by aria-sort
    from_skip_link(page)
    tab_to(page, "e.classList.contains('sort') && e.innerText.startsWith('逾期天数')", "the 逾期天数 header")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"sort=days"))
    header = page.locator("#overdue-table th[aria-sort]:has(a:text-matches('逾期天数'))")
    assert header.get_attribute("aria-sort") in ("ascending", "descending")
    assert "department=" in page.url, "the filter stays"


def test_the_more_menu_opens_with_enter_and_closes_with_escape(page, live_app: Flask) -> None:  # type: ignore[no-untyped-def]
    with live_app.extensions["tracker.sessions"]() as s:
        task_id = s.scalar(select(Task.id).join(Plan).where(Plan.code == "zj-14", Task.code == "1.1"))
    sign_in(page, "zj_planner")
    page.goto(f"/tasks/{task_id}")
    from_skip_link(page)
    tab_to(page, "e.tagName === 'SUMMARY' && e.innerText.trim() === '更多'", "更多")
    page.keyboard.press("Enter")
    menu = page.locator("details.more-actions")
    assert menu.get_attribute("open") is not None
    assert tab_to(page, "e.closest('details.more-actions .menu')", "the menu's first item")["text"] in ("关联上位任务", "移动")
    page.keyboard.press("Escape")
    assert menu.get_attribute("open") is None
    assert focused(page)["text"] == "更多", "the focus goes back to the menu's button"
