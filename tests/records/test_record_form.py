"""The record form after a walk: what the walk knows is filled in, and problems are listed in page order."""

import re
from datetime import date

import pytest

from tests.conftest import Client

WITHOUT_CONSENT = [("purpose", "yes"), ("identifiable", "yes"), ("confidential", "yes"), ("consent", "refused"),
                   ("consent_who", "yes"), ("statutory", "no"), ("harm_threshold", "yes"), ("public_interest", "yes")]


@pytest.fixture
def practitioner(real_app):
    return Client(real_app).sign_in("practitioner")


def walk_to_outcome(client: Client, answers: dict) -> str:
    walk_id = client.start("confidentiality")
    location = f"/walks/{walk_id}/purpose"
    while "/outcome" not in location:
        question = location.rsplit("/", 1)[1]
        response = client.answer(walk_id, question, answers.get(question, "yes"))
        assert response.status_code == 303, response.get_data(as_text=True)
        location = response.location
    return walk_id


def checked(page: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" type="radio" value="([^"]+)" checked', page)


def test_the_form_fills_in_what_the_walk_already_knows(practitioner):
    walk_id = walk_to_outcome(practitioner, dict(WITHOUT_CONSENT))
    page = practitioner.get(f"/walks/{walk_id}/outcome").get_data(as_text=True)
    # The consent position and the legal basis come from the answers above the form, not asked again...
    assert 'name="consent_position"' not in page and 'name="basis"' not in page
    assert "On the record: consent position" in page and "Consent refused" in page
    assert "On the record: legal basis for sharing without consent" in page
    # ...and the date is today's, which the practitioner can change.
    today = date.today()
    assert f'name="shared_on-day" type="text" value="{today.day}"' in page.replace(' inputmode="numeric"', "")


def test_what_the_answers_settle_is_saved_from_the_answers_not_from_the_post(practitioner, real_app):
    walk_id = walk_to_outcome(practitioner, dict(WITHOUT_CONSENT))
    practitioner.get(f"/walks/{walk_id}/outcome")
    response = practitioner.post(f"/walks/{walk_id}/record", {
        "subject_ref": "RF-1", "consent_position": "explicit", "basis": "court_order", "advice_sought": "no",
        "information_shared": "Bruising.", "recipient_name": "Sam", "recipient_job_title": "Social worker",
        "recipient_organisation": "Northshire", "recipient_contact": "0100", "share_method": "phone",
        "shared_on-day": "1", "shared_on-month": "12", "shared_on-year": "2026", "person_told": "yes",
        "basis_detail": "Risk of significant harm.", "checklist_confirmed": "yes"})
    assert response.status_code == 303, response.get_data(as_text=True)
    record = practitioner.get(response.location.removesuffix("/saved")).get_data(as_text=True)
    assert "Consent refused" in record and "Public interest" in record
    assert "Explicit consent given" not in record and "A court order" not in record


def test_consent_given_is_settled_as_explicit_consent(practitioner):
    walk_id = walk_to_outcome(practitioner, {"consent": "yes_explicit"})
    page = practitioner.get(f"/walks/{walk_id}/outcome").get_data(as_text=True)
    assert "Explicit consent given" in page and 'name="consent_position"' not in page
    assert "legal basis" not in page


def test_where_the_answers_do_not_settle_consent_the_form_asks(practitioner):
    walk_id = walk_to_outcome(practitioner, {"consent": "cannot_obtain"})
    page = practitioner.get(f"/walks/{walk_id}/outcome").get_data(as_text=True)
    assert 'name="consent_position"' in page


def test_an_empty_form_lists_its_problems_in_the_order_of_the_page(practitioner):
    walk_id = walk_to_outcome(practitioner, {**dict(WITHOUT_CONSENT), "dpa_fair": "yes_exempt", "dpa_sensitive": "no",
                                             "dpa_compatible": "yes_compatible"})
    response = practitioner.post(f"/walks/{walk_id}/record", {})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    summary = page.split("govuk-error-summary__list")[1].split("</ul>")[0]
    linked = re.findall(r'href="#([\w-]+)"', summary)
    main = page.split('id="main-content"')[1].split("govuk-error-summary__list")[1].split("</ul>", 1)[1]
    missing = [t for t in linked if f'id="{t}"' not in main]
    assert missing == [], missing
    positions = [main.index(f'id="{target}"') for target in linked]
    assert len(linked) >= 10 and positions == sorted(positions), linked


def test_the_records_filter_takes_a_govuk_date_input(practitioner):
    page = practitioner.get("/records?from-day=3&from-month=12&from-year=2026").get_data(as_text=True)
    assert 'name="from-day" type="text" value="3"' in page.replace(' inputmode="numeric"', "")
    # A date that does not exist is not guessed: a clear 400 with the page (not a server error).
    assert practitioner.get("/records?from-day=31&from-month=2&from-year=2026").status_code == 400
    assert practitioner.get("/records?from-day=x&from-month=&from-year=").status_code == 400


def test_the_confirmation_repeats_what_to_do_and_says_when_a_record_awaits_countersignature(practitioner):
    walk_id = walk_to_outcome(practitioner, dict(WITHOUT_CONSENT))
    practitioner.get(f"/walks/{walk_id}/outcome")
    response = practitioner.post(f"/walks/{walk_id}/record", {
        "subject_ref": "RF-2", "advice_sought": "no", "information_shared": "Bruising.", "recipient_name": "Sam",
        "recipient_job_title": "Social worker", "recipient_organisation": "Northshire", "recipient_contact": "0100",
        "share_method": "phone", "shared_on-day": "1", "shared_on-month": "12", "shared_on-year": "2026",
        "person_told": "yes", "basis_detail": "Risk of significant harm.", "checklist_confirmed": "yes"})
    assert response.status_code == 303, response.get_data(as_text=True)
    saved = practitioner.get(response.location).get_data(as_text=True)
    record = practitioner.get(response.location.removesuffix("/saved")).get_data(as_text=True)
    # The record page says it awaits countersignature (the agency's policy): the confirmation must not
    # call it final, and it repeats what to do now (the referral, the 999 line).
    assert "Awaiting countersignature" in record
    assert "The record is final" not in saved and "not final until they do" in saved
    assert "What to do now" in saved and "999" in saved


def test_a_date_that_does_not_exist_in_the_filter_is_named_not_silently_ignored(practitioner):
    response = practitioner.get("/records?from-day=31&from-month=2&from-year=2026")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in page and "Recorded from must be a real date" in page


def test_a_filter_that_matches_nothing_says_so_rather_than_that_there_are_no_records(practitioner):
    page = practitioner.get("/records?team=No+such+team").get_data(as_text=True)
    assert "No decision records match these filters" in page and "no decision records yet" not in page
