"""placement_notices: when the area authority, the school and the IRO were told of a placement

The Care Planning, Placement and Case Review (England) Regulations 2010, reg. 13: the notices of a
placement decision (the child's school or education provider and the independent reviewing officer,
reg. 13(2)(h),(i); the area authority of an out-of-area placement, reg. 13(4)), recorded by the
placement move (casework/processes/placement_move.py) on the placement it records.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

COLUMNS = ('area_notified_on', 'school_notified_on', 'iro_notified_on')


def upgrade() -> None:
    with op.batch_alter_table('placement') as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('placement') as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
