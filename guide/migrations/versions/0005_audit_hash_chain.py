"""audit hash chain

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:48:39.500416
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_audit_events_prev_hash', ['prev_hash'])



def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_events_prev_hash', type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')

