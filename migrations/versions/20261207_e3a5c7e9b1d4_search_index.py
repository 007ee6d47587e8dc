"""search index

The header's search box finds substrings (Chinese included) in the text columns below. Each database gets the
index that serves ``LIKE '%…%'``-style substring search on it:

* SQLite: one FTS5 table per searched table, ``search_<table>``, with the trigram tokenizer (case-insensitive)
  and external content (the base table holds the text, the FTS table only the index). Triggers on the base
  table keep it in step: an insert adds the row, a delete removes it with its old values, an update of a
  searched column does both. (A later migration that rebuilds one of these tables with ``batch_alter_table``
  drops its triggers with the old table and must create them again: tests/search/test_index.py fails until
  it does. Nor may these tables be written with ``INSERT OR REPLACE``: the row it replaces is deleted without
  firing the delete trigger.)
* PostgreSQL: pg_trgm and one GIN index per searched table over its searched columns (``gin_trgm_ops``),
  which serves ``LIKE``/``ILIKE`` directly on the base table: nothing to keep in step.

Neither is described by the models (tracker/search/models.py says how the model comparison leaves them out).

Revision ID: e3a5c7e9b1d4
Revises: d9f1b3c5e7a0
Create Date: 2026-12-07 10:00:00.000000+08:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'e3a5c7e9b1d4'
down_revision: str | None = 'd9f1b3c5e7a0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The searched columns of each table, as of this revision (tracker/search/models.py: SEARCHED).
SEARCHED: dict[str, tuple[str, ...]] = {
    "plans": ("title", "short_name", "doc_number", "description"),
    "tasks": ("code", "title", "description"),
    "milestones": ("title", "evidence"),
    "supervision_cases": ("title", "problem"),
    "key_projects": ("content",),
    "indicators": ("name", "definition"),
    "progress_reports": ("achievements", "problems", "next_steps"),
}


def _sqlite_statements(table: str, columns: tuple[str, ...]) -> list[str]:
    fts = f"search_{table}"
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    add = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});"
    remove = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id',"
        " tokenize='trigram case_sensitive 0')",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {remove} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {cols} ON {table} BEGIN {remove} {add} END",
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table, columns in SEARCHED.items():
            for statement in _sqlite_statements(table, columns):
                op.execute(statement)
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table, columns in SEARCHED.items():
            ops = ", ".join(f"{c} gin_trgm_ops" for c in columns)
            op.execute(f"CREATE INDEX ix_search_{table} ON {table} USING gin ({ops})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in SEARCHED:
            fts = f"search_{table}"
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    elif dialect == "postgresql":
        # pg_trgm stays: it may have been there before, and other databases objects may use it
        for table in SEARCHED:
            op.execute(f"DROP INDEX IF EXISTS ix_search_{table}")
