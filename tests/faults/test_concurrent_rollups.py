"""Two departments' updates of two children of one parent, at the same time: the parent's rolled-up
progress counts both (neither roll-up writes back over the other's share)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.planning.models import Plan
from tracker.regions.models import Department
from tracker.tasks.models import Task, TaskLevel, TaskStatus
from tracker.tasks.services import StatusUpdate, update_task_status

from .. import factories as f
from .conftest import lock_waiters, require_postgresql, wait_until


def test_concurrent_roll_ups_of_one_parent_keep_both_shares(demo: Flask) -> None:
    require_postgresql(demo, "two transactions rolling up one parent at once")
    factory, engine = demo.extensions["tracker.sessions"], demo.extensions["tracker.engine"]
    with factory() as s:
        plan = s.scalars(select(Plan).where(Plan.region_id == 1).order_by(Plan.id)).first()
        jk = s.scalars(select(Department).where(Department.name == "疾控处", Department.region_id == 1)).one()
        parent = f.task(s, plan, jk, level=TaskLevel.MEASURE, progress=0)
        children = [f.task(s, plan, jk, level=TaskLevel.ANNUAL, parent_id=parent.id, progress=0, weight=1, year=2026,
                           deadline=date(2026, 12, 31)) for _ in range(2)]
        s.commit()
        parent_id, child_ids = parent.id, [c.id for c in children]

    def update(s: Session, child_id: int) -> None:
        actor = s.scalars(select(User).where(User.username == "zj_head_jk")).one()
        child = s.get(Task, child_id)
        assert child is not None
        update_task_status(s, actor, child, StatusUpdate(TaskStatus.IN_PROGRESS, 100, None, child.version_id))

    def second_update() -> None:
        with factory() as s:
            update(s, child_ids[1])
            s.commit()

    with factory() as first, ThreadPoolExecutor(1) as pool:
        update(first, child_ids[0])  # rolled up: the parent is locked until this commits
        second = pool.submit(second_update)
        try:
            wait_until(lambda: second.done() or lock_waiters(engine, "%tasks%"), "the second roll-up to queue")
            assert not second.done(), second.result()
        finally:
            first.commit()
        second.result(timeout=30)
    with factory() as s:
        assert s.get(Task, parent_id).progress == 100  # type: ignore[union-attr]
