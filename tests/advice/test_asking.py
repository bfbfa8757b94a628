"""Asking for advice over HTTP: who may see and answer a request, and bad input refused with nothing changed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from guide.models import AdviceMessage, AdviceRequest, AuditEvent, DecisionRecord, RecordSignoff

from tests.advice.conftest import ADVISERS, signed_in, user_id
from tests.decisions.test_walk_journey import SHARE_WITHOUT_CONSENT, walk_to


def text(response) -> str:
    return response.get_data(as_text=True)


def counts(app) -> dict:
    session = app.extensions["db_sessions"]()
    try:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (AdviceRequest, AdviceMessage, RecordSignoff, DecisionRecord, AuditEvent)}
    finally:
        session.close()


def ask(client, app, walk_id, to="adviser", **fields):
    client.get(f"/advice/ask/{walk_id}")
    data = {"adviser": str(user_id(app, ADVISERS[to]["email"])), "question": "Is the worry about the baby's weight enough?",
            "named": "no", **fields}
    return client.post(f"/advice/ask/{walk_id}", data)


@pytest.fixture
def asked(advice_app):
    """Pat is unsure at the consent question and asks Ada; returns (Pat's client, request id, walk id)."""
    pat = signed_in(advice_app, "practitioner")
    walk_id = walk_to(pat, [("purpose", "yes")])
    response = ask(pat, advice_app, walk_id, question_id="consent")
    assert response.status_code == 303, text(response)
    return pat, response.location.rsplit("/", 1)[1], walk_id


# Who sees a request: the practitioner who asked, the adviser chosen, the agency's other advisers.
SEES = [
    ("practitioner", 200),    # asked it
    ("adviser", 200),         # chosen
    ("second_adviser", 200),  # another adviser of the same agency
    ("colleague", 404),       # same agency, not an adviser
    ("records", 404),         # the agency's records officer
    ("other_adviser", 404),   # an adviser of another agency
    ("trainer", 404),
]


@pytest.mark.parametrize("who, status", SEES)
def test_who_sees_a_request(advice_app, asked, who, status):
    _, request_id, _ = asked
    client = signed_in(advice_app, who)
    assert client.get(f"/advice/requests/{request_id}").status_code == status
    assert (request_id in text(client.get("/advice"))) == (status == 200)  # in the queue, or the practitioner's list


@pytest.mark.parametrize("who, status", SEES)
def test_who_may_answer_a_request(advice_app, asked, who, status):
    _, request_id, _ = asked
    client = signed_in(advice_app, who)
    before = counts(advice_app)
    client.get("/advice")
    kind = "reply" if who == "practitioner" else "advice"
    response = client.post(f"/advice/requests/{request_id}/messages", {"kind": kind, "text": "Talk to the health visitor."})
    assert response.status_code == (303 if status == 200 else 404)
    if status == 404:
        assert counts(advice_app) == before


def test_the_adviser_sees_the_answers_and_question_and_replies_with_a_suggested_answer(advice_app, asked):
    pat, request_id, walk_id = asked
    ada = signed_in(advice_app, "adviser")
    page = text(ada.get(f"/advice/requests/{request_id}"))
    assert "Is the worry about the baby&#39;s weight enough?" in page
    assert "Is there a legitimate purpose?" in page and "There is a purpose." in page  # answers with their reasons
    assert "WTD App3 §4.2" in page  # and citations
    assert "Is there consent?" in page  # the question it was asked at
    response = ada.post(f"/advice/requests/{request_id}/messages",
                        {"kind": "advice", "text": "Consent was refused: say so.", "suggest": "purpose=yes"})
    assert response.status_code == 303
    # Pat's header counts the new advice until Pat reads it, on the question page too (a page kept whole
    # in the page cache, its count Pat's own each time).
    assert 'class="app-count app-count--waiting"' in text(pat.get("/"))
    assert 'class="app-count app-count--waiting"' in text(pat.get(f"/walks/{walk_id}/consent"))
    page = text(pat.get(f"/advice/requests/{request_id}"))
    assert "Consent was refused: say so." in page and "Suggested answer" in page
    # Reading it is written before the page is drawn: the page's own header has stopped counting it.
    assert 'app-count--waiting' not in page
    assert 'app-count--waiting' not in text(pat.get("/advice/count"))
    assert 'app-count--waiting' not in text(pat.get(f"/walks/{walk_id}/consent"))


def test_an_anonymous_request_never_shows_the_childs_reference(advice_app):
    pat = signed_in(advice_app, "practitioner")
    walk_id = walk_to(pat, [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")])
    # The reference field sits in the page even when "No" is chosen: what was typed there is not kept.
    response = ask(pat, advice_app, walk_id, named="no", subject_ref="NH-2026-0042")
    request_id = response.location.rsplit("/", 1)[1]
    pat.get(f"/walks/{walk_id}/outcome")
    assert pat.post(f"/walks/{walk_id}/record", SHARE_WITHOUT_CONSENT).status_code == 303  # the record names NH-2026-0042
    for who in ("adviser", "second_adviser"):
        adviser = signed_in(advice_app, who)
        for url in (f"/advice/requests/{request_id}", "/advice"):
            assert "NH-2026-0042" not in text(adviser.get(url))
    session = advice_app.extensions["db_sessions"]()
    assert session.get(AdviceRequest, request_id).subject_ref == ""
    session.close()


def test_a_named_request_shows_the_reference_to_the_adviser(advice_app):
    pat = signed_in(advice_app, "practitioner")
    walk_id = walk_to(pat, [("purpose", "yes")])
    request_id = ask(pat, advice_app, walk_id, named="yes", subject_ref="NH-2026-0099").location.rsplit("/", 1)[1]
    assert "NH-2026-0099" in text(signed_in(advice_app, "adviser").get(f"/advice/requests/{request_id}"))


@pytest.mark.parametrize("fields, message", [
    ({"adviser": "OTHER"}, "Choose an adviser in your agency"),                      # an adviser of another agency
    ({"adviser": "COLLEAGUE"}, "Choose an adviser in your agency"),                  # not an adviser
    ({"adviser": "99999999999999999999"}, "Choose an adviser in your agency"),       # no one
    ({"adviser": ""}, "Choose the adviser you want to ask"),
    ({"question": "  "}, "Say what you are unsure about"),
    ({"named": "yes", "subject_ref": ""}, "Enter the child&#39;s reference"),
    ({"named": ""}, "Say whether you are naming the child"),
    ({"question_id": "lawful"}, "Ask about a question on your walk"),               # not reached yet
])
def test_bad_requests_are_refused_and_change_nothing(advice_app, fields, message):
    pat = signed_in(advice_app, "practitioner")
    walk_id = walk_to(pat, [("purpose", "yes")])
    before = counts(advice_app)
    ids = {"OTHER": str(user_id(advice_app, ADVISERS["other_adviser"]["email"])),
           "COLLEAGUE": str(user_id(advice_app, "col@example.org"))}
    fields = {k: ids.get(v, v) for k, v in fields.items()}
    response = ask(pat, advice_app, walk_id, **fields)
    assert response.status_code == 400 and message in text(response)
    assert counts(advice_app) == before


def test_a_request_on_someone_elses_walk_is_not_found(advice_app):
    colin = signed_in(advice_app, "colleague")
    walk_id = walk_to(colin, [("purpose", "yes")])
    pat = signed_in(advice_app, "practitioner")
    before = counts(advice_app)
    assert pat.get(f"/advice/ask/{walk_id}").status_code == 404
    assert ask(pat, advice_app, walk_id).status_code == 404
    assert counts(advice_app) == before


def test_advice_on_a_closed_request_is_refused(advice_app, asked):
    pat, request_id, _ = asked
    assert pat.post(f"/advice/requests/{request_id}/close", {}).status_code == 303
    ada = signed_in(advice_app, "adviser")
    ada.get("/advice")
    before = counts(advice_app)
    response = ada.post(f"/advice/requests/{request_id}/messages", {"kind": "advice", "text": "Late advice."})
    assert response.status_code == 409 and "This request is closed" in text(response)
    assert counts(advice_app) == before


def test_every_step_is_audited(advice_app, asked):
    pat, request_id, _ = asked
    ada = signed_in(advice_app, "adviser")
    ada.get(f"/advice/requests/{request_id}")
    ada.post(f"/advice/requests/{request_id}/messages", {"kind": "question", "text": "Who has parental responsibility?"})
    pat.post(f"/advice/requests/{request_id}/messages", {"kind": "reply", "text": "Mother."})
    ada.post(f"/advice/requests/{request_id}/messages", {"kind": "offline", "text": "I'll phone you at 2pm."})
    pat.post(f"/advice/requests/{request_id}/close", {})
    session = advice_app.extensions["db_sessions"]()
    events = [(e.action, e.detail.get("kind")) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == request_id).order_by(AuditEvent.id))]
    session.close()
    assert events == [("advice.ask", None), ("advice.view", None), ("advice.message", "question"),
                      ("advice.message", "reply"), ("advice.message", "offline"), ("advice.close", None)]


def test_ask_links_on_the_question_and_outcome_pages(advice_app):
    pat = signed_in(advice_app, "practitioner")
    walk_id = walk_to(pat, [("purpose", "yes")])
    assert f"/advice/ask/{walk_id}?question_id=consent" in text(pat.get(f"/walks/{walk_id}/consent"))
    pat.answer(walk_id, "consent", "not_sure")
    outcome = text(pat.get(f"/walks/{walk_id}/outcome"))
    assert "Ask for advice" in outcome and f"/advice/ask/{walk_id}" in outcome
    page = text(pat.get(f"/advice/ask/{walk_id}"))
    assert "call 999" in page and "Ada Adviser, Named nurse for safeguarding" in page
    assert "Ola Other" not in page  # advisers of another agency are not offered
    assert re.search(r"Ben Lead, Line manager", page)


def test_requests_and_replies_are_encrypted_at_rest(advice_app):
    from tests.test_encryption import database_bytes, on_sqlite
    if not on_sqlite():
        pytest.skip("reads the SQLite file itself")
    pat = signed_in(advice_app, "practitioner")
    walk_id = walk_to(pat, [("purpose", "yes")])
    request_id = ask(pat, advice_app, walk_id, named="yes", subject_ref="NH-SECRET-77",
                     question="Grandmother says the stepfather shouts").location.rsplit("/", 1)[1]
    ada = signed_in(advice_app, "adviser")
    ada.get(f"/advice/requests/{request_id}")
    ada.post(f"/advice/requests/{request_id}/messages", {"kind": "advice", "text": "Speak to the school nurse"})
    stored = database_bytes(advice_app)
    for secret in (b"NH-SECRET-77", b"Grandmother says", b"school nurse"):
        assert secret not in stored
