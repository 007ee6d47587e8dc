"""Run the whole suite on SQLite (in parallel, the browser tests after), then again without the browser tests on
PostgreSQL when it answers (in parallel too: each worker makes a database of its own beside the fresh one made
here).

    .venv/bin/python -m tests.run [pytest args]

PostgreSQL is looked for at TRACKER_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
Exits non-zero when any run fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NO_TESTS = 5  # pytest's exit code when no test was collected


def _pg_admin_dsn(url: str) -> str | None:
    u = make_url(url)
    dsn = f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'} dbname={u.database}"
    if u.password:
        dsn += f" password={u.password}"
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return dsn
    except psycopg.Error:
        return None


def _pytest(args: list[str], env: dict[str, str], label: str) -> int:
    print(f"\n===== 测试：{label} =====", flush=True)
    code = subprocess.call([sys.executable, "-m", "pytest", *args], env=env)
    return 0 if code == NO_TESTS else code  # a part with nothing to run (only browser tests asked for, say)


def main() -> int:
    args = sys.argv[1:]
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    # SQLite: each worker has a database of its own, so the non-browser tests run on every CPU; the browser
    # tests after them, one at a time (they share one Chromium and serve the app from the test process).
    workers = ["-n", str(min(os.cpu_count() or 1, 4))] if (os.cpu_count() or 1) > 1 else []
    codes = [_pytest(args + ["-m", "not e2e", *workers], env, "SQLite"),
             _pytest(args + ["-m", "e2e"], env, "SQLite（浏览器）")]

    pg_url = os.environ.get("TRACKER_TEST_PG", DEFAULT_PG)
    dsn = _pg_admin_dsn(pg_url)
    if dsn is None:
        print(f"\nPostgreSQL 未响应（{make_url(pg_url).render_as_string()}），跳过 PostgreSQL 测试。", flush=True)
    else:
        name = f"tracker_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            test_url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
            codes.append(_pytest(args + ["-m", "not e2e", *workers], {**env, "TEST_DATABASE_URL": test_url},
                                 f"PostgreSQL（{name}）"))
        finally:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    failed = [c for c in codes if c != 0]
    return failed[0] if failed else 0


if __name__ == "__main__":
    sys.exit(main())
