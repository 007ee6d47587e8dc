"""each supervising office numbers its 督办单 with its own 文号 prefix and counter per year

Cases issued before keep their numbers (under the old single counter) and no prefix; each office's counter
continues from the highest number it issued, so a year that was under way goes on from there.

Revision ID: f1a3c5e7b9d0
Revises: e7f9a1b3c5d6
Create Date: 2026-12-06 22:00:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'f1a3c5e7b9d0'
down_revision: str | None = 'e7f9a1b3c5d6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('doc_prefix', sa.String(length=20), nullable=True))
        batch_op.create_unique_constraint(op.f('uq_departments_doc_prefix'), ['doc_prefix'])
    with op.batch_alter_table('supervision_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('office_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('number_prefix', sa.String(length=20), nullable=True))
    # a case issued before: its office is the issuer's department (else the filer's, else its own department)
    op.execute("""
        UPDATE supervision_cases SET office_id = COALESCE(
            (SELECT users.department_id FROM users WHERE users.id = supervision_cases.issued_by_id),
            (SELECT users.department_id FROM users WHERE users.id = supervision_cases.created_by_id),
            department_id)
        WHERE number_seq IS NOT NULL""")
    with op.batch_alter_table('supervision_cases', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_supervision_cases_number_year_number_seq'), type_='unique')
        batch_op.create_unique_constraint(op.f('uq_supervision_cases_office_id_number_year_number_seq'),
                                          ['office_id', 'number_year', 'number_seq'])
        batch_op.create_foreign_key(op.f('fk_supervision_cases_office_id_departments'), 'departments',
                                    ['office_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_check_constraint(op.f('ck_supervision_cases_number_has_office'),
                                         'number_seq IS NULL OR office_id IS NOT NULL')
    op.drop_table('case_number_sequences')
    op.create_table(
        'case_number_sequences',
        sa.Column('office_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['departments.id'],
                                name=op.f('fk_case_number_sequences_office_id_departments'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('office_id', 'year', name=op.f('pk_case_number_sequences')),
    )
    op.execute("""
        INSERT INTO case_number_sequences (office_id, year, last_seq)
        SELECT office_id, number_year, MAX(number_seq) FROM supervision_cases
        WHERE number_seq IS NOT NULL GROUP BY office_id, number_year""")


def downgrade() -> None:
    # one counter per year again; numbers that two offices both used in a year cannot go back under the old
    # unique constraint, so a database with them cannot be downgraded
    op.drop_table('case_number_sequences')
    op.create_table(
        'case_number_sequences',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_case_number_sequences')),
    )
    op.execute("""
        INSERT INTO case_number_sequences (year, last_seq)
        SELECT number_year, MAX(number_seq) FROM supervision_cases WHERE number_seq IS NOT NULL GROUP BY number_year""")
    with op.batch_alter_table('supervision_cases', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_supervision_cases_number_has_office'), type_='check')
        batch_op.drop_constraint(op.f('fk_supervision_cases_office_id_departments'), type_='foreignkey')
        batch_op.drop_constraint(op.f('uq_supervision_cases_office_id_number_year_number_seq'), type_='unique')
        batch_op.create_unique_constraint(op.f('uq_supervision_cases_number_year_number_seq'),
                                          ['number_year', 'number_seq'])
        batch_op.drop_column('number_prefix')
        batch_op.drop_column('office_id')
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_departments_doc_prefix'), type_='unique')
        batch_op.drop_column('doc_prefix')
