"""case state field constraints: acknowledged and later have acknowledged_at, submitted has submitted_at,
closed has closed_by_id

Revision ID: 94256afca283
Revises: bfbf4cbd1d73
Create Date: 2026-12-01 18:45:00.000000+08:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '94256afca283'
down_revision: str | None = 'bfbf4cbd1d73'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINTS = [
    ('ck_supervision_cases_acknowledged_has_time', "state IN ('filed', 'issued') OR acknowledged_at IS NOT NULL"),
    ('ck_supervision_cases_submitted_has_time', "state <> 'submitted' OR submitted_at IS NOT NULL"),
    ('ck_supervision_cases_closed_has_closer', "state <> 'closed' OR closed_by_id IS NOT NULL"),
]


def upgrade() -> None:
    with op.batch_alter_table('supervision_cases', schema=None) as batch_op:
        for name, condition in CONSTRAINTS:
            batch_op.create_check_constraint(op.f(name), condition)


def downgrade() -> None:
    with op.batch_alter_table('supervision_cases', schema=None) as batch_op:
        for name, _ in reversed(CONSTRAINTS):
            batch_op.drop_constraint(op.f(name), type_='check')
