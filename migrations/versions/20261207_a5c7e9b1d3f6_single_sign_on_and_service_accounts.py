"""single sign on and service accounts: users gain a kind (person/service) and the identity platform's subject
(external_id); the password and, while an account is switched off, the department may be absent

Revision ID: a5c7e9b1d3f6
Revises: f4b6d8a0c2e5
Create Date: 2026-12-07 10:00:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a5c7e9b1d3f6'
down_revision: str | None = 'f4b6d8a0c2e5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('person', 'service', name='user_kind', native_enum=False,
                                                      create_constraint=True),
                                      server_default='person', nullable=False))
        batch_op.add_column(sa.Column('external_id', sa.String(length=255), nullable=True))
        batch_op.alter_column('password_hash', existing_type=sa.String(length=256), nullable=True)
        batch_op.alter_column('department_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_users_external_id'), ['external_id'])
        batch_op.create_check_constraint(op.f('ck_users_service_has_no_password'),
                                         "kind <> 'service' OR password_hash IS NULL")
        batch_op.create_check_constraint(op.f('ck_users_service_has_department'),
                                         "kind <> 'service' OR department_id IS NOT NULL")
        batch_op.create_check_constraint(op.f('ck_users_active_has_department'),
                                         'department_id IS NOT NULL OR NOT is_active')


def downgrade() -> None:
    users = sa.table('users', sa.column('kind', sa.String), sa.column('department_id', sa.Integer),
                     sa.column('password_hash', sa.String))
    # Accounts the old schema cannot hold: service accounts (their tokens go with them) and accounts created
    # by single sign-on that were never placed in a department. The others keep an unusable password.
    op.execute(sa.text("DELETE FROM api_tokens WHERE user_id IN "
                       "(SELECT id FROM users WHERE kind = 'service' OR department_id IS NULL)"))
    op.execute(users.delete().where(sa.or_(users.c.kind == 'service', users.c.department_id.is_(None))))
    op.execute(users.update().where(users.c.password_hash.is_(None)).values(password_hash='!'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_active_has_department'), type_='check')
        batch_op.drop_constraint(op.f('ck_users_service_has_department'), type_='check')
        batch_op.drop_constraint(op.f('ck_users_service_has_no_password'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_users_external_id'), type_='unique')
        batch_op.alter_column('department_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('password_hash', existing_type=sa.String(length=256), nullable=False)
        batch_op.drop_column('external_id')
        batch_op.drop_constraint(op.f('ck_users_user_kind'), type_='check')
        batch_op.drop_column('kind')
