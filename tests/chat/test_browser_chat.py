"""Real-browser journeys: a chat to a saved record."""


import pytest
from playwright.sync_api import Page, expect

from tests.decisions.test_browser import assert_accessible, sign_in, watched  # noqa: F401  (fixture)
from tests.conftest import record_about

pytestmark = pytest.mark.browser


def test_a_conversation_from_first_message_to_saved_record(watched: Page, live_server):  # noqa: F811
    base, app = live_server
    page = watched
    sign_in(page, base, "records")
    page.get_by_role("link", name="Describe the worry").first.click()
    page.get_by_label("What is worrying you?").fill(
        "I'm a leisure centre receptionist. Two girls told me a lifeguard watches them getting changed.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".app-chat")).to_contain_text("Matched on:")
    assert_accessible(page)
    page.get_by_role("button", name="Start: Should I share information?").click()
    expect(page.locator(".app-chat__options").last).to_be_visible()
    # consent not asked, no legal duty (asked before whether it is safe to ask, issue 11), and safe to
    # ask → seek consent first
    replies = ["yes", "yes", "yes", "I haven't asked", "no", "no"]
    mine = page.locator(".app-chat__message--you")
    for reply in replies:
        sent = mine.count()
        page.get_by_label("Or answer in your own words").fill(reply)
        page.get_by_role("button", name="Send").click()
        expect(mine).to_have_count(sent + 1)  # the page has the reply and the guide's answer to it
    expect(page.locator(".app-chat")).to_contain_text("I understood “haven't asked” as")
    assert_accessible(page)
    page.get_by_role("button", name="Record your decision").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record your decision")
    page.get_by_label("Reference for the child or young person").fill("LC-2")
    page.get_by_role("radio", name="Consent not sought").check()
    page.get_by_label("Why was consent not sought?").fill("I will ask the girls' parents first.")
    page.locator("#advice_sought-2").check()
    page.get_by_role("button", name="Save decision record").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Decision record saved")
    session = app.extensions["db_sessions"]()
    assert record_about(session, "LC-2").decision == "seek_consent_first"
    session.close()
