"""Tables. Decision records and audit events are only ever inserted, never updated."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base

ROLES = ("practitioner", "trainer", "records_officer", "index_manager", "admin")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return uuid.uuid4().hex


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    job_title: Mapped[str] = mapped_column(String(200), default="")
    agency: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Only a hash is kept: a copied database gives no usable token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

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
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # A walk of the confidentiality flowchart taken for a case example, to compare with it.
    case_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Bumped on every change, so two tabs (or a replayed request) cannot overwrite each other.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __mapper_args__ = {"version_id_col": revision}


class DecisionRecord(Base):
    """One version of a decision record. A correction is a new row that supersedes the last."""

    __tablename__ = "decision_records"
    __table_args__ = (UniqueConstraint("reference", "version"),)

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
    subject_ref: Mapped[str] = mapped_column(String(100), index=True)
    outcome_id: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(64), index=True)
    consent_position: Mapped[str] = mapped_column(String(32))
    # Everything else the record says, frozen as it was saved: who decided, each question
    # with the answer given and its reason, what was shared with whom and how.
    body: Mapped[dict] = mapped_column(JSON)
    correction_reason: Mapped[str] = mapped_column(Text, default="")

    author: Mapped[User] = relationship()


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


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
    display_name: Mapped[str] = mapped_column(String(60))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
