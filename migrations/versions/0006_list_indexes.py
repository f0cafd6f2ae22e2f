"""indexes that match each list's filter and order (inbox, case list, escalations, notifications);
unrecorded_key: business keys with work but no child record, reached by role

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

WIDER = {  # name -> (table, columns before, columns after)
    'ix_task_role_state_due': ('human_task', ['role', 'state', 'due_at'], ['role', 'state', 'due_at', 'created_at', 'id']),
    'ix_task_assignee_state': ('human_task', ['assignee', 'state'], ['assignee', 'state', 'due_at', 'created_at', 'id']),
}
NEW = {
    'ix_child_la_name': ('child', ['la_code', 'last_name', 'ref']),
    'ix_app_user_la_code': ('app_user', ['la_code']),
    'ix_app_user_school_urn': ('app_user', ['school_urn']),
    'ix_escalation_state_since': ('escalation', ['state', 'since', 'id']),
    'ix_outbox_state_created': ('outbox_message', ['state', 'created_at', 'id']),
    'ix_in_app_username_created': ('in_app_message', ['username', 'created_at', 'id']),
}


def upgrade() -> None:
    op.create_table(
        'unrecorded_key',
        sa.Column('business_key', sa.String(length=100), nullable=False),
        sa.Column('first_seen_at', engine.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('business_key'),
    )
    for name, (table, _before, after) in WIDER.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, after, unique=False)
    for name, (table, columns) in NEW.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    op.drop_table('unrecorded_key')
    for name, (table, _columns) in NEW.items():
        op.drop_index(name, table_name=table)
    for name, (table, before, _after) in WIDER.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, before, unique=False)
