"""The migration that made the kind of an import a column: stored drafts keep their kind, and the key
leaves the JSON (and comes back on the downgrade)."""

from __future__ import annotations

import json
import uuid

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tracker.schema import alembic_config

BEFORE = "a1c3e5f7b9d2"
KIND_COLUMN = "c4d6e8f0a2b4"


@pytest.fixture
def empty_database_url(database_url: str, tmp_path):  # type: ignore[no-untyped-def]
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'kind.db'}"
        return
    name = f"tracker_kind_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _drafts(url: str) -> dict[int, tuple[str | None, dict]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            has_kind = "kind" in {c["name"] for c in inspect(conn).get_columns("import_documents")}
            rows = conn.execute(text(f"SELECT id, {'kind' if has_kind else 'NULL'}, draft FROM import_documents"))
            return {i: (k, d if isinstance(d, dict) else json.loads(d)) for i, k, d in rows}
    finally:
        engine.dispose()


def test_the_kind_moves_from_the_draft_to_its_column_and_back(empty_database_url: str) -> None:
    cfg = alembic_config(empty_database_url)
    command.upgrade(cfg, BEFORE)
    engine = create_engine(empty_database_url)
    at = "2026-12-01 01:00:00.000000"
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO regions (id, code, name, level) VALUES (1, '330000', '浙江省', 'province')"))
            for doc_id, draft in ((1, {"kind": "document", "rev": 2, "items": []}),
                                  (2, {"kind": "tasklist", "rows": [], "labels": {}}),
                                  (3, {"rev": 0, "items": []})):  # (a draft from before the key was written)
                conn.execute(text("INSERT INTO import_documents (id, sha256, filename, region_id, state, draft,"
                                  " created_at) VALUES (:id, :sha, 'x', 1, 'draft', :draft, :at)"),
                             {"id": doc_id, "sha": "0" * 64, "draft": json.dumps(draft), "at": at})
    finally:
        engine.dispose()
    command.upgrade(cfg, KIND_COLUMN)
    assert _drafts(empty_database_url) == {1: ("document", {"rev": 2, "items": []}),
                                           2: ("tasklist", {"rows": [], "labels": {}}),
                                           3: ("document", {"rev": 0, "items": []})}
    command.downgrade(cfg, BEFORE)
    assert _drafts(empty_database_url) == {1: (None, {"kind": "document", "rev": 2, "items": []}),
                                           2: (None, {"kind": "tasklist", "rows": [], "labels": {}}),
                                           3: (None, {"kind": "document", "rev": 0, "items": []})}
