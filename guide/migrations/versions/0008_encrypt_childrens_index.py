"""encrypt the children's index: identities, practitioners' details, changes and the audit's words

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:30:00

The children's identifying details, the practitioners' names and contacts, the history of
changes and the audit trail's reasons and details become encrypted (Text, `g1.` values). The
clear look-up keys (family_key, given_key and their index with the date of birth, the unique
constraint on the unique number) give way to blind indexes: upn_key (unique) and identity_key
(both names + date of birth), computed with the rules in guide/index/names.py.

Rows already in the database are encrypted in place with the app's keys (so migrate through
the app: `flask --app guide init-db`); an empty database needs no keys. The audit trail's hashes
cover the plaintext, so the chain stays intact.
"""
import sqlalchemy as sa
from alembic import context, op
from guide.key_rotation import (
    decrypt_to_plaintext_rows,
    encrypt_plaintext_rows,
    require_keyring,
)

from guide.index.names import name_key

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# table: {column: (type before, encryption context)}; every table's key is `id`.
ENCRYPTED = {
    'index_children': {
        'upn': (sa.String(16), 'index_children.upn'),
        'family_name': (sa.String(100), 'index_children.family_name'),
        'given_name': (sa.String(100), 'index_children.given_name'),
        'dob': (sa.Date(), 'index_children.dob'),
        'gender': (sa.String(20), 'index_children.gender'),
        'address': (sa.String(300), 'index_children.address'),
        'postcode': (sa.String(10), 'index_children.postcode'),
        'carer_name': (sa.String(200), 'index_children.carer_name'),
        'carer_contact': (sa.String(200), 'index_children.carer_contact'),
        'school': (sa.String(200), 'index_children.school'),
        'gp_practice': (sa.String(200), 'index_children.gp_practice'),
        'health_visitor': (sa.String(200), 'index_children.health_visitor'),
    },
    'index_involvements': {
        'practitioner_name': (sa.String(200), 'index_involvements.practitioner_name'),
        'job_title': (sa.String(200), 'index_involvements.job_title'),
        'organisation': (sa.String(200), 'index_involvements.organisation'),
        'contact': (sa.String(200), 'index_involvements.contact'),
        'justification': (sa.Text(), 'index_involvements.justification'),
    },
    'index_changes': {'change': (sa.JSON(), 'index_changes.change')},
    'index_audit': {'reason_text': (sa.Text(), 'index_audit.reason_text'),
                    'detail': (sa.JSON(), 'index_audit.detail')},
}
BLIND = {'index_children': {'upn_key': (('upn',), 'upn'),
                            'identity_key': (('family_name', 'given_name', 'dob'), 'identity')}}
# The unique constraint on the number was made without a name (0004): PostgreSQL calls it this;
# on SQLite the batch's naming convention names it UPN_UNIQUE_SQLITE so it can be dropped.
UPN_UNIQUE_POSTGRES = 'index_children_upn_key'
UPN_UNIQUE_SQLITE = 'uq_index_children_upn'
NAMING = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}


def _keyring():
    return context.config.attributes.get('keyring')


def _upn_unique_name(connection) -> str | None:
    for constraint in sa.inspect(connection).get_unique_constraints('index_children'):
        if constraint['column_names'] == ['upn']:
            return constraint['name'] or UPN_UNIQUE_SQLITE
    return None


def _to_text(batch_op, columns) -> None:
    for name, (before, _) in columns.items():
        if not isinstance(before, sa.Text):
            batch_op.alter_column(name, existing_type=before, type_=sa.Text(), existing_nullable=False,
                                  postgresql_using=f'"{name}"::text')


def upgrade() -> None:
    connection, keyring = op.get_bind(), _keyring()
    require_keyring(connection, keyring, ENCRYPTED)
    upn_unique = _upn_unique_name(connection)
    with op.batch_alter_table('index_children', schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_index('ix_index_children_name_dob')
        if upn_unique:
            batch_op.drop_constraint(upn_unique, type_='unique')
        batch_op.drop_column('family_key')
        batch_op.drop_column('given_key')
        batch_op.add_column(sa.Column('upn_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('identity_key', sa.String(length=64), nullable=True))
        _to_text(batch_op, ENCRYPTED['index_children'])
    for table in ('index_involvements', 'index_changes', 'index_audit'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            _to_text(batch_op, ENCRYPTED[table])

    for table, columns in ENCRYPTED.items():
        encrypt_plaintext_rows(connection, keyring, table, 'id', {name: ctx for name, (_, ctx) in columns.items()},
                               BLIND.get(table))

    with op.batch_alter_table('index_children', schema=None) as batch_op:
        batch_op.alter_column('upn_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('identity_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('ix_index_children_upn_key', ['upn_key'], unique=True)
        batch_op.create_index('ix_index_children_identity_key', ['identity_key'], unique=False)


def downgrade() -> None:
    connection, keyring = op.get_bind(), _keyring()
    require_keyring(connection, keyring, ENCRYPTED)
    for table, columns in ENCRYPTED.items():
        decrypt_to_plaintext_rows(connection, keyring, table, 'id', {name: ctx for name, (_, ctx) in columns.items()})

    with op.batch_alter_table('index_children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('given_key', sa.String(length=100), nullable=True))
    children = sa.table('index_children', sa.column('id'), sa.column('family_name'), sa.column('given_name'),
                        sa.column('family_key'), sa.column('given_key'))
    rows = connection.execute(sa.select(children.c.id, children.c.family_name, children.c.given_name)).all()
    if rows:
        connection.execute(children.update().where(children.c.id == sa.bindparam('row_id'))
                           .values(family_key=sa.bindparam('new_family'), given_key=sa.bindparam('new_given')),
                           [{'row_id': id_, 'new_family': name_key(family), 'new_given': name_key(given)}
                            for id_, family, given in rows])

    for table in ('index_audit', 'index_changes', 'index_involvements'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, (before, _) in ENCRYPTED[table].items():
                if not isinstance(before, sa.Text):
                    using = f'"{name}"::json' if isinstance(before, sa.JSON) else None
                    batch_op.alter_column(name, existing_type=sa.Text(), type_=before, existing_nullable=False,
                                          postgresql_using=using)
    sqlite = connection.dialect.name == 'sqlite'
    if sqlite:
        # SQLite's batch copy would CAST the text to DATE, which keeps only the year: copy it as it is.
        with op.batch_alter_table('index_children', schema=None) as batch_op:
            batch_op.add_column(sa.Column('dob_date', sa.Date(), nullable=True))
        connection.execute(sa.text('UPDATE index_children SET dob_date = dob'))
    with op.batch_alter_table('index_children', schema=None) as batch_op:
        batch_op.drop_index('ix_index_children_identity_key')
        batch_op.drop_index('ix_index_children_upn_key')
        batch_op.drop_column('identity_key')
        batch_op.drop_column('upn_key')
        for name, (before, _) in ENCRYPTED['index_children'].items():
            if isinstance(before, sa.Date):
                if sqlite:
                    batch_op.drop_column(name)  # dob_date takes its name below
                else:
                    batch_op.alter_column(name, existing_type=sa.Text(), type_=before, existing_nullable=False,
                                          postgresql_using=f'"{name}"::date')
                continue
            batch_op.alter_column(name, existing_type=sa.Text(), type_=before, existing_nullable=False)
        batch_op.alter_column('family_key', existing_type=sa.String(length=100), nullable=False)
        batch_op.alter_column('given_key', existing_type=sa.String(length=100), nullable=False)
        batch_op.create_unique_constraint(UPN_UNIQUE_POSTGRES, ['upn'])
    if sqlite:
        with op.batch_alter_table('index_children', schema=None) as batch_op:
            batch_op.alter_column('dob_date', new_column_name='dob', existing_type=sa.Date(), nullable=False)
    with op.batch_alter_table('index_children', schema=None) as batch_op:
        batch_op.create_index('ix_index_children_name_dob', ['family_key', 'dob', 'given_key'], unique=False)
