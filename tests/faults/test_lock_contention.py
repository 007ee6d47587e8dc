"""A save that cannot get its row in time (another transaction holds it past the lock timeout) is told
that others are changing the data — a 503 naming contention, not an outage — and nothing is saved."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tracker import BUSY_MESSAGE
from tracker.tasks.models import Task

from ..conftest import client_for
from .conftest import lead_leaf_task, require_postgresql


def test_a_lock_wait_that_runs_out_is_reported_as_contention(demo: Flask) -> None:
    require_postgresql(demo, "a lock held by another connection and PostgreSQL's lock_timeout")
    engine = demo.extensions["tracker.engine"]
    name = make_url(demo.config["DATABASE_URL"]).database
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET lock_timeout = \'300ms\''))
    engine.dispose()  # new connections take the setting
    task = lead_leaf_task(demo)
    client = client_for(demo, "zj_head_jk")
    holder = engine.connect()
    try:
        holder.execute(text("SET lock_timeout = 0"))
        holder.execute(text("SELECT id FROM tasks WHERE id = :id FOR UPDATE"), {"id": task.id})
        response = client.post(f"/tasks/{task.id}/status", data={"status": "in_progress", "progress": 99,
                                                                 "version": task.version_id})
    finally:
        holder.rollback()
        holder.close()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" RESET lock_timeout'))
        engine.dispose()
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert BUSY_MESSAGE in html and "数据库暂时无法连接" not in html
    with demo.extensions["tracker.sessions"]() as s:
        saved = s.get(Task, task.id)
        assert saved is not None and (saved.progress, saved.version_id) == (task.progress, task.version_id)
    # the row is free again: the same save goes through
    again = client.post(f"/tasks/{task.id}/status", data={"status": "in_progress", "progress": 99,
                                                          "version": task.version_id})
    assert again.status_code == 302
