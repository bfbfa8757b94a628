"""Journeys in a real browser (Debian's chromium through Playwright), checked with axe-core."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from guide.models import DecisionRecord

from tests.conftest import PASSWORD, USERS, record_about

pytestmark = pytest.mark.browser

AXE = Path(__file__).parents[1] / "vendor" / "axe.min.js"

SHARE_WITHOUT_CONSENT = [
    ("purpose", "yes"), ("identifiable", "yes"), ("confidential", "yes"), ("consent", "refused"),
    ("consent_who", "yes"), ("statutory", "no"), ("harm_threshold", "yes"), ("public_interest", "yes"),
]
SHARE_WITH_CONSENT = [
    ("purpose", "yes"), ("identifiable", "yes"), ("confidential", "yes"), ("consent", "yes_explicit"),
    ("consent_who", "yes"), ("consent_valid", "yes"),
]


@pytest.fixture
def watched(page: Page):
    """The page, failing the test on any console error (a CSP violation, a broken script)."""
    errors = []
    # Loaded by the browser itself into every document, so the pages' CSP need not allow it.
    page.add_init_script(path=str(AXE))
    expected = "the server responded with a status of 400"  # a form sent back with its errors
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and expected not in message.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == []


def assert_accessible(page: Page) -> None:
    """axe-core finds no WCAG 2.x A/AA violation on the page as it stands."""
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})""")
    problems = []
    for violation in result["violations"]:
        nodes = [n for n in violation["nodes"] if not _known_design_system_exception(violation["id"], n)]
        if nodes:
            problems.append((violation["id"], violation["help"], [n["target"] for n in nodes][:3]))
    assert problems == [], f"{page.url}: {problems}"


def _known_design_system_exception(rule: str, node: dict) -> bool:
    # GOV.UK Frontend puts aria-expanded on radios that reveal a follow-up question. The design
    # system keeps it on purpose, because screen readers announce it (alphagov/govuk-frontend#979);
    # axe calls it not allowed. Only that attribute, on those inputs, is let through.
    return (rule == "aria-allowed-attr" and "govuk-radios__input" in node["html"]
            and "aria-expanded" in node.get("failureSummary", "")
            and all("aria-expanded" in message for message in
                    [c["message"] for c in node.get("any", []) + node.get("all", []) + node.get("none", [])] or ["aria-expanded"]))


def sign_in(page: Page, base: str, who: str = "practitioner") -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(USERS[who]["email"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Information sharing guide")


def start_should_i_share(page: Page) -> None:
    """From the start page: choose the decision and press Start now."""
    page.get_by_label("Should I share information?").check()
    page.get_by_role("button", name="Start now").click()


def answer_with_mouse(page: Page, question: str, value: str, check_a11y: bool = False) -> None:
    expect(page).to_have_url(re.compile(f"/walks/[0-9a-f]+/{question}"))
    if check_a11y:
        assert_accessible(page)
    page.locator(f"input[name=answer][value={value}]").check()
    page.get_by_role("button", name="Continue").click()



def fill_share_without_consent_record(page: Page, adviser: str) -> None:
    """The record form of a share without consent, filled in as a practitioner would (advice from `adviser`).
    The consent position and the legal basis are settled by the answers, so not asked."""
    page.get_by_label("Your reference for the child or young person").fill("NH-2026-0042")
    page.get_by_label("What information are you sharing?").fill("Weight charts and missed appointments.")
    page.get_by_label("Their name").fill("Dana Social")
    page.get_by_label("Their job title").fill("Social worker")
    page.get_by_label("Their organisation").fill("Northshire Children's Services")
    page.get_by_label("Their telephone number or secure email address").fill("0100 000 0000")
    page.get_by_role("radio", name="Secure email").check()
    page.get_by_label("Day").fill("20")
    page.get_by_label("Month").fill("11")
    page.get_by_label("Year").fill("2026")
    page.locator("#person_told-2").check()
    page.get_by_label("Why not?").fill("Telling the father would put the child at risk.")
    page.get_by_label("Why does sharing without consent apply in this case?").fill(
        "Reasonable cause to believe the child is at risk of significant harm.")
    page.locator("#advice_sought").check()
    page.get_by_label("Who did you ask?").fill(adviser)
    page.get_by_label("I have done, or will do, each of these").check()

def test_a_practitioner_walks_to_share_without_consent_and_saves_the_record(watched: Page, live_server):
    base, app = live_server
    page = watched
    sign_in(page, base)
    assert_accessible(page)
    start_should_i_share(page)
    for question, value in SHARE_WITHOUT_CONSENT:
        answer_with_mouse(page, question, value, check_a11y=True)
    # One page after the questions: what to do now, the answers to check, and the record.
    expect(page).to_have_url(re.compile("/outcome$"))
    expect(page.get_by_role("heading", level=2, name="Check your answers")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Record your decision")).to_be_visible()
    assert_accessible(page)
    # Saving with nothing filled in shows the error summary, which takes focus.
    page.get_by_role("button", name="Save decision record").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    assert_accessible(page)
    fill_share_without_consent_record(page, adviser="Sam Lead, named nurse")
    page.get_by_role("button", name="Save decision record").click()
    panel = page.locator(".govuk-panel")
    expect(panel).to_contain_text("Decision record saved")
    reference = re.search(r"DR-[0-9A-F-]{14}", panel.inner_text()).group(0)
    assert_accessible(page)
    page.get_by_role("link", name="View or print the decision record").click()
    expect(page.locator("main")).to_contain_text("Dana Social")
    expect(page.locator("main")).to_contain_text(reference)
    assert_accessible(page)
    session = app.extensions["db_sessions"]()
    record = session.query(DecisionRecord).filter_by(reference=reference).one()
    assert record.decision == "share_without_consent" and record.body["details"]["basis"] == "public_interest"
    session.close()


def test_changing_an_answer_from_check_your_answers(watched: Page, live_server):
    base, _ = live_server
    page = watched
    sign_in(page, base)
    start_should_i_share(page)
    for question, value in SHARE_WITH_CONSENT:
        answer_with_mouse(page, question, value)
    expect(page.get_by_role("heading", level=2, name="Check your answers")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("Share, within the limits of the consent given")
    page.get_by_role("button", name="Change Do you have consent to share?").click()
    expect(page.locator("input[name=answer][value=yes_explicit]")).to_be_checked()
    page.locator("input[name=answer][value=refused]").check()
    page.get_by_role("button", name="Continue").click()
    # Only the questions the new answer opens are asked; the rest are kept.
    for question, value in [("statutory", "no"), ("harm_threshold", "yes"), ("public_interest", "yes")]:
        answer_with_mouse(page, question, value)
    expect(page).to_have_url(re.compile("/outcome$"))
    rows = page.locator(".govuk-summary-list__row")
    expect(rows.filter(has_text="Do you have consent to share?")).to_contain_text("refused", ignore_case=True)
    # Issue 11: with a concern about significant harm the Act's checks are settled, not asked.
    expect(rows.filter(has_text="Is a condition in Schedule 2 met?")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Share without consent — the public interest justifies it")


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching the selector has focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"could not reach {selector} with the Tab key")


def test_a_walk_and_its_record_with_the_keyboard_only(watched: Page, live_server):
    base, app = live_server
    page = watched
    page.goto(f"{base}/sign-in")
    tab_to(page, "#email")
    page.keyboard.type(USERS["colleague"]["email"])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Information sharing guide")
    tab_to(page, "input[name=flowchart][value=confidentiality]")
    page.keyboard.press("Space")
    tab_to(page, "button.govuk-button--start")
    page.keyboard.press("Enter")
    for question, value in [("purpose", "yes"), ("identifiable", "yes"), ("confidential", "yes"),
                            ("consent", "not_asked"), ("statutory", "no"), ("consent_seek_safe", "no")]:
        expect(page).to_have_url(re.compile(f"/{question}$"))
        # Tab lands on the radio group; arrow keys move between its options.
        tab_to(page, "input[name=answer]")
        for _ in range(8):
            if page.evaluate("() => document.activeElement.value") == value:
                break
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
        assert page.evaluate("() => document.activeElement.checked")
        tab_to(page, "button.govuk-button")
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/outcome$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Seek consent before you share")
    tab_to(page, "#subject_ref")
    page.keyboard.type("KB-7")
    # Consent not asked for is settled by the answers ("not sought"): the form asks only why.
    tab_to(page, "#consent_note")
    page.keyboard.type("I am going to ask the mother first.")
    tab_to(page, "input[name=advice_sought]")
    page.keyboard.press("ArrowDown")  # Yes, then No
    page.keyboard.press("Space")
    tab_to(page, "button.govuk-button[type=submit]:not(.govuk-button--secondary)")
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-panel")).to_contain_text("Decision record saved")
    session = app.extensions["db_sessions"]()
    assert record_about(session, "KB-7").decision == "seek_consent_first"
    session.close()


def test_htmx_swaps_each_step_and_moves_focus_to_the_question(watched: Page, live_server):
    base, _ = live_server
    page = watched
    sign_in(page, base)
    start_should_i_share(page)
    page.evaluate("() => { window.stillThisPage = true }")
    answer_with_mouse(page, "purpose", "yes")
    expect(page).to_have_url(re.compile("/identifiable$"))
    expect(page).to_have_title(re.compile("^Does the information enable a person to be identified"))
    assert page.evaluate("() => window.stillThisPage") is True  # swapped in place, not reloaded
    expect(page.locator("h1")).to_be_focused()
    # The browser's back button returns to the previous question with its answer.
    page.go_back()
    expect(page).to_have_url(re.compile("/purpose$"))
    expect(page.locator("input[name=answer][value=yes]")).to_be_checked()


def test_the_journey_works_without_javascript(browser, live_server):
    base, _ = live_server
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.add_init_script(path=str(AXE))
    sign_in(page, base)
    start_should_i_share(page)
    for question, value in [("purpose", "no")]:
        answer_with_mouse(page, question, value)
    expect(page).to_have_url(re.compile("/outcome$"))
    expect(page.get_by_role("heading", level=2, name="Check your answers")).to_be_visible()
    context.close()


def test_the_diagram_is_drawn_with_the_path_highlighted(watched: Page, live_server):
    base, _ = live_server
    page = watched
    sign_in(page, base)
    start_should_i_share(page)
    answer_with_mouse(page, "purpose", "yes")
    page.get_by_role("link", name="See where you are on the flowchart").click()
    expect(page.locator(".app-diagram svg")).to_be_visible(timeout=15000)
    expect(page.locator("main")).to_contain_text("You are here: Does the information enable a person to be identified?")
    assert_accessible(page)
