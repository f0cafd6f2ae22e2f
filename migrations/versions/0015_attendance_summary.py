"""attendance_summary: each child's attendance summed per term, refreshed whenever the records change;
ix_attendance_at_school: the last day each child was at a school

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'attendance_summary',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('year_start', sa.Integer(), nullable=False),
        sa.Column('term_starts_on', sa.Date(), nullable=True),
        sa.Column('possible_sessions', sa.Integer(), nullable=False),
        sa.Column('attended_sessions', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['child_id'], ['child.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_attendance_summary_child_id', 'attendance_summary', ['child_id'])
    op.create_index('ix_attendance_summary_term', 'attendance_summary', ['term_starts_on', 'child_id'])
    op.create_index('ix_attendance_summary_year', 'attendance_summary', ['year_start', 'child_id'])
    op.create_index('ix_attendance_at_school', 'attendance_record', ['child_id', 'period_end'],
                    postgresql_where=sa.text('school_urn IS NOT NULL'), sqlite_where=sa.text('school_urn IS NOT NULL'))
    # Records already held are summed by `vsw authority refresh-attendance --la CODE` (docs/cohort.md).


def downgrade() -> None:
    op.drop_index('ix_attendance_at_school', table_name='attendance_record')
    op.drop_index('ix_attendance_summary_year', table_name='attendance_summary')
    op.drop_index('ix_attendance_summary_term', table_name='attendance_summary')
    op.drop_index('ix_attendance_summary_child_id', table_name='attendance_summary')
    op.drop_table('attendance_summary')
