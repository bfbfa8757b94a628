"""Asking for advice and the conversation that follows: shared by the pages and the API.

Who sees a request: the practitioner who asked, the adviser chosen and the agency's other
advisers (any of them may answer, and every one of them sees a request waiting past the
agency's limit). Everyone else is told it does not exist. Every step is audited, and a
refused step changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from ..accounts.sessions import read_with_user, read_with_user_value
from ..audit import audit
from ..decisions.steps import StepRefused, position
from ..guidance import Guidance
from ..models import AdviceMessage, AdviceRequest, User, Walk, utcnow
from .notify import tell
from .waiting import working_hours_between

TEXT_LIMIT = 5000
REFERENCE_LIMIT = 100
# What an adviser may send, and what each is called on the page.
ADVISER_KINDS = {
    "advice": "Advice",
    "question": "A question back to you",
    "offline": "Taking this offline",
}
KINDS = {"ask": "Asked", "reply": "Reply", "close": "Closed", **ADVISER_KINDS}


class AdviceInvalid(Exception):
    """What was entered fails the checks; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def is_adviser(user: User) -> bool:
    return bool(user.adviser_role)


def who(user: User) -> dict:
    """A person as the conversation and the record keep them: as they were at the time."""
    return {"name": user.name, "job_title": user.job_title, "adviser_role": user.adviser_role, "agency": user.agency}


def advisers_of(db: Session, agency: str) -> list[User]:
    rows = db.scalars(select(User).where(User.agency == agency, User.adviser_role != "", User.active.is_(True))
                      .order_by(User.id))
    return list(rows)


def can_see(user: User, request: AdviceRequest) -> bool:
    return user.id in (request.practitioner_id, request.adviser_id) or (
        is_adviser(user) and user.agency == request.agency)


def request_for(db: Session, request_id: str, user: User) -> AdviceRequest | None:
    """The request, if this user may see it; None (shown as "not found") otherwise."""
    request = db.get(AdviceRequest, request_id) if isinstance(request_id, str) and len(request_id) <= 32 else None
    return request if request is not None and can_see(user, request) else None


def _text(raw: dict, name: str, errors: dict, required: str | None, limit: int) -> str:
    value = raw.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = "Enter text"
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = required
    elif len(value) > limit:
        errors[name] = f"Keep this to {limit} characters or fewer"
    return value


def _yes(raw: dict, name: str) -> bool:
    value = raw.get(name)
    return value is True or value in ("yes", "1", "true", "on")


def ask(db: Session, guidance: Guidance, walk: Walk, user: User, raw: dict) -> AdviceRequest:
    """A new request on the practitioner's own walk, to an adviser of their agency."""
    if guidance.is_case(walk.flowchart_id):
        raise StepRefused("A case example is for practice: ask for advice about a real decision.", status=409)
    errors: dict[str, str] = {}
    adviser = None
    adviser_id = raw.get("adviser")
    try:
        number = int(adviser_id) if isinstance(adviser_id, (int, str)) and not isinstance(adviser_id, bool) else 0
    except ValueError:
        number = 0
    if 0 < number < 2**31:  # a user id; anything else is no one (and never reaches the database)
        adviser = db.get(User, number)
    if adviser_id in (None, ""):
        errors["adviser"] = "Choose the adviser you want to ask"
    elif adviser is None or not adviser.active or not is_adviser(adviser) or adviser.agency != user.agency:
        errors["adviser"] = "Choose an adviser in your agency: that person is not one of them"
    elif adviser.id == user.id:
        errors["adviser"] = "Choose another adviser: you cannot ask yourself"
    question = _text(raw, "question", errors, "Say what you are unsure about", TEXT_LIMIT)
    named = raw.get("named")
    if named not in ("yes", "no", True, False):
        errors["named"] = "Say whether you are naming the child"
    named = named in ("yes", True)
    subject_ref = _text(raw, "subject_ref", errors, "Enter the child's reference, or choose not to name the child"
                        if named else None, REFERENCE_LIMIT) if named else ""
    question_id = raw.get("question_id") or ""
    if not isinstance(question_id, str) or (question_id and not position(guidance, walk).on_path(question_id)):
        errors["question_id"] = "Ask about a question on your walk"
    if errors:
        raise AdviceInvalid(errors)
    now = utcnow()
    request = AdviceRequest(walk_id=walk.id, practitioner_id=user.id, adviser_id=adviser.id, agency=user.agency,
                            question_id=question_id, named=named, subject_ref=subject_ref, urgent=_yes(raw, "urgent"),
                            state="open", waiting_since=now, unread_by_practitioner=False, created_at=now)
    db.add(request)
    db.flush()
    db.add(AdviceMessage(request_id=request.id, author_id=user.id, kind="ask", text=question,
                         author_snapshot=who(user), at=now))
    audit(db, user.id, "advice.ask", "advice_request", request.id, walk=walk.id, adviser=adviser.id,
          urgent=request.urgent, named=named, question=question_id)
    tell(db, [adviser.email])
    return request


def add_message(db: Session, guidance: Guidance, request: AdviceRequest, user: User, raw: dict) -> AdviceMessage:
    """Advice, a question back or "taking this offline" from an adviser; a reply from the practitioner."""
    if request.state != "open":
        raise StepRefused("This request is closed, so nothing more can be added to it. "
                          "Ask again if you need more advice.", status=409)
    errors: dict[str, str] = {}
    practitioner = user.id == request.practitioner_id
    kind = raw.get("kind") or ("reply" if practitioner else "")
    kind = kind if isinstance(kind, str) else ""
    if practitioner:
        if kind != "reply":
            errors["kind"] = "You can reply to your adviser"
    elif kind not in ADVISER_KINDS:
        errors["kind"] = "Choose advice, a question back or taking this offline"
    text = _text(raw, "text", errors, "Write your message", TEXT_LIMIT)
    suggestion = None
    wanted_question = raw.get("suggest_question") or ""
    wanted_answer = raw.get("suggest_answer") or ""
    if (wanted_question or wanted_answer) and not practitioner:
        walk = db.get(Walk, request.walk_id)
        chart = guidance.flowchart(walk.flowchart_id)
        question = chart.questions.get(wanted_question) if isinstance(wanted_question, str) else None
        if question is None or not isinstance(wanted_answer, str) or question.answer(wanted_answer) is None:
            errors["suggest_answer"] = "Choose a question of this flowchart and one of its answers, or neither"
        else:
            suggestion = {"question": question.id, "question_text": question.text, "answer": wanted_answer,
                          "answer_label": question.answer(wanted_answer).label}
    if errors:
        raise AdviceInvalid(errors)
    now = utcnow()
    message = AdviceMessage(request_id=request.id, author_id=user.id, kind=kind, text=text, suggestion=suggestion,
                            author_snapshot=who(user), at=now)
    db.add(message)
    if practitioner:
        request.waiting_since = now
        request.overdue_flagged_at = None
        tell(db, [request.adviser.email])
    else:
        request.waiting_since = None
        request.unread_by_practitioner = True
        tell(db, [request.practitioner.email])
    db.flush()
    audit(db, user.id, "advice.message", "advice_request", request.id, kind=kind, message=message.id)
    return message


def close(db: Session, request: AdviceRequest, user: User, raw: dict) -> None:
    """The practitioner (or an adviser) closes the conversation; what was said stays."""
    if request.state != "open":
        raise StepRefused("This request is already closed.", status=409)
    errors: dict[str, str] = {}
    text = _text(raw, "text", errors, None, TEXT_LIMIT)
    if errors:
        raise AdviceInvalid(errors)
    now = utcnow()
    db.add(AdviceMessage(request_id=request.id, author_id=user.id, kind="close", text=text,
                         author_snapshot=who(user), at=now))
    request.state, request.closed_at, request.waiting_since = "closed", now, None
    if user.id != request.practitioner_id:
        request.unread_by_practitioner = True
        tell(db, [request.practitioner.email])
    audit(db, user.id, "advice.close", "advice_request", request.id)


def seen(db: Session, request: AdviceRequest, user: User) -> None:
    """Audit a view; the practitioner reading the advice clears it from their count."""
    if user.id == request.practitioner_id:
        request.unread_by_practitioner = False
    audit(db, user.id, "advice.view", "advice_request", request.id)


def messages(db: Session, request: AdviceRequest) -> list[AdviceMessage]:
    return list(db.scalars(select(AdviceMessage).where(AdviceMessage.request_id == request.id)
                           .order_by(AdviceMessage.at, AdviceMessage.id)))


def waited(guidance: Guidance, request: AdviceRequest, now: datetime | None = None) -> float | None:
    """Working hours the request has waited for an adviser (None when it is not waiting)."""
    if request.state != "open" or request.waiting_since is None:
        return None
    policy = guidance.advice_policy.for_agency(request.agency)
    return working_hours_between(request.waiting_since, now or utcnow(), policy)


def is_overdue(guidance: Guidance, request: AdviceRequest, now: datetime | None = None) -> bool:
    hours = waited(guidance, request, now)
    return hours is not None and hours >= guidance.advice_policy.for_agency(request.agency).wait_limit(request.urgent)


def queue(db: Session, user: User) -> list[AdviceRequest]:
    """An adviser's agency's open requests: urgent first, then those waiting longest, then the rest."""
    if not is_adviser(user):
        return []
    waiting_first = case((AdviceRequest.waiting_since.is_(None), 1), else_=0)
    return list(db.scalars(select(AdviceRequest).where(AdviceRequest.agency == user.agency,
                                                       AdviceRequest.state == "open",
                                                       AdviceRequest.practitioner_id != user.id)
                           .order_by(AdviceRequest.urgent.desc(), waiting_first, AdviceRequest.waiting_since,
                                     AdviceRequest.created_at)))


def asked_by(db: Session, user: User) -> list[AdviceRequest]:
    return list(db.scalars(select(AdviceRequest).where(AdviceRequest.practitioner_id == user.id)
                           .order_by(AdviceRequest.state.desc(), AdviceRequest.created_at.desc()).limit(200)))


def on_walk(db: Session, walk_id: str) -> list[AdviceRequest]:
    return list(db.scalars(select(AdviceRequest).where(AdviceRequest.walk_id == walk_id)
                           .order_by(AdviceRequest.created_at)))


# Built once: the header asks for this count on every page.
_UNREAD_BY_PRACTITIONER = select(func.count()).select_from(AdviceRequest).where(
    AdviceRequest.practitioner_id == bindparam("user_id"), AdviceRequest.unread_by_practitioner.is_(True))
_WAITING_FOR_AGENCY = select(func.count()).select_from(AdviceRequest).where(
    AdviceRequest.agency == bindparam("agency"), AdviceRequest.state == "open",
    AdviceRequest.waiting_since.is_not(None), AdviceRequest.practitioner_id != bindparam("user_id"))


# The same two counts for the signed-in user, read with the session and the user (one query a page).
_UNREAD_OF_USER = select(func.count()).select_from(AdviceRequest).where(
    AdviceRequest.practitioner_id == User.id, AdviceRequest.unread_by_practitioner.is_(True)).scalar_subquery()
_WAITING_FOR_USERS_AGENCY = select(func.count()).select_from(AdviceRequest).where(
    AdviceRequest.agency == User.agency, AdviceRequest.state == "open",
    AdviceRequest.waiting_since.is_not(None), AdviceRequest.practitioner_id != User.id).scalar_subquery()


def read_counts_with_user() -> None:
    """Have every signed-in page read the header's counts in its one query for the session and the user."""
    read_with_user("advice_unread", _UNREAD_OF_USER)
    read_with_user("advice_waiting", _WAITING_FOR_USERS_AGENCY)


def waiting_count(db: Session, user: User) -> int:
    """What the header counts: advice the practitioner has not read, and requests waiting for an adviser."""
    count = read_with_user_value(db, user, "advice_unread")
    if count is None:
        count = db.scalar(_UNREAD_BY_PRACTITIONER, {"user_id": user.id}) or 0
    if is_adviser(user):
        waiting = read_with_user_value(db, user, "advice_waiting")
        if waiting is None:
            waiting = db.scalar(_WAITING_FOR_AGENCY, {"agency": user.agency, "user_id": user.id}) or 0
        count += waiting
    return count


def advice_given(db: Session, walk_id: str) -> list[dict]:
    """What advisers said on a walk, to freeze into its decision record: who, role, when, what, linked by request."""
    given = []
    for request in on_walk(db, walk_id):
        for message in messages(db, request):
            if message.kind in ADVISER_KINDS or (message.kind == "close" and message.author_id != request.practitioner_id):
                person = message.author_snapshot or {}
                given.append({"request": request.id, "kind": message.kind, "at": message.at.isoformat(),
                              "name": person.get("name", ""), "role": person.get("adviser_role") or person.get("job_title", ""),
                              "agency": person.get("agency", ""), "text": message.text, "suggestion": message.suggestion})
    return given


def flag_overdue(db: Session, guidance: Guidance, now: datetime | None = None) -> int:
    """Tell every adviser of the agency about each request waiting past its limit (once per wait)."""
    now = now or utcnow()
    flagged = 0
    for request in db.scalars(select(AdviceRequest).where(AdviceRequest.state == "open",
                                                          AdviceRequest.waiting_since.is_not(None),
                                                          AdviceRequest.overdue_flagged_at.is_(None))):
        if is_overdue(guidance, request, now):
            request.overdue_flagged_at = now
            advisers = advisers_of(db, request.agency)
            tell(db, [adviser.email for adviser in advisers if adviser.id != request.practitioner_id])
            audit(db, None, "advice.overdue", "advice_request", request.id, advisers=len(advisers))
            flagged += 1
    return flagged
