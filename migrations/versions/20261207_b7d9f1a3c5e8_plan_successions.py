"""succession: the next period's plan started from a locked final evaluation (plan_successions), with its
drafting background and the tasks closed rather than carried

Revision ID: b7d9f1a3c5e8
Revises: c8e0a2b4d6f9
Create Date: 2026-12-07 14:00:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = 'b7d9f1a3c5e8'
down_revision: str | None = 'c8e0a2b4d6f9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'plan_successions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('evaluation_id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('background', sa.Text(), nullable=True),
        sa.Column('not_carried', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', tracker.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_plan_successions_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.id'],
                                name=op.f('fk_plan_successions_evaluation_id_evaluations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_successions_plan_id_plans'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_successions')),
        sa.UniqueConstraint('evaluation_id', name=op.f('uq_plan_successions_evaluation_id')),
        sa.UniqueConstraint('plan_id', name=op.f('uq_plan_successions_plan_id')),
    )


def downgrade() -> None:
    op.drop_table('plan_successions')
