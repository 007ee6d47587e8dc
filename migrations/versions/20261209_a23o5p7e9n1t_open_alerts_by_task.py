"""a plan's open alerts by level from an index: (task_id, level) of the open alerts, so that the leader's
dashboard counts the alerts of a plan's 2,000 tasks by probing it instead of reading a nation's 140,000 open
alerts (37 → 4 ms)

Revision ID: a23o5p7e9n1t
Revises: a22t4p6i8d0x
Create Date: 2026-12-09 12:00:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a23o5p7e9n1t'
down_revision: str | None = 'a22t4p6i8d0x'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_alerts_open_task_level', 'alerts', ['task_id', 'level'],
                    sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index('ix_alerts_open_task_level', table_name='alerts')
