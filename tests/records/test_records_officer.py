"""A records officer's view: filters, subject access, and exports (CSV and JSON streamed, PDF)."""

import csv
import re
import zlib
import io
import json

import pytest

from guide.models import AuditEvent

from tests.conftest import Client, record_about
from tests.decisions.test_walk_journey import SHARE_WITHOUT_CONSENT, walk_to


def save(client, answers, **details):
    walk_id = walk_to(client, answers)
    client.get(f"/walks/{walk_id}/outcome")
    data = dict(SHARE_WITHOUT_CONSENT, **details) if answers[-1] == ("lawful", "yes") else {
        "consent_position": "refused", "advice_sought": "no", **details}
    response = client.post(f"/walks/{walk_id}/record", data)
    assert response.status_code == 303, response.get_data(as_text=True)


@pytest.fixture
def records(app):
    author = Client(app).sign_in("practitioner")
    save(author, [("purpose", "no")], subject_ref="CHILD-1")
    save(author, [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")], subject_ref="CHILD-2",
         information_shared="=HYPERLINK(\"http://evil\")")
    save(author, [("purpose", "not_sure")], subject_ref="CHILD-1")
    Client(app).sign_in("colleague")  # same agency, no records
    return Client(app).sign_in("records")


def test_filters_narrow_the_records(records):
    page = records.get("/records?decision=do_not_share").get_data(as_text=True)
    assert "1 record;" in page and "CHILD-1" in page
    page = records.get("/records?decision=share_without_consent&consent=refused").get_data(as_text=True)
    assert "1 record;" in page and "CHILD-2" in page
    assert "3 records" in records.get("/records?from=2000-01-01&to=2100-01-01").get_data(as_text=True)
    assert "No decision records match these filters" in records.get("/records?from=2000-01-01&to=2000-01-02").get_data(as_text=True)
    assert "3 records" in records.get("/records?author=pat").get_data(as_text=True)
    not_a_date = records.get("/records?from=not-a-date")  # not guessed: named, and the other filters still apply
    assert not_a_date.status_code == 400 and "3 records" in not_a_date.get_data(as_text=True)


def test_csv_export_streams_every_visible_record_and_is_audited(records, app):
    response = records.get("/records/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(r["subject_ref"] for r in rows) == ["CHILD-1", "CHILD-1", "CHILD-2"]
    shared = next(r for r in rows if r["subject_ref"] == "CHILD-2")
    assert shared["information_shared"].startswith("'=")  # a formula is written as text
    session = app.extensions["db_sessions"]()
    assert session.query(AuditEvent).filter_by(action="record.export").count() == 1
    session.close()


def test_json_export_uses_the_api_record_schema(records):
    body = json.loads(records.get("/records/export.json?decision=do_not_share").get_data(as_text=True))
    assert body["filters"] == {"decision": "do_not_share"}
    assert [r["subject_ref"] for r in body["records"]] == ["CHILD-1"]
    assert {"reference", "version", "answers", "details", "content_version"} <= set(body["records"][0])


def test_pdf_exports_one_record_or_a_bundle(records, app):
    bundle = records.get("/records/export.pdf")
    assert bundle.status_code == 200 and bundle.data.startswith(b"%PDF")
    from guide.models import DecisionRecord
    record_id = app.extensions["db_sessions"]().query(DecisionRecord).first().id
    single = records.get(f"/records/{record_id}.pdf")
    assert single.status_code == 200 and single.data.startswith(b"%PDF")


def test_the_pdf_is_tagged_so_a_screen_reader_can_read_it(records):
    document = records.get("/records/export.pdf").data
    # The PDF's objects sit in compressed streams: open them to read its structure.
    opened = b"".join([document] + [zlib.decompress(m.group(1)) for m in
                                    re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", document, re.S)
                                    if m.group(1)[:1] == b"x"])
    # PDF/UA: a structure tree with headings, marked content and the document's language.
    assert b"/StructTreeRoot" in opened and b"/MarkInfo" in opened and b"/Lang" in opened and b"/H1" in opened


def test_subject_access_lists_every_record_and_version_about_one_child(records, app):
    page = records.get("/records?subject=CHILD-1").get_data(as_text=True)
    assert "Subject access: CHILD-1" in page and "2 records, every version" in page
    session = app.extensions["db_sessions"]()
    assert session.query(AuditEvent).filter_by(action="record.subject_access").count() == 1
    session.close()


def test_another_agency_exports_nothing_of_ours(records, app):
    other = Client(app).sign_in("other_records")
    rows = list(csv.DictReader(io.StringIO(other.get("/records/export.csv").get_data(as_text=True))))
    assert rows == []
    practitioner = Client(app).sign_in("colleague")
    assert list(csv.DictReader(io.StringIO(practitioner.get("/records/export.csv").get_data(as_text=True)))) == []


def test_retention_lists_then_purges_old_records_and_audits_it(records, app):
    import datetime as dt

    from guide.models import DecisionRecord, Walk
    session = app.extensions["db_sessions"]()
    old = record_about(session, "CHILD-2")
    old.created_at = dt.datetime(2015, 1, 1)
    walk_id, reference = old.walk_id, old.reference
    session.commit()
    session.close()
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["records", "retention", "--days", "3650"])
    assert reference in listed.output and "1 record(s)" in listed.output
    declined = runner.invoke(args=["records", "retention", "--days", "3650", "--purge"], input="n\n")
    assert "Purged" not in declined.output
    purged = runner.invoke(args=["records", "retention", "--days", "3650", "--purge", "--yes"])
    assert "Purged 1 version(s) of 1 record(s)" in purged.output
    session = app.extensions["db_sessions"]()
    assert session.query(DecisionRecord).count() == 2 and session.get(Walk, walk_id) is None
    assert session.query(AuditEvent).filter_by(action="record.purge", object_id=reference).count() == 1
    session.close()


def test_the_audit_trail_is_sealed_and_a_tampered_event_is_found(records, app):
    import subprocess
    import sys

    from sqlalchemy import text as sql

    from guide.audit import verify

    from tests.conftest import ROOT
    engine = app.extensions["db_engine"]
    checked, broken, _ = verify(engine)
    assert checked > 5 and broken is None  # every event so far was sealed as its request committed
    with engine.begin() as connection:
        target = connection.execute(sql("SELECT id FROM audit_events WHERE action = 'record.create' ORDER BY id LIMIT 1")).scalar()
        connection.execute(sql("UPDATE audit_events SET user_id = NULL WHERE id = :id"), {"id": target})
    env = {"DATABASE_URL": str(engine.url.render_as_string(hide_password=False)), "SECRET_KEY": "x", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "guide", "audit", "verify"],
                            capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 1 and f"BROKEN at event {target}" in result.stderr and "altered" in result.stderr


@pytest.mark.skipif(not __import__("os").environ.get("TEST_POSTGRES_URL"),
                    reason="SQLite lets one transaction write at a time: commits cannot overtake each other")
def test_the_audit_chain_holds_when_transactions_commit_out_of_id_order(app):
    """On PostgreSQL an event with a smaller id can commit after one with a larger id."""
    from guide.audit import audit, verify
    sessions = app.extensions["db_sessions"]
    first, second, third = sessions(), sessions(), sessions()
    audit(first, None, "test.first", "test", "1")
    first.flush()   # draws the smaller id
    audit(second, None, "test.second", "test", "2")
    second.flush()  # the larger id
    second.commit()
    first.commit()  # sealed after the larger id
    audit(third, None, "test.third", "test", "3")
    third.commit()  # the chain's end is found, and extended, all the same
    for session in (first, second, third):
        session.close()
    engine = app.extensions["db_engine"]
    assert verify(engine)[1] is None


@pytest.mark.parametrize("start", ["\t", "\r", "\0", "=", "+", "-", "@"])
def test_a_cell_that_could_start_a_formula_is_exported_as_text(app, start):
    author = Client(app).sign_in("practitioner")
    save(author, [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")],
         information_shared=f"{start}=cmd|'/c calc'!A1", subject_ref="CHILD-F")
    rows = list(csv.DictReader(io.StringIO(Client(app).sign_in("records").get("/records/export.csv").get_data(as_text=True))))
    [row] = [r for r in rows if r["subject_ref"] == "CHILD-F"]
    assert row["information_shared"].startswith("'")


@pytest.mark.parametrize("start", ["\t", "\r", "\0"])
def test_tab_carriage_return_and_nul_before_a_formula_are_guarded_too(start):
    from guide.records.export_formats import _safe_cell
    assert _safe_cell(f"{start}=1+1") == f"'{start}=1+1"
    assert _safe_cell(f"{start}plain") == f"'{start}plain"
    assert _safe_cell("plain") == "plain"
