"""Case examples for learning: self-study walks, and live sessions where a room votes.

A self-study walk is an ordinary walk of a case's decision points (same engine, same
table); its review compares each answer with the guidance's view. A live session keeps
all its state in the database — which point the room is on, who joined, every vote — so
any worker can serve the trainer's screen and the participants' phones.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..audit import audit
from ..decisions.steps import StepRefused, position, remember_content_version
from ..guidance import ContentGone, Guidance
from ..models import (
    Participant,
    TrainingRecord,
    TrainingSession,
    User,
    Vote,
    Walk,
    utcnow,
)
from .case_examples import DecisionPoint, Scenario

# Codes are read off a projector and typed on phones: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
SESSION_LIFETIME = timedelta(hours=12)
MAX_NAME = 40
MAX_PARTICIPANTS = 200

LOBBY, VOTING, REVEALED, ENDED = "lobby", "voting", "revealed", "ended"


class Refused(StepRefused):
    """A training action that cannot be taken; nothing was changed."""


# --- self-study -------------------------------------------------------------------------

@dataclass
class PointReview:
    point: DecisionPoint
    answer: str
    agreed: bool

    @property
    def answer_label(self) -> str:
        option = self.point.option(self.answer)
        return option.label if option else self.answer


def study_review(guidance: Guidance, walk: Walk) -> tuple[Scenario, list[PointReview]]:
    """Each decision point with the learner's answer and whether it matches the guidance's view."""
    case = guidance.scenarios.get(walk.flowchart_id)
    if case is None:
        raise ContentGone(walk.flowchart_id)
    where = position(guidance, walk)
    if not where.finished:
        raise Refused("Answer every decision point first.")
    answers = where.answers
    return case, [PointReview(p, answers[p.id], answers[p.id] == p.guidance) for p in case.decision_points]


def keep_training_record(db: Session, guidance: Guidance, walk: Walk, user: User) -> TrainingRecord:
    case, reviews = study_review(guidance, walk)
    existing = db.scalar(select(TrainingRecord).where(TrainingRecord.walk_id == walk.id))
    if existing is not None:
        return existing
    remember_content_version(db, guidance)
    record = TrainingRecord(
        user_id=user.id, walk_id=walk.id, scenario_id=case.id, content_version=guidance.version,
        agreed=sum(r.agreed for r in reviews), points=len(reviews),
        answers={r.point.id: r.answer for r in reviews},
    )
    db.add(record)
    db.flush()
    audit(db, user.id, "training.record", "training_record", record.id, case=case.id)
    return record


def filter_cases(guidance: Guidance, sectors=(), ages=(), concerns=()) -> list[Scenario]:
    cases = list(guidance.scenarios.values())
    if sectors:
        cases = [c for c in cases if c.sector in sectors]
    if ages:
        cases = [c for c in cases if c.child_age in ages]
    if concerns:
        cases = [c for c in cases if set(c.concerns) & set(concerns)]
    return cases


# --- live sessions ----------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    index: int
    case: Scenario
    point: DecisionPoint


def steps(guidance: Guidance, session: TrainingSession) -> list[Step]:
    """Every decision point of the session's cases, in the order the room meets them."""
    result = []
    for case_id in session.scenario_ids:
        case = guidance.scenarios.get(case_id)
        if case is None:  # removed from the content: the steps would no longer line up with the votes
            raise ContentGone(case_id)
        for point in case.decision_points:
            result.append(Step(len(result), case, point))
    return result


def current_step(guidance: Guidance, session: TrainingSession) -> Step | None:
    all_steps = steps(guidance, session)
    return all_steps[session.step] if session.state in (VOTING, REVEALED) and session.step < len(all_steps) else None


def create_session(db: Session, guidance: Guidance, trainer: User, case_ids: list[str],
                   keep_names: bool = False) -> TrainingSession:
    chosen = [case_id for case_id in guidance.scenarios if case_id in set(case_ids)]
    if not chosen:
        raise Refused("Choose at least one case example.", status=400)
    remember_content_version(db, guidance)
    for _ in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.scalar(select(TrainingSession.id).where(TrainingSession.code == code)) is None:
            break
    session = TrainingSession(code=code, trainer_id=trainer.id, scenario_ids=chosen,
                              content_version=guidance.version, keep_names=keep_names,
                              expires_at=utcnow() + SESSION_LIFETIME)
    db.add(session)
    db.flush()
    audit(db, trainer.id, "training.session.open", "training_session", session.id, cases=chosen)
    return session


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything here is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def is_open(session: TrainingSession) -> bool:
    return session.state != ENDED and _aware(session.expires_at) > utcnow()


def open_session_for_code(db: Session, code: str) -> TrainingSession:
    code = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    session = db.scalar(select(TrainingSession).where(TrainingSession.code == code)) if code else None
    if session is None or not is_open(session):
        # The same words for a code that never existed and one that has ended: no guessing.
        raise Refused("That code is not recognised, or its session has ended. Check the code on the trainer's screen.",
                      status=400)
    return session


# A participant seen (joining, polling the room, voting) within this long holds a place in the room;
# one who has gone quiet (a scripted join that never polls) no longer counts against MAX_PARTICIPANTS.
PRESENT_WITHIN = timedelta(minutes=3)
SEEN_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often per participant


def join(db: Session, code: str, display_name: str, already: int | None = None) -> tuple[TrainingSession, Participant]:
    """Join a room. `already`: the participant this browser joined as, who comes back as themself
    (joining again never makes a second voter)."""
    session = open_session_for_code(db, code)
    if already is not None:
        existing = db.get(Participant, already)
        if existing is not None and existing.session_id == session.id:
            return session, existing
    name = " ".join((display_name or "").split())
    if not name:
        raise Refused("Enter a name to show the trainer (it can be a first name or a nickname).", status=400)
    if len(name) > MAX_NAME:
        raise Refused(f"The name must be {MAX_NAME} characters or fewer.", status=400)
    # Whether they joined while a point was open to votes is kept: see rejoined_during_vote.
    participant = Participant(session_id=session.id, display_name=name, joined_step=session.step,
                              joined_during_vote=session.state == VOTING, last_seen_at=utcnow())
    # Added first, then counted: on SQLite the insert holds the write lock while counting; on
    # PostgreSQL a lock per room makes parallel joins count one after another. The cap holds.
    db.add(participant)
    db.flush()
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"room {session.id}"))))
    if present_count(db, session) > MAX_PARTICIPANTS:
        raise Refused("This session is full.", status=400)
    return session, participant


def present_count(db: Session, session: TrainingSession) -> int:
    """Participants seen lately: those who hold a place in the room."""
    return db.scalar(select(func.count()).select_from(Participant).where(
        Participant.session_id == session.id, Participant.last_seen_at >= utcnow() - PRESENT_WITHIN))


def seen(db: Session, participant_id: int | None) -> bool:
    """Note that a participant is still in the room (at most once a minute). True when written."""
    participant = db.get(Participant, participant_id) if participant_id else None
    if participant is None:
        return False
    if participant.last_seen_at is not None and utcnow() - _aware(participant.last_seen_at) < SEEN_EVERY:
        return False
    participant.last_seen_at = utcnow()
    return True


def rejoined_during_vote(db: Session, participant: Participant, step_index: int) -> bool:
    """Whether this participant waits for the next point before voting: they joined while this point
    was open to votes. Leaving and joining again (a new browser, cookies cleared, another name) would
    otherwise give a second vote on the open point (issue 15, item 15), and a newcomer cannot be told
    apart from someone joining again. The page shows such a person no vote form but says plainly
    that they vote from the next point, so the page and the vote agree."""
    return bool(participant.joined_during_vote and participant.joined_step == step_index)


def cast_vote(db: Session, guidance: Guidance, session: TrainingSession, participant_id: int | None,
              step_index: int, value: str) -> Vote:
    """A participant's vote on the point the room is on. Refused, changing nothing, if it is late,
    for another point, not an option, a second vote, or from someone who has not joined."""
    participant = db.get(Participant, participant_id) if participant_id else None
    if participant is None or participant.session_id != session.id:
        raise Refused("Join the session with its code before voting.", status=403)
    if not is_open(session):
        raise Refused("This session has ended.")
    step = current_step(guidance, session)
    if session.state != VOTING or step is None or step.index != step_index:
        raise Refused("Voting on that decision point has closed.")
    if step.point.option(value) is None:
        raise Refused("Choose one of the options.", status=400)
    if rejoined_during_vote(db, participant, step.index):
        raise Refused("You joined during this vote: you can vote from the next one.", status=409)
    vote = Vote(session_id=session.id, participant_id=participant.id, step=step.index,
                scenario_id=step.case.id, point_id=step.point.id, value=value)
    try:
        with db.begin_nested():
            db.add(vote)
            db.flush()
    except IntegrityError:
        raise Refused("You have already voted on this decision point.") from None
    return vote


def tally(db: Session, session: TrainingSession, step_index: int) -> Counter:
    rows = db.execute(select(Vote.value, func.count()).where(Vote.session_id == session.id, Vote.step == step_index)
                      .group_by(Vote.value))
    return Counter({value: count for value, count in rows})


def room_version(db: Session, session: TrainingSession) -> str:
    """What the trainer's live view shows changes only when the room moves, someone joins or someone
    votes: the revision and the newest vote and participant name that state in one indexed query."""
    newest_vote = select(func.max(Vote.id)).where(Vote.session_id == session.id).scalar_subquery()
    newest_participant = select(func.max(Participant.id)).where(Participant.session_id == session.id).scalar_subquery()
    vote, participant = db.execute(select(newest_vote, newest_participant)).one()
    return f"{session.revision}.{vote or 0}.{participant or 0}"


def participant_count(db: Session, session: TrainingSession) -> int:
    return db.scalar(select(func.count()).select_from(Participant).where(Participant.session_id == session.id))


def has_voted(db: Session, session: TrainingSession, participant_id: int | None, step_index: int) -> str | None:
    if not participant_id:
        return None
    return db.scalar(select(Vote.value).where(Vote.session_id == session.id, Vote.participant_id == participant_id,
                                              Vote.step == step_index))


# The trainer's moves: each names the state and step it expects, so a double click or a
# second tab cannot move the room twice.
MOVES = {
    "start": ({LOBBY}, VOTING),
    "reveal": ({VOTING}, REVEALED),
    "next": ({REVEALED}, VOTING),
    "end": ({LOBBY, VOTING, REVEALED}, ENDED),
}


def move(db: Session, guidance: Guidance, session: TrainingSession, trainer: User, action: str,
         expected_state: str, expected_step: int) -> None:
    if session.trainer_id != trainer.id:
        raise Refused("Only the trainer who opened this session can run it.", status=403)
    if action not in MOVES:
        raise Refused("Unknown action.", status=400)
    allowed_from, target = MOVES[action]
    if session.state != expected_state or session.step != expected_step or session.state not in allowed_from:
        raise Refused("The session has already moved on; the screen has been refreshed.")
    if not is_open(session):
        raise Refused("This session has ended.")
    total = len(steps(guidance, session))
    if action == "next":
        if session.step + 1 >= total:
            target = ENDED
        else:
            session.step += 1
    session.state = target
    if target == ENDED:
        session.ended_at = utcnow()
        if not session.keep_names:
            _forget_names(db, session)
    audit(db, trainer.id, f"training.session.{action}", "training_session", session.id, step=session.step)


def _forget_names(db: Session, session: TrainingSession) -> None:
    participants = db.scalars(select(Participant).where(Participant.session_id == session.id).order_by(Participant.id))
    for number, participant in enumerate(participants, start=1):
        participant.display_name = f"Participant {number}"


@dataclass
class ReportRow:
    step: Step
    counts: Counter
    total: int

    @property
    def agreed(self) -> int:
        return self.counts.get(self.step.point.guidance, 0)

    @property
    def agreed_percent(self) -> int | None:
        return round(100 * self.agreed / self.total) if self.total else None


def report(db: Session, guidance: Guidance, session: TrainingSession) -> list[ReportRow]:
    """Per decision point: how the room voted, against the guidance's view."""
    votes: dict[int, Counter] = {}
    for step_index, value, count in db.execute(
            select(Vote.step, Vote.value, func.count()).where(Vote.session_id == session.id)
            .group_by(Vote.step, Vote.value)):
        votes.setdefault(step_index, Counter())[value] = count
    rows = []
    for step in steps(guidance, session):
        counts = votes.get(step.index, Counter())
        rows.append(ReportRow(step, counts, sum(counts.values())))
    return rows
