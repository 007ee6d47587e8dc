"""the case list's order as a column the database keeps: whom a case waits on (0 the department, 1 the
office's review, 2 the office's issuing, 3 nobody), generated from the state, with an index on it and the
response deadline, so that the first page of a nation's 50,000 cases reads fifty index entries instead of
sorting them all

Revision ID: a21q3u5e7u9e
Revises: a20r2e4c6d8f
Create Date: 2026-12-09 10:00:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a21q3u5e7u9e'
down_revision: str | None = 'a20r2e4c6d8f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE_SQL = ("CASE WHEN state = 'issued' THEN 0 WHEN state = 'acknowledged' THEN 0 WHEN state = 'rectifying' THEN 0 "
             "WHEN state = 'submitted' THEN 1 WHEN state = 'filed' THEN 2 WHEN state = 'closed' THEN 3 END")


def upgrade() -> None:
    # STORED on PostgreSQL; on SQLite a virtual column (ALTER TABLE can add no other), computed as it is read
    op.add_column('supervision_cases', sa.Column('queue', sa.SmallInteger(), sa.Computed(QUEUE_SQL), nullable=True))
    op.create_index('ix_supervision_cases_queue', 'supervision_cases', ['queue', 'response_deadline'])


def downgrade() -> None:
    op.drop_index('ix_supervision_cases_queue', table_name='supervision_cases')
    op.drop_column('supervision_cases', 'queue')  # (SQLite drops a column in place since 3.35)
