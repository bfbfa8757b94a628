"""Hostile input gets a clear 4xx and changes nothing (issue 15.12): never a server error."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from guide.accounts.users import find_by_email, issue_token

from tests.accounts.conftest import live_app  # noqa: F401  (a fixture)
from tests.conftest import PASSWORD, USERS, Client, table_snapshot
from tests.test_bad_input import walk_answers
from tests.decisions.test_walk_journey import walk_to


@pytest.fixture
def api_headers(app):
    session = app.extensions["db_sessions"]()
    token = issue_token(session, find_by_email(session, USERS["practitioner"]["email"]))
    session.commit()
    session.close()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("body", ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000,
                                  '{"flowchart": "mini", "x": ' + "[" * 40 + "]" * 40 + "}"])
def test_json_nested_a_thousand_deep_is_refused(app, api_headers, body):
    before = table_snapshot(app)
    response = app.test_client().post("/api/v1/walks", data=body, content_type="application/json", headers=api_headers)
    assert response.status_code == 400 and "nested" in response.json["error"]["detail"]
    assert table_snapshot(app) == before


def test_a_lone_surrogate_in_a_record_field_is_refused(app, api_headers):
    http = app.test_client()
    walk_id = http.post("/api/v1/walks", json={"flowchart": "mini"}, headers=api_headers).json["id"]
    http.post(f"/api/v1/walks/{walk_id}/answers", json={"question": "purpose", "answer": "no"}, headers=api_headers)
    before = table_snapshot(app)
    # JSON's escape carries half of a UTF-16 pair, which no database or cipher takes as UTF-8.
    body = '{"subject_ref": "A\\ud800B", "consent_position": "refused", "advice_sought": "no"}'
    response = http.post(f"/api/v1/walks/{walk_id}/record", data=body, content_type="application/json", headers=api_headers)
    assert response.status_code == 400
    assert table_snapshot(app) == before
    # A form cannot carry one: its bytes are read with replacement characters, and saved as such.
    person = Client(app).sign_in("practitioner")
    walk_id = walk_to(person, [("purpose", "no")])
    person.get(f"/walks/{walk_id}/outcome")
    raw = f"csrf_token={person.token}&subject_ref=A%ED%A0%80B&consent_position=refused&advice_sought=no"
    response = person.http.post(f"/walks/{walk_id}/record", data=raw, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 303


def test_a_page_number_of_twenty_digits_is_refused(app, api_headers):
    person = Client(app).sign_in("records")
    # The records list pages with keyset cursors (issue 13), not page numbers: a page number is ignored,
    # and a forged or oversized cursor gives the first page, never a server error.
    for query in ("page=" + "9" * 20, "after=" + "9" * 20, "after=garbage%00", "before=" + "x" * 200):
        assert person.get("/records?" + query).status_code == 200, query
    assert app.test_client().get("/api/v1/records?offset=" + "9" * 20, headers=api_headers).status_code == 400


@pytest.mark.parametrize("target", ["/records\r\nSet-Cookie: planted=1", "/records\nX: y", "/\\evil.example", "//evil.example"])
def test_a_line_break_or_another_site_in_next_goes_home(app, target):
    person = Client(app)
    assert person.get("/sign-in?next=" + requests.utils.quote(target)).status_code == 200
    response = person.post("/sign-in", {"email": USERS["practitioner"]["email"], "password": PASSWORD, "next": target})
    assert response.status_code == 303 and response.location == "/"


def test_ten_simultaneous_answers_to_one_walk_get_a_conflict_page_not_an_error(live_app):  # noqa: F811
    base, app = live_app
    http = requests.Session()

    def token(path):
        return http.get(base + path).text.split('name="csrf_token" value="')[1].split('"')[0]

    http.post(base + "/sign-in", data={"csrf_token": token("/sign-in"), "email": USERS["practitioner"]["email"],
                                       "password": PASSWORD}, allow_redirects=False)
    started = http.post(base + "/flowcharts/mini/start", data={"csrf_token": token("/flowcharts/mini")}, allow_redirects=False)
    walk_id = started.headers["Location"].split("/")[2]
    form_token = token(f"/walks/{walk_id}/purpose")
    barrier = threading.Barrier(10)

    def answer(value):
        barrier.wait()
        response = http.post(f"{base}/walks/{walk_id}/purpose", data={"csrf_token": form_token, "answer": value},
                             allow_redirects=False)
        return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(answer, ["yes", "no"] * 5))
    statuses = [status for status, _ in answers]
    assert 500 not in statuses and set(statuses) <= {303, 409}, statuses
    assert all("changed in another window" in text for status, text in answers if status == 409)
    # The walk holds one of the answers sent, whole.
    assert walk_answers(app, walk_id) in ({"purpose": "yes"}, {"purpose": "no"})
