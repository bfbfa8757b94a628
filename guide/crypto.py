"""Encryption at rest: personal details and free text are stored encrypted, searchable fields in clear.

Columns typed `Encrypted(...)` hold `g1.<key id>.<nonce + ciphertext + tag>` (AES-256-GCM from
`cryptography`; the column's name is bound in as associated data, so a value copied into
another column does not decrypt). The keys come from the environment (`GUIDE_ENCRYPTION_KEYS`,
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
from sqlalchemy import String, Text, event, inspect
from sqlalchemy.orm import Session, mapped_column
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import TypeDecorator

from .index import names

PREFIX = "g1"
ENV_KEYS = "GUIDE_ENCRYPTION_KEYS"


class KeyProblem(Exception):
    """A key is missing, malformed, or no key in the ring opens a value."""


class UndecryptableValue(KeyProblem):
    pass


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
        # binascii directly: this runs once per value read, a million times in a big export.
        try:
            prefix, key_id, body = token.split(".", 2)
            blob = binascii.a2b_base64(body)
        except (ValueError, binascii.Error):
            raise UndecryptableValue(f"{context}: not an encrypted value") from None
        cipher = self._by_id.get(key_id) if prefix == PREFIX else None
        if cipher is None:
            raise UndecryptableValue(f"{context}: encrypted with a key that is not in {ENV_KEYS} ({key_id})")
        try:
            return cipher.decrypt(blob[:12], blob[12:], context.encode())
        except InvalidTag:
            raise UndecryptableValue(f"{context}: the value was altered, or belongs to another column") from None

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


class Encrypted(TypeDecorator):
    """Text or JSON, encrypted before it is written and decrypted when it is read.

    `context` names the column (e.g. "walks.answers"): it is bound into each value as
    associated data, and must never change for a column once data is written.
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

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if self.json_value:
            plaintext = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        else:
            plaintext = str(value).encode()
        return keyring_of(dialect).encrypt(plaintext, self.context)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        plaintext = keyring_of(dialect).decrypt(value, self.context)
        return json.loads(plaintext) if self.json_value else plaintext.decode()

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

    def process_bind_param(self, value, dialect):
        if isinstance(value, datetime.date):
            value = value.isoformat()[:10]
        return super().process_bind_param(value, dialect)

    def process_result_value(self, value, dialect):
        text = super().process_result_value(value, dialect)
        return None if text is None else datetime.date.fromisoformat(text[:10])


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


def blind_match(session: Session, column, *values):
    """A WHERE clause: the column's blind index matches these values under any key in the ring."""
    normalised = blind_value(column.property.columns[0] if hasattr(column, "property") else column, *values)
    return column.in_(keyring_for(session).blind_indexes(normalised))


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
