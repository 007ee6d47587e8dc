"""overdue list version: a token that changes with every change to what the overdue list counts, so its
counts, order and filter choices are kept between requests

Revision ID: a17p0f5d2c3e
Revises: b7d9f1a3c5e8
Create Date: 2026-12-07 18:00:00.000000+08:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a17p0f5d2c3e'
down_revision: str | None = 'b7d9f1a3c5e8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'overdue_list_version',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_overdue_list_version_single_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_overdue_list_version')),
    )
    # the list as it stands has a version of its own from the start
    op.execute(sa.text("INSERT INTO overdue_list_version (id, token) VALUES (1, :token)")
               .bindparams(token=secrets.token_hex(16)))


def downgrade() -> None:
    op.drop_table('overdue_list_version')
