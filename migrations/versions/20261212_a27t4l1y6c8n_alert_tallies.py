"""open alerts counted by the database in the statement that changes an alert, whoever writes it: the overdue
list's counts read tallies instead of every open alert (140,000 at nation scale) on the first request after a
change.

* ``alert_tallies (region_id, department_id, level, target) → n``: open alerts of that place (their plan's region,
  their task's lead department; 0 for none), level and kind. A row may reach 0 and stay.
* ``alert_department_tallies (department_id) → total, due_soon, lagging, overdue, severe``: the list's alerts (a
  task's or a milestone's) of each lead department, every region together — what a reader of every region is
  shown, ranked, without summing the tallies above. A level added to ``AlertLevel`` needs its column here.
* triggers on ``alerts``: PostgreSQL's are per statement, over its transition tables (the scan raises 140,000
  alerts in one INSERT: two grouped upserts), SQLite's per row. A rebuilt ``alerts`` table (``batch_alter_table``
  on SQLite) loses its triggers: a later migration that rebuilds it must create them again (``create_triggers``).
* ``ix_alerts_open_region`` (region, department, level, target), which served those counts, is dropped: one index
  entry fewer per raised alert. Counts filtered by plan or dates read ``ix_alerts_open_order``.

Revision ID: a27t4l1y6c8n
Revises: a26p9l3a5c7e
Create Date: 2026-12-12 10:00:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a27t4l1y6c8n'
down_revision: str | None = 'a26p9l3a5c7e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")
KEY = "region_id, department_id, level, target"
LEVELS = ("due_soon", "lagging", "overdue", "severe")
COUNTS = ", ".join(("total", *LEVELS))
LISTED = "('task', 'milestone')"  # the overdue list's kinds


def _place(row: str) -> str:
    return f"coalesce({row}.region_id, 0), coalesce({row}.department_id, 0), {row}.level, {row}.target"


# --- PostgreSQL: one function for the three statement triggers, from the rows the statement added and removed


def _pg_delta(rows: str, sign: int) -> str:
    return f"SELECT {_place('r')}, {sign} AS d FROM {rows} AS r WHERE r.status = 'open'"


def _pg_upserts(delta: str) -> str:
    # in key order, so that two transactions lock the rows they share in the same order
    sums = [f"coalesce(sum(d) FILTER (WHERE level = '{level}'), 0)" for level in LEVELS]
    by_level = ", ".join(sums)
    # a department whose counts the statement leaves as they were (alerts moved between regions) is not rewritten
    changed = " OR ".join(f"{level_sum} <> 0" for level_sum in sums)
    added = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in COUNTS.split(", "))
    return (
        f"WITH delta ({KEY}, d) AS MATERIALIZED ({delta}),"
        f" places AS (INSERT INTO alert_tallies AS t ({KEY}, n)"
        f"  SELECT {KEY}, sum(d) FROM delta GROUP BY {KEY} HAVING sum(d) <> 0 ORDER BY {KEY}"
        "  ON CONFLICT (region_id, department_id, level, target) DO UPDATE SET n = t.n + excluded.n)"
        f" INSERT INTO alert_department_tallies AS t (department_id, {COUNTS})"
        f" SELECT department_id, sum(d), {by_level}"
        f" FROM delta WHERE target IN {LISTED} GROUP BY department_id HAVING {changed} ORDER BY department_id"
        f" ON CONFLICT (department_id) DO UPDATE SET {added};"
    )


POSTGRESQL = [
    f"""CREATE FUNCTION alert_tallies_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_pg_upserts(_pg_delta('new_rows', 1))}
    ELSIF TG_OP = 'DELETE' THEN
        {_pg_upserts(_pg_delta('old_rows', -1))}
    ELSE
        {_pg_upserts(_pg_delta('new_rows', 1) + ' UNION ALL ' + _pg_delta('old_rows', -1))}
    END IF;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER alert_tallies_insert AFTER INSERT ON alerts REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION alert_tallies_follow()",
    "CREATE TRIGGER alert_tallies_update AFTER UPDATE ON alerts REFERENCING OLD TABLE AS old_rows"
    " NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION alert_tallies_follow()",
    "CREATE TRIGGER alert_tallies_delete AFTER DELETE ON alerts REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION alert_tallies_follow()",
]


# --- SQLite: row triggers


def _sqlite_count(row: str, sign: int) -> str:
    """The row counted (+1) or uncounted (-1) in both tallies, if it is open."""
    n = f"{sign:+d}"
    levels = ", ".join(f"CASE {row}.level WHEN '{level}' THEN {n} ELSE 0 END" for level in LEVELS)
    added = ", ".join(f"{c} = {c} + excluded.{c}" for c in COUNTS.split(", "))
    return (
        f"INSERT INTO alert_tallies ({KEY}, n) SELECT {_place(row)}, {n} WHERE {row}.status = 'open'"
        f" ON CONFLICT (region_id, department_id, level, target) DO UPDATE SET n = n + excluded.n;"
        f" INSERT INTO alert_department_tallies (department_id, {COUNTS})"
        f" SELECT coalesce({row}.department_id, 0), {n}, {levels}"
        f" WHERE {row}.status = 'open' AND {row}.target IN {LISTED}"
        f" ON CONFLICT (department_id) DO UPDATE SET {added};"
    )


SQLITE = [
    f"CREATE TRIGGER alert_tallies_insert AFTER INSERT ON alerts BEGIN {_sqlite_count('NEW', 1)} END",
    f"CREATE TRIGGER alert_tallies_update AFTER UPDATE OF status, {KEY} ON alerts"
    f" BEGIN {_sqlite_count('OLD', -1)} {_sqlite_count('NEW', 1)} END",
    f"CREATE TRIGGER alert_tallies_delete AFTER DELETE ON alerts BEGIN {_sqlite_count('OLD', -1)} END",
]
DROP = {
    "postgresql": ["DROP TRIGGER alert_tallies_insert ON alerts", "DROP TRIGGER alert_tallies_update ON alerts",
                   "DROP TRIGGER alert_tallies_delete ON alerts", "DROP FUNCTION alert_tallies_follow()"],
    "sqlite": ["DROP TRIGGER alert_tallies_insert", "DROP TRIGGER alert_tallies_update",
               "DROP TRIGGER alert_tallies_delete"],
}


def create_triggers() -> None:
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        'alert_tallies',
        sa.Column('region_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('department_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('level', sa.String(length=20), nullable=False),
        sa.Column('target', sa.String(length=20), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('region_id', 'department_id', 'level', 'target', name=op.f('pk_alert_tallies')),
    )
    op.create_table(
        'alert_department_tallies',
        sa.Column('department_id', sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in COUNTS.split(", ")),
        sa.PrimaryKeyConstraint('department_id', name=op.f('pk_alert_department_tallies')),
    )
    op.execute(f"INSERT INTO alert_tallies ({KEY}, n) SELECT {_place('alerts')}, count(*) FROM alerts"
               f" WHERE status = 'open' GROUP BY {_place('alerts')}")
    by_level = ", ".join(f"sum(CASE level WHEN '{level}' THEN 1 ELSE 0 END)" for level in LEVELS)
    op.execute(f"INSERT INTO alert_department_tallies (department_id, {COUNTS})"
               f" SELECT coalesce(department_id, 0), count(*), {by_level} FROM alerts"
               f" WHERE status = 'open' AND target IN {LISTED} GROUP BY coalesce(department_id, 0)")
    create_triggers()
    op.drop_index('ix_alerts_open_region', table_name='alerts')


def downgrade() -> None:
    op.create_index('ix_alerts_open_region', 'alerts', ['region_id', 'department_id', 'level', 'target'],
                    sqlite_where=OPEN, postgresql_where=OPEN)
    for statement in DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table('alert_department_tallies')
    op.drop_table('alert_tallies')
