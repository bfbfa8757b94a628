"""server-side sessions, sign-in throttles, expiring tokens, live-session joins

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:20:00

- user_sessions: a signed-in session kept on the server (the cookie holds only a random id).
- throttle_buckets: attempts per account and per address (keyed hashes), shared by every process.
- api_tokens.expires_at / revoked_at: tokens expire and record when they were revoked.
- participants.joined_step / joined_during_vote / last_seen_at: a re-join gives no second vote,
  and only participants seen lately fill a room's places.
"""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=32), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('throttle_buckets',
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.Float(), nullable=False),
    sa.Column('blocked_until', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    # Tokens issued before tokens expired get 90 days from now, not forever.
    tokens = sa.table('api_tokens', sa.column('expires_at', sa.DateTime(timezone=True)))
    op.execute(tokens.update().where(tokens.c.expires_at.is_(None))
               .values(expires_at=datetime.now(timezone.utc) + timedelta(days=90)))

    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_step', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('joined_during_vote', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')
        batch_op.drop_column('joined_during_vote')
        batch_op.drop_column('joined_step')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('expires_at')
    op.drop_table('throttle_buckets')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
