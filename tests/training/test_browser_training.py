"""A trainer and three participants, each in their own browser context: join, vote, reveal, report."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, USERS
from tests.decisions.test_browser import AXE, assert_accessible

pytestmark = pytest.mark.browser


def test_a_room_of_three_votes_and_the_report_counts_match(browser, live_server):
    base, app = live_server
    case = app.extensions["guidance"].scenarios["ce14_school_year_head"]
    contexts = []

    def new_page():
        context = browser.new_context()
        context.add_init_script(path=str(AXE))
        contexts.append(context)
        return context.new_page()

    trainer = new_page()
    trainer.goto(f"{base}/sign-in")
    trainer.get_by_label("Email address").fill(USERS["trainer"]["email"])
    trainer.get_by_label("Password").fill(PASSWORD)
    trainer.get_by_role("button", name="Sign in").click()
    trainer.get_by_role("link", name="Training sessions").click()
    trainer.locator(f"input[name=cases][value={case.id}]").check()
    trainer.get_by_role("button", name="Open the session").click()
    code = trainer.locator(".app-join-code").inner_text().strip()
    expect(trainer.locator(".app-qr svg")).to_be_visible()
    assert_accessible(trainer)

    people = []
    for name in ("Ann", "Bob", "Cat"):
        page = new_page()
        page.goto(f"{base}/join")
        page.get_by_label("Session code").fill(code.lower())
        page.get_by_label("Your name").fill(name)
        page.get_by_role("button", name="Join").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("You have joined")
        people.append(page)
    assert_accessible(people[0])
    expect(trainer.locator("#session-live")).to_contain_text("3 people have joined")  # the live count polls in

    trainer.get_by_role("button", name="Start the first decision point").click()
    expected = []
    for index, point in enumerate(case.decision_points):
        other = next(o for o in point.options if o.value != point.guidance)
        chosen = [point.guidance_option, point.guidance_option, other] if index % 2 == 0 else [other, other, point.guidance_option]
        for page, option in zip(people, chosen):
            # The participant's page moves to the new point by itself (htmx polling).
            expect(page.get_by_role("heading", level=1)).to_have_text(point.question, timeout=10000)
            page.get_by_label(option.label, exact=True).check()
            page.get_by_role("button", name="Vote").click()
            expect(page.locator("main")).to_contain_text("Your vote is in")
        expected.append(sum(1 for option in chosen if option.value == point.guidance))
        expect(trainer.locator("#session-live")).to_contain_text("Votes: 3")
        if index == 0:
            assert_accessible(people[1])
        trainer.get_by_role("button", name="Close voting and reveal the guidance's view").click()
        expect(people[2].locator("main")).to_contain_text("The guidance:", timeout=10000)
        expect(people[2].locator("main")).to_contain_text(point.view_cite)
        last = index + 1 == len(case.decision_points)
        trainer.get_by_role("button", name="Finish the session" if last else "Next decision point").click()

    expect(trainer.get_by_role("heading", level=1)).to_have_text("This session has ended")
    for page in people:
        expect(page.get_by_role("heading", level=1)).to_have_text("The session has ended", timeout=10000)
    trainer.get_by_role("link", name="See the session report").click()
    rows = trainer.locator("tbody tr")
    expect(rows).to_have_count(len(case.decision_points))
    for row, agreed in zip(rows.all(), expected):
        expect(row.locator("td").last).to_have_text(re.compile(f"^{agreed} of 3 "))
    assert_accessible(trainer)
    for context in contexts:
        context.close()
