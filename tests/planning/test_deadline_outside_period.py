"""A task deadline outside its plan's period (2030 in a 2021–2025 plan) is saved only with the planner's
confirmation and a reason, which the task's history keeps; an unchanged deadline stays as it was."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.planning.services import TaskData, create_task
from tracker.tasks.models import TaskLevel

from .conftest import audit_entries, edit_data, error_at, plan_id, task_form, task_of
from .test_tasks import task_of_or_none

REFUSED = "截止日期2030年12月31日不在规划期（2021—2025年）内。如确需如此，请勾选确认并写明理由。"
REASON = "该项工程跨规划期建设，经分管领导同意延续至下一规划期"


def _new(planner: FlaskClient, db: Session, **overrides: object):  # type: ignore[no-untyped-def]
    return planner.post(f"/planning/plans/{plan_id(db)}/tasks/new", data=task_form(db, **overrides))


def test_a_new_task_past_the_period_asks_for_confirmation_and_a_reason(planner: FlaskClient, db: Session) -> None:
    form = planner.get(f"/planning/plans/{plan_id(db)}/tasks/new").get_data(as_text=True)
    assert 'name="confirm_outside_period"' not in form  # asked only when needed

    response = _new(planner, db, deadline="2030-12-31")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_at(html, "deadline", REFUSED)
    assert 'name="confirm_outside_period"' in html and 'name="outside_period_reason"' in html
    assert task_of_or_none(db, "99") is None

    response = _new(planner, db, deadline="2030-12-31", outside_period_reason=REASON)  # a reason is not a yes
    assert response.status_code == 422 and error_at(response.get_data(as_text=True), "deadline", REFUSED)
    response = _new(planner, db, deadline="2030-12-31", confirm_outside_period="y", outside_period_reason=" ")
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "outside_period_reason", "请写明截止日期超出规划期的理由。")
    response = _new(planner, db, deadline="2030-12-31", confirm_outside_period="y", outside_period_reason="长" * 501)
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "outside_period_reason", "理由不能超过500字。")
    response = _new(planner, db, start_date="2019-01-01", deadline="2019-12-31")  # before the period too
    assert response.status_code == 422
    assert error_at(response.get_data(as_text=True), "deadline", "截止日期2019年12月31日不在规划期")
    assert task_of_or_none(db, "99") is None

    response = _new(planner, db, deadline="2030-12-31", confirm_outside_period="y", outside_period_reason=REASON)
    assert response.status_code == 302
    task = task_of(db, "99")
    assert task.deadline == date(2030, 12, 31)
    [entry] = audit_entries(db, "tasks", task.id, "create")
    assert entry.summary == f"新建重点任务 99；截止日期2030年12月31日超出规划期（2021—2025年），理由：{REASON}"
    assert REASON in planner.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_moving_a_deadline_past_the_period_asks_unchanged_ones_do_not(planner: FlaskClient, db: Session) -> None:
    task = task_of(db, "专栏4")  # the seed's deadline 2027-12-31 is already past the 2021–2025 period
    assert task.deadline == date(2027, 12, 31)
    response = planner.post(f"/planning/tasks/{task.id}/edit", data=edit_data(task, title="“医学高峰”计划（续）"))
    assert response.status_code == 302  # left as it was: nothing to confirm

    task = task_of(db, "专栏4")
    response = planner.post(f"/planning/tasks/{task.id}/edit", data=edit_data(task, deadline="2030-12-31"))
    assert response.status_code == 422 and error_at(response.get_data(as_text=True), "deadline", REFUSED)
    assert task_of(db, "专栏4").deadline == date(2027, 12, 31)
    response = planner.post(f"/planning/tasks/{task.id}/edit", data=edit_data(
        task, deadline="2030-12-31", confirm_outside_period="y", outside_period_reason=REASON))
    assert response.status_code == 302
    assert task_of(db, "专栏4").deadline == date(2030, 12, 31)
    entry = audit_entries(db, "tasks", task.id, "update")[-1]
    assert entry.changes["deadline"][1] is not None and REASON in (entry.summary or "")


def test_callers_with_nobody_to_ask_are_not_asked(planner: FlaskClient, db: Session) -> None:
    """Imports, cascades and key projects bring deadlines from elsewhere: TaskData leaves the question open."""
    plan = task_of(db, "三").plan
    actor = db.scalars(select(User).where(User.username == "zj_planner")).one()
    task = create_task(db, actor, plan, task_of(db, "三").id, TaskData(
        level=TaskLevel.KEY_TASK, code="98", title="跨期工程", lead_department_id=task_of(db, "1.1.3").lead_department_id,
        start_date=date(2025, 1, 1), deadline=date(2031, 6, 30)))
    assert task.deadline == date(2031, 6, 30)
    db.rollback()
