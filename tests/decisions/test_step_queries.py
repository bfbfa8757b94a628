"""What one step asks of the database: answering a question is one commit, and neither half of a
step sends a statement it does not need (counted as sent, not timed: bench/step_latency.py times)."""

from contextlib import contextmanager

from sqlalchemy import event

from tests.conftest import Client

# Answering: the session and its user (one query, with the header's advice count), the walk (with whether
# it is recorded), then the audit head taken, the audit event inserted already sealed, its detail sealed to
# the id the database gave it (encrypted values are bound to their row, issue 15 item 9), the walk updated,
# the head moved.
POST_STATEMENTS = 7
# The next question: the session and its user with the advice count, the walk with whether it is recorded.
GET_STATEMENTS = 2


@contextmanager
def sent(app):
    """The SQL statements and commits the app sends while the block runs."""
    engine = app.extensions["db_engine"]
    seen = {"statements": [], "commits": 0}

    def statement(_conn, _cursor, sql, _params, _context, _many):
        seen["statements"].append(" ".join(sql.split()))

    def commit(_conn):
        seen["commits"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


def started(app) -> tuple[Client, str]:
    client = Client(app).sign_in("practitioner")
    walk_id = client.start("mini")
    client.get(f"/walks/{walk_id}/purpose")
    return client, walk_id


def test_answering_a_question_is_one_commit_and_at_most_seven_statements(app):
    client, walk_id = started(app)
    with sent(app) as answering:
        response = client.post(f"/walks/{walk_id}/purpose", {"answer": "yes"})
    assert response.status_code == 303 and response.location.endswith("/consent")
    assert answering["commits"] == 1
    assert len(answering["statements"]) <= POST_STATEMENTS, answering["statements"]
    # The audit event goes in already chained (its place and hash in the INSERT); the one update is its
    # detail being sealed to the id the database gave it (values bound to their row).
    updates = [sql for sql in answering["statements"] if sql.startswith("UPDATE audit_events")]
    assert all(sql.startswith("UPDATE audit_events SET detail=") for sql in updates) and len(updates) <= 1, updates


def test_the_next_question_is_read_with_no_commit_and_at_most_two_statements(app):
    client, walk_id = started(app)
    client.post(f"/walks/{walk_id}/purpose", {"answer": "yes"})
    with sent(app) as reading:
        response = client.get(f"/walks/{walk_id}/consent")
    assert response.status_code == 200 and "csrf_token" in response.get_data(as_text=True)
    assert reading["commits"] == 0
    assert len(reading["statements"]) <= GET_STATEMENTS, reading["statements"]
    # The signed-in user and the header's advice count come with the session; the walk says if it is recorded.
    assert not [sql for sql in reading["statements"] if sql.startswith("SELECT users.")]
    assert [sql for sql in reading["statements"] if "FROM advice_requests" in sql] == reading["statements"][:1]
    assert not [sql for sql in reading["statements"] if sql.startswith("SELECT decision_records.")]


def test_a_refused_answer_commits_nothing(app):
    client, walk_id = started(app)
    with sent(app) as refused:
        response = client.post(f"/walks/{walk_id}/purpose", {"answer": "perhaps"})
    assert response.status_code == 400
    assert refused["commits"] == 0
    assert not [sql for sql in refused["statements"] if sql.startswith(("INSERT", "UPDATE", "DELETE"))]


def test_an_ended_session_is_not_let_in_by_the_query_that_finds_it(app):
    client, walk_id = started(app)
    client.post("/sign-out")
    response = client.get(f"/walks/{walk_id}/purpose")
    assert response.status_code == 302 and "/sign-in" in response.location


def test_an_answer_does_not_overwrite_a_walk_changed_since_it_was_read(app):
    """Two tabs: the walk is read in one, answered in the other, then answered in the first. The first
    tab's answer is refused (the walk's revision moved on) and the walk keeps the other tab's answer."""
    from sqlalchemy import text
    from sqlalchemy.orm.exc import StaleDataError

    from guide.decisions.steps import StepRefused, answer
    from guide.models import User, Walk

    client, walk_id = started(app)
    guidance = app.extensions["guidance"]
    first, second = app.extensions["db_sessions"](), app.extensions["db_sessions"]()
    try:
        walk_in_first = first.get(Walk, walk_id)
        user = first.get(User, walk_in_first.user_id)
        revision_read = walk_in_first.revision
        answer(second, guidance, second.get(Walk, walk_id), second.get(User, user.id), "purpose", "no")
        second.commit()
        try:
            answer(first, guidance, walk_in_first, user, "purpose", "yes")
        except (StaleDataError, StepRefused):
            first.rollback()
        else:
            raise AssertionError("an answer overwrote a walk another request had changed since it was read")
        check = app.extensions["db_sessions"]()
        stored = check.get(Walk, walk_id)
        assert dict(stored.answers) == {"purpose": "no"} and stored.revision == revision_read + 1
        # The answers went in sealed to the walk's own row: they open where they are, and the column holds no plaintext.
        raw = check.execute(text("SELECT answers FROM walks WHERE id = :id"), {"id": walk_id}).scalar()
        assert "purpose" not in str(raw)
        check.close()
    finally:
        first.close()
        second.close()


def test_the_page_after_an_answer_shows_it_and_the_walk_can_be_answered_again(app):
    client, walk_id = started(app)
    assert client.post(f"/walks/{walk_id}/purpose", {"answer": "yes"}).status_code == 303
    # Changing an earlier answer is another write to the same walk, at its new revision.
    response = client.post(f"/walks/{walk_id}/purpose?change=1", {"answer": "no", "change": "1"})
    assert response.status_code == 303, response.status_code
    page = client.get(f"/walks/{walk_id}/purpose").get_data(as_text=True)
    assert 'value="no" checked' in page, "the changed answer is not the one shown"
