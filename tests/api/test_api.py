"""The JSON API: token auth, a walk step by step, refusals that change nothing, records."""

import pytest

from guide.accounts.users import find_by_email, issue_token

from tests.conftest import USERS, table_snapshot


@pytest.fixture
def api(app):
    def token_for(who):
        session = app.extensions["db_sessions"]()
        user = find_by_email(session, USERS[who]["email"])
        token = issue_token(session, user)
        session.commit()
        session.close()
        return token

    http = app.test_client()

    class Api:
        def __init__(self, who="practitioner"):
            self.headers = {"Authorization": f"Bearer {token_for(who)}"}

        def get(self, url):
            return http.get(url, headers=self.headers)

        def post(self, url, body):
            return http.post(url, json=body, headers=self.headers)

    return Api


RECORD = {"subject_ref": "API-1", "consent_position": "refused", "advice_sought": "no",
          "information_shared": "Attendance record.", "recipient_name": "Dana Social", "recipient_job_title": "Social worker",
          "recipient_organisation": "Children's Services", "recipient_contact": "dana@example.org",
          "share_method": "secure_system", "shared_on": "2026-11-20", "person_told": "yes",
          "checklist": ["necessary"], "basis": "public_interest", "basis_detail": "Risk of significant harm."}


def walk(api, answers):
    response = api.post("/api/v1/walks", {"flowchart": "mini"})
    assert response.status_code == 201
    walk_id = response.json["id"]
    assert response.json["question"]["id"] == "purpose"
    for question, value in answers:
        response = api.post(f"/api/v1/walks/{walk_id}/answers", {"question": question, "answer": value})
        assert response.status_code == 200, response.json
    return walk_id, response.json


def test_a_token_is_required(app):
    http = app.test_client()
    assert http.post("/api/v1/walks", json={"flowchart": "mini"}).status_code == 401
    assert http.get("/api/v1/records", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_the_openapi_document_describes_the_api(app):
    doc = app.test_client().get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/walks", "/api/v1/walks/{walk_id}/answers", "/api/v1/walks/{walk_id}/record",
            "/api/v1/records", "/api/v1/records/{record_id}"} <= set(doc["paths"])
    assert doc["components"]["schemas"]["Walk"]["properties"]["flowchart"]["enum"] == ["mini", "check"]


def test_a_walk_answer_by_answer_to_a_saved_record(api):
    client = api()
    walk_id, state = walk(client, [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")])
    assert state["question"] is None
    assert state["outcome"]["decision"] == "share_without_consent"
    assert [r["question_id"] for r in state["outcome"]["reasons"]] == ["purpose", "consent", "lawful"]
    response = client.post(f"/api/v1/walks/{walk_id}/record", RECORD)
    assert response.status_code == 201, response.json
    record = response.json
    assert record["reference"].startswith("DR-") and record["version"] == 1
    assert client.get(f"/api/v1/records/{record['id']}").json["details"]["recipient_name"] == "Dana Social"
    listing = client.get("/api/v1/records").json
    assert listing["total"] == 1 and listing["records"][0]["id"] == record["id"]


def test_answering_a_question_that_is_not_current_is_a_conflict_and_changes_nothing(api, app):
    client = api()
    walk_id, _ = walk(client, [("purpose", "yes")])
    before = table_snapshot(app)
    skipped = client.post(f"/api/v1/walks/{walk_id}/answers", {"question": "lawful", "answer": "yes"})
    assert skipped.status_code == 409 and skipped.json["error"]["current_question"] == "consent"
    replayed = client.post(f"/api/v1/walks/{walk_id}/answers", {"question": "purpose", "answer": "no"})
    assert replayed.status_code == 409
    assert table_snapshot(app) == before
    assert client.get(f"/api/v1/walks/{walk_id}").json["question"]["id"] == "consent"


def test_an_answer_not_offered_is_a_bad_request_and_changes_nothing(api, app):
    client = api()
    walk_id, _ = walk(client, [])
    before = table_snapshot(app)
    response = client.post(f"/api/v1/walks/{walk_id}/answers", {"question": "purpose", "answer": "perhaps"})
    assert response.status_code == 400
    assert client.post(f"/api/v1/walks/{walk_id}/answers", ["not", "an", "object"]).status_code == 400
    assert table_snapshot(app) == before


def test_an_incomplete_record_lists_what_is_missing(api, app):
    client = api()
    walk_id, _ = walk(client, [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")])
    before = table_snapshot(app)
    response = client.post(f"/api/v1/walks/{walk_id}/record", {"subject_ref": "API-1"})
    assert response.status_code == 422
    assert {"consent_position", "basis", "recipient_name", "checklist"} <= set(response.json["error"]["fields"])
    assert table_snapshot(app) == before


def test_a_record_cannot_be_saved_before_the_walk_ends_or_twice(api, app):
    client = api()
    walk_id, _ = walk(client, [("purpose", "yes")])
    assert client.post(f"/api/v1/walks/{walk_id}/record", RECORD).status_code == 409
    walk_id, _ = walk(client, [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")])
    assert client.post(f"/api/v1/walks/{walk_id}/record", RECORD).status_code == 201
    before = table_snapshot(app)
    assert client.post(f"/api/v1/walks/{walk_id}/record", RECORD).status_code == 409
    assert table_snapshot(app) == before


def test_other_peoples_walks_and_records_are_not_found(api):
    owner, other = api("practitioner"), api("colleague")
    walk_id, _ = walk(owner, [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")])
    record_id = owner.post(f"/api/v1/walks/{walk_id}/record", RECORD).json["id"]
    assert other.get(f"/api/v1/walks/{walk_id}").status_code == 404
    assert other.post(f"/api/v1/walks/{walk_id}/answers", {"question": "purpose", "answer": "no"}).status_code == 404
    assert other.get(f"/api/v1/records/{record_id}").status_code == 404
    assert api("records").get(f"/api/v1/records/{record_id}").status_code == 200
