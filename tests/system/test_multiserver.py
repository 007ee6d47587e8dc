"""Beyond one machine: two web servers and two scheduler processes on one PostgreSQL database, sharing one
upload directory and one configuration (each with an instance directory of its own, as two machines have).

A session signed in on one server is valid on the other; a file uploaded through one is downloaded through
the other; both schedulers run the same jobs for the same day, and each job's work is done once: one run
raises the alerts and composes the digests, the others find nothing left, and every robot message is
posted once.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import timeutil
from tracker.alerts.models import Alert
from tracker.config import PROJECT_ROOT, _instance_secret
from tracker.notifications.models import DeliveryState, Notification, NotificationDelivery, NotificationKind
from tracker.scheduler import _die_with_parent, stop_scheduler
from tracker.supervision.models import CaseAction, CaseSource
from tracker.supervision.services import CaseInput, file_case, perform
from tracker.system.models import JobRun, JobStatus

from ..alerts.world import build_world
from ..conftest import DEMO_DATE, PASSWORD
from ..loopback import post_server

needs_postgresql = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="several servers share one PostgreSQL database; SQLite is one machine's file "
           "(run with TEST_DATABASE_URL=postgresql+psycopg://…)")

DEADLINE = 45  # seconds for the processes to start and the jobs to run; a generous bound, never asserted
# The daily jobs with work to do on the test's day, and the count that says a run did it
WORK = {"scan": "raised", "reminders": "messages", "case_reminders": "cases_reminded"}
SCHEDULED = (*WORK, "deliveries")  # each second in both schedulers, after catching up


# ---------------------------------------------------------------------------------------------------
# The processes
# ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """Web servers and schedulers with one environment but for their instance directory (each machine's own),
    and their logs."""

    env: dict[str, str]
    tmp_path: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def uploads(self) -> Path:
        return Path(self.env["TRACKER_UPLOAD_DIR"])

    def instance(self, name: str) -> Path:
        return self.tmp_path / f"instance-{name}"

    def web(self, name: str) -> int:
        """A web server as production runs it (gunicorn over wsgi.py); its port."""
        port = free_port()
        self.start(name, [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
                          "--graceful-timeout", "5", "wsgi:app"])
        return port

    def scheduler(self, name: str, every: dict[str, float]) -> None:
        """``tracker scheduler``, running the jobs of ``every`` each so many seconds."""
        options = [arg for job, seconds in every.items() for arg in ("--every", f"{job}={seconds}")]
        self.start(name, [sys.executable, "-c", "from tracker.cli import main; main()", "scheduler", *options])

    def start(self, name: str, args: list[str]) -> None:
        with (self.tmp_path / f"{name}.log").open("wb") as log:
            self.processes[name] = subprocess.Popen(
                args, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                env={**self.env, "TRACKER_INSTANCE": str(self.instance(name))},
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
            )

    def alive(self) -> None:
        for name, process in self.processes.items():
            assert process.poll() is None, f"{name} exited ({process.returncode}):\n{self.log(name)}"

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self, *names: str) -> None:
        for name in names or tuple(self.processes):
            stop_scheduler(self.processes[name])


def wait_for(condition: Callable[[], bool], cluster: Cluster, what: str,
             state: Callable[[], object] = lambda: "") -> None:
    """Wait until ``condition`` holds (every process still running), failing after DEADLINE seconds with the
    ``state`` of things and the processes' logs."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        cluster.alive()
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {n}\n{cluster.log(n)}" for n in cluster.processes)
            pytest.fail(f"timed out waiting for {what}: {state()}\n{logs}")
        time.sleep(0.2)


@dataclass
class Robot:
    """A DingTalk robot on loopback and the messages it received."""

    url: str
    received: list[dict[str, Any]]


@pytest.fixture
def robot() -> Iterator[Robot]:
    received: list[dict[str, Any]] = []

    def respond(_path: str, _headers: dict[str, str], body: bytes) -> tuple[int, str]:
        received.append(json.loads(body))
        return 200, json.dumps({"errcode": 0, "errmsg": "ok"})

    with post_server(respond) as server:
        yield Robot(f"http://127.0.0.1:{server.server_address[1]}/robot/send?access_token=t", received)


@pytest.fixture
def task_id(session: Session) -> int:
    """A province whose plan has a task overdue (督办 with an answer due tomorrow) and one due soon; the overdue
    one's id."""
    world = build_world(session)
    overdue = world.task(session, date(2026, 10, 1), title="逾期任务")
    world.task(session, date(2026, 11, 24), title="临期任务")
    office = world.users["supervisor"]
    case = file_case(session, office, CaseInput(CaseSource.ROUTINE, world.depts["jk"], "逾期督办", "任务逾期",
                                                task=overdue))
    perform(session, office, case, CaseAction.ISSUE, version=case.version_id, response_days=1)
    session.commit()
    return overdue.id


@pytest.fixture
def cluster(app: Flask, task_id: int, robot: Robot, tmp_path: Path) -> Iterator[Cluster]:
    """The environment every server shares (one database, one key, one upload directory, one robot, one
    clock); the servers are started by the test and all stopped at its end."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "SECRET_KEY", "DATABASE_URL"))},
        "DATABASE_URL": app.extensions["tracker.engine"].url.render_as_string(hide_password=False),
        "SECRET_KEY": uuid.uuid4().hex,
        "TRACKER_UPLOAD_DIR": str(tmp_path / "shared" / "uploads"),
        "TRACKER_DINGTALK_URL": robot.url,
        # every process lives on the test's day from 09:00 on: every daily job is due, and caught up at start
        "TRACKER_DEMO_CLOCK": timeutil.demo_clock_setting(date.fromisoformat(DEMO_DATE)),
        "PYTHONUNBUFFERED": "1",
    }
    cluster = Cluster(env, tmp_path)
    try:
        yield cluster
    finally:
        cluster.stop()


# ---------------------------------------------------------------------------------------------------
# HTTP with the cookie carried by hand (so that it is plain which server sees which cookie)
# ---------------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def call(port: int, method: str, path: str, cookies: dict[str, str], *, form: dict[str, str] | None = None,
         files: Sequence[tuple[str, str, bytes]] = ()) -> Response:
    """One request; the cookies it sets are kept in ``cookies``."""
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
    body = None
    if form is not None:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in form.items()]
        parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                  f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
                  for k, name, data in files]
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        response = Response(answer.status, answer.headers, answer.read())
    finally:
        connection.close()
    for header in response.headers.get_all("Set-Cookie") or []:
        for name, morsel in SimpleCookie(header).items():
            cookies[name] = morsel.value
    return response


def serving(port: int) -> bool:
    try:
        return call(port, "GET", "/login", {}).status == 200
    except OSError:
        return False


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


# ---------------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------------


@needs_postgresql
def test_two_servers_and_two_schedulers_share_one_database(cluster: Cluster, task_id: int, session: Session,
                                                           robot: Robot) -> None:
    a, b = cluster.web("a"), cluster.web("b")
    wait_for(lambda: serving(a) and serving(b), cluster, "both web servers")

    # signed in on a, the same cookie is a session on b
    cookies: dict[str, str] = {}
    token = csrf_token(call(a, "GET", "/login", cookies).text)
    signed_in = call(a, "POST", "/login", cookies, form={"username": "staff_jk", "password": PASSWORD,
                                                          "csrf_token": token})
    assert signed_in.status == 302, signed_in.text[:1000]
    page = call(b, "GET", f"/tasks/{task_id}/reports/new", cookies)
    assert page.status == 200, page.text[:1000]

    # the form drawn by b is posted to a with a file; b finds the report and hands out the file
    evidence = b"%PDF-1.4\n" + uuid.uuid4().bytes + b"\n%%EOF\n"
    saved = call(a, "POST", f"/tasks/{task_id}/reports/new", cookies,
                 form={"csrf_token": csrf_token(page.text), "period": "quarter", "period_year": "2026",
                       "period_no": "4", "progress": "40", "achievements": "已完成第四季度工作"},
                 files=[("files", "佐证材料.pdf", evidence)])
    assert saved.status == 302, saved.text[:1000]
    report = call(b, "GET", saved.headers["Location"], cookies)
    assert report.status == 200 and "已完成第四季度工作" in report.text
    link = re.search(r'href="(/attachments/\d+)"', report.text)
    assert link, report.text[:2000]
    download = call(b, "GET", link.group(1), cookies)
    assert (download.status, download.body) == (200, evidence)
    stored = [p for p in cluster.uploads.rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in stored] == [evidence]
    assert not [p for name in ("a", "b") for p in cluster.instance(name).rglob("*") if p.is_file()]

    # both schedulers catch up every job of the day, then run some each second; wait until each has run every
    # one of them at least twice and every message has gone out
    for name in ("scheduler1", "scheduler2"):
        cluster.scheduler(name, dict.fromkeys(SCHEDULED, 1))

    def runs() -> list[JobRun]:
        session.rollback()  # a fresh look at what the schedulers committed
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))

    def deliveries() -> list[NotificationDelivery]:
        session.rollback()
        return list(session.scalars(select(NotificationDelivery)))

    def each_ran_twice_in_each() -> bool:
        done = Counter((r.job, r.host) for r in runs())
        hosts = {host for _, host in done}
        return (len(hosts) == 2 and all(done[job, host] >= 2 for job in WORK for host in hosts)
                and all(d.state == DeliveryState.SENT for d in deliveries()))

    wait_for(each_ran_twice_in_each, cluster, "two runs of each job in each scheduler", lambda: (
        Counter((r.job, r.host, r.status.value) for r in runs()), Counter(d.state.value for d in deliveries())))
    cluster.stop("scheduler1", "scheduler2")

    done = runs()
    assert [(r.job, r.error) for r in done if r.status != JobStatus.SUCCEEDED] == []
    assert len({r.host for r in done}) == 2  # the two scheduler processes, and nobody else
    # one run of each job did its work; every other run of it found nothing left to do
    did_work = {job: [r.counts for r in done if r.job == job and r.counts.get(key)] for job, key in WORK.items()}
    assert {job: len(counts) for job, counts in did_work.items()} == dict.fromkeys(WORK, 1), did_work
    assert did_work["scan"][0]["raised"] == session.scalar(select(func.count()).select_from(Alert)) == 2
    digests = session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.kind == NotificationKind.DIGEST))
    assert did_work["reminders"][0]["messages"] == digests > 0
    assert did_work["case_reminders"][0]["cases_reminded"] == 1
    # and every robot message was posted once
    sent = deliveries()
    assert sent and {(d.state, d.attempts) for d in sent} == {(DeliveryState.SENT, 1)}
    assert len(robot.received) == len(sent) == sum(r.counts.get("sent", 0) for r in done if r.job == "deliveries")


# ---------------------------------------------------------------------------------------------------
# What the servers must agree on when they start together
# ---------------------------------------------------------------------------------------------------


def test_processes_on_one_instance_agree_on_its_generated_key(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """gunicorn's workers build the app each: the one that writes the demo's key last must not leave the others
    signing cookies with a key nobody else knows."""
    make_key = secrets.token_hex

    def another_process_first(n: int) -> str:
        if not (tmp_path / "secret_key").exists():
            (tmp_path / "secret_key").write_text("the other worker's key")
        return make_key(n)

    monkeypatch.setattr(secrets, "token_hex", another_process_first)
    assert _instance_secret(tmp_path) == "the other worker's key"
    assert _instance_secret(tmp_path) == "the other worker's key"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_a_generated_key_is_kept_for_the_next_start(tmp_path: Path) -> None:
    key = _instance_secret(tmp_path / "instance")
    assert len(key) == 64 and _instance_secret(tmp_path / "instance") == key
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_same_file_stored_twice_at_once_is_stored_whole(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Two servers storing the same file on the shared directory at once: each writes its own temporary file,
    so neither renames the other's half-written copy into place (nor finds its own gone)."""
    from tracker.attachments import services

    target = tmp_path / "uploads" / "ab" / "abcdef"
    write = Path.write_bytes
    others: list[Path] = []

    def other_server_meanwhile(path: Path, data: bytes) -> int:
        written = write(path, data)
        if not others:
            others.append(path)
            services._store(target, data)  # the other server, at the same moment
        return written

    monkeypatch.setattr(Path, "write_bytes", other_server_meanwhile)
    services._store(target, b"%PDF-1.4 whole")
    assert others  # the other server did store it meanwhile
    assert [(p.name, p.read_bytes()) for p in target.parent.iterdir()] == [("abcdef", b"%PDF-1.4 whole")]
