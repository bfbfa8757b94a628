"""The index's audit trail: append-only and hash-chained, so an altered or removed entry is found.

Each entry's hash covers its content and the previous entry's hash; `prev_hash` is unique,
so two writers can never both extend the same entry. Entries are written in their own
short transaction, so a refusal is recorded even though the request changes nothing else.

The user's words (`reason_text`) and the `detail` (a look-up's criteria: names, date of birth,
number) are encrypted in the database; the hash covers their plaintext, so rotating the key
leaves the chain intact, and an entry whose ciphertext was altered (it no longer decrypts) is
reported as broken like any other altered entry.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime

from sqlalchemy import Text, insert, select, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from ..crypto import UndecryptableValue
from ..models import IndexAudit, utcnow

GENESIS = "0" * 64


def entry_hash(prev_hash: str, at: datetime, user_id, action: str, child_id, reason: str, reason_text: str,
               detail: dict) -> str:
    stamp = (at if at.tzinfo else at.replace(tzinfo=None)).strftime("%Y-%m-%dT%H:%M:%S.%f")
    body = json.dumps([prev_hash, stamp, user_id, action, child_id, reason, reason_text, detail],
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def append(engine: Engine, *, user_id, action: str, child_id=None, reason: str = "", reason_text: str = "",
           detail: dict | None = None) -> int:
    detail = detail or {}
    for attempt in range(50):
        try:
            with engine.begin() as connection:
                last = connection.execute(select(IndexAudit.hash).order_by(IndexAudit.id.desc()).limit(1)).scalar()
                prev = last or GENESIS
                at = utcnow().replace(tzinfo=None)
                digest = entry_hash(prev, at, user_id, action, child_id, reason, reason_text, detail)
                result = connection.execute(insert(IndexAudit).values(
                    at=at, user_id=user_id, action=action, child_id=child_id, reason=reason, reason_text=reason_text,
                    detail=detail, prev_hash=prev, hash=digest))
                return result.inserted_primary_key[0]
        except (IntegrityError, OperationalError):
            time.sleep(0.002 * (attempt + 1))  # another entry took that place: read the new end and try again
    raise RuntimeError("could not append to the index audit trail")


def verify(engine: Engine) -> tuple[int, int | None, str]:
    """Check every entry's hash and link. Returns (entries checked, first broken id or None, why)."""
    prev = GENESIS
    count = 0
    table = IndexAudit.__table__
    encrypted = ("reason_text", "detail")
    # The encrypted columns are read as they are stored and opened here, so a value that no longer
    # decrypts (altered in the database) is reported as a broken entry rather than stopping the check.
    columns = [c for c in table.c if c.name not in encrypted] + [type_coerce(table.c[name], Text).label(name)
                                                                  for name in encrypted]
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).order_by(table.c.id)).mappings()
        for row in rows:
            count += 1
            at = row["at"].replace(tzinfo=None)
            if row["prev_hash"] != prev:
                return count, row["id"], "it does not follow the entry before it (an entry was removed or reordered)"
            try:
                opened = {name: table.c[name].type.process_result_value(row[name], connection.dialect)
                          for name in encrypted}
            except UndecryptableValue:
                return count, row["id"], "its reason or detail does not decrypt (it was altered)"
            if entry_hash(prev, at, row["user_id"], row["action"], row["child_id"], row["reason"], opened["reason_text"],
                          opened["detail"]) != row["hash"]:
                return count, row["id"], "its content does not match its hash (it was altered)"
            prev = row["hash"]
    return count, None, ""
