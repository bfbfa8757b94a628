"""Look-ups, entries and indicators on the children's index, under its rules (IDX §2.27–2.33, §3).

Every look-up, view, change and refusal is written to the audit trail. A record can only
be seen through a look-up made moments before by the same user with a stated reason: there
is no browsing by address, and a forged request for a record is refused and audited.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, load_only

from ..crypto import UndecryptableValue, blind_keys, blind_match, with_row_key
from ..models import (
    IndexAudit,
    IndexChange,
    IndexChild,
    IndexConcern,
    IndexInvolvement,
    User,
    utcnow,
)
from . import audit
from .access import can_answer_subject_access, can_grant_lead, can_use_index, visible_involvements
from .names import is_full_name
from .policy import IndexPolicy

UPN = re.compile(r"^[A-Z]\d{12}$")
POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")
MIN_REASON_TEXT = 10

# Built once: every look-up asks one. At most two, as more than one child matching is refused anyway. Only
# the id is read: a look-up answers with the child's page, which reads the record (decrypting what it shows).
_CHILDREN_BY_NUMBER = select(IndexChild).options(load_only(IndexChild.id, raiseload=False)).where(
    IndexChild.upn_key.in_(bindparam("keys", expanding=True))).limit(2)
_CHILDREN_BY_IDENTITY = select(IndexChild).options(load_only(IndexChild.id, raiseload=False)).where(
    IndexChild.identity_key.in_(bindparam("keys", expanding=True))).limit(2)
SAR_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{3,39}$")


class Refused(Exception):
    def __init__(self, message: str, status: int = 400, field: str = ""):
        super().__init__(message)
        self.message, self.status, self.field = message, status, field


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass
class LookupRequest:
    upn: str = ""
    family_name: str = ""
    given_name: str = ""
    dob: date | None = None
    postcode: str = ""
    reason: str = ""
    reason_text: str = ""


class IndexService:
    """Look-ups and changes for one user. After a change, commit, then call `write_audit()`:
    the audit trail is written in its own transactions, which must not wait on the change's."""

    def __init__(self, db: Session, engine: Engine, policy: IndexPolicy, user: User):
        self.db, self.engine, self.policy, self.user = db, engine, policy, user
        self._after_commit: list[dict] = []

    def _audit_change(self, child_id: int, action: str = "change", **detail) -> None:
        self._after_commit.append((action, {"child_id": child_id, **detail}))

    def write_audit(self) -> None:
        for action, detail in self._after_commit:
            self._audit(action, **detail)
        self._after_commit.clear()

    def _audit(self, action: str, child_id=None, reason: str = "", reason_text: str = "", limit=None, **detail) -> int:
        return audit.append(self.engine, user_id=self.user.id if self.user else None, action=action,
                            child_id=child_id, reason=reason, reason_text=reason_text, detail=detail, limit=limit)

    def _limited(self, action: str, child_id, reason: str, reason_text: str, limit: audit.Limit, message: str,
                 **detail) -> int:
        """Audit the action unless the user reached the limit: then the refusal is audited instead and
        Refused (429) raised. The count and the entry are one step (index/audit.py), so it cannot be raced."""
        try:
            return self._audit(action, child_id, reason, reason_text, limit=limit, **detail)
        except audit.LimitReached:
            raise Refused(message, status=429) from None

    def _refuse(self, message: str, why: str, field: str = "", status: int = 400, **detail):
        self._audit("refused", refused=why, **detail)
        raise Refused(message, status=status, field=field)

    # --- look-ups -----------------------------------------------------------------------

    def lookup(self, request: LookupRequest) -> tuple[IndexChild | None, int]:
        """Find one child from enough identifying details and a stated reason; audit it either way."""
        if not can_use_index(self.user):
            self._refuse("You are not a designated user of the children's index.", "not designated", status=403)
        if request.reason not in self.policy.reasons:
            self._refuse("Choose the reason for this look-up.", "no reason", field="reason")
        if len(request.reason_text.strip()) < MIN_REASON_TEXT:
            self._refuse("Say in your own words why you need this record.", "no reason text", field="reason_text",
                         reason=request.reason)
        # The identifying details are encrypted: a child is found through the blind index of the
        # unique number, or of both names and the date of birth (guide/index/names.py).
        upn = request.upn.strip().upper().replace(" ", "")
        if upn:
            if not UPN.match(upn):
                self._refuse("Enter the child's unique number exactly: a letter and 12 digits.", "bad number",
                             field="upn", reason=request.reason)
            found = list(self.db.scalars(_CHILDREN_BY_NUMBER, {"keys": blind_keys(self.db, IndexChild.upn_key, upn)}))
            criteria = {"upn": upn}
        else:
            family, given = request.family_name.strip(), request.given_name.strip()
            if not (is_full_name(family) and is_full_name(given) and request.dob):
                # Part names, wildcards or a missing date of birth could find many children: no trawling.
                self._refuse("Enter the child's full first name, last name and date of birth, or their unique number.",
                             "not enough details", field="family_name", reason=request.reason)
            same = blind_match(self.db, IndexChild.identity_key, family, given, request.dob)
            criteria = {"family_name": family, "given_name": given, "dob": request.dob.isoformat()}
            postcode = request.postcode.strip().upper()
            if postcode:
                if not POSTCODE.match(postcode):
                    self._refuse("Enter a full postcode, like SW1A 1AA.", "bad postcode", field="postcode",
                                 reason=request.reason)
                criteria["postcode"] = postcode
                # The postcode is encrypted, so it is compared here, on the children with these names and
                # date of birth (a handful at most): only their postcodes are read to choose.
                wanted = postcode.replace(" ", "")
                ids = [child_id for child_id, theirs in self.db.execute(
                       select(IndexChild.id, IndexChild.postcode).where(same).order_by(IndexChild.id))
                       if "".join(theirs.split()).upper() == wanted]
                found = [self.db.get(IndexChild, child_id) for child_id in ids[:2]]
            else:
                found = list(self.db.scalars(_CHILDREN_BY_IDENTITY, {
                    "keys": blind_keys(self.db, IndexChild.identity_key, family, given, request.dob)}))
        # Nothing found is shown before the look-up is audited, and the audit counts the hour's look-ups
        # in the same step: over the limit, this look-up is refused and its answer never given.
        limit = audit.Limit("lookup", utcnow() - timedelta(hours=1), self.policy.rules["lookups_per_hour"],
                            "rate limit")
        too_many = "You have made too many look-ups in the last hour. Try again later, or contact the index manager."
        child = found[0] if len(found) == 1 else None
        audit_id = self._limited("lookup", child.id if child else None, request.reason, request.reason_text, limit,
                                 too_many, criteria=criteria, found={0: "none", 1: "one"}.get(len(found), "several"))
        if len(found) > 1:
            raise Refused("More than one child matches. Add their postcode, or use their unique number.", field="postcode")
        return child, audit_id

    def granted(self, child_id: int, grant: int | None) -> bool:
        """A look-up by this user found this child within the last few minutes."""
        if not grant or not can_use_index(self.user):
            return False
        entry = self.db.get(IndexAudit, grant)
        window = timedelta(minutes=self.policy.rules["lookup_valid_minutes"])
        return (entry is not None and entry.action == "lookup" and entry.user_id == self.user.id
                and entry.child_id == child_id and _naive(entry.at) >= _naive(utcnow() - window))

    def view(self, child_id: int, grant: int | None) -> dict:
        """What this user may see of the child's record; refused (and audited) without a valid look-up."""
        child = self.db.get(IndexChild, child_id)
        if child is None or not self.granted(child_id, grant):
            # The same words whether the child exists or not: nothing to learn from the refusal.
            self._refuse("Look the child up first, with a reason, to see their record.", "no look-up", status=403,
                         asked_for=child_id)
        involvements = list(self.db.scalars(select(IndexInvolvement).where(IndexInvolvement.child_id == child.id)))
        shown, hidden = visible_involvements(self.policy, self.user, involvements)
        shown_ids = {i.id for i in shown}
        now = _naive(utcnow())
        keep_closed = timedelta(days=self.policy.rules["closed_concern_visible_days"])
        concerns = [c for c in self.db.scalars(select(IndexConcern).where(IndexConcern.child_id == child.id))
                    if c.involvement_id in shown_ids and (c.closed_at is None or _naive(c.closed_at) >= now - keep_closed)]
        history = None
        if self.user.role == "index_manager":
            history = list(self.db.scalars(select(IndexChange).where(IndexChange.child_id == child.id)
                                           .order_by(IndexChange.id)))
        self._audit("view", child.id, shown=[i.category for i in shown], hidden_count=hidden,
                    concerns=[c.level for c in concerns])
        mine = next((i for i in involvements if i.practitioner_id == self.user.id and i.ended_at is None), None)
        return {"child": child, "involvements": shown, "hidden": hidden, "concerns": concerns, "history": history,
                "mine": mine, "all_involvements": involvements if history is not None else None}

    def subject_access(self, upn: str, reference: str) -> dict:
        """Everything the index holds about one child, for a subject access request (IDX §2.33).

        Designated people only, each report with the request's reference, at most so many a day; all
        of that is checked (and a refusal audited) before the number is looked up, so a refusal says
        nothing about whether the child exists. The report is audited, and patrolled like look-ups."""
        if not can_answer_subject_access(self.user):
            self._refuse("You are not designated to answer subject access requests on the children's index. "
                         "Ask the index manager.", "subject access not designated", status=403)
        upn = upn.strip().upper().replace(" ", "")
        if not SAR_REFERENCE.match(reference.strip()):
            self._refuse("Enter the subject access request's reference, as your information governance team logged it "
                         "(letters, numbers, / - . or _).", "subject access without reference", field="reason_text")
        if not UPN.match(upn):
            self._refuse("Enter the child's unique number exactly: a letter and 12 digits.", "subject access bad number",
                         field="upn")
        child = self.db.scalar(select(IndexChild).where(blind_match(self.db, IndexChild.upn_key, upn)))
        limit = audit.Limit("subject_access", utcnow() - timedelta(days=1), self.policy.rules["subject_access_per_day"],
                            "subject access rate limit")
        self._limited("subject_access", child.id if child else None, "", reference.strip(), limit,
                      "You have produced too many subject access reports today. Try again tomorrow, or contact the "
                      "index manager.", found="one" if child else "none")
        return subject_access(self.db, child) if child else {"child": None, "upn": upn}

    # --- changes ------------------------------------------------------------------------

    def _change(self, child: IndexChild, **change) -> None:
        self.db.add(IndexChange(child_id=child.id, user_id=self.user.id, change=change))

    def record_involvement(self, child_id: int, grant: int | None, *, category: str, consent: str, justification: str,
                           lead_professional: bool, named_categories: list[str]) -> IndexInvolvement:
        self.view_guard(child_id, grant)
        spec = self.policy.categories.get(category)
        if spec is None:
            raise Refused("Choose your service.", field="category")
        if spec.recording == 3:
            self._refuse("Practitioners in this service are never recorded on the index.", "option 3", child_id=child_id)
        if spec.recording == 2:
            if consent not in ("given", "exceptional"):
                raise Refused("Say whether the child or young person (or parent) consented.", field="consent")
            if consent == "exceptional" and len(justification.strip()) < 20:
                raise Refused("Recording without consent is exceptional: give your justification.", field="justification")
        else:
            consent, justification = "not_required", ""
        if consent != "exceptional":
            justification = ""
        named = [c for c in named_categories if c in self.policy.categories] if spec.visibility == "C" else []
        if self._my_entry(child_id) is not None:
            raise Refused("You are already recorded as involved with this child.")
        child = self.db.get(IndexChild, child_id)
        involvement = IndexInvolvement(
            child_id=child_id, practitioner_id=self.user.id, practitioner_name=self.user.name,
            job_title=self.user.job_title or self.user.role, organisation=self.user.agency,
            contact=self.user.email, category=category, lead_professional=lead_professional, consent=consent,
            justification=justification.strip()[:2000], named_categories=named)
        self.db.add(involvement)
        self.db.flush()
        self._change(child, entity="involvement", id=involvement.id, action="recorded", category=category,
                     consent=consent, lead_professional=lead_professional)
        self._audit_change(child_id, what="involvement recorded", category=category, consent=consent)
        return involvement

    def grant_lead(self, child_id: int, grant: int | None, involvement_id: int, granted: bool) -> IndexInvolvement:
        """Make a practitioner the child's lead professional, or withdraw it: only the index manager or a
        child protection social worker may (IDX §3.11: lead professionals are essential practitioners)."""
        self.view_guard(child_id, grant)
        if not can_grant_lead(self.user):
            self._refuse("Only the index manager or a child protection social worker can make someone the lead "
                         "professional.", "lead grant by someone not entitled", status=403, child_id=child_id,
                         involvement=involvement_id)
        involvement = self.db.get(IndexInvolvement, involvement_id)
        if involvement is None or involvement.child_id != child_id or involvement.ended_at is not None:
            raise Refused("That practitioner is not recorded as working with this child.")
        involvement.lead_professional = granted
        involvement.lead_granted_by = self.user.id if granted else None
        involvement.lead_granted_at = utcnow() if granted else None
        self._change(self.db.get(IndexChild, child_id), entity="involvement", id=involvement.id,
                     action="lead granted" if granted else "lead withdrawn")
        self._audit_change(child_id, "lead_grant", involvement=involvement.id, practitioner=involvement.practitioner_id,
                           granted=granted)
        return involvement

    def end_involvement(self, child_id: int, grant: int | None) -> None:
        self.view_guard(child_id, grant)
        mine = self._my_entry(child_id)
        if mine is None:
            raise Refused("You are not recorded as involved with this child.")
        mine.ended_at = utcnow()
        for concern in self.db.scalars(select(IndexConcern).where(IndexConcern.involvement_id == mine.id,
                                                                  IndexConcern.closed_at.is_(None))):
            concern.closed_at = utcnow()
        self._change(self.db.get(IndexChild, child_id), entity="involvement", id=mine.id, action="ended")
        self._audit_change(child_id, what="involvement ended", category=mine.category)

    def raise_concern(self, child_id: int, grant: int | None, level: str) -> IndexConcern:
        self.view_guard(child_id, grant)
        if level not in self.policy.indicators:
            raise Refused("Choose Information, Action or Assessment.", field="level")
        mine = self._my_entry(child_id)
        if mine is None:
            self._refuse("Record your involvement with the child before raising an indicator of concern.",
                         "concern without involvement", child_id=child_id)
        concern = IndexConcern(child_id=child_id, involvement_id=mine.id, raised_by=self.user.id, level=level)
        self.db.add(concern)
        self.db.flush()
        self._change(self.db.get(IndexChild, child_id), entity="concern", id=concern.id, action="raised", level=level)
        self._audit_change(child_id, what="concern raised", level=level)
        return concern

    def close_concern(self, child_id: int, grant: int | None, concern_id: int) -> None:
        self.view_guard(child_id, grant)
        concern = self.db.get(IndexConcern, concern_id)
        if concern is None or concern.child_id != child_id or concern.closed_at is not None:
            raise Refused("That indicator of concern is not open on this record.")
        if concern.raised_by != self.user.id:
            # Only the practitioner who raised it can close it (IDX §3.26).
            self._refuse("Only the practitioner who raised an indicator of concern can close it.", "close others' concern",
                         status=403, child_id=child_id)
        concern.closed_at = utcnow()
        self._change(self.db.get(IndexChild, child_id), entity="concern", id=concern.id, action="closed", level=concern.level)
        self._audit_change(child_id, what="concern closed", level=concern.level)

    def confirm_review(self, child_id: int, grant: int | None) -> None:
        self.view_guard(child_id, grant)
        mine = self._my_entry(child_id)
        if mine is None:
            raise Refused("You are not recorded as involved with this child.")
        mine.reviewed_at = utcnow()
        self._audit_change(child_id, what="entry reviewed")

    def _my_entry(self, child_id: int) -> IndexInvolvement | None:
        return self.db.scalar(select(IndexInvolvement).where(
            IndexInvolvement.child_id == child_id, IndexInvolvement.practitioner_id == self.user.id,
            IndexInvolvement.ended_at.is_(None)))

    def view_guard(self, child_id: int, grant: int | None) -> None:
        if not self.granted(child_id, grant):
            self._refuse("Look the child up first, with a reason, to change their record.", "no look-up", status=403,
                         asked_for=child_id)

    # --- prompts, patrol, subject access ------------------------------------------------

    def due_for_review(self) -> list[tuple[IndexInvolvement, IndexChild, list]]:
        """The user's entries (and their open indicators) older than the review interval (IDX §2.31, §3.26)."""
        cutoff = _naive(utcnow() - timedelta(days=self.policy.rules["review_after_days"]))
        rows = self.db.execute(select(IndexInvolvement, IndexChild).join(IndexChild, IndexChild.id == IndexInvolvement.child_id)
                               .where(IndexInvolvement.practitioner_id == self.user.id, IndexInvolvement.ended_at.is_(None),
                                      IndexInvolvement.reviewed_at < cutoff)).all()
        result = []
        for involvement, child in rows:
            concerns = list(self.db.scalars(select(IndexConcern).where(IndexConcern.involvement_id == involvement.id,
                                                                       IndexConcern.closed_at.is_(None))))
            result.append((involvement, child, concerns))
        return result


PATROLLED = ("lookup", "subject_access")  # what patrol counts as reaching a child's record


def patrol(db: Session, policy: IndexPolicy, since: datetime) -> dict:
    """Unusual look-up patterns for the index manager (IDX §2.29): many children, out of hours, repeated reasons."""
    # The reasons are read still encrypted and opened one by one: an entry altered in the database
    # counts as having no reason here (the page's chain check names it) instead of stopping the report.
    sealed = IndexAudit.__table__.c.reason_text
    dialect = db.get_bind().dialect
    rows = db.execute(select(IndexAudit.user_id, IndexAudit.child_id, IndexAudit.at, with_row_key(sealed),
                             IndexAudit.action).where(IndexAudit.at >= _naive(since),
                                                      IndexAudit.action.in_(PATROLLED + ("refused",)))).all()
    children: dict = {}
    start = time.fromisoformat(policy.rules["out_of_hours"]["start"])
    end = time.fromisoformat(policy.rules["out_of_hours"]["end"])
    out_of_hours, refusals, reasons, looked = Counter(), Counter(), Counter(), Counter()
    for user_id, child_id, at, reason_text, action in rows:
        if action == "refused":
            refusals[user_id] += 1
            continue
        looked[(user_id, action)] += 1
        day = (user_id, at.date())
        if child_id:
            children.setdefault(day, set()).add(child_id)
        moment = at.time()
        if (moment >= start or moment < end) if start > end else (start <= moment < end):
            out_of_hours[user_id] += 1
        try:
            reason_text = sealed.type.process_result_value(reason_text, dialect)
        except UndecryptableValue:
            reason_text = ""
        if reason_text:
            reasons[(user_id, " ".join(reason_text.lower().split()))] += 1
    many = {day: len(ids) for day, ids in children.items() if len(ids) > policy.rules["many_children_per_day"]}
    return {
        "many_children": sorted(many.items(), key=lambda kv: -kv[1]),
        "out_of_hours": out_of_hours.most_common(),
        "repeated_reasons": [(key, count) for key, count in reasons.most_common() if count >= 5],
        "refusals": refusals.most_common(),
        "subject_access": [(user_id, count) for (user_id, action), count in looked.most_common()
                           if action == "subject_access"],
        "lead_grants": _lead_grants(db, since),
    }


def _lead_grants(db: Session, since: datetime) -> list[tuple]:
    """Every lead professional status granted or withdrawn in the period: (when, by whom, child, to whom, granted)."""
    sealed = IndexAudit.__table__.c.detail
    dialect = db.get_bind().dialect
    grants = []
    for at, user_id, child_id, detail in db.execute(
            select(IndexAudit.at, IndexAudit.user_id, IndexAudit.child_id, with_row_key(sealed))
            .where(IndexAudit.at >= _naive(since), IndexAudit.action == "lead_grant").order_by(IndexAudit.at)):
        try:
            detail = sealed.type.process_result_value(detail, dialect) or {}
        except UndecryptableValue:
            detail = {}  # altered in the database: the page's chain check names it
        grants.append((at, user_id, child_id, detail.get("practitioner"), detail.get("granted")))
    return grants


def subject_access(db: Session, child: IndexChild) -> dict:
    """Everything the index holds about one child, and who accessed their record (IDX §2.33)."""
    return {
        "child": child,
        "involvements": list(db.scalars(select(IndexInvolvement).where(IndexInvolvement.child_id == child.id))),
        "concerns": list(db.scalars(select(IndexConcern).where(IndexConcern.child_id == child.id))),
        "changes": list(db.scalars(select(IndexChange).where(IndexChange.child_id == child.id).order_by(IndexChange.id))),
        "access": list(db.execute(select(IndexAudit, User).outerjoin(User, User.id == IndexAudit.user_id)
                                  .where(IndexAudit.child_id == child.id).order_by(IndexAudit.id)).all()),
    }
