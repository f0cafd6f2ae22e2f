"""operator indexes: counts per element of a process, and incidents of two kinds (timer, step)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02

The operator's view (docs/operations.md) counts the cases waiting at each element of a process:
open human tasks by (process_id, state, element_id), an index-only scan; waiting timers and messages
by element (an element only one process has needs no join), else joined to the running instances of a
process or version on indexes of their own. An incident now has
a ``kind``: ``timer`` (the pump's, as before: every existing row) or ``step`` (a person's step that
failed), with who was completing which task; an instance has at most one incident of each kind.
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_task_process_state_element', 'human_task', ['process_id', 'state', 'element_id'])
    op.create_index('ix_timer_state_element_instance', 'waiting_timer', ['state', 'element_id', 'instance_id'])
    op.create_index('ix_message_wait_element', 'waiting_message', ['boundary', 'element_id', 'instance_id'])
    op.create_index('ix_instance_process_status_definition', 'process_instance',
                    ['process_id', 'status', 'definition_id', 'id'])
    with op.batch_alter_table('incident') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=10), nullable=False, server_default='timer'))
        batch.add_column(sa.Column('actor', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('task_id', sa.String(length=36), nullable=True))
        batch.drop_constraint('uq_incident_instance', type_='unique')
        batch.create_unique_constraint('uq_incident_instance_kind', ['instance_id', 'kind'])
    op.create_index('ix_incident_process_status_element', 'incident', ['process_id', 'status', 'element_id'])


def downgrade() -> None:
    op.drop_index('ix_incident_process_status_element', table_name='incident')
    op.execute("DELETE FROM incident WHERE kind = 'step'")
    with op.batch_alter_table('incident') as batch:
        batch.drop_constraint('uq_incident_instance_kind', type_='unique')
        batch.create_unique_constraint('uq_incident_instance', ['instance_id'])
        batch.drop_column('task_id')
        batch.drop_column('actor')
        batch.drop_column('kind')
    op.drop_index('ix_instance_process_status_definition', table_name='process_instance')
    op.drop_index('ix_message_wait_element', table_name='waiting_message')
    op.drop_index('ix_timer_state_element_instance', table_name='waiting_timer')
    op.drop_index('ix_task_process_state_element', table_name='human_task')
