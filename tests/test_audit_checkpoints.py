"""The checkpoints kept outside the database: written in place, two slots a file, so a write cut short
by a crash leaves the previous checkpoint readable, and an altered one is still caught."""

import hashlib
import json

from guide.audit_chain import AuditKey, Checkpoints

KEY = AuditKey(b"k" * 32)
HASH_1, HASH_2, HASH_3 = "a" * 64, "b" * 64, "c" * 64


def checkpoints(tmp_path) -> Checkpoints:
    return Checkpoints(tmp_path / "checkpoints", "sqlite:///guide.sqlite3", KEY)


def slot_bytes(entry: dict) -> bytes:
    """A slot as the checkpoints write it: the SHA-256 of the JSON, then the JSON."""
    signed = json.dumps(entry).encode()
    return hashlib.sha256(signed).hexdigest().encode() + b" " + signed


def overwrite_slot(kept: Checkpoints, trail: str, chain: int, index: int, data: bytes) -> None:
    """Put bytes at the start of a slot of a chain's checkpoint file, as a crash or an intruder would."""
    path = kept._path(trail, chain, "head")
    whole = bytearray(path.read_bytes())
    whole[index * Checkpoints.SLOT:index * Checkpoints.SLOT + len(data)] = data
    path.write_bytes(bytes(whole))


def test_the_newest_checkpoint_is_read_back_and_an_older_one_never_replaces_it(tmp_path):
    kept = checkpoints(tmp_path)
    kept.record("records", 3, 1, HASH_1)
    kept.record("records", 3, 2, HASH_2)
    kept.record("records", 3, 3, HASH_3)
    kept.record("records", 3, 2, HASH_2)  # a slower writer of an earlier head, arriving late
    assert kept.read("records", 3) == (3, HASH_3)
    assert kept.chains("records") == {3}


def test_a_write_cut_short_by_a_crash_leaves_the_previous_checkpoint(tmp_path):
    kept = checkpoints(tmp_path)
    kept.record("index", 0, 1, HASH_1)
    kept.record("index", 0, 2, HASH_2)
    torn = slot_bytes(kept.signed("index", 0, 3, HASH_3))[:120]  # the machine stopped mid-write
    overwrite_slot(kept, "index", 0, 1, torn)  # the second checkpoint went to the second slot
    assert kept.read("index", 0) == (1, HASH_1)
    # The next write goes over the torn slot, and is read back.
    kept.record("index", 0, 3, HASH_3)
    assert kept.read("index", 0) == (3, HASH_3)


def test_a_checkpoint_edited_to_an_earlier_entry_is_refused(tmp_path):
    kept = checkpoints(tmp_path)
    kept.record("index", 0, 5, HASH_1)
    path = kept._path("index", 0, "head")
    _check, _, body = path.read_bytes()[:Checkpoints.SLOT].rstrip(b"\0 ").partition(b" ")
    entry = json.loads(body)
    entry["seq"] = 1  # and the slot's SHA-256 made again to match: only the signature is beyond reach
    path.write_bytes(slot_bytes(entry).ljust(Checkpoints.SLOT))
    assert "signature is wrong" in kept.read("index", 0)


def test_a_checkpoint_file_written_before_the_slots_is_still_read_and_then_kept_up(tmp_path):
    kept = checkpoints(tmp_path)
    kept.folder.mkdir(parents=True)
    path = kept._path("records", 2, "head")
    path.write_text(json.dumps(kept.signed("records", 2, 7, HASH_1)))  # one checkpoint, no padding
    assert kept.read("records", 2) == (7, HASH_1)
    kept.record("records", 2, 8, HASH_2)
    assert kept.read("records", 2) == (8, HASH_2)


def test_an_unreadable_checkpoint_file_says_so(tmp_path):
    kept = checkpoints(tmp_path)
    kept.folder.mkdir(parents=True)
    kept._path("records", 1, "head").write_text("not a checkpoint")
    assert kept.read("records", 1) == "its checkpoint file cannot be read"


def test_a_writer_checks_again_a_slot_altered_since_it_wrote_it(tmp_path):
    # A writer keeps what the slots it wrote hold, so as not to check them again on every write: bytes
    # changed by anyone else are new bytes, and checked like any other.
    kept = checkpoints(tmp_path)
    kept.record("index", 4, 1, HASH_1)
    kept.record("index", 4, 2, HASH_2)
    forged = slot_bytes({**kept.signed("index", 4, 99, HASH_3), "signature": "0" * 64})
    overwrite_slot(kept, "index", 4, 1, forged.ljust(Checkpoints.SLOT))  # over the newest, claiming a later head
    assert "signature is wrong" in kept.read("index", 4)
    assert "signature is wrong" in checkpoints(tmp_path).read("index", 4)
    kept.record("index", 4, 3, HASH_3)  # not passed over for the forged "later" one: written over it
    assert kept.read("index", 4) == (3, HASH_3)
    assert checkpoints(tmp_path).read("index", 4) == (3, HASH_3)
