"""The safeguarding process on the web: each role's part, the dates, the calendar file, the links in."""

import re
from datetime import date
from html import unescape

import icalendar
import pytest

from guide.models import DecisionRecord

from tests.conftest import Client

REFERRAL_PATH = [("immediate_danger", "no"), ("discuss_concerns", "yes"), ("child_in_need", "yes"), ("tell_family", "no"),
                 ("referral_method", "yes"), ("acknowledged", "yes"), ("next_course", "initial_assessment")]

STEP_HEADING = re.compile(r'<h2 class="govuk-heading-s govuk-!-margin-bottom-1">(.*?)</h2>', re.S)


def text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def person(real_app):
    return Client(real_app).sign_in("practitioner")


def test_the_process_page_lists_the_five_flows(person):
    page = text(person.get("/process"))
    for flow in ("referral", "after_initial_assessment", "urgent_action", "after_strategy_discussion", "after_conference"):
        assert f"/process/{flow}" in page


def headings(html: str) -> list[str]:
    """The step headings of a process page, in page order."""
    return [unescape(h) for h in STEP_HEADING.findall(html)]


def step_heading(node) -> str:
    return node.text if hasattr(node, "text") else node.title


def role_part(page: str) -> tuple[str, str]:
    """A role's page split into what shows at once and what is folded in the details."""
    shown, _, folded = page.partition('<details class="govuk-details">')
    return shown, folded


def process_charts(content):
    return [chart for chart in content.flowcharts.values() if chart.is_process]


def test_a_referrer_sees_the_steps_they_do_in_order_with_their_timescales(person, real_app):
    content = real_app.extensions["guidance"].content
    chart = content.flowcharts["referral"]
    theirs = [node for node in list(chart.questions.values()) + list(chart.outcomes.values()) if "referrer" in node.who]
    everyone = headings(text(person.get("/process/referral")))
    shown, _folded = role_part(text(person.get("/process/referral?role=referrer")))
    # Exactly the steps whose "who" names the referrer, in the order the whole process runs.
    assert sorted(headings(shown)) == sorted(step_heading(node) for node in theirs)
    assert headings(shown) == [heading for heading in everyone if heading in headings(shown)]
    assert len(headings(shown)) < len(everyone)
    assert f"You take part in {len(theirs)} of the {len(everyone)} steps" in shown
    for node in theirs:
        if node.timescale:
            assert unescape(content.timescales[node.timescale].label) in unescape(shown), node.id


def test_every_roles_part_of_the_referral_is_shorter_than_every_step(person, real_app):
    content = real_app.extensions["guidance"].content
    everyone = text(person.get("/process/referral"))
    for role in content.roles:
        shown, _folded = role_part(text(person.get(f"/process/referral?role={role}")))
        assert len(headings(shown)) < len(headings(everyone)), role
        assert len(shown) < len(everyone), role


def test_in_every_stage_a_role_sees_the_steps_naming_it_and_nothing_folds_when_it_does_them_all(person, real_app):
    content = real_app.extensions["guidance"].content
    for chart in process_charts(content):
        nodes = list(chart.questions.values()) + list(chart.outcomes.values())
        for role in content.roles:
            page = text(person.get(f"/process/{chart.id}?role={role}"))
            shown, folded = role_part(page)
            assert len(headings(shown)) == sum(role in node.who for node in nodes), (chart.id, role)
            # A role that does every step (the social worker after an initial assessment) has nothing folded.
            assert bool(folded) == (len(headings(shown)) < len(nodes)), (chart.id, role)


def test_other_peoples_steps_stay_one_click_away_folded(person, real_app):
    content = real_app.extensions["guidance"].content
    for chart in process_charts(content):
        everyone = headings(text(person.get(f"/process/{chart.id}")))
        page = text(person.get(f"/process/{chart.id}?role=referrer"))
        _shown, folded = role_part(page)
        assert f"Show all {len(everyone)} steps (other people's parts)" in unescape(folded)
        assert headings(folded) == everyone, chart.id
        assert f'href="/process/{chart.id}">Show every step</a>' in page


def test_a_role_with_no_part_in_a_stage_is_told_so_and_can_still_see_it(person, real_app):
    content = real_app.extensions["guidance"].content
    chart = content.flowcharts["referral"]
    absent = next(role for role in content.roles
                  if not any(role in node.who for node in list(chart.questions.values()) + list(chart.outcomes.values())))
    shown, folded = role_part(text(person.get(f"/process/referral?role={absent}")))
    assert "You have no part in this stage" in shown and headings(shown) == []
    assert len(headings(folded)) == len(chart.questions) + len(chart.outcomes)


def test_with_no_role_every_step_shows_unfolded(person, real_app):
    content = real_app.extensions["guidance"].content
    for chart in process_charts(content):
        page = text(person.get(f"/process/{chart.id}"))
        assert "Every role" in page and "govuk-details" not in page
        assert sorted(headings(page)) == sorted(step_heading(node) for node in
                                                list(chart.questions.values()) + list(chart.outcomes.values()))


def test_the_role_can_be_chosen_on_the_stage_page_without_javascript(person):
    page = text(person.get("/process/referral"))
    assert '<form method="get" action="/process/referral">' in page and 'name="role"' in page


def test_choosing_a_role_shows_that_roles_part_of_every_stage_and_nothing_else(person, real_app):
    content = real_app.extensions["guidance"].content
    page = text(person.get("/process?role=referrer"))
    assert "Your part as the practitioner who made the referral" in page
    mine, others = set(), set()
    for chart in process_charts(content):
        for node in list(chart.questions.values()) + list(chart.outcomes.values()):
            heading = step_heading(node).replace("'", "&#39;")
            (mine if "referrer" in node.who else others).add(heading)
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
