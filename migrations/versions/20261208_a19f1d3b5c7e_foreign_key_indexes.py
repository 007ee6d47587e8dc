"""indexes for the foreign keys that deleting a plan follows (its tasks, milestones, alerts and indicators go with
it): a case's alert (set to NULL), an alert's indicator, an adjustment request's milestone, an evaluation result's
indicator — without them each deleted row reads the whole other table

Revision ID: a19f1d3b5c7e
Revises: a18s0e4c1b2d
Create Date: 2026-12-08 10:00:00.000000+08:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'a19f1d3b5c7e'
down_revision: str | None = 'a18s0e4c1b2d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_supervision_cases_alert', 'supervision_cases', ['alert_id'])
    op.create_index('ix_alerts_indicator', 'alerts', ['indicator_id'])
    op.create_index('ix_adjustment_requests_milestone', 'adjustment_requests', ['milestone_id'])
    op.create_index('ix_indicator_results_indicator', 'indicator_results', ['indicator_id'])


def downgrade() -> None:
    op.drop_index('ix_indicator_results_indicator', table_name='indicator_results')
    op.drop_index('ix_adjustment_requests_milestone', table_name='adjustment_requests')
    op.drop_index('ix_alerts_indicator', table_name='alerts')
    op.drop_index('ix_supervision_cases_alert', table_name='supervision_cases')
