"""The safeguarding process on the web: each role's part, the dates, the calendar file, the links in."""

import re
from datetime import date

import icalendar
import pytest

from guide.models import DecisionRecord

from tests.conftest import Client

REFERRAL_PATH = [("immediate_danger", "no"), ("discuss_concerns", "yes"), ("child_in_need", "yes"), ("tell_family", "no"),
                 ("referral_method", "yes"), ("acknowledged", "yes"), ("next_course", "initial_assessment")]


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def person(real_app):
    return Client(real_app).sign_in("practitioner")


def test_the_process_page_lists_the_five_flows(person):
    page = text(person.get("/process"))
    for flow in ("referral", "after_initial_assessment", "urgent_action", "after_strategy_discussion", "after_conference"):
        assert f"/process/{flow}" in page


def test_a_referrer_sees_only_their_part(person, real_app):
    content = real_app.extensions["guidance"].content
    chart = content.flowcharts["after_conference"]
    everyone = text(person.get("/process/after_conference"))
    mine = text(person.get("/process/after_conference?role=referrer"))
    only_chair = [n for n in list(chart.questions.values()) + list(chart.outcomes.values())
                  if "referrer" not in n.who and "all_practitioners" not in n.who]
    assert only_chair, "the flow has steps that are not the referrer's"
    for node in only_chair:
        heading = node.text if hasattr(node, "text") else node.title
        assert heading.replace("'", "&#39;") in everyone or heading in everyone
        assert heading.replace("'", "&#39;") not in mine and heading not in mine
    assert "Your part as" in mine


def test_choosing_a_role_shows_that_roles_part_of_every_stage_and_nothing_else(person, real_app):
    content = real_app.extensions["guidance"].content
    page = text(person.get("/process?role=referrer"))
    assert "Your part as the practitioner who made the referral" in page
    mine, others = set(), set()
    for chart in (c for c in content.flowcharts.values() if c.is_process):
        for node in list(chart.questions.values()) + list(chart.outcomes.values()):
            heading = (node.text if hasattr(node, "text") else node.title).replace("'", "&#39;")
            (mine if "referrer" in node.who or "all_practitioners" in node.who else others).add(heading)
    assert mine and others - mine
    assert all(heading in page for heading in mine)
    assert not any(heading in page for heading in others - mine)


def test_an_unknown_role_shows_every_role(person):
    assert "Every role" in text(person.get("/process/referral?role=astronaut"))


@pytest.mark.parametrize("referral, expected", [
    # (referral date, the initial assessment's due date: 7 working days)
    (date(2026, 11, 23), date(2026, 12, 2)),    # Monday to Wednesday of the next week but one
    (date(2026, 12, 18), date(2026, 12, 31)),   # 21–24, then Christmas and Boxing Day (observed Monday 28th) skipped: 29, 30, 31
    (date(2027, 3, 24), date(2027, 4, 6)),      # across Good Friday (26 March) and Easter Monday (29 March)
])
def test_the_timeline_gives_working_day_dates(person, referral, expected):
    query = f"referral-day={referral.day}&referral-month={referral.month}&referral-year={referral.year}"
    page = text(person.get(f"/process/timeline?{query}"))
    row = re.search(r"<tr class=\"govuk-table__row\">\s*<td class=\"govuk-table__cell\">([^<]+)</td>\s*<td class=\"govuk-table__cell\">[^<]*initial assessment", page, re.I)
    assert row, page
    assert row.group(1).strip() == f"{expected:%A} {expected.day} {expected:%B %Y}"  # GOV.UK style: no leading zero


def test_the_calendar_file_has_an_event_per_due_date(person):
    query = "strategy_discussion-day=1&strategy_discussion-month=12&strategy_discussion-year=2026"
    response = person.get(f"/process/timeline.ics?{query}")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    events = {str(e["SUMMARY"]): e.decoded("DTSTART") for e in calendar.walk("VEVENT")}
    conference = next(d for s, d in events.items() if "conference" in s.lower())
    assert conference == date(2026, 12, 22)  # 15 working days after Tuesday 1 December 2026


def test_bad_dates_are_refused_clearly(person):
    response = person.get("/process/timeline?referral-day=31&referral-month=2&referral-year=2026")
    assert response.status_code == 400 and "must be a real date" in text(response)
    assert person.get("/process/timeline.ics?referral-day=31&referral-month=2&referral-year=2026").status_code == 400


def test_a_referral_walk_ends_in_a_stage_with_who_does_what(person):
    walk_id = person.start("referral")
    for question, value in REFERRAL_PATH:
        assert person.answer(walk_id, question, value).status_code == 303
    page = text(person.get(f"/walks/{walk_id}/outcome"))
    assert "Who:" in page and "Record your decision" not in page
    assert person.post(f"/walks/{walk_id}/record", {"subject_ref": "x"}).status_code == 409


def test_a_decision_to_share_offers_the_referral_flow_and_the_record_links_to_it(person, real_app):
    from tests.decisions.test_browser import SHARE_WITHOUT_CONSENT
    walk_id = person.start("confidentiality")
    for question, value in SHARE_WITHOUT_CONSENT:
        person.answer(walk_id, question, value)
    outcome = text(person.get(f"/walks/{walk_id}/outcome"))
    assert "/process/referral" in outcome and "What happens next" in outcome
    person.get(f"/walks/{walk_id}/outcome")
    response = person.post(f"/walks/{walk_id}/record", {
        "subject_ref": "R-1", "consent_position": "refused", "advice_sought": "no", "information_shared": "x",
        "recipient_name": "a", "recipient_job_title": "b", "recipient_organisation": "c", "recipient_contact": "d",
        "share_method": "phone", "shared_on-day": "2", "shared_on-month": "11", "shared_on-year": "2026", "person_told": "yes",
        "checklist": [i.id for i in real_app.extensions["guidance"].content.sharing_checklist],
        "basis": "public_interest", "basis_detail": "risk"})
    assert response.status_code == 303
    record = real_app.extensions["db_sessions"]().query(DecisionRecord).one()
    assert record.body["outcome"]["next_flowchart"] == "referral"
    assert "/process/referral" in text(person.get(f"/records/{record.id}"))
