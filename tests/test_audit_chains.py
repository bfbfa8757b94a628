"""Someone with write access to the database attacks both audit trails; `verify` finds every attack,
seals nothing, and the checkpoints outside the database catch truncation."""

import hashlib
import json
import subprocess
import sys

import pytest
from sqlalchemy import select, text as sql

from guide.audit import verify as verify_records
from guide.audit_chain import audit_setup
from guide.crypto import insert_bound
from guide.models import AuditEvent
from guide.index.audit import verify as verify_index, verify_new

from tests.conftest import ROOT, Client
from tests.index.test_index import look_up, setup_index, signed_in
from tests.conftest import REAL_CONTENT, build_app


@pytest.fixture
def busy_app(tmp_path):
    """Decision-trail events from several users (so several chains) and index entries from several users."""
    app = build_app(tmp_path, REAL_CONTENT)
    setup_index(app)
    for who in ("practitioner", "colleague", "records", "trainer"):
        Client(app).sign_in(who)
    for who in ("ordinary", "named_service", "cp_social_worker"):
        client = signed_in(app, who)
        for _ in range(3):
            look_up(client)
    return app


def rows(engine, table):
    with engine.connect() as connection:
        return connection.execute(sql(f"SELECT id, chain, seq FROM {table} ORDER BY id")).all()


def cli(engine, *args):
    env = {"DATABASE_URL": engine.url.render_as_string(hide_password=False), "SECRET_KEY": "x", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "guide", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env)


def snapshot(engine, table):
    with engine.connect() as connection:
        return connection.execute(sql(f"SELECT id, chain, seq, prev_hash, hash FROM {table} ORDER BY id")).all()


def test_both_trails_are_in_several_chains_and_verify(busy_app):
    engine = busy_app.extensions["db_engine"]
    assert len({chain for _, chain, _ in rows(engine, "audit_events")}) >= 3
    assert len({chain for _, chain, _ in rows(engine, "index_audit")}) >= 3
    assert verify_records(engine)[1] is None and verify_index(engine)[1] is None
    assert cli(engine, "audit", "verify").returncode == 0
    assert cli(engine, "index", "verify-audit").returncode == 0


def test_delete_an_event_and_blank_the_hashes_after_it_verify_reseals_nothing(busy_app):
    engine = busy_app.extensions["db_engine"]
    with engine.begin() as connection:
        victim = connection.execute(sql("SELECT id, chain, seq FROM audit_events WHERE chain = "
                                        "(SELECT chain FROM audit_events GROUP BY chain ORDER BY count(*) DESC LIMIT 1) "
                                        "ORDER BY seq LIMIT 1 OFFSET 1")).one()
        connection.execute(sql("DELETE FROM audit_events WHERE id = :id"), {"id": victim.id})
        connection.execute(sql("UPDATE audit_events SET prev_hash = NULL, hash = NULL, seq = NULL, chain = NULL "
                               "WHERE chain = :c AND seq > :s"), {"c": victim.chain, "s": victim.seq})
    before = snapshot(engine, "audit_events")
    result = cli(engine, "audit", "verify")
    assert result.returncode == 1 and "BROKEN" in result.stderr
    assert snapshot(engine, "audit_events") == before  # verify sealed nothing, changed nothing


def test_a_forged_event_is_found_whether_left_unsealed_or_chained_without_the_key(busy_app):
    engine = busy_app.extensions["db_engine"]
    with engine.begin() as connection:
        # Its detail sealed to its own row, as someone holding the data key (but not the audit key) could:
        # a detail copied from another event would not even open here (bound to its row, issue 15 item 9).
        table = AuditEvent.__table__
        last = connection.execute(select(table.c.at, table.c.user_id, table.c.object_type, table.c.object_id)
                                  .order_by(table.c.id.desc()).limit(1)).one()
        insert_bound(connection, table, at=last.at, user_id=last.user_id, action="record.delete",
                     object_type=last.object_type, object_id=last.object_id, detail={"reason": "forged"})
    checked, broken, why = verify_records(engine)
    assert broken and "never sealed" in why
    assert cli(engine, "audit", "verify").returncode == 1
    assert "never sealed" in verify_records(engine)[2]  # still unsealed: verify sealed nothing

    # Chained the way an attacker can (SHA-256 of the previous hash and the content: no key).
    with engine.begin() as connection:
        forged = connection.execute(sql("SELECT max(id) FROM audit_events")).scalar()
        head = connection.execute(sql("SELECT chain, seq, hash FROM audit_heads WHERE trail = 'records' "
                                      "ORDER BY chain LIMIT 1")).one()
        digest = hashlib.sha256(json.dumps([head.hash, "forged"]).encode()).hexdigest()
        connection.execute(sql("UPDATE audit_events SET chain = :c, seq = :s, prev_hash = :p, hash = :h WHERE id = :id"),
                           {"c": head.chain, "s": head.seq + 1, "p": head.hash, "h": digest, "id": forged})
        connection.execute(sql("UPDATE audit_heads SET seq = :s, hash = :h WHERE trail = 'records' AND chain = :c"),
                           {"s": head.seq + 1, "h": digest, "c": head.chain})
    checked, broken, why = verify_records(engine)
    assert broken == forged and "does not match its hash" in why


@pytest.mark.parametrize("trail, table, verify", [("records", "audit_events", verify_records),
                                                   ("index", "index_audit", verify_index)])
@pytest.mark.parametrize("how_many", ["newest", "all"])
def test_truncation_is_caught_by_the_checkpoints_outside_the_database(busy_app, trail, table, verify, how_many):
    engine = busy_app.extensions["db_engine"]
    assert verify(engine)[1] is None
    with engine.begin() as connection:
        if how_many == "newest":
            # The newest entries of every chain, and the heads moved back to match: consistent inside the database.
            for chain, seq in connection.execute(sql(f"SELECT chain, max(seq) FROM {table} GROUP BY chain")).all():
                keep = max(seq - 2, 1)
                connection.execute(sql(f"DELETE FROM {table} WHERE chain = :c AND seq > :k"), {"c": chain, "k": keep})
                last = connection.execute(sql(f"SELECT hash FROM {table} WHERE chain = :c AND seq = :k"),
                                          {"c": chain, "k": keep}).scalar()
                connection.execute(sql("UPDATE audit_heads SET seq = :k, hash = :h WHERE trail = :t AND chain = :c"),
                                   {"k": keep, "h": last, "t": trail, "c": chain})
        else:
            connection.execute(sql(f"DELETE FROM {table}"))
            connection.execute(sql("DELETE FROM audit_heads WHERE trail = :t"), {"t": trail})
    checked, broken, why = verify(engine)
    assert broken is not None and "checkpoint" in why and "removed" in why


def test_an_exported_checkpoint_catches_truncation_even_if_the_folder_is_lost(busy_app, tmp_path):
    import shutil
    engine = busy_app.extensions["db_engine"]
    exported = tmp_path / "checkpoint.json"
    result = cli(engine, "audit", "checkpoint", "--out", str(exported))
    assert result.returncode == 0, result.stderr
    shutil.rmtree(audit_setup(engine).checkpoints.folder)
    with engine.begin() as connection:
        connection.execute(sql("DELETE FROM index_audit"))
        connection.execute(sql("DELETE FROM audit_heads WHERE trail = 'index'"))
    assert cli(engine, "index", "verify-audit").returncode == 0  # the folder is gone: nothing left to compare
    result = cli(engine, "index", "verify-audit", "--checkpoint", str(exported))
    assert result.returncode == 1 and "removed" in result.stderr
    # A checkpoint file edited to match the truncated trail is refused: its signature no longer holds.
    data = json.loads(exported.read_text())
    for entry in data["checkpoints"]:
        entry["seq"] = 0
    exported.write_text(json.dumps(data))
    result = cli(engine, "index", "verify-audit", "--checkpoint", str(exported))
    assert result.returncode == 1 and "signature" in result.stderr


def test_patrol_checks_only_what_is_new_and_still_finds_a_break(busy_app):
    engine = busy_app.extensions["db_engine"]
    manager = signed_in(busy_app, "index_manager")
    first = manager.get("/index/patrol").get_data(as_text=True)
    assert "Every entry is intact" in first
    look_up(signed_in(busy_app, "ordinary"))
    assert verify_new(engine)[0] <= 3  # the new entries only (the look-up, the sign-in's views), not the whole trail
    with engine.begin() as connection:
        newest = connection.execute(sql("SELECT id FROM index_audit ORDER BY id DESC LIMIT 1")).scalar()
    look_up(signed_in(busy_app, "ordinary"))
    with engine.begin() as connection:
        connection.execute(sql("UPDATE index_audit SET reason = 'other' WHERE id = (SELECT max(id) FROM index_audit)"))
    page = manager.get("/index/patrol").get_data(as_text=True)
    assert "fails the check" in page and newest


def legacy_event_hash(prev, event_id, at, user_id, action, object_type, object_id, detail) -> str:
    """How decision-record events were chained before 0010: SHA-256, no key."""
    body = json.dumps([prev, event_id, at, user_id, action, object_type, object_id, detail],
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


@pytest.mark.parametrize("tampered", [False, True])
def test_upgrading_keys_the_old_unkeyed_chain_once_and_records_when(tmp_path, tampered):
    import datetime as dt

    from alembic import command

    from guide import create_app
    from guide.crypto import KeyRing, new_key
    from guide.db import alembic_config, migrate

    from tests.conftest import SMALL_CONTENT, fresh_database_url
    key = new_key()
    keyring = KeyRing([key])
    url = fresh_database_url(tmp_path)
    command.upgrade(alembic_config(url, keyring), "0008")
    from sqlalchemy import create_engine
    engine = create_engine(url)
    prev = "0" * 64
    with engine.begin() as connection:
        for n in range(1, 4):
            at = dt.datetime(2026, 1, 1, 9, n)
            detail = {"n": n}
            # The database draws the id (as it did then); the old chain's hash covers it.
            connection.execute(sql("INSERT INTO audit_events (at, user_id, action, object_type, object_id, detail) "
                                   "VALUES (:at, NULL, 'test.old', 'test', :oid, :detail)"),
                               {"at": at, "oid": str(n),
                                "detail": keyring.encrypt(json.dumps(detail).encode(), "audit_events.detail")})
            event_id = connection.execute(sql("SELECT max(id) FROM audit_events")).scalar()
            digest = legacy_event_hash(prev, event_id, at.strftime("%Y-%m-%dT%H:%M:%S.%f"), None, "test.old", "test",
                                       str(n), detail)
            connection.execute(sql("UPDATE audit_events SET prev_hash = :prev, hash = :hash, seq = :seq WHERE id = :id"),
                               {"prev": prev, "hash": digest, "seq": n, "id": event_id})
            prev = digest
        if tampered:
            connection.execute(sql("UPDATE audit_events SET object_id = '9' WHERE seq = 2"))
    engine.dispose()
    migrate(url, keyring)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "s", "CONTENT_DIR": SMALL_CONTENT, "ENCRYPTION_KEYS": key,
                      "AUDIT_CHECKPOINTS": str(tmp_path / "checkpoints")})
    engine = app.extensions["db_engine"]
    assert "not keyed yet" in verify_records(engine)[2]
    before = snapshot(engine, "audit_events")
    result = app.test_cli_runner().invoke(args=["audit", "rekey"])
    if tampered:
        assert result.exit_code != 0 and "fails its old (unkeyed) check" in result.output
        assert snapshot(engine, "audit_events") == before  # nothing re-keyed
        return
    assert result.exit_code == 0 and "records: 3 entries keyed" in result.output, result.output
    assert verify_records(engine) == (4, None, "")  # the three old events, keyed, and the record of the re-keying
    with engine.connect() as connection:
        assert connection.execute(sql("SELECT count(*) FROM audit_events WHERE action = 'audit.rekey'")).scalar() == 1
    assert "Nothing to re-key" in app.test_cli_runner().invoke(args=["audit", "rekey"]).output
