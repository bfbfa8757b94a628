"""Every decision says which edition of the guidance and law it was walked on (issue 11).

The guide walks the 2005–2006 guidance and the Data Protection Act 1998, which has been
repealed and replaced. A practitioner sees that on every question, check-answers and outcome
page; the record keeps the edition it was walked on, and its page, PDF, CSV and JSON show it.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from guide.flows import ContentError, load_content
from tests.conftest import REAL_CONTENT, Client, record_about

REPEALED = "Data Protection Act 1998"
REPLACED_BY = "Data Protection Act 2018"

RECORD = {
    "subject_ref": "ED-2026-0001", "consent_position": "explicit", "advice_sought": "no",
    "information_shared": "Attendance and progress.", "recipient_name": "Dana Social",
    "recipient_job_title": "Social worker", "recipient_organisation": "Northshire Children's Services",
    "recipient_contact": "0100 000 0000", "share_method": "secure_email", "shared_on-day": "20",
    "shared_on-month": "11", "shared_on-year": "2026", "person_told": "yes",
}


def record_form(client, walk_id, subject_ref):
    """The record form on the outcome page, confirming sharing properly where it asks for that."""
    page = text(client.get(f"/walks/{walk_id}/outcome"))
    confirm = {"checklist_confirmed": "yes"} if 'name="checklist_confirmed"' in page else {}
    return client.post(f"/walks/{walk_id}/record", {**RECORD, "subject_ref": subject_ref, **confirm})


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_content_names_its_edition_and_says_the_law_has_changed():
    edition = load_content(REAL_CONTENT).edition
    assert edition is not None
    assert edition.title and edition.date and edition.status
    assert REPEALED in edition.note and REPLACED_BY in edition.note and "UK GDPR" in edition.note
    assert "check the current guidance" in edition.note.lower()


def test_an_edition_missing_a_field_is_refused_with_its_line(tmp_path):
    source = (REAL_CONTENT / "flowcharts.yaml").read_text(encoding="utf-8")
    broken = source.replace("  status: Superseded", "  state: Superseded", 1)
    assert broken != source
    import shutil
    shutil.copytree(REAL_CONTENT, tmp_path / "content")
    (tmp_path / "content" / "flowcharts.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(ContentError) as error:
        load_content(tmp_path / "content")
    messages = " ".join(str(issue) for issue in error.value.issues)
    assert "edition" in messages and "state" in messages


def test_a_walk_shows_the_edition_and_the_record_keeps_it_in_every_format(real_app):
    client = Client(real_app).sign_in("practitioner")
    walk_id = client.start("confidentiality")
    question = text(client.get(f"/walks/{walk_id}/purpose"))
    assert REPEALED in question and REPLACED_BY in question
    for question_id, value in [("purpose", "yes"), ("identifiable", "yes"), ("confidential", "yes"),
                               ("consent", "yes_explicit"), ("consent_who", "yes"), ("consent_valid", "yes")]:
        assert client.answer(walk_id, question_id, value).status_code == 303
    outcome = text(client.get(f"/walks/{walk_id}/outcome"))
    assert REPLACED_BY in outcome
    assert "What to do now" in outcome  # the outcome's actions

    response = record_form(client, walk_id, "ED-2026-0001")
    assert response.status_code == 303, text(response)
    session = real_app.extensions["db_sessions"]()
    record = record_about(session, "ED-2026-0001")
    edition = real_app.extensions["guidance"].content.edition
    assert record.body["edition"] == edition.as_dict()
    assert REPLACED_BY in text(client.get(f"/records/{record.id}"))

    records = Client(real_app).sign_in("records")
    rows = list(csv.DictReader(io.StringIO(text(records.get("/records/export.csv")))))
    assert rows[0]["edition"] == edition.title and rows[0]["edition_status"] == edition.status
    exported = json.loads(text(records.get("/records/export.json")))
    assert exported["records"][0]["edition"]["note"] == edition.note


def test_a_record_saved_before_editions_were_kept_says_so(real_app):
    from guide.records.export_formats import csv_line
    client = Client(real_app).sign_in("practitioner")
    walk_id = client.start("confidentiality")
    for question_id, value in [("purpose", "yes"), ("identifiable", "no")]:
        client.answer(walk_id, question_id, value)
    assert record_form(client, walk_id, "ED-2026-0002").status_code == 303
    session = real_app.extensions["db_sessions"]()
    record = record_about(session, "ED-2026-0002")
    record.body = {key: value for key, value in record.body.items() if key != "edition"}  # as an old record
    session.commit()
    page = text(client.get(f"/records/{record.id}"))
    assert "not stored with this record" in page
    assert csv_line(record).rstrip().endswith(",,")
