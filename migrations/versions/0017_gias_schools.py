"""gias_schools: the school register's columns from the GIAS establishment download (docs/import-schools.md)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('school') as batch:
        batch.add_column(sa.Column('status', sa.String(length=10), nullable=False, server_default='open'))
        batch.add_column(sa.Column('establishment_type', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('la_name', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('statutory_low_age', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('statutory_high_age', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('postcode', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('school') as batch:
        for column in ('postcode', 'statutory_high_age', 'statutory_low_age', 'la_name', 'establishment_type',
                       'status'):
            batch.drop_column(column)
