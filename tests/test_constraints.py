"""The database itself refuses rows that break the model's invariants."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.alerts.models import Alert, AlertLevel, AlertRule, AlertTarget
from tracker.audit import AuditEntry, AuditImmutable, record
from tracker.supervision.models import CaseSource, CaseState, SupervisionCase
from tracker.tasks.models import MilestoneStatus, TaskLevel, TaskStatus

from . import factories as f


@pytest.fixture
def world(session: Session):  # type: ignore[no-untyped-def]
    province = f.region(session)
    dept = f.department(session, province, "疾控处")
    plan = f.plan(session, province)
    session.commit()
    return session, dept, plan


def _refused(session: Session) -> None:
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_task_without_lead_department_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    session, _dept, plan = world
    f.task(session, plan, None, level=TaskLevel.CHAPTER, code="一", deadline=None)  # chapters may have none
    session.commit()
    with pytest.raises(IntegrityError):
        f.task(session, plan, None)
    session.rollback()


def test_deadline_before_start_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    session, dept, plan = world
    with pytest.raises(IntegrityError):
        f.task(session, plan, dept, start_date=date(2026, 5, 1), deadline=date(2026, 4, 30))
    session.rollback()


@pytest.mark.parametrize("progress", [-1, 101, 1000])
def test_progress_outside_0_to_100_is_refused(world, progress: int) -> None:  # type: ignore[no-untyped-def]
    session, dept, plan = world
    with pytest.raises(IntegrityError):
        f.task(session, plan, dept, progress=progress)
    session.rollback()


def test_done_needs_completion_date_and_only_done_has_one(world) -> None:  # type: ignore[no-untyped-def]
    session, dept, plan = world
    with pytest.raises(IntegrityError):
        f.task(session, plan, dept, status=TaskStatus.DONE, progress=100)
    session.rollback()
    with pytest.raises(IntegrityError):
        f.task(session, plan, dept, status=TaskStatus.IN_PROGRESS, completed_on=date(2026, 3, 1))
    session.rollback()


def test_annual_task_needs_year_and_codes_are_unique_per_plan(world) -> None:  # type: ignore[no-untyped-def]
    session, dept, plan = world
    with pytest.raises(IntegrityError):
        f.task(session, plan, dept, level=TaskLevel.ANNUAL, year=None)
    session.rollback()
    f.task(session, plan, dept, code="1.1")
    with pytest.raises(IntegrityError):
        f.task(session, plan, dept, code="1.1")
    session.rollback()


def test_unknown_status_value_is_refused_by_check(world) -> None:  # type: ignore[no-untyped-def]
    session, dept, plan = world
    task = f.task(session, plan, dept)
    session.commit()
    from sqlalchemy import text

    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE tasks SET status = 'finished' WHERE id = :id"), {"id": task.id})
    session.rollback()


def test_milestone_done_needs_completion_date(world) -> None:  # type: ignore[no-untyped-def]
    session, dept, plan = world
    task = f.task(session, plan, dept)
    with pytest.raises(IntegrityError):
        f.milestone(session, task, status=MilestoneStatus.DONE)
    session.rollback()


def test_one_open_alert_per_item(world) -> None:  # type: ignore[no-untyped-def]
    session, dept, plan = world
    task = f.task(session, plan, dept)
    day = date(2026, 11, 22)
    for _ in range(2):
        session.add(Alert(rule=AlertRule.DEADLINE, level=AlertLevel.OVERDUE, target=AlertTarget.TASK, task_id=task.id,
                          raised_on=day, level_changed_on=day))
    _refused(session)


def test_closed_case_needs_outcome_and_one_open_case_per_task(world) -> None:  # type: ignore[no-untyped-def]
    session, dept, plan = world
    task = f.task(session, plan, dept)
    session.add(SupervisionCase(source=CaseSource.ROUTINE, task=task, department=dept, title="t", problem="p",
                                state=CaseState.CLOSED, closed_at=datetime.now(UTC), number_year=2026, number_seq=1,
                                issued_at=datetime.now(UTC), response_deadline=date(2026, 12, 1)))
    _refused(session)
    for _ in range(2):
        session.add(SupervisionCase(source=CaseSource.ROUTINE, task_id=task.id, department_id=dept.id, title="t",
                                    problem="p"))
    _refused(session)


def test_audit_entries_cannot_be_changed_or_deleted(world) -> None:  # type: ignore[no-untyped-def]
    session, dept, plan = world
    task = f.task(session, plan, dept)
    entry = record(session, None, task, "create", {"status": [None, "未启动"]}, "新建任务")
    session.commit()  # a stored entry, so both refusals below meet a real row
    entry_id = entry.id

    entry = session.get(AuditEntry, entry_id)
    entry.summary = "changed"
    with pytest.raises(AuditImmutable, match="cannot be changed"):
        session.flush()
    session.rollback()

    entry = session.get(AuditEntry, entry_id)
    assert entry is not None and entry.summary == "新建任务"
    session.delete(entry)
    with pytest.raises(AuditImmutable, match="cannot be deleted"):
        session.flush()
    session.rollback()

    session.expunge_all()
    kept = session.get(AuditEntry, entry_id)
    assert kept is not None and kept.summary == "新建任务" and kept.changes == {"status": [None, "未启动"]}


# Deleting a plan deletes its tasks, their milestones and alerts, and its indicators — thousands of rows, each
# followed by the database's foreign-key actions: every row pointing at one of them must be found by an index, or
# each deleted row reads the whole pointing table (50,000 cases for each of 140,000 alerts at nation scale). The
# plan itself is one row: one read of a table pointing at it is no matter.
DELETED_WITH_A_PLAN = {"tasks", "milestones", "alerts", "indicators"}


def test_every_row_a_plans_deletion_reaches_is_found_by_an_index() -> None:
    import tracker.models  # noqa: F401  (every table)
    from tracker.models import Base

    unindexed = []
    for table in Base.metadata.tables.values():
        leading = {next(iter(index.columns)).name for index in table.indexes}
        leading |= {next(iter(c.columns)).name for c in table.constraints
                    if getattr(c, "columns", None) and not c.__class__.__name__.startswith("ForeignKey")
                    and not c.__class__.__name__.startswith("Check")}
        for fk in table.foreign_keys:
            if fk.column.table.name in DELETED_WITH_A_PLAN and fk.parent.name not in leading:
                unindexed.append(f"{table.name}.{fk.parent.name} → {fk.column.table.name}")
    assert unindexed == [], unindexed
