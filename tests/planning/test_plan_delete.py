"""Deleting a plan (删除规划): refused, naming what depends on it, while anything does; otherwise the plan and
what it defines go in set-based SQL, and one audit entry naming the plan survives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import audit
from tracker.adjustments.services import request_deadline
from tracker.alerts.models import Alert, AlertLevel, AlertRule, AlertStatus, AlertTarget
from tracker.attachments.models import Attachment
from tracker.audit import AuditEntry
from tracker.auth.models import User
from tracker.errors import DomainError, PermissionDenied, StaleObject
from tracker.evaluations.models import Evaluation, EvaluationKind
from tracker.imports.models import ImportDocument, ImportKind, ImportState
from tracker.indicators.models import Indicator, IndicatorNature, IndicatorValue
from tracker.planning import deletion
from tracker.planning.models import Plan, PlanLevel, PlanStageEvent
from tracker.planning.services import PlanData, TaskData, create_plan, create_task
from tracker.projects.models import (
    FundingSource,
    KeyProject,
    ProjectFunding,
    ProjectInvestment,
    ProjectStatus,
)
from tracker.regions.models import Department
from tracker.supervision.models import CaseSource
from tracker.supervision.services import CaseInput, file_case
from tracker.tasks.models import (
    Milestone,
    MilestoneStatus,
    ProgressReport,
    ProjectNode,
    ReportPeriod,
    ReportState,
    Task,
    TaskKind,
    TaskLevel,
    task_co_departments,
    task_indicators,
)
from tracker.timeutil import now

from .conftest import client_for, fresh, plan_id

TITLE = "浙江省医学装备更新专项规划"


def user(db: Session, username: str) -> User:
    return db.scalars(select(User).where(User.username == username)).one()


def dept(db: Session, name: str, region_id: int) -> Department:
    return db.scalars(select(Department).where(Department.region_id == region_id, Department.name == name)).one()


def make_plan(db: Session) -> Plan:
    """A new provincial plan with everything a plan defines: a chapter, a key project (task with a 开工 node, a
    measure under it, funding, yearly planned investment), an indicator linked to a task, a draft import."""
    planner = user(db, "zj_planner")
    plan = create_plan(db, planner, PlanData(title=TITLE, short_name="装备专项", level=PlanLevel.PROVINCE,
                                             start_year=2026, end_year=2030))
    jk = dept(db, "疾控处", plan.region_id)
    yz = dept(db, "医政医管处", plan.region_id)
    chapter = create_task(db, planner, plan, None, TaskData(level=TaskLevel.CHAPTER, code="一", title="装备更新"))
    key = create_task(db, planner, plan, chapter.id, TaskData(
        level=TaskLevel.KEY_TASK, code="1", title="省级医院装备更新工程", kind=TaskKind.ENGINEERING,
        lead_department_id=yz.id, co_department_ids=[jk.id], deadline=date(2028, 12, 31)))
    create_task(db, planner, plan, key.id, TaskData(level=TaskLevel.MEASURE, code="1.1", title="更新大型设备",
                                                   lead_department_id=yz.id, deadline=date(2027, 12, 31)))
    key.milestones.append(Milestone(title="开工", due_date=date(2026, 6, 30), node=ProjectNode.GROUNDBREAKING))
    indicator = Indicator(plan=plan, number=1, name="设备更新率", target_text="80%以上", nature=IndicatorNature.EXPECTED)
    db.add(indicator)
    key.indicators.append(indicator)
    project = KeyProject(task=key, status=ProjectStatus.PREPARING, total_investment=Decimal(5000))
    project.funding.append(ProjectFunding(source=FundingSource.FISCAL, amount=Decimal(3000)))
    project.investments.append(ProjectInvestment(year=2027, planned=Decimal(2000), state=ReportState.DRAFT))
    db.add(project)
    db.add(ImportDocument(sha256="a" * 64, filename="装备专项.docx", region_id=plan.region_id, plan_id=plan.id,
                          kind=ImportKind.DOCUMENT, state=ImportState.DRAFT, draft={}, created_at=now()))
    db.flush()
    return plan


def key_task(db: Session, plan: Plan) -> Task:
    return db.scalars(select(Task).where(Task.plan_id == plan.id, Task.code == "1")).one()


def _child_plan(db: Session, plan: Plan) -> None:
    create_plan(db, user(db, "zj_planner"), PlanData(title="装备专项年度计划", short_name="装备2027",
                                                     level=PlanLevel.PROVINCE, start_year=2027, end_year=2027,
                                                     parent_id=plan.id))


def _downstream(db: Session, plan: Plan) -> None:
    other = db.scalars(select(Plan).where(Plan.code == "wz-14")).one()
    task = db.scalars(select(Task).where(Task.plan_id == other.id, Task.level == TaskLevel.KEY_TASK)
                      .order_by(Task.id)).first()
    assert task is not None
    task.upstream_task_id = key_task(db, plan).id


def _report(db: Session, plan: Plan) -> None:
    task = key_task(db, plan)
    db.add(ProgressReport(task=task, department_id=task.lead_department_id, period=ReportPeriod.YEAR,
                          period_year=2026, period_no=1, progress=0))


def _indicator_value(db: Session, plan: Plan) -> None:
    indicator = db.scalars(select(Indicator).where(Indicator.plan_id == plan.id)).one()
    db.add(IndicatorValue(indicator=indicator, year=2026, value_text="60%"))


def _evaluation(db: Session, plan: Plan) -> None:
    db.add(Evaluation(plan_id=plan.id, kind=EvaluationKind.ANNUAL, year=2026, computed_at=now()))


def _case(db: Session, plan: Plan) -> None:
    task = key_task(db, plan)
    file_case(db, user(db, "zj_supervisor"), CaseInput(source=CaseSource.ROUTINE, department=task.lead_department,
                                                        task=task, title="督办", problem="进度滞后"))


def _acted_alert(db: Session, plan: Plan) -> None:
    task = key_task(db, plan)
    alert = Alert(rule=AlertRule.DEADLINE, level=AlertLevel.OVERDUE, target=AlertTarget.TASK, task_id=task.id,
                  status=AlertStatus.OPEN, raised_on=date(2026, 11, 1), level_changed_on=date(2026, 11, 1))
    db.add(alert)
    db.flush()
    case = file_case(db, user(db, "zj_supervisor"), CaseInput(source=CaseSource.ROUTINE,
                                                               department=task.lead_department, task=task,
                                                               title="督办", problem="逾期"))
    case.alert_id = alert.id


def _adjustment(db: Session, plan: Plan) -> None:
    request_deadline(db, user(db, "zj_head_yz"), key_task(db, plan), date(2029, 6, 30), "延期")


def _confirmed_import(db: Session, plan: Plan) -> None:
    db.add(ImportDocument(sha256="b" * 64, filename="已导入.docx", region_id=plan.region_id, plan_id=plan.id,
                          kind=ImportKind.DOCUMENT, state=ImportState.CONFIRMED, draft={}, created_at=now(),
                          confirmed_at=now()))


def _attachment(db: Session, plan: Plan) -> None:
    db.add(Attachment(filename="佐证.pdf", content_type="application/pdf", size=1, sha256="c" * 64,
                      storage_key="cc/c", uploaded_at=now(), task_id=key_task(db, plan).id))


def _done_node(db: Session, plan: Plan) -> None:
    node = key_task(db, plan).milestones[0]
    node.status, node.completed_on, node.evidence = MilestoneStatus.DONE, date(2026, 6, 1), "开工令"


def _progress(db: Session, plan: Plan) -> None:
    key_task(db, plan).progress = 20


def _figure(db: Session, plan: Plan) -> None:
    project = key_task(db, plan).project
    assert project is not None
    project.investments[0].completed = Decimal(100)


DEPENDENTS: dict[str, tuple[Callable[[Session, Plan], None], str]] = {
    "child plan": (_child_plan, "个下级规划（以本规划为上位规划）"),
    "downstream task": (_downstream, "项其他规划的任务承接本规划的任务"),
    "progress report": (_report, "份进展填报"),
    "indicator value": (_indicator_value, "条指标监测值"),
    "evaluation": (_evaluation, "次考核评估"),
    "supervision case": (_case, "件督办件"),
    "acted-on alert": (_acted_alert, "条已转为督办件的预警"),
    "adjustment": (_adjustment, "条调整申请"),
    "confirmed import": (_confirmed_import, "次已确认的导入"),
    "attachment": (_attachment, "个附件（佐证材料）"),
    "completed node": (_done_node, "个已办结的节点"),
    "task progress": (_progress, "项已有执行进度的任务"),
    "investment figure": (_figure, "个年度的项目完成投资填报"),
}


@pytest.mark.parametrize("kind", list(DEPENDENTS))
def test_each_kind_of_dependent_refuses_the_deletion(db: Session, kind: str) -> None:
    plan = make_plan(db)
    assert deletion.plan_dependents(db, plan) == []
    add, what = DEPENDENTS[kind]
    add(db, plan)
    db.flush()
    found = {d.what: d for d in deletion.plan_dependents(db, plan)}
    assert what in found and found[what].count == 1
    with pytest.raises(DomainError) as refused:
        deletion.delete_plan(db, user(db, "zj_planner"), plan, plan.version_id)
    assert f"1 {what}" in refused.value.message and "不能删除" in refused.value.message
    assert db.get(Plan, plan.id) is not None
    db.rollback()


def _count(db: Session, model: type, *where: object) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def test_a_plan_nothing_depends_on_goes_with_all_it_defines(db: Session) -> None:
    plan = make_plan(db)
    pid, task_ids = plan.id, list(db.scalars(select(Task.id).where(Task.plan_id == plan.id)))
    indicator_ids = list(db.scalars(select(Indicator.id).where(Indicator.plan_id == pid)))
    db.add(Alert(rule=AlertRule.DEADLINE, level=AlertLevel.DUE_SOON, target=AlertTarget.TASK, task_id=task_ids[1],
                 status=AlertStatus.OPEN, raised_on=date(2026, 11, 1), level_changed_on=date(2026, 11, 1)))
    db.commit()
    contents = dict((what.split("（")[0], n) for what, n in deletion.plan_contents(db, plan))
    assert contents == {"项任务": 3, "个节点": 1, "项指标": 1, "个重大项目": 1, "条阶段记录": 1, "条自动预警": 1,
                        "份待确认的导入草稿": 1}

    summary = deletion.delete_plan(db, user(db, "zj_planner"), plan, plan.version_id)
    db.commit()
    assert TITLE in summary and "3 项任务" in summary

    assert db.get(Plan, pid) is None
    assert _count(db, Task, Task.plan_id == pid) == 0
    assert _count(db, Milestone, Milestone.task_id.in_(task_ids)) == 0
    assert _count(db, Indicator, Indicator.plan_id == pid) == 0
    assert _count(db, KeyProject, KeyProject.task_id.in_(task_ids)) == 0
    assert _count(db, ProjectFunding) == _count(db, ProjectFunding, ProjectFunding.project_id.in_(
        select(KeyProject.id)))
    assert _count(db, PlanStageEvent, PlanStageEvent.plan_id == pid) == 0
    assert _count(db, Alert, Alert.task_id.in_(task_ids)) == 0
    assert db.scalar(select(func.count()).select_from(task_indicators)
                     .where(task_indicators.c.indicator_id.in_(indicator_ids))) == 0
    assert db.scalar(select(func.count()).select_from(task_co_departments)
                     .where(task_co_departments.c.task_id.in_(task_ids))) == 0
    draft = db.scalars(select(ImportDocument).where(ImportDocument.filename == "装备专项.docx")).one()
    assert draft.plan_id is None and draft.state == ImportState.DRAFT  # the draft stays, unlinked

    entry = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "plans", AuditEntry.object_id == pid,
                                                AuditEntry.action == "delete")).one()
    assert TITLE in (entry.summary or "")
    assert entry.changes["title"] == [TITLE, None] and entry.changes["code"][0].startswith("330000")


def test_a_stale_version_or_another_region_is_refused(db: Session) -> None:
    plan = make_plan(db)
    db.commit()
    with pytest.raises(StaleObject):
        deletion.delete_plan(db, user(db, "zj_planner"), plan, plan.version_id - 1)
    db.rollback()
    with pytest.raises(PermissionDenied):
        deletion.delete_plan(db, user(db, "hz_planner"), plan, plan.version_id)
    db.rollback()
    assert db.get(Plan, plan.id) is not None


# ------------------------------------------------------------------------------------------ the pages


def _new_plan_id(demo: Flask) -> int:
    with demo.extensions["tracker.sessions"]() as s:
        plan = make_plan(s)
        s.commit()
        return plan.id


def test_the_planner_confirms_then_the_plan_is_gone(demo: Flask, planner: FlaskClient, db: Session) -> None:
    pid = _new_plan_id(demo)
    page = planner.get(f"/plans/{pid}")
    assert f'href="/plans/{pid}/delete"' in page.get_data(as_text=True)
    confirm = planner.get(f"/plans/{pid}/delete")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "确认删除规划" in html and "3 项任务" in html and "1 个重大项目" in html
    version = fresh(db).get(Plan, pid).version_id  # type: ignore[union-attr]

    response = planner.post(f"/plans/{pid}/delete", data={"version": str(version)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/plans")
    assert fresh(db).get(Plan, pid) is None
    assert planner.get(f"/plans/{pid}").status_code == 404

    again = planner.post(f"/plans/{pid}/delete", data={"version": str(version)}, follow_redirects=True)
    assert again.status_code == 200 and "该规划已删除" in again.get_data(as_text=True)
    assert client_for(demo, "zj_planner").post(f"/plans/{pid + 1000}/delete",
                                               data={"version": "1"}).status_code == 404


def test_a_stale_confirmation_is_shown_again(demo: Flask, planner: FlaskClient, db: Session) -> None:
    pid = _new_plan_id(demo)
    response = planner.post(f"/plans/{pid}/delete", data={"version": "999"})
    assert response.status_code == 409
    assert "已被他人修改" in response.get_data(as_text=True)
    assert fresh(db).get(Plan, pid) is not None


def test_a_plan_with_dependents_shows_why_and_offers_no_button(planner: FlaskClient, db: Session) -> None:
    pid = plan_id(db)
    html = planner.get(f"/plans/{pid}/delete").get_data(as_text=True)
    assert "该规划不能删除" in html and "确认删除规划" not in html
    assert "份进展填报" in html and "个下级规划（以本规划为上位规划）" in html
    assert f'href="/plans/{plan_id(db, "wz-14")}"' in html  # the child plan is linked
    version = fresh(db).get(Plan, pid).version_id  # type: ignore[union-attr]
    response = planner.post(f"/plans/{pid}/delete", data={"version": str(version)})
    assert response.status_code == 422 and "不能删除" in response.get_data(as_text=True)
    assert fresh(db).get(Plan, pid) is not None


@pytest.mark.parametrize("username", ["hz_planner", "zj_head_jk", "zj_staff_jk", "zj_supervisor", "zj_evaluator",
                                      "zj_leader", "admin"])
def test_only_the_planner_of_the_region_may_delete(demo: Flask, db: Session, username: str) -> None:
    pid = _new_plan_id(demo)
    client = client_for(demo, username)
    assert client.get(f"/plans/{pid}/delete").status_code == 403
    version = fresh(db).get(Plan, pid).version_id  # type: ignore[union-attr]
    assert client.post(f"/plans/{pid}/delete", data={"version": str(version)}).status_code == 403
    assert fresh(db).get(Plan, pid) is not None
    assert f"/plans/{pid}/delete" not in client.get(f"/plans/{pid}").get_data(as_text=True)


def test_anonymous_requests_go_to_login(demo: Flask, db: Session) -> None:
    pid = _new_plan_id(demo)
    for response in (demo.test_client().get(f"/plans/{pid}/delete"),
                     demo.test_client().post(f"/plans/{pid}/delete", data={"version": "1"})):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert fresh(db).get(Plan, pid) is not None


def test_a_plan_given_a_deleted_plans_id_has_a_history_of_its_own(db: Session) -> None:
    """SQLite gives the highest id again after a deletion: the new plan's history starts after the old one's
    deletion (the database here may not reuse the id, so the new plan takes the old entries' id in the log)."""
    planner = user(db, "zj_planner")
    plan = make_plan(db)
    old_id = plan.id
    deletion.delete_plan(db, planner, plan, plan.version_id)
    db.commit()
    again = create_plan(db, planner, PlanData(title="浙江省卫生应急体系建设规划", short_name="省卫生应急",
                                              level=PlanLevel.PROVINCE, start_year=2026, end_year=2030))
    db.flush()
    # what SQLite would do: the entries of the new plan are filed under the deleted plan's id
    db.execute(AuditEntry.__table__.update().where(AuditEntry.object_type == "plans",
                                                   AuditEntry.object_id == again.id)
               .values(object_id=old_id))
    db.commit()
    entries = audit_history(db, old_id)
    assert entries and all(e.action != "delete" and TITLE not in (e.summary or "") for e in entries)
    assert _count(db, AuditEntry, AuditEntry.object_type == "plans", AuditEntry.object_id == old_id,
                  AuditEntry.action == "delete") == 1  # the deleted plan's record is kept, only not shown


def audit_history(db: Session, plan_id: int) -> list[AuditEntry]:
    return audit.history(db, ("plans", plan_id))
