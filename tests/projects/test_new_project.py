"""The planner adds a project to a plan's register (新增项目): its task and its register entry in one form,
with the register form's rules; and a task the planner turns into 重大工程/重大项目 is listed in the register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.audit import AuditEntry
from tracker.projects.models import FundingSource, KeyProject, ProjectKind, ProjectStatus
from tracker.regions.models import Department, Region
from tracker.tasks.models import Task, TaskKind, TaskLevel

from .. import factories as f
from .conftest import World, build_world, client_as, field_error, table


@dataclass
class Place:
    world: World
    chapter_id: int
    key_task_id: int
    owner_id: int
    other_id: int
    city_id: int
    elsewhere_id: int


@pytest.fixture
def place(session: Session) -> Place:
    """The small world (a 亿元 plan of 2021–2025), with a chapter and a key task to put projects under."""
    w = build_world(session)
    project_task = session.get(Task, w.task_id)
    plan, owner = project_task.plan, project_task.lead_department
    chapter = f.task(session, plan, None, level=TaskLevel.CHAPTER, code="四", title="优化医疗资源布局")
    key = f.task(session, plan, owner, code="7", title="建设高水平医院", parent=chapter,
                 start_date=date(2021, 1, 1), deadline=date(2025, 12, 31))
    other = session.scalar(select(Department).where(Department.name == "疾控处"))
    city = session.scalar(select(Region).where(Region.name == "测试市"))
    elsewhere = session.scalar(select(Region).where(Region.name == "外省"))
    session.commit()
    return Place(w, chapter.id, key.id, owner.id, other.id, city.id, elsewhere.id)


@pytest.fixture
def planner(place: Place, app: Flask) -> FlaskClient:
    return client_as(app, place.world.users["planner"])


def _form(place: Place, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "省肿瘤医院新院区", "code": "", "task_kind": "engineering", "parent_id": str(place.key_task_id),
        "lead_department_id": str(place.owner_id), "co_department_ids": [str(place.other_id)],
        "kind": "new", "status": "preparing", "region": str(place.city_id), "start_year": "2024", "end_year": "2027",
        "content": "新建医疗综合楼", "total_investment": "待定", "period_investment": "3.5",
        "funding_fiscal": "2", "funding_special_bond": "", "funding_self": "待定", "funding_social": "",
        "funding_other": "", **{f"planned_{y}": "" for y in range(2021, 2026)}, "planned_2025": "1.25",
    }
    data.update(changes)
    return data


def _counts(app: Flask) -> tuple[int, int]:
    with app.extensions["tracker.sessions"]() as s:
        return (s.scalar(select(func.count()).select_from(Task)) or 0,
                s.scalar(select(func.count()).select_from(KeyProject)) or 0)


def test_the_register_offers_the_form_in_the_plans_unit(place: Place, planner: FlaskClient) -> None:
    register = planner.get(f"/plans/{place.world.plan_id}/projects").get_data(as_text=True)
    assert f'href="/plans/{place.world.plan_id}/projects/new"' in register and "新增项目" in register
    html = planner.get(f"/plans/{place.world.plan_id}/projects/new").get_data(as_text=True)
    for label in ("项目名称", "项目类别", "所属章节或重点任务", "责任单位", "配合单位", "建设性质", "建设地点",
                  "总投资（亿元）", "规划期内计划投资（亿元）", "财政（亿元）", "2021年计划投资（亿元）", "2025年计划投资（亿元）"):
        assert label in html, label
    assert "四 优化医疗资源布局" in html and "7 建设高水平医院" in html  # the places it may go
    assert "专栏1 省级区域医疗中心新院区" not in html  # a measure holds no project


def test_the_planner_adds_a_project_with_its_task_and_facts(place: Place, app: Flask, planner: FlaskClient) -> None:
    response = planner.post(f"/plans/{place.world.plan_id}/projects/new", data=_form(place))
    assert response.status_code == 302, field_error(response.get_data(as_text=True))
    with app.extensions["tracker.sessions"]() as s:
        project = s.scalars(select(KeyProject).join(Task).where(Task.title == "省肿瘤医院新院区")).one()
        assert response.headers["Location"].endswith(f"/projects/{project.id}")
        task = project.task
        # the task: under the key task (so a measure), the owner unit leads, due at the end of the completion year
        assert (task.plan_id, task.parent_id, task.level, task.kind) == (
            place.world.plan_id, place.key_task_id, TaskLevel.MEASURE, TaskKind.ENGINEERING)
        assert task.code == "7.1"
        assert task.lead_department_id == place.owner_id and [d.id for d in task.co_departments] == [place.other_id]
        assert (task.start_date, task.deadline) == (date(2024, 1, 1), date(2027, 12, 31))
        # the register entry, 待定 kept as a value of its own, amounts entered in 亿元 stored in 万元
        assert (project.kind, project.status, project.region_id, project.content) == (
            ProjectKind.NEW, ProjectStatus.PREPARING, place.city_id, "新建医疗综合楼")
        assert (project.total_investment, project.total_tbd) == (None, True)
        assert (project.period_investment, project.period_tbd) == (Decimal(35000), False)
        assert (project.start_year, project.end_year) == (2024, 2027)
        assert {x.source: x.amount for x in project.funding} == {FundingSource.FISCAL: Decimal(20000),
                                                                 FundingSource.SELF: None}
        assert {i.year: i.planned for i in project.investments} == {2025: Decimal(12500)}
        entry = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "key_projects",
                                                   AuditEntry.object_id == project.id)).one()
        assert entry.action == "create" and entry.summary == "新增重大项目 7.1 省肿瘤医院新院区"
        assert entry.changes["total_tbd"] == [None, True] and entry.changes["funding.self"] == [None, "待定"]
        assert entry.changes["planned.2025"] == [None, "12500.0000"]
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "tasks", AuditEntry.object_id == task.id, AuditEntry.action == "create")) == 1
        project_id = project.id
    page = planner.get(f"/projects/{project_id}").get_data(as_text=True)
    assert "省肿瘤医院新院区" in page and "已新增项目 7.1 省肿瘤医院新院区" in page
    register = planner.get(f"/plans/{place.world.plan_id}/projects").get_data(as_text=True)
    rows = {r[0]: r for r in table(register, "project-table")}
    assert rows["7.1"][1:7] == ["省肿瘤医院新院区", "新建", "前期", "医政医管处", "测试市", "2024—2027"]
    assert rows["7.1"][7] == "待定" and rows["7.1"][8] == "3.5"
    assert "另有1个项目投资待定，未计入合计" in register


def test_a_project_may_go_under_a_chapter_or_at_the_top_with_the_next_code(place: Place, app: Flask,
                                                                           planner: FlaskClient) -> None:
    url = f"/plans/{place.world.plan_id}/projects/new"
    assert planner.post(url, data=_form(place, title="甲", parent_id=str(place.chapter_id), end_year="",
                                        task_kind="project")).status_code == 302
    assert planner.post(url, data=_form(place, title="乙", parent_id="", code="项目A")).status_code == 302
    with app.extensions["tracker.sessions"]() as s:
        first, second = (s.scalars(select(Task).where(Task.title == t)).one() for t in ("甲", "乙"))
        assert (first.level, first.parent_id, first.kind, first.code) == (
            TaskLevel.KEY_TASK, place.chapter_id, TaskKind.PROJECT, "8")
        assert first.deadline == date(2025, 12, 31)  # no completion year: the end of the plan period
        assert (second.level, second.parent_id, second.code) == (TaskLevel.KEY_TASK, None, "项目A")


@pytest.mark.parametrize(("changes", "message"), [
    # the register form's own rules, as in the edit form
    ({"total_investment": "3", "period_investment": "3.5"}, "规划期内计划投资不能超过总投资。"),
    ({"total_investment": "3", "period_investment": "3", "funding_fiscal": "2", "funding_self": "1.5"},
     "各渠道资金合计（3.5亿元）超过总投资（3亿元）。"),
    ({"end_year": "2023"}, "建成年份不能早于开工年份。"),
    ({"planned_2024": "待定"}, "不能填“待定”"),
    ({"period_investment": "三亿"}, "不是有效金额"),
    ({"kind": "castle"}, "不是有效的选择。"),
    ({"region": "elsewhere"}, "不是有效的选择。"),
    # the task's rules, as in the planning form
    ({"title": " "}, "请填写项目名称。"),
    ({"lead_department_id": ""}, "请选择牵头单位"),
    ({"code": "7"}, "编号“7”在本规划中已被“建设高水平医院”使用。"),
    ({"task_kind": "reform"}, "不是有效的选择。"),
    ({"parent_id": "project"}, "项目须列在某一章或某项重点任务之下。"),
    ({"parent_id": "999999"}, "所选上级任务不存在或不属于本规划。"),
])
def test_refused_input_is_422_at_the_field_and_creates_nothing(place: Place, app: Flask, planner: FlaskClient,
                                                               changes: dict[str, str], message: str) -> None:
    changes = dict(changes)
    if changes.get("region") == "elsewhere":
        changes["region"] = str(place.elsewhere_id)
    if changes.get("parent_id") == "project":
        changes["parent_id"] = str(place.world.task_id)  # a measure
    before = _counts(app)
    response = planner.post(f"/plans/{place.world.plan_id}/projects/new", data=_form(place, **changes))
    assert response.status_code == 422
    errors = field_error(response.get_data(as_text=True))
    assert any(message in e for e in errors), errors
    assert _counts(app) == before


def test_only_the_planner_of_the_plans_region_adds_projects(place: Place, app: Flask) -> None:
    url = f"/plans/{place.world.plan_id}/projects/new"
    before = _counts(app)
    for role in ("head", "staff", "other_head", "outsider", "leader"):
        client = client_as(app, place.world.users[role])
        assert 'projects/new"' not in client.get(f"/plans/{place.world.plan_id}/projects").get_data(as_text=True)
        for response in (client.get(url), client.post(url, data=_form(place))):
            assert response.status_code == 403, role
            html = response.get_data(as_text=True)
            assert "只有本级规划处可以维护项目库" in html or "不在您的管辖范围内" in html, role
    assert _counts(app) == before


# ------------------------------------------------------------------------------ a task becomes a project


def _task_form(task: Task, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "level": task.level.value, "code": task.code, "title": task.title, "description": task.description or "",
        "kind": task.kind.value, "lead_department_id": str(task.lead_department_id or ""),
        "co_department_ids": [str(d.id) for d in task.co_departments], "responsible_person": "",
        "start_date": task.start_date.isoformat() if task.start_date else "",
        "deadline": task.deadline.isoformat() if task.deadline else "", "year": "", "weight": str(task.weight),
        "upstream_task_id": "", "version": str(task.version_id),
    }
    data.update(changes)
    return data


def test_a_task_turned_into_a_project_is_listed_in_the_register(place: Place, app: Flask,
                                                                planner: FlaskClient) -> None:
    with app.extensions["tracker.sessions"]() as s:
        key = s.get(Task, place.key_task_id)
        data = _task_form(key, kind="project")
    response = planner.post(f"/planning/tasks/{place.key_task_id}/edit", data=data)
    assert response.status_code == 302
    with app.extensions["tracker.sessions"]() as s:
        project = s.scalars(select(KeyProject).where(KeyProject.task_id == place.key_task_id)).one()
        # the register's defaults, located in the plan's region; the facts are the planner's to fill in
        assert (project.kind, project.status, project.total_investment, project.total_tbd) == (
            ProjectKind.OTHER, ProjectStatus.PREPARING, None, False)
        assert project.region_id == project.task.plan.region_id
        entry = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "key_projects",
                                                   AuditEntry.object_id == project.id)).one()
        assert entry.summary == "“重大项目”列入重大项目库（7 建设高水平医院）"
        project_id = project.id
    # on to the register entry, with a word on why
    assert response.headers["Location"].endswith(f"/projects/{project_id}/edit")
    html = planner.get(response.headers["Location"]).get_data(as_text=True)
    assert "已列入重大项目库。请补充建设内容、投资和资金来源。" in html
    register = planner.get(f"/plans/{place.world.plan_id}/projects").get_data(as_text=True)
    assert "建设高水平医院" in {r[1] for r in table(register, "project-table")}
    # saving it again (still a project) creates nothing more
    with app.extensions["tracker.sessions"]() as s:
        data = _task_form(s.get(Task, place.key_task_id), title="建设高水平医院（省级）")
    response = planner.post(f"/planning/tasks/{place.key_task_id}/edit", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{place.key_task_id}")
    assert _counts(app)[1] == 2


def test_a_new_project_kind_task_is_listed_but_not_the_work_below_a_project(place: Place, app: Flask,
                                                                           planner: FlaskClient) -> None:
    url = f"/planning/plans/{place.world.plan_id}/tasks/new"
    base = {"level": "key_task", "code": "9", "title": "省级医学中心", "description": "", "kind": "engineering",
            "lead_department_id": str(place.owner_id), "responsible_person": "", "start_date": "2022-01-01",
            "deadline": "2025-12-31", "year": "", "weight": "1", "upstream_task_id": "",
            "parent_id": str(place.chapter_id)}
    response = planner.post(url, data=base)
    assert response.status_code == 302
    with app.extensions["tracker.sessions"]() as s:
        task = s.scalars(select(Task).where(Task.code == "9", Task.plan_id == place.world.plan_id)).one()
        assert task.project is not None and response.headers["Location"].endswith(f"/projects/{task.project.id}/edit")
        task_id = task.id
    # an annual task below it takes its kind by default: it is the project's work, not another project
    annual = {**base, "level": "annual", "code": "9.1", "title": "2025年主体结顶", "year": "2025",
              "start_date": "2025-01-01", "deadline": "2025-12-31", "parent_id": str(task_id)}
    response = planner.post(url, data=annual)
    assert response.status_code == 302
    with app.extensions["tracker.sessions"]() as s:
        child = s.scalars(select(Task).where(Task.code == "9.1", Task.plan_id == place.world.plan_id)).one()
        assert child.kind == TaskKind.ENGINEERING and child.project is None
        assert response.headers["Location"].endswith(f"/tasks/{child.id}")
    # a task of another kind stays out of the register
    response = planner.post(url, data={**base, "code": "10", "title": "深化医改", "kind": "reform"})
    assert response.status_code == 302 and "/tasks/" in response.headers["Location"]
    assert _counts(app)[1] == 2
