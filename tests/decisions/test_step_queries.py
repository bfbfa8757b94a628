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
