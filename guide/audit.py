"""The audit trail: who did what to which object, when. Rows are only ever added.

Each event is written in the same transaction as the change it records, and sealed into
a hash chain in that same transaction just before it commits (each hash covers the event
and the previous hash), so an event altered or removed later is found by `flask --app
guide audit verify`. Sealers take turns: SQLite lets one transaction write at a time, and on
PostgreSQL a transaction-scoped advisory lock does the same; `prev_hash` is unique besides,
so two sealers can never both extend the same event.
"""

from __future__ import annotations

import hashlib
import json
import time

from sqlalchemy import Text, event, select, type_coerce, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from .crypto import UndecryptableValue
from .models import AuditEvent

GENESIS = "0" * 64


def audit(db: Session, user_id: int | None, action: str, object_type: str, object_id: str, **detail) -> None:
    """Add an audit event to the caller's transaction, so it commits (or not) with the change it records."""
    db.add(AuditEvent(user_id=user_id, action=action, object_type=object_type,
                      object_id=str(object_id), detail=detail))
    db.info["audited"] = True


def _hash(prev: str, row, detail) -> str:
    # The detail is hashed as plaintext, so rotating the encryption key leaves the chain intact.
    at = row.at.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f")
    body = json.dumps([prev, row.id, at, row.user_id, row.action, row.object_type, row.object_id, detail],
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


SEAL_LOCK = 724301  # PostgreSQL advisory lock id: one sealer at a time


def _seal_on(connection) -> int:
    """Chain every event not yet sealed (in id order) after the chain's end, inside the connection's transaction."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SEAL_LOCK})")
    # The chain's end is the highest seq, not the highest id: ids are drawn when events are
    # written, and on PostgreSQL a transaction holding a smaller id can commit after a larger one.
    last = connection.execute(select(AuditEvent.hash, AuditEvent.seq).where(AuditEvent.seq.is_not(None))
                              .order_by(AuditEvent.seq.desc()).limit(1)).first()
    prev, seq = (last.hash, last.seq) if last else (GENESIS, 0)
    # Sealing sets prev_hash and hash together; prev_hash's unique index finds the unsealed
    # events (hash has no index: `hash IS NULL` scanned the whole table on every commit).
    rows = connection.execute(select(AuditEvent).where(AuditEvent.prev_hash.is_(None))
                              .order_by(AuditEvent.id)).all()
    for row in rows:
        digest = _hash(prev, row, row.detail)
        seq += 1
        connection.execute(update(AuditEvent).where(AuditEvent.id == row.id)
                           .values(prev_hash=prev, hash=digest, seq=seq))
        prev = digest
    return len(rows)


def seal(engine: Engine) -> int:
    """Seal, in a transaction of its own, any events left unsealed (e.g. written outside the app)."""
    for attempt in range(50):
        try:
            with engine.begin() as connection:
                return _seal_on(connection)
        except (IntegrityError, OperationalError):
            time.sleep(0.002 * (attempt + 1))  # another sealer went first: read the new end and go on
    raise RuntimeError("could not seal the audit trail")


def verify(engine: Engine) -> tuple[int, int | None, str]:
    """Check every sealed event's hash and link. Returns (events checked, first broken id or None, why)."""
    prev, count = GENESIS, 0
    detail = AuditEvent.__table__.c.detail
    # The detail is read still encrypted and opened here, so a value that no longer decrypts
    # (altered in the database) is reported as a broken entry rather than stopping the check.
    columns = [c for c in AuditEvent.__table__.c if c is not detail] + [type_coerce(detail, Text).label("sealed")]
    with engine.connect() as connection:
        for row in connection.execute(select(*columns).where(AuditEvent.seq.is_not(None)).order_by(AuditEvent.seq)):
            count += 1
            if row.prev_hash != prev:
                return count, row.id, "it does not follow the event before it (an event was removed or reordered)"
            try:
                opened = detail.type.process_result_value(row.sealed, connection.dialect)
            except UndecryptableValue:
                return count, row.id, "its detail does not decrypt (it was altered)"
            if _hash(prev, row, opened) != row.hash:
                return count, row.id, "its content does not match its hash (it was altered)"
            prev = row.hash
    return count, None, ""


def seal_before_commit(sessions) -> None:
    """Seal the events a session wrote as part of the same commit."""
    @event.listens_for(sessions, "before_commit")
    def _seal(session):
        if session.info.pop("audited", False):
            session.flush()
            _seal_on(session.connection())
