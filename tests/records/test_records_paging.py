"""The records list pages with cursors: every record once, in order, forwards and back, with equal times too."""

import html
import re
from datetime import timedelta

import pytest

from tests.conftest import Client
from tests.records.test_export_jobs import _clone_records
from tests.records.test_records_officer import save

REFERENCE = re.compile(r'href="/records/[0-9a-f]{32}">([^<]+)</a>')
LINK = re.compile(r'<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="(prev|next)"')


def page(officer, url):
    response = officer.get(url)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    links = {rel: html.unescape(href) for href, rel in LINK.findall(body)}
    return REFERENCE.findall(body), links


@pytest.fixture
def officer(app):
    save(Client(app).sign_in("practitioner"), [("purpose", "no")], subject_ref="CHILD-1")
    _clone_records(app, 60)  # 61 records: three pages of 25
    return Client(app).sign_in("records")


def test_paging_on_and_back_shows_every_record_once_newest_first(officer):
    seen, pages = [], []
    url = "/records"
    while url:
        references, links = page(officer, url)
        pages.append((url, references))
        seen += references
        url = links.get("next")
    assert [len(refs) for _, refs in pages] == [25, 25, 11]
    assert len(set(seen)) == len(seen) == 61
    assert seen[:3] == ["COPY0059", "COPY0058", "COPY0057"]  # newest first
    # And back again from the last page: the same pages.
    url = pages[-1][0]
    for expected_url, expected in reversed(pages[:-1]):
        _, links = page(officer, url)
        url = links["prev"]
        assert page(officer, url)[0] == expected
    assert "prev" not in page(officer, url)[1]


def test_records_made_in_the_same_instant_are_neither_skipped_nor_repeated(officer, app):
    from sqlalchemy import update
    from guide.models import DecisionRecord
    session = app.extensions["db_sessions"]()
    moment = session.query(DecisionRecord).first().created_at + timedelta(days=1)
    session.execute(update(DecisionRecord).values(created_at=moment))
    session.commit()
    session.close()
    seen, url = [], "/records"
    while url:
        references, links = page(officer, url)
        seen += references
        url = links.get("next")
    assert len(set(seen)) == len(seen) == 61


@pytest.mark.parametrize("cursor", ["nonsense", "2026-13-40T00:00:00_abc", "_", "x" * 80, "2026-01-01T00:00:00_../../"])
def test_a_tampered_cursor_shows_the_first_page(officer, cursor):
    first, _ = page(officer, "/records")
    for name in ("after", "before"):
        assert page(officer, f"/records?{name}={cursor}")[0] == first
