"""encryption at rest: personal details and free text encrypted, blind indexes for look-ups

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:10:00

Rows already in the database are encrypted in place with the app's keys (so migrate through
the app: `flask --app guide init-db`); an empty database needs no keys.
"""
import sqlalchemy as sa
from alembic import context, op
from guide.key_rotation import (
    decrypt_to_plaintext_rows,
    encrypt_plaintext_rows,
    require_keyring,
)

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# table: (primary key, {column: (type before, encryption context)})
ENCRYPTED = {
    'users': ('id', {'email': (sa.String(254), 'users.email'), 'name': (sa.String(200), 'users.name'),
                     'job_title': (sa.String(200), 'users.job_title')}),
    'walks': ('id', {'answers': (sa.JSON(), 'walks.answers')}),
    'decision_records': ('id', {'subject_ref': (sa.String(100), 'decision_records.subject_ref'),
                                'body': (sa.JSON(), 'decision_records.body'),
                                'correction_reason': (sa.Text(), 'decision_records.correction_reason')}),
    'audit_events': ('id', {'detail': (sa.JSON(), 'audit_events.detail')}),
    'chat_messages': ('id', {'text': (sa.Text(), 'chat_messages.text'), 'data': (sa.JSON(), 'chat_messages.data')}),
    'participants': ('id', {'display_name': (sa.String(60), 'participants.display_name')}),
}


def _keyring():
    return context.config.attributes.get('keyring')


def upgrade() -> None:
    require_keyring(op.get_bind(), _keyring(), ENCRYPTED)
    # The audit chain's order becomes its own column (ids are not commit order on PostgreSQL);
    # events already sealed keep the order they were chained in, which was by id.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
    op.execute("UPDATE audit_events SET seq = id WHERE hash IS NOT NULL")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_audit_events_seq', ['seq'])
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_email')
        batch_op.add_column(sa.Column('email_key', sa.String(length=64), nullable=True))
    with op.batch_alter_table('decision_records', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_records_subject_ref')
        batch_op.add_column(sa.Column('subject_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('csv_row', sa.Text(), nullable=True))
    for table, (_, columns) in ENCRYPTED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, (before, _) in columns.items():
                if not isinstance(before, sa.Text):
                    batch_op.alter_column(name, existing_type=before, type_=sa.Text(), postgresql_using=f'{name}::text')

    connection, keyring = op.get_bind(), _keyring()
    blind = {'users': {'email_key': (('email',), 'email')},
             'decision_records': {'subject_key': (('subject_ref',), 'reference')}}
    for table, (key, columns) in ENCRYPTED.items():
        encrypt_plaintext_rows(connection, keyring, table, key, {name: ctx for name, (_, ctx) in columns.items()},
                               blind.get(table))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('email_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('ix_users_email_key', ['email_key'], unique=True)
    with op.batch_alter_table('decision_records', schema=None) as batch_op:
        batch_op.alter_column('subject_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('ix_decision_records_subject_key', ['subject_key'], unique=False)
        batch_op.create_index('ix_decision_records_agency_created', ['agency', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    connection, keyring = op.get_bind(), _keyring()
    require_keyring(connection, keyring, ENCRYPTED)
    for table, (key, columns) in ENCRYPTED.items():
        decrypt_to_plaintext_rows(connection, keyring, table, key, {name: ctx for name, (_, ctx) in columns.items()})
    for table, (_, columns) in ENCRYPTED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, (before, _) in columns.items():
                if not isinstance(before, sa.Text):
                    using = f'{name}::json' if isinstance(before, sa.JSON) else None
                    batch_op.alter_column(name, existing_type=sa.Text(), type_=before, postgresql_using=using)
    with op.batch_alter_table('decision_records', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_records_subject_key')
        batch_op.drop_index('ix_decision_records_agency_created')
        batch_op.drop_column('csv_row')
        batch_op.drop_column('subject_key')
        batch_op.create_index('ix_decision_records_subject_ref', ['subject_ref'], unique=False)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_events_seq', type_='unique')
        batch_op.drop_column('seq')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_email_key')
        batch_op.drop_column('email_key')
        batch_op.create_index('ix_users_email', ['email'], unique=True)
