"""Adjustment requests: the lead department asks, the planner decides, the change is applied once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.adjustments.models import AdjustmentRequest, AdjustmentState
from tracker.adjustments.services import decide, request_deadline, request_target, withdraw
from tracker.alerts.models import Alert, AlertStatus, AlertTarget
from tracker.alerts.services import scan
from tracker.audit import AuditEntry
from tracker.auth.models import User
from tracker.errors import DomainError, InvalidTransition, PermissionDenied
from tracker.indicators.models import Indicator
from tracker.regions.models import Department
from tracker.tasks.models import Task, TaskLevel, TaskStatus

from ..conftest import login


def _user(session: Session, name: str) -> User:
    return session.scalars(select(User).where(User.username == name)).one()


def _overdue_task(session: Session) -> Task:
    return session.scalars(select(Task).join(Task.lead_department).where(
        Department.name == "疾控处", Department.region_id == 1, Task.level == TaskLevel.ANNUAL,
        Task.status.in_([TaskStatus.IN_PROGRESS, TaskStatus.OVERDUE]), Task.deadline < date(2025, 11, 22))
        .order_by(Task.deadline)).first()


def _open_task_alert(session: Session, task: Task) -> Alert | None:
    return session.scalar(select(Alert).where(Alert.task_id == task.id, Alert.target == AlertTarget.TASK,
                                              Alert.status == AlertStatus.OPEN))


def test_approved_extension_resolves_the_overdue_alert_at_once(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    task = _overdue_task(session)
    scan(session, date(2025, 11, 22))
    session.commit()
    assert _open_task_alert(session, task) is not None
    old = task.deadline
    req = request_deadline(session, _user(session, "zj_head_jk"), task, date(2027, 3, 31), "设备到货延迟")
    with pytest.raises(DomainError, match="待审批"):
        request_deadline(session, _user(session, "zj_head_jk"), task, date(2027, 4, 30), "再次申请")
    alert_id = _open_task_alert(session, task).id  # type: ignore[union-attr]
    decide(session, _user(session, "zj_planner"), req, approve=True, comment="同意")
    session.commit()
    assert task.deadline == date(2027, 3, 31) and req.old_date == old
    # no scan in between: the approval re-evaluated the task
    assert _open_task_alert(session, task) is None and task.status == TaskStatus.IN_PROGRESS
    gone = session.get(Alert, alert_id)
    assert gone is not None and gone.status == AlertStatus.RESOLVED and gone.resolved_reason == "deadline_changed"
    changes = scan(session, date(2025, 11, 22))  # and the day's scan finds nothing more to do
    assert (changes["raised"], changes["resolved"], changes["upgraded"]) == (0, 0, 0)
    history = list(session.scalars(select(AuditEntry).where(AuditEntry.object_type == "tasks",
                                                            AuditEntry.object_id == task.id,
                                                            AuditEntry.action == "adjusted")))
    assert history and history[0].changes["deadline"] == [old.isoformat(), "2027-03-31"]


def test_rejected_request_changes_nothing(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    task = _overdue_task(session)
    scan(session, date(2025, 11, 22))
    old, alert = task.deadline, _open_task_alert(session, task)
    req = request_deadline(session, _user(session, "zj_head_jk"), task, date(2027, 3, 31), "延期")
    with pytest.raises(DomainError, match="驳回须写明理由"):
        decide(session, _user(session, "zj_planner"), req, approve=False, comment="")
    decide(session, _user(session, "zj_planner"), req, approve=False, comment="不符合延期条件")
    scan(session, date(2025, 11, 22))
    session.commit()
    assert task.deadline == old and req.state == AdjustmentState.REJECTED
    assert _open_task_alert(session, task).id == alert.id
    with pytest.raises(InvalidTransition):
        decide(session, _user(session, "zj_planner"), req, approve=True, comment=None)


def test_who_may_ask_and_decide(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    task = _overdue_task(session)
    for name in ("zj_head_yz", "zj_staff_jk", "zj_supervisor"):
        with pytest.raises(PermissionDenied):
            request_deadline(session, _user(session, name), task, date(2027, 3, 31), "x")
    req = request_deadline(session, _user(session, "zj_head_jk"), task, date(2027, 3, 31), "x")
    for name in ("zj_head_jk", "wz_planner", "zj_supervisor"):
        with pytest.raises(PermissionDenied):
            decide(session, _user(session, name), req, approve=True, comment=None)
    with pytest.raises(PermissionDenied):
        withdraw(session, _user(session, "zj_planner"), req)
    withdraw(session, _user(session, "zj_head_jk"), req)
    assert req.state == AdjustmentState.WITHDRAWN
    with pytest.raises(DomainError, match="理由"):
        request_deadline(session, _user(session, "zj_head_jk"), task, date(2027, 3, 31), "  ")
    with pytest.raises(DomainError, match="早于任务开始"):
        request_deadline(session, _user(session, "zj_head_jk"), task, date(2000, 1, 1), "x")


def test_indicator_target_change(demo, session: Session) -> None:  # type: ignore[no-untyped-def]
    indicator = session.scalars(select(Indicator).where(Indicator.lead_department.has(name="疾控处"))).first()
    if indicator is None:
        pytest.skip("no indicator led by 疾控处 in the demo")
    req = request_target(session, _user(session, "zj_head_jk"), indicator, "98以上", "已提前达标，提高目标")
    decide(session, _user(session, "zj_planner"), req, approve=True, comment=None)
    assert indicator.target_text == "98以上" and indicator.target_rule["op"] == "ge"
    assert req.old_value != "98以上"


def test_pages(demo) -> None:  # type: ignore[no-untyped-def]
    with demo.extensions["tracker.sessions"]() as s:
        task = _overdue_task(s)
    head, planner = demo.test_client(), demo.test_client()
    login(head, "zj_head_jk")
    login(planner, "zj_planner")
    assert head.get(f"/adjustments/task/{task.id}/new").status_code == 200
    bad = head.post(f"/adjustments/task/{task.id}/new", data={"milestone_id": 0, "new_date": "2027-02-30",
                                                              "reason": "x"})
    assert bad.status_code == 422
    ok = head.post(f"/adjustments/task/{task.id}/new", data={"milestone_id": 0, "new_date": "2027-02-28",
                                                             "reason": "资金未到位"})
    assert ok.status_code == 302
    with demo.extensions["tracker.sessions"]() as s:
        req = s.scalars(select(AdjustmentRequest).where(AdjustmentRequest.task_id == task.id)).one()
    assert "资金未到位" in planner.get("/adjustments/").get_data(as_text=True)
    assert planner.post(f"/adjustments/{req.id}", data={"decision": "approve", "comment": "同意"}).status_code == 302
    assert "2027年2月28日" in head.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert planner.get(f"/adjustments/task/{task.id}/new").status_code == 403
    outsider = demo.test_client()
    login(outsider, "hz_planner")
    assert outsider.get(f"/adjustments/{req.id}").status_code == 403
