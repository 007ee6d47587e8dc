"""State follows the facts at once: finishing a task or a milestone resolves its alerts in the same request, and
saving progress on an overdue task keeps it 已逾期 — the nightly scan is the safety net and finds nothing left."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts.models import Alert, AlertStatus, AlertTarget, ResolveReason
from tracker.tasks.models import TaskStatus
from tracker.tasks.services import StatusUpdate, complete_milestone, update_task_status

from .conftest import open_alerts
from .world import World

TODAY = date(2026, 11, 22)  # the suite's frozen clock


def _alerts(session: Session, **where: Any) -> list[Alert]:
    session.expire_all()
    return list(session.scalars(select(Alert).filter_by(**where).order_by(Alert.id)))


def test_a_milestone_done_resolves_its_alert_at_once(session: Session, world: World,
                                                     run_scan: Callable[..., dict[str, Any]]) -> None:
    task = world.task(session, date(2026, 12, 31), status=TaskStatus.IN_PROGRESS)
    late = world.milestone(session, task, date(2026, 10, 31))
    other = world.milestone(session, task, date(2026, 11, 10))
    session.commit()
    run_scan()
    assert {a.milestone_id for a in _alerts(session, status=AlertStatus.OPEN)} == {late.id, other.id}

    complete_milestone(session, world.users["head_jk"], late, completed_on=TODAY, evidence="已完成验收",
                       version=late.version_id)
    session.commit()
    [resolved] = _alerts(session, milestone_id=late.id)
    assert (resolved.status, resolved.resolved_reason) == (AlertStatus.RESOLVED, ResolveReason.DONE.value)
    assert {a.milestone_id for a in _alerts(session, status=AlertStatus.OPEN)} == {other.id}  # the other stays
    assert run_scan()["resolved"] == 0  # nothing left for the scan


def test_a_task_done_resolves_its_alerts_and_its_milestones_at_once(
        session: Session, world: World, run_scan: Callable[..., dict[str, Any]]) -> None:
    task = world.task(session, date(2026, 11, 1), status=TaskStatus.IN_PROGRESS, progress=80)
    world.milestone(session, task, date(2026, 10, 15))
    session.commit()
    run_scan()
    assert {a.target for a in _alerts(session, status=AlertStatus.OPEN)} == {AlertTarget.TASK, AlertTarget.MILESTONE}
    session.refresh(task)
    assert task.status == TaskStatus.OVERDUE

    update_task_status(session, world.users["head_jk"], task,
                       StatusUpdate(TaskStatus.DONE, 100, None, task.version_id))
    session.commit()
    assert open_alerts(session) == []
    assert {a.resolved_reason for a in _alerts(session, task_id=task.id)} == {ResolveReason.DONE.value}
    assert run_scan()["resolved"] == 0


def test_progress_on_an_overdue_task_keeps_it_overdue(session: Session, world: World,
                                                       run_scan: Callable[..., dict[str, Any]]) -> None:
    task = world.task(session, date(2026, 11, 1), status=TaskStatus.IN_PROGRESS, progress=40)
    session.commit()
    run_scan()
    session.refresh(task)
    assert task.status == TaskStatus.OVERDUE
    for chosen in (TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED):
        update_task_status(session, world.users["head_jk"], task, StatusUpdate(chosen, 60, None, task.version_id))
        session.commit()
        session.refresh(task)
        assert (task.status, task.progress) == (TaskStatus.OVERDUE, 60)
    assert len(open_alerts(session)) == 1  # still overdue: its alert stays open
    # suspending it (with the reason) ends it, as finishing or a new deadline would
    update_task_status(session, world.users["head_jk"], task,
                       StatusUpdate(TaskStatus.SUSPENDED, 60, "等待设备招标", task.version_id))
    session.commit()
    session.refresh(task)
    assert task.status == TaskStatus.SUSPENDED
