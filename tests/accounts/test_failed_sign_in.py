"""A failed sign-in keeps nothing a person typed in clear (issue 15.11)."""

from __future__ import annotations

from sqlalchemy import inspect, select, text

from guide.models import AuditEvent

from tests.conftest import Client

TYPED_EMAIL = "pat@example.org"
PASSWORD_IN_THE_EMAIL_BOX = "Sup3r-Secret-Passw0rd"


def everything_stored(app) -> str:
    """Every value of every table, as the database holds it, plus the audit trail as the app reads it."""
    engine = app.extensions["db_engine"]
    parts = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                parts.extend(str(value) for value in row)
    session = app.extensions["db_sessions"]()
    for event in session.scalars(select(AuditEvent)):
        parts += [event.object_id, str(event.detail)]
    session.close()
    return "\n".join(parts).casefold()


def test_failed_sign_ins_store_neither_the_email_nor_a_password_typed_as_one(app):
    attempt = Client(app)
    attempt.get("/sign-in")
    assert attempt.post("/sign-in", {"email": TYPED_EMAIL, "password": "the wrong password"}).status_code == 400
    assert attempt.post("/sign-in", {"email": PASSWORD_IN_THE_EMAIL_BOX, "password": "x" * 12}).status_code == 400
    stored = everything_stored(app)
    assert PASSWORD_IN_THE_EMAIL_BOX.casefold() not in stored
    assert TYPED_EMAIL not in stored.replace("'email': 'pat@example.org'", "")  # the account's own creation event
    session = app.extensions["db_sessions"]()
    failures = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.failed")).all()
    session.close()
    # Still audited: two failures, one naming an account that exists, with nothing typed.
    assert [(event.object_id, event.detail) for event in failures] == [
        ("", {"account_known": True}), ("", {"account_known": False})]
