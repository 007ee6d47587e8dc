"""The read-only pages: plan list, plan page, task page — Chinese content, 404 for unknown ids."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tracker.planning.models import Plan
from tracker.tasks.models import Task

from ..conftest import login


@pytest.fixture
def province_client(demo) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "zj_planner")
    return client


def _ids(demo):  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        plan_id = s.scalar(select(Plan.id).where(Plan.code == "zj-14"))
        task_id = s.scalar(select(Task.id).where(Task.plan_id == plan_id, Task.code == "1"))
        project_task_id = s.scalar(select(Task.id).where(Task.plan_id == plan_id, Task.code == "专栏1"))
    return plan_id, task_id, project_task_id


def test_pages_need_login(demo) -> None:  # type: ignore[no-untyped-def]
    response = demo.test_client().get("/plans")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_plan_list_shows_every_level_with_counts(province_client: FlaskClient) -> None:
    html = province_client.get("/plans").get_data(as_text=True)
    assert "浙江省卫生健康事业发展“十四五”规划" in html
    assert "温州市" in html and "乐清市" in html
    assert "执行中" in html and "2021—2025年" in html


def test_plan_list_filters(province_client: FlaskClient) -> None:
    html = province_client.get("/plans?level=county").get_data(as_text=True)
    assert "乐清" in html and "浙江省卫生健康事业发展“十四五”规划" not in html
    assert province_client.get("/plans?level=planet").status_code == 400
    assert province_client.get("/plans?region=abc").status_code == 400


def test_plan_page_tabs(demo, province_client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    plan_id, _, _ = _ids(demo)
    html = province_client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "统筹安全与发展，建设强大公共卫生体系" in html and "强化公共卫生安全防控体系建设" in html
    assert "进行中" in html and "已完成" in html
    html = province_client.get(f"/plans/{plan_id}?tab=indicators").get_data(as_text=True)
    assert "人均预期寿命" in html and "80以上" in html and "预期性" in html and "名词解释" in html
    html = province_client.get(f"/plans/{plan_id}?tab=projects").get_data(as_text=True)
    assert "专栏1" in html and "亿元" in html
    assert province_client.get(f"/plans/{plan_id}?tab=nope").status_code == 404


def test_task_page(demo, province_client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    _, task_id, project_task_id = _ids(demo)
    html = province_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    for text in ("牵头单位", "配合单位", "节点", "进展填报", "下级任务", "强化公共卫生安全防控体系建设"):
        assert text in html
    html = province_client.get(f"/tasks/{project_task_id}").get_data(as_text=True)
    assert "项目信息" in html and "总投资" in html


def test_dates_read_in_chinese(demo, province_client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    _, task_id, _ = _ids(demo)
    html = province_client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "2021年1月1日" in html


def test_unknown_ids_are_404_in_chinese(province_client: FlaskClient) -> None:
    for url in ("/plans/999999", "/tasks/999999", "/no-such-page"):
        response = province_client.get(url)
        assert response.status_code == 404
        assert "页面不存在" in response.get_data(as_text=True)


def test_downstream_links_on_provincial_task(demo, province_client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        upstream = s.scalars(select(Task).join(Plan).where(Plan.code == "wz-14", Task.code == "1")).one().upstream_task_id
    html = province_client.get(f"/tasks/{upstream}").get_data(as_text=True)
    assert "下级落实" in html and "温州" in html


def _tree_codes(html: str) -> list[str]:
    import re

    table = html.split('class="grid tree"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<td class="code">([^<]*)</td>', table)


def test_plan_task_tree_filters_and_pages(demo, province_client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    from tracker.planning import plan_views as views
    from tracker.tasks.models import TaskLevel, TaskStatus

    plan_id, _, _ = _ids(demo)
    with demo.extensions["tracker.sessions"]() as s:
        tasks = list(s.scalars(select(Task).where(Task.plan_id == plan_id)))
        key_and_above = {t.code for t in tasks if t.level in (TaskLevel.CHAPTER, TaskLevel.KEY_TASK)}
        done = {t.code for t in tasks if t.status == TaskStatus.DONE}
        lead = next(t.lead_department_id for t in tasks if t.lead_department_id)
        led = {t.code for t in tasks if t.lead_department_id == lead}
    everything = _tree_codes(province_client.get(f"/plans/{plan_id}").get_data(as_text=True))
    assert sorted(everything) == sorted(t.code for t in tasks)  # the demo plan fits on one page

    shallow = _tree_codes(province_client.get(f"/plans/{plan_id}?depth=key_task").get_data(as_text=True))
    assert set(shallow) == key_and_above and shallow == [c for c in everything if c in key_and_above]
    assert set(_tree_codes(province_client.get(f"/plans/{plan_id}?status=done").get_data(as_text=True))) == done
    assert set(_tree_codes(province_client.get(f"/plans/{plan_id}?department={lead}")
                           .get_data(as_text=True))) == led
    nothing = province_client.get(f"/plans/{plan_id}?q=不存在的任务名称").get_data(as_text=True)
    assert _tree_codes(nothing) == [] and "没有符合筛选条件的任务" in nothing
    assert province_client.get(f"/plans/{plan_id}?status=bogus").status_code == 400

    # Pages of the tree keep the display order and together hold every row once.
    views.TREE_PAGE_SIZE, size = 25, views.TREE_PAGE_SIZE
    try:
        paged = []
        for n in range(1, len(everything) // 25 + 2):
            html = province_client.get(f"/plans/{plan_id}?page={n}").get_data(as_text=True)
            paged += _tree_codes(html)
        assert f"共 {len(everything)} 条" in html
        assert paged == everything
    finally:
        views.TREE_PAGE_SIZE = size
