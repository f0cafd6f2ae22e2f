"""incident: a timer step the pump could not run, held back from the pump until an administrator retries it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'incident',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('process_id', sa.String(length=100), nullable=False),
        sa.Column('business_key', sa.String(length=100), nullable=False),
        sa.Column('element_id', sa.String(length=100), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=False),
        sa.Column('first_failed_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('last_failed_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('retried_by', sa.String(length=100), nullable=True),
        sa.Column('retried_at', engine.models.UTCDateTime(), nullable=True),
        sa.Column('resolved_by', sa.String(length=100), nullable=True),
        sa.Column('resolved_at', engine.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('instance_id', name='uq_incident_instance'),
    )
    op.create_index('ix_incident_status_failed', 'incident', ['status', 'last_failed_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_incident_status_failed', table_name='incident')
    op.drop_table('incident')
