"""work queue indexes: open tasks in due or created order, and of one process (casework/work_queue.py)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02

The team view walks every open task a manager reads, in the page's order, and stops after a page; the
process filter walks one process's open tasks the same way (docs/work-queues.md, "How it is built").
"""
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

NEW = {
    'ix_task_state_due': ('human_task', ['state', 'due_at', 'created_at', 'id']),
    'ix_task_state_process_due': ('human_task', ['state', 'process_id', 'due_at', 'created_at', 'id']),
    'ix_task_state_created': ('human_task', ['state', 'created_at', 'id']),
}


def upgrade() -> None:
    for name, (table, columns) in NEW.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, (table, _columns) in NEW.items():
        op.drop_index(name, table_name=table)
