"""Moving encrypted data between keys: encrypting plaintext rows (migrations) and key rotation.

Rotation, step by step (README, "Encryption keys"): put a new key first in
GUIDE_ENCRYPTION_KEYS, keeping the old one after it, and restart — new values use the new
key, old ones still open. `flask --app guide keys rotate` then re-encrypts every value still
under an older key, and recomputes the blind indexes, in batches that each commit; it can be
stopped and run again. When `keys status` shows nothing left under the old key, remove it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy import Text, select, type_coerce, update
from sqlalchemy.engine import Connection, Engine

from .crypto import (
    NORMALISERS,
    PREFIX,
    ROW_PREFIX,
    Encrypted,
    KeyRing,
    RowBound,
    UndecryptableValue,
    blind_index_columns,
    row_key,
    with_row_key,
)

BATCH = 500


def encrypted_tables(metadata: sa.MetaData) -> Iterator[tuple[sa.Table, list[sa.Column], list[sa.Column]]]:
    """Every table with encrypted columns: (table, encrypted columns, blind index columns)."""
    for table in metadata.sorted_tables:
        encrypted = [column for column in table.columns if isinstance(column.type, Encrypted)]
        if encrypted:
            yield table, encrypted, blind_index_columns(table)


def status(engine: Engine, metadata: sa.MetaData) -> dict[str, Counter]:
    """For each encrypted column, how many values are under each key id."""
    counts: dict[str, Counter] = {}
    with engine.connect() as connection:
        for table, encrypted, _ in encrypted_tables(metadata):
            for column in encrypted:
                tally = counts.setdefault(f"{table.name}.{column.name}", Counter())
                for (token,) in connection.execute(select(type_coerce(column, Text)).where(column.is_not(None))):
                    tally[token.split(".", 2)[1] if token.startswith(f"{ROW_PREFIX}.")
                          else "unbound (before migration 0015)" if token.startswith(f"{PREFIX}.") else "plaintext"] += 1
    return counts


def rotate(engine: Engine, metadata: sa.MetaData, keyring: KeyRing,
           progress: Callable[[str, int], None] = lambda table, done: None) -> int:
    """Re-encrypt every value not under the newest key, and recompute blind indexes. Returns rows changed."""
    changed = 0
    for table, encrypted, blind in encrypted_tables(metadata):
        done = 0
        stale = sa.or_(*[sa.and_(column.is_not(None), ~type_coerce(column, Text).startswith(f"{ROW_PREFIX}.{keyring.primary_id}."))
                         for column in encrypted])
        # Walk the table once in primary-key order, each batch starting after the last row seen
        # (no index finds stale values, so starting from the top each time rescans every row
        # already rotated: quadratic in the table's size).
        key = table.primary_key.columns
        in_order = select(table).where(stale).order_by(*key).limit(BATCH)
        last = None
        while True:
            with engine.begin() as connection:
                # Read through the column types (any key in the ring opens them), write back the same
                # values: the types encrypt under the newest key.
                query = in_order if last is None else in_order.where(sa.tuple_(*key) > sa.tuple_(*last))
                rows = connection.execute(query).all()
                # One executemany per set of columns written (a blind index is written only when
                # every value it is made of is there).
                updates: dict[tuple[str, ...], list[dict]] = {}
                for row in rows:
                    # Written back bound to the same row it was read from (its key, as the database gave it).
                    row_text = row_key(row._mapping[column.name] for column in key)
                    values = {column.name: RowBound(row._mapping[column.name], row_text) for column in encrypted}
                    for column in blind:
                        sources = [row._mapping[name] for name in column.info["blind_index_of"]]
                        if all(source is not None for source in sources):
                            normalised = NORMALISERS[column.info["normalise"]](*[str(s) for s in sources])
                            values[column.name] = keyring.blind_index(normalised)
                    updates.setdefault(tuple(sorted(values)), []).append(
                        {**{f"key_{column.name}": row._mapping[column.name] for column in key},
                         **{f"new_{name}": value for name, value in values.items()}})
                for names, params in updates.items():
                    connection.execute(
                        update(table).where(*[column == sa.bindparam(f"key_{column.name}") for column in key])
                        .values({name: sa.bindparam(f"new_{name}", type_=table.c[name].type) for name in names}), params)
            if not rows:
                break
            last = [row._mapping[column.name] for column in key]
            done += len(rows)
            progress(table.name, done)
        changed += done
    return changed


def require_keyring(connection: Connection, keyring: KeyRing | None, tables) -> None:
    """Before a migration changes anything: refuse if it has rows to encrypt and no keys to do it."""
    if keyring is None and any(connection.execute(select(sa.literal(1)).select_from(sa.table(name)).limit(1)).first()
                               for name in tables):
        raise RuntimeError("The database has rows to encrypt: migrate through the app (`flask --app guide init-db`), "
                           "which has the encryption keys. Nothing was changed.")


def encrypt_plaintext_rows(connection: Connection, keyring: KeyRing | None, table_name: str, key: str,
                           columns: dict[str, str], blind: dict[str, tuple[tuple[str, ...], str]] | None = None) -> int:
    """For migrations: encrypt the plaintext already in `columns` ({column: context}) and fill the
    blind index columns ({column: (source columns, normaliser)}) of every row of a table.

    Rows are read in batches of BATCH in `key` order (memory stays flat on a large table, such as a
    national children's index) and written back with one executemany per batch."""
    blind = blind or {}
    names = {key, *columns, *[source for sources, _ in blind.values() for source in sources]}
    table = sa.table(table_name, *[sa.column(name) for name in names | set(blind)])
    query = select(*[table.c[name] for name in sorted(names)]).order_by(table.c[key]).limit(BATCH)
    done, last = 0, None
    while True:
        rows = connection.execute(query if last is None else query.where(table.c[key] > last)).mappings().all()
        if not rows:
            return done
        if keyring is None:
            raise RuntimeError(f"{table_name} has rows to encrypt: migrate through the app (`flask --app guide init-db`), "
                               "which has the encryption keys")
        updates: dict[tuple[str, ...], list[dict]] = {}
        for row in rows:
            values, plain = {}, dict(row)
            for name, context in columns.items():
                raw = row[name]
                if raw is None:
                    continue
                if str(raw).startswith("g1."):
                    plain[name] = keyring.decrypt(str(raw), context).decode()  # already done: index its plaintext
                else:
                    values[name] = keyring.encrypt(str(raw).encode(), context)
            for name, (sources, normaliser) in blind.items():
                parts = [plain[source] for source in sources]
                if all(part is not None for part in parts):
                    values[name] = keyring.blind_index(NORMALISERS[normaliser](*[str(part) for part in parts]))
            if values:
                updates.setdefault(tuple(sorted(values)), []).append(
                    {"row_key": row[key], **{f"new_{name}": value for name, value in values.items()}})
        for changed, params in updates.items():
            connection.execute(update(table).where(table.c[key] == sa.bindparam("row_key"))
                               .values({name: sa.bindparam(f"new_{name}") for name in changed}), params)
        done += len(rows)
        last = rows[-1][key]


def decrypt_to_plaintext_rows(connection: Connection, keyring: KeyRing | None, table_name: str, key: str,
                              columns: dict[str, str]) -> int:
    """For migrations going back: the reverse of encrypt_plaintext_rows."""
    table = sa.table(table_name, *[sa.column(name) for name in {key, *columns}])
    rows = connection.execute(select(*table.c)).mappings().all()
    if rows and keyring is None:
        raise RuntimeError(f"{table_name} has rows to decrypt: migrate through the app, which has the encryption keys")
    for row in rows:
        values = {name: keyring.decrypt(row[name], context).decode()
                  for name, context in columns.items() if row[name] is not None and str(row[name]).startswith("g1.")}
        if values:
            connection.execute(update(table).where(table.c[key] == row[key]).values(**values))
    return len(rows)


def check_rows(engine: Engine, metadata: sa.MetaData, limit: int = 100) -> tuple[int, list[str]]:
    """Open every encrypted value at its row (reads only). Returns (values checked, up to `limit` lines
    naming each value that does not open there: altered, moved from another row, or under a missing key)."""
    checked, problems = 0, []
    with engine.connect() as connection:
        for table, encrypted, _ in encrypted_tables(metadata):
            key = list(table.primary_key.columns)
            query = select(*key, *[with_row_key(column) for column in encrypted]).order_by(*key)
            for row in connection.execution_options(yield_per=BATCH).execute(query):
                for column in encrypted:
                    value = row._mapping[column.name]
                    if value is None:
                        continue
                    checked += 1
                    try:
                        column.type.process_result_value(value, connection.dialect)
                    except UndecryptableValue as refused:
                        if len(problems) < limit:
                            problems.append(str(refused))  # names the column and the row
    return checked, problems


def rebind_rows(connection: Connection, keyring: KeyRing | None, table_name: str, key: list[str],
                columns: dict[str, str], to_rows: bool = True) -> int:
    """For migration 0015: seal every value of `columns` ({column: context}) to its row as well as its
    column (`to_rows`), or back to its column only (going down). Rows are read in batches of BATCH in
    primary key (`key`) order, each batch starting after the last (linear on a large table), and written
    back with one executemany per set of columns. Values already in the wanted form are left alone."""
    table = sa.table(table_name, *[sa.column(name) for name in {*key, *columns}])
    key_columns = [table.c[name] for name in key]
    query = select(*key_columns, *[table.c[name] for name in columns]).order_by(*key_columns).limit(BATCH)
    wanted, other = (ROW_PREFIX, PREFIX) if to_rows else (PREFIX, ROW_PREFIX)
    done, last = 0, None
    while True:
        page = query if last is None else query.where(sa.tuple_(*key_columns) > sa.tuple_(*last))
        rows = connection.execute(page).mappings().all()
        if not rows:
            return done
        updates: dict[tuple[str, ...], list[dict]] = {}
        for row in rows:
            row_text = row_key(row[name] for name in key)
            values = {}
            for name, context in columns.items():
                token = row[name]
                if token is None or not str(token).startswith(f"{other}."):
                    continue
                if keyring is None:
                    raise RuntimeError(f"{table_name} has values to re-encrypt: migrate through the app "
                                       "(`flask --app guide init-db`), which has the encryption keys")
                if to_rows:
                    values[name] = keyring.seal(keyring.decrypt(token, context), context, row_text)
                else:
                    values[name] = keyring.encrypt(keyring.open(token, context, row_text), context)
            if values:
                updates.setdefault(tuple(sorted(values)), []).append(
                    {**{f"key_{name}": row[name] for name in key}, **{f"new_{name}": v for name, v in values.items()}})
        for names, params in updates.items():
            connection.execute(update(table).where(*[table.c[name] == sa.bindparam(f"key_{name}") for name in key])
                               .values({name: sa.bindparam(f"new_{name}") for name in names}), params)
        done += len(rows)
        last = [rows[-1][name] for name in key]
