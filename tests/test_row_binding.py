"""Someone who can write to the database swaps encrypted values between rows (issue 15, item 9).

Before, swapping two decision records' encrypted body, reference and CSV line showed one child's
record under the other's id, with no warning. Each value is now bound to its row as well as its
column: a moved value does not open, the pages refuse it without showing either child, nothing is
changed, and `audit verify` (and `keys check`) name the rows.
"""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy import text as sql

from guide import create_app
from guide.crypto import KeyRing, encrypted_columns, new_key
from guide.db import Base, alembic_config, migrate
from guide.models import IndexChild

from tests.conftest import REAL_CONTENT, SMALL_CONTENT, Client, build_app, record_about
from tests.decisions.test_walk_journey import walk_to
from tests.index.test_index import CHILD, look_up, setup_index, signed_in
from tests.records.test_records_officer import save

ALPHA = {"subject_ref": "CHILD-ALPHA-7", "notes": "Alpha is staying with her aunt in Elmfield"}
BRAVO = {"subject_ref": "CHILD-BRAVO-3", "notes": "Bravo's father was seen at the school gate"}
SWAPPED = ("body", "subject_ref", "csv_row")


def saved_pair(app, author):
    """Two decision records by one author, about two children: their ids."""
    save(author, [("purpose", "no")], **ALPHA)
    save(author, [("purpose", "no")], **BRAVO)
    session = app.extensions["db_sessions"]()
    ids = record_about(session, ALPHA["subject_ref"]).id, record_about(session, BRAVO["subject_ref"]).id
    session.close()
    return ids


def raw_rows(engine, table: str, key: str, ids, columns) -> list:
    with engine.connect() as connection:
        return [connection.execute(sql(f"SELECT {', '.join(columns)} FROM {table} WHERE {key} = :id"), {"id": id_}).one()
                for id_ in ids]


def swap(engine, table: str, key: str, first, second, columns) -> None:
    """The attack, as raw SQL: each row gets the other row's stored (encrypted) values."""
    one, other = raw_rows(engine, table, key, (first, second), columns)
    assigned = ", ".join(f"{name} = :{name}" for name in columns)
    with engine.begin() as connection:
        connection.execute(sql(f"UPDATE {table} SET {assigned} WHERE {key} = :id"), {**other._mapping, "id": first})
        connection.execute(sql(f"UPDATE {table} SET {assigned} WHERE {key} = :id"), {**one._mapping, "id": second})


def shows_nothing_of_either_child(page: str) -> bool:
    return not any(secret in page for child in (ALPHA, BRAVO) for secret in child.values())


def test_two_records_with_their_body_reference_and_csv_line_swapped_are_refused_and_named_by_verify(app):
    author = Client(app).sign_in("practitioner")
    alpha, bravo = saved_pair(app, author)
    assert ALPHA["notes"] in author.get(f"/records/{alpha}").get_data(as_text=True)  # opens before the attack
    engine = app.extensions["db_engine"]
    swap(engine, "decision_records", "id", alpha, bravo, SWAPPED)
    stored = raw_rows(engine, "decision_records", "id", (alpha, bravo), ("*",))

    for record_id in (alpha, bravo):
        for address in (f"/records/{record_id}", f"/records/{record_id}.pdf"):
            response = author.get(address)
            page = response.get_data(as_text=True)
            assert response.status_code == 409, (address, page[:300])
            assert "This record cannot be opened" in page and "tampered with" in page
            assert shows_nothing_of_either_child(page)
    officer = Client(app).sign_in("records")
    download = officer.get("/records/export.csv")
    assert download.status_code == 409 and shows_nothing_of_either_child(download.get_data(as_text=True))
    assert raw_rows(engine, "decision_records", "id", (alpha, bravo), ("*",)) == stored  # nothing changed

    runner = app.test_cli_runner()
    for command_args in (["audit", "verify"], ["keys", "check"]):
        result = runner.invoke(args=command_args)
        assert result.exit_code == 1, result.output
        for record_id in (alpha, bravo):
            for column in SWAPPED:
                assert f"decision_records.{column} of row {record_id}" in result.output

    swap(engine, "decision_records", "id", alpha, bravo, SWAPPED)  # put back where they belong, they open again
    assert ALPHA["notes"] in author.get(f"/records/{alpha}").get_data(as_text=True)
    assert BRAVO["notes"] in author.get(f"/records/{bravo}").get_data(as_text=True)
    assert runner.invoke(args=["keys", "check"]).exit_code == 0


SECOND_CHILD = dict(upn="A000000000077", family_name="Lindqvist", given_name="Maja", dob=dt.date(2013, 8, 2),
                    gender="Female", address="9 Quarry Row, Southtown", postcode="ZZ9 8YX", carer_name="Ingrid Lindqvist",
                    carer_contact="07700 900456", school="Southtown Primary", gp_practice="Harbour Surgery")


def test_two_childrens_index_details_swapped_are_refused_on_look_up(tmp_path):
    app = build_app(tmp_path, REAL_CONTENT)
    setup_index(app)
    session = app.extensions["db_sessions"]()
    session.add(IndexChild(**SECOND_CHILD))
    session.commit()
    first, second = sorted(session.scalars(select(IndexChild.id)))
    session.close()
    engine = app.extensions["db_engine"]
    details = [column.name for column in encrypted_columns(IndexChild.__table__)]
    swap(engine, "index_children", "id", first, second, details)
    stored = raw_rows(engine, "index_children", "id", (first, second), ("*",))

    client = signed_in(app, "cp_social_worker")
    response = look_up(client)  # finds the first child by its (unswapped) blind index
    if response.status_code == 303:
        response = client.get(response.location)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "tampered with" in page
    for secret in (SECOND_CHILD["address"], SECOND_CHILD["carer_contact"], SECOND_CHILD["given_name"],
                   CHILD["address"], CHILD["carer_contact"]):
        assert secret not in page
    assert raw_rows(engine, "index_children", "id", (first, second), ("*",)) == stored
    result = app.test_cli_runner().invoke(args=["keys", "check"])
    assert result.exit_code == 1 and f"index_children.address of row {first}" in result.output


def test_a_walks_answers_and_reference_swapped_with_another_walks_are_refused(app):
    author = Client(app).sign_in("practitioner")
    first, second = walk_to(author, [("purpose", "no")]), walk_to(author, [("purpose", "not_sure")])
    engine = app.extensions["db_engine"]
    swap(engine, "walks", "id", first, second, ("answers", "subject_ref"))
    stored = raw_rows(engine, "walks", "id", (first, second), ("*",))
    for walk_id in (first, second):
        response = author.get(f"/walks/{walk_id}/check")
        assert response.status_code == 409 and "tampered with" in response.get_data(as_text=True)
        answered = author.answer(walk_id, "purpose", "yes")  # nor can either be answered
        assert answered.status_code == 409 and "tampered with" in answered.get_data(as_text=True)
    assert raw_rows(engine, "walks", "id", (first, second), ("*",)) == stored


def test_keys_rotate_rebinds_each_value_to_its_own_row_under_the_new_key(tmp_path):
    old, new = new_key(), new_key()
    app = build_app(tmp_path, SMALL_CONTENT, ENCRYPTION_KEYS=old)
    alpha, bravo = saved_pair(app, Client(app).sign_in("practitioner"))
    both = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "test-secret",
                       "CONTENT_DIR": SMALL_CONTENT, "TESTING": True, "ENCRYPTION_KEYS": f"{new},{old}"})
    runner = both.test_cli_runner()
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    assert runner.invoke(args=["keys", "check"]).exit_code == 0
    engine = both.extensions["db_engine"]
    new_id = KeyRing([new]).primary_id
    assert all(value.startswith(f"g2.{new_id}.") for row in raw_rows(engine, "decision_records", "id", (alpha, bravo),
                                                                      SWAPPED) for value in row)
    author = Client(both).sign_in("practitioner")
    assert ALPHA["notes"] in author.get(f"/records/{alpha}").get_data(as_text=True)
    swap(engine, "decision_records", "id", alpha, bravo, SWAPPED)  # still bound to their rows after rotating
    assert author.get(f"/records/{alpha}").status_code == 409


def old_form_values(engine) -> dict[str, int]:
    """How many values of each encrypted column are still bound to their column only (`g1.`)."""
    counts = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for column in encrypted_columns(table):
                counts[f"{table.name}.{column.name}"] = connection.execute(
                    sql(f"SELECT count(*) FROM {table.name} WHERE {column.name} LIKE 'g1.%'")).scalar()
    return counts


def test_the_migration_rebinds_every_value_written_before_it_in_batches(app, monkeypatch):
    """A database whose values are all in the old form (bound to their columns only, as migration 0014
    left them) is rebound, batch by batch, by 0015: none is left in the old form and all still open."""
    author = Client(app).sign_in("practitioner")
    alpha, bravo = saved_pair(app, author)
    Client(app).sign_in("records")
    url, keyring, engine = app.config["DATABASE_URL"], app.extensions["keyring"], app.extensions["db_engine"]
    command.downgrade(alembic_config(url, keyring), "0014")
    before = old_form_values(engine)
    assert before["decision_records.body"] == 2 and before["users.email"] >= 2 and before["audit_events.detail"] > 5
    body = raw_rows(engine, "decision_records", "id", (alpha,), ("body",))[0].body
    assert ALPHA["notes"] in keyring.decrypt(body, "decision_records.body").decode()  # the old form, as 0014 had it
    with pytest.raises(RuntimeError, match="encryption keys"):
        migrate(url)  # values to re-encrypt and no keys: refused
    monkeypatch.setattr("guide.key_rotation.BATCH", 2)  # many batches, each after the last key seen
    migrate(url, keyring)
    assert set(old_form_values(engine).values()) == {0}
    with engine.connect() as connection:
        assert connection.execute(sql("SELECT version_num FROM alembic_version")).scalar() == "0015"
    assert app.test_cli_runner().invoke(args=["keys", "check"]).exit_code == 0
    assert ALPHA["notes"] in author.get(f"/records/{alpha}").get_data(as_text=True)
    # An old-form value copied back in (from a backup taken before the migration) is refused too.
    with engine.begin() as connection:
        connection.execute(sql("UPDATE decision_records SET body = :b WHERE id = :id"), {"b": body, "id": alpha})
    assert author.get(f"/records/{alpha}").status_code == 409


def test_a_write_that_fails_leaves_the_objects_values_as_they_were(app):
    """Values are handed to the database wrapped with their row's key; a flush that fails unwraps them."""
    from sqlalchemy.exc import IntegrityError
    from guide.models import Walk
    session = app.extensions["db_sessions"]()
    walk = Walk(user_id=999_999, flowchart_id="mini", content_version="none such", answers={"purpose": "no"},
                subject_ref="CHILD-GAMMA")
    session.add(walk)
    with pytest.raises(IntegrityError):
        session.flush()  # no such user or content version
    session.rollback()
    assert walk.answers == {"purpose": "no"} and walk.subject_ref == "CHILD-GAMMA"
    session.close()
