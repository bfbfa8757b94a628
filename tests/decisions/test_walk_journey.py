"""A practitioner's journey through the web pages, over HTTP in-process."""

import re

from guide.models import AuditEvent, DecisionRecord

from tests.conftest import Client, count_rows

SHARE_WITHOUT_CONSENT = {
    "subject_ref": "NH-2026-0042", "consent_position": "refused", "advice_sought": "yes",
    "advice_from": "Sam Lead, named nurse for safeguarding", "information_shared": "Weight charts and missed appointments.",
    "recipient_name": "Dana Social", "recipient_job_title": "Social worker", "recipient_organisation": "Northshire Children's Services",
    "recipient_contact": "0100 000 0000", "share_method": "secure_email", "shared_on-day": "20", "shared_on-month": "11",
    "shared_on-year": "2026", "person_told": "no", "not_told_reason": "Telling the father would put the child at risk.",
    "checklist": ["necessary"], "basis": "public_interest", "basis_detail": "Reasonable cause to believe the child is at risk of significant harm.",
}


def walk_to(client: Client, answers: list[tuple[str, str]]) -> str:
    walk_id = client.start("mini")
    for question, value in answers:
        response = client.answer(walk_id, question, value)
        assert response.status_code == 303, response.get_data(as_text=True)
    return walk_id


def text(response) -> str:
    return response.get_data(as_text=True)


def test_pages_need_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and "/sign-in" in response.location


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client):
    client.get("/sign-in")
    response = client.post("/sign-in", {"email": "pat@example.org", "password": "wrong password!!"})
    assert response.status_code == 400
    assert "Enter a correct email address and password" in text(response)


def test_the_start_page_lists_the_flowcharts(client):
    page = text(client.sign_in("practitioner").get("/"))
    assert "Mini flowchart" in page and "Borrowed check" in page


def test_one_question_per_page_with_help_citation_and_not_sure(client):
    client.sign_in("practitioner")
    walk_id = client.start("mini")
    page = text(client.get(f"/walks/{walk_id}/purpose"))
    assert "Is there a legitimate purpose?" in page
    assert "Why it <em>matters</em>." in page  # help, rendered from markdown
    assert "WTD App3 §4.2" in page
    assert "I&#39;m not sure" in page or "I'm not sure" in page
    assert page.count('type="radio"') == 3


def test_a_walk_to_share_without_consent_is_saved_as_a_record(client, app):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")])
    outcome = text(client.get(f"/walks/{walk_id}/outcome"))
    assert "Check your answers" in outcome and "Share without consent" in outcome
    assert "Consent refused." in outcome and "WTD App3 §4.13" in outcome
    client.get(f"/walks/{walk_id}/outcome")
    response = client.post(f"/walks/{walk_id}/record", SHARE_WITHOUT_CONSENT)
    assert response.status_code == 303, text(response)
    confirmation = text(client.get(response.location))
    reference = re.search(r"DR-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", confirmation).group(0)
    session = app.extensions["db_sessions"]()
    record = session.query(DecisionRecord).one()
    assert record.reference == reference and record.decision == "share_without_consent"
    assert record.content_version == app.extensions["guidance"].version
    assert [a["question_id"] for a in record.body["answers"]] == ["purpose", "consent", "lawful"]
    assert record.body["details"]["recipient_organisation"] == "Northshire Children's Services"
    view = text(client.get(f"/records/{record.id}"))
    assert reference in view and "Dana Social" in view and "Telling the father would put the child at risk." in view
    actions = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "record.create" in actions and "record.view" in actions
    session.close()


def test_sharing_without_consent_needs_a_basis_and_a_reason_for_not_telling(client, app):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")])
    incomplete = {k: v for k, v in SHARE_WITHOUT_CONSENT.items() if k not in ("basis", "not_told_reason")}
    client.get(f"/walks/{walk_id}/outcome")
    response = client.post(f"/walks/{walk_id}/record", incomplete)
    assert response.status_code == 400
    page = text(response)
    assert "Select the legal basis for sharing without consent" in page
    assert "Say why the person has not been told" in page
    assert count_rows(app, DecisionRecord) == 0


def test_a_do_not_share_record_does_not_ask_what_was_shared(client, app):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "no")])
    page = text(client.get(f"/walks/{walk_id}/outcome"))
    assert "What information are you sharing?" not in page
    response = client.post(f"/walks/{walk_id}/record", {"subject_ref": "X1", "consent_position": "not_sought",
                                                       "consent_note": "No purpose to share.", "advice_sought": "no"})
    assert response.status_code == 303
    assert count_rows(app, DecisionRecord) == 1


def test_going_back_shows_the_previous_answer_selected(client):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "yes")])
    page = text(client.get(f"/walks/{walk_id}/purpose"))
    assert re.search(r'value="yes"\s+checked', page)
    assert 'href="/flowcharts/mini"' in page  # the back link of the first question


def test_change_from_the_answers_on_the_outcome_returns_there_and_keeps_later_answers(client, app):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "yes"), ("consent", "yes"), ("lawful", "yes")])
    page = text(client.get(f"/walks/{walk_id}/outcome"))
    # Beside the unsaved record, Change is a button of the record form: what was typed is kept.
    assert f'formaction="/walks/{walk_id}/record/change/consent"' in page
    response = client.post(f"/walks/{walk_id}/record/change/consent", {"information_shared": "Kept while I change it."})
    assert response.location.endswith(f"/walks/{walk_id}/consent?change=1")
    client.get(f"/walks/{walk_id}/consent?change=1")
    response = client.post(f"/walks/{walk_id}/consent", {"answer": "no", "change": "1"})
    assert response.location.endswith(f"/walks/{walk_id}/outcome")
    page = text(client.get(f"/walks/{walk_id}/outcome"))
    assert "Share without consent" in page and "Is it lawful?" in page
    assert "Kept while I change it." in page


def test_a_change_that_opens_a_new_question_goes_there_first(client):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "no")])
    response = client.answer(walk_id, "purpose", "yes", change="1")
    assert response.location.endswith(f"/walks/{walk_id}/consent?change=1")


def test_a_walk_can_be_resumed_from_the_start_page(client):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "yes")])
    page = text(client.get("/"))
    assert f"/walks/{walk_id}/consent" in page and "1 question answered" in page


def test_a_saved_record_is_final_and_a_correction_is_a_new_linked_version(client, app):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "no")])
    client.get(f"/walks/{walk_id}/outcome")
    client.post(f"/walks/{walk_id}/record", {"subject_ref": "X1", "consent_position": "refused", "advice_sought": "no"})
    session = app.extensions["db_sessions"]()
    first = session.query(DecisionRecord).one()
    # The walk behind a saved record cannot be changed.
    response = client.answer(walk_id, "purpose", "yes")
    assert response.status_code == 409
    # Correcting makes version 2, pointing at version 1, which is unchanged.
    client.get(f"/records/{first.id}/correct")
    response = client.post(f"/records/{first.id}/correct", {"subject_ref": "X1-corrected", "consent_position": "refused",
                                                            "advice_sought": "no", "correction_reason": "Wrong reference."})
    assert response.status_code == 303, text(response)
    # Its confirmation says which version it saved (the first version's says it saved the record).
    corrected = text(client.get(response.location))
    assert "Correction saved" in corrected and "version 2" in corrected and first.reference in corrected
    first_saved = text(client.get(f"/records/{first.id}/saved"))
    assert "Decision record saved" in first_saved and "version 2" not in first_saved
    session.expire_all()
    rows = session.query(DecisionRecord).order_by(DecisionRecord.version).all()
    assert [(r.version, r.subject_ref) for r in rows] == [(1, "X1"), (2, "X1-corrected")]
    assert rows[1].supersedes_id == rows[0].id and rows[1].reference == rows[0].reference
    # Version 1 says it has been corrected and can no longer be corrected itself.
    old = text(client.get(f"/records/{first.id}"))
    assert "This version has been corrected" in old
    response = client.post(f"/records/{first.id}/correct", {"subject_ref": "again", "consent_position": "refused",
                                                            "advice_sought": "no", "correction_reason": "Again."})
    assert response.status_code == 409
    assert count_rows(app, DecisionRecord) == 2
    session.close()


def test_a_correction_needs_a_reason(client, app):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "no")])
    client.get(f"/walks/{walk_id}/outcome")
    client.post(f"/walks/{walk_id}/record", {"subject_ref": "X1", "consent_position": "refused", "advice_sought": "no"})
    record_id = app.extensions["db_sessions"]().query(DecisionRecord).one().id
    client.get(f"/records/{record_id}/correct")
    response = client.post(f"/records/{record_id}/correct", {"subject_ref": "X2", "consent_position": "refused", "advice_sought": "no"})
    assert response.status_code == 400 and "Say what you are correcting and why" in text(response)
    assert count_rows(app, DecisionRecord) == 1


def test_who_can_see_a_record(app):
    author = Client(app).sign_in("practitioner")
    walk_id = walk_to(author, [("purpose", "no")])
    author.get(f"/walks/{walk_id}/outcome")
    # A reference no random form token could contain by chance (it has a space).
    author.post(f"/walks/{walk_id}/record", {"subject_ref": "Who sees X1", "consent_position": "refused",
                                             "advice_sought": "no"})
    record_id = app.extensions["db_sessions"]().query(DecisionRecord).one().id
    assert author.get(f"/records/{record_id}").status_code == 200
    assert Client(app).sign_in("records").get(f"/records/{record_id}").status_code == 200
    # A colleague, or a records officer of another agency, is told it does not exist.
    assert Client(app).sign_in("colleague").get(f"/records/{record_id}").status_code == 404
    assert Client(app).sign_in("other_records").get(f"/records/{record_id}").status_code == 404
    assert "Who sees X1" not in text(Client(app).sign_in("colleague").get("/records"))
    assert "Who sees X1" in text(Client(app).sign_in("records").get("/records"))


def test_another_practitioners_walk_is_not_found(app):
    owner = Client(app).sign_in("practitioner")
    walk_id = walk_to(owner, [("purpose", "yes")])
    intruder = Client(app).sign_in("colleague")
    assert intruder.get(f"/walks/{walk_id}/consent").status_code == 404
    assert intruder.post(f"/walks/{walk_id}/consent", {"answer": "yes"}).status_code == 404


def drawn_nodes(svg: str) -> dict[str, str]:
    """Each box of a Graphviz drawing: its words → its fill colour."""
    nodes = {}
    for group in re.findall(r'<g id="node\d+" class="node">(.*?)</g>', svg, flags=re.S):
        fill = re.search(r'<(?:path|polygon) fill="([^"]+)"', group).group(1)
        words = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", group))
        nodes[words.replace("&#39;", "'")] = fill
    return nodes


def test_the_diagram_is_drawn_on_the_server_in_words_with_the_path_highlighted(client):
    client.sign_in("practitioner")
    walk_id = walk_to(client, [("purpose", "yes"), ("consent", "no")])
    response = client.get(f"/walks/{walk_id}/diagram")
    page = text(response)
    nodes = drawn_nodes(page)
    assert nodes["Is there a legitimate purpose?"] == "#1d70b8" and nodes["Is there consent?"] == "#1d70b8"
    assert nodes["Is it lawful?"] == "#ffdd00" and nodes["Outcome: Do not share"] == "white"
    assert "You are here: Is it lawful?" in page
    # In words: no internal ids or raw answer values, and no script or inline style needed.
    drawing = page.split('<svg class="app-diagram__svg"')[1].split("</svg>")[0]
    assert "<title>" not in drawing and all(raw not in drawing for raw in ("not_sure", "no_share", "share_without", "share_ok"))
    assert "I&#39;m not sure" in page or "I'm not sure" in page
    assert "mermaid" not in page and "unsafe-inline" not in response.headers["Content-Security-Policy"]
    whole = drawn_nodes(text(client.get("/flowcharts/mini/diagram")))
    assert set(whole.values()) == {"white"}
    full = client.get(f"/walks/{walk_id}/diagram?full=1")
    assert full.mimetype == "image/svg+xml" and full.get_data(as_text=True).startswith("<svg")


def test_security_headers_are_set(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'nonce="{nonce}"' in text(response)


def test_an_htmx_step_gets_only_the_page_container(client):
    client.sign_in("practitioner")
    walk_id = client.start("mini")
    full = text(client.get(f"/walks/{walk_id}/purpose"))
    partial = text(client.get(f"/walks/{walk_id}/purpose", headers={"HX-Request": "true", "HX-Target": "page-container"}))
    assert "<html" in full and "<html" not in partial
    assert partial.lstrip().startswith("<title>") and 'id="page-container"' in partial
