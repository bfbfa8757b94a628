"""a walk may carry the practitioner's reference for the child, encrypted

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:40:00

The reference is optional, given on the flowchart's start page. It tells unfinished walks apart
on the home page ("carry on where you left off") and is filled into the decision record.
Encrypted like every other reference (Text holding `g1.` values); new rows only, so no keys
are needed to migrate.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('walks') as batch:
        batch.add_column(sa.Column('subject_ref', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('walks') as batch:
        batch.drop_column('subject_ref')
