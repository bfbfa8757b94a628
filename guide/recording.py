"""Decision records: what must be written down, checked the same way for the web form and the API.

What a record holds follows XG §2, §4.33, §5.5 and WTD App3 §4.29–4.30. A saved record
is final: a correction is a new version that points at the one it supersedes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from .audit import audit
from .crypto import blind_match
from .guidance import Guidance
from .models import DecisionRecord, User, Walk, utcnow
from .walking import StepRefused, position, remember_content_version

SHORT = 200
LONG = 5000

CONSENT_POSITIONS = {
    "explicit": "Explicit consent given",
    "implied": "Implied consent",
    "refused": "Consent refused",
    "not_sought": "Consent not sought",
}
SHARE_METHODS = {
    "secure_email": "Secure email",
    "secure_system": "Secure case management system",
    "phone": "Telephone",
    "in_person": "In person",
    "secure_post": "Secure post",
    "other": "Another way",
}
BASES = {
    "public_interest": "Public interest (risk of significant harm to a child, serious harm to an adult, or serious crime)",
    "statutory_duty": "A statutory duty to share",
    "court_order": "A court order",
}
YES_NO = {"yes": "Yes", "no": "No"}


class RecordInvalid(Exception):
    """The details fail the checks; `errors` maps each field to a message for the error summary."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class _Reader:
    raw: dict
    errors: dict

    def text(self, name: str, required: str | None = None, limit: int = SHORT) -> str:
        value = self.raw.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.errors[name] = "Enter text"
            return ""
        value = value.strip()
        if required and not value:
            self.errors[name] = required
        elif len(value) > limit:
            self.errors[name] = f"Must be {limit} characters or fewer"
        return value

    def choice(self, name: str, options: dict, required: str) -> str:
        value = self.raw.get(name) or ""
        if value not in options:
            self.errors[name] = required
            return ""
        return value

    def day(self, name: str, required: str) -> str:
        value = self.raw.get(name) or ""
        try:
            parsed = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            self.errors[name] = required
            return ""
        if parsed > date.today():
            self.errors[name] = "The date the information was shared must be today or in the past"
        return parsed.isoformat()


def check_details(raw: dict, guidance: Guidance, decision_id: str) -> dict:
    """Validate what the practitioner wrote for a record of this decision; raise RecordInvalid."""
    decision = guidance.content.decisions[decision_id]
    errors: dict[str, str] = {}
    read = _Reader(raw, errors)
    details = {
        "subject_ref": read.text("subject_ref", "Enter a reference for the child or young person", limit=100),
        "consent_position": read.choice("consent_position", CONSENT_POSITIONS, "Select the consent position"),
        "advice_sought": read.choice("advice_sought", YES_NO, "Select whether you sought advice"),
        "notes": read.text("notes", limit=LONG),
        "other_practitioners": read.text("other_practitioners", limit=LONG),
    }
    details["consent_note"] = read.text(
        "consent_note", "Say why consent was not sought" if details["consent_position"] == "not_sought" else None,
        limit=LONG)
    details["advice_from"] = read.text(
        "advice_from", "Say who you sought advice from" if details["advice_sought"] == "yes" else None)
    if decision.shares:
        details.update({
            "information_shared": read.text("information_shared", "Describe the information you are sharing", limit=LONG),
            "recipient_name": read.text("recipient_name", "Enter the name of the person you are sharing with"),
            "recipient_job_title": read.text("recipient_job_title", "Enter their job title"),
            "recipient_organisation": read.text("recipient_organisation", "Enter their organisation"),
            "recipient_contact": read.text("recipient_contact", "Enter their contact details"),
            "share_method": read.choice("share_method", SHARE_METHODS, "Select how the information is shared"),
            "shared_on": read.day("shared_on", "Enter the date the information is shared"),
            "person_told": read.choice("person_told", YES_NO, "Select whether the person has been told"),
        })
        details["method_detail"] = read.text(
            "method_detail", "Say how the information is shared" if details["share_method"] == "other" else None)
        details["not_told_reason"] = read.text(
            "not_told_reason", "Say why the person has not been told" if details["person_told"] == "no" else None,
            limit=LONG)
        confirmed = raw.get("checklist") or []
        if isinstance(confirmed, str):
            confirmed = [confirmed]
        wanted = [item.id for item in guidance.content.sharing_checklist]
        if not isinstance(confirmed, list) or set(wanted) - set(confirmed):
            errors["checklist"] = "Confirm each point about sharing properly"
        details["checklist"] = [item for item in wanted if item in confirmed]
    if decision.without_consent:
        details["basis"] = read.choice("basis", BASES, "Select the legal basis for sharing without consent")
        details["basis_detail"] = read.text(
            "basis_detail", "Explain why the basis applies in this case", limit=LONG)
    if errors:
        raise RecordInvalid(errors)
    return details


def reference_for(walk: Walk) -> str:
    # Derived from the walk, so saving the same walk twice (a double click, a retried
    # request) collides on (reference, version) instead of making two records.
    code = walk.id[:12].upper()
    return f"DR-{code[:4]}-{code[4:8]}-{code[8:12]}"


def _snapshot(guidance: Guidance, walk: Walk, user: User) -> dict:
    chart = guidance.flowchart(walk.flowchart_id)
    where = position(guidance, walk)
    outcome = where.outcome
    return {
        "author": {"name": user.name, "email": user.email, "role": user.role, "job_title": user.job_title,
                   "agency": user.agency, "team": user.team},
        "flowchart": {"id": chart.id, "title": chart.title},
        "outcome": {"id": outcome.id, "title": outcome.title, "decision": outcome.decision,
                    "decision_label": guidance.decision_label(outcome.decision), "cite": outcome.cite,
                    "body": outcome.body, "next_flowchart": outcome.next_flowchart},
        "answers": where.reasons(),
    }


def save_record(db: Session, guidance: Guidance, walk: Walk, user: User, raw: dict) -> DecisionRecord:
    """Save a finished walk as version 1 of its decision record."""
    if guidance.is_case(walk.flowchart_id):
        raise StepRefused("A case example walk is kept as a training record, not a decision record.")
    if guidance.flowchart(walk.flowchart_id).is_process:
        raise StepRefused("A walk through the safeguarding process is not a decision about sharing.")
    where = position(guidance, walk)
    if not where.finished:
        raise StepRefused("Answer every question before saving the decision record.")
    if db.scalar(select(DecisionRecord.id).where(DecisionRecord.walk_id == walk.id).limit(1)):
        raise StepRefused("This walk has already been saved as a decision record.")
    details = check_details(raw, guidance, where.outcome.decision)
    remember_content_version(db, guidance)
    record = DecisionRecord(
        reference=reference_for(walk), version=1, walk_id=walk.id, author_id=user.id, agency=user.agency,
        team=user.team, flowchart_id=walk.flowchart_id, content_version=guidance.version,
        subject_ref=details["subject_ref"], outcome_id=where.outcome.id, decision=where.outcome.decision,
        consent_position=details["consent_position"], body={**_snapshot(guidance, walk, user), "details": details},
    )
    return _insert(db, record, user, "record.create")


def correct_record(db: Session, guidance: Guidance, previous: DecisionRecord, user: User, raw: dict) -> DecisionRecord:
    """A correction: a new version with new details, pointing at the version it supersedes."""
    if previous.author_id != user.id:
        raise StepRefused("Only the practitioner who made a decision can correct its record.", status=403)
    if latest_version(db, previous.reference).id != previous.id:
        raise StepRefused("This version has already been corrected; correct the latest version.")
    reason = _Reader(raw, {}).text("correction_reason", limit=LONG)
    errors = {}
    try:
        details = check_details(raw, guidance, previous.decision)
    except RecordInvalid as invalid:
        errors = invalid.errors
    if not reason:
        errors["correction_reason"] = "Say what you are correcting and why"
    if errors:
        raise RecordInvalid(errors)
    record = DecisionRecord(
        reference=previous.reference, version=previous.version + 1, supersedes_id=previous.id,
        walk_id=previous.walk_id, author_id=user.id, agency=previous.agency, team=previous.team,
        flowchart_id=previous.flowchart_id, content_version=previous.content_version,
        subject_ref=details["subject_ref"], outcome_id=previous.outcome_id, decision=previous.decision,
        consent_position=details["consent_position"], body={**previous.body, "details": details},
        correction_reason=reason,
    )
    return _insert(db, record, user, "record.amend")


def _insert(db: Session, record: DecisionRecord, user: User, action: str) -> DecisionRecord:
    from .exports import csv_line  # the export imports this module's labels
    record.created_at = utcnow()
    record.csv_row = csv_line(record)
    # No savepoint here: with SQLite's driver a savepoint opened before any write is the whole
    # transaction, and releasing it would commit the record without its audit event.
    try:
        db.add(record)
        db.flush()
    except IntegrityError:
        db.rollback()
        raise StepRefused("This record has just been saved or corrected elsewhere; nothing was changed.") from None
    audit(db, user.id, action, "decision_record", record.id, reference=record.reference, version=record.version)
    return record


def past_retention(db: Session, days: int) -> list[tuple[str, int, datetime]]:
    """References whose newest version is older than the retention period: (reference, versions, newest)."""
    cutoff = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=days)
    newest = func.max(DecisionRecord.created_at)
    rows = db.execute(select(DecisionRecord.reference, func.count(), newest).group_by(DecisionRecord.reference)
                      .having(newest < cutoff).order_by(newest)).all()
    return [(reference, count, last) for reference, count, last in rows]


def purge(db: Session, references: list[str]) -> int:
    """Delete every version of these records, and the walks behind them; the only deletion there is."""
    removed = 0
    for reference in references:
        rows = versions(db, reference)
        walk_ids = {r.walk_id for r in rows}
        for record in reversed(rows):  # newest first: each version points at the one before
            db.delete(record)
            db.flush()
            removed += 1
        for walk_id in walk_ids:
            walk = db.get(Walk, walk_id)
            if walk is not None:
                db.delete(walk)
        audit(db, None, "record.purge", "decision_record", reference, versions=len(rows))
    return removed


def latest_version(db: Session, reference: str) -> DecisionRecord | None:
    return db.scalar(select(DecisionRecord).where(DecisionRecord.reference == reference)
                     .order_by(DecisionRecord.version.desc()).limit(1))


def versions(db: Session, reference: str) -> list[DecisionRecord]:
    return list(db.scalars(select(DecisionRecord).where(DecisionRecord.reference == reference)
                           .order_by(DecisionRecord.version)))


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
