"""childrens index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:19:56.428937
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('index_children',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('upn', sa.String(length=16), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_key', sa.String(length=100), nullable=False),
    sa.Column('given_key', sa.String(length=100), nullable=False),
    sa.Column('dob', sa.Date(), nullable=False),
    sa.Column('gender', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('carer_name', sa.String(length=200), nullable=False),
    sa.Column('carer_contact', sa.String(length=200), nullable=False),
    sa.Column('school', sa.String(length=200), nullable=False),
    sa.Column('gp_practice', sa.String(length=200), nullable=False),
    sa.Column('health_visitor', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('upn')
    )
    with op.batch_alter_table('index_children', schema=None) as batch_op:
        batch_op.create_index('ix_index_children_name_dob', ['family_key', 'dob', 'given_key'], unique=False)

    op.create_table('index_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('reason_text', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prev_hash')
    )
    with op.batch_alter_table('index_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_audit_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_index_audit_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_index_audit_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_index_audit_user_action_at', ['user_id', 'action', 'at'], unique=False)

    op.create_table('index_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('change', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['index_children.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('index_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_changes_child_id'), ['child_id'], unique=False)

    op.create_table('index_involvements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('practitioner_name', sa.String(length=200), nullable=False),
    sa.Column('job_title', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('lead_professional', sa.Boolean(), nullable=False),
    sa.Column('consent', sa.String(length=16), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('named_categories', sa.JSON(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['index_children.id'], ),
    sa.ForeignKeyConstraint(['practitioner_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('index_involvements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_involvements_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_index_involvements_practitioner_id'), ['practitioner_id'], unique=False)

    op.create_table('index_concerns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('involvement_id', sa.Integer(), nullable=False),
    sa.Column('raised_by', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['index_children.id'], ),
    sa.ForeignKeyConstraint(['involvement_id'], ['index_involvements.id'], ),
    sa.ForeignKeyConstraint(['raised_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('index_concerns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_concerns_child_id'), ['child_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('index_designation', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('service_category', sa.String(length=64), nullable=False, server_default=''))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('service_category')
        batch_op.drop_column('index_designation')

    with op.batch_alter_table('index_concerns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_concerns_child_id'))

    op.drop_table('index_concerns')
    with op.batch_alter_table('index_involvements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_involvements_practitioner_id'))
        batch_op.drop_index(batch_op.f('ix_index_involvements_child_id'))

    op.drop_table('index_involvements')
    with op.batch_alter_table('index_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_changes_child_id'))

    op.drop_table('index_changes')
    with op.batch_alter_table('index_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_index_audit_user_action_at')
        batch_op.drop_index(batch_op.f('ix_index_audit_user_id'))
        batch_op.drop_index(batch_op.f('ix_index_audit_child_id'))
        batch_op.drop_index(batch_op.f('ix_index_audit_at'))

    op.drop_table('index_audit')
    with op.batch_alter_table('index_children', schema=None) as batch_op:
        batch_op.drop_index('ix_index_children_name_dob')

    op.drop_table('index_children')
