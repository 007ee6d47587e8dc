"""The scan changes records behind open forms: each status it sets raises the record's version by one, so a form
opened before the scan is refused after it (409, nothing saved), and a scan that changes nothing leaves the
versions alone, so a form opened before it still saves."""

from __future__ import annotations

import re
from datetime import date

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.tasks.models import Milestone, MilestoneStatus, Task, TaskStatus

from ..conftest import login
from .world import World


def _form_version(client: FlaskClient, path: str) -> int:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="version" type="hidden" value="(\d+)"', html)
    assert match, html[:500]
    return int(match[1])


def _fresh(session: Session, obj: Task | Milestone) -> Task | Milestone:
    """The record as the requests left it (ending the test session's read transaction, which may predate them)."""
    ident = obj.id
    session.rollback()
    fresh = session.get(type(obj), ident)
    assert fresh is not None
    return fresh


def _status_form(version: int) -> dict[str, object]:
    return {"status": "in_progress", "progress": 60, "note": "加快推进", "version": version}


def _done_form(version: int) -> dict[str, object]:
    return {"completed_on": "2026-11-20", "evidence": "已完成验收", "version": version}


def test_a_task_form_opened_before_the_scan_turned_it_overdue_is_refused(client: FlaskClient, session: Session,
                                                                          world: World, run_scan) -> None:
    task = world.task(session, date(2026, 11, 21), progress=40)
    session.commit()
    login(client, "head_jk")
    opened = _form_version(client, f"/tasks/{task.id}/status")
    assert opened == task.version_id

    run_scan()
    scanned = _fresh(session, task)
    assert (scanned.status, scanned.version_id) == (TaskStatus.OVERDUE, opened + 1)
    assert scanned.updated_at == timeutil.now()

    response = client.post(f"/tasks/{task.id}/status", data=_status_form(opened))
    assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True)
    after = _fresh(session, task)
    assert (after.status, after.progress, after.version_id) == (TaskStatus.OVERDUE, 40, opened + 1)
    # a form opened after the scan saves
    assert client.post(f"/tasks/{task.id}/status",
                       data=_status_form(_form_version(client, f"/tasks/{task.id}/status"))).status_code == 302


def test_a_task_form_opened_before_the_scan_ended_its_overdue_is_refused(client: FlaskClient, session: Session,
                                                                         world: World, run_scan) -> None:
    task = world.task(session, date(2026, 11, 1), progress=40)
    session.commit()
    run_scan()
    _fresh(session, task).deadline = date(2026, 12, 31)  # an approved adjustment
    session.commit()
    login(client, "head_jk")
    opened = _form_version(client, f"/tasks/{task.id}/status")

    run_scan()
    scanned = _fresh(session, task)
    assert (scanned.status, scanned.version_id) == (TaskStatus.IN_PROGRESS, opened + 1)
    assert client.post(f"/tasks/{task.id}/status", data=_status_form(opened)).status_code == 409
    assert _fresh(session, task).version_id == opened + 1


def test_a_milestone_form_opened_before_the_scan_turned_it_overdue_is_refused(client: FlaskClient,
                                                                               session: Session, world: World,
                                                                               run_scan) -> None:
    task = world.task(session, date(2026, 12, 31))
    milestone = world.milestone(session, task, date(2026, 11, 21))
    session.commit()
    login(client, "head_jk")
    opened = _form_version(client, f"/milestones/{milestone.id}/complete")
    assert opened == milestone.version_id

    run_scan()
    scanned = _fresh(session, milestone)
    assert (scanned.status, scanned.version_id) == (MilestoneStatus.OVERDUE, opened + 1)
    assert scanned.updated_at == timeutil.now()
    response = client.post(f"/milestones/{milestone.id}/complete", data=_done_form(opened))
    assert response.status_code == 409 and "已被他人修改" in response.get_data(as_text=True)
    after = _fresh(session, milestone)
    assert (after.status, after.completed_on, after.version_id) == (MilestoneStatus.OVERDUE, None, opened + 1)


def test_a_milestone_form_opened_before_the_scan_ended_its_overdue_is_refused(client: FlaskClient,
                                                                              session: Session, world: World,
                                                                              run_scan) -> None:
    task = world.task(session, date(2026, 12, 31))
    milestone = world.milestone(session, task, date(2026, 11, 1))
    session.commit()
    run_scan()
    _fresh(session, milestone).due_date = date(2026, 11, 30)  # an approved adjustment
    session.commit()
    login(client, "head_jk")
    opened = _form_version(client, f"/milestones/{milestone.id}/complete")

    run_scan()
    scanned = _fresh(session, milestone)
    assert (scanned.status, scanned.version_id) == (MilestoneStatus.PENDING, opened + 1)
    assert client.post(f"/milestones/{milestone.id}/complete", data=_done_form(opened)).status_code == 409
    assert _fresh(session, milestone).status == MilestoneStatus.PENDING


def test_a_scan_that_changes_nothing_leaves_open_forms_valid(client: FlaskClient, session: Session, world: World,
                                                             run_scan) -> None:
    task = world.task(session, date(2026, 11, 1), progress=40)
    milestone = world.milestone(session, task, date(2026, 10, 1))
    session.commit()
    run_scan()  # both become 已逾期
    login(client, "head_jk")
    task_version = _form_version(client, f"/tasks/{task.id}/status")
    milestone_version = _form_version(client, f"/milestones/{milestone.id}/complete")

    counts = run_scan()  # the same day again: nothing to change
    assert (counts["tasks_overdue"], counts["milestones_overdue"]) == (0, 0)
    assert client.post(f"/milestones/{milestone.id}/complete", data=_done_form(milestone_version)).status_code == 302
    assert client.post(f"/tasks/{task.id}/status", data=_status_form(task_version)).status_code == 302
    assert _fresh(session, milestone).status == MilestoneStatus.DONE
