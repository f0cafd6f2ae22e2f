"""pep_action_follow_ups: each PEP action's number and owning user; the manager's decision on an escalation

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pep_action') as batch:
        batch.add_column(sa.Column('number', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('owner_user', sa.String(length=100), nullable=True))
        batch.create_unique_constraint('uq_pep_action_number', ['pep_id', 'number'])
    with op.batch_alter_table('escalation') as batch:
        batch.add_column(sa.Column('decision', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('decision_note', sa.Text(), nullable=True))
        batch.add_column(sa.Column('decided_by', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('decided_at', engine.models.UTCDateTime(), nullable=True))
    op.create_index('ix_escalation_state_resolved', 'escalation', ['state', 'resolved_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_escalation_state_resolved', table_name='escalation')
    with op.batch_alter_table('escalation') as batch:
        batch.drop_column('decided_at')
        batch.drop_column('decided_by')
        batch.drop_column('decision_note')
        batch.drop_column('decision')
    with op.batch_alter_table('pep_action') as batch:
        batch.drop_constraint('uq_pep_action_number', type_='unique')
        batch.drop_column('owner_user')
        batch.drop_column('number')
