"""The advice story in a real browser: unsure → asks → adviser replies → practitioner changes an answer →
records → adviser countersigns → the PDF shows it. Checked with axe-core on the new pages."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.advice.conftest import ADVISERS, add_advisers
from tests.conftest import PASSWORD, USERS
from tests.decisions.test_browser import (
    AXE,
    fill_share_without_consent_record as shared_fill,
    SHARE_WITHOUT_CONSENT,
    answer_with_mouse,
    assert_accessible,
    start_should_i_share,
)

pytestmark = pytest.mark.browser

UP_TO_PUBLIC_INTEREST = SHARE_WITHOUT_CONSENT[:7]
AFTER_PUBLIC_INTEREST = SHARE_WITHOUT_CONSENT[8:]


@pytest.fixture(scope="module")
def served(live_server):
    base, app = live_server
    add_advisers(app)
    return base, app


CONSOLE_ERRORS: list[str] = []


def signed_in_page(browser: Browser, base: str, email: str) -> Page:
    """A browser of one's own, failing the test on any console error (a CSP violation, a broken script)."""
    page = browser.new_context().new_page()
    page.add_init_script(path=str(AXE))
    page.on("console", lambda message: CONSOLE_ERRORS.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: CONSOLE_ERRORS.append(str(error)))
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Information sharing guide")
    return page


def fill_share_without_consent_record(page: Page) -> None:
    shared_fill(page, adviser="Ada Adviser, named nurse (advice in the guide)")


def test_unsure_ask_advice_change_an_answer_record_and_countersign(browser: Browser, served):
    from pypdf import PdfReader
    base, app = served
    public_interest = app.extensions["guidance"].flowchart("confidentiality").questions["public_interest"].text

    # The practitioner is unsure whether the public interest justifies sharing, and reaches "seek advice".
    pat = signed_in_page(browser, base, USERS["practitioner"]["email"])
    start_should_i_share(pat)
    for question, value in UP_TO_PUBLIC_INTEREST:
        answer_with_mouse(pat, question, value)
    expect(pat.get_by_role("link", name="Ask an adviser about this question")).to_be_visible()
    answer_with_mouse(pat, "public_interest", "not_sure")
    expect(pat).to_have_url(re.compile("/outcome$"))  # → the outcome: seek advice
    pat.get_by_role("link", name="Ask for advice about this decision").click()
    expect(pat.get_by_role("heading", level=1)).to_have_text("Ask for advice")
    expect(pat.locator("main")).to_contain_text("call 999")
    assert_accessible(pat)
    pat.get_by_label("Ada Adviser, Named nurse for safeguarding").check()
    pat.get_by_label("What are you unsure about?").fill("Mum refused. Is weight loss and missed visits enough?")
    pat.get_by_label("No, not yet").check()
    pat.get_by_role("button", name="Ask for advice").click()
    expect(pat.get_by_role("heading", level=1)).to_have_text("Request for advice")
    assert_accessible(pat)

    # The adviser sees it waiting (the header's count), reads the answers and replies with an answer to give.
    ada = signed_in_page(browser, base, ADVISERS["adviser"]["email"])
    expect(ada.locator("#advice-count")).to_contain_text("1")
    ada.get_by_role("link", name=re.compile("^Advice")).click()
    assert_accessible(ada)
    ada.locator("#advice-lists a").filter(has_text="Asked").first.click()
    expect(ada.locator("main")).to_contain_text("Mum refused. Is weight loss and missed visits enough?")
    expect(ada.locator("main")).not_to_contain_text("NH-2026-0042")
    expect(ada.locator(".app-diagram svg")).to_be_visible()  # the practitioner's path on the flowchart
    assert_accessible(ada)
    ada.get_by_label("Advice", exact=True).check()
    ada.get_by_label("Your message").fill("Reasonable cause to believe she is at risk of significant harm: share.")
    ada.select_option("#suggest", "public_interest=yes")
    ada.get_by_role("button", name="Send").click()
    expect(ada.locator("#advice-messages")).to_contain_text("Reasonable cause to believe")

    # The practitioner reads the advice and changes their answer.
    pat.reload()
    expect(pat.locator("#advice-messages")).to_contain_text("Suggested answer")
    pat.get_by_role("link", name=re.compile("Back to your walk")).click()
    pat.get_by_role("button", name=f"Change {public_interest}").click()
    answer_with_mouse(pat, "public_interest", "yes")
    for question, value in AFTER_PUBLIC_INTEREST:
        answer_with_mouse(pat, question, value)
    expect(pat).to_have_url(re.compile("/outcome$"))
    fill_share_without_consent_record(pat)
    pat.get_by_role("button", name="Save decision record").click()
    pat.get_by_role("link", name="View or print the decision record").click()
    main = pat.locator("main")
    expect(main).to_contain_text("Awaiting countersignature")
    expect(main).to_contain_text("Ada Adviser, Named nurse for safeguarding")
    expect(main).to_contain_text("Reasonable cause to believe she is at risk of significant harm: share.")
    assert_accessible(pat)
    record_url = pat.url

    # The adviser countersigns; the record and its PDF show it.
    ada.goto(f"{base}/advice")
    ada.locator("#advice-lists a[href^='/advice/records/']").first.click()
    assert_accessible(ada)
    ada.get_by_label("Countersign the record").check()
    ada.get_by_role("button", name="Confirm").click()
    expect(ada.locator("main")).to_contain_text("This record has been countersigned by Ada Adviser")
    pat.goto(record_url)
    expect(pat.locator("main")).to_contain_text("Countersigned by Ada Adviser, Named nurse for safeguarding")
    expect(pat.locator("main")).not_to_contain_text("Awaiting countersignature")
    pdf = pat.request.get(f"{record_url}.pdf")
    words = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages).split())
    assert "Countersigned by Ada Adviser, Named nurse for safeguarding" in words
    assert "Reasonable cause to believe she is at risk of significant harm: share." in words
    assert CONSOLE_ERRORS == []
