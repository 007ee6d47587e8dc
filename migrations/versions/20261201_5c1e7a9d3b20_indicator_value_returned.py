"""indicator values can be returned (已退回) by the planner with a reason

Revision ID: 5c1e7a9d3b20
Revises: 94256afca283
Create Date: 2026-12-01 19:10:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = '5c1e7a9d3b20'
down_revision: str | None = '94256afca283'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATE = 'ck_indicator_values_indicator_value_state'
RETURNED = 'ck_indicator_values_returned_has_reason'


def upgrade() -> None:
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.add_column(sa.Column('return_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('returned_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('returned_at', tracker.db.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_indicator_values_returned_by_id_users'), 'users', ['returned_by_id'],
                                    ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(op.f(STATE), type_='check')
        batch_op.create_check_constraint(op.f(STATE), "state IN ('entered', 'confirmed', 'returned')")
        batch_op.create_check_constraint(
            op.f(RETURNED), "state <> 'returned' OR (return_reason IS NOT NULL AND returned_at IS NOT NULL)")


def downgrade() -> None:
    op.execute("UPDATE indicator_values SET state = 'entered' WHERE state = 'returned'")
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(RETURNED), type_='check')
        batch_op.drop_constraint(op.f(STATE), type_='check')
        batch_op.create_check_constraint(op.f(STATE), "state IN ('entered', 'confirmed')")
        batch_op.drop_constraint(op.f('fk_indicator_values_returned_by_id_users'), type_='foreignkey')
        batch_op.drop_column('returned_at')
        batch_op.drop_column('returned_by_id')
        batch_op.drop_column('return_reason')
