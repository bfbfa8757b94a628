"""Which decision records a user may see, and the filters over them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..crypto import blind_match
from ..models import DecisionRecord, User


def can_view(user: User, record: DecisionRecord) -> bool:
    if record.author_id == user.id or user.role == "admin":
        return True
    return user.role == "records_officer" and user.agency == record.agency


@dataclass
class RecordFilter:
    """What a records officer narrows the records to; every field optional."""

    date_from: date | None = None
    date_to: date | None = None
    team: str = ""
    flowchart: str = ""
    decision: str = ""
    consent: str = ""
    author: str = ""       # part of the practitioner's name or email
    subject_ref: str = ""  # exact: every record about one child (subject access)
    all_versions: bool = False

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items() if v}


def _authors_matching(db: Session, user: User, text: str):
    """Ids of the practitioners whose name or email has words beginning with the text's words, from
    the author index (guide/accounts/author_search.py): nobody's name is decrypted to find them.
    Which records the user may see is the rest of the query's business."""
    from ..accounts.author_search import matching_user_ids
    return matching_user_ids(db, text)


def visible_query(db: Session, user: User, wanted: RecordFilter | None = None):
    """The records the user may see (the latest version of each, unless all versions are asked for), filtered."""
    wanted = wanted or RecordFilter()
    query = select(DecisionRecord)
    if not wanted.all_versions:
        # The latest version is the one nothing supersedes: one probe of a unique index per row,
        # where grouping by reference would read and sort the whole table first.
        newer = aliased(DecisionRecord)
        query = query.where(~select(newer.id).where(newer.supersedes_id == DecisionRecord.id).exists())
    if user.role == "records_officer":
        query = query.where(DecisionRecord.agency == user.agency)
    elif user.role != "admin":
        query = query.where(DecisionRecord.author_id == user.id)
    if wanted.date_from:
        query = query.where(DecisionRecord.created_at >= datetime.combine(wanted.date_from, time.min))
    if wanted.date_to:
        query = query.where(DecisionRecord.created_at < datetime.combine(wanted.date_to + timedelta(days=1), time.min))
    for column, value in ((DecisionRecord.team, wanted.team), (DecisionRecord.flowchart_id, wanted.flowchart),
                          (DecisionRecord.decision, wanted.decision), (DecisionRecord.consent_position, wanted.consent)):
        if value:
            query = query.where(column == value)
    if wanted.subject_ref:
        query = query.where(blind_match(db, DecisionRecord.subject_key, wanted.subject_ref))
    if wanted.author:
        query = query.where(DecisionRecord.author_id.in_(_authors_matching(db, user, wanted.author)))
    return query


def visible_records(db: Session, user: User, limit: int = 50, offset: int = 0,
                    wanted: RecordFilter | None = None) -> tuple[list[DecisionRecord], int]:
    """The latest version of each record the user may see, newest first, one page of them."""
    query = visible_query(db, user, wanted)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(db.scalars(query.order_by(DecisionRecord.created_at.desc(), DecisionRecord.id).limit(limit).offset(offset)))
    return rows, total


@dataclass
class RecordsPage:
    """One page of the records list, newest first, and the cursors to the pages either side."""

    rows: list[DecisionRecord]
    total: int
    next_cursor: str | None
    previous_cursor: str | None


def cursor_of(record: DecisionRecord) -> str:
    return f"{record.created_at.isoformat()}_{record.id}"


def parse_cursor(text: str | None) -> tuple[datetime, str] | None:
    """A cursor from a link, or None for a missing or tampered one (which shows the first page)."""
    try:
        moment, record_id = (text or "").rsplit("_", 1)
        if not record_id.isalnum() or len(record_id) > 32:
            return None
        return datetime.fromisoformat(moment), record_id
    except ValueError:
        return None


def records_page(db: Session, user: User, wanted: RecordFilter | None, size: int,
                 after: str | None = None, before: str | None = None) -> RecordsPage:
    """A page of the records the user may see, found from a cursor (the last record of the page
    before, or the first of the page after) through the (agency, created_at, id) index — not by
    skipping rows with OFFSET, which reads every row before the page."""
    query = visible_query(db, user, wanted)
    total = db.scalar(select(func.count()).select_from(query.subquery()))
    created, record_id = DecisionRecord.created_at, DecisionRecord.id
    going_back = parse_cursor(before) if before else None
    going_on = parse_cursor(after) if after and not going_back else None
    if going_back:
        moment, last = going_back
        query = query.where(or_(created > moment, and_(created == moment, record_id < last)))
        rows = list(db.scalars(query.order_by(created.asc(), record_id.desc()).limit(size + 1)))
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        return RecordsPage(rows, total, cursor_of(rows[-1]) if rows else None,
                           cursor_of(rows[0]) if rows and more_before else None)
    if going_on:
        moment, last = going_on
        query = query.where(or_(created < moment, and_(created == moment, record_id > last)))
    rows = list(db.scalars(query.order_by(created.desc(), record_id).limit(size + 1)))
    more_after = len(rows) > size
    rows = rows[:size]
    return RecordsPage(rows, total, cursor_of(rows[-1]) if rows and more_after else None,
                       cursor_of(rows[0]) if rows and going_on else None)
