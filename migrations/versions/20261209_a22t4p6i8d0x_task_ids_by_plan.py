"""the ids of some plans' tasks from an index alone: (plan_id, id) — a province's department head's search names
the 30,000 tasks of the plans it sees, which PostgreSQL read by walking all of a nation's 300,000 tasks (87 ms)

Revision ID: a22t4p6i8d0x
Revises: a21q3u5e7u9e
Create Date: 2026-12-09 11:00:00.000000+08:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'a22t4p6i8d0x'
down_revision: str | None = 'a21q3u5e7u9e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_tasks_plan_id_id', 'tasks', ['plan_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_tasks_plan_id_id', table_name='tasks')
