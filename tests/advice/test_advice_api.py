"""The JSON API's advice operations: a case-management system raises and answers requests, and countersigns."""

from __future__ import annotations

from guide.accounts.users import find_by_email, issue_token

from tests.advice.conftest import ADVISERS


def _token(app, email: str) -> dict:
    session = app.extensions["db_sessions"]()
    try:
        token = issue_token(session, find_by_email(session, email))
        session.commit()
    finally:
        session.close()
    return {"Authorization": f"Bearer {token}"}


def _walk(http, headers, answers) -> str:
    walk = http.post("/api/v1/walks", json={"flowchart": "mini"}, headers=headers).get_json()
    for question, value in answers:
        assert http.post(f"/api/v1/walks/{walk['id']}/answers", json={"question": question, "answer": value},
                         headers=headers).status_code == 200
    return walk["id"]


def test_raise_answer_and_countersign_through_the_api(advice_app):
    http = advice_app.test_client()
    pat, ada = _token(advice_app, "pat@example.org"), _token(advice_app, ADVISERS["adviser"]["email"])
    advisers = http.get("/api/v1/advisers", headers=pat).get_json()["advisers"]
    assert [a["name"] for a in advisers] == ["Ada Adviser", "Ben Lead"]
    walk_id = _walk(http, pat, [("purpose", "yes")])
    asked = http.post(f"/api/v1/walks/{walk_id}/advice-requests", headers=pat, json={
        "adviser": advisers[0]["id"], "question": "Is refusal the end of it?", "named": False, "urgent": True,
        "at_question": "consent"})
    assert asked.status_code == 201, asked.get_json()
    request_id = asked.get_json()["id"]
    queue = http.get("/api/v1/advice-requests", headers=ada).get_json()["queue"]
    assert [r["id"] for r in queue] == [request_id] and queue[0]["subject_ref"] is None and queue[0]["walk"] is None
    replied = http.post(f"/api/v1/advice-requests/{request_id}/messages", headers=ada, json={
        "kind": "advice", "text": "Weigh the public interest.", "suggest_question": "consent", "suggest_answer": "no"})
    assert replied.status_code == 201
    assert replied.get_json()["messages"][-1]["suggestion"]["answer_label"] == "No"
    walk_id_answers = [("consent", "no"), ("lawful", "yes")]
    for question, value in walk_id_answers:
        http.post(f"/api/v1/walks/{walk_id}/answers", json={"question": question, "answer": value}, headers=pat)
    saved = http.post(f"/api/v1/walks/{walk_id}/record", headers=pat, json={
        "subject_ref": "API-1", "consent_position": "refused", "advice_sought": "no", "information_shared": "Charts.",
        "recipient_name": "Dana", "recipient_job_title": "Social worker", "recipient_organisation": "CS",
        "recipient_contact": "0100", "share_method": "phone", "shared_on": "2026-11-30", "person_told": "yes",
        "checklist": ["necessary"], "basis": "public_interest", "basis_detail": "Risk."})
    assert saved.status_code == 201, saved.get_json()
    record = saved.get_json()
    assert record["advice"][0]["text"] == "Weigh the public interest."
    assert http.get(f"/api/v1/records/{record['id']}/countersignature", headers=pat).get_json()["state"] == "awaiting"
    own = http.post(f"/api/v1/records/{record['id']}/countersignature", headers=pat, json={"action": "countersign"})
    assert own.status_code == 404  # Pat is not an adviser: the record is not put to them
    done = http.post(f"/api/v1/records/{record['id']}/countersignature", headers=ada, json={"action": "countersign"})
    assert done.status_code == 201 and done.get_json()["by"]["name"] == "Ada Adviser"
    assert http.get(f"/api/v1/records/{record['id']}/countersignature", headers=pat).get_json()["state"] == "countersigned"
    closed = http.post(f"/api/v1/advice-requests/{request_id}/close", headers=pat, json={})
    assert closed.status_code == 200
    late = http.post(f"/api/v1/advice-requests/{request_id}/messages", headers=ada, json={"kind": "advice", "text": "More."})
    assert late.status_code == 409 and "closed" in late.get_json()["error"]["detail"]


def test_the_api_refuses_an_adviser_of_another_agency_and_others_walks(advice_app):
    http = advice_app.test_client()
    pat, colin = _token(advice_app, "pat@example.org"), _token(advice_app, "col@example.org")
    other = _token(advice_app, ADVISERS["other_adviser"]["email"])
    other_id = http.get("/api/v1/advisers", headers=other).get_json()  # Ola sees no one (the only adviser there)
    assert other_id == {"advisers": []}
    walk_id = _walk(http, pat, [("purpose", "yes")])
    session = advice_app.extensions["db_sessions"]()
    ola = find_by_email(session, ADVISERS["other_adviser"]["email"]).id
    session.close()
    refused = http.post(f"/api/v1/walks/{walk_id}/advice-requests", headers=pat,
                        json={"adviser": ola, "question": "?", "named": False})
    assert refused.status_code == 422 and "Choose an adviser in your agency" in refused.get_json()["error"]["fields"]["adviser"]
    assert http.post(f"/api/v1/walks/{walk_id}/advice-requests", headers=colin,
                     json={"adviser": ola, "question": "?", "named": False}).status_code == 404


def test_the_openapi_document_describes_the_advice_operations(advice_app):
    document = advice_app.test_client().get("/api/v1/openapi.json").get_json()
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {"listAdvisers", "askForAdvice", "listAdviceRequests", "getAdviceRequest", "addAdviceMessage",
            "closeAdviceRequest", "getCountersignature", "countersignRecord"} <= operations
