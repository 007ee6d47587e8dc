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
