"""PostgreSQL going away under the running app: pages say so in Chinese with a 503 (never a 500 or a
traceback), the app recovers by itself when the database is back, and a write cut off in the middle
leaves nothing behind.

The app reaches the database through a TCP relay in the test (``tcp_proxy``); the `demo` app beside it
talks to the same database directly, to set things up and to look at what was saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tracker.audit import AuditEntry
from tracker.tasks.models import Task

from ..conftest import client_for, make_test_app
from .conftest import (
    TcpProxy,
    backend_alive,
    lead_leaf_task,
    lock_waiters,
    tables_written,
    via_port,
    wait_until,
)

UNAVAILABLE = ("503 · 服务暂不可用", "数据库暂时无法连接，请稍后重试。")


@pytest.fixture
def proxied(demo: Flask, tcp_proxy: TcpProxy, tmp_path: Path) -> Iterator[Flask]:
    """The app over the demo database, reaching it only through the relay."""
    app = make_test_app(via_port(demo.config["DATABASE_URL"], tcp_proxy.port), tmp_path / "proxied")
    yield app
    app.extensions["tracker.engine"].dispose()


def assert_unavailable(response: Any) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:800]
    assert all(line in body for line in UNAVAILABLE), body[:800]
    for leak in ("Traceback", "psycopg", "sqlalchemy", "OperationalError"):
        assert leak not in body
    assert response.headers["Content-Security-Policy"]  # the usual headers, on the error page too


def status_form(task: Task, progress: int) -> dict[str, Any]:
    return {"status": "in_progress", "progress": progress, "note": "网络中断测试", "version": task.version_id}


def saved(demo: Flask, task: Task) -> tuple[Any, ...]:
    """The task's progress, version and note, its parent's progress and version, its audit entries."""
    with Session(demo.extensions["tracker.engine"]) as s:
        child, parent = s.get(Task, task.id), s.get(Task, task.parent_id)
        assert child is not None and parent is not None
        audit = s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "tasks", AuditEntry.object_id == task.id))
        return child.progress, child.version_id, child.status_note, parent.progress, parent.version_id, audit


def test_pages_say_the_database_is_down_and_work_again_when_it_is_back(demo: Flask, proxied: Flask,
                                                                        tcp_proxy: TcpProxy) -> None:
    task = lead_leaf_task(demo)
    client = client_for(proxied, "zj_head_jk")
    assert client.get("/workspace").status_code == 200

    tcp_proxy.stop()  # the server goes away: open connections are cut, new ones refused
    for _ in range(2):  # first the pooled connection fails its ping, then a new one is refused
        assert_unavailable(client.get("/workspace"))
    assert_unavailable(client.post(f"/tasks/{task.id}/status", data=status_form(task, 55)))

    tcp_proxy.start()  # back on the same port, and the app was not restarted
    response = client.get("/workspace")
    assert response.status_code == 200
    assert "退出" in response.get_data(as_text=True)  # still signed in
    assert client.post(f"/tasks/{task.id}/status", data=status_form(task, 55)).status_code == 302
    assert saved(demo, task)[0] == 55


@pytest.mark.parametrize("cut", ["backend terminated", "server gone", "commit lost"])
def test_a_write_cut_off_midway_leaves_nothing(demo: Flask, proxied: Flask, tcp_proxy: TcpProxy, cut: str) -> None:
    """Saving a task's progress updates the task, appends its audit entry and then rolls the progress up
    to the parent. The connection dies after the first two and before the roll-up — the server ending
    the backend, or the server vanishing from the network — or while the COMMIT is on its way."""
    engine = demo.extensions["tracker.engine"]
    task = lead_leaf_task(demo)
    before = saved(demo, task)
    client = client_for(proxied, "zj_head_jk")

    # The pool is left last, so that a failing assertion releases the lock before waiting for the request.
    with ThreadPoolExecutor(1) as pool, engine.connect() as blocker:
        if cut == "commit lost":
            tcp_proxy.cut_on(b"COMMIT")
        else:  # hold the parent's row: the roll-up waits for it, with the task row and audit entry written
            blocker.execute(text("SELECT id FROM tasks WHERE id = :id FOR UPDATE"), {"id": task.parent_id})
        saving = pool.submit(client.post, f"/tasks/{task.id}/status", data=status_form(task, 77))
        if cut == "commit lost":
            wait_until(lambda: saving.done() or tcp_proxy.cut.is_set(), "the COMMIT to reach the relay")
        else:
            wait_until(lambda: saving.done() or lock_waiters(engine, "%tasks%"), "the roll-up to wait on the parent")
            assert not saving.done(), saving.result().get_data(as_text=True)[:800]
            (pid,) = lock_waiters(engine, "%tasks%")
            assert {"tasks", "audit_entries"} <= tables_written(engine, pid)  # halfway through its writes
            if cut == "backend terminated":
                assert blocker.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            else:
                tcp_proxy.stop()
        assert_unavailable(saving.result(timeout=30))
        blocker.rollback()
    if cut == "server gone":
        wait_until(lambda: not backend_alive(engine, pid), "the cut-off backend to end")
        tcp_proxy.start()

    assert saved(demo, task) == before  # nothing of the request stayed
    response = client.post(f"/tasks/{task.id}/status", data=status_form(task, 77))
    assert response.status_code == 302  # the same save works at once, on a fresh connection
    after = saved(demo, task)
    assert after[:3] == (77, task.version_id + 1, "网络中断测试") and after[5] == before[5] + 1
