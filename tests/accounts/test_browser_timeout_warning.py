"""The GOV.UK timeout warning in a real browser: it appears before the idle timeout, "Stay signed in"
keeps the session, and after the timeout what was typed is still on the page and is sent on."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD, REAL_CONTENT, USERS, build_app, served

pytestmark = pytest.mark.browser


@pytest.fixture
def short_sessions(tmp_path):
    """Sessions that time out after 6 seconds idle, warning 4 seconds before."""
    with served(build_app(tmp_path, REAL_CONTENT, SESSION_IDLE_MINUTES=0.1, SESSION_WARNING_SECONDS=4)) as live:
        yield live


def sign_in(page: Page, base: str):
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(USERS["practitioner"]["email"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_the_warning_appears_and_stay_signed_in_keeps_the_session(page: Page, short_sessions):
    base, _ = short_sessions
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, base)
    page.goto(f"{base}/records")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=5000)
    expect(dialog).to_contain_text("You’re about to be signed out")
    expect(page.get_by_role("button", name="Stay signed in")).to_be_focused()
    page.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(3000)  # past the first idle timeout, had the session not been kept
    page.reload()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")
    assert errors == []


def test_after_the_timeout_what_was_typed_is_sent_on_after_signing_in(page: Page, short_sessions):
    base, _ = short_sessions
    sign_in(page, base)
    page.goto(f"{base}/chat")
    box = page.locator("textarea").first
    box.fill("A child in my class has unexplained bruises")
    expect(page.get_by_role("heading", name="You have been signed out")).to_be_visible(timeout=9000)
    page.get_by_role("button", name="Close").click()
    expect(box).to_have_value("A child in my class has unexplained bruises")
    page.locator("form:has(textarea) button[type=submit]").first.click()
    expect(page.get_by_text("What you typed has been kept")).to_be_visible()
    page.get_by_label("Email address").fill(USERS["practitioner"]["email"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("A child in my class has unexplained bruises")).to_be_visible()
