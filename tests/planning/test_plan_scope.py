"""Region scope between counties: a county user never opens another county's plan or its tasks
(乐清市 and 鹿城区 sit under 温州市, 温岭市 under 台州市)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tracker.planning.models import Plan
from tracker.tasks.models import Task

from ..conftest import login

YUEQING, WENLING, WENZHOU = "yq-14", "wl-2021", "wz-14"


def _plan(demo, code: str) -> tuple[int, str, list[int]]:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        plan = s.scalars(select(Plan).where(Plan.code == code)).one()
        task_ids = list(s.scalars(select(Task.id).where(Task.plan_id == plan.id).order_by(Task.id)))
        return plan.id, plan.title, task_ids


@pytest.mark.parametrize(("username", "own", "other"), [
    ("yq_planner", YUEQING, WENLING),
    ("yq_head_jk", YUEQING, WENLING),
    ("yq_supervisor", YUEQING, WENLING),
    ("wl_planner", WENLING, YUEQING),
    ("wl_head_jk", WENLING, YUEQING),
    ("wl_supervisor", WENLING, YUEQING),
    ("wl_leader", WENLING, YUEQING),
    # 鹿城区 is 乐清市's sibling under the same city: it reads the city's plan, not 乐清's
    ("lc_head_jk", WENZHOU, YUEQING),
])
def test_county_user_cannot_open_another_countys_plan_or_task(demo, username: str, own: str,
                                                               other: str) -> None:  # type: ignore[no-untyped-def]
    own_id, _own_title, own_tasks = _plan(demo, own)
    other_id, other_title, other_tasks = _plan(demo, other)
    assert own_tasks and other_tasks
    client = demo.test_client()
    login(client, username)
    # the plans in scope open, so the refusals below are about the other county
    assert client.get(f"/plans/{own_id}").status_code == 200
    assert client.get(f"/tasks/{own_tasks[0]}").status_code == 200

    for url in (f"/plans/{other_id}", f"/plans/{other_id}?tab=indicators", f"/plans/{other_id}?tab=history"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 403, url
        assert "无权访问" in html and "该规划不在您的管辖范围内" in html and other_title not in html
    for task_id in other_tasks:
        response = client.get(f"/tasks/{task_id}")
        assert response.status_code == 403, task_id
        assert "该任务不在您的管辖范围内" in response.get_data(as_text=True)
    assert other_title not in client.get("/plans").get_data(as_text=True)


def test_the_plan_list_and_its_api_come_a_page_at_a_time_in_scope(demo) -> None:  # type: ignore[no-untyped-def]
    """A nation's supervisor sees a thousand plans: the list shows 50 a page and the API hands them out by cursor,
    in the same order, every plan in scope once and nothing outside it."""
    from tracker.api.models import TokenScope
    from tracker.api.services import NewToken, create_token
    from tracker.auth.models import User
    from tracker.db import unit_of_work
    from tracker.regions.models import Region

    from .. import factories as f

    with unit_of_work(demo.extensions["tracker.sessions"]) as s:
        wenzhou = s.scalars(select(Region).where(Region.name == "温州市")).one()
        for n in range(60):
            f.plan(s, wenzhou, code=f"page-{n:02d}", title=f"分页测试规划{n:02d}", short_name=f"分页{n:02d}")
        supervisor = s.scalars(select(User).where(User.username == "zj_supervisor")).one()
        token = create_token(s, supervisor, NewToken("分页", TokenScope.READ, 1))[1]
        in_scope = set(s.scalars(select(Plan.title).where(Plan.stage != "archived")))
    client = demo.test_client()
    login(client, "zj_supervisor")
    shown: list[str] = []
    pages = -(-len(in_scope) // 50)
    assert pages >= 2
    for number in range(1, pages + 1):
        html = client.get(f"/plans?page={number}").get_data(as_text=True)
        table = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        shown += [t for t in in_scope if f">{t}</a>" in table]
    assert len(shown) == len(in_scope) and set(shown) == in_scope
    assert f"第 1 / {pages} 页，共 {len(in_scope)} 条" in client.get("/plans").get_data(as_text=True)
    items, cursor = [], None
    while True:
        body = client.get("/api/v1/plans?limit=25" + (f"&cursor={cursor}" if cursor else ""),
                          headers={"Authorization": f"Bearer {token}"}).get_json()
        assert len(body["items"]) <= 25
        items += [p["title"] for p in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(items) == len(in_scope) and set(items) == in_scope
    assert client.get("/api/v1/plans?limit=0", headers={"Authorization": f"Bearer {token}"}).status_code == 422
