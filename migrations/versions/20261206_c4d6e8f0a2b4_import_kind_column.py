"""import documents: the kind of an import (规划文档 or 任务分解表) is a column, no longer a key of the draft

Existing rows take the kind their draft names (``draft["kind"]``; a draft without one is a plan document,
as the code read it) and the key is removed from the JSON; the downgrade writes it back. The drafts are
rewritten in Python (a few hundred rows at most: one per upload) so that the same code serves SQLite and
PostgreSQL.

Revision ID: c4d6e8f0a2b4
Revises: a1c3e5f7b9d2
Create Date: 2026-12-06 21:00:00.000000+08:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c4d6e8f0a2b4'
down_revision: str | None = 'a1c3e5f7b9d2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

documents = sa.table('import_documents', sa.column('id', sa.Integer()), sa.column('kind', sa.String(8)),
                     sa.column('draft', sa.JSON()))


def upgrade() -> None:
    with op.batch_alter_table('import_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), nullable=True))
    conn = op.get_bind()
    for doc_id, draft in conn.execute(sa.select(documents.c.id, documents.c.draft)).all():
        draft = dict(draft or {})
        kind = 'tasklist' if draft.pop('kind', None) == 'tasklist' else 'document'
        conn.execute(documents.update().where(documents.c.id == doc_id).values(kind=kind, draft=draft))
    with op.batch_alter_table('import_documents', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=8), nullable=False)
        batch_op.create_check_constraint(op.f('ck_import_documents_import_kind'), "kind IN ('document', 'tasklist')")


def downgrade() -> None:
    conn = op.get_bind()
    for doc_id, kind, draft in conn.execute(sa.select(documents.c.id, documents.c.kind, documents.c.draft)).all():
        conn.execute(documents.update().where(documents.c.id == doc_id).values(draft={**(draft or {}), 'kind': kind}))
    with op.batch_alter_table('import_documents', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_import_documents_import_kind'), type_='check')
        batch_op.drop_column('kind')
