"""evaluations: the 目标一致法 tolerance the evaluator sets, and the evaluator's conclusions (总体情况,
存在问题, 下一步工作建议) kept with each version

Revision ID: d9f1b3c5e7a0
Revises: c7e9a1b3d5f8
Create Date: 2026-12-07 08:10:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd9f1b3c5e7a0'
down_revision: str | None = 'c7e9a1b3d5f8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOLERANCE = 'ck_evaluations_pace_tolerance_range'


def upgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pace_tolerance', sa.Integer(), server_default='10', nullable=False))
        batch_op.add_column(sa.Column('overview', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('problems', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('suggestions', sa.Text(), nullable=True))
        batch_op.create_check_constraint(op.f(TOLERANCE), 'pace_tolerance BETWEEN 0 AND 50')


def downgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(TOLERANCE), type_='check')
        batch_op.drop_column('suggestions')
        batch_op.drop_column('problems')
        batch_op.drop_column('overview')
        batch_op.drop_column('pace_tolerance')
