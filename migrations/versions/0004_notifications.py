"""notifications: outbox_message, in_app_message, notification_preference

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import engine.models


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_AT = engine.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('outbox_message',
    sa.Column('id', _ID, nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('dedupe_key', sa.String(length=400), nullable=True),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('recipient_username', sa.String(length=100), nullable=False),
    sa.Column('recipient_email', sa.String(length=254), nullable=False),
    sa.Column('recipient_name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=1000), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', _AT, nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', _AT, nullable=False),
    sa.Column('sent_at', _AT, nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_state_next_attempt', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_recipient_state', ['recipient_username', 'state'], unique=False)

    op.create_table('in_app_message',
    sa.Column('id', _ID, nullable=False),
    sa.Column('dedupe_key', sa.String(length=400), nullable=True),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=1000), nullable=False),
    sa.Column('created_at', _AT, nullable=False),
    sa.Column('read_at', _AT, nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('in_app_message', schema=None) as batch_op:
        batch_op.create_index('ix_in_app_username_read', ['username', 'read_at'], unique=False)

    op.create_table('notification_preference',
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('email_mode', sa.String(length=20), nullable=False),
    sa.Column('digest_hour', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('username')
    )


def downgrade() -> None:
    op.drop_table('notification_preference')
    with op.batch_alter_table('in_app_message', schema=None) as batch_op:
        batch_op.drop_index('ix_in_app_username_read')
    op.drop_table('in_app_message')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_recipient_state')
        batch_op.drop_index('ix_outbox_state_next_attempt')
    op.drop_table('outbox_message')
