"""message waits: each catch event waiting for a BPMN message, materialised like timers

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

Rows are written at each step from then on; an instance that was already waiting for a message when
this migration ran gets its row at its next step (``vsw db fill-message-waits`` fills them now).
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'waiting_message',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('element_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('message', sa.String(length=200), nullable=False),
        sa.Column('boundary', sa.Boolean(), nullable=False),
        sa.Column('since', engine.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('instance_id', 'task_id', name='uq_message_wait_task'),
    )
    op.create_index('ix_waiting_message_instance_id', 'waiting_message', ['instance_id'])


def downgrade() -> None:
    op.drop_index('ix_waiting_message_instance_id', table_name='waiting_message')
    op.drop_table('waiting_message')
