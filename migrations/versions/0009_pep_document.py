"""pep_document: the VSH's feedback on a PEP, and the PEP's versions (submitted, returned, signed off)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('pep', sa.Column('feedback', sa.Text(), nullable=True))
    op.create_table(
        'pep_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pep_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('content', sa.Text(), nullable=True),
        sa.Column('rag', sa.String(length=5), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('feedback', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['pep_id'], ['pep.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('pep_id', 'number', name='uq_pep_version_number'),
    )
    op.create_index('ix_pep_version_pep_id', 'pep_version', ['pep_id'])


def downgrade() -> None:
    op.drop_index('ix_pep_version_pep_id', table_name='pep_version')
    op.drop_table('pep_version')
    with op.batch_alter_table('pep') as batch:
        batch.drop_column('feedback')
