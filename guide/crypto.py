"""Encryption at rest: personal details and free text are stored encrypted, searchable fields in clear.

Columns typed `Encrypted(...)` hold `g2.<key id>.<nonce + ciphertext + tag>` (AES-256-GCM from
`cryptography`). The associated data names the column *and the row* (its primary key), so a value
copied into another column, or moved to another row of the same column, does not decrypt: someone
who can write to the database cannot swap two children's records by swapping their ciphertexts.
(`g1.` values, bound to their column only, are what migrations before 0015 wrote; 0015 rebinds
them and the app refuses any still in that form.) The keys come from the environment (`GUIDE_ENCRYPTION_KEYS`,
newest first, comma separated) or, for a first run on one machine, from a file made once in
the instance folder — never from the database, so a copy of the database alone reveals nothing.

Exact-match look-ups on encrypted values (a user's email, a child's reference) go through a
blind index: an HMAC of the normalised value under a key derived from each encryption key.
Queries try every key in the ring, so look-ups keep working while `flask --app guide keys
rotate` moves each row to the newest key.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
import sqlalchemy as sa
from sqlalchemy import String, Text, event, inspect
from sqlalchemy.orm import Session, mapped_column
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import TypeDecorator

from .index import names

PREFIX = "g1"        # bound to its column only (migrations before 0015; export files)
ROW_PREFIX = "g2"    # bound to its column and its row: what every encrypted column holds
ENV_KEYS = "GUIDE_ENCRYPTION_KEYS"


class KeyProblem(Exception):
    """A key is missing, malformed, or no key in the ring opens a value."""


class UndecryptableValue(KeyProblem):
    pass


class TamperedValue(UndecryptableValue):
    """A value that does not open under a key we hold: altered, or moved from another row or column."""


def new_key() -> str:
    """A fresh 256-bit key, as it is written in GUIDE_ENCRYPTION_KEYS."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


class KeyRing:
    """The keys: the first encrypts and indexes, every one decrypts (so old rows stay readable)."""

    def __init__(self, encoded_keys: Iterable[str]):
        self._keys: list[tuple[str, AESGCM, bytes]] = []
        for encoded in encoded_keys:
            encoded = encoded.strip()
            if not encoded:
                continue
            try:
                raw = base64.urlsafe_b64decode(encoded.encode())
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != 32:
                raise KeyProblem("An encryption key must be 32 bytes, base64 encoded "
                                "(make one with `flask --app guide keys new`).")
            key_id = hashlib.sha256(b"guide key id" + raw).hexdigest()[:8]
            index_key = hmac.new(raw, b"guide blind index", hashlib.sha256).digest()
            self._keys.append((key_id, AESGCM(raw), index_key))
        if not self._keys:
            raise KeyProblem(f"No encryption key: set {ENV_KEYS}.")
        self._by_id = {key_id: cipher for key_id, cipher, _ in self._keys}
        if len(self._by_id) != len(self._keys):
            raise KeyProblem("The same encryption key is listed twice.")

    @property
    def primary_id(self) -> str:
        return self._keys[0][0]

    @property
    def ids(self) -> list[str]:
        return [key_id for key_id, _, _ in self._keys]

    def encrypt(self, plaintext: bytes, context: str) -> str:
        key_id, cipher, _ = self._keys[0]
        nonce = os.urandom(12)
        sealed = cipher.encrypt(nonce, plaintext, context.encode())
        return f"{PREFIX}.{key_id}.{binascii.b2a_base64(nonce + sealed, newline=False).decode()}"

    def decrypt(self, token: str, context: str) -> bytes:
        """A value bound to its column only (`g1.`): for migrations and files, not for rows."""
        return self._open(token, PREFIX, context, context)

    def seal(self, plaintext: bytes, context: str, row: str) -> str:
        """Encrypt a value for one column of one row (`row`: its primary key as text, see row_key)."""
        key_id, cipher, _ = self._keys[0]
        nonce = os.urandom(12)
        sealed = cipher.encrypt(nonce, plaintext, row_context(context, row))
        return f"{ROW_PREFIX}.{key_id}.{binascii.b2a_base64(nonce + sealed, newline=False).decode()}"

    def open(self, token: str, context: str, row: str) -> bytes:
        """Decrypt a value sealed for this column of this row; anything else is refused."""
        return self._open(token, ROW_PREFIX, row_context(context, row), f"{context} of row {row}")

    def _open(self, token: str, prefix_wanted: str, associated, where: str) -> bytes:
        # binascii directly: this runs once per value read, a million times in a big export.
        try:
            prefix, key_id, body = token.split(".", 2)
            blob = binascii.a2b_base64(body)
        except (ValueError, binascii.Error):
            raise TamperedValue(f"{where}: not an encrypted value") from None
        if prefix != prefix_wanted:
            raise TamperedValue(f"{where}: not bound to its row (a value from before migration 0015, or copied "
                                "from an old copy of the database)" if prefix == PREFIX else
                                f"{where}: not in the form this column holds")
        cipher = self._by_id.get(key_id)
        if cipher is None:
            raise UndecryptableValue(f"{where}: encrypted with a key that is not in {ENV_KEYS} ({key_id})")
        try:
            return cipher.decrypt(blob[:12], blob[12:], associated if isinstance(associated, bytes)
                                  else associated.encode())
        except InvalidTag:
            raise TamperedValue(f"{where}: the value was altered, or moved here from another row or column") from None

    def key_id_of(self, token: str) -> str:
        return token.split(".", 2)[1]

    def blind_index(self, value: str) -> str:
        """The newest key's blind index of a value: what is stored beside the encrypted value."""
        return self.blind_indexes(value)[0]

    def blind_indexes(self, value: str) -> list[str]:
        """The value's blind index under every key: what a look-up matches against."""
        data = value.encode()
        return [hmac.new(index_key, data, hashlib.sha256).hexdigest() for _, _, index_key in self._keys]


def load_keyring(instance_path: Path, configured: str | None = None) -> KeyRing:
    """Keys from configuration or the environment; else one made once in the instance folder."""
    encoded = configured or os.environ.get(ENV_KEYS)
    if encoded:
        return KeyRing(encoded.split(","))
    return KeyRing([secret_file(instance_path / "encryption_key", new_key)])


def secret_file(path: Path, make) -> str:
    """A secret kept in a file readable by its owner only, made (by `make()`) the first time it is needed."""
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
    return path.read_text()


# --- the column type --------------------------------------------------------------------------

def attach_keyring(engine, keyring: KeyRing) -> None:
    """Give an engine its keys: encrypted columns read them from the engine's dialect."""
    engine.dialect.guide_keyring = keyring


def keyring_of(dialect) -> KeyRing:
    keyring = getattr(dialect, "guide_keyring", None)
    if keyring is None:
        raise KeyProblem("This database engine has no encryption keys (use guide.db.make_engine with a keyring).")
    return keyring


# --- binding values to their rows -------------------------------------------------------------
#
# A column type sees one value at a time, never its row, so the row reaches it two ways:
# - Reading: the type's column_expression has the database hand back each value with its own
#   row's primary key attached (`<token>|<row key>`), whatever query reads it (ORM, Core, aliased).
#   The key comes from the row the value sits in, so a value moved to another row is opened
#   against the other row's key and refused: nothing to remember, no reader can forget.
# - Writing: the value is given to the type as RowBound(value, row key). The ORM does this in
#   its before_insert/before_update events (bind_values_to_rows); Core writers wrap explicitly
#   (bound_rows, insert_bound). A plain value is refused rather than written unbound.
# A row whose integer key the database assigns on INSERT has no key to bind to yet: it is
# inserted with a placeholder that opens for nothing (UNBOUND) and its values are sealed by an
# UPDATE in the same transaction, so no committed row ever holds the placeholder. (A separate
# random "row id" column set in Python would avoid that UPDATE but protect nothing: it could be
# swapped along with the values, while the primary key is what every page, foreign key and
# audit entry names the row by.)

UNBOUND = f"{ROW_PREFIX}.unbound"
ROW_KEY_SEPARATOR = "/"  # between the parts of a composite primary key (none contains it)


def row_context(context: str, row: str) -> bytes:
    return f"{context}|{row}".encode()


def row_key(values) -> str:
    """A row's primary key as the text its values are bound to (the same as row_key_sql's)."""
    return ROW_KEY_SEPARATOR.join(str(value) for value in values)


def row_key_sql(table):
    """The SQL for each row's key text, for a table (or an alias or subquery of one)."""
    parts = [sa.cast(column, Text) for column in table.primary_key.columns]
    if not parts:
        raise KeyProblem(f"{getattr(table, 'name', table)}: an encrypted column is read with its row's primary key, "
                         "which this query does not select")
    expression = parts[0]
    for part in parts[1:]:
        expression = expression + sa.literal_column(f"'{ROW_KEY_SEPARATOR}'") + part
    return expression


def with_row_key(column):
    """A column's stored token with its row's key attached, as Text: for readers that open values one by
    one (`column.type.process_result_value(value, dialect)`) so that one bad value does not stop them."""
    return (sa.type_coerce(column, Text) + sa.literal_column("'|'") + row_key_sql(column.table)).label(column.name)


class RowBound:
    """A value on its way into an encrypted column, with the key of the row it is written to
    (None: the database has not assigned it yet, see UNBOUND)."""

    __slots__ = ("value", "row")

    def __init__(self, value, row: str | None):
        self.value, self.row = value, row

    def __repr__(self):
        return f"RowBound(row={self.row!r})"


class Encrypted(TypeDecorator):
    """Text or JSON, encrypted before it is written and decrypted when it is read.

    `context` names the column (e.g. "walks.answers"): it is bound into each value as
    associated data together with the row's primary key, and must never change for a column
    once data is written.
    """

    impl = Text
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator):
        """Comparing an encrypted column in SQL can never match (each value has its own nonce): refuse it."""

        def operate(self, op, *other, **kwargs):
            if op in (operators.is_, operators.is_not):
                return super().operate(op, *other, **kwargs)
            if op is operators.eq and other and all(isinstance(o, ColumnClause) for o in other):
                # A column against a column is not a value compared in SQL: SQLAlchemy itself does this
                # (e.g. matching a cached statement's result columns, ORM-annotated against plain).
                return super().operate(op, *other, **kwargs)
            raise TypeError("An encrypted column cannot be compared in SQL: match its blind index "
                            "(guide.crypto.blind_match) or compare after reading")

        def reverse_operate(self, op, other, **kwargs):
            raise TypeError("An encrypted column cannot be compared in SQL")

    def __init__(self, context: str, json_value: bool = False):
        super().__init__()
        self.context = context
        self.json_value = json_value

    def to_text(self, value) -> str:
        if self.json_value:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return str(value)

    def from_text(self, text: str):
        return json.loads(text) if self.json_value else text

    def column_expression(self, colexpr):
        # Read every value with its own row's key (see "binding values to their rows" above).
        column = colexpr.element if isinstance(colexpr, sa.Label) else colexpr
        table = getattr(column, "table", None)
        if table is None:
            raise KeyProblem(f"{self.context}: an encrypted value can only be read as a column of its table")
        return sa.type_coerce(sa.type_coerce(column, Text) + sa.literal_column("'|'") + row_key_sql(table), self)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, RowBound):
            raise KeyProblem(f"{self.context}: an encrypted value is written with its row's key "
                             "(the ORM does this; Core writers use guide.crypto.bound_rows or insert_bound)")
        if value.value is None:
            return None
        if value.row is None:
            return UNBOUND
        return keyring_of(dialect).seal(self.to_text(value.value).encode(), self.context, value.row)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        token, separator, row = value.partition("|")
        if not separator:
            raise KeyProblem(f"{self.context}: an encrypted value was read without its row's key")
        return self.from_text(keyring_of(dialect).open(token, self.context, row).decode())

    def compare_values(self, x, y):
        return x == y


def EncryptedText(context: str) -> Encrypted:
    return Encrypted(context)


def EncryptedJSON(context: str) -> Encrypted:
    return Encrypted(context, json_value=True)


class EncryptedDate(Encrypted):
    """A date, encrypted as its ISO text (YYYY-MM-DD) and read back as a date."""

    cache_ok = True

    def __init__(self, context: str):
        super().__init__(context)

    def to_text(self, value) -> str:
        return value.isoformat()[:10] if isinstance(value, datetime.date) else str(value)

    def from_text(self, text: str):
        return datetime.date.fromisoformat(text[:10])


def encrypted_columns(table) -> list:
    return [column for column in table.columns if isinstance(column.type, Encrypted)]


def bound_rows(table, rows: list[dict]) -> list[dict]:
    """Rows for a Core INSERT or UPDATE with their primary keys given: each encrypted value bound to its row."""
    encrypted = [column.name for column in encrypted_columns(table)]
    keys = [column.name for column in table.primary_key.columns]
    bound = []
    for row in rows:
        key = row_key(row[name] for name in keys)
        bound.append({**row, **{name: RowBound(row[name], key) for name in encrypted if name in row}})
    return bound


def insert_bound(connection, table, **values):
    """A Core INSERT of one row whose primary key the database assigns: its encrypted values are sealed
    to that key in the same transaction. Returns the inserted primary key."""
    encrypted = {column.name for column in encrypted_columns(table)}
    # The table's own INSERT with the values as parameters: one statement per set of columns, compiled once.
    result = connection.execute(table.insert(), {name: RowBound(value, None) if name in encrypted else value
                                                 for name, value in values.items()})
    key = result.inserted_primary_key
    _seal_inserted(connection, table, key, {name: value for name, value in values.items() if name in encrypted})
    return key


_SEALING: dict = {}


def _sealing_update(table, names: tuple[str, ...]):
    """UPDATE table SET names… WHERE primary key = :_row_key_n, built once per table and set of columns."""
    found = _SEALING.get((table, names))
    if found is None:
        where = [column == sa.bindparam(f"_row_key_{n}") for n, column in enumerate(table.primary_key.columns)]
        found = _SEALING[(table, names)] = sa.update(table).where(*where).values(
            {name: sa.bindparam(name) for name in names})
    return found


def _seal_inserted(connection, table, key, values: dict) -> None:
    values = {name: RowBound(value, row_key(key)) for name, value in values.items() if value is not None}
    if values:
        connection.execute(_sealing_update(table, tuple(sorted(values))),
                           {**values, **{f"_row_key_{n}": part for n, part in enumerate(key)}})


def bind_values_to_rows(base) -> None:
    """ORM writes: hand each encrypted value to its column type with its row's key (see above)."""
    found: dict = {}

    def columns_of(mapper):
        if mapper not in found:
            found[mapper] = [(mapper.get_property_by_column(column).key, column)
                             for column in encrypted_columns(mapper.local_table)]
        return found[mapper]

    def key_of(mapper, target):
        values = mapper.primary_key_from_instance(target)
        return None if any(value is None for value in values) else row_key(values)

    def remember(state):
        state.session.info.setdefault("guide_row_bound", set()).add(state)

    def on(name):
        """Listen to a mapper event, for tables with encrypted columns: fn(mapper, connection, target, state, encrypted)."""
        def register(fn):
            @event.listens_for(base, name, propagate=True)
            def _listener(mapper, connection, target):
                encrypted = columns_of(mapper)
                if encrypted:
                    fn(mapper, connection, target, inspect(target), encrypted)
            return fn
        return register

    @on("before_insert")
    def _before_insert(mapper, _connection, target, state, encrypted):
        # A key made in Python (new_id) is made now rather than as the INSERT runs, so values can bind to it.
        for column in mapper.local_table.primary_key.columns:
            attribute = mapper.get_property_by_column(column).key
            if getattr(target, attribute) is None and column.default is not None and column.default.is_callable:
                setattr(target, attribute, column.default.arg(None))
        key = key_of(mapper, target)
        for attribute, column in encrypted:
            if attribute not in state.dict and column.default is not None:
                default = column.default
                state.dict[attribute] = default.arg(None) if default.is_callable else default.arg
            if state.dict.get(attribute) is not None:
                state.dict[attribute] = RowBound(state.dict[attribute], key)
        remember(state)

    @on("after_insert")
    def _after_insert(mapper, connection, target, state, encrypted):
        unsealed = {column.name: value.value for attribute, column in encrypted
                    if isinstance(value := state.dict.get(attribute), RowBound) and value.row is None}
        _unwrap(state)
        if unsealed:
            _seal_inserted(connection, mapper.local_table, mapper.primary_key_from_instance(target), unsealed)

    @on("before_update")
    def _before_update(mapper, _connection, target, state, encrypted):
        key = key_of(mapper, target)
        for attribute, _column in encrypted:
            if attribute in state.committed_state and state.dict.get(attribute) is not None:
                state.dict[attribute] = RowBound(state.dict[attribute], key)
        remember(state)

    @on("after_update")
    def _after_update(_mapper, _connection, _target, state, _encrypted):
        _unwrap(state)


def _unwrap(state) -> None:
    for attribute, value in list(state.dict.items()):
        if isinstance(value, RowBound):
            state.dict[attribute] = value.value
    if state.session is not None:
        state.session.info.get("guide_row_bound", set()).discard(state)


def unwrap_after_failed_flush(sessions) -> None:
    """A flush that fails between before_insert and after_insert leaves values wrapped: put them back."""
    @event.listens_for(sessions, "after_soft_rollback")
    def _unwrap_all(session, _previous):
        for state in list(session.info.pop("guide_row_bound", ())):
            _unwrap(state)


# --- blind indexes ----------------------------------------------------------------------------

# How a value is normalised before its blind index is taken: look-ups normalise the same way.
NORMALISERS = {
    "email": lambda email: email.strip().lower(),
    "reference": lambda reference: " ".join(reference.split()).casefold(),
    # The children's index (guide/index/names.py): a child's unique number; names + date of birth.
    "upn": names.upn_key,
    "identity": names.identity,
}


def blind_index_column(*sources: str, normalise: str, unique: bool = False):
    """A column holding the blind index of `sources` (attribute names), filled on every flush."""
    if normalise not in NORMALISERS:
        raise ValueError(f"no normaliser called {normalise!r}")
    return mapped_column(String(64), index=True, unique=unique,
                         info={"blind_index_of": sources, "normalise": normalise})


def blind_index_columns(table) -> list:
    return [column for column in table.columns if "blind_index_of" in column.info]


def blind_value(column, *values) -> str | None:
    """The normalised text a blind index is taken of, or None when a source is missing."""
    if any(value is None for value in values):
        return None
    return NORMALISERS[column.info["normalise"]](*[str(value) for value in values])


def keyring_for(session: Session) -> KeyRing:
    return keyring_of(session.get_bind().dialect)


def blind_keys(session: Session, column, *values) -> list[str]:
    """The column's blind index of these values under every key in the ring (any of them may be stored)."""
    normalised = blind_value(column.property.columns[0] if hasattr(column, "property") else column, *values)
    return keyring_for(session).blind_indexes(normalised)


def blind_match(session: Session, column, *values):
    """A WHERE clause: the column's blind index matches these values under any key in the ring."""
    return column.in_(blind_keys(session, column, *values))


def fill_blind_indexes_on_flush(sessions) -> None:
    """Keep every blind index in step with its encrypted source, whoever changes it."""
    @event.listens_for(sessions, "before_flush")
    def _fill(session, _context, _instances):
        changed = list(session.new) + [obj for obj in session.dirty if session.is_modified(obj)]
        if not changed:
            return
        keyring = None
        for obj in changed:
            for column in blind_index_columns(inspect(obj).mapper.local_table):
                normalised = blind_value(column, *[getattr(obj, name) for name in column.info["blind_index_of"]])
                if normalised is None:
                    continue
                keyring = keyring or keyring_for(session)
                key = keyring.blind_index(normalised)
                if getattr(obj, column.key) != key:
                    setattr(obj, column.key, key)
