"""users carry a session epoch: signing out (or a new password) ends every session of the account

Revision ID: 7d2e4f6a8b10
Revises: 5c1e7a9d3b20
Create Date: 2026-12-01 22:20:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7d2e4f6a8b10'
down_revision: str | None = '5c1e7a9d3b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(op.f('ck_users_session_epoch_nonnegative'), 'session_epoch >= 0')


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_session_epoch_nonnegative'), type_='check')
        batch_op.drop_column('session_epoch')
