"""keyed audit chains that grow in parallel; lead professional status granted, not claimed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 20:30:00

Both audit trails get a `chain` column (the index's also a `seq`): entries are split into
chains that grow in parallel (guide/audit_chain.py), numbered within their chain, and their
heads kept in `audit_heads`. Entries already written keep their old unkeyed hashes and are put
in chain -1 (in the order they were chained); `flask --app guide audit rekey` checks them and
keys them with the audit key (which the database never holds, so a migration cannot), and
records when it did. Until then `verify` says the old entries are not keyed yet.

Names are normalised anew for look-ups (guide/index/names.py: any letters, NFKC, case folded,
apostrophes and hyphens of every kind left out), so every child's identity blind index is
recomputed from its decrypted names: a child recorded as "Zoë" was keyed "zo" and is now keyed
"zoë" (ASCII names keep the key they had). That needs the encryption keys when the index holds
children: migrate through the app (`flask --app guide init-db`).

Contacts copied from the index into a decision record being written are kept in
`index_contacts_drafts` (encrypted), no longer in the session cookie.

An index involvement's lead professional status now counts only when someone entitled granted
it: `lead_granted_by` and `lead_granted_at`. Ticks made before are kept as claims, not grants.
"""
import sqlalchemy as sa
from alembic import context, op

from guide.key_rotation import encrypt_plaintext_rows

NAMES = {'family_name': 'index_children.family_name', 'given_name': 'index_children.given_name',
         'dob': 'index_children.dob'}

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_heads',
                    sa.Column('trail', sa.String(length=16), nullable=False),
                    sa.Column('chain', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('seq', sa.Integer(), nullable=False),
                    sa.Column('hash', sa.String(length=64), nullable=False),
                    sa.PrimaryKeyConstraint('trail', 'chain'))
    op.create_table('index_contacts_drafts',
                    sa.Column('walk_id', sa.String(length=32), nullable=False),
                    sa.Column('contacts', sa.Text(), nullable=False),
                    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['walk_id'], ['walks.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('walk_id'))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.Integer(), nullable=True))
        batch_op.drop_constraint('uq_audit_events_seq', type_='unique')
        batch_op.create_unique_constraint('uq_audit_events_chain_seq', ['chain', 'seq'])
    with op.batch_alter_table('index_audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_index_audit_chain_seq', ['chain', 'seq'])
    with op.batch_alter_table('index_involvements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_granted_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lead_granted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_index_involvements_lead_granted_by', 'users', ['lead_granted_by'], ['id'])

    # The entries chained before: chain -1, numbered in the order they were chained.
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE audit_events SET chain = -1 WHERE seq IS NOT NULL"))
    # Events from before the hash chain (0005) that were never sealed follow, in id order, unhashed:
    # `audit rekey` keys them with the rest and records how many there were.
    last = connection.execute(sa.text("SELECT max(seq) FROM audit_events")).scalar() or 0
    unsealed = connection.execute(sa.text("SELECT id FROM audit_events WHERE seq IS NULL ORDER BY id")).scalars().all()
    for seq, event_id in enumerate(unsealed, start=last + 1):
        connection.execute(sa.text("UPDATE audit_events SET chain = -1, seq = :seq WHERE id = :id"),
                           {"seq": seq, "id": event_id})
    ids = connection.execute(sa.text("SELECT id FROM index_audit ORDER BY id")).scalars().all()
    for seq, entry_id in enumerate(ids, start=1):
        connection.execute(sa.text("UPDATE index_audit SET chain = -1, seq = :seq WHERE id = :id"),
                           {"seq": seq, "id": entry_id})
    # Every child's identity blind index under the new name rule (values already encrypted are
    # decrypted, and only their blind index recomputed).
    encrypt_plaintext_rows(connection, context.config.attributes.get('keyring'), 'index_children', 'id',
                           NAMES, {'identity_key': (('family_name', 'given_name', 'dob'), 'identity')})


def downgrade() -> None:
    with op.batch_alter_table('index_involvements', schema=None) as batch_op:
        batch_op.drop_constraint('fk_index_involvements_lead_granted_by', type_='foreignkey')
        batch_op.drop_column('lead_granted_at')
        batch_op.drop_column('lead_granted_by')
    with op.batch_alter_table('index_audit', schema=None) as batch_op:
        batch_op.drop_constraint('uq_index_audit_chain_seq', type_='unique')
        batch_op.drop_column('seq')
        batch_op.drop_column('chain')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_events_chain_seq', type_='unique')
        batch_op.create_unique_constraint('uq_audit_events_seq', ['seq'])
        batch_op.drop_column('chain')
    op.drop_table('audit_heads')
    op.drop_table('index_contacts_drafts')
