"""search index of short words

The trigram index of e3a5c7e9b1d4 cannot answer a word of one or two characters (疾控, 县, 医保). This adds an
index of every character and every pair of adjacent characters of the same columns, so that such a word is looked
up rather than scanned for:

* SQLite: one contentless FTS5 table per searched table, ``search_grams_<table>``, with a column per searched
  column holding that column's characters and character pairs, each as the hex of its UTF-8 bytes (lower-cased
  first, as SQLite's ``lower`` and ``LIKE`` do: ASCII only), e.g. 疾控 → ``E796BEE68EA7``; the ``ascii``
  tokenizer reads them as words and ``detail=column`` keeps which column without positions. Triggers on the base
  table keep it in step as the trigram table's do (insert, delete with the old values, update of a searched
  column). SQLite's triggers cannot loop, so the characters are counted off ``search_positions`` (1 … 10,000);
  a longer text is indexed as the single word ``overflow`` instead, which the search always reads too.
* PostgreSQL: the function ``search_grams(VARIADIC text[])`` (every character and pair of the lower-cased texts,
  repeats left in: the GIN index keeps each once) and one GIN index per searched table on it,
  ``ix_search_grams_<table>``: nothing to keep in step.

Whatever the index finds, ``LIKE``/``ILIKE`` on the columns decides (tracker/search/services.py). As the trigram
index, neither is described by the models (tracker/search/models.py: include_name), and a later migration that
rebuilds one of these tables on SQLite must create its triggers again (tests/search/test_index.py).

Revision ID: a18s0e4c1b2d
Revises: a17p0f5d2c3e
Create Date: 2026-12-07 18:00:00.000000+08:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'a18s0e4c1b2d'
down_revision: str | None = 'a17p0f5d2c3e'
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
POSITIONS = 10_000  # SQLite: texts up to this many characters are indexed by their characters


def _grams(value: str) -> str:
    """SQLite: the words indexed for one column value (``new.title``, ``old.title``)."""
    pairs = (f"SELECT group_concat(hex(lower(substr({value}, p.i, 1))) || ' ' || hex(lower(substr({value}, p.i, 2))),"
             f" ' ') FROM search_positions AS p WHERE p.i <= length({value})")
    return f"CASE WHEN length({value}) > {POSITIONS} THEN 'overflow' ELSE ({pairs}) END"


def _sqlite_statements(table: str, columns: tuple[str, ...]) -> list[str]:
    grams = f"search_grams_{table}"
    cols = ", ".join(columns)
    new = ", ".join(_grams(f"new.{c}") for c in columns)
    old = ", ".join(_grams(f"old.{c}") for c in columns)
    add = f"INSERT INTO {grams}(rowid, {cols}) VALUES (new.id, {new});"
    remove = f"INSERT INTO {grams}({grams}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    return [
        f"CREATE VIRTUAL TABLE {grams} USING fts5({cols}, content='', detail='column', tokenize='ascii')",
        f"INSERT INTO {grams}(rowid, {cols}) SELECT id, {', '.join(_grams(c) for c in columns)} FROM {table}",
        f"CREATE TRIGGER {grams}_insert AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {grams}_delete AFTER DELETE ON {table} BEGIN {remove} END",
        f"CREATE TRIGGER {grams}_update AFTER UPDATE OF {cols} ON {table} BEGIN {remove} {add} END",
    ]


PG_FUNCTION = """
CREATE FUNCTION search_grams(VARIADIC texts text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(substr(l.lowered, i.at, n.length)), '{}')
    FROM unnest(texts) AS t(value), lower(t.value) AS l(lowered),
         generate_series(1, char_length(l.lowered)) AS i(at), (VALUES (1), (2)) AS n(length)
$$
"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("CREATE TABLE search_positions (i INTEGER PRIMARY KEY)")
        op.execute(f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {POSITIONS}) "
                   "INSERT INTO search_positions(i) SELECT i FROM n")
        for table, columns in SEARCHED.items():
            for statement in _sqlite_statements(table, columns):
                op.execute(statement)
    elif dialect == "postgresql":
        op.execute(PG_FUNCTION)
        for table, columns in SEARCHED.items():
            op.execute(f"CREATE INDEX ix_search_grams_{table} ON {table} USING gin (search_grams({', '.join(columns)}))")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in SEARCHED:
            grams = f"search_grams_{table}"
            for trigger in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {grams}_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS {grams}")
        op.execute("DROP TABLE IF EXISTS search_positions")
    elif dialect == "postgresql":
        for table in SEARCHED:
            op.execute(f"DROP INDEX IF EXISTS ix_search_grams_{table}")
        op.execute("DROP FUNCTION IF EXISTS search_grams(text[])")
