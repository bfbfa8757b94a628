"""Saving decision records: a saved record is final; a correction is a new version that points at the one it supersedes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..advice.asking import advice_given
from ..advice.signoff import require_if_policy
from ..audit import audit
from ..decisions.steps import StepRefused, is_recorded, position, remember_content_version
from ..guidance import Guidance
from ..models import DecisionRecord, User, Walk, utcnow
from .export_formats import csv_line
from .form import LONG, FieldReader, RecordInvalid, check_details


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
        # The edition of the guidance and law it was walked on, kept with the record (issue 11).
        "edition": guidance.content.edition.as_dict() if guidance.content.edition else None,
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
    if is_recorded(db, walk):  # read with the walk when the request found it
        raise StepRefused("This walk has already been saved as a decision record.")
    details = check_details(raw, guidance, where.outcome.decision)
    remember_content_version(db, guidance)
    record = DecisionRecord(
        reference=reference_for(walk), version=1, walk_id=walk.id, author_id=user.id, agency=user.agency,
        team=user.team, flowchart_id=walk.flowchart_id, content_version=guidance.version,
        subject_ref=details["subject_ref"], outcome_id=where.outcome.id, decision=where.outcome.decision,
        consent_position=details["consent_position"],
        body={**_snapshot(guidance, walk, user), "details": details, "advice": advice_given(db, walk.id)},
    )
    return _insert(db, guidance, record, user, "record.create")


def correct_record(db: Session, guidance: Guidance, previous: DecisionRecord, user: User, raw: dict) -> DecisionRecord:
    """A correction: a new version with new details, pointing at the version it supersedes."""
    if previous.author_id != user.id:
        raise StepRefused("Only the practitioner who made a decision can correct its record.", status=403)
    if latest_version(db, previous.reference).id != previous.id:
        raise StepRefused("This version has already been corrected; correct the latest version.")
    reason = FieldReader(raw, {}).text("correction_reason", limit=LONG)
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
    return _insert(db, guidance, record, user, "record.amend")


def _insert(db: Session, guidance: Guidance, record: DecisionRecord, user: User, action: str) -> DecisionRecord:
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
    require_if_policy(db, guidance, record, user)  # the agency's countersignature policy (guide/advice/)
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


