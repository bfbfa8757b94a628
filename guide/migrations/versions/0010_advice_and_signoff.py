"""advice and sign-off: advisers, advice requests and their messages, record countersignatures

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:10:00

New tables only, and two columns on users (adviser_role, newly_qualified) with defaults, so
no row needs rewriting. Free text, the child's reference and who signed are encrypted (Text).
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adviser_role', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('newly_qualified', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        'advice_requests',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('walk_id', sa.String(length=32), nullable=False),
        sa.Column('practitioner_id', sa.Integer(), nullable=False),
        sa.Column('adviser_id', sa.Integer(), nullable=False),
        sa.Column('agency', sa.String(length=200), nullable=False),
        sa.Column('question_id', sa.String(length=64), nullable=False),
        sa.Column('named', sa.Boolean(), nullable=False),
        sa.Column('subject_ref', sa.Text(), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('unread_by_practitioner', sa.Boolean(), nullable=False),
        sa.Column('overdue_flagged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['walk_id'], ['walks.id']),
        sa.ForeignKeyConstraint(['practitioner_id'], ['users.id']),
        sa.ForeignKeyConstraint(['adviser_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_advice_requests_walk_id', 'advice_requests', ['walk_id'])
    op.create_index('ix_advice_requests_practitioner_id', 'advice_requests', ['practitioner_id'])
    op.create_index('ix_advice_requests_adviser_id', 'advice_requests', ['adviser_id'])
    op.create_index('ix_advice_requests_agency_state', 'advice_requests', ['agency', 'state'])

    op.create_table(
        'advice_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('suggestion', sa.Text(), nullable=True),
        sa.Column('author_snapshot', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['advice_requests.id']),
        sa.ForeignKeyConstraint(['author_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_advice_messages_request_id', 'advice_messages', ['request_id'])

    op.create_table(
        'record_signoffs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.String(length=32), nullable=False),
        sa.Column('agency', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('rule', sa.String(length=200), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.Column('signer', sa.Text(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['decision_records.id']),
        sa.ForeignKeyConstraint(['by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('record_id', 'state'),
    )
    op.create_index('ix_record_signoffs_record_id', 'record_signoffs', ['record_id'])
    op.create_index('ix_record_signoffs_agency', 'record_signoffs', ['agency'])


def downgrade() -> None:
    op.drop_table('record_signoffs')
    op.drop_table('advice_messages')
    op.drop_table('advice_requests')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('newly_qualified')
        batch_op.drop_column('adviser_role')
