"""Saves racing each other: twenty department heads save the same task's progress at the same instant
(one wins each round, the others are told what changed, nothing is lost or written twice), and a save
overtaken between its version check and its UPDATE."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tracker.audit import AuditEntry
from tracker.planning.models import Plan
from tracker.tasks.models import Milestone, MilestoneStatus, Task

from ..conftest import client_for, make_test_app
from .conftest import lead_leaf_task, lock_waiters, require_postgresql, wait_until

CLIENTS = 20
ROUNDS = 3
# What a refused save says (the service's version check, which also lists what the winner changed).
STALE = "保存失败：此记录在您打开页面后已被他人修改，您的修改没有保存。"
# What the app says when the UPDATE itself finds the row changed (the error handler of StaleDataError).
STALE_AT_UPDATE = "记录已被他人修改，您的修改没有保存。请刷新页面后重试。"
VERSION_FIELD = re.compile(r'name="version" type="hidden" value="(\d+)"|type="hidden" name="version" value="(\d+)"'
                           r'|name="version" value="(\d+)"')


def _form_version(client: FlaskClient, task_id: int) -> int:
    response = client.get(f"/tasks/{task_id}/status")
    assert response.status_code == 200
    match = VERSION_FIELD.search(response.get_data(as_text=True))
    assert match, "the status form carries the version it was loaded at"
    return int(next(g for g in match.groups() if g))


def _signed_in_clients(app: Flask, username: str, n: int) -> list[FlaskClient]:
    """``n`` clients of one signed-in user (the session lives in the cookie, so each client carries a
    copy of one sign-in: twenty browser tabs, without paying for twenty password hashes)."""
    first = client_for(app, username)
    cookie = first.get_cookie("session")
    assert cookie is not None
    clients = [first]
    for _ in range(n - 1):
        client = app.test_client()
        client.set_cookie("session", cookie.value)
        clients.append(client)
    return clients


def test_twenty_heads_save_one_task_at_once(demo: Flask) -> None:
    task = lead_leaf_task(demo)
    clients = _signed_in_clients(demo, "zj_head_jk", CLIENTS)
    barrier = threading.Barrier(CLIENTS, timeout=30)

    def save(round_no: int, i: int) -> tuple[int, int, int, str]:
        """Load the form, wait for everyone, then save a progress value nobody else uses."""
        version = _form_version(clients[i], task.id)
        progress = 10 + round_no * CLIENTS + i
        barrier.wait()
        response = clients[i].post(f"/tasks/{task.id}/status", data={
            "status": "in_progress", "progress": progress, "note": f"第{round_no + 1}轮 客户端{i}",
            "version": version})
        return version, progress, response.status_code, response.get_data(as_text=True)

    version, previous = task.version_id, task.progress
    for round_no in range(ROUNDS):
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(save, [round_no] * CLIENTS, range(CLIENTS)))

        assert [v for v, _, _, _ in results] == [version] * CLIENTS  # everyone saved from the same form
        codes = sorted(code for _, _, code, _ in results)
        assert codes == [302] + [409] * (CLIENTS - 1), codes  # no 500, no second winner
        winner = next(progress for _, progress, code, _ in results if code == 302)
        for _, progress, code, body in results:
            if code == 409:
                assert STALE in body, body[:800]
                assert f"进度（%）：{previous} → {winner}" in body  # names the change that won
                assert f'value="{progress}"' in body  # the form comes back with what this user typed

        with demo.extensions["tracker.sessions"]() as s:
            saved = s.get(Task, task.id)
            assert saved is not None
            assert (saved.progress, saved.version_id) == (winner, version + 1)
            entries = s.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.object_type == "tasks", AuditEntry.object_id == task.id,
                AuditEntry.action == "update_status"))
            assert entries == round_no + 1  # one audit entry per round: the winner's
        version, previous = version + 1, winner


def test_a_planner_save_overtaken_while_it_waits_is_refused_with_the_conflict(demo: Flask) -> None:
    """A planner's milestone edit waits for the row another transaction holds; that one saves the milestone
    first. The edit, once it has the row, finds a newer version and is refused with the conflict page (409);
    the other save stands and the edit leaves nothing."""
    require_postgresql(demo, "a row lock from another connection holds the edit before its version check")
    engine = demo.extensions["tracker.engine"]
    with Session(engine) as s:
        milestone = s.scalars(select(Milestone).join(Milestone.task).join(Task.plan).where(
            Plan.region_id == 1, Milestone.status == MilestoneStatus.PENDING).order_by(Milestone.id)).first()
        assert milestone is not None
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry))
    planner = client_for(demo, "zj_planner")

    with ThreadPoolExecutor(1) as pool, engine.connect() as other:  # on failure the lock goes before the wait
        other.execute(text("SELECT id FROM milestones WHERE id = :id FOR UPDATE"), {"id": milestone.id})
        saving = pool.submit(planner.post, f"/planning/milestones/{milestone.id}/edit", data={
            "title": "规划处的修改", "due_date": milestone.due_date.isoformat(), "node": "",
            "version": milestone.version_id})
        wait_until(lambda: saving.done() or lock_waiters(engine, "%milestones%FOR UPDATE%"),
                   "the edit to wait on the milestone's row")
        assert not saving.done(), saving.result().get_data(as_text=True)[:800]
        other.execute(text("UPDATE milestones SET title = '另一处的修改', version_id = version_id + 1 WHERE id = :id"),
                      {"id": milestone.id})
        other.commit()
        response = saving.result(timeout=30)

    body = response.get_data(as_text=True)
    assert response.status_code == 409, body[:800]
    assert "该节点在您打开表单后已被他人修改" in body and "另一处的修改" in body and "Traceback" not in body
    with Session(engine) as s:
        saved = s.get(Milestone, milestone.id)
        assert saved is not None and (saved.title, saved.version_id) == ("另一处的修改", milestone.version_id + 1)
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_before  # the edit left nothing


def test_a_stale_update_caught_by_the_orm_is_the_409_page(migrated: str, tmp_path: Path) -> None:
    """Where a save gets past every check and its UPDATE … WHERE version_id = N matches no row, SQLAlchemy
    raises StaleDataError: the user gets the 409 page in Chinese, not a 500."""
    app = make_test_app(migrated, tmp_path)

    @app.route("/stale-at-update")
    def stale_at_update() -> str:
        raise StaleDataError("UPDATE statement on table 'milestones' expected to update 1 row(s); 0 were matched.")

    try:
        response = app.test_client().get("/stale-at-update")
        assert response.status_code == 409
        body = response.get_data(as_text=True)
        assert STALE_AT_UPDATE in body and "Traceback" not in body
    finally:
        app.extensions["tracker.engine"].dispose()
