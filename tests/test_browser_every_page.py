"""Every page of every journey, on a phone and on a desktop: nothing scrolls sideways at 320 or
1280 pixels, axe finds no violation (best-practice rules included), and on a 390 × 844 phone the
answers of every question of the confidentiality flowchart are on the first screen.

One signed-in browser context per journey; each page is looked at where the journey meets it,
at both widths, so a journey is walked once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from guide.flows.paths import enumerate_paths
from tests.decisions.test_browser import AXE, _known_design_system_exception, sign_in

pytestmark = pytest.mark.browser

WIDTHS = (320, 1280)
PHONE = {"width": 390, "height": 844}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


class Looker:
    """Looks at each page as it is met; the test fails at the end with everything found."""

    def __init__(self, page: Page):
        self.page = page
        self.problems: list[str] = []
        self.looked = 0

    def look(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state()
        # An htmx swap still under way marks its element .htmx-request: look once it has settled.
        expect(page.locator(".htmx-request")).to_have_count(0)
        self.looked += 1
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 844})
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            if wide > width:
                self.problems.append(f"{name} ({page.url}): {wide}px wide at {width}px")
            if width == 320:
                self._axe(name)
        page.set_viewport_size({"width": 1280, "height": 900})

    def _axe(self, name: str) -> None:
        result = self.page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        for violation in result["violations"]:
            nodes = [n for n in violation["nodes"] if not _known_design_system_exception(violation["id"], n)]
            if nodes:
                self.problems.append(f"{name} ({self.page.url}): axe {violation['id']} on {[n['target'] for n in nodes][:2]}")

    def done(self) -> None:
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture
def looker(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    yield Looker(page)
    context.close()


def answer(page: Page, value: str) -> None:
    page.locator(f"input[name=answer][value='{value}']").check()
    page.get_by_role("button", name="Continue").click()


SHARE_WITHOUT_CONSENT = {"consent": "refused", "statutory": "no", "harm_threshold": "yes", "public_interest": "yes",
                         "dpa_fair": "yes_exempt", "dpa_sensitive": "no", "dpa_compatible": "yes_compatible"}


def walk_questions(looker: Looker, answers: dict, default: str = "yes") -> None:
    page = looker.page
    while True:
        page.wait_for_load_state()
        found = re.search(r"^[^?]*//[^/]+/walks/[0-9a-f]+/(\w+)$", page.url)
        if not found or found.group(1) in ("check", "outcome", "record", "diagram"):
            return
        expect(page.locator("input[name=answer]").first).to_be_visible()
        looker.look(f"question {found.group(1)}")
        values = page.locator("input[name=answer]").evaluate_all("inputs => inputs.map(i => i.value)")
        wanted = answers.get(found.group(1), default)
        answer(page, wanted if wanted in values else values[0])
        page.wait_for_url(lambda url: not url.endswith("/" + found.group(1)))


def test_should_i_share_every_page(looker: Looker, live_server):
    base, _ = live_server
    page = looker.page
    sign_in(page, base)
    looker.look("home")
    page.get_by_role("button", name=re.compile("Start")).click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    looker.look("home, nothing chosen")
    page.get_by_role("link", name=re.compile("About this, and its key questions")).first.click()
    page.wait_for_url(re.compile("/flowcharts/confidentiality$"))
    looker.look("flowchart start")
    page.get_by_role("link", name="Start").first.click()
    page.get_by_label("Should I share information?").check()
    page.get_by_label(re.compile("Your reference for the child")).fill("EVERY-PAGE-1")
    page.get_by_role("button", name=re.compile("Start")).click()
    page.wait_for_url(re.compile(r"/walks/"))
    walk_questions(looker, SHARE_WITHOUT_CONSENT)
    expect(page).to_have_url(re.compile("/outcome$"))
    looker.look("outcome, answers and record form")
    outcome_url = page.url
    page.get_by_role("link", name=re.compile("path you took on the flowchart")).first.click()
    expect(page).to_have_url(re.compile("/diagram$"))
    looker.look("diagram")
    page.goto(outcome_url)
    page.get_by_role("button", name="Save decision record").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    looker.look("record form with errors")
    fill_record(page)
    expect(page.locator(".govuk-panel")).to_contain_text("Decision record saved")
    looker.look("record saved")
    page.get_by_role("link", name="View or print the decision record").click()
    looker.look("decision record")
    page.get_by_role("link", name="Decision records").first.click()
    expect(page).to_have_url(re.compile("/records$"))
    looker.look("decision records")
    page.get_by_role("link", name="Start").first.click()
    page.get_by_label("Should I share information?").check()
    page.get_by_label(re.compile("Your reference for the child")).fill("EVERY-PAGE-2")
    page.get_by_role("button", name=re.compile("Start")).click()
    page.wait_for_url(re.compile(r"/purpose$"))
    answer(page, "yes")
    page.wait_for_url(re.compile(r"/identifiable$"))
    page.get_by_role("link", name="Start").first.click()
    expect(page.get_by_role("main")).to_contain_text("Child EVERY-PAGE-2")
    looker.look("home, carry on where you left off")
    page.get_by_role("button", name=re.compile("Discard")).first.click()
    expect(page.get_by_role("main")).not_to_contain_text("EVERY-PAGE-2")
    looker.look("home, after discarding")
    looker.done()


def fill_record(page: Page) -> None:
    """What the walk could not know (the consent position and legal basis are filled in from it)."""
    expect(page.get_by_label("Your reference for the child or young person")).to_have_value("EVERY-PAGE-1")
    page.get_by_label("What information are you sharing?").fill("Bruising seen at school on 1 December.")
    page.get_by_label("Their name").fill("Sam Social")
    page.get_by_label("Their job title").fill("Duty social worker")
    page.get_by_label("Their organisation").fill("Northshire children's social care")
    page.get_by_label("Their telephone number or secure email address").fill("01632 960000")
    page.locator("input[name=share_method][value=phone]").check()
    page.locator("input[name=person_told][value=yes]").check()
    page.get_by_label("Why does sharing without consent apply in this case?").fill("Risk of significant harm.")
    page.locator("input[name=advice_sought][value=no]").check()
    page.get_by_label("I have done, or will do, each of these").check()
    page.get_by_role("button", name="Save decision record").click()


def test_every_confidentiality_question_has_its_answers_on_the_first_phone_screen(browser, live_server):
    """Each question reached by its shortest route, then looked at on a 390 × 844 phone."""
    base, app = live_server
    chart = app.extensions["guidance"].flowchart("confidentiality")
    prefixes = {}
    for path in enumerate_paths(chart):
        for index, (question_id, _) in enumerate(path.steps):
            if question_id not in prefixes or index < len(prefixes[question_id]):
                prefixes[question_id] = path.steps[:index]
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, base)
    low = []
    for question_id, steps in prefixes.items():
        page.goto(f"{base}/flowcharts/confidentiality")
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        started = page.request.post(f"{base}/flowcharts/confidentiality/start", form={"csrf_token": token},
                                    max_redirects=0)
        walk_url = base + started.headers["location"].rsplit("/", 1)[0]
        for asked, value in steps:
            page.request.post(f"{walk_url}/{asked}", form={"csrf_token": token, "answer": value}, max_redirects=0)
        page.goto(f"{walk_url}/{question_id}")
        last = page.locator(".govuk-radios__item").last.bounding_box()
        if last is None or last["y"] + last["height"] > PHONE["height"]:
            low.append(f"{question_id}: last answer ends at {last and round(last['y'] + last['height'])}px")
    context.close()
    assert len(prefixes) == len(chart.questions)
    assert low == [], "\n".join(low)


def test_case_examples_every_page(looker: Looker, live_server):
    base, app = live_server
    case = next(iter(app.extensions["guidance"].scenarios.values()))
    page = looker.page
    sign_in(page, base)
    page.get_by_role("link", name="Case examples").first.click()
    looker.look("case examples")
    page.get_by_role("link", name=case.title).first.click()
    looker.look("a case example")
    page.get_by_role("button", name="Start this case").click()
    page.wait_for_url(re.compile(r"/walks/"))
    walk_questions(looker, {point.id: point.guidance for point in case.decision_points})
    looker.look("case review")
    page.get_by_role("button", name="Keep this as a training record").click()
    looker.look("case review, kept")
    looker.done()


def test_after_a_referral_every_page(looker: Looker, live_server):
    base, _ = live_server
    page = looker.page
    sign_in(page, base)
    page.get_by_role("link", name="What happens after a referral to children's social care").click()
    looker.look("after a referral")
    page.get_by_label("I am a…").select_option("referrer")
    page.get_by_role("button", name="Show my part").click()
    expect(page).to_have_url(re.compile(r"role=referrer"))
    looker.look("after a referral, referrer")
    page.get_by_role("main").get_by_role("link", name=re.compile("referral", re.I)).first.click()
    looker.look("referral flow")
    page.get_by_role("button", name="Walk through it step by step").click()
    page.wait_for_url(re.compile(r"/walks/"))
    walk_questions(looker, {})
    looker.look("referral check answers")
    page.goto(f"{base}/process/timeline")
    looker.look("timeline")
    looker.done()


def test_a_trainer_round_every_page(browser, live_server):
    base, app = live_server
    case = app.extensions["guidance"].scenarios["ce14_school_year_head"]
    contexts = []

    def new_looker() -> Looker:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(path=str(AXE))
        contexts.append(context)
        return Looker(context.new_page())

    trainer, person = new_looker(), new_looker()
    sign_in(trainer.page, base, "trainer")
    trainer.page.get_by_role("link", name="Training sessions").click()
    trainer.look("training sessions")
    trainer.page.locator(f"input[name=cases][value={case.id}]").check()
    trainer.page.get_by_role("button", name="Open the session").click()
    code = trainer.page.locator(".app-join-code").inner_text().strip()
    trainer.look("session lobby")
    person.page.goto(f"{base}/join")
    person.look("join")
    person.page.get_by_label("Session code").fill(code)
    person.page.get_by_label("Your name").fill("Ann")
    person.page.get_by_role("button", name="Join").click()
    person.look("joined")
    trainer.page.get_by_role("button", name="Start the first decision point").click()
    point = case.decision_points[0]
    expect(person.page.get_by_role("heading", level=1)).to_have_text(point.question, timeout=10000)
    person.look("vote")
    trainer.look("voting")
    person.page.get_by_label(point.guidance_option.label, exact=True).check()
    person.page.get_by_role("button", name="Vote").click()
    expect(person.page.locator("main")).to_contain_text("Your vote is in")
    person.look("voted")
    trainer.page.get_by_role("button", name="Close voting and reveal the guidance's view").click()
    trainer.look("revealed")
    expect(person.page.locator("main")).to_contain_text("The guidance:", timeout=10000)
    person.look("revealed, participant")
    trainer.page.get_by_role("link", name="End the session now").click()
    expect(trainer.page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to end the session?")
    trainer.look("end the session?")
    trainer.page.get_by_role("button", name="Yes, end the session").click()
    expect(trainer.page.get_by_role("heading", level=1)).to_have_text("This session has ended")
    trainer.page.get_by_role("link", name="See the session report").click()
    trainer.look("session report")
    for context in contexts:
        context.close()
    trainer.done()
    person.done()


def test_reading_pages_every_page(looker: Looker, live_server):
    base, _ = live_server
    page = looker.page
    sign_in(page, base)
    for path, name in (("/glossary", "glossary"), ("/records?from-day=1&from-month=1&from-year=2026", "decision records, filtered"),
                       ("/chat", "describe the worry"), ("/cases?sector=health", "case examples, filtered"),
                       ("/training/records", "training records"),
                       ("/flowcharts/confidentiality/diagram", "whole diagram")):
        page.goto(base + path)
        looker.look(name)
    looker.done()


@pytest.fixture
def index_served(browser, tmp_path):
    """An app with a children's index (one child, an entry per category), served over HTTP."""
    from tests.conftest import build_app, served
    from tests.index.test_index import content_with, setup_index
    app = build_app(tmp_path, content_with(tmp_path))
    setup_index(app)
    with served(app) as live:
        yield live


def index_looker(browser, base: str, who: str) -> Looker:
    from tests.conftest import PASSWORD
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.goto(f"{base}/sign-in")
    page.get_by_label("Email address").fill(f"{who}@index.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)
    return Looker(page)


def test_childrens_index_every_page(browser, index_served):
    """The look-up (with its errors), a child's entry, adding an involvement; then the index manager's
    patrol, users and subject access pages."""
    from tests.index.test_index import CHILD
    base, _ = index_served
    social = index_looker(browser, base, "cp_social_worker")
    page = social.page
    page.goto(f"{base}/index")
    social.look("index look-up")
    page.get_by_role("button", name=re.compile("Look up")).click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    social.look("index look-up with errors")
    page.get_by_label("First name").fill(CHILD["given_name"])
    page.get_by_label("Last name").fill(CHILD["family_name"])
    page.get_by_label("Day").fill("17")
    page.get_by_label("Month").fill("5")
    page.get_by_label("Year").fill("2012")
    page.locator("input[name=reason]").first.check()
    page.get_by_label(re.compile("in your own words", re.I)).fill("Assessing his needs this week.")
    page.get_by_role("button", name=re.compile("Look up")).click()
    page.wait_for_url(re.compile(r"/index/children/\d+"))
    expect(page.get_by_role("main")).to_contain_text(CHILD["family_name"])
    social.look("a child's index entry")
    social.done()
    social.page.context.close()

    manager = index_looker(browser, base, "index_manager")
    for path, name in (("/index/patrol", "index patrol"), ("/index/users", "index users"),
                       ("/index/subject-access", "index subject access")):
        manager.page.goto(base + path)
        expect(manager.page.locator("h1")).to_be_visible()
        manager.look(name)
    manager.done()
    manager.page.context.close()
