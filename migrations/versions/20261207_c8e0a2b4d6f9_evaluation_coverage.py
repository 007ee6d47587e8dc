"""evaluations: the key tasks, key projects and cascade of a mid-term or final evaluation, frozen as computed
(a JSON snapshot beside the department scores and indicator results)

Revision ID: c8e0a2b4d6f9
Revises: a5c7e9b1d3f6
Create Date: 2026-12-07 11:20:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c8e0a2b4d6f9'
down_revision: str | None = 'a5c7e9b1d3f6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_review', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_column('plan_review')
