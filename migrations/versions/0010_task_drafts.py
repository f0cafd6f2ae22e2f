"""task_drafts: what someone typed into a task's form and saved as a draft (engine/drafts.py)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'task_draft',
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('saved_by', sa.String(length=100), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('saved_at', engine.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['human_task.id']),
        sa.PrimaryKeyConstraint('task_id'),
    )


def downgrade() -> None:
    op.drop_table('task_draft')
