"""The chat, over HTTP: safety first, retrieval with reasons, the walk in conversation, the same record."""

import re

import pytest

from guide.models import ChatMessage, DecisionRecord, Walk

from tests.conftest import Client, count_rows, table_snapshot


def text(response):
    return response.get_data(as_text=True)


def plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#39;", "'").replace("&amp;", "&")


@pytest.fixture
def person(real_app):
    return Client(real_app).sign_in("practitioner")


def open_chat(person, message):
    person.get("/chat")
    response = person.post("/chat", {"message": message})
    assert response.status_code == 303, text(response)
    return response.location


def transcript(person, chat):
    page = text(person.get(chat))
    return plain(page.split('aria-label="Conversation"')[1].split("<!-- end of the conversation -->")[0])


def say(person, chat, message, status=303):
    response = person.post(f"{chat}/messages", {"message": message})
    assert response.status_code == status, text(response)
    return transcript(person, chat)


def test_words_of_immediate_danger_bring_the_urgent_prompt_first(person):
    chat = open_chat(person, "A girl in my class says her stepdad hit her and she is not safe to go home tonight")
    said = transcript(person, chat)
    assert said.index("act now") < said.index("closest to what you describe")
    assert "WTD §22" in said and "contact the police (999)" in said


def test_no_urgent_prompt_without_those_words(person):
    chat = open_chat(person, "A new mum I visit seems very low and the baby is not gaining weight")
    assert "act now" not in transcript(person, chat)


def test_a_story_finds_its_case_and_says_why(person, real_app):
    chat = open_chat(person, "I'm a receptionist at the leisure centre and two girls say a lifeguard watches them in the changing rooms")
    said = transcript(person, chat)
    case = real_app.extensions["guidance"].scenarios["ce21_leisure_centre"]
    assert f"Case example {case.number}" in said
    assert re.search(r"Matched on: [a-z, ]*(leisure|swimming|changing)", said)
    assert "Start: Should I share information?" in said


def test_the_right_flowchart_is_suggested(person):
    chat = open_chat(person, "I made a referral to social care yesterday, what happens next?")
    assert "Start: What happens after a referral" in transcript(person, chat) or "referral" in transcript(person, chat).lower()


def test_asked_for_a_decision_it_says_decisions_come_from_the_flowchart(person):
    chat = open_chat(person, "Should I share this with the school nurse?")
    said = transcript(person, chat)
    assert "I can't decide that for you" in said and "Start:" in said
    assert "share with consent" not in said.lower()


def walk_in_chat(person, chat, replies):
    person.get(chat)
    assert person.post(f"{chat}/start", {"flowchart": "confidentiality"}).status_code == 303
    said = ""
    for reply in replies:
        said = say(person, chat, reply)
    return said


def test_a_conversation_from_story_to_outcome_to_the_same_decision_record(person, real_app):
    chat = open_chat(person, "A teenager at our youth club told me her mum's partner hits her mum and she's scared")
    said = walk_in_chat(person, chat, [
        "yes", "yes", "yes it is confidential", "she said no", "yes", "no", "yes", "yes",
        "yes, exempt", "yes", "no", "yes, compatible", "yes"])
    assert "I understood “said no” as: No — consent was refused" in said
    assert "Share without consent" in said and "Record your decision" in said
    session = real_app.extensions["db_sessions"]()
    walk = session.query(Walk).one()
    assert walk.answers["consent"] == "refused"
    session.close()
    # The same record form, the same record, the same audit as the form journey.
    person.get(f"/walks/{walk.id}/outcome")
    response = person.post(f"/walks/{walk.id}/record", {
        "subject_ref": "CHAT-1", "consent_position": "refused", "advice_sought": "no",
        "information_shared": "What she told me.", "recipient_name": "Duty social worker", "recipient_job_title": "Social worker",
        "recipient_organisation": "Children's social care", "recipient_contact": "0100 000 0000", "share_method": "phone",
        "shared_on-day": "20", "shared_on-month": "11", "shared_on-year": "2026", "person_told": "yes",
        "checklist": [item.id for item in real_app.extensions["guidance"].content.sharing_checklist],
        "basis": "public_interest", "basis_detail": "Domestic abuse in the home."})
    assert response.status_code == 303, text(response)
    session = real_app.extensions["db_sessions"]()
    record = session.query(DecisionRecord).one()
    assert (record.walk_id, record.decision) == (walk.id, "share_without_consent")
    session.close()


def test_a_reply_that_cannot_be_understood_is_asked_again(person, real_app):
    chat = open_chat(person, "worried about a child at nursery")
    person.get(chat)
    person.post(f"{chat}/start", {"flowchart": "confidentiality"})
    said = say(person, chat, "purple")
    assert "I could not match that to one of the answers" in said
    page = text(person.get(chat))
    asked = '<p class="govuk-body govuk-!-font-weight-bold">Is there a legitimate purpose for you or your agency to share the information?</p>'
    assert page.count(asked) == 2
    session = real_app.extensions["db_sessions"]()
    assert session.query(Walk).one().answers == {}
    session.close()


def test_buttons_answer_and_change_works(person, real_app):
    chat = open_chat(person, "worried about a child")
    person.get(chat)
    person.post(f"{chat}/start", {"flowchart": "confidentiality"})
    person.get(chat)
    assert person.post(f"{chat}/answer", {"question": "purpose", "answer": "yes"}).status_code == 303
    assert person.post(f"{chat}/answer", {"question": "identifiable", "answer": "no"}).status_code == 303
    said = transcript(person, chat)
    assert "Your answer: No" in said
    assert person.post(f"{chat}/change", {"question": "identifiable"}).status_code == 303
    person.post(f"{chat}/answer", {"question": "identifiable", "answer": "yes"})
    said = transcript(person, chat)
    assert said.rstrip().endswith("Is the information confidential? " + said.split("Is the information confidential? ")[-1])
    session = real_app.extensions["db_sessions"]()
    assert session.query(Walk).one().answers == {"purpose": "yes", "identifiable": "yes"}
    session.close()


def test_refusals_change_nothing(person, real_app):
    chat = open_chat(person, "worried about a child")
    person.get(chat)
    person.post(f"{chat}/start", {"flowchart": "confidentiality"})
    before = (table_snapshot(real_app), count_rows(real_app, ChatMessage))
    assert person.post(f"{chat}/answer", {"question": "consent", "answer": "refused"}).status_code == 400  # not asked yet
    assert person.post(f"{chat}/answer", {"question": "purpose", "answer": "perhaps"}).status_code == 400
    assert person.post(f"{chat}/messages", {"message": "x" * 2001}).status_code == 400
    assert person.post(f"{chat}/messages", {"message": "   "}).status_code == 400
    assert person.post(f"{chat}/messages", {"message": "yes"}, csrf=False).status_code == 400
    assert person.post(f"{chat}/change", {"question": "consent"}).status_code == 400
    assert (table_snapshot(real_app), count_rows(real_app, ChatMessage)) == before
    other = Client(real_app).sign_in("colleague")
    assert other.get(chat).status_code == 404
    assert other.post(f"{chat}/messages", {"message": "yes"}).status_code == 404


def test_hostile_text_is_shown_as_text(person):
    chat = open_chat(person, "<script>alert('x')</script> <img src=x onerror=alert(1)> worried")
    page = text(person.get(chat))
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize("question, expected_title, expected_quote", [
    ("what is significant harm?", "Significant harm", "significant harm"),
    ("What does implied consent mean?", "Implied consent", "implied"),
])
def test_glossary_look_ups(person, question, expected_title, expected_quote):
    chat = open_chat(person, question)
    said = transcript(person, chat)
    assert expected_title in said and expected_quote in said.lower()
    assert "Case example" not in said.split(expected_title)[0]  # answered as a look-up, not a search


@pytest.mark.parametrize("question, ref, start", [
    ("§4.22", "WTD App3 §4.22", "There will be some circumstances where you should not seek consent"),
    ("what does XG 4.17 say?", "XG §4.17", None),
    ("WTD 11.5", "WTD §11.5", None),
])
def test_paragraph_look_ups_quote_the_guidance(person, real_app, question, ref, start):
    chat = open_chat(person, question)
    said = transcript(person, chat)
    paragraph = real_app.extensions["guidance_text"].paragraphs[ref]
    assert ref in said
    assert " ".join(paragraph.text.split())[:60] in said
    if start:
        assert start in said


def test_a_case_look_up(person, real_app):
    case = next(c for c in real_app.extensions["guidance"].scenarios.values() if c.number == 7)
    said = transcript(person, open_chat(person, "case example 7"))
    assert f"Case example 7: {case.title}" in said.replace("&#39;", "'")


def test_a_look_up_during_a_walk_keeps_the_question_open(person, real_app):
    chat = open_chat(person, "worried about a child")
    person.get(chat)
    person.post(f"{chat}/start", {"flowchart": "confidentiality"})
    said = say(person, chat, "what is significant harm?")
    assert said.rstrip().endswith("I'm not sure")  # the question is asked again after the look-up
    session = real_app.extensions["db_sessions"]()
    assert session.query(Walk).one().answers == {}
    session.close()


def test_question_pages_link_the_terms_they_use(person, real_app):
    walk_id = person.start("confidentiality")
    page = text(person.get(f"/walks/{walk_id}/purpose"))
    assert "What does this mean?" in page
    term = re.search(r'href="/glossary/([a-z_]+)"', page).group(1)
    glossary_page = text(person.get(f"/glossary/{term}"))
    assert real_app.extensions["guidance_text"].terms[term].cite in glossary_page
    assert person.get("/guidance?ref=XG%20%C2%A74.17").status_code == 200
    assert person.get("/guidance?ref=XG%20%C2%A799.99").status_code == 404
