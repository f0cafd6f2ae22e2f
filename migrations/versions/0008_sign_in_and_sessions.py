"""sign_in_throttle: failed sign-ins counted per account, address and trusted browser; user_session: server-side sessions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sign_in_throttle',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('lockouts', sa.Integer(), nullable=False),
        sa.Column('first_failed_at', engine.models.UTCDateTime(), nullable=True),
        sa.Column('last_failed_at', engine.models.UTCDateTime(), nullable=True),
        sa.Column('locked_until', engine.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'key', name='uq_sign_in_throttle_key'),
    )
    op.create_index('ix_sign_in_throttle_last_failed', 'sign_in_throttle', ['last_failed_at'])
    op.create_table(
        'user_session',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('last_seen_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('expires_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('revoked_at', engine.models.UTCDateTime(), nullable=True),
        sa.Column('ended_because', sa.String(length=20), nullable=True),
        sa.Column('address', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_user_session_token', 'user_session', ['token_hash'], unique=True)
    op.create_index('ix_user_session_user', 'user_session', ['user_id', 'revoked_at'])


def downgrade() -> None:
    op.drop_index('ix_user_session_user', table_name='user_session')
    op.drop_index('ix_user_session_token', table_name='user_session')
    op.drop_table('user_session')
    op.drop_index('ix_sign_in_throttle_last_failed', table_name='sign_in_throttle')
    op.drop_table('sign_in_throttle')
