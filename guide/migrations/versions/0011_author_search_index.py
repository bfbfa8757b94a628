"""the author filter's index: blind indexes of the beginnings of users' name and email words

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 20:30:00

A records officer's "Practitioner" filter decrypted every user they could see to match part of a
name. `user_search_keys` holds, per user, a keyed hash of each beginning of each word of their name
and email (guide/accounts/author_search.py), so the filter is an indexed look-up. Existing users
are indexed here with the app's keys (migrate through the app: `flask --app guide init-db`).
"""
import sqlalchemy as sa
from alembic import context, op

from guide.accounts.author_search import keys_for
from guide.key_rotation import require_keyring

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_search_keys',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'key')
    )
    op.create_index('ix_user_search_keys_key', 'user_search_keys', ['key'], unique=False)
    connection = op.get_bind()
    keyring = context.config.attributes.get("keyring")
    require_keyring(connection, keyring, ['users'])
    users = sa.table('users', sa.column('id'), sa.column('name'), sa.column('email'))
    keys = sa.table('user_search_keys', sa.column('user_id'), sa.column('key'))
    for user_id, name, email in connection.execute(sa.select(users.c.id, users.c.name, users.c.email)).all():
        plain = [keyring.decrypt(value, context_).decode() if str(value).startswith("g1.") else value
                 for value, context_ in ((name, "users.name"), (email, "users.email"))]
        rows = [{"user_id": user_id, "key": key} for key in keys_for(keyring, *plain)]
        if rows:
            connection.execute(sa.insert(keys), rows)


def downgrade() -> None:
    op.drop_index('ix_user_search_keys_key', table_name='user_search_keys')
    op.drop_table('user_search_keys')
