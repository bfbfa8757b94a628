"""Walking a flowchart: start, answer, change an answer. Shared by the web pages and the API.

Every step is checked against the walk's replayed position, so a skipped, replayed or
tampered step is refused before anything is written.
"""

from __future__ import annotations

from sqlalchemy import bindparam, event, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..audit import audit
from ..crypto import bound_rows
from ..db import forget_reads, recall, remember_until_write
from ..flows import WalkPosition
from ..guidance import ContentGone, Guidance
from ..models import Chat, ContentVersion, DecisionRecord, User, Walk, utcnow


class StepRefused(Exception):
    """A step that cannot be taken; `status` is the HTTP status that fits it."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


def remember_content_version(db: Session, guidance: Guidance) -> None:
    """Keep the text of the content version walks are taken on (once per version).

    Checked against the database once per process; after that a set remembers it.
    """
    stored = guidance.stored_versions
    url = str(db.bind.url)
    if (url, guidance.version) in stored:
        return
    if db.scalar(select(ContentVersion.version).where(ContentVersion.version == guidance.version)) is None:
        try:
            with db.begin_nested():
                db.add(ContentVersion(version=guidance.version, files=guidance.content.files))
        except IntegrityError:
            pass  # another request stored it at the same moment: that is all we wanted
    # Remembered only once committed: a rolled-back request must not hide a missing row.
    event.listen(db, "after_commit", lambda _session: stored.add((url, guidance.version)), once=True)


def start_walk(db: Session, guidance: Guidance, user: User, flowchart_id: str, *,
               case_id: str | None = None, subject_ref: str | None = None) -> Walk:
    """Start a walk of a guidance flowchart, or of a case example's decision points (self-study).

    `case_id` links a walk of a guidance flowchart to the case example it is being tried on.
    """
    if guidance.flowchart(flowchart_id) is None or (case_id is not None and case_id not in guidance.scenarios):
        raise StepRefused("There is no flowchart with that name.", status=404)
    remember_content_version(db, guidance)
    walk = Walk(user_id=user.id, flowchart_id=flowchart_id, content_version=guidance.version, answers={},
                case_id=case_id, subject_ref=subject_ref or None)
    db.add(walk)
    db.flush()
    audit(db, user.id, "walk.start", "walk", walk.id, flowchart=flowchart_id)
    return walk


def position(guidance: Guidance, walk: Walk) -> WalkPosition:
    machine = guidance.machines.get(walk.flowchart_id)
    if machine is None:
        raise ContentGone(walk.flowchart_id)
    return machine.replay(walk.answers or {})


# Built once: every step asks both. Whether the walk is recorded comes with the walk (one query, not two).
_RECORD_OF_WALK = select(DecisionRecord.id).where(DecisionRecord.walk_id == bindparam("walk_id")).limit(1)
_WALK_OF_USER = select(Walk, exists().where(DecisionRecord.walk_id == Walk.id).label("recorded")).where(
    Walk.id == bindparam("walk_id"), Walk.user_id == bindparam("user_id"))


def walk_for(db: Session, walk_id: str, user: User, *, for_update: bool = False) -> Walk | None:
    """A walk belongs to the practitioner who took it; anyone else is told it does not exist."""
    query = _WALK_OF_USER
    if for_update and db.bind.dialect.name != "sqlite":
        query = query.with_for_update(of=Walk)
    found = db.execute(query, {"walk_id": walk_id, "user_id": user.id}).first()
    if found is None:
        return None
    remember_until_write(db, ("recorded", found.Walk.id), found.recorded)
    return found.Walk


def discard_walk(db: Session, walk: Walk, user: User) -> None:
    """Delete an unrecorded walk, audited; a conversation that led to it keeps its words, not the walk."""
    db.execute(update(Chat).where(Chat.walk_id == walk.id).values(walk_id=None))
    audit(db, user.id, "walk.discard", "walk", walk.id, flowchart=walk.flowchart_id)
    db.delete(walk)


# Built once: every answer runs it. The walk's revision must still be the one read (as the ORM's
# version_id_col would check), so two tabs, or a replayed request, cannot overwrite each other.
_walks = Walk.__table__
_SAVE_ANSWERS = (update(_walks).where(_walks.c.id == bindparam("walk_id"), _walks.c.revision == bindparam("read_revision"))
                 .values(answers=bindparam("new_answers"), content_version=bindparam("new_version"),
                         updated_at=bindparam("now"), revision=bindparam("new_revision")))


def _save_answers(db: Session, walk: Walk, answers: dict, version: str) -> None:
    """Write the walk's new answers with one UPDATE (not the ORM's unit of work, which an answer, the
    commonest write in the guide, would pay for on every step), then give the loaded walk the same values."""
    now, revision = utcnow(), walk.revision + 1
    sealed = bound_rows(_walks, [{"id": walk.id, "answers": answers}])[0]["answers"]  # sealed to its row, as every encrypted value is
    written = db.execute(_SAVE_ANSWERS, {
        "walk_id": walk.id, "read_revision": walk.revision, "new_revision": revision, "now": now, "new_version": version,
        "new_answers": sealed})
    if written.rowcount != 1:
        raise StaleDataError(f"walk {walk.id} was changed by another request (revision {walk.revision})")
    forget_reads(db)  # a write: what was read alongside may have changed (guide/db.py)
    for name, value in (("answers", answers), ("content_version", version), ("updated_at", now), ("revision", revision)):
        set_committed_value(walk, name, value)


def is_recorded(db: Session, walk: Walk) -> bool:
    known = recall(db, ("recorded", walk.id))
    if known is not None:
        return known
    return db.scalar(_RECORD_OF_WALK, {"walk_id": walk.id}) is not None


def answer(db: Session, guidance: Guidance, walk: Walk, user: User, question_id: str, value: str,
           *, allow_change: bool = True) -> WalkPosition:
    """Record an answer to the current question (or, with allow_change, one already on the path).

    Raises StepRefused and changes nothing if the question is not on the walk's path,
    the answer is not one the question offers, or the walk has already been recorded.
    """
    if is_recorded(db, walk):
        raise StepRefused("This walk has been saved as a decision record and can no longer be changed.")
    here = position(guidance, walk)
    question = guidance.flowchart(walk.flowchart_id).questions.get(question_id)
    if question is None:
        raise StepRefused("That question is not part of this flowchart.", status=404)
    is_current = here.current is not None and here.current.id == question_id
    if not is_current and not (allow_change and here.on_path(question_id)):
        raise StepRefused("That question is not the one this walk is waiting for. "
                          "Answer the current question, or change an answer you have already given.")
    if question.answer(value) is None:
        raise StepRefused("Select one of the answers offered.", status=400)
    previous = (walk.answers or {}).get(question_id)
    # Later answers are kept: if the changed answer leads back onto the same questions,
    # the practitioner does not have to answer them again (GOV.UK "check your answers").
    _save_answers(db, walk, {**(walk.answers or {}), question_id: value}, guidance.version)
    remember_content_version(db, guidance)
    audit(db, user.id, "walk.answer" if previous is None else "walk.change", "walk", walk.id,
          question=question_id, answer=value, previous=previous)
    return position(guidance, walk)
