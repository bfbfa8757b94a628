"""Which decision records a user may see, and the filters over them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
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


def _authors_matching(db: Session, user: User, text: str) -> list[int]:
    """Ids of the practitioners whose name or email contains the text, among those whose records
    the user may see. Names are encrypted, so they are matched here rather than in SQL."""
    query = select(User)
    if user.role == "records_officer":
        query = query.where(User.id.in_(select(DecisionRecord.author_id).where(DecisionRecord.agency == user.agency)))
    elif user.role != "admin":
        query = query.where(User.id == user.id)
    wanted = text.casefold()
    return [author.id for author in db.scalars(query)
            if wanted in author.name.casefold() or wanted in author.email.casefold()]


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
