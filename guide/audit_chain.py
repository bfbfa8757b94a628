"""Keyed audit chains that grow in parallel, with their heads checkpointed outside the database.

Both audit trails (the decision records' `audit_events`, the index's `index_audit`) are split
into chains (a user's events always go to the same one: `user id % chains`), each its own
sequence 1, 2, 3… of entries whose `hash` is an HMAC-SHA256, under the audit key, of the entry
and the hash before it. Two things follow:

- Only the app can extend a chain. The audit key lives outside the database (GUIDE_AUDIT_KEY, or
  a file made once in the instance folder, like the encryption keys), so someone who can write to
  the database cannot recompute the hashes after deleting, altering or inserting an entry.
- Writers do not queue behind one lock. Appending locks one chain's head row (`audit_heads`, an
  upsert that locks it like `SELECT … FOR UPDATE` on PostgreSQL; SQLite has one writer at a time anyway): writers on other
  chains carry on, and a writer waits for its chain rather than retrying and giving up.

Each chain's head is also written, signed, as a checkpoint file to a folder the database does not
hold (GUIDE_AUDIT_CHECKPOINTS, by default the instance folder's `audit_checkpoints/`). `verify`
compares: a chain that ends before its checkpoint, or has vanished, was truncated. `verify` reads
only; it never seals or repairs anything.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from .models import AuditHead

ENV_KEY = "GUIDE_AUDIT_KEY"
ENV_CHECKPOINTS = "GUIDE_AUDIT_CHECKPOINTS"
ENV_CHAINS = "GUIDE_AUDIT_CHAINS"
DEFAULT_CHAINS = 16
LEGACY_CHAIN = -1  # entries written before the chains were keyed (migration 0014; `audit rekey`)


class AuditKeyProblem(Exception):
    pass


@dataclass(frozen=True)
class AuditKey:
    """The secret the chains are keyed with; never stored in the database."""

    raw: bytes
    _genesis: dict = field(default_factory=dict, compare=False, repr=False)

    def mac(self, *parts) -> str:
        body = json.dumps(list(parts), sort_keys=True, separators=(",", ":"), default=str)
        return hmac.new(self.raw, body.encode(), hashlib.sha256).hexdigest()

    def genesis(self, trail: str, chain: int) -> str:
        # Each chain starts from its own value, so first entries never collide (prev_hash is unique).
        # Asked on every append: worked out once per chain.
        found = self._genesis.get((trail, chain))
        if found is None:
            found = self._genesis[(trail, chain)] = self.mac("genesis", trail, chain)
        return found


def load_audit_key(instance_path: Path, configured: str | None = None) -> AuditKey:
    """The key from configuration or GUIDE_AUDIT_KEY; else one made once in the instance folder."""
    from .crypto import new_key, secret_file
    encoded = configured or os.environ.get(ENV_KEY) or secret_file(instance_path / "audit_key", new_key)
    try:
        raw = base64.urlsafe_b64decode(encoded.strip().encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise AuditKeyProblem(f"{ENV_KEY} must be 32 bytes, base64 encoded (make one with `flask --app guide keys new`).")
    return AuditKey(raw)


def chain_count() -> int:
    return max(1, int(os.environ.get(ENV_CHAINS, DEFAULT_CHAINS)))


def chain_for(user_id: int | None, chains: int | None = None) -> int:
    """A user's entries always go to the same chain; entries with no user (commands) to chain 0."""
    return (user_id or 0) % (chains or chain_count())


@dataclass(frozen=True)
class AuditSetup:
    """What appending and verifying need besides the database: the key, the checkpoints, how many chains."""

    key: AuditKey
    checkpoints: "Checkpoints"
    chains: int


def attach_audit(engine, setup: AuditSetup) -> None:
    """Give an engine its audit key and checkpoints (as encrypted columns get their keys: on the dialect)."""
    engine.dialect.guide_audit = setup


def audit_setup(bind) -> AuditSetup:
    """The engine's audit setup; an engine made outside the app (a script, a benchmark) gets what the app
    would have by default: the environment's settings, else the default instance folder's."""
    setup = getattr(bind.dialect, "guide_audit", None)
    if setup is None:
        from .config import PACKAGE_ROOT
        engine = getattr(bind, "engine", bind)
        setup = make_audit_setup(PACKAGE_ROOT.parent / "instance", engine.url.render_as_string(hide_password=False))
        attach_audit(engine, setup)
    return setup


def make_audit_setup(instance_path: Path, database_url: str, configured_key: str | None = None,
                     checkpoint_folder: str | None = None) -> AuditSetup:
    instance_path.mkdir(parents=True, exist_ok=True)
    key = load_audit_key(instance_path, configured_key)
    folder = Path(checkpoint_folder or os.environ.get(ENV_CHECKPOINTS) or instance_path / "audit_checkpoints")
    return AuditSetup(key, Checkpoints(folder, database_url, key), chain_count())


# --- appending -------------------------------------------------------------------------------------

def _lock_head_statement(dialect_name: str):
    table = AuditHead.__table__
    insert = pg_insert if dialect_name == "postgresql" else sqlite_insert
    statement = insert(table).values(trail=bindparam("trail"), chain=bindparam("chain"), seq=0,
                                     hash=bindparam("genesis"))
    # Made if new, or "updated" to itself, which locks the row for this transaction like
    # SELECT … FOR UPDATE (PostgreSQL), and returned: one statement.
    return statement.on_conflict_do_update(index_elements=[table.c.trail, table.c.chain],
                                           set_={"seq": table.c.seq}).returning(table.c.seq, table.c.hash)


# Built once per dialect, and once: every audited commit runs both.
_LOCK_HEAD = {name: _lock_head_statement(name) for name in ("postgresql", "sqlite")}
_MOVE_HEAD = (update(AuditHead.__table__)
              .where(AuditHead.__table__.c.trail == bindparam("head_trail"), AuditHead.__table__.c.chain == bindparam("head_chain"))
              .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")))


def lock_head(connection: Connection, key: AuditKey, trail: str, chain: int) -> tuple[int, str]:
    """Take the chain's head row for this transaction (made if new); returns its (seq, hash)."""
    # Writing first also takes SQLite's write lock before anything is read, so what is read next
    # (a rate limit's count) cannot change before this transaction commits.
    name = connection.dialect.name
    statement = _LOCK_HEAD[name] if name in _LOCK_HEAD else _lock_head_statement(name)
    row = connection.execute(statement, {"trail": trail, "chain": chain, "genesis": key.genesis(trail, chain)}).one()
    return row.seq, row.hash


def move_head(connection: Connection, trail: str, chain: int, seq: int, digest: str) -> None:
    connection.execute(_MOVE_HEAD, {"head_trail": trail, "head_chain": chain, "new_seq": seq, "new_hash": digest})


def heads(connection: Connection, trail: str) -> dict[int, tuple[int, str]]:
    table = AuditHead.__table__
    return {row.chain: (row.seq, row.hash) for row in connection.execute(
        select(table.c.chain, table.c.seq, table.c.hash).where(table.c.trail == trail))}


# --- checkpoints outside the database --------------------------------------------------------------

_UNKNOWN = object()


class Checkpoints:
    """Signed chain heads in a folder of their own, one file per chain.

    The folder holds one sub-folder per database (named from its URL, without the password), so
    test databases or a staging copy never mix with production's checkpoints.

    A file holds two slots of SLOT bytes, each a signed checkpoint (JSON, after the SHA-256 of that
    JSON, padded). A new checkpoint is written in place over the older slot, so the newer one is never
    touched while writing: if the machine stops mid-write, the torn slot fails its SHA-256 and is
    passed over, and the other still holds the previous checkpoint (a slot whose SHA-256 holds but
    whose signature does not was altered). Writing in place costs one small write; replacing the file (write a copy, rename it
    over the old) costs the file system a flush of the copy on every audited commit. A file written
    before the slots (one checkpoint, no padding) reads as its first slot.
    """

    SLOT = 512

    def __init__(self, folder: Path, database_url: str, key: AuditKey):
        from sqlalchemy.engine import make_url
        plain = make_url(database_url).set(password=None).render_as_string(hide_password=False)
        self.folder = Path(folder) / hashlib.sha256(plain.encode()).hexdigest()[:16]
        self.key = key
        self._known: dict[tuple, object] = {}  # (trail, chain, kind, a slot's bytes) → what they hold (_slot)

    def _path(self, trail: str, chain: int, kind: str) -> Path:
        return self.folder / f"{trail}.{chain}.{kind}.json"

    def _sign(self, trail: str, chain: int, kind: str, seq: int, digest: str) -> dict:
        return {"trail": trail, "chain": chain, "kind": kind, "seq": seq, "hash": digest,
                "signature": self.key.mac("checkpoint", trail, chain, kind, seq, digest)}

    def record(self, trail: str, chain: int, seq: int, digest: str, kind: str = "head") -> None:
        """Keep (seq, hash) as the chain's checkpoint, unless a later one is already kept."""
        signed = json.dumps(self._sign(trail, chain, kind, seq, digest)).encode()
        body = hashlib.sha256(signed).hexdigest().encode() + b" " + signed
        if len(body) > self.SLOT:
            raise ValueError("a checkpoint does not fit its slot")
        path = self._path(trail, chain, kind)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:  # the first checkpoint for this database
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # writers of one chain in other processes take turns here
            slots = self._slots(os.pread(fd, 2 * self.SLOT, 0), trail, chain, kind)
            kept = [(slot[0], index) for index, slot in enumerate(slots) if isinstance(slot, tuple)]
            newest = max(kept, default=None)
            if newest is not None and newest[0] >= seq:
                return
            # Over the slot that does not hold the newest checkpoint (an unreadable slot first).
            target = 1 - newest[1] if newest is not None else 0
            written = body.ljust(self.SLOT)
            os.pwrite(fd, written, target * self.SLOT)
            self._remember(trail, chain, kind, written, (seq, digest))
        finally:
            os.close(fd)  # closing releases the lock

    def _slots(self, data: bytes, trail: str, chain: int, kind: str) -> list:
        """Each slot's (seq, hash); None when empty or torn; a string saying why when its signature fails."""
        return [self._slot(data[index * self.SLOT:(index + 1) * self.SLOT], trail, chain, kind) for index in (0, 1)]

    def _slot(self, raw: bytes, trail: str, chain: int, kind: str):
        # The same bytes always read the same way (the key does not change), so what a slot's bytes were found
        # to hold is kept: a writer finds the two slots it wrote itself last time without checking them again.
        # Bytes altered by anyone are new bytes, and are checked.
        known = self._known.get((trail, chain, kind, raw), _UNKNOWN)
        if known is _UNKNOWN:
            known = self._check_slot(raw, trail, chain, kind)
            self._remember(trail, chain, kind, raw, known)
        return known

    def _remember(self, trail: str, chain: int, kind: str, raw: bytes, found) -> None:
        if len(self._known) >= 1024:  # two slots for each chain a process writes: rarely reached
            self._known.clear()
        self._known[(trail, chain, kind, raw)] = found

    def _check_slot(self, raw: bytes, trail: str, chain: int, kind: str):
        text = raw.rstrip(b"\0 \n")
        if not text:
            return None
        if not text.startswith(b"{"):  # a slot: the SHA-256 of its JSON, then the JSON
            check, _, text = text.partition(b" ")
            if hashlib.sha256(text).hexdigest().encode() != check:
                return None  # torn by a write that never finished: the other slot holds the previous one
        try:
            entry = json.loads(text)
            expected = self._sign(trail, chain, kind, int(entry["seq"]), str(entry["hash"]))
        except (ValueError, KeyError, TypeError):
            return "its checkpoint file cannot be read"
        if not hmac.compare_digest(expected["signature"], str(entry.get("signature", ""))):
            return "its checkpoint file's signature is wrong (the file was altered)"
        return (expected["seq"], expected["hash"])

    def read(self, trail: str, chain: int, kind: str = "head"):
        """(seq, hash); None when there is none; a string saying why when it cannot be trusted."""
        path = self._path(trail, chain, kind)
        try:
            with open(path, "rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH)  # not half-way through a write
                data = handle.read(2 * self.SLOT)
        except FileNotFoundError:
            return None
        except OSError:
            return "its checkpoint file cannot be read"
        slots = self._slots(data, trail, chain, kind)
        untrusted = next((slot for slot in slots if isinstance(slot, str)), None)
        if untrusted:
            return untrusted
        kept = [slot for slot in slots if isinstance(slot, tuple)]
        if kept:
            return max(kept)
        return "its checkpoint file cannot be read" if data.strip(b"\0 \n") else None

    def chains(self, trail: str, kind: str = "head") -> set[int]:
        if not self.folder.exists():
            return set()
        found = set()
        for path in self.folder.glob(f"{trail}.*.{kind}.json"):
            try:
                found.add(int(path.name.split(".")[1]))
            except ValueError:
                continue
        return found

    def export(self, trail: str) -> list[dict]:
        return [self._sign(trail, chain, "head", *kept) for chain in sorted(self.chains(trail))
                if isinstance(kept := self.read(trail, chain), tuple)]

    def signed(self, trail: str, chain: int, seq: int, digest: str) -> dict:
        return self._sign(trail, chain, "head", seq, digest)

    def check_exported(self, entry: dict) -> tuple[int, int, str] | None:
        """An exported checkpoint's (chain, seq, hash) if its signature holds, else None."""
        try:
            chain, seq, digest = int(entry["chain"]), int(entry["seq"]), str(entry["hash"])
            expected = self._sign(str(entry["trail"]), chain, "head", seq, digest)
        except (KeyError, TypeError, ValueError):
            return None
        return (chain, seq, digest) if hmac.compare_digest(expected["signature"], str(entry.get("signature", ""))) else None


# --- verifying -------------------------------------------------------------------------------------

@dataclass
class Verdict:
    checked: int = 0
    broken: int | None = None  # the first broken entry's id (0 when the break is not one entry)
    why: str = ""

    def fail(self, entry_id, why: str) -> "Verdict":
        if self.broken is None:
            self.broken, self.why = entry_id or 0, why
        return self

    def as_tuple(self):
        return self.checked, self.broken, self.why


@dataclass
class Entry:
    """One stored entry as verification sees it: `parts` is what its hash covers (or why it cannot be read)."""

    id: int
    chain: int | None
    seq: int | None
    prev_hash: str | None
    hash: str | None
    parts: list | str


def verify_entries(key: AuditKey, trail: str, entries, head_rows: dict[int, tuple[int, str]],
                   checkpoints: Checkpoints, extra: list[tuple[int, int, str]] = (),
                   start: dict[int, tuple[int, str]] | None = None) -> tuple[Verdict, dict[int, tuple[int, str]]]:
    """Check entries (ordered by chain, then seq) link, number and hash correctly, then their ends.

    `start` lets a check begin after entries already verified: {chain: (seq, hash)}; entries at or
    before it are not read again. Returns the verdict and where each chain ends.
    """
    verdict, ends = Verdict(), {}
    start = start or {}
    pinned: dict[int, tuple[int, str]] = {}
    for chain in checkpoints.chains(trail):
        kept = checkpoints.read(trail, chain)
        if isinstance(kept, tuple):
            pinned[chain] = kept
    for chain, seq, digest in extra:  # an exported checkpoint given to `verify`
        if chain not in pinned or pinned[chain][0] < seq:
            pinned[chain] = (seq, digest)
    legacy_keyed = LEGACY_CHAIN in head_rows
    for entry in entries:
        verdict.checked += 1
        if entry.chain is None or entry.seq is None or entry.hash is None:
            verdict.fail(entry.id, "it was never sealed into a chain by the app (it was written into the database)")
            continue
        if entry.chain == LEGACY_CHAIN and not legacy_keyed:
            verdict.fail(entry.id, "the entries from before the chains were keyed are not keyed yet: "
                                   "run `flask --app guide audit rekey`")
            continue
        seq, prev = ends.get(entry.chain) or start.get(entry.chain) or (0, key.genesis(trail, entry.chain))
        if entry.seq != seq + 1 or entry.prev_hash != prev:
            verdict.fail(entry.id, "it does not follow the entry before it in its chain (an entry was removed, "
                                   "added or reordered)")
        elif isinstance(entry.parts, str):
            verdict.fail(entry.id, entry.parts)
        elif not hmac.compare_digest(key.mac(trail, entry.chain, entry.seq, prev, *entry.parts), entry.hash):
            verdict.fail(entry.id, "its content does not match its hash (it was altered, or written without the audit key)")
        kept = pinned.get(entry.chain)
        if kept and kept[0] == entry.seq and kept[1] != entry.hash:
            verdict.fail(entry.id, "it is not the entry the checkpoint outside the database holds (the chain was rewritten)")
        ends[entry.chain] = (entry.seq, entry.hash)
    for chain, where in start.items():
        ends.setdefault(chain, where)
    return check_ends(verdict, trail, ends, head_rows, checkpoints, extra), ends


def entry_hash(key: AuditKey, trail: str, chain: int, seq: int, prev_hash: str, *parts) -> str:
    return key.mac(trail, chain, seq, prev_hash, *parts)


def verify_trail(engine, trail: str, read_entries, exported: list[tuple[int, int, str]] = ()) -> tuple:
    """Check a whole trail (`read_entries(connection)` yields its Entry rows in chain order). Reads only.
    Returns (entries checked, first broken id or None (0 when no one entry is to blame), why)."""
    setup = audit_setup(engine)
    with engine.connect() as connection:
        verdict, _ends = verify_entries(setup.key, trail, read_entries(connection), heads(connection, trail),
                                        setup.checkpoints, exported)
    return verdict.as_tuple()


def rekey_legacy_chain(connection, key: AuditKey, trail: str, table, entries, old_hash) -> tuple[int, str, str]:
    """Key the entries chained before the chains were keyed (chain -1), after checking each against its
    old unkeyed hash (`old_hash(prev, entry)`). Returns (entries keyed, the old chain's last hash, the new
    head). Raises ValueError, having changed nothing the caller commits, if the old chain is broken."""
    prev_old, prev_new, seq, unsealed = "0" * 64, key.genesis(trail, LEGACY_CHAIN), 0, 0
    for entry in list(entries):
        if isinstance(entry.parts, str):
            raise ValueError(f"{trail} audit entry {entry.id}: {entry.parts}")
        if entry.hash is None and entry.prev_hash is None:
            unsealed += 1  # written before there was a chain, never sealed: only at the end (migration 0014)
        elif unsealed or entry.prev_hash != prev_old or old_hash(prev_old, entry) != entry.hash:
            raise ValueError(f"{trail} audit entry {entry.id} fails its old (unkeyed) check: not re-keyed")
        seq += 1
        digest = entry_hash(key, trail, LEGACY_CHAIN, seq, prev_new, *entry.parts)
        connection.execute(table.update().where(table.c.id == entry.id).values(seq=seq, prev_hash=prev_new, hash=digest))
        prev_old, prev_new = entry.hash or prev_old, digest
    return seq, prev_old, prev_new


def legacy_sha256(*parts) -> str:
    """The unkeyed hash the chains used before migration 0014."""
    body = json.dumps(list(parts), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def check_ends(verdict: Verdict, trail: str, ends: dict[int, tuple[int, str]], head_rows: dict[int, tuple[int, str]],
               checkpoints: Checkpoints, extra: list[tuple[int, int, str]] = ()) -> Verdict:
    """Compare where each chain ends in the database with its head row and the checkpoints outside it."""
    for chain in sorted(set(ends) | set(head_rows)):
        if chain == LEGACY_CHAIN:
            continue
        if ends.get(chain, (0, None))[0] != head_rows.get(chain, (0, None))[0] or (
                chain in ends and ends[chain][1] != head_rows.get(chain, (0, ""))[1]):
            verdict.fail(0, f"chain {chain} does not end where its head says (entries were removed or added)")
    wanted = [(chain, kept) for chain in sorted(checkpoints.chains(trail)) for kept in [checkpoints.read(trail, chain)]]
    wanted += [(chain, (seq, digest)) for chain, seq, digest in extra]
    for chain, kept in wanted:
        if isinstance(kept, str):
            verdict.fail(0, f"chain {chain}: {kept}")
        elif kept is not None:
            seq, digest = kept
            if ends.get(chain, (0, None))[0] < seq:
                verdict.fail(0, f"chain {chain} ends at entry {ends.get(chain, (0,))[0]} but its checkpoint outside "
                                f"the database is at entry {seq} (the newest entries were removed)")
    return verdict
