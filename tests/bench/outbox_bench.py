"""What telling people costs a request (a script, not a test).

    .venv/bin/python -m tests.bench.outbox_bench                 # SQLite and PostgreSQL
    .venv/bin/python -m tests.bench.outbox_bench --no-postgres
    .venv/bin/python -m tests.bench.outbox_bench --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Over the demo data, with e-mail and both robots configured and every user given an address: the same
supervision step (下发督办单, the step with the most recipients) done ``--runs`` times, each in its own
transaction that is rolled back, alternately with the event written (as the product does) and with the
event left out, so the machine's noise hits both alike. Prints the medians and p95s of both and of the
difference — the outbox's share of the request.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from tracker import create_app, timeutil
from tracker.auth.models import User
from tracker.config import PROJECT_ROOT, TestConfig
from tracker.db import make_engine, make_session_factory, unit_of_work
from tracker.regions.models import Department
from tracker.schema import upgrade_database
from tracker.seeding import load_seeds
from tracker.supervision import services as supervision
from tracker.supervision.models import CaseAction, CaseSource

CHANNELS = {"SMTP_URL": "smtp://127.0.0.1:2525/?from=duban@example.org",
            "DINGTALK_URL": "http://127.0.0.1:9/robot/send?access_token=x", "DINGTALK_SECRET": "SECbench",
            "WECOM_URL": "http://127.0.0.1:9/cgi-bin/webhook/send?key=x"}


def _prepare(url: str) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        load_seeds(session, PROJECT_ROOT / "seeds")
        session.execute(update(User).values(email=User.username + "@example.org", phone="13800000000"))
    engine.dispose()


def _measure(url: str, runs: int) -> dict[str, Any]:
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}, "DATABASE_URL": url,
                      "INSTANCE_PATH": Path(tempfile.mkdtemp()), **CHANNELS})
    factory = app.extensions["tracker.sessions"]
    timings: dict[str, list[float]] = {"with": [], "without": []}
    with app.app_context():
        for i in range(runs * 2 + 2):
            variant = "with" if i % 2 == 0 else "without"
            session = factory()
            try:
                supervisor = session.scalars(select(User).where(User.username == "zj_supervisor")).one()
                dept = session.scalars(select(Department).where(Department.name == "疾控处",
                                                                Department.region_id == supervisor.region_id)).one()
                case = supervision.file_case(session, supervisor, supervision.CaseInput(
                    source=CaseSource.ROUTINE, department=dept, task=None, title="基准测试", problem="进度滞后"))
                session.flush()
                patch = mock.patch.object(supervision, "emit") if variant == "without" else mock.MagicMock()
                with patch:
                    start = time.perf_counter()
                    supervision.perform(session, supervisor, case, CaseAction.ISSUE, version=case.version_id,
                                        response_days=10)
                    session.flush()
                    elapsed = time.perf_counter() - start
                if i >= 2:  # the first pair warms the caches
                    timings[variant].append(elapsed * 1000)
            finally:
                session.rollback()
                session.close()
    app.extensions["tracker.engine"].dispose()
    out: dict[str, Any] = {}
    for variant, values in timings.items():
        values.sort()
        out[variant] = (statistics.median(values), values[int(len(values) * 0.95) - 1])
    diffs = sorted(a - b for a, b in zip(timings["with"], timings["without"], strict=True))
    out["difference"] = (statistics.median(diffs), diffs[int(len(diffs) * 0.95) - 1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    timeutil_ctx = timeutil.frozen("2026-11-22")
    timeutil_ctx.__enter__()
    targets = [("SQLite", f"sqlite:///{tempfile.mkdtemp()}/outbox.db", None)]
    if not args.no_postgres:
        name = f"outbox_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        targets.append(("PostgreSQL", make_url(args.pg).set(database=name).render_as_string(hide_password=False),
                        (admin, name)))
    print(f"下发督办单 ×{args.runs}, alternating with and without the event (ms: median / p95)")
    for label, url, cleanup in targets:
        try:
            _prepare(url)
            r = _measure(url, args.runs)
            print(f"{label:<11} with event {r['with'][0]:7.2f} / {r['with'][1]:7.2f}   "
                  f"without {r['without'][0]:7.2f} / {r['without'][1]:7.2f}   "
                  f"outbox adds {r['difference'][0]:6.2f} / {r['difference'][1]:6.2f}")
        finally:
            if cleanup is not None:
                admin, name = cleanup
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    timeutil_ctx.__exit__(None, None, None)


if __name__ == "__main__":
    main()
