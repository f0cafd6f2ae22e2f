"""cohort_version: the data version every write to the cohort's records raises (the dashboard's cache key)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'cohort_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(table, [{'id': 1, 'token': secrets.token_hex(16), 'number': 0}])


def downgrade() -> None:
    op.drop_table('cohort_version')
