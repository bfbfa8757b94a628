"""The index's audit trail: append-only, in keyed chains that grow in parallel (guide/audit_chain.py).

Each entry is written in its own short transaction, so a refusal is recorded even though the
request changes nothing else. A writer locks its chain's head (a user's entries are all in one
chain) and waits its turn: no retries, so a look-up never fails because the audit was busy. A
rate limit is counted inside that same locked transaction, so the count and the entry it allows
are one atomic step: parallel look-ups by one user cannot all slip under the limit.

The user's words (`reason_text`) and the `detail` (a look-up's criteria: names, date of birth,
number) are encrypted in the database; the hash covers their plaintext, so rotating the key
leaves the chain intact, and an entry whose ciphertext was altered (it no longer decrypts) is
reported as broken like any other altered entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import chain as chain_iterables

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.engine import Engine

from ..audit_chain import (
    LEGACY_CHAIN,
    Entry,
    audit_setup,
    chain_for,
    entry_hash,
    heads,
    legacy_sha256,
    lock_head,
    move_head,
    rekey_legacy_chain,
    verify_entries,
    verify_trail,
)
from ..crypto import UndecryptableValue, insert_bound, with_row_key
from ..models import IndexAudit, utcnow

TRAIL = "index"


@dataclass
class Limit:
    """At most `most` entries of `action` by the user since `since`; else `refusal`."""

    action: str
    since: datetime
    most: int
    refusal: str


class LimitReached(Exception):
    def __init__(self, entry_id: int):
        super().__init__("limit reached")
        self.entry_id = entry_id


def _parts(at: datetime, user_id, action, child_id, reason, reason_text, detail) -> list:
    stamp = at.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return [stamp, user_id, action, child_id, reason, reason_text, detail]


# A user's entries of one kind since a moment, counted no further than the limit (so the count costs the
# same however many more there are). Built once: every look-up asks it. One action, not a list: an expanding
# IN would be rendered again on every execution.
_RECENT_BY_USER = select(func.count()).select_from(
    select(IndexAudit.id).where(IndexAudit.user_id == bindparam("user_id"),
                                IndexAudit.action == bindparam("limited_action"),
                                IndexAudit.at >= bindparam("since")).limit(bindparam("most")).subquery())


def append(engine: Engine, *, user_id, action: str, child_id=None, reason: str = "", reason_text: str = "",
           detail: dict | None = None, limit: Limit | None = None) -> int:
    """Add an entry; with a limit the user has reached, add a refusal instead and raise LimitReached."""
    setup = audit_setup(engine)
    detail = detail or {}
    chain = chain_for(user_id, setup.chains)
    over = False
    with engine.begin() as connection:
        seq, prev = lock_head(connection, setup.key, TRAIL, chain)
        if limit is not None:
            count = connection.execute(_RECENT_BY_USER, {"user_id": user_id, "limited_action": limit.action,
                                                         "since": limit.since.replace(tzinfo=None),
                                                         "most": limit.most}).scalar()
            if count >= limit.most:
                over = True
                action, child_id, reason_text = "refused", None, ""
                detail = {"refused": limit.refusal, "asked": detail}
        at = utcnow().replace(tzinfo=None)
        seq += 1
        digest = entry_hash(setup.key, TRAIL, chain, seq, prev,
                            *_parts(at, user_id, action, child_id, reason, reason_text, detail))
        entry_id = insert_bound(connection, IndexAudit.__table__,
            at=at, user_id=user_id, action=action, child_id=child_id, reason=reason, reason_text=reason_text,
            detail=detail, prev_hash=prev, hash=digest, chain=chain, seq=seq)[0]
        move_head(connection, TRAIL, chain, seq, digest)
    setup.checkpoints.record(TRAIL, chain, seq, digest)
    if over:
        raise LimitReached(entry_id)
    return entry_id


def _entries(connection, where=None):
    table = IndexAudit.__table__
    encrypted = ("reason_text", "detail")
    # The encrypted columns are read as they are stored and opened here, so a value that no longer
    # decrypts (altered in the database) is reported as a broken entry rather than stopping the check.
    columns = [c for c in table.c if c.name not in encrypted] + [with_row_key(table.c[name])
                                                                  for name in encrypted]
    query = select(*columns).order_by(table.c.chain.is_(None), table.c.chain, table.c.seq, table.c.id)
    for row in connection.execute(query if where is None else query.where(where)).mappings():
        try:
            opened = {name: table.c[name].type.process_result_value(row[name], connection.dialect) for name in encrypted}
            parts = _parts(row["at"], row["user_id"], row["action"], row["child_id"], row["reason"],
                           opened["reason_text"], opened["detail"])
        except UndecryptableValue:
            parts = "its reason or detail does not decrypt (it was altered)"
        yield Entry(row["id"], row["chain"], row["seq"], row["prev_hash"], row["hash"], parts)


def verify(engine: Engine, exported: list[tuple[int, int, str]] = ()) -> tuple[int, int | None, str]:
    """Check every entry's link and keyed hash, and each chain's end against its checkpoints. Reads only.
    Returns (entries checked, first broken id or None (0 when no one entry is to blame), why)."""
    return verify_trail(engine, TRAIL, _entries, exported)


def verify_new(engine: Engine) -> tuple[int, int | None, str]:
    """Check only the entries added since the last check that passed (its ends are kept, signed, with
    the checkpoints), then move that mark on. For the patrol page; the nightly `verify` reads everything."""
    setup = audit_setup(engine)
    checkpoints = setup.checkpoints
    marks = {chain: kept for chain in checkpoints.chains(TRAIL, "verified")
             if isinstance(kept := checkpoints.read(TRAIL, chain, "verified"), tuple)}
    table = IndexAudit.__table__
    with engine.connect() as connection:
        head_rows = heads(connection, TRAIL)
        chains = sorted(set(head_rows) | set(marks) | set(checkpoints.chains(TRAIL)))
        # One query per chain from its mark on, along the (chain, seq) index: the cost is the new
        # entries, not the trail. Entries in no chain (written straight into the database) are always read.
        new_entries = [_entries(connection, table.c.chain.is_(None))] + [
            _entries(connection, and_(table.c.chain == chain, table.c.seq > marks.get(chain, (0, ""))[0]))
            for chain in chains]
        verdict, ends = verify_entries(setup.key, TRAIL, chain_iterables(*new_entries), head_rows, checkpoints,
                                       start=marks)
        for chain, (seq, digest) in marks.items():
            still = connection.execute(select(table.c.hash).where(table.c.chain == chain, table.c.seq == seq)).scalar()
            if still != digest:
                verdict.fail(0, f"chain {chain}: the entry checked last time is gone or changed (the chain was rewritten)")
    if verdict.broken is None:
        for chain, end in ends.items():
            if marks.get(chain) != end:
                checkpoints.record(TRAIL, chain, *end, kind="verified")
    return verdict.as_tuple()


def rekey_legacy(connection, key) -> tuple[int, str, str]:
    """Key the entries written before the chains were keyed (audit_chain.rekey_legacy_chain)."""
    def old_hash(prev, entry):
        return legacy_sha256(prev, *entry.parts)
    return rekey_legacy_chain(connection, key, TRAIL, IndexAudit.__table__,
                              _entries(connection, IndexAudit.chain == LEGACY_CHAIN), old_hash)
