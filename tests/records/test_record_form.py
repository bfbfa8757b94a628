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
    while "/check" not in location:
        question = location.rsplit("/", 1)[1]
        response = client.answer(walk_id, question, answers.get(question, "yes"))
        assert response.status_code == 303, response.get_data(as_text=True)
        location = response.location
    return walk_id


def checked(page: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" type="radio" value="([^"]+)" checked', page)


def test_the_form_fills_in_what_the_walk_already_knows(practitioner):
    walk_id = walk_to_outcome(practitioner, {**dict(WITHOUT_CONSENT), "dpa_fair": "yes_exempt", "dpa_sensitive": "no",
                                             "dpa_compatible": "yes_compatible"})
    page = practitioner.get(f"/walks/{walk_id}/record").get_data(as_text=True)
    assert checked(page, "consent_position") == ["refused"]
    assert checked(page, "basis") == ["public_interest"]
    today = date.today()
    assert f'name="shared_on-day" type="text" value="{today.day}"' in page.replace(' inputmode="numeric"', "")
    assert page.count("Filled in from your answers") == 2


def test_consent_given_is_filled_in_as_explicit_consent(practitioner):
    walk_id = walk_to_outcome(practitioner, {"consent": "yes_explicit", "dpa_fair": "yes_told", "dpa_sensitive": "no",
                                             "dpa_compatible": "yes_compatible"})
    page = practitioner.get(f"/walks/{walk_id}/record").get_data(as_text=True)
    assert checked(page, "consent_position") == ["explicit"]
    assert checked(page, "basis") == []


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
    # A date that does not exist is ignored rather than guessed, and nothing fails.
    assert practitioner.get("/records?from-day=31&from-month=2&from-year=2026").status_code == 200
    assert practitioner.get("/records?from-day=x&from-month=&from-year=").status_code == 200
