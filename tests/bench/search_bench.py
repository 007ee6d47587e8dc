"""Search at province scale (a script, not a test).

    .venv/bin/python -m tests.bench.search_bench                 # SQLite
    .venv/bin/python -m tests.bench.search_bench --postgres      # SQLite, then PostgreSQL
    .venv/bin/python -m tests.bench.search_bench --only postgres --runs 30

Builds a fresh database per kind (PostgreSQL: a new database, dropped afterwards) with tests/bench/dataset.py's
province — built through the migrations, so the search index (FTS5 triggers on SQLite, pg_trgm GIN indexes on
PostgreSQL) is filled as the rows go in — and times the search of a few queries as the province's supervisor
(everything in scope) and as the head of the department with the most tasks (the plan tree of the plans
above and the department's own cases and reports), median and p95 over ``--runs`` after two warm-up runs:

* ``search()`` — all seven kinds, ten hits each (the grouped page's reads);
* the page itself, through the Flask stack (login session, scope, template, highlighting).

The dataset's texts are few and repeated (every report says 按计划推进 and 配套资金; milestones are 节点1 …),
so its words are the worst kind to search for: a common word matches most rows, a miss reads the whole scope.
The target is 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tracker import create_app, timeutil
from tracker.auth.models import Role, User
from tracker.schema import upgrade_database
from tracker.search import services

from . import dataset
from .dataset import PASSWORD, TODAY
from .province import busiest_department, repeat, settle

TARGET_MS = 100
QUERIES = [
    ("2-char Chinese, common", "推进"),
    ("2-char Chinese, miss", "疾控"),
    ("4-char Chinese", "配套资金"),
    ("4-char Chinese, titles", "年度任务"),
    ("code", "1.1.1"),
    ("case number", "督〔2023〕15号"),
    ("miss", "不存在的内容"),
]


def _ms(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def run(url: str, label: str, instance: Path, runs: int) -> list[tuple[str, str, str, float, float, int]]:
    print(f"\n--- {label} ---", flush=True)
    upgrade_database(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": instance, "UPLOAD_DIR": instance / "uploads", "TESTING": True})
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
                for what, fn in (("search()", service), ("page", page)):
                    median, p95 = _ms(repeat(fn, runs))
                    rows.append((who, f"{name} «{query}»", what, median, p95, hits))
                    print(f"  {who:<20} {name + ' «' + query + '»':<34} {what:<9} median {median:7.1f} ms"
                          f"  p95 {p95:7.1f} ms  hits {hits}", flush=True)
    engine.dispose()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server to create the benchmark database on")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL too")
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--runs", type=int, default=20, help="repetitions of each measurement")
    args = parser.parse_args()
    results: dict[str, list[tuple[str, str, str, float, float, int]]] = {}
    with tempfile.TemporaryDirectory(prefix="tracker-search-bench-") as tmp:
        if args.only in (None, "sqlite"):
            results["SQLite"] = run(f"sqlite:///{Path(tmp) / 'bench.db'}", "SQLite", Path(tmp) / "i-sqlite", args.runs)
        if args.only == "postgres" or (args.only is None and args.postgres):
            admin_url = make_url(args.pg)
            name = f"tracker_search_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = admin_url.set(database=name).render_as_string(hide_password=False)
                results["PostgreSQL"] = run(url, "PostgreSQL", Path(tmp) / "i-pg", args.runs)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print(f"\n| database | reader | query | measured | median ms | p95 ms | hits | under {TARGET_MS} ms |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: | --- |")
    slow = 0
    for database, rows in results.items():
        for who, query, what, median, p95, hits in rows:
            ok = p95 < TARGET_MS
            slow += not ok
            print(f"| {database} | {who} | {query} | {what} | {median:.1f} | {p95:.1f} | {hits} | {'yes' if ok else 'NO'} |")
    return 1 if slow else 0


if __name__ == "__main__":
    raise SystemExit(main())
