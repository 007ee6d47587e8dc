"""Our overdue list, its exports and the reminder job beside Redmine 5.0.4's, interleaved (a command, not a test).

    .venv/bin/python -m tests.bench.versus_redmine --key <Redmine admin API key>
    .venv/bin/python -m tests.bench.versus_redmine --runs 30 --warmup 3 --redmine http://127.0.0.1:3000 --key KEY

Redmine must be running with the anchor's dataset (``../shared/anchors/redmine/README.txt``: 100 projects,
30,000 issues, 3,000 users; its admin API key is printed by setup_admin.rb, or give it as $KEY as bench.sh
takes it). Our side is tests/bench/dataset.py's province on PostgreSQL (``--database sqlite`` for a file):
built once in a database of its own, scanned on its day (2026-11-22), and reused by later runs
(``--rebuild`` builds it again). Our app runs under gunicorn with one sync worker on loopback, on the
demo clock of the dataset's day, with a session signed in as the province supervisor (``sup1``) and an API
token of theirs; Redmine's HTML and CSV are read with an admin session, its JSON with the API key, as the
recipe's bench.sh does.

Every case runs ``--warmup`` untimed requests on each side, then ``--runs`` timed ones alternating ours,
Redmine's, ours, … Each timing is time.perf_counter around one whole HTTP request (a new connection, the
body read to the end), the same client code for both:

* the overdue list, page 1 and a deep page (``--deep-page``, 50 rows), as HTML and as JSON
  (ours: /alerts/overdue and /api/v1/alerts/overdue; Redmine: /issues and /issues.json with bench.sh's filter,
  open and due more than a day ago, sorted by due date);
* the CSV of every overdue row (Redmine with issues_export_limit raised to 20,000 while it runs, as bench.sh
  does, so its CSV has every row rather than the first 500);
* our .xlsx of the same list (ours only);
* the reminder job, per mail: ours in this process (compose every department's digest, then deliver them to
  an SMTP sink on loopback, a process of its own, until the sink has the last mail) against ``rake redmine:send_reminders days=7``
  (mails written as files, counted by their Message-ID; wall time including Rails' boot), ``--reminder-runs``
  times each, alternating, and once the recipe's reminder_profile.rb (Redmine's reminder mails built in
  process, 100 users, no delivery).

Prints a table — median and p95 of each side and the ratio (Redmine's median ÷ ours) — with the load average
before and after; ``--json`` also writes the figures to a file. Only time is measured: "overdue" on
Redmine's side is relative to the machine's date, so its row counts grow after 2026-11-22 (they are printed).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import os
import re
import shlex
import socketserver
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.engine import Engine, make_url

from tracker import create_app, timeutil
from tracker.alerts.models import Alert, AlertStatus
from tracker.alerts.services import scan
from tracker.api.models import TokenScope
from tracker.api.queries import encode_cursor
from tracker.api.services import NewToken, create_token
from tracker.auth.models import User
from tracker.config import PROJECT_ROOT
from tracker.db import unit_of_work
from tracker.notifications.channels import Channels
from tracker.notifications.delivery import deliver_pending
from tracker.notifications.models import Notification, NotificationDelivery
from tracker.notifications.services import compose_digests
from tracker.schema import upgrade_database

from . import dataset, load
from .dataset import PASSWORD, TODAY
from .province import Figure, settle

RECIPE = PROJECT_ROOT.parent / "shared" / "anchors" / "redmine"
SUPERVISOR = "sup1"
PAGE_SIZE = 50
# bench.sh's filter: open, due_date <= today-1 (Issue#overdue?), sorted by due date.
REDMINE_FILTER = ("set_filter=1&f[]=status_id&op[status_id]=o&f[]=due_date&op[due_date]=%3Ct-&v[due_date][]=1"
                  "&sort=due_date")
AUTHENTICITY = re.compile(r'name="authenticity_token" value="([^"]+)"')
# The issue's targets, for information: Redmine's median ÷ ours should reach these.
TARGETS = {"html": 3, "json": 8, "csv": 15, "mail": 50}


# ---------------------------------------------------------------------------------------------------
# One timed request, the same for both sides
# ---------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    seconds: float
    status: int
    body: bytes


class Side:
    """A signed-in HTTP client: a cookie jar, headers sent with every request, no redirects followed."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        self.base = base
        self.headers = headers or {}
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()),
                                                  load._NoRedirect())

    def fetch(self, path: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Answer:
        request = urllib.request.Request(self.base + path, urlencode(data).encode() if data is not None else None,
                                         {**self.headers, **(headers or {})})
        start = time.perf_counter()
        try:
            with self.opener.open(request, timeout=900) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        return Answer(time.perf_counter() - start, status, body)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        answer = self.fetch(path, headers=headers)
        if answer.status != 200:
            raise RuntimeError(f"GET {self.base}{path}: HTTP {answer.status} {answer.body[:300]!r}")
        return answer


def sign_in_ours(base: str) -> Side:
    side = Side(base)
    page = side.get("/login").body.decode()
    token = load.TOKEN.search(page)
    assert token is not None, "no CSRF token on our login page"
    answer = side.fetch("/login", {"username": SUPERVISOR, "password": PASSWORD, "csrf_token": token.group(1)})
    assert answer.status == 302, f"our login: HTTP {answer.status}"
    return side


def sign_in_redmine(base: str, password: str) -> Side:
    side = Side(base)
    token = AUTHENTICITY.search(side.get("/login").body.decode())
    assert token is not None, "no authenticity_token on Redmine's login page"
    answer = side.fetch("/login", {"authenticity_token": token.group(1), "username": "admin", "password": password})
    assert answer.status == 302, f"Redmine login: HTTP {answer.status} (is --admin-password right?)"
    return side


# ---------------------------------------------------------------------------------------------------
# Our side: the database, the server, the token
# ---------------------------------------------------------------------------------------------------


def our_database(kind: str, pg: str, sqlite_path: Path, rebuild: bool) -> str:
    """The URL of our province database, built (generated and scanned on its day) unless already there."""
    if kind == "sqlite":
        url = f"sqlite:///{sqlite_path}"
        if rebuild:
            sqlite_path.unlink(missing_ok=True)
    else:
        admin_url = make_url(pg)
        name = "tracker_versus_redmine"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if rebuild:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = admin_url.set(database=name).render_as_string(hide_password=False)
    upgrade_database(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            built = conn.scalar(select(func.count()).select_from(Alert).where(Alert.status == AlertStatus.OPEN))
        if built:
            print(f"our province: reusing {make_url(url).render_as_string()} ({built:,} open alerts)", flush=True)
            settle(engine)  # vacuumed and analysed, whatever earlier runs left
            return url
        with engine.connect() as conn:
            other = conn.scalar(select(func.count()).select_from(User))
        if other:
            raise SystemExit(f"{url} holds other data and no alerts: give --rebuild to build the province afresh")
        print("our province: building (about a minute) …", flush=True)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True,
                          "INSTANCE_PATH": Path(tempfile.mkdtemp(prefix="tracker-versus-"))})
        factory = app.extensions["tracker.sessions"]
        with timeutil.frozen(TODAY):
            with factory() as session:
                sizes = dataset.generate(session)
            with factory() as session:
                counts = scan(session, TODAY)
                session.commit()
        app.extensions["tracker.engine"].dispose()
        settle(engine)
        print(f"our province: {sizes}; scan: {counts}", flush=True)
        return url
    finally:
        engine.dispose()


def our_token(url: str, instance: Path) -> str:
    """An API token of the supervisor's, made on the dataset's day (the server's clock reads that day)."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "INSTANCE_PATH": instance})
    with timeutil.frozen(TODAY), unit_of_work(app.extensions["tracker.sessions"]) as session:
        supervisor = session.scalars(select(User).where(User.username == SUPERVISOR)).one()
        token = create_token(session, supervisor, NewToken(name="versus_redmine 基准", scope=TokenScope.READ,
                                                             days=30))[1]
    app.extensions["tracker.engine"].dispose()
    return token


def start_ours(url: str, instance: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """gunicorn, one sync worker, on loopback; the app's clock reads the dataset's day (its demo clock)."""
    port = load._free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "SECRET_KEY": "versus-redmine-secret",
           "TRACKER_INSTANCE": str(instance), "SESSION_COOKIE_SECURE": "0", "PYTHONPATH": str(PROJECT_ROOT),
           "TRACKER_DEMO_CLOCK": timeutil.demo_clock_setting(TODAY)}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen([str(gunicorn), "-w", "1", "-k", "sync", "-b", f"127.0.0.1:{port}", "--timeout", "600",
                                "--log-level", "warning", "wsgi:app"], cwd=PROJECT_ROOT, env=env)
    load._wait_until_up(base, process)
    return base, process


# ---------------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    target: str | None  # a key of TARGETS
    ours: Callable[[], Answer]
    redmine: Callable[[], Answer] | None
    check: Callable[[bytes], str]  # what the last answer held ("50 rows", "13,855 rows" …)


@dataclass
class Result:
    name: str
    target: str | None
    ours: Figure
    redmine: Figure | None
    ours_note: str = ""
    redmine_note: str = ""
    unit: str = "ms"  # the figures' unit as printed: ms of a request, or ms a mail

    @property
    def ratio(self) -> float | None:
        return self.redmine.median / self.ours.median if self.redmine else None


def interleaved(case: Case, runs: int, warmup: int) -> Result:
    print(f"  {case.name} …", end="", flush=True)
    for _ in range(warmup):
        case.ours()
        if case.redmine:
            case.redmine()
    ours: list[float] = []
    theirs: list[float] = []
    last_ours = last_theirs = None
    for _ in range(runs):
        last_ours = case.ours()
        ours.append(last_ours.seconds)
        if case.redmine:
            last_theirs = case.redmine()
            theirs.append(last_theirs.seconds)
    assert last_ours is not None
    result = Result(case.name, case.target, Figure(case.name, ours),
                    Figure(case.name, theirs) if theirs else None, case.check(last_ours.body),
                    case.check(last_theirs.body) if last_theirs else "")
    print(f" ours {result.ours.median * 1000:.0f} ms" + (f", Redmine {result.redmine.median * 1000:.0f} ms"
                                                            if result.redmine else ""), flush=True)
    return result


def _size(body: bytes) -> str:
    return f"{len(body) / 1e6:.2f} MB" if len(body) > 1e6 else f"{len(body):,} bytes"


def _json_rows(body: bytes) -> str:
    """Rows in a page of either side's JSON (ours: items and counts; Redmine's: issues and total_count)."""
    data = json.loads(body)
    if "items" in data:
        return f"{len(data['items'])} of {data['counts']['total']:,}"
    return f"{len(data['issues'])} of {data['total_count']:,}"


def _csv_rows(body: bytes) -> str:
    """Data rows: those numbered in the first column (ours: 序号, Redmine's: #), not headings."""
    rows = sum(1 for row in csv.reader(io.StringIO(body.decode("utf-8-sig", errors="replace")))
               if row and row[0].isdigit())
    return f"{rows:,} rows, {_size(body)}"


def http_cases(ours: Side, api: Side, redmine: Side, key: str, deep: int) -> list[Case]:
    offset = (deep - 1) * PAGE_SIZE
    by_key = {"X-Redmine-API-Key": key}
    f = REDMINE_FILTER
    return [
        Case("overdue list p1 (HTML)", "html", lambda: ours.get("/alerts/overdue"),
             lambda: redmine.get(f"/issues?{f}&per_page={PAGE_SIZE}"), _size),
        Case(f"overdue list p{deep} (HTML)", "html", lambda: ours.get(f"/alerts/overdue?page={deep}"),
             lambda: redmine.get(f"/issues?{f}&per_page={PAGE_SIZE}&page={deep}"), _size),
        Case("overdue list p1 (JSON)", "json", lambda: api.get(f"/api/v1/alerts/overdue?limit={PAGE_SIZE}"),
             lambda: redmine.get(f"/issues.json?{f}&limit={PAGE_SIZE}", by_key), _json_rows),
        Case(f"overdue list p{deep} (JSON)", "json",
             lambda: api.get(f"/api/v1/alerts/overdue?limit={PAGE_SIZE}&cursor={encode_cursor('o', offset)}"),
             lambda: redmine.get(f"/issues.json?{f}&limit={PAGE_SIZE}&offset={offset}", by_key), _json_rows),
        Case("CSV, every overdue row", "csv", lambda: ours.get("/alerts/overdue/export.csv"),
             lambda: redmine.get(f"/issues.csv?{f}"), _csv_rows),
        Case("our .xlsx, every overdue row", None, lambda: ours.get("/alerts/overdue/export.xlsx"), None, _size),
    ]


class RedmineSettings:
    """Redmine's settings table (read by Redmine again once a row's updated_on moves), as bench.sh sets it."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, isolation_level="AUTOCOMMIT")

    def export_limit(self, rows: int | None) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("DELETE FROM settings WHERE name = 'issues_export_limit'"))
            if rows is not None:
                conn.execute(text("INSERT INTO settings (name, value, updated_on) "
                                  "VALUES ('issues_export_limit', :v, now())"), {"v": str(rows)})
            else:
                conn.execute(text("UPDATE settings SET updated_on = now() WHERE name = 'rest_api_enabled'"))

    def reminder_scope(self) -> str:
        with self.engine.connect() as conn:
            issues, people = conn.execute(text(
                "SELECT count(*), count(DISTINCT assigned_to_id) FROM issues i "
                "JOIN issue_statuses s ON s.id = i.status_id JOIN projects p ON p.id = i.project_id "
                "WHERE NOT s.is_closed AND p.status = 1 AND i.assigned_to_id IS NOT NULL "
                "AND i.due_date <= current_date + 7")).one()
        return f"{issues:,} issues, {people:,} assignees"


# ---------------------------------------------------------------------------------------------------
# Reminders
# ---------------------------------------------------------------------------------------------------


class _CountingSmtp(socketserver.StreamRequestHandler):
    """Enough of RFC 5321 for smtplib; a mail is counted at the end of its DATA and otherwise not looked at."""

    server: _CountingServer

    def handle(self) -> None:
        write = self.wfile.write
        write(b"220 localhost ESMTP sink\r\n")
        in_data = False
        for line in self.rfile:
            if in_data:
                if line in (b".\r\n", b".\n"):
                    in_data = False
                    with self.server.received.get_lock():
                        self.server.received.value += 1
                    write(b"250 OK\r\n")
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                write(b"250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == b"DATA":
                in_data = True
                write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                write(b"221 Bye\r\n")
                return
            else:
                write(b"250 OK\r\n")


class _CountingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    received: Any


class SmtpSink:
    """An SMTP server on loopback that counts the mails it is given, in a process of its own: the sink's
    reading of every line is the mail server's work, not ours, and is not timed as ours."""

    def __init__(self) -> None:
        self.server = _CountingServer(("127.0.0.1", 0), _CountingSmtp)
        self.server.received = multiprocessing.get_context("fork").Value("i", 0)
        self.process = multiprocessing.get_context("fork").Process(target=self.server.serve_forever, daemon=True)
        self.process.start()
        self.server.socket.close()  # the child listens

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.server.server_address[1]}/?from=duban@example.org"

    @property
    def received(self) -> int:
        return int(self.server.received.value)

    def reset(self) -> None:
        with self.server.received.get_lock():
            self.server.received.value = 0

    def close(self) -> None:
        self.process.terminate()
        self.process.join()


class OurReminders:
    """The reminders job in this process: every department's digest composed, then delivered to an SMTP
    sink on loopback; timed until the sink has the last mail."""

    def __init__(self, url: str, instance: Path) -> None:
        self.sink = SmtpSink()
        self.channels = Channels(smtp_url=self.sink.url)
        self.app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "INSTANCE_PATH": instance})
        self.factory = self.app.extensions["tracker.sessions"]

    def once(self) -> tuple[float, int]:
        with timeutil.frozen(TODAY):
            with unit_of_work(self.factory) as session:  # the day's digest not yet sent
                session.execute(delete(NotificationDelivery))
                session.execute(delete(Notification))
            self.sink.reset()
            start = time.perf_counter()
            with unit_of_work(self.factory) as session:
                compose_digests(session, TODAY, self.channels)
            with unit_of_work(self.factory) as session:
                sent = deliver_pending(session, self.channels)["sent"]
            while self.sink.received < sent and time.perf_counter() - start < 600:
                time.sleep(0.005)
            took = time.perf_counter() - start
        if not sent or self.sink.received != sent:
            raise RuntimeError(f"our reminders: {sent} sent, the sink has {self.sink.received}")
        return took, sent

    def close(self) -> None:
        self.sink.close()
        self.app.extensions["tracker.engine"].dispose()


class RedmineReminders:
    """``rake redmine:send_reminders days=7`` as the recipe runs it (as www-data when we are root)."""

    def __init__(self, root: Path, mails: Path) -> None:
        self.root, self.mails = root, mails

    def _command(self, command: str) -> list[str]:
        env = "BUNDLER_VERSION=2.3.15 REDMINE_INSTANCE=default RAILS_ENV=production"
        if os.geteuid() == 0:
            return ["su", "www-data", "-s", "/bin/sh", "-c", f"cd {shlex.quote(str(self.root))} && {env} {command}"]
        return ["/bin/sh", "-c", f"cd {shlex.quote(str(self.root))} && {env} {command}"]

    def once(self) -> tuple[float, int]:
        for old in self.mails.glob("*"):
            old.unlink()
        start = time.perf_counter()
        done = subprocess.run(self._command("bundle exec rake redmine:send_reminders days=7"), capture_output=True,
                              text=True)
        took = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"rake redmine:send_reminders: exit {done.returncode}\n{done.stderr[-2000:]}")
        mails = sum(1 for path in self.mails.glob("*") for line in path.read_text(errors="replace").splitlines()
                    if line.startswith("Message-ID:"))
        return took, mails

    def profile(self, script: Path) -> tuple[float | None, str]:
        """reminder_profile.rb: Redmine's reminder mails built in process (100 users, delivery :test)."""
        done = subprocess.run(self._command(f"bundle exec rails runner {shlex.quote(str(script))}"),
                              capture_output=True, text=True)
        found = re.search(r"([\d.]+) ms/mail", done.stdout)
        return (float(found.group(1)) / 1000 if found else None), done.stdout.strip()


def reminders(ours: OurReminders, redmine: RedmineReminders | None, runs: int) -> list[Result]:
    print(f"  reminders ({runs} runs each, alternating) …", flush=True)
    ours.once()  # warm-up: ours only, Redmine's run is minutes long
    our_times: list[float] = []
    their_times: list[float] = []
    our_mails = their_mails = 0
    for i in range(runs):
        took, our_mails = ours.once()
        our_times.append(took / our_mails)
        print(f"    ours run {i + 1}: {took:.2f} s, {our_mails:,} mails", flush=True)
        if redmine:
            took, their_mails = redmine.once()
            if not their_mails:
                raise RuntimeError(f"Redmine's reminders wrote no mails into {redmine.mails}")
            their_times.append(took / their_mails)
            print(f"    Redmine run {i + 1}: {took:.1f} s, {their_mails:,} mails", flush=True)
    mine = Figure("reminders", our_times)
    results = [Result("reminders, per mail (whole job)", "mail", mine,
                      Figure("reminders", their_times) if their_times else None,
                      f"{our_mails:,} mails", f"{their_mails:,} mails" if redmine else "", unit="ms a mail")]
    if redmine:
        script = RECIPE / "reminder_profile.rb"
        per_mail, output = redmine.profile(script)
        print("    reminder_profile.rb: " + output.replace("\n", "; "), flush=True)
        if per_mail is not None:
            results.append(Result("reminders, per mail (Redmine in process)", "mail", mine,
                                  Figure("profile", [per_mail]), f"{our_mails:,} mails",
                                  "reminder_profile.rb, 100 users", unit="ms a mail"))
    return results


# ---------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------


def _cell(figure: Figure | None) -> str:
    if figure is None:
        return "—"
    median, p95 = figure.median * 1000, figure.p95 * 1000
    digits = 2 if median < 10 else 0 if median >= 100 else 1
    return f"{median:,.{digits}f} / {p95:,.{digits}f}"


def report(results: list[Result], before: tuple[float, float, float], after: tuple[float, float, float],
           runs: int, warmup: int) -> None:
    print(f"\n{'case':<40} {'ours median / p95':>20} {'Redmine median / p95':>22} {'ratio':>7} {'target':>7}"
          f"   rows (ours | Redmine)")
    for r in results:
        ratio = f"{r.ratio:.1f}×" if r.ratio is not None else "—"
        target = f"≥{TARGETS[r.target]}×" if r.target else ""
        note = f"{r.ours_note} | {r.redmine_note}" if r.redmine_note else r.ours_note
        print(f"{r.name:<40} {_cell(r.ours):>20} {_cell(r.redmine):>22} {ratio:>7} {target:>7}   {note}")
    print(f"\nms per request (reminders: ms a mail); {runs} timed runs per side after {warmup} warm-ups, "
          f"alternating; ratio = Redmine's median ÷ ours")
    print("load average before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f} ({} CPUs)".format(
        *before, *after, os.cpu_count()))


def as_json(results: list[Result], before: tuple[float, ...], after: tuple[float, ...], args: Any) -> dict[str, Any]:
    def figure(f: Figure | None) -> dict[str, Any] | None:
        return None if f is None else {"median_ms": round(f.median * 1000, 3), "p95_ms": round(f.p95 * 1000, 3),
                                       "runs": len(f.times)}

    return {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": args.runs, "warmup": args.warmup,
            "database": args.database, "load_average_before": before, "load_average_after": after,
            "cases": [{"case": r.name, "ours": figure(r.ours), "redmine": figure(r.redmine),
                       "ratio": None if r.ratio is None else round(r.ratio, 2), "unit": r.unit,
                       "ours_rows": r.ours_note, "redmine_rows": r.redmine_note} for r in results]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="timed requests per case and side")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per case and side first")
    parser.add_argument("--redmine", default="http://127.0.0.1:3000", help="Redmine's address")
    parser.add_argument("--key", default=os.environ.get("KEY"), help="Redmine's admin API key (default: $KEY)")
    parser.add_argument("--admin-password", default="AnchorAdmin#2026", help="Redmine's admin password")
    parser.add_argument("--redmine-db", default="postgresql+psycopg://redmine_default:anchorpw@127.0.0.1:5432/"
                        "redmine_default", help="Redmine's database (for issues_export_limit, as bench.sh)")
    parser.add_argument("--redmine-root", type=Path, default=Path("/usr/share/redmine"))
    parser.add_argument("--mails", type=Path,
                        default=Path(os.environ.get("ANCHOR_DIR", "/tmp/redmine-anchor")) / "mails",
                        help="where Redmine writes its mails (configuration.yml's file_settings)")
    parser.add_argument("--reminder-runs", type=int, default=3, help="runs of each reminder job (Redmine's: minutes)")
    parser.add_argument("--no-reminders", action="store_true", help="leave the reminder jobs out")
    parser.add_argument("--deep-page", type=int, default=40, help="the deep page of the lists (50 rows a page)")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="the PostgreSQL server our province database lives on")
    parser.add_argument("--sqlite-path", type=Path, default=Path(tempfile.gettempdir()) / "tracker-versus-redmine.db")
    parser.add_argument("--rebuild", action="store_true", help="build our province database afresh")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not args.key:
        parser.error("--key (or $KEY): Redmine's admin API key, printed by the recipe's setup_admin.rb")

    url = our_database(args.database, args.pg, args.sqlite_path, args.rebuild)
    instance = Path(tempfile.mkdtemp(prefix="tracker-versus-"))
    token = our_token(url, instance)
    settings = RedmineSettings(args.redmine_db)
    redmine = sign_in_redmine(args.redmine, args.admin_password)
    base, server = start_ours(url, instance / "server")
    results: list[Result] = []
    before = os.getloadavg()
    print(f"load average before: {before}; Redmine's reminder scope: {settings.reminder_scope()}", flush=True)
    try:
        ours, api = sign_in_ours(base), Side(base, {"Authorization": f"Bearer {token}"})
        for case in http_cases(ours, api, redmine, args.key, args.deep_page):
            if case.target == "csv":
                settings.export_limit(20_000)
                try:
                    results.append(interleaved(case, args.runs, args.warmup))
                finally:
                    settings.export_limit(None)
            else:
                results.append(interleaved(case, args.runs, args.warmup))
    finally:
        server.terminate()
        server.wait(30)
    if not args.no_reminders:
        mine = OurReminders(url, instance / f"reminders-{uuid.uuid4().hex[:6]}")
        try:
            results += reminders(mine, RedmineReminders(args.redmine_root, args.mails), args.reminder_runs)
        except (RuntimeError, OSError) as exc:  # the table of what was measured still comes out
            print(f"reminders not measured: {exc}", flush=True)
        finally:
            mine.close()
    after = os.getloadavg()
    settings.engine.dispose()
    report(results, before, after, args.runs, args.warmup)
    if args.json:
        args.json.write_text(json.dumps(as_json(results, before, after, args), ensure_ascii=False, indent=2) + "\n")
        print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
