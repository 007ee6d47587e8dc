"""我的工作台: the department's tasks, overdue first, filters and counts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker.regions.models import Department
from tracker.tasks.models import Task, TaskStatus

from ..conftest import login


def _rows(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-task="(\d+)">', html)


def test_head_lands_on_workspace_with_overdue_first(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "zj_head_jk")
    response = client.get("/", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "我的工作台" in html and "已逾期" in html and "15天内到期" in html
    ids = [int(i) for i in _rows(html)]
    with demo.extensions["tracker.sessions"]() as s:
        tasks = {t.id: t for t in s.scalars(select(Task).where(Task.id.in_(ids)))}
        dept = s.scalars(select(Department).where(Department.name == "疾控处")).first()
        today = date(2026, 11, 22)
        buckets = []
        for i in ids:
            t = tasks[i]
            assert t.lead_department_id == dept.id or dept in t.co_departments
            open_ = t.status in (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.OVERDUE)
            buckets.append(0 if open_ and t.deadline < today else 1 if open_ and (t.deadline - today).days <= 15
                           else 2 if open_ else 3)
    assert buckets and buckets == sorted(buckets)
    assert buckets[0] == 0, "an overdue task comes first"
    assert "逾期" in html


def test_filters_and_counts(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "zj_head_jk")
    html = client.get("/workspace?bucket=overdue").get_data(as_text=True)
    overdue_ids = _rows(html)
    assert overdue_ids
    assert "剩" not in html.split("workspace-tasks")[1]  # only overdue rows
    lead_html = client.get("/workspace?role=lead").get_data(as_text=True)
    co_html = client.get("/workspace?role=co").get_data(as_text=True)
    assert set(_rows(lead_html)).isdisjoint(_rows(co_html))
    assert "<td>配合</td>" not in lead_html and "<td>牵头</td>" not in co_html
    html = client.get("/workspace?status=done").get_data(as_text=True)
    assert "已完成" in html and "进行中</span>" not in html
    assert client.get("/workspace?year=2026").status_code == 200
    assert client.get("/workspace?view=milestones").status_code == 200
    for bad in ("status=finished", "role=boss", "year=abc", "bucket=later", "view=x", "page=0"):
        assert client.get(f"/workspace?{bad}").status_code == 400, bad


def test_workspace_shows_last_report_and_is_department_scoped(demo) -> None:  # type: ignore[no-untyped-def]
    client = demo.test_client()
    login(client, "wz_head_jk")
    html = client.get("/workspace").get_data(as_text=True)
    assert "温州" in html or "wz" in html
    assert "省卫健十四五" not in html  # no provincial tasks in a city department's workspace
