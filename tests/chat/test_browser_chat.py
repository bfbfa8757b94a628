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
    expect(page.get_by_role("heading", level=2, name="Record your decision")).to_be_visible()
    page.get_by_label("Your reference for the child or young person").fill("LC-2")
    # "I haven't asked" settled the consent position (not sought): the form asks only why.
    page.get_by_label("Why was consent not sought?").fill("I will ask the girls' parents first.")
    page.locator("#advice_sought-2").check()
    page.get_by_role("button", name="Save decision record").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Decision record saved")
    session = app.extensions["db_sessions"]()
    assert record_about(session, "LC-2").decision == "seek_consent_first"
    session.close()


def _newest_reply_id(page: Page) -> str:
    """The id of the guide's first reply after the practitioner's latest message."""
    return page.evaluate("""() => {
        const mine = [...document.querySelectorAll('.app-chat__message--you')];
        return mine[mine.length - 1].nextElementSibling.id;
    }""")


def test_after_each_reply_focus_goes_to_the_newest_message(watched: Page, live_server):  # noqa: F811
    base, _ = live_server
    page = watched
    sign_in(page, base)
    page.goto(f"{base}/chat")
    expect(page.get_by_text("If a child is in danger now, call 999.")).to_be_visible()
    page.get_by_label("What is worrying you?").fill("Dad is often drunk and there is domestic violence at home")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".app-chat")).to_contain_text("Is a child in danger right now?")
    assert page.evaluate("document.activeElement.id") == _newest_reply_id(page)
    for message in ["what is significant harm?", "case example 7"]:
        page.get_by_label("Your message").fill(message)
        page.get_by_role("button", name="Send").click()
        expect(page.locator(".app-chat__message--you").last).to_contain_text(message)
        newest = _newest_reply_id(page)
        expect(page.locator(f"#{newest}")).to_be_focused()
        expect(page.locator(f"#{newest}")).to_be_in_viewport()
    assert_accessible(page)


def test_without_javascript_the_page_opens_at_the_newest_message(browser, live_server):
    base, _ = live_server
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, base)
    page.goto(f"{base}/chat")
    page.get_by_label("What is worrying you?").fill("A parent asked me what the school keeps about her son")
    page.get_by_role("button", name="Send").click()
    for message in ["what is significant harm?", "§4.22", "case example 7"]:
        page.get_by_label("Your message").fill(message)
        page.get_by_role("button", name="Send").click()
    newest = _newest_reply_id(page)
    assert page.url.endswith(f"#{newest}")
    expect(page.locator(f"#{newest}")).to_be_in_viewport()
    context.close()
