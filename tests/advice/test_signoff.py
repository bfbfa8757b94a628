"""Countersignature: the agency's policy says which records an adviser countersigns before they are final."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from guide.models import AuditEvent, DecisionRecord, User

from tests.advice.conftest import signed_in
from tests.advice.test_asking import ask, counts, text
from tests.decisions.test_walk_journey import SHARE_WITHOUT_CONSENT, walk_to

WITHOUT_CONSENT = [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")]
NOT_SHARED = [("purpose", "no")]


def record(client, answers, **details) -> str:
    walk_id = walk_to(client, answers)
    client.get(f"/walks/{walk_id}/outcome")
    data = dict(SHARE_WITHOUT_CONSENT, **details) if answers == WITHOUT_CONSENT else {
        "subject_ref": "NH-1", "consent_position": "refused", "advice_sought": "no", **details}
    response = client.post(f"/walks/{walk_id}/record", data)
    assert response.status_code == 303, text(response)
    return response.location.split("/")[2]


def test_a_share_without_consent_awaits_countersignature_until_an_adviser_countersigns(advice_app):
    pat = signed_in(advice_app, "practitioner")
    record_id = record(pat, WITHOUT_CONSENT)
    assert "Awaiting countersignature" in text(pat.get(f"/records/{record_id}"))
    ada = signed_in(advice_app, "adviser")
    assert f"/advice/records/{record_id}" in text(ada.get("/advice"))
    assert "Weight charts and missed appointments." in text(ada.get(f"/advice/records/{record_id}"))
    response = ada.post(f"/advice/records/{record_id}", {"action": "countersign", "note": "Proportionate."})
    assert response.status_code == 303
    page = text(pat.get(f"/records/{record_id}"))
    assert "Awaiting countersignature" not in page
    assert "Countersigned by Ada Adviser, Named nurse for safeguarding, Northshire Health" in page and "Proportionate." in page
    # Done once only: a second countersignature (another adviser, or a replayed form) is refused.
    ben = signed_in(advice_app, "second_adviser")
    ben.get(f"/advice/records/{record_id}")
    before = counts(advice_app)
    again = ben.post(f"/advice/records/{record_id}", {"action": "countersign"})
    assert again.status_code == 409 and "already been countersigned" in text(again)
    assert counts(advice_app) == before


def test_a_decision_the_policy_does_not_name_needs_no_countersignature(advice_app):
    pat = signed_in(advice_app, "practitioner")
    record_id = record(pat, NOT_SHARED)
    assert "countersignature" not in text(pat.get(f"/records/{record_id}")).lower()
    assert signed_in(advice_app, "adviser").get(f"/advice/records/{record_id}").status_code == 404


def test_every_decision_by_a_newly_qualified_practitioner_awaits_countersignature(advice_app):
    session = advice_app.extensions["db_sessions"]()
    session.scalars(select(User)).all()
    for user in session.scalars(select(User)):
        if user.email == "pat@example.org":
            user.newly_qualified = True
    session.commit()
    session.close()
    pat = signed_in(advice_app, "practitioner")
    record_id = record(pat, NOT_SHARED)
    assert "Awaiting countersignature" in text(pat.get(f"/records/{record_id}"))
    assert "newly qualified" in text(pat.get(f"/records/{record_id}"))


def test_a_returned_record_is_corrected_and_the_new_version_awaits_countersignature(advice_app):
    pat = signed_in(advice_app, "practitioner")
    record_id = record(pat, WITHOUT_CONSENT)
    ada = signed_in(advice_app, "adviser")
    ada.get(f"/advice/records/{record_id}")
    refused = ada.post(f"/advice/records/{record_id}", {"action": "return", "note": ""})
    assert refused.status_code == 400 and "Say why you are returning the record" in text(refused)
    assert ada.post(f"/advice/records/{record_id}", {"action": "return", "note": "Say what was shared by phone."}).status_code == 303
    assert "Say what was shared by phone." in text(pat.get(f"/records/{record_id}"))
    pat.get(f"/records/{record_id}/correct")
    response = pat.post(f"/records/{record_id}/correct", {**SHARE_WITHOUT_CONSENT, "correction_reason": "Added the call."})
    corrected = response.location.split("/")[2]
    assert "Awaiting countersignature" in text(pat.get(f"/records/{corrected}"))
    assert f"/advice/records/{corrected}" in text(ada.get("/advice"))


# Who may open a record put for countersignature: the agency's advisers only.
REVIEWERS = [("adviser", 200), ("second_adviser", 200), ("practitioner", 404), ("colleague", 404),
             ("records", 404), ("other_adviser", 404), ("trainer", 404)]


@pytest.mark.parametrize("who, status", REVIEWERS)
def test_who_may_countersign(advice_app, who, status):
    record_id = record(signed_in(advice_app, "practitioner"), WITHOUT_CONSENT)
    client = signed_in(advice_app, who)
    assert client.get(f"/advice/records/{record_id}").status_code == status
    client.get("/advice")
    before = counts(advice_app)
    response = client.post(f"/advice/records/{record_id}", {"action": "countersign"})
    assert response.status_code == (303 if status == 200 else 404)
    if status == 404:
        assert counts(advice_app) == before


def test_an_adviser_cannot_countersign_their_own_record(advice_app):
    ada = signed_in(advice_app, "adviser")
    record_id = record(ada, WITHOUT_CONSENT)
    assert "another adviser of your agency must countersign it" in text(ada.get(f"/advice/records/{record_id}"))
    before = counts(advice_app)
    response = ada.post(f"/advice/records/{record_id}", {"action": "countersign"})
    assert response.status_code == 403 and "You made this decision" in text(response)
    assert counts(advice_app) == before
    assert f"/advice/records/{record_id}" not in text(ada.get("/advice"))  # not in their own list
    assert f"/advice/records/{record_id}" in text(signed_in(advice_app, "second_adviser").get("/advice"))


def test_the_record_holds_the_advice_and_the_pdf_shows_it_with_the_countersignature(advice_app):
    import io

    from pypdf import PdfReader
    pat = signed_in(advice_app, "practitioner")
    walk_id = walk_to(pat, [("purpose", "yes")])
    request_id = ask(pat, advice_app, walk_id).location.rsplit("/", 1)[1]
    ada = signed_in(advice_app, "adviser")
    ada.get(f"/advice/requests/{request_id}")
    ada.post(f"/advice/requests/{request_id}/messages", {"kind": "advice", "text": "Refused consent: weigh the public interest."})
    for question, value in WITHOUT_CONSENT[1:]:
        pat.answer(walk_id, question, value)
    pat.get(f"/walks/{walk_id}/outcome")
    record_id = pat.post(f"/walks/{walk_id}/record", SHARE_WITHOUT_CONSENT).location.split("/")[2]
    session = advice_app.extensions["db_sessions"]()
    stored = session.get(DecisionRecord, record_id).body["advice"]
    session.close()
    assert [(a["name"], a["role"], a["text"], a["request"]) for a in stored] == [
        ("Ada Adviser", "Named nurse for safeguarding", "Refused consent: weigh the public interest.", request_id)]
    ada.get(f"/advice/records/{record_id}")
    ada.post(f"/advice/records/{record_id}", {"action": "countersign", "note": ""})
    pdf = pat.get(f"/records/{record_id}.pdf")
    words = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    words = " ".join(words.split())
    assert "Refused consent: weigh the public interest." in words
    assert "Countersigned by Ada Adviser, Named nurse for safeguarding" in words
    session = advice_app.extensions["db_sessions"]()
    actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.object_id == record_id))]
    session.close()
    assert "record.countersignature_required" in actions and "record.countersigned" in actions


def test_the_records_list_shows_which_records_await_countersignature(advice_app):
    pat = signed_in(advice_app, "practitioner")
    awaiting_id = record(pat, WITHOUT_CONSENT)
    record(pat, NOT_SHARED)
    listing = text(pat.get("/records"))
    assert listing.count("Awaiting countersignature") == 1  # the policy names only the share without consent
    ada = signed_in(advice_app, "adviser")
    ada.get(f"/advice/records/{awaiting_id}")
    assert ada.post(f"/advice/records/{awaiting_id}", {"action": "countersign"}).status_code == 303
    listing = text(pat.get("/records"))
    assert "Awaiting countersignature" not in listing and listing.count("Countersigned") == 1
