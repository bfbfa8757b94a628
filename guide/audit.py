"""The audit trail: who did what to which object, when. Rows are only ever added.

Each event is written in the same transaction as the change it records, and sealed into a
keyed hash chain in that same transaction just before it commits (guide/audit_chain.py: an
HMAC under a key kept outside the database, so only the app can extend a chain). A user's
events go to one of several chains, each with its own head row: writers lock only their chain's
head, so writers on many machines do not queue behind one lock. After the commit the chain's
head is written, signed, to the checkpoint folder outside the database, and `flask --app guide
audit verify` compares each chain with it, so removing the newest events is found too.

An event that reaches the database any other way (written straight into it) is never sealed:
`verify` reports it. Nothing here seals or repairs a chain after the fact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .audit_chain import (
    LEGACY_CHAIN,
    Entry,
    audit_setup,
    chain_for,
    entry_hash,
    legacy_sha256,
    lock_head,
    move_head,
    rekey_legacy_chain,
    verify_trail,
)
from .crypto import UndecryptableValue, insert_bound, with_row_key
from .models import AuditEvent, utcnow

TRAIL = "records"


@dataclass
class _Pending:
    """An audit event waiting for its transaction to commit."""

    user_id: int | None
    action: str
    object_type: str
    object_id: str
    detail: dict
    at: datetime


def audit(db: Session, user_id: int | None, action: str, object_type: str, object_id: str, **detail) -> None:
    """Add an audit event to the caller's transaction, so it commits (or not) with the change it records."""
    if not db.in_transaction():
        db.begin()  # as adding an object would: a rollback from here on takes the event with it
    db.info.setdefault("audit_events", []).append(
        _Pending(user_id, action, object_type, str(object_id), detail, utcnow()))


def _parts(at, user_id, action, object_type, object_id, detail) -> list:
    # The detail is hashed as plaintext, so rotating the encryption key leaves the chain intact.
    at = at.astimezone(timezone.utc) if at.tzinfo else at
    return [at.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f"), user_id, action, object_type, object_id, detail]


def _seal(session: Session, events: list[_Pending]) -> tuple[int, int, str]:
    """Chain the transaction's events, in the order written, after the end of their user's chain.

    The head is locked first and each event's place and hash worked out before it is written, so an
    event goes into the database already sealed (written with Core: the ORM's unit of work has nothing
    to add for rows that are only ever inserted)."""
    connection = session.connection()
    setup = audit_setup(connection)
    chain = chain_for(next((e.user_id for e in events if e.user_id), None), setup.chains)
    seq, prev = lock_head(connection, setup.key, TRAIL, chain)
    session.flush()  # what the events are about (a user, a record) is in the database before they name it
    for written in events:
        seq += 1
        digest = entry_hash(setup.key, TRAIL, chain, seq, prev, *_parts(
            written.at, written.user_id, written.action, written.object_type, written.object_id, written.detail))
        insert_bound(connection, AuditEvent.__table__, at=written.at, user_id=written.user_id, action=written.action,
                     object_type=written.object_type, object_id=written.object_id, detail=written.detail,
                     prev_hash=prev, hash=digest, seq=seq, chain=chain)
        prev = digest
    move_head(connection, TRAIL, chain, seq, prev)
    return chain, seq, prev


# Every session, wherever it was made (the app, a command, a script), seals the audit events it
# wrote as part of the same commit, and checkpoints the chain's head after it: registered on the
# Session class, so no event written through `audit()` is ever left unsealed.
@event.listens_for(Session, "before_commit")
def _seal_before_commit(session):
    written = session.info.pop("audit_events", None)
    if written:
        session.info["audit_sealed"] = _seal(session, written)


@event.listens_for(Session, "after_commit")
def _checkpoint_after_commit(session):
    sealed = session.info.pop("audit_sealed", None)
    if sealed:
        audit_setup(session.get_bind()).checkpoints.record(TRAIL, *sealed)


# A rollback takes the audit events written since its transaction began with it. Each savepoint notes how
# many were waiting when it began: rolling it back forgets only the ones written since (after_rollback would
# not do: it fires for a savepoint's ROLLBACK TO as well as for the whole transaction's).
@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session, transaction):
    if transaction.nested:
        session.info.setdefault("audit_marks", {})[transaction] = len(session.info.get("audit_events", ()))


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session, previous_transaction):
    if previous_transaction.nested:
        mark = session.info.get("audit_marks", {}).pop(previous_transaction, None)
        if mark is not None and "audit_events" in session.info:
            del session.info["audit_events"][mark:]
    elif previous_transaction.parent is None:
        for name in ("audit_events", "audit_sealed", "audit_marks"):
            session.info.pop(name, None)


def _entries(connection, where=None):
    detail = AuditEvent.__table__.c.detail
    # The detail is read still encrypted and opened here, so a value that no longer decrypts
    # (altered in the database) is reported as a broken entry rather than stopping the check.
    columns = [c for c in AuditEvent.__table__.c if c is not detail] + [with_row_key(detail).label("sealed")]
    query = select(*columns).order_by(AuditEvent.chain.is_(None), AuditEvent.chain, AuditEvent.seq, AuditEvent.id)
    for row in connection.execute(query if where is None else query.where(where)):
        try:
            opened = detail.type.process_result_value(row.sealed, connection.dialect)
            parts = _parts(row.at, row.user_id, row.action, row.object_type, row.object_id, opened)
        except UndecryptableValue:
            parts = "its detail does not decrypt (it was altered)"
        yield Entry(row.id, row.chain, row.seq, row.prev_hash, row.hash, parts)


def verify(engine: Engine, exported: list[tuple[int, int, str]] = ()) -> tuple[int, int | None, str]:
    """Check every event's link and keyed hash, and each chain's end against its checkpoints. Reads only.
    Returns (events checked, first broken id or None (0 when no one event is to blame), why)."""
    return verify_trail(engine, TRAIL, _entries, exported)


def rekey_legacy(connection, key) -> tuple[int, str, str]:
    """Key the events sealed before the chains were keyed (audit_chain.rekey_legacy_chain)."""
    def old_hash(prev, entry):
        return legacy_sha256(prev, entry.id, *entry.parts)
    return rekey_legacy_chain(connection, key, TRAIL, AuditEvent.__table__,
                              _entries(connection, AuditEvent.chain == LEGACY_CHAIN), old_hash)
