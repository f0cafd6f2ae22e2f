"""escalation: deadlines that passed, as first-class records for the managers' dashboard

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'escalation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('child_ref', sa.String(length=100), nullable=False),
        sa.Column('la_code', sa.String(length=10), nullable=True),
        sa.Column('since', engine.models.UTCDateTime(), nullable=False),
        sa.Column('owner_role', sa.String(length=40), nullable=False),
        sa.Column('owner', sa.String(length=100), nullable=True),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('process_id', sa.String(length=100), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=64), nullable=True),
        sa.Column('raised_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('resolved_at', engine.models.UTCDateTime(), nullable=True),
        sa.Column('resolved_by', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_escalation_open', 'escalation', ['state', 'la_code', 'since'])
    op.create_index('ix_escalation_instance', 'escalation', ['instance_id', 'state'])
    op.create_index(op.f('ix_escalation_child_ref'), 'escalation', ['child_ref'])


def downgrade() -> None:
    op.drop_index(op.f('ix_escalation_child_ref'), table_name='escalation')
    op.drop_index('ix_escalation_instance', table_name='escalation')
    op.drop_index('ix_escalation_open', table_name='escalation')
    op.drop_table('escalation')
