"""an evaluation's indicator result keeps the review state of the value it froze (待确认 / 已退回 are not judged)

Revision ID: e7f9a1b3c5d6
Revises: c4d6e8f0a2b4
Create Date: 2026-12-06 21:30:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e7f9a1b3c5d6'
down_revision: str | None = 'c4d6e8f0a2b4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATE = 'ck_indicator_results_indicator_result_value_state'


def upgrade() -> None:
    with op.batch_alter_table('indicator_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('value_state', sa.String(length=9), nullable=True))
        batch_op.create_check_constraint(op.f(STATE), "value_state IN ('entered', 'confirmed', 'returned')")
    # results computed before judged every value they froze: they stand as confirmed
    op.execute("UPDATE indicator_results SET value_state = 'confirmed' WHERE value_text IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('indicator_results', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(STATE), type_='check')
        batch_op.drop_column('value_state')
