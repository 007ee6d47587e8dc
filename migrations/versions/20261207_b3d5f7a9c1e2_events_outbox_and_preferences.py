"""events (the outbox every notification is written from), channel preferences per user, the robot and
浙政钉 channels, and a user's 浙政钉 account id

The webhook channel was a DingTalk robot: its deliveries become ``dingtalk``.

Revision ID: b3d5f7a9c1e2
Revises: f1a3c5e7b9d0
Create Date: 2026-12-07 07:10:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = 'b3d5f7a9c1e2'
down_revision: str | None = 'f1a3c5e7b9d0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = 'ck_notification_deliveries_delivery_channel'
KIND = 'ck_notifications_notification_kind'
OLD_KINDS = "('digest', 'reminder', 'overdue', 'report', 'supervision', 'review', 'system')"
NEW_KINDS = ("('digest', 'reminder', 'overdue', 'report', 'supervision', 'review', 'adjustment', 'evaluation', "
             "'progress', 'system')")


def upgrade() -> None:
    op.create_table(
        'events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('subject_type', sa.String(length=30), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('office_id', sa.Integer(), nullable=True),
        sa.Column('plan_id', sa.Integer(), nullable=True),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('link', sa.String(length=300), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_events_actor_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_events_department_id_departments'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['office_id'], ['departments.id'], name=op.f('fk_events_office_id_departments'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['person_id'], ['users.id'], name=op.f('fk_events_person_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_events_plan_id_plans'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_events_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table(
        'notification_preferences',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.Enum('email', 'dingtalk', 'wecom', 'zzd', name='preference_channel',
                                     native_enum=False, create_constraint=True), nullable=False),
        sa.Column('mode', sa.Enum('immediate', 'digest', 'off', name='delivery_mode', native_enum=False,
                                  create_constraint=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'channel', name=op.f('pk_notification_preferences')),
    )
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHANNEL), type_='check')
        batch_op.alter_column('channel', existing_type=sa.String(length=7), type_=sa.String(length=8),
                              existing_nullable=False)
    op.execute("UPDATE notification_deliveries SET channel = 'dingtalk' WHERE channel = 'webhook'")
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f(CHANNEL), "channel IN ('email', 'dingtalk', 'wecom', 'zzd')")

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(KIND), type_='check')
        batch_op.create_check_constraint(op.f(KIND), f"kind IN {NEW_KINDS}")
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notifications_event_id'), ['event_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notifications_event_id_events'), 'events', ['event_id'], ['id'],
                                    ondelete='SET NULL')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zzd_account_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('zzd_account_id')

    op.execute(f"UPDATE notifications SET kind = 'system' WHERE kind NOT IN {OLD_KINDS}")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_event_id_events'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notifications_event_id'))
        batch_op.drop_column('event_id')
        batch_op.drop_constraint(op.f(KIND), type_='check')
        batch_op.create_check_constraint(op.f(KIND), f"kind IN {OLD_KINDS}")

    op.execute("DELETE FROM notification_deliveries WHERE channel IN ('wecom', 'zzd')")
    op.execute("UPDATE notification_deliveries SET channel = 'webhook' WHERE channel = 'dingtalk'")
    with op.batch_alter_table('notification_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHANNEL), type_='check')
        batch_op.alter_column('channel', existing_type=sa.String(length=8), type_=sa.String(length=7),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f(CHANNEL), "channel IN ('email', 'webhook')")

    op.drop_table('notification_preferences')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_subject')
        batch_op.drop_index(batch_op.f('ix_events_created_at'))
    op.drop_table('events')
