"""Tables. Decision records and audit events are only ever inserted, never updated.

Personal details and free text are `Encrypted` (see guide/crypto.py); what must be searched or
filtered (dates, decision, agency, team, flowchart) stays in clear. A `*_key` column is the
blind index of an encrypted value, kept up to date on every flush, for exact look-ups.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import false

from .crypto import EncryptedDate, EncryptedJSON, EncryptedText, blind_index_column
from .db import Base

ROLES = ("practitioner", "trainer", "records_officer", "index_manager", "admin")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def utc_iso(moment: datetime) -> str:
    """RFC 3339: SQLite hands back a stored UTC time without its offset, PostgreSQL with it."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def new_id() -> str:
    return uuid.uuid4().hex


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(EncryptedText("users.email"))
    email_key: Mapped[str] = blind_index_column("email", normalise="email", unique=True)
    name: Mapped[str] = mapped_column(EncryptedText("users.name"))
    role: Mapped[str] = mapped_column(String(32))
    job_title: Mapped[str] = mapped_column(EncryptedText("users.job_title"), default="")
    agency: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The children's index: designated users only (IDX §2.27). "user", or
    # "cp_social_worker" (an essential practitioner, IDX §3.11); empty for no access.
    index_designation: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # The user's own service category, for visibility C (the categories a young person named).
    service_category: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Advice and sign-off: an adviser's role as practitioners know it ("Designated safeguarding
    # lead", "Named nurse"...); empty for someone who is not an adviser. Designated per agency.
    adviser_role: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # For an agency's countersignature policy ("every decision by a newly qualified practitioner").
    newly_qualified: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Only a hash is kept: a copied database gives no usable token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    # A token stops working at its expiry (migration 0013 gave tokens issued before it 90 days).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[User] = relationship()


class ContentVersion(Base):
    """The text of every content version a walk was taken on, so a record can be explained later."""

    __tablename__ = "content_versions"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    files: Mapped[dict] = mapped_column(JSON)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Walk(Base):
    """A practitioner's way through one flowchart: the answers given so far."""

    __tablename__ = "walks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    flowchart_id: Mapped[str] = mapped_column(String(64))
    content_version: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict] = mapped_column(EncryptedJSON("walks.answers"), default=dict)
    # A walk of the confidentiality flowchart taken for a case example, to compare with it.
    case_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The practitioner's own reference for the child (optional), to tell walks apart and fill the record.
    subject_ref: Mapped[str | None] = mapped_column(EncryptedText("walks.subject_ref"), nullable=True)
    # Bumped on every change, so two tabs (or a replayed request) cannot overwrite each other.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": revision}


class DecisionRecord(Base):
    """One version of a decision record. A correction is a new row that supersedes the last."""

    __tablename__ = "decision_records"
    # An agency's records in time order, without sorting: what the records page and exports read.
    __table_args__ = (UniqueConstraint("reference", "version"),
                      Index("ix_decision_records_agency_created", "agency", "created_at", "id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("decision_records.id"), unique=True, nullable=True)
    walk_id: Mapped[str] = mapped_column(ForeignKey("walks.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    agency: Mapped[str] = mapped_column(String(200), index=True)
    team: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    flowchart_id: Mapped[str] = mapped_column(String(64))
    content_version: Mapped[str] = mapped_column(ForeignKey("content_versions.version"))
    subject_ref: Mapped[str] = mapped_column(EncryptedText("decision_records.subject_ref"))
    subject_key: Mapped[str] = blind_index_column("subject_ref", normalise="reference")
    outcome_id: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(64), index=True)
    consent_position: Mapped[str] = mapped_column(String(32))
    # Everything else the record says, frozen as it was saved: who decided, each question
    # with the answer given and its reason, what was shared with whom and how.
    body: Mapped[dict] = mapped_column(EncryptedJSON("decision_records.body"))
    correction_reason: Mapped[str] = mapped_column(EncryptedText("decision_records.correction_reason"), default="")
    # The record's line in the CSV export, made when it is saved (a record never changes), so
    # an export of a million records only decrypts and writes. Empty for records saved before.
    csv_row: Mapped[str | None] = mapped_column(EncryptedText("decision_records.csv_row"), nullable=True)

    author: Mapped[User] = relationship()


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(EncryptedJSON("audit_events.detail"), default=dict)
    # Filled when the event is sealed into the hash chain, straight after its transaction commits.
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The event's place in the chain. Not the id: ids are drawn when events are written, and on
    # PostgreSQL a transaction that drew a smaller id can commit (and be sealed) later.
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Which of the parallel chains (guide/audit_chain.py) holds it; seq counts within that chain.
    chain: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (UniqueConstraint("prev_hash", name="uq_audit_events_prev_hash"),
                      UniqueConstraint("chain", "seq", name="uq_audit_events_chain_seq"))


class TrainingRecord(Base):
    """A practitioner's self-study of one case example, kept at their request."""

    __tablename__ = "training_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    walk_id: Mapped[str] = mapped_column(ForeignKey("walks.id"), unique=True)
    scenario_id: Mapped[str] = mapped_column(String(64))
    content_version: Mapped[str] = mapped_column(ForeignKey("content_versions.version"))
    agreed: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TrainingSession(Base):
    """A trainer's live session: the room moves through the cases' decision points together."""

    __tablename__ = "training_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scenario_ids: Mapped[list] = mapped_column(JSON)
    content_version: Mapped[str] = mapped_column(ForeignKey("content_versions.version"))
    # lobby → voting ⇄ revealed → ended; `step` indexes the decision points of all the cases in order.
    state: Mapped[str] = mapped_column(String(16), default="lobby")
    step: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on every move, so participants' pages know when to redraw.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    keep_names: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __mapper_args__ = {"version_id_col": revision}


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("training_sessions.id"), index=True)
    display_name: Mapped[str] = mapped_column(EncryptedText("participants.display_name"))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Where the room was when they joined: someone who joins while a point is open to votes
    # votes from the next point on, so leaving and joining again gives no second vote.
    joined_step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    joined_during_vote: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Seen polling the room lately: only such participants fill its places (scripted joins that
    # then go quiet stop counting against the cap).
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Vote(Base):
    __tablename__ = "votes"
    # One vote per participant per decision point: a second is refused by the database itself.
    __table_args__ = (UniqueConstraint("participant_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("training_sessions.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    step: Mapped[int] = mapped_column(Integer)
    scenario_id: Mapped[str] = mapped_column(String(64))
    point_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Chat(Base):
    """A conversation: the practitioner's words, the guide's replies, and the walk it leads to."""

    __tablename__ = "chats"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    walk_id: Mapped[str | None] = mapped_column(ForeignKey("walks.id"), nullable=True)
    # The question the guide is waiting for an answer to (the current one, or one being changed).
    asking: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChatMessage(Base):
    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id"), index=True)
    author: Mapped[str] = mapped_column(String(8))  # "you" or "guide"
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(EncryptedText("chat_messages.text"), default="")
    data: Mapped[dict] = mapped_column(EncryptedJSON("chat_messages.data"), default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- the children's index (IDX §2.15): identity, who is involved, indicators of concern --------
# Deliberately no field for case notes, assessments or the reason for a concern.

class IndexChild(Base):
    """A child's identity and universal services (IDX §2.15).

    Every identifying detail is encrypted, so a copy of the database shows no child. Look-ups
    are exact and go through two blind indexes (guide/crypto.py, NORMALISERS "upn" and
    "identity"): the unique number, or both names and the date of birth; the postcode that tells
    several matches apart is compared after reading those few rows (IndexService.lookup).
    The date of birth is encrypted too, not kept as a clear year: nothing filters or sorts on it
    in SQL (its look-up goes through identity_key; ages are worked out after reading a record),
    and a clear birth year beside a clear postcode area would narrow a child down.
    """

    __tablename__ = "index_children"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upn: Mapped[str] = mapped_column(EncryptedText("index_children.upn"))  # the unique identifying number
    upn_key: Mapped[str] = blind_index_column("upn", normalise="upn", unique=True)
    family_name: Mapped[str] = mapped_column(EncryptedText("index_children.family_name"))
    given_name: Mapped[str] = mapped_column(EncryptedText("index_children.given_name"))
    dob: Mapped[date] = mapped_column(EncryptedDate("index_children.dob"))
    # Both names (letters only, any case) and the date of birth, for the look-up by name.
    identity_key: Mapped[str] = blind_index_column("family_name", "given_name", "dob", normalise="identity")
    gender: Mapped[str] = mapped_column(EncryptedText("index_children.gender"))
    address: Mapped[str] = mapped_column(EncryptedText("index_children.address"))
    postcode: Mapped[str] = mapped_column(EncryptedText("index_children.postcode"))
    carer_name: Mapped[str] = mapped_column(EncryptedText("index_children.carer_name"))
    carer_contact: Mapped[str] = mapped_column(EncryptedText("index_children.carer_contact"))
    school: Mapped[str] = mapped_column(EncryptedText("index_children.school"), default="")
    gp_practice: Mapped[str] = mapped_column(EncryptedText("index_children.gp_practice"), default="")
    health_visitor: Mapped[str] = mapped_column(EncryptedText("index_children.health_visitor"), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IndexInvolvement(Base):
    """A practitioner in a targeted or specialist service, recorded against a child (IDX §3.5)."""

    __tablename__ = "index_involvements"
    # Who the practitioner is, how to reach them and why they recorded without consent are
    # encrypted; what the access rules filter on (category, consent, lead professional, dates) is not.

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("index_children.id"), index=True)
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    practitioner_name: Mapped[str] = mapped_column(EncryptedText("index_involvements.practitioner_name"))
    job_title: Mapped[str] = mapped_column(EncryptedText("index_involvements.job_title"))
    organisation: Mapped[str] = mapped_column(EncryptedText("index_involvements.organisation"))
    contact: Mapped[str] = mapped_column(EncryptedText("index_involvements.contact"))
    category: Mapped[str] = mapped_column(String(64))
    # The practitioner says they are the lead professional; it counts (IDX §3.11: essential
    # practitioners see every entry) only once someone entitled has granted it (IndexService.grant_lead).
    lead_professional: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    lead_granted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # given, exceptional (recorded without consent, with the practitioner's justification), or not_required
    consent: Mapped[str] = mapped_column(String(16))
    justification: Mapped[str] = mapped_column(EncryptedText("index_involvements.justification"), default="")
    named_categories: Mapped[list] = mapped_column(JSON, default=list)  # visibility C: who the young person named
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IndexConcern(Base):
    """An indicator of concern: Information, Action or Assessment — never the reason (IDX §1.9)."""

    __tablename__ = "index_concerns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("index_children.id"), index=True)
    involvement_id: Mapped[int] = mapped_column(ForeignKey("index_involvements.id"))
    raised_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    level: Mapped[str] = mapped_column(String(16))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IndexChange(Base):
    """Every change to a child's record, for the index manager's full history (IDX §2.30–2.32)."""

    __tablename__ = "index_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("index_children.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    change: Mapped[dict] = mapped_column(EncryptedJSON("index_changes.change"))


class IndexAudit(Base):
    """Every look-up, view, change and refusal; hash-chained so an altered entry is found."""

    __tablename__ = "index_audit"
    # The rate limit counts a user's look-ups in the last hour: this keeps that count small.
    __table_args__ = (Index("ix_index_audit_user_action_at", "user_id", "action", "at"),
                      UniqueConstraint("chain", "seq", name="uq_index_audit_chain_seq"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(32))
    child_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    reason: Mapped[str] = mapped_column(String(64), default="")
    # The user's own words and the look-up's criteria (names, date of birth, number) are encrypted;
    # the hash covers their plaintext, so rotating the key leaves the chain intact (index/audit.py).
    reason_text: Mapped[str] = mapped_column(EncryptedText("index_audit.reason_text"), default="")
    detail: Mapped[dict] = mapped_column(EncryptedJSON("index_audit.detail"), default=dict)
    # Unique: two entries can never claim the same predecessor, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    # Which of the parallel chains (guide/audit_chain.py) holds it, and its place in that chain.
    chain: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ExportJob(Base):
    """A large export of decision records made in the background (guide/export_jobs.py).

    Its state is here, not in any process, so any worker can show its progress or serve it, and
    a job whose runner died (stale heartbeat) is claimed again, with a compare-and-set on
    state and heartbeat, and redone from the start.
    """

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_state_heartbeat", "state", "heartbeat_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    format: Mapped[str] = mapped_column(String(8))  # csv or json
    # The records filter (RecordFilter.as_dict()): it may hold a child's reference.
    filters: Mapped[dict] = mapped_column(EncryptedJSON("export_jobs.filters"), default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued running ready failed expired
    rows_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    runner: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the claim of the runner at work
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ExportChunk(Base):
    """One piece of an export job's file, in order; the file holds children's details, so encrypted."""

    __tablename__ = "export_chunks"

    job_id: Mapped[str] = mapped_column(ForeignKey("export_jobs.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[str] = mapped_column(EncryptedText("export_chunks.data"))


# --- advice and sign-off (guide/advice/) ------------------------------------------------------

class AdviceRequest(Base):
    """A practitioner's request for advice on a walk, to a named adviser of their agency.

    Seen only by the practitioner, the adviser chosen and the agency's other advisers. The
    conversation is in AdviceMessage rows, which are only ever added.
    """

    __tablename__ = "advice_requests"
    __table_args__ = (Index("ix_advice_requests_agency_state", "agency", "state"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    walk_id: Mapped[str] = mapped_column(ForeignKey("walks.id"), index=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    agency: Mapped[str] = mapped_column(String(200))
    # The question it was asked from; empty when asked from the outcome.
    question_id: Mapped[str] = mapped_column(String(64), default="")
    # The guidance allows a first conversation without naming the child: then there is no reference.
    named: Mapped[bool] = mapped_column(Boolean, default=False)
    subject_ref: Mapped[str] = mapped_column(EncryptedText("advice_requests.subject_ref"), default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open, closed
    # Set while the request waits for an adviser (asked, or the practitioner wrote again); cleared by a reply.
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    unread_by_practitioner: Mapped[bool] = mapped_column(Boolean, default=False)
    # When every adviser of the agency was told it had waited past the agency's limit.
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    practitioner: Mapped[User] = relationship(foreign_keys=[practitioner_id])
    adviser: Mapped[User] = relationship(foreign_keys=[adviser_id])


class AdviceMessage(Base):
    """One turn of an advice conversation: the question asked, advice, a question back, a reply."""

    __tablename__ = "advice_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("advice_requests.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # ask, advice, question, offline, reply, close
    text: Mapped[str] = mapped_column(EncryptedText("advice_messages.text"), default="")
    # Advice may point to the answer the adviser would give at a question: {"question": id, "answer": value}.
    suggestion: Mapped[dict | None] = mapped_column(EncryptedJSON("advice_messages.suggestion"), nullable=True)
    # Who wrote it, as they were then (name, job title, adviser role): part of the record it feeds.
    author_snapshot: Mapped[dict] = mapped_column(EncryptedJSON("advice_messages.author_snapshot"), default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    author: Mapped[User] = relationship()


class RecordSignoff(Base):
    """A decision record's countersignature, as events only ever added: required, then countersigned or returned.

    The record itself is never changed; these rows are bound to one version of it.
    """

    __tablename__ = "record_signoffs"
    # One of each per record version: a double click cannot countersign twice.
    __table_args__ = (UniqueConstraint("record_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("decision_records.id"), index=True)
    agency: Mapped[str] = mapped_column(String(200), index=True)
    state: Mapped[str] = mapped_column(String(16))  # required, countersigned, returned
    rule: Mapped[str] = mapped_column(String(200), default="")  # why the policy asks for it
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    signer: Mapped[dict] = mapped_column(EncryptedJSON("record_signoffs.signer"), default=dict)
    note: Mapped[str] = mapped_column(EncryptedText("record_signoffs.note"), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class UserSearchKey(Base):
    """The author filter's index (guide/accounts/author_search.py): for each word of a user's name
    and email, a blind index of each of its beginnings, so "pat" finds Pat Practitioner without
    decrypting anyone's name. No clear text: keyed hashes only."""

    __tablename__ = "user_search_keys"
    __table_args__ = (Index("ix_user_search_keys_key", "key"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)


# --- accounts: signed-in sessions and throttles ---------------------------------------------

class UserSession(Base):
    """A signed-in session, kept on the server (guide/accounts/sessions.py).

    The cookie holds only a random id; the row is found by its hash, so a copy of the database
    gives no usable cookie. Signing out, the idle timeout, the absolute lifetime and an
    administrator's "end all sessions" set `ended_at`: after that the cookie opens nothing.
    """

    __tablename__ = "user_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    data: Mapped[dict] = mapped_column(EncryptedJSON("user_sessions.data"), default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_reason: Mapped[str] = mapped_column(String(32), default="", server_default="")


class ThrottleBucket(Base):
    """Attempts counted for one key (an account or an address, as a keyed hash), in the database
    so that the count holds across every process and machine (guide/accounts/throttle.py)."""

    __tablename__ = "throttle_buckets"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Seconds since the epoch: the arithmetic is done inside one SQL statement on both databases.
    last_at: Mapped[float] = mapped_column(Float, default=0.0)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)


class AuditHead(Base):
    """The newest entry of each chain: the row a writer locks to append to that chain."""

    __tablename__ = "audit_heads"

    trail: Mapped[str] = mapped_column(String(16), primary_key=True)  # "records" or "index"
    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class IndexContactsDraft(Base):
    """The contacts a practitioner copied from the index for the decision record they are writing.

    Kept here, encrypted, not in the session cookie (which is signed, not encrypted: anyone holding
    the cookie could read a practitioner's name and phone number from it)."""

    __tablename__ = "index_contacts_drafts"

    walk_id: Mapped[str] = mapped_column(ForeignKey("walks.id", ondelete="CASCADE"), primary_key=True)
    contacts: Mapped[str] = mapped_column(EncryptedText("index_contacts_drafts.contacts"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
