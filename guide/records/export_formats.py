"""Exports of decision records for agencies: CSV and JSON streamed row by row, PDF to sign.

Rows are read from the database in batches and written out as they come, so memory stays
flat however many records there are.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import DecisionRecord, User, utc_iso
from .form import BASES, CONSENT_POSITIONS, SHARE_METHODS
from .visibility import RecordFilter, visible_query

BATCH = 1000

CSV_COLUMNS = [
    ("reference", lambda r, d: r.reference), ("version", lambda r, d: r.version),
    ("recorded_at", lambda r, d: utc_iso(r.created_at)), ("agency", lambda r, d: r.agency),
    ("team", lambda r, d: r.team), ("decided_by", lambda r, d: r.body["author"]["name"]),
    ("role", lambda r, d: r.body["author"].get("job_title") or r.body["author"]["role"]),
    ("flowchart", lambda r, d: r.flowchart_id), ("content_version", lambda r, d: r.content_version),
    ("subject_ref", lambda r, d: r.subject_ref), ("decision", lambda r, d: r.decision),
    ("outcome", lambda r, d: r.body["outcome"]["title"]),
    ("consent_position", lambda r, d: CONSENT_POSITIONS.get(r.consent_position, r.consent_position)),
    ("advice_from", lambda r, d: d.get("advice_from", "")),
    ("information_shared", lambda r, d: d.get("information_shared", "")),
    ("recipient", lambda r, d: ", ".join(filter(None, (d.get("recipient_name"), d.get("recipient_job_title"),
                                                       d.get("recipient_organisation"))))),
    ("method", lambda r, d: SHARE_METHODS.get(d.get("share_method", ""), "")),
    ("shared_on", lambda r, d: d.get("shared_on", "")), ("person_told", lambda r, d: d.get("person_told", "")),
    ("not_told_reason", lambda r, d: d.get("not_told_reason", "")),
    ("basis", lambda r, d: BASES.get(d.get("basis", ""), "")),
    ("supersedes", lambda r, d: r.supersedes_id or ""), ("correction_reason", lambda r, d: r.correction_reason),
    # Last, so the columns before keep their places: the edition the record was walked on.
    ("edition", lambda r, d: _edition(r).get("title", "")), ("edition_status", lambda r, d: _edition(r).get("status", "")),
]


def _edition(record) -> dict:
    return record.body.get("edition") or {}


def _records(db: Session, user: User, wanted: RecordFilter, *columns) -> Iterator:
    """The rows, as plain rows rather than ORM objects: the session keeps nothing it has streamed."""
    query = (visible_query(db, user, wanted).with_only_columns(*(columns or DecisionRecord.__table__.c))
             .order_by(DecisionRecord.created_at, DecisionRecord.id))
    yield from db.execute(query.execution_options(yield_per=BATCH))


def csv_line(record) -> str:
    """One record's line of the CSV export (a DecisionRecord, or a row with the same columns)."""
    buffer = io.StringIO()
    details = record.body.get("details", {})
    csv.writer(buffer).writerow([_safe_cell(value(record, details)) for _, value in CSV_COLUMNS])
    return buffer.getvalue()


def csv_header() -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([name for name, _ in CSV_COLUMNS])
    return buffer.getvalue()


def csv_rows(db: Session, user: User, wanted: RecordFilter) -> Iterator[str]:
    """The header, then each record's line as made when it was saved: only that column is read
    and decrypted (a record saved before lines were kept is read whole and its line made now)."""
    chunk = [csv_header()]
    for line, record_id in _records(db, user, wanted, DecisionRecord.csv_row, DecisionRecord.id):
        if line is None:
            line = csv_line(db.execute(select(*DecisionRecord.__table__.c).where(DecisionRecord.id == record_id)).one())
        chunk.append(line)
        if len(chunk) >= 500:
            yield "".join(chunk)
            chunk.clear()
    yield "".join(chunk)


# A cell starting with one of these can run as a formula in a spreadsheet (OWASP's CSV injection
# list: tab, carriage return and NUL too, which some spreadsheets skip before reading a formula).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def _safe_cell(value) -> str:
    # Such a cell is made text by a leading apostrophe.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def json_rows(db: Session, user: User, wanted: RecordFilter, to_json) -> Iterator[str]:
    yield '{"filters": ' + json.dumps(wanted.as_dict()) + ', "records": ['
    for count, record in enumerate(_records(db, user, wanted)):
        yield ("," if count else "") + json.dumps(to_json(record))
    yield "]}"


def pdf(records: list[DecisionRecord], checklist) -> bytes:
    import weasyprint  # imported when needed: it loads Pango
    html = render_template("records/record_pdf.html", records=records, labels={
        "consent": CONSENT_POSITIONS, "method": SHARE_METHODS, "basis": BASES}, checklist=checklist)
    # Tagged (PDF/UA-1): a structure tree with headings, so a screen reader can read a printed record.
    return weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
