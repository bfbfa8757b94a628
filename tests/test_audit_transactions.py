"""An audit event commits, or not, with the change it records: with the transaction, and with a savepoint."""

from sqlalchemy import select

from guide.audit import audit
from guide.models import AuditEvent, ContentVersion


def events(app) -> list[tuple[str, str]]:
    session = app.extensions["db_sessions"]()
    try:
        return [(e.action, e.object_id) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    finally:
        session.close()


def test_an_event_in_a_savepoint_rolled_back_is_not_written_and_one_released_is(app):
    with app.app_context():
        session = app.extensions["db_sessions"]()
        audit(session, None, "test.kept_before", "thing", "1")
        savepoint = session.begin_nested()
        audit(session, None, "test.rolled_back", "thing", "2")
        session.add(ContentVersion(version="rolled-back-version", files={}))
        savepoint.rollback()
        with session.begin_nested():
            audit(session, None, "test.released", "thing", "3")
        audit(session, None, "test.kept_after", "thing", "4")
        session.commit()
        session.close()
    written = [event for event in events(app) if event[0].startswith("test.")]
    assert written == [("test.kept_before", "1"), ("test.released", "3"), ("test.kept_after", "4")]


def test_events_of_a_transaction_rolled_back_are_not_written(app):
    with app.app_context():
        session = app.extensions["db_sessions"]()
        audit(session, None, "test.gone", "thing", "1")
        session.rollback()
        audit(session, None, "test.next", "thing", "2")
        session.commit()
        session.close()
    assert [event for event in events(app) if event[0].startswith("test.")] == [("test.next", "2")]
