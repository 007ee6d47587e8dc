"""Helpers for the fault tests: waiting on a condition, PostgreSQL's view of blocked backends, copies of
the demo database and a loopback TCP relay that can drop PostgreSQL out from under the app."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.engine import Engine, make_url

from tracker.regions.models import Department
from tracker.tasks.models import Task, TaskLevel, TaskStatus

from ..conftest import _copy_of

T = TypeVar("T")


def wait_until(probe: Callable[[], T], what: str, timeout: float = 30.0) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)


def lead_leaf_task(app: Flask) -> Task:
    """An annual task in progress led by the provincial 疾控处 (zj_head_jk's department), with a parent."""
    with app.extensions["tracker.sessions"]() as s:
        dept = s.scalars(select(Department).where(Department.name == "疾控处", Department.region_id == 1)).one()
        task = s.scalars(select(Task).where(Task.lead_department_id == dept.id, Task.level == TaskLevel.ANNUAL,
                                            Task.status == TaskStatus.IN_PROGRESS, Task.parent_id.is_not(None))
                         .order_by(Task.deadline, Task.id)).first()
        assert task is not None
        return task


def require_postgresql(app: Flask, reason: str) -> None:
    if app.extensions["tracker.engine"].dialect.name != "postgresql":
        pytest.skip(f"PostgreSQL only: {reason}")


def lock_waiters(engine: Engine, query_like: str) -> list[int]:
    """Backend pids of this database blocked on a lock while running a statement matching ``query_like``."""
    with engine.connect() as conn:
        return list(conn.scalars(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock' AND query LIKE :q"), {"q": query_like}))


def tables_written(engine: Engine, pid: int) -> set[str]:
    """The tables that backend ``pid`` has written to in its open transaction (it holds their row locks)."""
    with engine.connect() as conn:
        return set(conn.scalars(text(
            "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE l.pid = :pid AND l.mode = 'RowExclusiveLock'"), {"pid": pid}))


def backend_alive(engine: Engine, pid: int) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}))


@pytest.fixture
def demo_copy(demo_template: str, migrated: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Make further copies of the demo database (beside the one the `demo` app works on)."""
    cleanups: list[Callable[[], None]] = []

    def make() -> str:
        folder = tmp_path / f"copy{len(cleanups)}"
        folder.mkdir()
        url, drop = _copy_of(demo_template, folder, migrated)
        cleanups.append(drop)
        return url

    yield make
    for drop in cleanups:
        drop()


def via_port(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


class TcpProxy:
    """A loopback relay to ``upstream`` that can go down (dropping every relayed connection and refusing
    new ones) and come back on the same port, as a restarting database server looks to its clients."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._pumps: list[threading.Thread] = []
        self._cut_on: bytes | None = None
        self.cut = threading.Event()

    def cut_on(self, marker: bytes) -> None:
        """Drop the next connection whose client sends ``marker``, before the server receives it."""
        self.cut.clear()
        with self._lock:
            self._cut_on = marker

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Refuse new connections and cut every open one."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
            listener.close()
        if self._acceptor is not None:
            self._acceptor.join(5)
        with self._lock:
            sockets, self._sockets = self._sockets, []
            pumps, self._pumps = self._pumps, []
        for sock in sockets:
            _shutdown(sock)
        for pump in pumps:
            pump.join(5)
        for sock in sockets:
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
                for src, dst, upstream in ((client, server, True), (server, client, False)):
                    pump = threading.Thread(target=self._pump, args=(src, dst, upstream), daemon=True)
                    self._pumps.append(pump)
                    pump.start()

    def _cuts(self, data: bytes) -> bool:
        with self._lock:
            if self._cut_on is None or self._cut_on not in data:
                return False
            self._cut_on = None
        self.cut.set()
        return True

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        while True:
            try:
                data = src.recv(65536)
                if not data:
                    break
                if upstream and self._cuts(data):
                    break
                dst.sendall(data)
            except OSError:
                break
        _shutdown(src)
        _shutdown(dst)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already cut
        sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def tcp_proxy(app: Flask) -> Iterator[TcpProxy]:
    """A relay to the test database's PostgreSQL server (skips on SQLite)."""
    require_postgresql(app, "a TCP relay stands in for a restarting database server")
    url = make_url(app.config["DATABASE_URL"])
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432)).start()
    yield proxy
    proxy.stop()
