"""personal access tokens of the open platform (api_tokens): hashed, scoped, expiring, rate-counted

Revision ID: c7e9a1b3d5f8
Revises: b3d5f7a9c1e2
Create Date: 2026-12-07 07:45:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = 'c7e9a1b3d5f8'
down_revision: str | None = 'b3d5f7a9c1e2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('hint', sa.String(length=16), nullable=False),
        sa.Column('scope', sa.Enum('read', 'write', name='api_token_scope', native_enum=False,
                                   create_constraint=True), nullable=False),
        sa.Column('created_at', tracker.db.UTCDateTime(), nullable=False),
        sa.Column('expires_at', tracker.db.UTCDateTime(), nullable=False),
        sa.Column('last_used_at', tracker.db.UTCDateTime(), nullable=True),
        sa.Column('revoked_at', tracker.db.UTCDateTime(), nullable=True),
        sa.Column('window_start', tracker.db.UTCDateTime(), nullable=True),
        sa.Column('window_count', sa.Integer(), server_default='0', nullable=False),
        sa.CheckConstraint('expires_at > created_at', name=op.f('ck_api_tokens_expires_after_creation')),
        sa.CheckConstraint('window_count >= 0', name=op.f('ck_api_tokens_window_count_nonnegative')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
    op.drop_table('api_tokens')
