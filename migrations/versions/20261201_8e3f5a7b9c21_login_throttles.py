"""failed sign-ins counted per username typed, known or not, and per address (login_throttles), not on the account

Revision ID: 8e3f5a7b9c21
Revises: 7d2e4f6a8b10
Create Date: 2026-12-01 22:40:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = '8e3f5a7b9c21'
down_revision: str | None = '7d2e4f6a8b10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'login_throttles',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locked_until', tracker.db.UTCDateTime(), nullable=True),
        sa.Column('updated_at', tracker.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint('failures >= 0', name=op.f('ck_login_throttles_failures_nonnegative')),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_login_throttles')),
    )
    op.create_index(op.f('ix_login_throttles_updated_at'), 'login_throttles', ['updated_at'], unique=False)
    # a lock in force carries over to the name
    op.execute("INSERT INTO login_throttles (name, failures, locked_until, updated_at) "
               "SELECT 'user:' || lower(username), max(failed_logins), max(locked_until), "
               "max(COALESCE(locked_until, updated_at)) FROM users WHERE failed_logins > 0 OR locked_until IS NOT NULL GROUP BY 'user:' || lower(username)")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_failed_logins_nonnegative'), type_='check')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', tracker.db.UTCDateTime(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_users_failed_logins_nonnegative'), 'failed_logins >= 0')
    op.drop_index(op.f('ix_login_throttles_updated_at'), table_name='login_throttles')
    op.drop_table('login_throttles')
