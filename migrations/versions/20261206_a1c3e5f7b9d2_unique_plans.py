"""plans: one plan per region, level, title (and per short name) and period

Plans already saved twice (two submissions at once made identical plans) keep the first's title and short
name; the later copies are renamed "…（重复N）" so that the constraints can be built and the copies are seen.

Revision ID: a1c3e5f7b9d2
Revises: 8e3f5a7b9c21
Create Date: 2026-12-06 18:00:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a1c3e5f7b9d2'
down_revision: str | None = '8e3f5a7b9c21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None



def _rename_copies(column: str, width: int) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        f"SELECT id, {column} FROM plans p WHERE EXISTS (SELECT 1 FROM plans q WHERE q.region_id = p.region_id "
        f"AND q.level = p.level AND q.{column} = p.{column} AND q.start_year = p.start_year "
        f"AND q.end_year = p.end_year AND q.id < p.id) ORDER BY id")).all()
    for n, (plan_id, value) in enumerate(rows, start=1):
        suffix = f"（重复{n}）"
        conn.execute(sa.text(f"UPDATE plans SET {column} = :value WHERE id = :id"),
                     {"value": value[: width - len(suffix)] + suffix, "id": plan_id})


def upgrade() -> None:
    _rename_copies('title', 200)
    _rename_copies('short_name', 60)
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_plans_region_id_level_title_start_year_end_year'),
            ['region_id', 'level', 'title', 'start_year', 'end_year'])
        batch_op.create_unique_constraint(
            batch_op.f('uq_plans_region_id_level_short_name_start_year_end_year'),
            ['region_id', 'level', 'short_name', 'start_year', 'end_year'])


def downgrade() -> None:
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_plans_region_id_level_short_name_start_year_end_year'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_plans_region_id_level_title_start_year_end_year'), type_='unique')
