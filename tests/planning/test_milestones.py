"""Milestones on a task: add, edit, remove; never after the task's deadline; done ones are records."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.tasks.models import Milestone, MilestoneStatus, ProjectNode

from .conftest import audit_entries, client_for, error_at, fresh, task_of


def _milestone(db: Session, task_code: str, title: str) -> Milestone:
    fresh(db)
    return db.scalars(select(Milestone).where(Milestone.task_id == task_of(db, task_code).id,
                                              Milestone.title == title)).one()


def test_add_milestone(planner: FlaskClient, db: Session) -> None:
    task = task_of(db, "1.1.3")  # deadline 2025-12-31
    html = planner.get(f"/planning/tasks/{task.id}/milestones").get_data(as_text=True)
    assert "新增节点" in html and 'value="2025-12-31"' in html  # the due date starts at the deadline
    response = planner.post(f"/planning/tasks/{task.id}/milestones",
                            data={"title": "制定终期评估方案", "due_date": "2025-12-15"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/planning/tasks/{task.id}/milestones")
    milestone = _milestone(db, "1.1.3", "制定终期评估方案")
    assert (milestone.due_date, milestone.status, milestone.node) == (date(2025, 12, 15), MilestoneStatus.PENDING, None)
    [entry] = audit_entries(db, "milestones", milestone.id, "create")
    assert entry.changes == {"title": [None, "制定终期评估方案"], "due_date": [None, "2025-12-15"]}
    assert "制定终期评估方案" in planner.get(f"/tasks/{task.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "迟到的节点", "due_date": "2026-01-01"}, "due_date", "节点日期不能晚于任务的截止日期（2025年12月31日）。"),
        ({"title": "", "due_date": "2025-06-30"}, "title", "请填写节点名称。"),
        ({"title": "无日期", "due_date": ""}, "due_date", "请填写节点的计划日期。"),
        ({"title": "坏日期", "due_date": "2025-02-30"}, "due_date", "不是有效的日期值"),
    ],
)
def test_add_milestone_refusals(planner: FlaskClient, db: Session, data: dict[str, str], field: str,
                                message: str) -> None:
    task = task_of(db, "1.1.3")
    before = len(task.milestones)
    response = planner.post(f"/planning/tasks/{task.id}/milestones", data=data)
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), field, message)
    assert len(task_of(db, "1.1.3").milestones) == before


def test_chapters_have_no_milestones(planner: FlaskClient, db: Session) -> None:
    chapter = task_of(db, "三")
    response = planner.post(f"/planning/tasks/{chapter.id}/milestones", data={"title": "x", "due_date": "2026-01-01"})
    assert response.status_code == 422
    assert "章不设节点" in response.get_data(as_text=True)


def test_project_tasks_offer_construction_nodes(planner: FlaskClient, db: Session) -> None:
    project = task_of(db, "专栏1")
    html = planner.get(f"/planning/tasks/{project.id}/milestones").get_data(as_text=True)
    assert "建设节点" in html and "主体结顶" in html
    assert project.deadline is not None
    response = planner.post(f"/planning/tasks/{project.id}/milestones",
                            data={"title": "二期主体结顶", "due_date": project.deadline.isoformat(), "node": "topping_out"})
    assert response.status_code == 302
    assert _milestone(db, "专栏1", "二期主体结顶").node == ProjectNode.TOPPING_OUT
    assert "建设节点" not in planner.get(f"/planning/tasks/{task_of(db, '1.1.3').id}/milestones").get_data(as_text=True)


def _pending(planner: FlaskClient, db: Session) -> Milestone:
    task = task_of(db, "1.1.3")
    planner.post(f"/planning/tasks/{task.id}/milestones", data={"title": "制定终期评估方案", "due_date": "2025-12-15"})
    return _milestone(db, "1.1.3", "制定终期评估方案")


def test_edit_milestone(planner: FlaskClient, db: Session) -> None:
    milestone = _pending(planner, db)
    response = planner.post(f"/planning/milestones/{milestone.id}/edit", data={
        "title": "制定终期评估工作方案", "due_date": "2025-12-20", "version": str(milestone.version_id)})
    assert response.status_code == 302
    edited = _milestone(db, "1.1.3", "制定终期评估工作方案")
    assert edited.due_date == date(2025, 12, 20)
    [entry] = audit_entries(db, "milestones", milestone.id, "update")
    assert entry.changes == {"title": ["制定终期评估方案", "制定终期评估工作方案"], "due_date": ["2025-12-15", "2025-12-20"]}
    response = planner.post(f"/planning/milestones/{milestone.id}/edit", data={
        "title": "制定终期评估工作方案", "due_date": "2026-03-01", "version": str(edited.version_id)})
    assert error_at(response.get_data(as_text=True), "due_date", "节点日期不能晚于任务的截止日期")


def test_stale_milestone_edit(demo: Flask, db: Session) -> None:
    first, second = client_for(demo, "zj_planner"), client_for(demo, "zj_planner")
    milestone = _pending(first, db)
    data = {"title": milestone.title, "due_date": "2025-12-15", "version": str(milestone.version_id)}
    url = f"/planning/milestones/{milestone.id}/edit"
    assert first.post(url, data={**data, "title": "甲的节点"}).status_code == 302
    response = second.post(url, data={**data, "title": "乙的节点"})
    assert response.status_code == 409 and "该节点在您打开表单后已被他人修改" in response.get_data(as_text=True)
    fresh(db)
    assert db.get(Milestone, milestone.id).title == "甲的节点"  # type: ignore[union-attr]


def test_remove_milestone(planner: FlaskClient, db: Session) -> None:
    milestone = _pending(planner, db)
    milestone_id, task_id = milestone.id, milestone.task_id
    response = planner.post(f"/planning/milestones/{milestone_id}/delete")
    assert response.status_code == 302
    fresh(db)
    assert db.get(Milestone, milestone_id) is None
    [entry] = audit_entries(db, "milestones", milestone_id, "delete")
    assert entry.changes["title"] == ["制定终期评估方案", None]
    assert "已删除节点“制定终期评估方案”。" in planner.get(f"/planning/tasks/{task_id}/milestones").get_data(as_text=True)


def test_done_milestones_stay(planner: FlaskClient, db: Session) -> None:
    done = next(m for m in task_of(db, "1.1.1").milestones if m.status == MilestoneStatus.DONE)
    html = planner.get(f"/planning/tasks/{done.task_id}/milestones").get_data(as_text=True)
    assert "不可删除（已完成）" in html
    response = planner.post(f"/planning/milestones/{done.id}/delete")
    assert response.status_code == 400 and "已完成，不能删除。" in response.get_data(as_text=True)
    response = planner.post(f"/planning/milestones/{done.id}/edit", data={
        "title": "改名", "due_date": done.due_date.isoformat(), "version": str(done.version_id)})
    assert response.status_code == 422 and "已完成的节点是执行记录，不能修改。" in response.get_data(as_text=True)
    fresh(db)
    assert db.get(Milestone, done.id) is not None and db.get(Milestone, done.id).title != "改名"  # type: ignore[union-attr]


def test_unknown_milestone_is_404(planner: FlaskClient) -> None:
    assert planner.get("/planning/milestones/99999999/edit").status_code == 404
    assert planner.post("/planning/milestones/99999999/delete").status_code == 404
    assert planner.get("/planning/milestones/99999999999999/edit").status_code == 404


def test_every_error_of_the_milestone_form_in_one_round(planner: FlaskClient, db: Session) -> None:
    """An empty name (the form's check) and a date after the task's deadline (the milestone rule): one answer."""
    task = task_of(db, "1.1.3")
    response = planner.post(f"/planning/tasks/{task.id}/milestones", data={"title": "", "due_date": "2026-01-01"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_at(html, "title", "请填写节点名称。")
    assert error_at(html, "due_date", "节点日期不能晚于任务的截止日期（2025年12月31日）。")
