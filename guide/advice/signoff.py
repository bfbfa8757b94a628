"""Countersignature: an agency's policy names decisions an adviser must countersign before a record is final.

Each step is a row added to record_signoffs, bound to one version of the record (which never
changes): "required" when the record is saved, then "countersigned" or "returned" (with
reasons; the practitioner then corrects the record, and the new version is required again).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ..audit import audit
from ..decisions.steps import StepRefused
from ..guidance import Guidance
from ..models import DecisionRecord, RecordSignoff, User, utcnow
from .asking import TEXT_LIMIT, AdviceInvalid, advisers_of, is_adviser, who
from .notify import tell

RULE_LABELS = {"newly_qualified": "every decision by a newly qualified practitioner"}


def rule_label(guidance: Guidance, rule: str) -> str:
    if rule.startswith("decision:"):
        return f"every “{guidance.decision_label(rule.removeprefix('decision:'))}” decision"
    return RULE_LABELS.get(rule, rule)


def require_if_policy(db: Session, guidance: Guidance, record: DecisionRecord, author: User) -> RecordSignoff | None:
    """Called as a record version is saved: if the agency's policy names it, it awaits countersignature."""
    rule = guidance.advice_policy.for_agency(record.agency).countersignature_rule(record.decision, author.newly_qualified)
    if not rule:
        return None
    row = RecordSignoff(record_id=record.id, agency=record.agency, state="required", rule=rule, at=utcnow())
    db.add(row)
    db.flush()
    audit(db, author.id, "record.countersignature_required", "decision_record", record.id, rule=rule)
    tell(db, [adviser.email for adviser in advisers_of(db, record.agency) if adviser.id != author.id])
    return row


@dataclass
class Signoff:
    required: RecordSignoff | None
    done: RecordSignoff | None  # countersigned or returned

    @property
    def state(self) -> str:
        """'' (not needed), 'awaiting', 'countersigned' or 'returned'."""
        if self.required is None:
            return ""
        return self.done.state if self.done else "awaiting"


def signoff_of(db: Session, record_id: str) -> Signoff:
    rows = {row.state: row for row in db.scalars(select(RecordSignoff).where(RecordSignoff.record_id == record_id))}
    return Signoff(required=rows.get("required"), done=rows.get("countersigned") or rows.get("returned"))


def states_of(db: Session, record_ids: list[str]) -> dict[str, str]:
    """Each listed record's countersignature state ('awaiting', 'countersigned', 'returned'), in one
    query; records the policy did not name are left out."""
    rows: dict[str, dict[str, RecordSignoff]] = {}
    if record_ids:
        for row in db.scalars(select(RecordSignoff).where(RecordSignoff.record_id.in_(record_ids))):
            rows.setdefault(row.record_id, {})[row.state] = row
    signoffs = {record_id: Signoff(required=states.get("required"),
                                   done=states.get("countersigned") or states.get("returned"))
                for record_id, states in rows.items()}
    return {record_id: signoff.state for record_id, signoff in signoffs.items() if signoff.state}


def awaiting(db: Session, user: User) -> list[DecisionRecord]:
    """Records of the adviser's agency awaiting countersignature (latest versions; not their own)."""
    if not is_adviser(user):
        return []
    done = aliased(RecordSignoff)
    newer = aliased(DecisionRecord)
    query = (select(DecisionRecord).join(RecordSignoff, (RecordSignoff.record_id == DecisionRecord.id)
                                         & (RecordSignoff.state == "required"))
             .where(RecordSignoff.agency == user.agency, DecisionRecord.author_id != user.id,
                    ~select(done.id).where(done.record_id == DecisionRecord.id, done.state != "required").exists(),
                    ~select(newer.id).where(newer.supersedes_id == DecisionRecord.id).exists())
             .order_by(DecisionRecord.created_at))
    return list(db.scalars(query))


def may_review(user: User, record: DecisionRecord) -> bool:
    """An adviser of the record's agency may see a record put to them for countersignature."""
    return is_adviser(user) and user.agency == record.agency


def countersign(db: Session, guidance: Guidance, record: DecisionRecord, user: User, raw: dict) -> RecordSignoff:
    """Countersign the record, or return it with reasons. The caller has checked `may_review`."""
    action = raw.get("action")
    errors = {}
    if action not in ("countersign", "return"):
        errors["action"] = "Choose whether to countersign the record or return it"
    note = raw.get("note", "")
    if not isinstance(note, str):
        errors["note"], note = "Enter text", ""
    note = note.strip()
    if action == "return" and not note:
        errors["note"] = "Say why you are returning the record, so the practitioner can put it right"
    elif len(note) > TEXT_LIMIT:
        errors["note"] = f"Keep this to {TEXT_LIMIT} characters or fewer"
    if errors:
        raise AdviceInvalid(errors)
    status = signoff_of(db, record.id)
    if record.author_id == user.id:
        raise StepRefused("You made this decision, so you cannot countersign it: another adviser of your "
                          "agency must.", status=403)
    if status.state == "":
        raise StepRefused("This record does not need countersigning under your agency's policy.", status=409)
    if status.state != "awaiting":
        raise StepRefused(f"This record has already been {status.state}; nothing was changed.", status=409)
    if db.scalar(select(DecisionRecord.id).where(DecisionRecord.supersedes_id == record.id)) is not None:
        raise StepRefused("This version has been corrected: countersign the latest version.", status=409)
    state = "countersigned" if action == "countersign" else "returned"
    row = RecordSignoff(record_id=record.id, agency=record.agency, state=state, by_id=user.id, signer=who(user),
                        note=note, at=utcnow())
    try:
        db.add(row)
        db.flush()
    except IntegrityError:  # countersigned or returned at the same moment by another adviser
        db.rollback()
        raise StepRefused("Another adviser has just dealt with this record; nothing was changed.", status=409) from None
    audit(db, user.id, f"record.{state}", "decision_record", record.id, reference=record.reference,
          version=record.version)
    tell(db, [record.author.email])
    return row
