"""Shaping the tree: splitting into annual tasks, linking upstream, moving, deleting and closing."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts.models import Alert, AlertLevel, AlertRule, AlertTarget
from tracker.supervision.models import CaseSource, SupervisionCase
from tracker.tasks.models import Milestone, MilestoneStatus, Task, TaskLevel, TaskStatus

from .conftest import audit_entries, client_for, dept_id, error_at, fresh, plan_id, task_form, task_of


@pytest.fixture
def key_task(planner: FlaskClient, db: Session) -> Task:
    """A new key task of the provincial plan running 2023-07-01 – 2025-06-30, with no children."""
    response = planner.post(f"/planning/plans/{plan_id(db)}/tasks/new",
                            data=task_form(db, start_date="2023-07-01", deadline="2025-06-30"))
    assert response.status_code == 302
    return task_of(db, "99")


# -------------------------------------------------------------------------------------------- split


def test_split_into_annual_tasks(planner: FlaskClient, db: Session, key_task: Task) -> None:
    response = planner.post(f"/planning/tasks/{key_task.id}/split", data={
        "years": ["2023", "2024", "2025"], "title": "智慧医院建设",
        "lead_department_id": str(key_task.lead_department_id),
        "co_department_ids": [str(d.id) for d in key_task.co_departments],
        "responsible_person": "徐海涛", "add_milestone": "y", "milestone_title": "完成年度建设任务"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{key_task.id}")
    children = sorted(task_of(db, "99").children, key=lambda t: t.code)
    assert [c.code for c in children] == ["99.1", "99.2", "99.3"]
    assert [c.title for c in children] == ["2023年度智慧医院建设", "2024年度智慧医院建设", "2025年度智慧医院建设"]
    assert all(c.level == TaskLevel.ANNUAL and c.status == TaskStatus.NOT_STARTED for c in children)
    # Jan 1 – Dec 31, clipped to the parent's own dates
    assert [(c.year, c.start_date, c.deadline) for c in children] == [
        (2023, date(2023, 7, 1), date(2023, 12, 31)),
        (2024, date(2024, 1, 1), date(2024, 12, 31)),
        (2025, date(2025, 1, 1), date(2025, 6, 30)),
    ]
    assert all(c.lead_department_id == key_task.lead_department_id for c in children)
    assert all(sorted(d.name for d in c.co_departments) == ["省卫生健康信息中心", "财务处"] for c in children)
    assert [[(m.title, m.due_date) for m in c.milestones] for c in children] == [
        [("完成年度建设任务", date(2023, 12, 31))], [("完成年度建设任务", date(2024, 12, 31))],
        [("完成年度建设任务", date(2025, 6, 30))],
    ]
    [split] = audit_entries(db, "tasks", key_task.id, "split")
    assert split.changes["children"][1] == "99.1 2023年度智慧医院建设、99.2 2024年度智慧医院建设、99.3 2025年度智慧医院建设"
    assert all(audit_entries(db, "tasks", c.id, "create") for c in children)
    assert all(audit_entries(db, "milestones", c.milestones[0].id, "create") for c in children)
    html = planner.get(f"/plans/{plan_id(db)}").get_data(as_text=True)
    assert "2024年度智慧医院建设" in html


def test_split_form_defaults_to_the_parents_departments_and_open_years(planner: FlaskClient, key_task: Task) -> None:
    html = planner.get(f"/planning/tasks/{key_task.id}/split").get_data(as_text=True)
    for year in (2023, 2024, 2025):
        assert f'checked id="years-{year - 2021}" name="years" type="checkbox" value="{year}"' in html
    for year in (2021, 2022):  # before the task starts
        assert f'id="years-{year - 2021}" name="years" type="checkbox" value="{year}"' in html
        assert f'checked id="years-{year - 2021}"' not in html
    assert f'<option selected value="{key_task.lead_department_id}">' in html


def test_split_without_milestones_and_with_other_departments(planner: FlaskClient, db: Session,
                                                             key_task: Task) -> None:
    lead = dept_id(db, "疾控处")
    response = planner.post(f"/planning/tasks/{key_task.id}/split", data={
        "years": ["2024"], "title": "年度工作", "lead_department_id": str(lead), "co_department_ids": []})
    assert response.status_code == 302
    [child] = task_of(db, "99").children
    assert child.lead_department_id == lead and child.co_departments == [] and child.milestones == []


def test_split_numbers_after_existing_children(planner: FlaskClient, db: Session) -> None:
    measure = task_of(db, "1.1")  # has annual tasks 1.1.1 … 1.1.3 for 2021, 2023 and 2025
    years = sorted(c.year for c in measure.children if c.year)
    free = [y for y in range(2021, 2026) if y not in years]
    assert free, "the demo measure should leave a year open"
    response = planner.post(f"/planning/tasks/{measure.id}/split", data={
        "years": [str(free[0])], "title": "补充年度任务", "lead_department_id": str(measure.lead_department_id)})
    assert response.status_code == 302
    codes = [c.code for c in task_of(db, "1.1").children]
    assert f"1.1.{len(codes)}" in codes


@pytest.mark.parametrize(
    ("years", "message"),
    [
        ([], "请至少选择一个年度。"),
        (["2026"], "2026年不在规划期（2021—2025年）内。"),
        (["2022"], "2022年早于该任务的开始日期（2023年7月1日），不能拆分到该年。"),
        (["abc"], "选择无效"),
    ],
)
def test_split_refusals(planner: FlaskClient, db: Session, key_task: Task, years: list[str], message: str) -> None:
    response = planner.post(f"/planning/tasks/{key_task.id}/split", data={
        "years": years, "title": "年度工作", "lead_department_id": str(key_task.lead_department_id)})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "years", message)
    assert task_of(db, "99").children == []


def test_split_refuses_a_year_that_already_has_an_annual_task(planner: FlaskClient, db: Session,
                                                             key_task: Task) -> None:
    data = {"years": ["2024"], "title": "年度工作", "lead_department_id": str(key_task.lead_department_id)}
    assert planner.post(f"/planning/tasks/{key_task.id}/split", data=data).status_code == 302
    response = planner.post(f"/planning/tasks/{key_task.id}/split", data=data)
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "years", "2024年已有年度任务“99.1 2024年度年度工作”。")
    assert len(task_of(db, "99").children) == 1


def test_split_refuses_year_after_the_deadline_and_foreign_lead(planner: FlaskClient, db: Session) -> None:
    response = planner.post(f"/planning/plans/{plan_id(db)}/tasks/new",
                            data=task_form(db, start_date="2021-01-01", deadline="2022-06-30"))
    assert response.status_code == 302
    task = task_of(db, "99")
    response = planner.post(f"/planning/tasks/{task.id}/split", data={
        "years": ["2023"], "title": "x", "lead_department_id": str(task.lead_department_id)})
    assert error_at(response.get_data(as_text=True), "years", "2023年晚于该任务的截止日期（2022年6月30日），不能拆分到该年。")
    response = planner.post(f"/planning/tasks/{task.id}/split", data={
        "years": ["2022"], "title": "x", "lead_department_id": str(dept_id(db, "疾控处", "330300"))})
    assert error_at(response.get_data(as_text=True), "lead_department_id", "牵头单位须为本规划所在地区（浙江省）的部门")


def test_only_key_tasks_and_measures_split(planner: FlaskClient, db: Session) -> None:
    for code in ("三", "1.1.1"):
        response = planner.get(f"/planning/tasks/{task_of(db, code).id}/split")
        assert response.status_code == 400
        assert "只有重点任务和工作举措可以拆分为年度任务。" in response.get_data(as_text=True)


# ----------------------------------------------------------------------------------------- upstream


def test_link_and_unlink_upstream(demo: Flask, db: Session) -> None:
    client = client_for(demo, "wz_planner")
    task = task_of(db, "2", "wz-14")
    target = task_of(db, "3")
    html = client.get(f"/planning/tasks/{task.id}/upstream").get_data(as_text=True)
    assert "浙江省卫生健康事业发展“十四五”规划" in html and target.title[:20] in html
    response = client.post(f"/planning/tasks/{task.id}/upstream",
                           data={"upstream_task_id": str(target.id), "version": str(task.version_id)})
    assert response.status_code == 302
    assert task_of(db, "2", "wz-14").upstream_task_id == target.id
    entry = audit_entries(db, "tasks", task.id, "link_upstream")[-1]
    assert entry.changes["upstream"][1] == "省卫健十四五 3"
    html = client.get(f"/tasks/{target.id}").get_data(as_text=True)
    assert "温州卫健十四五 2" in html  # the provincial task lists the city task that implements it

    task = task_of(db, "2", "wz-14")
    response = client.post(f"/planning/tasks/{task.id}/upstream", data={"upstream_task_id": "",
                                                                         "version": str(task.version_id)})
    assert response.status_code == 302 and task_of(db, "2", "wz-14").upstream_task_id is None
    assert audit_entries(db, "tasks", task.id, "link_upstream")[-1].summary == "解除上位任务关联"


@pytest.mark.parametrize(("which", "message"), [("own", "上位任务须属于上位规划"), ("unknown", "所选上位任务不存在。")])
def test_upstream_refusals(demo: Flask, db: Session, which: str, message: str) -> None:
    client = client_for(demo, "wz_planner")
    task = task_of(db, "2", "wz-14")
    upstream = str(task_of(db, "3", "wz-14").id) if which == "own" else "99999999"
    response = client.post(f"/planning/tasks/{task.id}/upstream",
                           data={"upstream_task_id": upstream, "version": str(task.version_id)})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "upstream_task_id", message)


# --------------------------------------------------------------------------------------------- move


def test_move_key_task_to_another_chapter(planner: FlaskClient, db: Session) -> None:
    task, chapter = task_of(db, "1"), task_of(db, "四")
    old_parent = task.parent
    assert old_parent is not None
    response = planner.post(f"/planning/tasks/{task.id}/move",
                            data={"parent_id": str(chapter.id), "version": str(task.version_id)})
    assert response.status_code == 302
    moved = task_of(db, "1")
    assert moved.parent_id == chapter.id and moved.sort_order > max(
        (c.sort_order for c in chapter.children if c.id != moved.id), default=-1)
    assert [c.code for c in moved.children]  # the subtree came along
    [entry] = audit_entries(db, "tasks", task.id, "move")
    assert entry.changes["parent"] == [f"{old_parent.code} {old_parent.title}", f"{chapter.code} {chapter.title}"]


def test_move_to_the_top_and_annual_between_measures(planner: FlaskClient, db: Session) -> None:
    key = task_of(db, "1")
    assert planner.post(f"/planning/tasks/{key.id}/move",
                        data={"parent_id": "", "version": str(key.version_id)}).status_code == 302
    assert task_of(db, "1").parent_id is None
    annual, measure = task_of(db, "1.1.1"), task_of(db, "1.2")
    assert planner.post(f"/planning/tasks/{annual.id}/move",
                        data={"parent_id": str(measure.id), "version": str(annual.version_id)}).status_code == 302
    assert task_of(db, "1.1.1").parent_id == measure.id


@pytest.mark.parametrize(
    ("code", "target", "message"),
    [
        ("1", "code:1.1", "不能把任务移到它自己或它的下级任务之下。"),
        ("1", "code:1", "不能把任务移到它自己或它的下级任务之下。"),
        ("1.1", "code:三", "工作举措须位于重点任务之下。"),
        ("1.1", "", "工作举措须位于重点任务之下。"),
        ("三", "code:四", "章只能位于规划的顶层。"),
        ("1.1.1", "code:1.1.2", "年度任务须位于重点任务或工作举措之下。"),
        ("1.1.1", "code:1.1", "任务已经位于该位置。"),
        ("1.1", "wz:1", "所选上级任务不存在或不属于本规划。"),
        ("1.1", "99999999", "所选上级任务不存在或不属于本规划。"),
        ("1.1", "-3", "选择无效"),
    ],
)
def test_move_refusals(planner: FlaskClient, db: Session, code: str, target: str, message: str) -> None:
    task = task_of(db, code)
    parent_before = task.parent_id
    if target.startswith("code:"):
        target = str(task_of(db, target[5:]).id)
    elif target.startswith("wz:"):
        target = str(task_of(db, target[3:], "wz-14").id)
    response = planner.post(f"/planning/tasks/{task.id}/move", data={"parent_id": target, "version": str(task.version_id)})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "parent_id", message)
    assert task_of(db, code).parent_id == parent_before


def test_move_form_offers_only_fitting_places(planner: FlaskClient, db: Session) -> None:
    measure = task_of(db, "1.1")
    html = planner.get(f"/planning/tasks/{measure.id}/move").get_data(as_text=True)
    assert f'value="{task_of(db, "2").id}"' in html  # another key task
    assert f'value="{task_of(db, "三").id}"' not in html  # a chapter
    assert f'value="{task_of(db, "1.1.1").id}"' not in html  # its own subtree
    assert "（规划顶层）" not in html


# ------------------------------------------------------------------------------------ delete, close


def test_delete_a_fresh_task(planner: FlaskClient, db: Session, key_task: Task) -> None:
    task_id, version = key_task.id, key_task.version_id
    response = planner.post(f"/planning/tasks/{task_id}/milestones", data={"title": "启动", "due_date": "2024-01-31"})
    assert response.status_code == 302
    html = planner.get(f"/planning/tasks/{task_id}/delete").get_data(as_text=True)
    assert "删除任务" in html and "不能删除" not in html
    response = planner.post(f"/planning/tasks/{task_id}/delete", data={"version": str(version)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/plans/{plan_id(db)}")
    fresh(db)
    assert db.get(Task, task_id) is None
    assert db.scalars(select(Milestone).where(Milestone.task_id == task_id)).all() == []
    [entry] = audit_entries(db, "tasks", task_id, "delete")
    assert entry.summary == "删除重点任务 99 推进智慧医院建设"
    assert entry.changes["title"] == ["推进智慧医院建设", None]
    assert entry.changes["milestones"] == ["启动（2024-01-31）", None]
    assert planner.get(f"/tasks/{task_id}").status_code == 404


def _add_alert(db: Session, task: Task) -> None:
    db.add(Alert(rule=AlertRule.DEADLINE, level=AlertLevel.OVERDUE, target=AlertTarget.TASK, task_id=task.id,
                 due_date=task.deadline, raised_on=date(2026, 11, 1), level_changed_on=date(2026, 11, 1)))
    db.commit()


def _add_case(db: Session, task: Task) -> None:
    assert task.lead_department_id is not None
    db.add(SupervisionCase(source=CaseSource.ROUTINE, task_id=task.id, department_id=task.lead_department_id,
                           title="督办", problem="进度滞后"))
    db.commit()


@pytest.mark.parametrize(
    ("code", "prepare", "reason"),
    [
        ("1.1", None, "有 3 项下级任务"),
        ("1.1.1", None, "份进展填报"),
        ("1.1.1", None, "个已完成的节点"),
        ("99", _add_alert, "有 1 条预警记录"),
        ("99", _add_case, "有 1 件督办件"),
    ],
)
def test_delete_refused_when_it_would_lose_history(planner: FlaskClient, db: Session, key_task: Task, code: str,
                                                   prepare, reason: str) -> None:  # type: ignore[no-untyped-def]
    task = task_of(db, code)
    if prepare:
        prepare(db, task)
        task = task_of(db, code)
    html = planner.get(f"/planning/tasks/{task.id}/delete").get_data(as_text=True)
    assert "该任务不能删除" in html and reason in html
    response = planner.post(f"/planning/tasks/{task.id}/delete", data={"version": str(task.version_id)})
    assert response.status_code == 422
    assert "不能删除；可以终止该任务。" in response.get_data(as_text=True)
    fresh(db)
    assert db.get(Task, task.id) is not None
    assert audit_entries(db, "tasks", task.id, "delete") == []


def test_delete_refused_when_a_city_task_implements_it(planner: FlaskClient, db: Session) -> None:
    upstream = task_of(db, "1", "wz-14").upstream
    assert upstream is not None
    html = planner.get(f"/planning/tasks/{upstream.id}/delete").get_data(as_text=True)
    assert "项下级规划任务承接该任务" in html


def test_close_task_with_reason(planner: FlaskClient, db: Session) -> None:
    task = task_of(db, "1.2")
    open_children = [c.code for c in task.children if c.is_open]
    response = planner.post(f"/planning/tasks/{task.id}/close",
                            data={"reason": "职能调整，改由其他规划承接", "version": str(task.version_id)})
    assert response.status_code == 302
    closed = task_of(db, "1.2")
    assert closed.status == TaskStatus.TERMINATED and closed.status_note == "职能调整，改由其他规划承接"
    for child in closed.children:
        if child.code in open_children:
            assert child.status == TaskStatus.TERMINATED
            assert child.status_note == "随上级任务 1.2 终止：职能调整，改由其他规划承接"
            assert all(m.status != MilestoneStatus.PENDING for m in child.milestones)
        assert audit_entries(db, "tasks", child.id, "close") or child.code not in open_children
    [entry] = audit_entries(db, "tasks", task.id, "close")
    assert entry.changes["status"] == ["进行中", "已终止"]
    html = planner.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "已终止" in html and "职能调整，改由其他规划承接" in html


def test_close_refusals(planner: FlaskClient, db: Session) -> None:
    task = task_of(db, "1.2")
    response = planner.post(f"/planning/tasks/{task.id}/close", data={"reason": " ", "version": str(task.version_id)})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "reason", "请填写终止原因。")
    done = task_of(db, "1.1.1")
    response = planner.post(f"/planning/tasks/{done.id}/close", data={"reason": "x", "version": str(done.version_id)})
    assert response.status_code == 422
    assert "该任务的状态为“已完成”，无需终止。" in response.get_data(as_text=True)
    assert task_of(db, "1.1.1").status == TaskStatus.DONE


def test_stale_move_and_close_are_refused(planner: FlaskClient, db: Session) -> None:
    task = task_of(db, "1.2")
    stale = str(task.version_id - 1 if task.version_id > 1 else task.version_id + 5)
    for action, data in (("close", {"reason": "x"}), ("move", {"parent_id": ""}), ("delete", {}),
                         ("upstream", {"upstream_task_id": ""})):
        response = planner.post(f"/planning/tasks/{task.id}/{action}", data={**data, "version": stale})
        assert response.status_code == 409, action
        assert "该任务在您打开表单后已被他人修改，您的修改没有保存。" in response.get_data(as_text=True)
    assert task_of(db, "1.2").status != TaskStatus.TERMINATED


def test_nothing_new_under_a_terminated_task(planner: FlaskClient, db: Session, key_task: Task) -> None:
    response = planner.post(f"/planning/tasks/{key_task.id}/close",
                            data={"reason": "并入其他任务", "version": str(key_task.version_id)})
    assert response.status_code == 302
    response = planner.post(f"/planning/tasks/{key_task.id}/split", data={
        "years": ["2024"], "title": "年度工作", "lead_department_id": str(key_task.lead_department_id)})
    assert response.status_code == 422
    assert "“99 推进智慧医院建设”已终止，不能在其下安排任务。" in response.get_data(as_text=True)
    response = planner.post(f"/planning/plans/{plan_id(db)}/tasks/new", data=task_form(
        db, parent_id=str(key_task.id), level="measure", code="99.1"))
    assert error_at(response.get_data(as_text=True), "parent_id", "已终止，不能在其下安排任务。")
    measure = task_of(db, "2.1")
    response = planner.post(f"/planning/tasks/{measure.id}/move",
                            data={"parent_id": str(key_task.id), "version": str(measure.version_id)})
    assert error_at(response.get_data(as_text=True), "parent_id", "已终止，不能在其下安排任务。")
    assert task_of(db, "99").children == []


def test_split_title_must_fit_with_the_year(planner: FlaskClient, db: Session, key_task: Task) -> None:
    response = planner.post(f"/planning/tasks/{key_task.id}/split", data={
        "years": ["2024"], "title": "长" * 296, "lead_department_id": str(key_task.lead_department_id)})
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "title", "名称不能超过290字。")


def test_closing_waives_pending_milestones(planner: FlaskClient, db: Session, key_task: Task) -> None:
    planner.post(f"/planning/tasks/{key_task.id}/milestones", data={"title": "完成建设方案", "due_date": "2024-06-30"})
    response = planner.post(f"/planning/tasks/{key_task.id}/close",
                            data={"reason": "项目取消", "version": str(task_of(db, "99").version_id)})
    assert response.status_code == 302
    [milestone] = task_of(db, "99").milestones
    assert milestone.status == MilestoneStatus.WAIVED
    [entry] = audit_entries(db, "milestones", milestone.id, "waive")
    assert entry.changes == {"status": ["未完成", "已豁免"]} and entry.summary == "任务 99 终止，节点豁免"
