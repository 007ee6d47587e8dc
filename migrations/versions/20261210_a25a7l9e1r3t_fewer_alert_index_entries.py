"""fewer index entries for each alert the scan raises (a nation's first scan raises 140,000):

* ``ix_alerts_status_level`` is dropped: every reading of alerts by status is of the open ones, and the open
  alerts' counts by level are read from ``ix_alerts_open_task_level`` alone;
* ``ix_alerts_milestone`` and ``ix_alerts_indicator`` (deleting a milestone or an indicator deletes its alerts)
  hold only the alerts that have one: a task's alert has neither, and was entered in both as NULL.

Revision ID: a25a7l9e1r3t
Revises: a24h6o8t0u2p
Create Date: 2026-12-10 13:00:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a25a7l9e1r3t'
down_revision: str | None = 'a24h6o8t0u2p'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_alerts_status_level', table_name='alerts')
    for column in ("milestone", "indicator"):
        op.drop_index(f'ix_alerts_{column}', table_name='alerts')
        where = sa.text(f"{column}_id IS NOT NULL")
        op.create_index(f'ix_alerts_{column}', 'alerts', [f'{column}_id'], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for column in ("milestone", "indicator"):
        op.drop_index(f'ix_alerts_{column}', table_name='alerts')
        op.create_index(f'ix_alerts_{column}', 'alerts', [f'{column}_id'])
    op.create_index('ix_alerts_status_level', 'alerts', ['status', 'level'])
