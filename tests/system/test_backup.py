"""Backup and restore: one archive with the database and the uploads, checked on restore, on SQLite and
PostgreSQL (the demo database under test is the one restored into)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import Result
from flask import Flask
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tracker.alerts.models import OverdueListVersion
from tracker.attachments.models import Attachment
from tracker.regions.models import Department
from tracker.schema import alembic_config, upgrade_database
from tracker.search.models import FTS_PREFIX
from tracker.system.backup import BackupError, create_backup, restore_backup
from tracker.tasks.models import Milestone, MilestoneStatus, Task

from ..conftest import client_for, make_test_app

PDF = b"%PDF-1.4\n% acceptance report\n" + bytes(range(256)) * 4
def _png() -> bytes:
    """A real picture (an image that does not decode is refused as evidence); small, so it is kept as sent."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 16), (30, 90, 200)).save(out, "PNG")
    return out.getvalue()


PNG = _png()


@pytest.fixture
def pg_tools(database_url: str) -> None:
    if not database_url.startswith("sqlite") and shutil.which("pg_dump") is None:
        pytest.skip("PostgreSQL client tools (pg_dump, pg_restore) are not installed")


def url_of(app: Flask) -> str:
    return app.config["DATABASE_URL"]


def uploads_of(app: Flask) -> Path:
    return Path(app.config["UPLOAD_DIR"])


def dump_tables(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the database, in primary-key order."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            meta = MetaData()
            meta.reflect(conn)
            return {name: [tuple(row) for row in conn.execute(select(t).order_by(*t.primary_key.columns))]
                    for name, t in sorted(meta.tables.items())}
    finally:
        engine.dispose()


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def revision_of(database_url: str) -> str | None:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def execute(database_url: str, *statements: str) -> None:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def complete_milestone_with_files(app: Flask, *files: tuple[bytes, str]) -> list[Attachment]:
    """疾控处's head marks an open milestone done with evidence files, through the page."""
    with app.extensions["tracker.sessions"]() as s:
        dept = s.scalars(select(Department).where(Department.name == "疾控处", Department.region_id == 1)).one()
        milestone = s.scalars(select(Milestone).join(Task).where(Task.lead_department_id == dept.id,
                                                                  Milestone.status == MilestoneStatus.PENDING)
                              .order_by(Milestone.due_date)).first()
    assert milestone is not None
    head = client_for(app, "zj_head_jk")
    response = head.post(f"/milestones/{milestone.id}/complete", data={
        "completed_on": "2025-11-20", "evidence": "已完成验收，见附件", "version": milestone.version_id,
        "files": [(io.BytesIO(data), name) for data, name in files],
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.extensions["tracker.sessions"]() as s:
        return list(s.scalars(select(Attachment).where(Attachment.milestone_id == milestone.id)
                              .order_by(Attachment.id)))


def download(app: Flask, attachment_id: int) -> bytes:
    with client_for(app, "zj_head_jk").get(f"/attachments/{attachment_id}") as response:
        assert response.status_code == 200
        return response.data


def invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def refused(result: Result, message: str) -> None:
    """A clean refusal: exit code 1, the message in Chinese, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert message in result.output and "Traceback" not in result.output


@pytest.fixture
def backed_up(pg_tools: None, demo: Flask, tmp_path: Path) -> dict[str, Any]:
    """The demo data with two uploaded attachments, backed up; what it looked like at that moment."""
    attachments = complete_milestone_with_files(demo, (PDF, "验收报告.pdf"), (PNG, "现场照片.png"))
    # Whatever else lives in the upload directory is kept too, whatever its name.
    (uploads_of(demo) / "说明").mkdir()
    (uploads_of(demo) / "说明" / "备份 说明.txt").write_text("附件目录说明\n", encoding="utf-8")
    archive = tmp_path / "backup.tar.gz"
    result = invoke(demo, "backup", "--output", str(archive))
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output and "附件 3 个文件" in result.output
    return {"archive": archive, "attachments": attachments, "tables": dump_tables(url_of(demo)),
            "files": files_under(uploads_of(demo))}


def change_everything(app: Flask) -> None:
    """Work done after the backup: a new upload, a renamed task, a deleted attachment and file, a stray file."""
    complete_milestone_with_files(app, (b"%PDF-1.4\n% later\n", "后来的.pdf"))
    with app.extensions["tracker.sessions"]() as s:
        first = s.scalars(select(Attachment).order_by(Attachment.id)).first()
    assert first is not None
    execute(url_of(app), "UPDATE tasks SET title = '改过的标题' WHERE id = (SELECT min(id) FROM tasks)",
            f"DELETE FROM attachments WHERE id = {first.id}")
    (uploads_of(app) / first.storage_key).unlink()
    (uploads_of(app) / "stray.txt").write_text("not part of the backup")


# ---------------------------------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------------------------------


def test_backup_is_one_archive_with_a_manifest(pg_tools: None, demo: Flask, tmp_path: Path) -> None:
    attachments = complete_milestone_with_files(demo, (PDF, "验收报告.pdf"), (PNG, "现场照片.png"))
    result = invoke(demo, "backup")
    assert result.exit_code == 0, result.output
    # The default name is the local time of the (frozen) clock: 2025-11-22 09:00 in Asia/Shanghai.
    archive = tmp_path / "instance" / "backups" / "tracker-20251122-090000.tar.gz"
    assert str(archive) in result.output and archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    manifest = json.loads(members.pop("manifest.json"))
    kind = make_url(url_of(demo)).get_backend_name()
    database_file = {"sqlite": "database/tracker.sqlite3", "postgresql": "database/tracker.pgdump"}[kind]
    assert manifest["created_at"] == "2025-11-22T01:00:00+00:00"
    assert manifest["database"]["kind"] == kind
    assert manifest["database"]["revision"] == head_revision() == revision_of(url_of(demo))
    tables = dump_tables(url_of(demo))
    assert manifest["database"]["tables"] == {name: len(rows) for name, rows in tables.items()}
    assert manifest["database"]["tables"]["attachments"] == 2
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(members) == {database_file} | {f"uploads/{a.storage_key}" for a in attachments}
    for name, data in members.items():
        assert listed[name]["size"] == len(data) and listed[name]["sha256"] == hashlib.sha256(data).hexdigest()
    for attachment, data in zip(attachments, (PDF, PNG), strict=True):
        assert members[f"uploads/{attachment.storage_key}"] == data
        assert listed[f"uploads/{attachment.storage_key}"]["sha256"] == attachment.sha256


def test_backup_does_not_overwrite_an_existing_file(pg_tools: None, demo: Flask, tmp_path: Path) -> None:
    archive = tmp_path / "taken.tar.gz"
    archive.write_bytes(b"something else")
    refused(invoke(demo, "backup", "--output", str(archive)), "备份文件已存在")
    assert archive.read_bytes() == b"something else"


# ---------------------------------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------------------------------


def test_restore_reproduces_every_row_and_every_file(demo: Flask, backed_up: dict[str, Any]) -> None:
    change_everything(demo)
    assert dump_tables(url_of(demo)) != backed_up["tables"]
    assert files_under(uploads_of(demo)) != backed_up["files"]

    result = invoke(demo, "restore", str(backed_up["archive"]), "--yes")
    assert result.exit_code == 0, result.output
    assert "已从" in result.output and "附件 3 个文件" in result.output

    assert dump_tables(url_of(demo)) == backed_up["tables"]
    assert files_under(uploads_of(demo)) == backed_up["files"]
    pdf, png = backed_up["attachments"]
    assert download(demo, pdf.id) == PDF and download(demo, png.id) == PNG
    # The restored database goes on working: new rows get fresh ids (sequences came back too).
    [later] = complete_milestone_with_files(demo, (b"%PDF-1.4\n% after restore\n", "恢复后.pdf"))
    assert later.id > png.id and download(demo, later.id).endswith(b"after restore\n")


def test_restore_refuses_a_target_with_data_without_yes(demo: Flask, backed_up: dict[str, Any]) -> None:
    change_everything(demo)
    before = dump_tables(url_of(demo)), files_under(uploads_of(demo))
    result = invoke(demo, "restore", str(backed_up["archive"]))
    refused(result, "目标已有数据")
    assert "--yes" in result.output
    assert (dump_tables(url_of(demo)), files_under(uploads_of(demo))) == before


@pytest.fixture
def blank_database(database_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Make databases with nothing in them: a new SQLite file, or a new PostgreSQL database."""
    made: list[str] = []

    def make() -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'blank-{uuid.uuid4().hex[:8]}.db'}"
        url = make_url(database_url)
        name = f"{url.database}_blank_{uuid.uuid4().hex[:8]}"
        execute_autocommit(database_url, f'CREATE DATABASE "{name}"')
        made.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    yield make
    for name in made:
        execute_autocommit(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def execute_autocommit(database_url: str, statement: str) -> None:
    engine = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def test_restore_into_an_empty_database_needs_no_yes(backed_up: dict[str, Any], tmp_path: Path,
                                                     blank_database: Callable[[], str]) -> None:
    target = make_test_app(blank_database(), tmp_path / "elsewhere")
    result = invoke(target, "restore", str(backed_up["archive"]))
    assert result.exit_code == 0, result.output
    assert dump_tables(url_of(target)) == backed_up["tables"]
    assert files_under(uploads_of(target)) == backed_up["files"]
    pdf, png = backed_up["attachments"]
    assert download(target, pdf.id) == PDF and download(target, png.id) == PNG
    target.extensions["tracker.engine"].dispose()


def _rewrite(archive: Path, target: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Copy an archive member by member; ``change`` returns new content, or None to leave a member out."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        for member in src:
            data = change(member.name, src.extractfile(member).read())  # type: ignore[union-attr]
            if data is not None:
                member.size = len(data)
                dst.addfile(member, io.BytesIO(data))


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def _manifest(change: Callable[[dict[str, Any]], None]) -> Callable[[str, bytes], bytes]:
    def rewrite(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        change(manifest)
        return json.dumps(manifest).encode()

    return rewrite


CORRUPTIONS: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "truncated": (lambda a, t: t.write_bytes(a.read_bytes()[: a.stat().st_size // 2]), "备份文件已损坏"),
    "not an archive": (lambda a, t: t.write_bytes(b"just some text\n" * 200), "备份文件已损坏"),
    "an upload changed": (lambda a, t: _rewrite(a, t, lambda n, d: _flip_last_byte(d) if n.startswith("uploads/")
                                                else d), "SHA-256 与清单不符"),
    "the database changed": (lambda a, t: _rewrite(a, t, lambda n, d: _flip_last_byte(d) if n.startswith("database/")
                                                   else d), "SHA-256 与清单不符"),
    "a file missing": (lambda a, t: _rewrite(a, t, lambda n, d: None if n.startswith("uploads/") else d),
                       "备份不完整"),
    "an unlisted file": (lambda a, t: _rewrite(a, t, _manifest(lambda m: m["files"].pop())), "清单未列出"),
    "no manifest": (lambda a, t: _rewrite(a, t, lambda n, d: None if n == "manifest.json" else d),
                    "没有 manifest.json"),
    "an unreadable manifest": (lambda a, t: _rewrite(a, t, lambda n, d: b"{" if n == "manifest.json" else d),
                               "无法解读"),
    "a schema from newer code": (lambda a, t: _rewrite(a, t, _manifest(
        lambda m: m["database"].update(revision="0123456789ab"))), "不在本程序的迁移记录中"),
    "a path outside the archive": (lambda a, t: _rewrite_with_extra(a, t, "uploads/../../evil"), "不应出现的条目"),
}


def _rewrite_with_extra(archive: Path, target: Path, name: str) -> None:
    _rewrite(archive, target, lambda n, d: d)
    with tarfile.open(target, "r:gz") as src:
        members = [(m, src.extractfile(m).read()) for m in src]  # type: ignore[union-attr]
    with tarfile.open(target, "w:gz") as dst:
        for member, data in members:
            dst.addfile(member, io.BytesIO(data))
        evil = tarfile.TarInfo(name)
        evil.size = 4
        dst.addfile(evil, io.BytesIO(b"evil"))


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_damaged_archive_is_refused_and_nothing_changes(demo: Flask, backed_up: dict[str, Any], tmp_path: Path,
                                                          corruption: str) -> None:
    make, message = CORRUPTIONS[corruption]
    damaged = tmp_path / "damaged.tar.gz"
    make(backed_up["archive"], damaged)
    change_everything(demo)
    before = dump_tables(url_of(demo)), files_under(uploads_of(demo))
    refused(invoke(demo, "restore", str(damaged), "--yes"), message)
    assert (dump_tables(url_of(demo)), files_under(uploads_of(demo))) == before
    assert not (tmp_path / "evil").exists()


def test_restore_refuses_a_missing_file(demo: Flask, tmp_path: Path) -> None:
    refused(invoke(demo, "restore", str(tmp_path / "nowhere.tar.gz")), "找不到备份文件")


def test_an_older_schema_is_restored_then_upgraded(pg_tools: None, demo: Flask, tmp_path: Path,
                                                   blank_database: Callable[[], str]) -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    first = list(script.walk_revisions())[-1].revision
    assert first != script.get_current_head()
    old = blank_database()
    upgrade_database(old, first)
    execute(old, "INSERT INTO regions (id, code, name, level) VALUES (1, '330000', '浙江省', 'province')")
    backup = create_backup(old, tmp_path / "old-uploads", tmp_path / "old.tar.gz")
    assert backup.manifest["database"]["revision"] == first

    with pytest.raises(BackupError, match="目标已有数据"):
        restore_backup(url_of(demo), uploads_of(demo), backup.path)
    result = restore_backup(url_of(demo), uploads_of(demo), backup.path, replace=True)
    assert result.upgraded and result.revision == script.get_current_head() == revision_of(url_of(demo))
    tables = dump_tables(url_of(demo))
    assert [row[:2] for row in tables["regions"]] == [(1, "330000")]
    # the one row, besides the bookkeeping the schema keeps itself: the search index's (derived from the
    # tables, kept by their triggers) and the overdue list's version token (written by its migration)
    assert sum(len(rows) for name, rows in tables.items()
               if name not in ("alembic_version", OverdueListVersion.__tablename__)
               and not name.startswith(FTS_PREFIX)) == 1
    assert files_under(uploads_of(demo)) == {}


def test_missing_client_tools_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    app = make_test_app("postgresql+psycopg://tracker:s3cret@127.0.0.1:1/nowhere", tmp_path)
    result = invoke(app, "backup", "--output", str(tmp_path / "b.tar.gz"))
    refused(result, "找不到 pg_dump")
    assert "postgresql-client" in result.output and "s3cret" not in result.output
    archive = tmp_path / "b.tar.gz"
    archive.write_bytes(b"")
    refused(invoke(app, "restore", str(archive), "--yes"), "找不到 pg_restore")
    app.extensions["tracker.engine"].dispose()
