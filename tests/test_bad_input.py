"""Bad input gets a clear answer and changes nothing."""

from guide.models import DecisionRecord, Walk

from tests.conftest import table_snapshot
from tests.decisions.test_walk_journey import walk_to


def walk_answers(app, walk_id):
    session = app.extensions["db_sessions"]()
    try:
        return dict(session.get(Walk, walk_id).answers)
    finally:
        session.close()


def test_skipping_ahead_is_refused(client, app):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "yes")])
    before = (table_snapshot(app), walk_answers(app, walk_id))
    page = client.get(f"/walks/{walk_id}/lawful")
    assert page.status_code == 409 and "You cannot skip ahead" in page.get_data(as_text=True)
    response = client.post(f"/walks/{walk_id}/lawful", {"answer": "yes"})
    assert response.status_code == 409 and "Nothing was changed" in response.get_data(as_text=True)
    assert (table_snapshot(app), walk_answers(app, walk_id)) == before


def test_a_tampered_answer_is_refused(client, app):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [])
    before = (table_snapshot(app), walk_answers(app, walk_id))
    response = client.answer(walk_id, "purpose", "definitely")
    assert response.status_code == 400 and "Select one of the answers offered" in response.get_data(as_text=True)
    response = client.answer(walk_id, "purpose", "")
    assert response.status_code == 400
    assert client.answer(walk_id, "no_such_question", "yes").status_code == 404
    assert (table_snapshot(app), walk_answers(app, walk_id)) == before


def test_a_post_without_csrf_token_is_refused(client, app):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [])
    before = (table_snapshot(app), walk_answers(app, walk_id))
    response = client.post(f"/walks/{walk_id}/purpose", {"answer": "yes"}, csrf=False)
    assert response.status_code == 400 and "Nothing was changed" in response.get_data(as_text=True)
    response = client.post(f"/walks/{walk_id}/purpose", {"answer": "yes", "csrf_token": "forged"}, csrf=False)
    assert response.status_code == 400
    assert (table_snapshot(app), walk_answers(app, walk_id)) == before


def test_oversized_fields_are_refused(client, app):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "no")])
    client.get(f"/walks/{walk_id}/outcome")
    before = table_snapshot(app)
    response = client.post(f"/walks/{walk_id}/record", {"subject_ref": "X" * 101, "consent_position": "refused",
                                                       "advice_sought": "no", "notes": "n" * 5001})
    assert response.status_code == 400
    assert "Must be 100 characters or fewer" in response.get_data(as_text=True)
    assert "Must be 5000 characters or fewer" in response.get_data(as_text=True)
    huge = client.post(f"/walks/{walk_id}/record", {"subject_ref": "X", "notes": "n" * 200_000})
    assert huge.status_code == 413
    assert table_snapshot(app) == before


def test_script_in_free_text_is_escaped_and_markdown_sanitised(client, app):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "no")])
    client.get(f"/walks/{walk_id}/outcome")
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = client.post(f"/walks/{walk_id}/record", {
        "subject_ref": hostile[:100], "consent_position": "refused", "advice_sought": "no",
        "notes": f"**Bold** and [a link](javascript:alert(1)) {hostile}"})
    assert response.status_code == 303
    record_id = app.extensions["db_sessions"]().query(DecisionRecord).one().id
    page = client.get(f"/records/{record_id}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img" not in page
    assert "&lt;script&gt;" in page  # the reference, shown as text
    assert "<strong>Bold</strong>" in page  # markdown still works
    assert "javascript:" not in page


def test_a_walk_that_does_not_exist_is_not_found(client):
    client.sign_in("practitioner")
    assert client.get("/walks/0123456789abcdef/purpose").status_code == 404
    assert client.get("/records/nope").status_code == 404


def test_sign_in_does_not_redirect_off_site(client):
    client.get("/sign-in")
    response = client.post("/sign-in", {"email": "pat@example.org", "password": "correct horse battery staple",
                                        "next": "https://evil.example/"})
    assert response.location == "/"
