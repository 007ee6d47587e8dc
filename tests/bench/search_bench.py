"""Search at province scale (a script, not a test).

    .venv/bin/python -m tests.bench.search_bench                 # SQLite
    .venv/bin/python -m tests.bench.search_bench --postgres      # SQLite, then PostgreSQL
    .venv/bin/python -m tests.bench.search_bench --only postgres --runs 30

Builds a fresh database per kind (PostgreSQL: a new database, dropped afterwards) with tests/bench/dataset.py's
province — built through the migrations, so the search index (FTS5 triggers on SQLite, pg_trgm GIN indexes on
PostgreSQL) is filled as the rows go in — and times the search of a few queries as the province's supervisor
(everything in scope), as a city's supervisor (the city's plans and those above: a slice of every table) and as
the head of the department with the most tasks (the plan tree of the plans above and the department's own cases
and reports), median and p95 over ``--runs`` after two warm-up runs:

* ``search()`` — all seven kinds, ten hits each (the grouped page's reads);
* the page itself, through the Flask stack (login session, scope, template, highlighting);

and checks that ``search()`` shows the hits the plain ``LIKE`` of the same words shows in the same scope (the
same records of each kind, the same "more"): the table's "same as LIKE".

Beside the wall-clock times it gives the median CPU time the measurement used — this process's, plus on
PostgreSQL that of the database's server processes (``/proc/<pid>/schedstat``) — which other work on a busy
machine does not inflate; the load average is printed with each database's table.

The dataset's texts are few and repeated (every report says 按计划推进 and 配套资金; milestones are 节点1 …),
so its words are the worst kind to search for: a common word matches most rows, a miss reads the whole scope.
The queries cover one- and two-character words (common and missing), two short words together, longer words,
task codes, 督办单 numbers and a miss. The target is 100 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, or_, select, text
from sqlalchemy.engine import make_url

from tracker import create_app, freeze_startup_objects, timeutil
from tracker.auth.models import Role, User
from tracker.schema import upgrade_database
from tracker.search import services

from . import dataset
from .dataset import PASSWORD, TODAY
from .province import busiest_department, settle

TARGET_MS = 100
QUERIES = [
    ("1-char Chinese, common", "县"),
    ("1-char Chinese, miss", "鹭"),
    ("2-char Chinese, common", "推进"),
    ("2-char Chinese, every milestone", "节点"),
    ("2-char Chinese, miss", "疾控"),
    ("two 2-char words", "资金 到位"),
    ("4-char Chinese", "配套资金"),
    ("4-char Chinese, titles", "年度任务"),
    ("code", "1.1.1"),
    ("code, deep", "1.2.3"),
    ("case number", "督〔2023〕15号"),
    ("case number, other office", "浙卫督〔2026〕3号"),
    ("miss", "不存在的内容"),
]


Row = tuple[str, str, str, float, float, float, int, bool]


def _plain_like(dialect: str, sources: list[services.Source], term: str, cap: int | None = None,
                indexed: bool = True) -> Any:
    """The match of one word without any index: LIKE (ILIKE) of the columns."""
    return or_(*(services._like(dialect, source, term) for source in sources))


def _shown(results: services.Results) -> list[tuple[str, list[int], bool]]:
    return [(g.kind.value, [h.id for h in g.hits], g.more) for g in results.groups]


def _server_cpu(engine: Engine) -> Callable[[], dict[int, int]]:
    """The CPU nanoseconds each server process of the engine's database has used so far (none for SQLite)."""
    if engine.dialect.name != "postgresql":
        return dict
    with engine.connect() as conn:
        pids = list(conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")))

    def used() -> dict[int, int]:
        found = {}
        for pid in pids:
            with contextlib.suppress(OSError, ValueError):
                found[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        return found

    return used


def _measure(fn: Callable[[], Any], runs: int, engine: Engine, warmup: int = 2) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run (after the warm-up runs)."""
    for _ in range(warmup):
        fn()
    server = _server_cpu(engine)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu, before = time.perf_counter(), time.process_time(), server()
        fn()
        walls.append(time.perf_counter() - wall)
        after = server()
        server_ns = sum(after[pid] - before[pid] for pid in after.keys() & before.keys())
        cpus.append(time.process_time() - cpu + server_ns / 1e9)
    return walls, cpus


def _ms(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def run(url: str, label: str, instance: Path, runs: int) -> list[Row]:
    print(f"\n--- {label} ---", flush=True)
    upgrade_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": instance, "UPLOAD_DIR": instance / "uploads", "TESTING": True})
    freeze_startup_objects()  # as wsgi.py does in each server process
    engine = app.extensions["tracker.engine"]
    factory = app.extensions["tracker.sessions"]
    rows = []
    with timeutil.frozen(TODAY):
        with factory() as session:
            sizes = dataset.generate(session)
        print(f"dataset: {sizes}", flush=True)
        settle(engine)
        with factory() as session:
            head_department = busiest_department(session)
            readers = {
                "province supervisor": session.scalars(select(User).where(User.username == "sup1")).one(),
                # a city's office: its scope is a slice of every table, and not the newest rows
                "city supervisor": session.scalars(select(User).where(User.username == "sup2")).one(),
                "department head": session.scalars(select(User).where(
                    User.department_id == head_department, User.role == Role.DEPT_HEAD)).one(),
            }
            names = {who: u.username for who, u in readers.items()}
        for who, username in names.items():
            client = app.test_client()
            response = client.post("/login", data={"username": username, "password": PASSWORD})
            assert response.status_code == 302, response.status_code
            for name, query in QUERIES:
                def service(query: str = query, username: str = username) -> int:
                    with factory() as session:
                        reader = session.scalars(select(User).where(User.username == username)).one()
                        results = services.search(session, reader, query)
                        return sum(len(g.hits) for g in results.groups)

                def page(query: str = query, client: FlaskClient = client) -> None:
                    r = client.get(f"/search?q={quote(query)}")
                    assert r.status_code == 200, r.status_code

                hits = service()
                with factory() as session:
                    reader = session.scalars(select(User).where(User.username == username)).one()
                    indexed = _shown(services.search(session, reader, query))
                    with mock.patch.object(services, "_term_matches", _plain_like):
                        same = indexed == _shown(services.search(session, reader, query))
                for what, fn in (("search()", service), ("page", page)):
                    walls, cpus = _measure(fn, runs, engine)
                    (median, p95), cpu = _ms(walls), statistics.median(cpus) * 1000
                    rows.append((who, f"{name} «{query}»", what, median, p95, cpu, hits, same))
                    print(f"  {who:<20} {name + ' «' + query + '»':<34} {what:<9} median {median:7.1f} ms"
                          f"  p95 {p95:7.1f} ms  CPU {cpu:7.1f} ms  hits {hits}  same as LIKE {'yes' if same else 'NO'}",
                          flush=True)
    engine.dispose()
    return rows


def _load() -> str:
    """The machine's load average over 1, 5 and 15 minutes, against its CPUs."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server to create the benchmark database on")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL too")
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--runs", type=int, default=20, help="repetitions of each measurement")
    args = parser.parse_args()
    results: dict[str, list[Row]] = {}
    loads: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="tracker-search-bench-") as tmp:
        if args.only in (None, "sqlite"):
            results["SQLite"] = run(f"sqlite:///{Path(tmp) / 'bench.db'}", "SQLite", Path(tmp) / "i-sqlite", args.runs)
            loads["SQLite"] = _load()
        if args.only == "postgres" or (args.only is None and args.postgres):
            admin_url = make_url(args.pg)
            name = f"tracker_search_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = admin_url.set(database=name).render_as_string(hide_password=False)
                results["PostgreSQL"] = run(url, "PostgreSQL", Path(tmp) / "i-pg", args.runs)
                loads["PostgreSQL"] = _load()
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print(f"\n| database | reader | query | measured | median ms | p95 ms | CPU ms | hits | same as LIKE "
          f"| under {TARGET_MS} ms |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |")
    failed = 0
    for database, rows in results.items():
        for who, query, what, median, p95, cpu, hits, same in rows:
            ok = median < TARGET_MS and p95 < TARGET_MS
            failed += not (ok and same)
            print(f"| {database} | {who} | {query} | {what} | {median:.1f} | {p95:.1f} | {cpu:.1f} | {hits} "
                  f"| {'yes' if same else 'NO'} | {'yes' if ok else 'NO'} |")
    for database, load in loads.items():
        print(f"{database}: load average {load}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
