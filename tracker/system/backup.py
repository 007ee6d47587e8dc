"""Backup and restore: the database and the uploaded files in one ``.tar.gz`` with a manifest.

The archive holds ``manifest.json``, ``database/tracker.sqlite3`` (a copy made with SQLite's online
backup API) or ``database/tracker.pgdump`` (``pg_dump --format=custom``), and every upload under
``uploads/`` at its storage key. The manifest records when and from what the backup was made (database
kind, Alembic revision, rows per table) and each file's size and SHA-256; restore checks all of it before
it touches anything, and checks the row counts again afterwards.

These services take a database URL and paths, so the CLI and the tests call the same code. Restoring
replaces everything: stop the web workers and the scheduler first.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..errors import DomainError
from ..schema import alembic_config, upgrade_database
from ..timeutil import now, to_local

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_FILES = {"sqlite": "database/tracker.sqlite3", "postgresql": "database/tracker.pgdump"}
KIND_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
UPLOADS = "uploads"
# How long restore waits for a table lock on PostgreSQL before giving up (the app should be stopped).
LOCK_TIMEOUT = "30s"
_CHUNK = 1024 * 1024


class BackupError(DomainError):
    """A backup or restore was refused or failed; the message says why, in words for the operator."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]

    @property
    def rows(self) -> int:
        return _data_rows(self.manifest["database"]["tables"])

    @property
    def upload_count(self) -> int:
        return sum(1 for f in self.manifest["files"] if f["path"].startswith(f"{UPLOADS}/"))


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict[str, Any]
    revision: str | None
    upgraded: bool

    @property
    def rows(self) -> int:
        return _data_rows(self.manifest["database"]["tables"])

    @property
    def upload_count(self) -> int:
        return sum(1 for f in self.manifest["files"] if f["path"].startswith(f"{UPLOADS}/"))


def default_backup_path(instance_path: Path) -> Path:
    """instance/backups/tracker-YYYYMMDD-HHMMSS.tar.gz, named by the local (Asia/Shanghai) time."""
    return Path(instance_path) / "backups" / f"tracker-{to_local(now()):%Y%m%d-%H%M%S}.tar.gz"


# ---------------------------------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------------------------------


def create_backup(database_url: str, upload_dir: Path, output: Path) -> BackupResult:
    """Write one archive of the database and every uploaded file to ``output``.

    The database is copied first and the uploads after it: a file is stored before the row that refers
    to it is committed, and stored files never change, so every attachment in the copy has its file.
    """
    url = make_url(database_url)
    kind = _kind(url)
    upload_dir = Path(upload_dir)
    output = Path(output)
    pg_dump = _tool("pg_dump") if kind == "postgresql" else ""
    _check_layout(upload_dir, _sqlite_path(url) if kind == "sqlite" else None, output)
    if output.exists():
        raise BackupError(f"备份文件已存在：{output}。请换一个文件名。")
    try:
        manifest = _write_backup(url, kind, pg_dump, upload_dir, output)
    except OSError as exc:
        raise BackupError(f"备份失败，无法读写 {exc.filename or output}：{exc.strerror or exc}") from exc
    return BackupResult(output, manifest)


def _write_backup(url: URL, kind: str, pg_dump: str, upload_dir: Path, output: Path) -> dict[str, Any]:
    # The archive holds everything, password hashes included: only its owner may read it.
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    created_at = now()
    with _staging(output.parent, ".tracker-backup-") as staging:
        db_file = staging / DATABASE_FILES[kind]
        db_file.parent.mkdir(parents=True)
        if kind == "sqlite":
            revision, counts = _snapshot_sqlite(_sqlite_path(url), db_file)
        else:
            revision, counts = _snapshot_postgresql(pg_dump, url, db_file)
        partial = output.with_name(output.name + ".part")
        partial.unlink(missing_ok=True)
        partial.touch(mode=0o600)
        try:
            with tarfile.open(partial, "w:gz") as tar:
                files = [_add(tar, DATABASE_FILES[kind], db_file, created_at.timestamp())]
                for path in _upload_files(upload_dir):
                    name = f"{UPLOADS}/{path.relative_to(upload_dir).as_posix()}"
                    files.append(_add(tar, name, path, created_at.timestamp()))
                manifest = {
                    "format": FORMAT,
                    "created_at": created_at.isoformat(),
                    "database": {"kind": kind, "revision": revision, "tables": counts},
                    "files": files,
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                tar.addfile(_tarinfo(MANIFEST, len(data), created_at.timestamp()), io.BytesIO(data))
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


def _snapshot_sqlite(source: Path, target: Path) -> tuple[str | None, dict[str, int]]:
    """Copy a live SQLite database page by page with the online backup API, then count the copy."""
    if not source.exists():
        raise BackupError(f"找不到 SQLite 数据库文件：{source}")
    try:
        with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
            # One self-contained file in the archive: no -wal beside it.
            dst.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:
        raise BackupError(f"无法复制 SQLite 数据库 {source}：{exc}") from exc
    return _inventory_of(f"sqlite:///{target}")


def _snapshot_postgresql(pg_dump: str, url: URL, target: Path) -> tuple[str | None, dict[str, int]]:
    """pg_dump and the row counts read one and the same snapshot, so the manifest matches the dump."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
                revision, counts = _inventory(conn)
                _run([pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}",
                      f"--file={target}", f"--dbname={_conninfo(url)}"], url, "pg_dump")
    except SQLAlchemyError as exc:
        raise BackupError(f"无法连接数据库 {_safe_url(url)}：{_first_line(exc)}") from exc
    finally:
        engine.dispose()
    return revision, counts


def _upload_files(upload_dir: Path) -> list[Path]:
    if not upload_dir.is_dir():
        return []
    # A ".part" file is an upload still being written; it becomes a stored file by a rename.
    return sorted(p for p in upload_dir.rglob("*") if p.is_file() and p.suffix != ".part")


def _add(tar: tarfile.TarFile, name: str, path: Path, mtime: float) -> dict[str, Any]:
    """Add one file, hashing exactly the bytes that go into the archive."""
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        reader = _HashingReader(fh)
        tar.addfile(_tarinfo(name, size, mtime), reader)
    return {"path": name, "size": size, "sha256": reader.hexdigest()}


def _tarinfo(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o600
    return info


class _HashingReader:
    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self._hash.update(data)
        return data

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


# ---------------------------------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------------------------------


def restore_backup(database_url: str, upload_dir: Path, archive: Path, *, replace: bool = False) -> RestoreResult:
    """Replace the database and the uploads with the contents of ``archive``.

    Nothing is changed until the whole archive has been read and every file matches the manifest, the
    archive's schema is known to this code and the target is empty (or ``replace`` says to overwrite it).
    """
    url = make_url(database_url)
    kind = _kind(url)
    upload_dir = Path(upload_dir)
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"找不到备份文件：{archive}")
    pg_restore = _tool("pg_restore") if kind == "postgresql" else ""
    if kind == "postgresql":
        _tool("psql")  # before anything is unpacked: the load below needs it
    _check_layout(upload_dir, _sqlite_path(url) if kind == "sqlite" else None, archive)
    try:
        manifest, upgrade = _restore(database_url, kind, pg_restore, upload_dir, archive, replace)
    except OSError as exc:
        raise BackupError(f"恢复失败，无法读写 {exc.filename or archive}：{exc.strerror or exc}。"
                          "未做任何更改。") from exc
    revision = manifest["database"]["revision"]
    if upgrade:
        try:
            upgrade_database(database_url)
        except Exception as exc:
            raise BackupError(f"数据已恢复，但升级数据库结构失败：{exc}。请检查后执行 tracker init-db。") from exc
        revision = _head()
    _roll_up(database_url)
    return RestoreResult(manifest, revision, upgrade)


def _roll_up(database_url: str) -> None:
    """Every parent task from its children: a backup from a version that left them apart is mended here
    (on a backup of this version nothing changes)."""
    from ..db import make_engine, make_session_factory, unit_of_work
    from ..tasks.services import roll_up_all

    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            roll_up_all(session)
    finally:
        engine.dispose()


def _restore(database_url: str, kind: str, pg_restore: str, upload_dir: Path, archive: Path,
             replace: bool) -> tuple[dict[str, Any], bool]:
    url = make_url(database_url)
    # Unpacked beside the upload directory: the same disk, so the files are moved into place, not copied.
    with _staging(upload_dir.parent if upload_dir.parent.is_dir() else None, ".tracker-restore-") as staging:
        manifest = _unpack(archive, staging)
        source = manifest["database"]
        if source["kind"] != kind:
            raise BackupError(f"备份来自 {KIND_LABELS[source['kind']]} 数据库，不能恢复到 {KIND_LABELS[kind]} 数据库。")
        upgrade = _needs_upgrade(source["revision"])
        rows, files = _existing(url, upload_dir)
        if (rows or files) and not replace:
            raise BackupError(f"目标已有数据（数据库 {rows} 行，附件 {files} 个文件），恢复会全部替换。"
                              "确认无误后加 --yes 重新执行。")
        db_file = staging / DATABASE_FILES[kind]
        if kind == "sqlite":
            _restore_sqlite(db_file, _sqlite_path(url))
        else:
            _restore_postgresql(pg_restore, url, db_file)
        revision, counts = _inventory_of(database_url)
        if counts != source["tables"] or revision != source["revision"]:
            raise BackupError("恢复后的数据库与备份清单不符：" + _differences(source["tables"], counts)
                              + "。附件未替换，请检查数据库后重新恢复。")
        try:
            _replace_uploads(staging / UPLOADS, upload_dir,
                             [f["path"] for f in manifest["files"] if f["path"].startswith(f"{UPLOADS}/")])
        except OSError as exc:
            raise BackupError(f"数据库已恢复，但附件未能全部写入 {exc.filename or upload_dir}：{exc.strerror or exc}。"
                              "解决后请加 --yes 重新恢复。") from exc
    return manifest, upgrade


def _unpack(archive: Path, dest: Path) -> dict[str, Any]:
    """Extract every member into ``dest`` and check it against the manifest; return the manifest."""
    seen: dict[str, tuple[int, str]] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member.name
                if not member.isfile() or not _safe_member(name):
                    raise BackupError(f"备份文件中有不应出现的条目“{name}”，不是本系统的备份，已拒绝。")
                if name in seen:
                    raise BackupError(f"备份文件中“{name}”出现了两次，已拒绝。")
                source = tar.extractfile(member)
                assert source is not None  # a regular file always has content
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with source, target.open("wb") as out:
                    reader = _HashingReader(source)
                    while chunk := reader.read(_CHUNK):
                        out.write(chunk)
                seen[name] = (target.stat().st_size, reader.hexdigest())
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(f"备份文件已损坏，无法读取：{archive}（{exc}）。未做任何更改。") from exc
    manifest = _read_manifest(dest / MANIFEST if MANIFEST in seen else None)
    listed = {f["path"]: f for f in manifest["files"]}
    for name, entry in listed.items():
        if name not in seen:
            raise BackupError(f"备份不完整：清单中的“{name}”不在备份文件里。未做任何更改。")
        size, digest = seen[name]
        if size != entry["size"] or digest != entry["sha256"]:
            raise BackupError(f"备份校验失败：“{name}”的 SHA-256 与清单不符，文件已损坏或被改动。未做任何更改。")
    extra = sorted(set(seen) - set(listed) - {MANIFEST})
    if extra:
        raise BackupError(f"备份文件中有清单未列出的“{extra[0]}”，已拒绝。未做任何更改。")
    if DATABASE_FILES[manifest["database"]["kind"]] not in listed:
        raise BackupError("备份文件中没有数据库。未做任何更改。")
    return manifest


def _read_manifest(path: Path | None) -> dict[str, Any]:
    if path is None:
        raise BackupError(f"备份文件中没有 {MANIFEST}，不是本系统的备份。")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        database = manifest["database"]
        valid = (
            manifest["format"] == FORMAT
            and database["kind"] in DATABASE_FILES
            and (database["revision"] is None or isinstance(database["revision"], str))
            and all(isinstance(k, str) and isinstance(v, int) for k, v in database["tables"].items())
            and all(isinstance(f["path"], str) and isinstance(f["size"], int) and isinstance(f["sha256"], str)
                    for f in manifest["files"])
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"备份清单 {MANIFEST} 无法解读（{exc}），不是本系统的备份或已损坏。") from exc
    if not valid:
        raise BackupError(f"备份清单 {MANIFEST} 的格式不是本系统所用的格式（format {FORMAT}），已拒绝。")
    return manifest


def _safe_member(name: str) -> bool:
    if name == MANIFEST:
        return True
    parts = name.split("/")
    return (parts[0] in ("database", UPLOADS) and len(parts) >= 2
            and all(p not in ("", ".", "..") and "\\" not in p and "\x00" not in p for p in parts))


def _needs_upgrade(revision: str | None) -> bool:
    """False when the archive is at the code's head; True when this code can migrate it forward."""
    script = ScriptDirectory.from_config(alembic_config(""))
    head = script.get_current_head()
    if revision == head:
        return False
    known = {r.revision for r in script.walk_revisions()}
    if revision is not None and revision not in known:
        raise BackupError(f"备份的数据库结构版本 {revision} 不在本程序的迁移记录中（当前版本 {head}），"
                          "可能来自更新版本的系统。请用相应版本的程序恢复。未做任何更改。")
    return True


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def _existing(url: URL, upload_dir: Path) -> tuple[int, int]:
    """Rows of data in the target database (the migration bookkeeping aside) and files under upload_dir."""
    if _kind(url) == "sqlite" and not _sqlite_path(url).exists():
        rows = 0
    else:
        rows = _data_rows(_inventory_of(url.render_as_string(hide_password=False))[1])
    return rows, len(_upload_files(upload_dir))


def _restore_sqlite(source: Path, target: Path) -> None:
    """Write the copy into the target file with the backup API, in one step (one write transaction)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target, timeout=30)) as dst:
            src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"无法写入 SQLite 数据库 {target}：{exc}。请先停止 Web 服务和定时任务进程。") from exc


# Everything of the application's schema goes, so that the dump's objects load into an empty schema
# whatever the target held (a newer schema's tables, or constraints on tables the dump also has) — except what
# belongs to an extension (pg_trgm's functions and types, for search): the dump recreates it IF NOT EXISTS.
_EMPTY_SCHEMA = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') LOOP
        EXECUTE format(CASE r.relkind WHEN 'v' THEN 'DROP VIEW IF EXISTS %I CASCADE'
                                      WHEN 'm' THEN 'DROP MATERIALIZED VIEW IF EXISTS %I CASCADE'
                                      WHEN 'S' THEN 'DROP SEQUENCE IF EXISTS %I CASCADE'
                                      WHEN 'f' THEN 'DROP FOREIGN TABLE IF EXISTS %I CASCADE'
                                      ELSE 'DROP TABLE IF EXISTS %I CASCADE' END, r.relname);
    END LOOP;
    FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd', 'c')
               AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e') LOOP
        EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema()
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') LOOP
        EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', r.signature);
    END LOOP;
END
$$;
"""


def _restore_postgresql(pg_restore: str, url: URL, dump: Path) -> None:
    """Empty the schema and load the dump in one transaction: the target is replaced whole or left as it was.

    pg_restore writes the dump as SQL; psql runs the emptying and that script as a single transaction,
    stopping at the first error. The migrations run after the restore bring an older schema forward.
    """
    psql = _tool("psql")
    script = dump.with_suffix(".sql")
    _run([pg_restore, "--no-owner", "--no-acl", f"--file={script}", str(dump)], url, "pg_restore")
    _run([psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1", "--no-password",
          f"--command={_EMPTY_SCHEMA}", f"--file={script}", f"--dbname={_conninfo(url)}"], url, "psql")
    script.unlink()


def _replace_uploads(staged: Path, upload_dir: Path, names: list[str]) -> None:
    """Put every file of the archive in place (each by an atomic rename) and remove the others."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    keep = set()
    for name in names:
        relative = Path(name).relative_to(UPLOADS)
        target = upload_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restore")
        shutil.move(staged / relative, partial)
        partial.replace(target)
        keep.add(target)
    for path in sorted(upload_dir.rglob("*"), reverse=True):
        if path.is_file() and path not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


# ---------------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------------


def _kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:" or "mode=memory" in str(url):
            raise BackupError("内存中的 SQLite 数据库无法备份或恢复，请使用数据库文件。")
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise BackupError(f"不支持备份 {backend} 数据库，只支持 SQLite 和 PostgreSQL。")


def _sqlite_path(url: URL) -> Path:
    return Path(url.database or "").resolve()


def _check_layout(upload_dir: Path, db_path: Path | None, archive: Path) -> None:
    """The upload directory is replaced whole on restore: it must not hold the database or the archive."""
    root = upload_dir.resolve()
    for path in (db_path, archive):
        if path is not None and path.resolve().is_relative_to(root):
            raise BackupError(f"附件目录 {upload_dir} 包含了 {path}：请把附件目录（TRACKER_UPLOAD_DIR）"
                              "与数据库、备份文件分开存放。")


def _inventory(conn: Connection) -> tuple[str | None, dict[str, int]]:
    """The Alembic revision and the row count of every table."""
    names = sorted(inspect(conn).get_table_names())
    counts = {name: int(conn.scalar(select(func.count()).select_from(table(name))) or 0) for name in names}
    return MigrationContext.configure(conn).get_current_revision(), counts


def _inventory_of(database_url: str) -> tuple[str | None, dict[str, int]]:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return _inventory(conn)
    except SQLAlchemyError as exc:
        raise BackupError(f"无法读取数据库 {_safe_url(make_url(database_url))}：{_first_line(exc)}") from exc
    finally:
        engine.dispose()


def _data_rows(counts: dict[str, int]) -> int:
    return sum(n for name, n in counts.items() if name != "alembic_version")


def _differences(expected: dict[str, int], actual: dict[str, int]) -> str:
    diffs = [f"{name} 应有 {expected.get(name, 0)} 行、实有 {actual.get(name, 0)} 行"
             for name in sorted(set(expected) | set(actual)) if expected.get(name) != actual.get(name)]
    return "；".join(diffs[:5]) or "数据库结构版本不同"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"找不到 {name}：PostgreSQL 数据库的备份和恢复需要 PostgreSQL 客户端工具"
                          f"（Debian/Ubuntu：apt-get install postgresql-client），版本不低于数据库服务器。")
    return path


def _conninfo(url: URL) -> str:
    """A libpq connection string for the URL, without the password (that goes in PGPASSWORD)."""
    params: dict[str, Any] = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    for key, value in url.query.items():
        params[key] = value[-1] if isinstance(value, tuple) else value
    return " ".join(f"{key}={_quote(str(value))}" for key, value in params.items() if value not in (None, ""))


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _run(args: list[str], url: URL, tool: str) -> None:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # Fail instead of waiting forever when the running app holds a lock on a table.
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c lock_timeout={LOCK_TIMEOUT}".strip()
    completed = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        detail = completed.stderr.strip() or f"退出码 {completed.returncode}"
        raise BackupError(f"{tool} 执行失败（数据库 {_safe_url(url)}）：{detail}")


def _safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


@contextmanager
def _staging(parent: Path | None, prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(dir=parent, prefix=prefix) as tmp:
        yield Path(tmp)
