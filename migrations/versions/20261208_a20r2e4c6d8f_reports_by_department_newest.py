"""a department's progress reports newest first: an index on (department_id, id), so that "its reports, newest
first, the first ten" reads ten index entries instead of walking every report backwards by id

Revision ID: a20r2e4c6d8f
Revises: a19f1d3b5c7e
Create Date: 2026-12-08 11:00:00.000000+08:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'a20r2e4c6d8f'
down_revision: str | None = 'a19f1d3b5c7e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_progress_reports_department_newest', 'progress_reports', ['department_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_progress_reports_department_newest', table_name='progress_reports')
