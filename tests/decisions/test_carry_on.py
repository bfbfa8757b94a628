"""Carry on where you left off: unfinished decisions told apart by the child's reference, and discarded."""

from guide.models import AuditEvent, Walk

from tests.conftest import Client, count_rows


def start_with_reference(client: Client, reference: str) -> str:
    client.get("/flowcharts/mini")
    response = client.post("/flowcharts/mini/start", {"subject_ref": reference})
    assert response.status_code == 303
    return response.location.split("/")[2]


def test_unfinished_walks_show_the_childs_reference_and_how_far_they_got(client):
    client.sign_in("practitioner")
    first = start_with_reference(client, "AB-12")
    client.answer(first, "purpose", "yes")
    start_with_reference(client, "CD-34")
    home = client.get("/").get_data(as_text=True)
    assert "Child AB-12" in home and "Child CD-34" in home
    assert "1 question answered" in home and "0 questions answered" in home
    assert "?:" not in home  # no "Should I share information?: …"


def test_the_reference_is_filled_into_the_record(client):
    client.sign_in("practitioner")
    walk_id = start_with_reference(client, "AB-12")
    client.answer(walk_id, "purpose", "no")
    page = client.get(f"/walks/{walk_id}/outcome").get_data(as_text=True)
    assert 'value="AB-12"' in page


def test_a_reference_too_long_is_refused_and_starts_nothing(client, app):
    client.sign_in("practitioner")
    client.get("/flowcharts/mini")
    response = client.post("/flowcharts/mini/start", {"subject_ref": "X" * 101})
    assert response.status_code == 400 and "100 characters or fewer" in response.get_data(as_text=True)
    assert count_rows(app, Walk) == 0


def test_discarding_an_unfinished_walk_removes_it_and_is_audited(client, app):
    client.sign_in("practitioner")
    walk_id = start_with_reference(client, "AB-12")
    client.get("/")
    assert client.post(f"/walks/{walk_id}/discard").status_code == 303
    assert "AB-12" not in client.get("/").get_data(as_text=True)
    assert count_rows(app, Walk) == 0
    session = app.extensions["db_sessions"]()
    assert session.query(AuditEvent).filter_by(action="walk.discard", object_id=walk_id).count() == 1
    session.close()


def test_no_one_else_can_discard_a_walk(client, app):
    client.sign_in("practitioner")
    walk_id = start_with_reference(client, "AB-12")
    intruder = Client(app).sign_in("colleague")
    intruder.get("/")
    assert intruder.post(f"/walks/{walk_id}/discard").status_code == 404
    assert count_rows(app, Walk) == 1
