"""staff accounts: a password that must be changed at first sign-in, and single-use invitations

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import engine.models

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('app_user', sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.create_table(
        'staff_invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('expires_at', engine.models.UTCDateTime(), nullable=False),
        sa.Column('used_at', engine.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_staff_invitation_token', 'staff_invitation', ['token_hash'], unique=True)
    op.create_index('ix_staff_invitation_user', 'staff_invitation', ['user_id', 'used_at'])


def downgrade() -> None:
    op.drop_index('ix_staff_invitation_user', table_name='staff_invitation')
    op.drop_index('ix_staff_invitation_token', table_name='staff_invitation')
    op.drop_table('staff_invitation')
    op.drop_column('app_user', 'must_change_password')
