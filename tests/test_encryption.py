"""Encryption at rest: a copy of the database shows no one's details; look-ups, filters and keys keep working."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text as sql

from guide import create_app
from guide.audit import verify
from guide.crypto import KeyRing, UndecryptableValue, new_key
from guide.db import alembic_config, migrate
from guide.flows import enumerate_paths
from guide.models import DecisionRecord
from guide.records.saving import save_record
from guide.accounts.users import find_by_email
from guide.decisions.steps import answer, start_walk

from tests.conftest import SMALL_CONTENT, USERS, Client, build_app, record_about
from tests.records.test_records_officer import save
from tests.training.test_training_sessions import Room

SECRETS = {
    "subject": "ZQ-CHILD-99117",
    "recipient": "Zebedee Quartermaine",
    "notes": "Lives at 42 Wisteria Lane with her grandmother",
    "chat": "Ottoline told me her stepfather hits her brother Barnaby",
    "participant": "Philippa Fairweather",
}


def on_sqlite() -> bool:
    import os
    return not os.environ.get("TEST_POSTGRES_URL")


def database_bytes(app) -> bytes:
    """The database as a copy taken off the server would hold it: the file and its write-ahead log."""
    path = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def save_share_record(app, who: str, subject_ref: str, **extra) -> DecisionRecord:
    """Walk the real confidentiality flowchart to a "share" outcome and save its record, as the web form does."""
    guidance = app.extensions["guidance"]
    chart = guidance.listed_flowcharts()[0]
    path = min((p for p in enumerate_paths(chart) if chart.outcomes[p.outcome].decision == "share_without_consent"),
               key=lambda p: len(p.steps))
    session = app.extensions["db_sessions"]()
    user = find_by_email(session, USERS[who]["email"])
    walk = start_walk(session, guidance, user, chart.id)
    for question_id, value in path.steps:
        answer(session, guidance, walk, user, question_id, value)
    record = save_record(session, guidance, walk, user, {
        "subject_ref": subject_ref, "consent_position": "refused", "advice_sought": "yes", "advice_from": "Named nurse",
        "information_shared": "Missed appointments", "recipient_name": SECRETS["recipient"],
        "recipient_job_title": "Social worker", "recipient_organisation": "Northshire Children's Services",
        "recipient_contact": "0100 000 0000", "share_method": "secure_email", "shared_on": date.today().isoformat(),
        "person_told": "no", "not_told_reason": "It would put the child at risk",
        "checklist": [item.id for item in guidance.content.sharing_checklist], "basis": "public_interest",
        "basis_detail": "Risk of significant harm", **extra})
    session.commit()
    session.close()
    return record


@pytest.mark.skipif(not on_sqlite(), reason="reads the SQLite file itself")
def test_a_copied_database_file_reveals_no_childs_or_practitioners_details(real_app):
    save_share_record(real_app, "practitioner", SECRETS["subject"], notes=SECRETS["notes"])
    person = Client(real_app).sign_in("colleague")
    person.get("/chat")
    assert person.post("/chat", {"message": SECRETS["chat"]}).status_code == 303
    room = Room(real_app)
    room.participant(SECRETS["participant"])
    records = Client(real_app).sign_in("records")
    assert SECRETS["subject"] in records.get(f"/records?subject={SECRETS['subject']}").get_data(as_text=True)

    copied = database_bytes(real_app)
    assert b"Northshire Health" in copied  # agencies stay in clear for filters: this is the right file
    for secret in [*SECRETS.values(), *(spec["email"] for spec in USERS.values()), *(spec["name"] for spec in USERS.values())]:
        assert secret.encode() not in copied, f"{secret!r} is readable in the database file"


def test_look_ups_and_filters_work_on_encrypted_details(app):
    author = Client(app).sign_in("practitioner")  # sign-in finds the user by their email's blind index
    save(author, [("purpose", "no")], subject_ref="Child  A-17")
    save(author, [("purpose", "not_sure")], subject_ref="CHILD-B")
    records = Client(app).sign_in("records")
    # A reference matches however it is spaced or capitalised; nothing else matches.
    page = records.get("/records?subject=child a-17").get_data(as_text=True)
    assert "1 record" in page and "CHILD-B" not in page
    assert "2 records" in records.get("/records?author=practi").get_data(as_text=True)
    assert "No decision records match these filters" in records.get("/records?author=nobody").get_data(as_text=True)
    assert "2 records" in records.get("/records?team=Health+visiting&decision=").get_data(as_text=True)


def test_comparing_an_encrypted_column_in_sql_is_refused(app):
    from guide.models import User
    session = app.extensions["db_sessions"]()
    with pytest.raises(TypeError, match="blind index"):
        session.query(User).filter_by(email=USERS["practitioner"]["email"]).all()
    session.close()


def test_keys_rotate_and_the_old_key_can_then_be_removed(tmp_path):
    old, new = new_key(), new_key()
    app = build_app(tmp_path, SMALL_CONTENT, ENCRYPTION_KEYS=old)
    author = Client(app).sign_in("practitioner")
    save(author, [("purpose", "no")], subject_ref="ROTATE-1")
    url = app.config["DATABASE_URL"]

    both = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "CONTENT_DIR": SMALL_CONTENT,
                       "TESTING": True, "ENCRYPTION_KEYS": f"{new},{old}"})
    Client(both).sign_in("records")  # before rotating, old values still open and look-ups still match
    Client(both).sign_in("practitioner")
    runner = both.test_cli_runner()
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    status = runner.invoke(args=["keys", "status"]).output
    old_id, new_id = KeyRing([old]).primary_id, KeyRing([new]).primary_id
    assert new_id in status and f"{old_id}:" not in status.split("Keys in")[0]

    only_new = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "CONTENT_DIR": SMALL_CONTENT,
                           "TESTING": True, "ENCRYPTION_KEYS": new})
    records = Client(only_new).sign_in("records")
    page = records.get("/records?subject=ROTATE-1").get_data(as_text=True)
    assert "1 record" in page
    session = only_new.extensions["db_sessions"]()
    record_id = record_about(session, "ROTATE-1").id
    session.close()
    assert records.get(f"/records/{record_id}").status_code == 200
    engine = only_new.extensions["db_engine"]
    assert verify(engine)[1] is None  # the audit chain covers plaintext: rotation does not break it

    # The old key alone no longer opens anything.
    only_old = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "CONTENT_DIR": SMALL_CONTENT,
                           "TESTING": True, "ENCRYPTION_KEYS": old})
    session = only_old.extensions["db_sessions"]()
    with pytest.raises(UndecryptableValue):
        session.get(DecisionRecord, record_id)
    session.close()


def test_an_altered_encrypted_value_is_refused_with_a_clear_error_and_found_by_verify(app):
    author = Client(app).sign_in("practitioner")
    save(author, [("purpose", "no")], subject_ref="TAMPER-1")
    session = app.extensions["db_sessions"]()
    record_id = record_about(session, "TAMPER-1").id
    session.close()
    engine = app.extensions["db_engine"]
    with engine.begin() as connection:
        body = connection.execute(sql("SELECT body FROM decision_records WHERE id = :id"), {"id": record_id}).scalar()
        flipped = body[:-5] + ("A" if body[-5] != "A" else "B") + body[-4:]
        connection.execute(sql("UPDATE decision_records SET body = :b WHERE id = :id"), {"b": flipped, "id": record_id})
        event_id = connection.execute(sql("SELECT max(id) FROM audit_events")).scalar()
        detail = connection.execute(sql("SELECT detail FROM audit_events WHERE id = :id"), {"id": event_id}).scalar()
        # Another event's (valid) ciphertext moved here: authentic, but not this event's.
        other = connection.execute(sql("SELECT detail FROM audit_events WHERE id < :id ORDER BY id DESC LIMIT 1"),
                                   {"id": event_id}).scalar()
        assert other != detail
        connection.execute(sql("UPDATE audit_events SET detail = :d WHERE id = :id"), {"d": other, "id": event_id})
    response = author.get(f"/records/{record_id}")
    assert response.status_code == 409  # refused as tampered with (item 15.9), not a server error
    assert "changed outside the service" in response.get_data(as_text=True)
    checked, broken, why = verify(engine)
    assert broken == event_id, why


@pytest.mark.skipif(not on_sqlite(), reason="writes the pre-encryption rows with SQLite")
def test_the_migration_encrypts_rows_written_before_it(tmp_path):
    from alembic import command
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), "0006")
    with sqlite3.connect(tmp_path / "old.sqlite3") as connection:
        connection.execute("INSERT INTO users (id, email, name, role, job_title, agency, team, password_hash, active, "
                           "index_designation, service_category, created_at) VALUES (1, 'old@example.org', 'Olive Oldrow', "
                           "'practitioner', 'Nurse', 'Northshire Health', '', 'x', 1, '', '', '2026-01-01 00:00:00')")
        connection.execute("INSERT INTO audit_events (id, at, user_id, action, object_type, object_id, detail) VALUES "
                           "(1, '2026-01-01 00:00:00', 1, 'user.create', 'user', '1', '{\"email\": \"old@example.org\"}')")
    with pytest.raises(RuntimeError, match="encryption keys"):
        migrate(url)  # rows to encrypt, and no keys given: refused, nothing half done
    key = new_key()
    migrate(url, KeyRing([key]))
    raw = (tmp_path / "old.sqlite3").read_bytes()
    assert b"old@example.org" not in raw and b"Olive Oldrow" not in raw
    with sqlite3.connect(tmp_path / "old.sqlite3") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone()[0] >= "0007"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "s", "CONTENT_DIR": SMALL_CONTENT, "ENCRYPTION_KEYS": key})
    session = app.extensions["db_sessions"]()
    user = find_by_email(session, "OLD@example.org ")
    assert user.name == "Olive Oldrow" and user.job_title == "Nurse"
    session.close()
    # The event from before the audit chain is keyed, with the rest, once: `audit rekey` (migration 0014).
    assert app.test_cli_runner().invoke(args=["audit", "rekey"]).exit_code == 0
    assert verify(app.extensions["db_engine"])[1] is None
