"""The day's digest mails, composed and delivered (a script, not a test).

    .venv/bin/python -m tests.bench.digest_delivery              # 2,395 mails, as the province benchmark has
    .venv/bin/python -m tests.bench.digest_delivery --mails 5000

On SQLite in a temporary directory: as many department users with an e-mail address as ``--mails``, one
digest message each put in their inboxes (``notify``, the job's own write), then one run of the scheduler's
``deliveries`` job hands every mail to an SMTP sink on loopback (a thread of this process), one connection
a batch of 500. Prints the time to compose, the time until the sink has the last mail, the mails a second and
the connections the sink saw.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from tracker import create_app, timeutil
from tracker.auth.models import Role
from tracker.config import TestConfig
from tracker.db import unit_of_work
from tracker.notifications.channels import Channels
from tracker.notifications.delivery import BATCH
from tracker.notifications.models import DeliveryState, NotificationDelivery, NotificationKind
from tracker.notifications.outbox import Message, notify
from tracker.regions.models import RegionLevel
from tracker.scheduler import run_job
from tracker.schema import upgrade_database

from .. import factories as f
from ..notifications.conftest import SmtpServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=2395)
    args = parser.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp()}/digest.db"
    upgrade_database(url)
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}, "DATABASE_URL": url,
                      "INSTANCE_PATH": Path(tempfile.mkdtemp())})
    factory = app.extensions["tracker.sessions"]
    sink = SmtpServer()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    connections = [0]
    handle = sink.finish_request

    def counted(*args: object) -> None:
        connections[0] += 1
        handle(*args)  # type: ignore[arg-type]

    sink.finish_request = counted  # type: ignore[method-assign]
    app.config["SMTP_URL"] = sink.url
    channels = Channels(smtp_url=sink.url)
    with timeutil.frozen("2026-11-22"), app.app_context():
        with unit_of_work(factory) as session:
            province = f.region(session, "浙江省", RegionLevel.PROVINCE)
            users = []
            for d in range(args.mails // 25 + 1):
                department = f.department(session, province, f"处室{d}")
                for u in range(25):
                    if len(users) < args.mails:
                        user = f.user(session, department, Role.DEPT_STAFF, username=f"u{d}_{u}")
                        user.email = f"u{d}_{u}@example.org"
                        users.append(user)
            session.flush()
            ids = [u.id for u in users]
        start = time.perf_counter()
        with unit_of_work(factory) as session:
            messages = [Message(i, "11月22日督查提醒：逾期2项", "新增或升级的预警 2 项：……", "/workspace") for i in ids]
            notify(session, NotificationKind.DIGEST, "digest:2026-11-22", messages, channels)
        composed = time.perf_counter() - start
        run = run_job(app, "deliveries")
        while len(sink.received) < args.mails and time.perf_counter() - start < 600:
            time.sleep(0.05)
        delivered = time.perf_counter() - start
        with unit_of_work(factory) as session:
            sent = session.scalar(select(func.count()).select_from(NotificationDelivery)
                                  .where(NotificationDelivery.state == DeliveryState.SENT))
    sink.shutdown()
    print(f"{args.mails} digest mails: composed in {composed:.2f} s; the sink had {len(sink.received)} "
          f"{delivered:.2f} s after composing began ({len(sink.received) / (delivered - composed):.0f} mails/s); "
          f"deliveries marked sent: {sent}; one job run ({run.status.value}): {run.counts}; "
          f"{connections[0]} SMTP connections ({BATCH} mails a batch)")


if __name__ == "__main__":
    main()
