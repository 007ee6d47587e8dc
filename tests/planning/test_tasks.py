"""Creating and editing tasks at every level: the happy paths, each refusal next to its field, history."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.planning.models import Plan
from tracker.tasks.models import Task, TaskLevel, TaskStatus

from .conftest import (
    audit_entries,
    client_for,
    dept_id,
    edit_data,
    error_at,
    fresh,
    plan_id,
    task_form,
    task_of,
)


def _new(planner: FlaskClient, db: Session, **overrides: object):  # type: ignore[no-untyped-def]
    return planner.post(f"/planning/plans/{plan_id(db)}/tasks/new", data=task_form(db, **overrides))


def test_create_key_task_with_departments(planner: FlaskClient, db: Session) -> None:
    response = _new(planner, db)
    assert response.status_code == 302
    task = task_of(db, "99")
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert task.level == TaskLevel.KEY_TASK and task.parent is not None and task.parent.code == "三"
    assert task.lead_department is not None and task.lead_department.name == "医政医管处"
    assert sorted(d.name for d in task.co_departments) == ["省卫生健康信息中心", "财务处"]
    assert (task.start_date, task.deadline, task.weight) == (date(2025, 1, 1), date(2025, 12, 31), 2)
    assert task.status == TaskStatus.NOT_STARTED and task.progress == 0 and task.year is None
    [entry] = audit_entries(db, "tasks", task.id, "create")
    assert entry.changes["title"] == [None, "推进智慧医院建设"]
    assert "indicators" not in entry.changes and "upstream" not in entry.changes  # nothing empty is listed
    assert entry.changes["lead_department"] == [None, "医政医管处"]
    assert entry.actor is not None and entry.actor.username == "zj_planner"
    html = planner.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "推进智慧医院建设" in html and "省卫生健康信息中心" in html and "2025年12月31日" in html


def test_create_every_level(planner: FlaskClient, db: Session) -> None:
    pid = plan_id(db)
    response = planner.post(f"/planning/plans/{pid}/tasks/new", data={
        "parent_id": "", "level": "chapter", "code": "十二", "title": "加强规划实施保障", "kind": "task",
        "lead_department_id": "", "weight": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/plans/{pid}")
    chapter = task_of(db, "十二")
    assert chapter.level == TaskLevel.CHAPTER and chapter.lead_department is None and chapter.deadline is None

    assert _new(planner, db, parent_id=str(chapter.id), code="88").status_code == 302
    key = task_of(db, "88")
    assert _new(planner, db, parent_id=str(key.id), level="measure", code="88.1").status_code == 302
    measure = task_of(db, "88.1")
    response = _new(planner, db, parent_id=str(measure.id), level="annual", code="88.1.1", year="2025",
                    start_date="", deadline="")
    assert response.status_code == 302
    annual = task_of(db, "88.1.1")
    assert annual.parent_id == measure.id and annual.year == 2025
    assert (annual.start_date, annual.deadline) == (date(2025, 1, 1), date(2025, 12, 31))
    # an annual task may also sit directly under a key task
    assert _new(planner, db, parent_id=str(key.id), level="annual", code="88.2", year="2024").status_code == 302


def test_new_task_form_suggests_code_and_inherits_departments(planner: FlaskClient, db: Session) -> None:
    parent = task_of(db, "1.1")
    html = planner.get(f"/planning/plans/{plan_id(db)}/tasks/new?parent={parent.id}&level=annual").get_data(
        as_text=True)
    assert 'value="1.1.5"' in html or 'value="1.1.' in html
    assert f'<option selected value="{parent.lead_department_id}">' in html
    html = planner.get(f"/planning/plans/{plan_id(db)}/tasks/new?level=chapter").get_data(as_text=True)
    assert 'value="十二"' in html  # the plan has chapters 一 to 十一


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "   "}, "title", "请填写任务名称。"),
        ({"code": ""}, "code", "请填写编号。"),
        ({"start_date": "2026-06-01", "deadline": "2026-05-31"}, "deadline", "截止日期不能早于开始日期。"),
        ({"deadline": ""}, "deadline", "请填写截止日期。"),
        ({"lead_department_id": ""}, "lead_department_id", "请选择牵头单位"),
        ({"code": "1.1"}, "code", "编号“1.1”在本规划中已被"),
        ({"level": "measure"}, "level", "工作举措须位于重点任务之下。"),
        ({"parent_id": "", "level": "annual", "year": "2024"}, "level", "年度任务须位于重点任务或工作举措之下。"),
        ({"level": "planet"}, "level", "选择无效"),
        ({"weight": "0"}, "weight", "权重须为1到100之间的整数。"),
        ({"parent_id": "99999999"}, "parent_id", "所选上级任务不存在或不属于本规划。"),
        ({"parent_id": "abc"}, "parent_id", "选择无效"),
        ({"parent_id": "99999999999999999999"}, "parent_id", "选择无效"),
        ({"lead_department_id": "99999999"}, "lead_department_id", "所选牵头单位不存在。"),
        ({"co_department_ids": ["99999999"]}, "co_department_ids", "所选配合单位不存在。"),
        ({"upstream_task_id": "1"}, "upstream_task_id", "本规划没有设置上位规划"),
        ({"start_date": "2026-13-45"}, "start_date", "不是有效的日期值"),
    ],
)
def test_create_refusals_next_to_the_field(planner: FlaskClient, db: Session, overrides: dict[str, str],
                                          field: str, message: str) -> None:
    response = _new(planner, db, **overrides)
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), field, message)
    assert task_of_or_none(db, "99") is None


def test_every_error_of_the_task_form_in_one_round(planner: FlaskClient, db: Session) -> None:
    """The form's own checks (an empty title, a bad date) and the plan's rules (a taken code, a department of
    another region, a deadline before the start, a weight out of range) all come back from one submit."""
    wenzhou = dept_id(db, "疾控处", "330300")
    response = _new(planner, db, title="", code="1.1", lead_department_id=str(wenzhou), start_date="2026-06-01",
                    deadline="2026-05-31", weight="0", co_department_ids=["99999999"])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_at(html, "title", "请填写任务名称。")
    assert error_at(html, "code", "编号“1.1”在本规划中已被")
    assert error_at(html, "lead_department_id", "“温州市疾控处”不属于该地区。")
    assert error_at(html, "co_department_ids", "所选配合单位不存在。")
    assert error_at(html, "deadline", "截止日期不能早于开始日期。")
    assert error_at(html, "weight", "权重须为1到100之间的整数。")
    assert task_of_or_none(db, "99") is None


def task_of_or_none(db: Session, code: str) -> Task | None:
    fresh(db)
    return db.scalar(select(Task).join(Plan).where(Plan.code == "zj-14", Task.code == code))


def test_lead_department_from_another_region_is_refused(planner: FlaskClient, db: Session) -> None:
    wenzhou = dept_id(db, "疾控处", "330300")
    response = _new(planner, db, lead_department_id=str(wenzhou))
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "lead_department_id",
                    "牵头单位须为本规划所在地区（浙江省）的部门，“温州市疾控处”不属于该地区。")
    response = _new(planner, db, co_department_ids=[str(wenzhou)])
    assert error_at(response.get_data(as_text=True), "co_department_ids", "配合单位须为本规划所在地区（浙江省）的部门")
    assert task_of_or_none(db, "99") is None


def test_annual_task_needs_a_year_inside_the_plan_period(planner: FlaskClient, db: Session) -> None:
    parent = str(task_of(db, "1.1").id)
    response = _new(planner, db, parent_id=parent, level="annual", code="1.1.9", year="")
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "year", "年度任务须填写年度。")
    response = _new(planner, db, parent_id=parent, level="annual", code="1.1.9", year="2027")
    assert error_at(response.get_data(as_text=True), "year", "年度须在规划期（2021—2025年）内。")


def test_lead_department_is_dropped_from_co_departments(planner: FlaskClient, db: Session) -> None:
    lead = dept_id(db, "医政医管处")
    assert _new(planner, db, co_department_ids=[str(lead), str(dept_id(db, "财务处"))]).status_code == 302
    assert [d.name for d in task_of(db, "99").co_departments] == ["财务处"]


def test_upstream_task_must_be_in_the_parent_plan(demo: Flask, db: Session) -> None:
    client = client_for(demo, "wz_planner")
    task = task_of(db, "1", "wz-14")
    own = task_of(db, "2", "wz-14")
    response = client.post(f"/planning/tasks/{task.id}/edit", data=edit_data(task, upstream_task_id=str(own.id)))
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "upstream_task_id", "上位任务须属于上位规划《浙江省卫生健康事业发展“十四五”规划》。")
    provincial = task_of(db, "2")
    response = client.post(f"/planning/tasks/{task.id}/edit", data=edit_data(task, upstream_task_id=str(provincial.id)))
    assert response.status_code == 302
    assert task_of(db, "1", "wz-14").upstream_task_id == provincial.id


def test_edit_task_writes_history(planner: FlaskClient, db: Session) -> None:
    task = task_of(db, "1.1.3")
    version, title = task.version_id, task.title
    new_co = [str(dept_id(db, "人事处")), str(dept_id(db, "法规处"))]
    response = planner.post(f"/planning/tasks/{task.id}/edit", data=edit_data(
        task, title="推进疾控机构标准化（修订）", co_department_ids=new_co, responsible_person="周雅琴"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task.id}")
    after = task_of(db, "1.1.3")
    assert after.title == "推进疾控机构标准化（修订）" and after.version_id == version + 1
    [entry] = audit_entries(db, "tasks", task.id, "update")
    assert entry.changes["title"] == [title, "推进疾控机构标准化（修订）"]
    assert sorted(entry.changes["co_departments"][1].split("、")) == ["人事处", "法规处"]
    assert entry.changes["responsible_person"][1] == "周雅琴"
    assert "status" not in entry.changes
    html = planner.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "修改任务信息" in html


def test_edit_changing_only_departments_moves_the_version(planner: FlaskClient, db: Session) -> None:
    task = task_of(db, "1.1.3")
    version = task.version_id
    response = planner.post(f"/planning/tasks/{task.id}/edit",
                            data=edit_data(task, co_department_ids=[str(dept_id(db, "人事处"))]))
    assert response.status_code == 302
    assert task_of(db, "1.1.3").version_id == version + 1


def test_edit_without_changes_writes_nothing(planner: FlaskClient, db: Session) -> None:
    task = task_of(db, "1.1.3")
    assert planner.post(f"/planning/tasks/{task.id}/edit", data=edit_data(task)).status_code == 302
    assert audit_entries(db, "tasks", task.id, "update") == []


def test_deadline_cannot_move_before_a_milestone(planner: FlaskClient, db: Session) -> None:
    task = task_of(db, "1.1.1")  # milestones due 2021-06-30 and 2021-11-30
    response = planner.post(f"/planning/tasks/{task.id}/edit", data=edit_data(task, deadline="2021-10-31"))
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "deadline", "节点“印发标准化建设标准及评估细则”的计划日期（2021年11月30日）晚于新的截止日期")
    assert task_of(db, "1.1.1").deadline == date(2021, 12, 31)


def test_level_change_must_fit_parent_and_children(planner: FlaskClient, db: Session) -> None:
    task = task_of(db, "1.1")  # a measure with annual tasks below
    response = planner.post(f"/planning/tasks/{task.id}/edit", data=edit_data(task, level="annual", year="2024"))
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "level", "年度任务须位于重点任务或工作举措之下。") or error_at(
        response.get_data(as_text=True), "level", "该任务下已有")
    key = task_of(db, "1")
    response = planner.post(f"/planning/tasks/{key.id}/edit", data=edit_data(key, level="chapter"))
    assert error_at(response.get_data(as_text=True), "level", "章只能位于规划的顶层。")


def test_stale_edit_is_refused_and_first_save_stays(demo: Flask, db: Session) -> None:
    first, second = client_for(demo, "zj_planner"), client_for(demo, "zj_planner")
    task = task_of(db, "1.1.3")
    url = f"/planning/tasks/{task.id}/edit"
    assert f'name="version" type="hidden" value="{task.version_id}"' in first.get(url).get_data(as_text=True)
    assert f'name="version" type="hidden" value="{task.version_id}"' in second.get(url).get_data(as_text=True)
    loaded = edit_data(task)

    assert first.post(url, data={**loaded, "title": "第一位的修改", "responsible_person": "李明"}).status_code == 302
    response = second.post(url, data={**loaded, "title": "第二位的修改"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "该任务在您打开表单后已被他人修改，您的修改没有保存。" in html
    assert "王建国" in html  # who saved in between
    assert "第二位的修改" in html and "第一位的修改" in html  # what differs, side by side
    after = task_of(db, "1.1.3")
    assert after.title == "第一位的修改" and after.responsible_person == "李明"
    assert len(audit_entries(db, "tasks", task.id, "update")) == 1
    # the form now carries the current version, so a deliberate second save goes through
    assert f'name="version" type="hidden" value="{after.version_id}"' in html


def test_missing_version_is_refused(planner: FlaskClient, db: Session) -> None:
    task = task_of(db, "1.1.3")
    data = edit_data(task, title="没有版本号")
    del data["version"]
    response = planner.post(f"/planning/tasks/{task.id}/edit", data=data)
    assert response.status_code == 422
    assert "表单缺少版本信息" in response.get_data(as_text=True)
    assert task_of(db, "1.1.3").title != "没有版本号"
