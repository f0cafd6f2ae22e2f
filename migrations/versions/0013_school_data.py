"""school_data: the Virtual School's roll: attendance, suspensions, attainment, EET; a child's leaving care;
a social worker's team

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('child', sa.Column('left_care_on', sa.Date(), nullable=True))
    op.add_column('child', sa.Column('sen_status', sa.String(length=30), server_default='none', nullable=False))
    op.add_column('app_user', sa.Column('team', sa.String(length=100), nullable=True))
    op.create_table(
        'attendance_record',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('possible_sessions', sa.Integer(), nullable=False),
        sa.Column('attended_sessions', sa.Integer(), nullable=False),
        sa.Column('authorised_absence', sa.Integer(), nullable=False),
        sa.Column('unauthorised_absence', sa.Integer(), nullable=False),
        sa.Column('school_urn', sa.String(length=10), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('recorded_at', engine.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('child_id', 'period_start', 'period_end', name='uq_attendance_child_period'),
    )
    op.create_index('ix_attendance_record_child_id', 'attendance_record', ['child_id'])
    op.create_index('ix_attendance_period', 'attendance_record', ['period_start', 'period_end'])
    op.create_table(
        'suspension',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('school_urn', sa.String(length=10), nullable=True),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('days', sa.Float(), nullable=False),
        sa.Column('reason', sa.String(length=2), nullable=False),
        sa.Column('recorded_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('recorded_by', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_suspension_child_id', 'suspension', ['child_id'])
    op.create_index('ix_suspension_starts_on', 'suspension', ['starts_on'])
    op.create_table(
        'attainment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('academic_year', sa.String(length=7), nullable=False),
        sa.Column('term', sa.String(length=10), nullable=False),
        sa.Column('subject', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('value', sa.String(length=20), nullable=False),
        sa.Column('target', sa.String(length=20), nullable=True),
        sa.Column('recorded_at', engine.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('child_id', 'academic_year', 'term', 'subject', 'kind', name='uq_attainment'),
    )
    op.create_index('ix_attainment_child_id', 'attainment', ['child_id'])
    op.create_table(
        'eet_status',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('recorded_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('recorded_at', engine.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_eet_status_child_id', 'eet_status', ['child_id'])


def downgrade() -> None:
    op.drop_index('ix_eet_status_child_id', table_name='eet_status')
    op.drop_table('eet_status')
    op.drop_index('ix_attainment_child_id', table_name='attainment')
    op.drop_table('attainment')
    op.drop_index('ix_suspension_starts_on', table_name='suspension')
    op.drop_index('ix_suspension_child_id', table_name='suspension')
    op.drop_table('suspension')
    op.drop_index('ix_attendance_period', table_name='attendance_record')
    op.drop_index('ix_attendance_record_child_id', table_name='attendance_record')
    op.drop_table('attendance_record')
    op.drop_column('app_user', 'team')
    op.drop_column('child', 'sen_status')
    op.drop_column('child', 'left_care_on')
