"""No page may linger in a cache (issue 15.14): every page answers Cache-Control: no-store, only the
static files (the same for everyone, about no one) may be cached."""

from __future__ import annotations

from tests.conftest import Client
from tests.decisions.test_walk_journey import walk_to


def test_every_page_for_a_signed_in_user_is_not_stored(app):
    person = Client(app).sign_in("practitioner")
    walk_id = walk_to(person, [("purpose", "yes")])
    chat = person.post("/chat", {"text": "A child in my class has bruises"}).location or "/chat"
    pages = [rule.rule for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"]
    pages += [f"/walks/{walk_id}/consent", chat, "/records/export.csv", "/api/v1/openapi.json"]
    assert len(pages) > 15
    for page in pages:
        response = person.get(page)
        response.get_data()  # a streamed export is read to its end
        assert response.headers.get("Cache-Control") == "no-store", (page, response.status_code)


def test_pages_before_sign_in_are_not_stored_either(app):
    assert Client(app).get("/sign-in").headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(app):
    response = Client(app).get("/static/app.css")
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")
