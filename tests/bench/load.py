"""A concurrent load run: the app under gunicorn on loopback, simulated users for a bounded time.

Used by tests/bench/province.py on its PostgreSQL database; it can also be pointed at any database the
benchmark generated (``--keep``):

    .venv/bin/python -m tests.bench.load postgresql+psycopg://postgres@127.0.0.1:5432/tracker_bench_xxxx

Each simulated user signs in through the real login form (CSRF on, as in production) and then, with a
think time between requests, mixes what its role does: department heads open their workspace, a task,
the report list, search, read their tasks through the API (a token of their own) and update a task of their
department through the status form (read the form, post it with its version); supervisors page and filter the
overdue list, open plans, search, and read the overdue list and the cases through the API. A 5xx, a refused
connection or any unexpected status counts as an error; a stale-version refusal counts as a conflict.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import tracker.models  # noqa: F401  (every mapper, for the queries below)
from tracker.api.models import TokenScope
from tracker.api.services import NewToken, create_token
from tracker.auth.models import Role, User
from tracker.config import PROJECT_ROOT
from tracker.planning.models import Plan, PlanStage
from tracker.tasks.models import Task, TaskLevel, TaskStatus

from .dataset import PASSWORD

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
VERSION = re.compile(r'name="version" type="hidden" value="(\d+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Client:
    """One simulated user: a cookie jar and a timed request method."""

    def __init__(self, base: str, record: Any) -> None:
        self.base = base
        self.record = record
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())

    def request(self, kind: str, path: str, data: dict[str, str] | None = None,
                token: str | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, body)
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        start = time.perf_counter()
        try:
            with self.opener.open(request, timeout=60) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            status, text = 0, str(exc)
        self.record(kind, time.perf_counter() - start, status, text)
        return status, text

    def login(self, username: str) -> bool:
        status, page = self.request("login", "/login")
        token = TOKEN.search(page)
        if status != 200 or token is None:
            return False
        status, _ = self.request("login", "/login", {"username": username, "password": PASSWORD,
                                                      "csrf_token": token.group(1)})
        return status == 302


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(base: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited before serving")
        try:
            with urllib.request.urlopen(base + "/login", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def _work(url: str) -> tuple[list[tuple[str, list[int]]], list[str]]:
    """Heads of the departments with most open tasks (and those tasks), and the supervisors."""
    engine = create_engine(url)
    with engine.connect() as conn:
        open_tasks = conn.execute(
            select(Task.lead_department_id, Task.id).join(Plan, Plan.id == Task.plan_id)
            .where(Task.level != TaskLevel.CHAPTER, Plan.stage == PlanStage.EXECUTING,
                   Task.status.in_([TaskStatus.IN_PROGRESS, TaskStatus.OVERDUE, TaskStatus.NOT_STARTED]))).all()
        heads = dict(conn.execute(select(User.department_id, User.username).where(User.role == Role.DEPT_HEAD)).all())
        supervisors = list(conn.scalars(select(User.username).where(User.role == Role.SUPERVISOR).order_by(User.id)))
    engine.dispose()
    by_department: dict[int, list[int]] = defaultdict(list)
    for department_id, task_id in open_tasks:
        by_department[department_id].append(task_id)
    busiest = sorted(by_department, key=lambda d: (-len(by_department[d]), d))
    return [(heads[d], by_department[d]) for d in busiest if d in heads], supervisors


SEARCHES = ("推进", "资金 到位", "配套资金", "1.1.1", "县", "年度任务")


def _tokens(url: str, usernames: list[str]) -> dict[str, str]:
    """A read token of each user's own, made as the user would make it (tracker.api.services.create_token)."""
    engine = create_engine(url)
    tokens = {}
    with Session(engine) as session:
        for user in session.scalars(select(User).where(User.username.in_(usernames))):
            _, tokens[user.username] = create_token(session, user, NewToken("负载测试", TokenScope.READ, 30))
        session.commit()
    engine.dispose()
    return tokens


def run(url: str, instance: Path, *, seconds: int = 30, users: int = 50, workers: int = 4, think: float = 1.0,
        seed: int = 7, ramp: float = 0.0) -> dict[str, Any]:
    """``seconds`` of load after a ramp of ``ramp`` seconds, in which the users sign in at random moments (as
    people arrive at work, not all in the same second) and which is not counted."""
    heads, supervisors = _work(url)
    n_supervisors = max(1, users // 5)
    heads, supervisors = heads[:users - n_supervisors], supervisors[:n_supervisors]
    tokens = _tokens(url, [username for username, _ in heads] + supervisors)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "SECRET_KEY": "load-run-secret",
           "TRACKER_INSTANCE": str(instance), "TRACKER_PRODUCTION": "1", "PYTHONPATH": str(PROJECT_ROOT),
           "SESSION_COOKIE_SECURE": "0"}  # plain HTTP on loopback: a Secure cookie would never come back
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen([str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120",
                                "--log-level", "warning", "wsgi:app"], cwd=PROJECT_ROOT, env=env)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    conflicts = [0]
    lock = threading.Lock()
    stop = threading.Event()

    counting = threading.Event()
    if ramp <= 0:
        counting.set()

    def record(kind: str, took: float, status: int, body: str) -> None:
        with lock:
            if counting.is_set():
                latencies[kind].append(took)
            if status == 0 or status >= 500 or status in (400, 403, 404):
                errors.append(f"{kind} {status} {body[:120]!r}")
            elif status == 409 or "已被他人修改" in body:
                conflicts[0] += 1

    def signed_in(username: str) -> Client | None:
        client = Client(base, record)
        if client.login(username):
            return client
        with lock:
            errors.append(f"login {username} failed")
        return None

    def head_user(username: str, task_ids: list[int], rng: random.Random) -> None:
        stop.wait(rng.uniform(0, ramp))
        client = signed_in(username)
        while client is not None and not stop.is_set():
            roll = rng.random()
            if roll < 0.35:
                client.request("workspace", rng.choice(("/workspace", "/workspace?view=milestones",
                                                        "/workspace?bucket=overdue")))
            elif roll < 0.55:
                client.request("task page", f"/tasks/{rng.choice(task_ids)}")
            elif roll < 0.65:
                client.request("list", "/reports")
            elif roll < 0.7:
                client.request("search", "/search?q=" + urllib.parse.quote(rng.choice(SEARCHES)))
            elif roll < 0.75:
                client.request("api", rng.choice(("/api/v1/tasks?role=lead&limit=50", "/api/v1/tasks?overdue=1",
                                                  f"/api/v1/tasks/{rng.choice(task_ids)}")), token=tokens[username])
            else:
                task_id = rng.choice(task_ids)
                status, form = client.request("task update", f"/tasks/{task_id}/status")
                token, version = TOKEN.search(form), VERSION.search(form)
                if status == 200 and token and version:
                    client.request("task update", f"/tasks/{task_id}/status", {
                        "csrf_token": token.group(1), "version": version.group(1), "status": "in_progress",
                        "progress": str(rng.randrange(5, 95)), "note": "按计划推进"})
            stop.wait(rng.uniform(0.5, 1.5) * think)

    def supervisor_user(username: str, rng: random.Random) -> None:
        stop.wait(rng.uniform(0, ramp))
        client = signed_in(username)
        while client is not None and not stop.is_set():
            roll = rng.random()
            if roll < 0.35:
                client.request("list", f"/alerts/overdue?page={rng.randrange(1, 40)}")
            elif roll < 0.6:
                client.request("list", rng.choice(("/alerts/overdue?level=overdue&sort=days",
                                                   "/alerts/overdue?level=severe", "/alerts/overdue?kind=task")))
            elif roll < 0.7:
                client.request("list", "/plans")
            elif roll < 0.8:
                client.request("search", "/search?q=" + urllib.parse.quote(rng.choice(SEARCHES)))
            else:
                client.request("api", rng.choice(("/api/v1/alerts/overdue?limit=50", "/api/v1/alerts/overdue?level=severe",
                                                  "/api/v1/cases?limit=50")), token=tokens[username])
            stop.wait(rng.uniform(0.5, 1.5) * think)

    try:
        _wait_until_up(base, process)
        rng = random.Random(seed)
        threads = [threading.Thread(target=head_user, args=(username, tasks, random.Random(rng.random())))
                   for username, tasks in heads]
        threads += [threading.Thread(target=supervisor_user, args=(username, random.Random(rng.random())))
                    for username in supervisors]
        for t in threads:
            t.start()
        time.sleep(ramp)
        counting.set()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join(120)
    finally:
        process.terminate()
        process.wait(30)

    every = sorted(t for ts in latencies.values() for t in ts)

    def pct(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] * 1000 if ordered else 0.0

    return {
        "workers": workers, "users": len(threads), "seconds": seconds, "think_s": think, "ramp_s": ramp,
        "requests": len(every), "throughput_rps": len(every) / seconds,
        "p50_ms": pct(every, 0.5), "p95_ms": pct(every, 0.95), "p99_ms": pct(every, 0.99),
        "errors": len(errors), "error_samples": errors[:10], "conflicts": conflicts[0],
        "by_kind": {k: {"count": len(v), "p50_ms": pct(v, 0.5), "p95_ms": pct(v, 0.95),
                        "mean_ms": statistics.fmean(v) * 1000} for k, v in sorted(latencies.items())},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="a database the benchmark generated")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time between requests, seconds")
    parser.add_argument("--ramp", type=float, default=0.0,
                        help="seconds over which the users sign in, not counted (0: all at once, counted)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tracker-load-") as tmp:
        result = run(args.url, Path(tmp), seconds=args.seconds, users=args.users, workers=args.workers,
                     think=args.think, ramp=args.ramp)
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
