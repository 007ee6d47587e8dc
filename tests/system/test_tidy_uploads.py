"""Files left by uploads whose transaction rolled back are swept once they are old; files in use stay."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from tracker.attachments.models import Attachment
from tracker.attachments.services import ORPHAN_AGE, file_path, save_uploads
from tracker.auth.models import User
from tracker.scheduler import run_job
from tracker.tasks.models import Milestone

PDF = b"%PDF-1.4\n%test\n"


def _upload(session, user: User, milestone: Milestone, content: bytes) -> Attachment:  # type: ignore[no-untyped-def]
    [attachment] = save_uploads(session, user, [FileStorage(io.BytesIO(content), "证明.pdf")],
                                milestone_id=milestone.id)
    return attachment


def _age(path: Path) -> None:
    old = time.time() - ORPHAN_AGE.total_seconds() - 60
    os.utime(path, (old, old))


def test_orphaned_files_are_swept_and_referenced_ones_kept(demo: Flask) -> None:
    factory = demo.extensions["tracker.sessions"]
    with demo.app_context(), factory() as s:
        user = s.scalars(select(User).where(User.username == "zj_head_jk")).one()
        milestone = s.scalars(select(Milestone).order_by(Milestone.id)).first()
        assert milestone is not None
        kept = _upload(s, user, milestone, PDF + b"kept")
        s.commit()
        kept_path = file_path(kept)
        rolled_back = file_path(_upload(s, user, milestone, PDF + b"rolled back"))
        fresh = file_path(_upload(s, user, milestone, PDF + b"rolled back just now"))
        s.rollback()
    assert kept_path.is_file() and rolled_back.is_file() and fresh.is_file()
    for path in (kept_path, rolled_back):
        _age(path)
    half_written = rolled_back.parent / "partial.part"
    half_written.write_bytes(b"%PDF")
    _age(half_written)

    run = run_job(demo, "tidy_uploads")
    assert run.counts == {"removed": 2}
    assert kept_path.is_file() and fresh.is_file()  # in use; too new to judge
    assert not rolled_back.exists() and not half_written.exists()
    assert run_job(demo, "tidy_uploads").counts == {"removed": 0}


def test_reusing_stored_content_renews_the_file(demo: Flask) -> None:
    """An old unreferenced file that a new upload reuses is not swept while that upload's transaction is open."""
    factory = demo.extensions["tracker.sessions"]
    with demo.app_context(), factory() as s:
        user = s.scalars(select(User).where(User.username == "zj_head_jk")).one()
        milestone = s.scalars(select(Milestone).order_by(Milestone.id)).first()
        path = file_path(_upload(s, user, milestone, PDF + b"again"))  # type: ignore[arg-type]
        s.rollback()
        _age(path)
        _upload(s, user, milestone, PDF + b"again")  # type: ignore[arg-type]  # the same content, still open
        assert path.stat().st_mtime > time.time() - 60
        s.commit()
