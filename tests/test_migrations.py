"""The migrations build exactly the models, and can be undone."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tracker.db import make_engine
from tracker.models import Base
from tracker.schema import alembic_config
from tracker.search.models import include_name


@pytest.fixture
def empty_database_url(database_url: str, tmp_path):  # type: ignore[no-untyped-def]
    """A brand-new empty database of the same kind as the suite's."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"tracker_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_to_head_matches_models_and_downgrade_to_base(empty_database_url: str) -> None:
    cfg = alembic_config(empty_database_url)
    command.upgrade(cfg, "head")
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name}), Base.metadata)
        assert diff == []
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        command.downgrade(cfg, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(cfg, "head")  # and up again: the downgrade left nothing behind
    finally:
        engine.dispose()


REBUILDS_SUPERVISION_CASES = "94256afca283"  # adds CHECKs: SQLite rebuilds the table to do it


def _rows_referring_to_a_case(url: str) -> tuple[int, int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # type: ignore[return-value]
                         for t in ("supervision_cases", "case_steps", "attachments"))
    finally:
        engine.dispose()


def test_a_table_rebuild_keeps_the_rows_that_refer_to_the_table(empty_database_url: str) -> None:
    """A batch migration on SQLite creates a copy of the table, drops the old one and renames the copy; with
    foreign keys enforced, that drop would cascade away every case step and its files."""
    cfg = alembic_config(empty_database_url)
    command.upgrade(cfg, f"{REBUILDS_SUPERVISION_CASES}-1")
    engine = make_engine(empty_database_url)  # foreign keys on, as the application writes
    at = "2026-11-22 01:00:00.000000"
    try:
        with engine.begin() as conn:
            for sql in (
                "INSERT INTO regions (id, code, name, level) VALUES (1, '330000', '浙江省', 'province')",
                "INSERT INTO departments (id, region_id, name, kind, is_active, sort_order)"
                " VALUES (1, 1, '疾控处', 'division', :yes, 0)",
                "INSERT INTO supervision_cases (id, source, state, department_id, title, problem, return_count,"
                " version_id, created_at, updated_at) VALUES (1, 'routine', 'filed', 1, '督办', '进度滞后', 0, 1, :at, :at)",
                "INSERT INTO case_steps (id, case_id, action, to_state, created_at) VALUES (1, 1, 'file', 'filed', :at)",
                "INSERT INTO attachments (id, filename, content_type, size, sha256, storage_key, uploaded_at,"
                " case_step_id) VALUES (1, '方案.pdf', 'application/pdf', 5, :sha, :key, :at, 1)",
            ):
                conn.execute(text(sql), {"yes": True, "at": at, "sha": "0" * 64, "key": "00/" + "0" * 64})
    finally:
        engine.dispose()
    command.upgrade(cfg, "head")
    assert _rows_referring_to_a_case(empty_database_url) == (1, 1, 1)
    command.downgrade(cfg, f"{REBUILDS_SUPERVISION_CASES}-1")
    assert _rows_referring_to_a_case(empty_database_url) == (1, 1, 1)


PLACES_ALERTS = "a26p9l3a5c7e"


def test_alerts_are_placed_and_closed_with_their_items_when_the_columns_arrive(empty_database_url: str) -> None:
    """Upgrading fills each alert's plan, region and lead department from its task, and closes the open alerts
    of tasks and milestones no longer open (written past the app: the state an older version could leave)."""
    from datetime import date

    from sqlalchemy import select, update

    from tracker.alerts.models import Alert, AlertLevel, AlertRule, AlertStatus, AlertTally, AlertTarget
    from tracker.db import make_session_factory
    from tracker.tasks.models import Milestone, MilestoneStatus, Task, TaskStatus

    from . import factories as f

    cfg = alembic_config(empty_database_url)
    command.upgrade(cfg, "head")
    engine = make_engine(empty_database_url)
    try:
        with make_session_factory(engine)() as s:
            region = f.region(s)
            lead = f.department(s, region, "疾控处")
            plan = f.plan(s, region)
            open_task, done_task = (f.task(s, plan, lead, deadline=date(2026, 11, 1)) for _ in range(2))
            milestone = f.milestone(s, open_task, due_date=date(2026, 10, 1))
            s.flush()
            for target, task, ms in ((AlertTarget.TASK, open_task, None), (AlertTarget.TASK, done_task, None),
                                     (AlertTarget.MILESTONE, open_task, milestone)):
                s.add(Alert(rule=AlertRule.DEADLINE, level=AlertLevel.OVERDUE, target=target, task_id=task.id,
                            milestone_id=ms.id if ms else None, due_date=date(2026, 11, 1),
                            raised_on=date(2026, 11, 2), level_changed_on=date(2026, 11, 2)))
            s.flush()
            s.execute(update(Task).where(Task.id == done_task.id)
                      .values(status=TaskStatus.DONE, completed_on=date(2026, 11, 3), progress=100))
            s.execute(update(Milestone).where(Milestone.id == milestone.id)
                      .values(status=MilestoneStatus.WAIVED))
            s.commit()
            ids = (plan.id, region.id, lead.id)
            open_task_id, done_task_id = open_task.id, done_task.id
        command.downgrade(cfg, f"{PLACES_ALERTS}-1")
        command.upgrade(cfg, "head")
        with make_session_factory(engine)() as s:
            alerts = s.query(Alert).order_by(Alert.id).all()
            assert {(a.plan_id, a.region_id, a.department_id) for a in alerts} == {ids}
            assert [(a.task_id, a.target, a.status, a.resolved_reason) for a in alerts] == [
                (open_task_id, AlertTarget.TASK, AlertStatus.OPEN, None),
                (done_task_id, AlertTarget.TASK, AlertStatus.RESOLVED, "done"),
                (open_task_id, AlertTarget.MILESTONE, AlertStatus.CANCELLED, "not_applicable"),
            ]
            assert all((a.resolved_at is None) == (a.status == AlertStatus.OPEN) for a in alerts)
            # the one open alert is tallied at its place (the tallies' migration, after this one, fills them)
            assert s.execute(select(AlertTally.region_id, AlertTally.department_id, AlertTally.level,
                                    AlertTally.target, AlertTally.n)).all() == [(*ids[1:], "overdue", "task", 1)]
    finally:
        engine.dispose()
