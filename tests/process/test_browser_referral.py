"""Real-browser journeys: a referral walk to its timeline and calendar file."""

import re

import icalendar
import pytest
from playwright.sync_api import Page, expect

from tests.decisions.test_browser import assert_accessible, sign_in, watched  # noqa: F401  (fixture)
from tests.process.test_process_pages import REFERRAL_PATH

pytestmark = pytest.mark.browser


def test_a_referral_walk_to_a_timeline_and_its_calendar_file(watched: Page, live_server):  # noqa: F811
    base, _ = live_server
    page = watched
    sign_in(page, base, "colleague")
    page.get_by_role("link", name="What happens after a referral to children's social care").click()
    page.get_by_label("I am a…").select_option("referrer")
    page.get_by_role("button", name="Show my part").click()
    # Wait for the filtered list: until it arrives, the only "referral" link is the one just followed.
    expect(page).to_have_url(re.compile(r"role=referrer"))
    page.get_by_role("main").get_by_role("link", name=re.compile("referral", re.I)).first.click()
    expect(page.get_by_role("button", name="Walk through it step by step")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Walk through it step by step").click()
    for question, value in REFERRAL_PATH:
        expect(page).to_have_url(re.compile(f"/{question}$"))
        expect(page.locator(".govuk-inset-text").first).to_contain_text("Who:")
        page.locator(f"input[name=answer][value={value}]").check()
        page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile("/outcome$"))
    assert_accessible(page)
    page.get_by_role("link", name="Work out the dates").click()
    referral = page.get_by_role("group", name=re.compile("referral", re.I)).first
    referral.get_by_label("Day").fill("18")
    referral.get_by_label("Month").fill("12")
    referral.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Show the dates").click()
    table = page.locator("table")
    expect(table).to_contain_text("Thursday 31 December 2026")  # 7 working days, over Christmas
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("calendar file")).click()
    calendar = icalendar.Calendar.from_ical(open(download_info.value.path(), "rb").read())
    dates = [event.decoded("DTSTART") for event in calendar.walk("VEVENT")]
    assert any(str(d).startswith("2026-12-31") for d in dates), dates
