"""each task's or milestone's alert carries its place in the overdue list — its task's plan, that plan's region and
the task's lead department — kept in step by the app, and is open only while its item is: the list filters, counts
and orders open alerts from two indexes of them alone, without reading a task.

* ``alerts.plan_id``, ``alerts.region_id``, ``alerts.department_id``, filled from each alert's task;
* the open alerts of items no longer open are closed, as the scan would close them;
* ``ix_alerts_open_due`` (due date, id) becomes ``ix_alerts_open_order`` with every column the list filters by,
  and ``ix_alerts_open_region`` (region, lead department, level, target) serves the counts.

Revision ID: a26p9l3a5c7e
Revises: a25a7l9e1r3t
Create Date: 2026-12-11 10:00:00.000000+08:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = 'a26p9l3a5c7e'
down_revision: str | None = 'a25a7l9e1r3t'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")
CLOSED_ITEMS = (
    # (the alerts' item, its closed statuses, finished status)
    ("task_id", "tasks", ("done", "suspended", "terminated"), "done"),
    ("milestone_id", "milestones", ("done", "waived"), "done"),
)


def upgrade() -> None:
    for column in ("plan_id", "region_id", "department_id"):
        op.add_column('alerts', sa.Column(column, sa.Integer(), nullable=True))
    op.execute(
        "UPDATE alerts SET plan_id = t.plan_id, region_id = p.region_id, department_id = t.lead_department_id"
        " FROM tasks AS t JOIN plans AS p ON p.id = t.plan_id WHERE alerts.task_id = t.id"
    )
    at = sa.bindparam("at", datetime.now(UTC), type_=sa.DateTime(timezone=True))
    if op.get_bind().dialect.name == "sqlite":  # naive UTC there, as the app stores it
        at = sa.bindparam("at", datetime.now(UTC).replace(tzinfo=None), type_=sa.DateTime())
    for column, table, closed, done in CLOSED_ITEMS:
        statuses = ", ".join(f"'{s}'" for s in closed)
        op.execute(sa.text(
            "UPDATE alerts SET"
            f" status = CASE WHEN (SELECT status FROM {table} WHERE id = alerts.{column}) = '{done}'"
            " THEN 'resolved' ELSE 'cancelled' END,"
            f" resolved_reason = CASE WHEN (SELECT status FROM {table} WHERE id = alerts.{column}) = '{done}'"
            " THEN 'done' ELSE 'not_applicable' END,"
            " resolved_at = :at"
            f" WHERE status = 'open' AND rule IN ('deadline', 'pace') AND {column} IN"
            f" (SELECT id FROM {table} WHERE status IN ({statuses}))"
        ).bindparams(at))
    op.drop_index('ix_alerts_open_due', table_name='alerts')
    op.create_index('ix_alerts_open_order', 'alerts',
                    ['due_date', 'id', 'region_id', 'department_id', 'plan_id', 'level', 'target'],
                    sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index('ix_alerts_open_region', 'alerts', ['region_id', 'department_id', 'level', 'target'],
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_alerts_open_region', table_name='alerts')
    op.drop_index('ix_alerts_open_order', table_name='alerts')
    op.create_index('ix_alerts_open_due', 'alerts', ['due_date', 'id'], sqlite_where=OPEN, postgresql_where=OPEN)
    with op.batch_alter_table('alerts') as batch:
        for column in ("department_id", "region_id", "plan_id"):
            batch.drop_column(column)
