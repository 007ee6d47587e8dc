"""webhooks: the endpoints an administrator registers (webhook_endpoints) and one delivery per endpoint and event
(webhook_deliveries)

Revision ID: f4b6d8a0c2e5
Revises: e3a5c7e9b1d4
Create Date: 2026-12-07 10:00:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = 'f4b6d8a0c2e5'
down_revision: str | None = 'e3a5c7e9b1d4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'webhook_endpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('event_kinds', sa.JSON(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('secret_hint', sa.String(length=20), nullable=False),
        sa.Column('since_event_id', sa.Integer(), nullable=False),
        sa.Column('scanned_event_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', tracker.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', tracker.db.UTCDateTime(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.CheckConstraint('scanned_event_id >= since_event_id',
                           name=op.f('ck_webhook_endpoints_scanned_after_since')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_webhook_endpoints_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_webhook_endpoints_region_id_regions'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints')),
        sa.UniqueConstraint('name', name=op.f('uq_webhook_endpoints_name')),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.Enum('pending', 'sent', 'failed', name='webhook_delivery_state', native_enum=False,
                                   create_constraint=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', tracker.db.UTCDateTime(), nullable=True),
        sa.Column('sent_at', tracker.db.UTCDateTime(), nullable=True),
        sa.Column('attempted_at', tracker.db.UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('request_headers', sa.JSON(), nullable=True),
        sa.Column('request_body', sa.Text(), nullable=True),
        sa.Column('response_status', sa.Integer(), nullable=True),
        sa.Column('response_body', sa.Text(), nullable=True),
        sa.Column('created_at', tracker.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_webhook_deliveries_attempts_nonnegative')),
        sa.CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name=op.f('ck_webhook_deliveries_sent_has_time')),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'],
                                name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_webhook_deliveries_event_id_events'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('endpoint_id', 'event_id', name=op.f('uq_webhook_deliveries_endpoint_id_event_id')),
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_state', ['state', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_state')
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_event_id'))
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_endpoints')
