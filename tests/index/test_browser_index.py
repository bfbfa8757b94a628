"""The children's index in a real browser: a look-up, the record, an indicator — accessible throughout."""

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from guide.models import IndexChild
from guide.accounts.users import find_by_email

from tests.conftest import USERS
from tests.decisions.test_browser import assert_accessible, sign_in, watched  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_a_designated_practitioner_looks_up_records_and_raises_an_indicator(watched: Page, live_server):  # noqa: F811
    base, app = live_server
    session = app.extensions["db_sessions"]()
    user = find_by_email(session, USERS["trainer"]["email"])
    user.index_designation, user.service_category = "user", "youth_work"
    session.add(IndexChild(upn="B000000000007", family_name="Nowak", given_name="Lena",
                           dob=dt.date(2011, 9, 2), gender="Female", address="9 Fen Row, Northtown",
                           postcode="ZZ3 9QT", carer_name="Ewa Nowak", carer_contact="07700 900456",
                           school="Fen Academy", gp_practice="Fen Surgery"))
    session.commit()
    session.close()
    page = watched
    sign_in(page, base, "trainer")
    page.get_by_role("link", name="Children's index").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Look up a child on the children's index")
    assert_accessible(page)
    # A wildcard is refused with the GOV.UK error summary, and nothing is shown.
    page.get_by_label("First name").fill("Lena")
    page.get_by_label("Last name").fill("Now*")
    page.get_by_label("Day").fill("2")
    page.get_by_label("Month").fill("9")
    page.get_by_label("Year").fill("2011")
    page.get_by_label("I am carrying out an assessment").check()
    page.get_by_label("In your own words").fill("Youth club assessment of her needs")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("full first name, last name and date of birth")
    assert_accessible(page)
    page.get_by_label("Last name").fill("Nowak")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lena Nowak")
    assert_accessible(page)
    page.get_by_label("Your service").select_option("youth_work")
    page.get_by_label("The child or young person (or their parent) has agreed").check()
    page.get_by_role("button", name="Record my involvement").click()
    expect(page.locator("main")).to_contain_text("Your entry")
    page.get_by_label("Action", exact=True).check()
    page.get_by_role("button", name="Raise indicator").click()
    expect(page.locator("table")).to_contain_text("Action")
    assert_accessible(page)
