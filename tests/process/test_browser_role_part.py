"""Real-browser check of a role's part of a stage: shorter on a phone, the rest folded, no sideways scroll."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.decisions.test_browser import assert_accessible, sign_in, watched  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def height(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def test_a_referrer_on_a_phone_sees_their_part_and_can_unfold_everyone_elses(watched: Page, live_server):  # noqa: F811
    base, app = live_server
    page = watched
    content = app.extensions["guidance"].content
    chart = content.flowcharts["referral"]
    nodes = list(chart.questions.values()) + list(chart.outcomes.values())
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, base)
    page.goto(f"{base}/process/referral")
    every_step = height(page)
    # The role is chosen on the stage's own page, with a plain GET form.
    page.get_by_label("I am a…").select_option("referrer")
    page.get_by_role("button", name="Show my part").click()
    expect(page).to_have_url(re.compile(r"/process/referral\?role=referrer$"))
    main = page.get_by_role("main")
    theirs = sum("referrer" in node.who for node in nodes)
    expect(main.locator("h2:visible")).to_have_count(theirs)
    assert height(page) < every_step
    assert_accessible(page)
    page.get_by_text(f"Show all {len(nodes)} steps (other people's parts)").click()
    expect(main.locator("details h2:visible")).to_have_count(len(nodes))
    assert_accessible(page)
    for role in content.roles:
        page.goto(f"{base}/process/referral?role={role}")
        assert height(page) < every_step, role
    page.set_viewport_size({"width": 320, "height": 640})
    for role in [*content.roles, ""]:
        page.goto(f"{base}/process/referral?role={role}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, role
