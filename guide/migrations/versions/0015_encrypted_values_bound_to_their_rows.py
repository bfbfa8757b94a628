"""encrypted values bound to their rows as well as their columns

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 23:20:00

Until now each encrypted value (`g1.…`) was bound to its column only, so someone who can write
to the database could swap two rows' values (two children's decision records: body, reference and
CSV line) and the app showed one child's record under the other's id. Every value is now sealed
with its row's primary key in the associated data as well (`g2.…`, guide/crypto.py), so a value
moved to another row no longer opens. This re-encrypts every value of every encrypted column in
place, in primary key order and in batches; it needs the encryption keys when there are rows:
migrate through the app (`flask --app guide init-db`). The app refuses `g1.` values from now on.
"""
from alembic import context, op

from guide.key_rotation import rebind_rows, require_keyring

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# table: (primary key columns, encrypted columns); each column's encryption context is "table.column".
ENCRYPTED = {
    'users': (['id'], ['email', 'name', 'job_title']),
    'walks': (['id'], ['answers', 'subject_ref']),
    'decision_records': (['id'], ['subject_ref', 'body', 'correction_reason', 'csv_row']),
    'audit_events': (['id'], ['detail']),
    'chat_messages': (['id'], ['text', 'data']),
    'participants': (['id'], ['display_name']),
    'index_children': (['id'], ['upn', 'family_name', 'given_name', 'dob', 'gender', 'address', 'postcode',
                                'carer_name', 'carer_contact', 'school', 'gp_practice', 'health_visitor']),
    'index_involvements': (['id'], ['practitioner_name', 'job_title', 'organisation', 'contact', 'justification']),
    'index_changes': (['id'], ['change']),
    'index_audit': (['id'], ['reason_text', 'detail']),
    'export_jobs': (['id'], ['filters']),
    'export_chunks': (['job_id', 'seq'], ['data']),
    'advice_requests': (['id'], ['subject_ref']),
    'advice_messages': (['id'], ['text', 'suggestion', 'author_snapshot']),
    'record_signoffs': (['id'], ['signer', 'note']),
    'user_sessions': (['id_hash'], ['data']),
    'index_contacts_drafts': (['walk_id'], ['contacts']),
}


def _rebind(to_rows: bool) -> None:
    connection, keyring = op.get_bind(), context.config.attributes.get('keyring')
    require_keyring(connection, keyring, ENCRYPTED)
    for table, (key, columns) in ENCRYPTED.items():
        rebind_rows(connection, keyring, table, key, {name: f'{table}.{name}' for name in columns}, to_rows=to_rows)


def upgrade() -> None:
    _rebind(to_rows=True)


def downgrade() -> None:
    _rebind(to_rows=False)
