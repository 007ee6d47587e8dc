"""Construction nodes: marked done on their actual date (moving the project on), checked like any
milestone, and — when overdue — raised by the overdue scan like any milestone."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select

from tracker.alerts.models import Alert, AlertStatus, AlertTarget
from tracker.alerts.services import scan
from tracker.projects.models import KeyProject, ProjectStatus
from tracker.tasks.models import Milestone, MilestoneStatus, ProjectNode

from .conftest import World, client_as, field_error, fresh, project_of


def _node(project: KeyProject, node: ProjectNode) -> Milestone:
    return next(m for m in project.task.milestones if m.node == node)


def test_marking_groundbreaking_done_moves_the_project_to_building(world: World, app: Flask) -> None:
    head = client_as(app, world.users["head"])
    mid = world.node_ids[ProjectNode.GROUNDBREAKING]
    m = fresh(app, Milestone, mid)
    page = head.get(f"/projects/{world.project_id}/nodes/{mid}/done")
    assert page.status_code == 200 and "已逾期 22 天" in page.get_data(as_text=True)
    response = head.post(f"/projects/{world.project_id}/nodes/{mid}/done", data={
        "completed_on": "2026-11-18", "evidence": "取得施工许可证，举行开工仪式", "version": m.version_id})
    assert response.status_code == 302
    m = fresh(app, Milestone, mid)
    assert m.status == MilestoneStatus.DONE and m.completed_on == date(2026, 11, 18)
    assert fresh(app, KeyProject, world.project_id).status == ProjectStatus.BUILDING
    html = head.get(f"/projects/{world.project_id}").get_data(as_text=True)
    assert "办结节点“开工”" in html and "项目状态改为“在建”" in html
    assert "已完成（晚于计划18天）" in html


def test_node_input_is_checked(world: World, app: Flask) -> None:
    head = client_as(app, world.users["head"])
    mid = world.node_ids[ProjectNode.GROUNDBREAKING]
    url = f"/projects/{world.project_id}/nodes/{mid}/done"
    version = fresh(app, Milestone, mid).version_id
    cases = [
        ({"completed_on": "2026-12-01", "evidence": "x"}, "完成日期不能晚于今天。"),
        ({"completed_on": "2024-10-01", "evidence": "x"}, "不能早于前序节点“可研批复”的完成日期（2024-10-12）"),
        ({"completed_on": "2026-11-18", "evidence": ""}, "请填写佐证说明。"),
        ({"completed_on": "2026-13-45", "evidence": "x"}, "日期"),
        ({"completed_on": "", "evidence": "x"}, "请填写实际完成日期"),
    ]
    for data, message in cases:
        response = head.post(url, data={**data, "version": version})
        assert response.status_code == 422, data
        assert any(message in e for e in field_error(response.get_data(as_text=True))), (data, message)
    assert fresh(app, Milestone, mid).status == MilestoneStatus.PENDING
    stale = head.post(url, data={"completed_on": "2026-11-18", "evidence": "x", "version": version - 1})
    assert stale.status_code == 409 and "已被他人修改" in stale.get_data(as_text=True)
    for who in ("staff", "other_head", "leader"):
        refused = client_as(app, world.users[who]).post(url, data={"completed_on": "2026-11-18", "evidence": "x",
                                                                   "version": version})
        assert refused.status_code == 403 and "无权访问" in refused.get_data(as_text=True)
    # a milestone of another task, or an unknown one, is not this project's node
    assert head.get(f"/projects/{world.project_id}/nodes/999999/done").status_code == 404
    done = world.node_ids[ProjectNode.INITIATION]
    again = head.post(f"/projects/{world.project_id}/nodes/{done}/done",
                      data={"completed_on": "2026-11-18", "evidence": "x", "version": fresh(app, Milestone, done).version_id})
    assert again.status_code == 409 and "该节点已办结" in again.get_data(as_text=True)


def test_the_planner_may_also_mark_a_node_done(world: World, app: Flask) -> None:
    planner = client_as(app, world.users["planner"])
    mid = world.node_ids[ProjectNode.TOPPING_OUT]
    ms = fresh(app, Milestone, world.node_ids[ProjectNode.GROUNDBREAKING])
    assert planner.post(f"/projects/{world.project_id}/nodes/{ms.id}/done", data={
        "completed_on": "2026-11-02", "evidence": "开工报告", "version": ms.version_id}).status_code == 302
    m = fresh(app, Milestone, mid)
    assert planner.post(f"/projects/{world.project_id}/nodes/{mid}/done", data={
        "completed_on": "2026-11-20", "evidence": "结顶验收", "version": m.version_id}).status_code == 302
    assert fresh(app, KeyProject, world.project_id).status == ProjectStatus.BUILDING


def test_an_overdue_construction_node_raises_an_alert_and_doing_it_resolves_it(demo: Flask) -> None:
    p = project_of(demo, "专栏4")
    node = _node(p, ProjectNode.GROUNDBREAKING)
    assert node.due_date == date(2025, 10, 31) and node.status == MilestoneStatus.PENDING
    with demo.extensions["tracker.sessions"]() as s:
        scan(s)
        s.commit()
        alert = s.scalars(select(Alert).where(Alert.milestone_id == node.id, Alert.status == AlertStatus.OPEN)).one()
        assert alert.target == AlertTarget.MILESTONE and alert.task_id == p.task_id
        assert alert.level.value == "overdue" and alert.due_date == date(2025, 10, 31)
    html = client_as(demo, "zj_head_yz").get(f"/projects/{p.id}").get_data(as_text=True)
    assert "逾期22天" in html
    node = fresh(demo, Milestone, node.id)  # the scan marked it 已逾期 (a new version)
    assert node.status == MilestoneStatus.OVERDUE
    head = client_as(demo, "zj_head_yz")
    assert head.post(f"/projects/{p.id}/nodes/{node.id}/done", data={
        "completed_on": "2025-11-20", "evidence": "施工许可证已取得", "version": node.version_id}).status_code == 302
    with demo.extensions["tracker.sessions"]() as s:
        scan(s)
        s.commit()
        assert s.scalar(select(Alert.status).where(Alert.milestone_id == node.id)) == AlertStatus.RESOLVED
