"""The JSON API's advice and sign-off operations: the same rules as the pages (guide/advice/)."""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, request

from ..advice import asking, signoff
from ..advice.asking import AdviceInvalid
from ..decisions.steps import StepRefused, walk_for
from ..models import DecisionRecord, utc_iso
from ..web import db, guidance
from .views import _body, _problem, token_required

bp = Blueprint("advice_api", __name__, url_prefix="/api/v1")


def request_json(advice_request, *, with_messages: bool = False) -> dict:
    """A request as its viewer may see it: the child's reference only when the practitioner named the child."""
    hours = asking.waited(guidance(), advice_request)
    data = {
        "id": advice_request.id, "walk": advice_request.walk_id if g.api_user.id == advice_request.practitioner_id else None,
        "practitioner": asking.who(advice_request.practitioner), "adviser": asking.who(advice_request.adviser),
        "question": advice_request.question_id or None, "named": advice_request.named,
        "subject_ref": advice_request.subject_ref if advice_request.named else None,
        "urgent": advice_request.urgent, "state": advice_request.state, "created_at": utc_iso(advice_request.created_at),
        "waiting_hours": None if hours is None else round(hours, 2),
        "overdue": asking.is_overdue(guidance(), advice_request),
    }
    if with_messages:
        data["messages"] = [{"kind": m.kind, "author": m.author_snapshot, "text": m.text, "suggestion": m.suggestion,
                             "at": utc_iso(m.at)} for m in asking.messages(db(), advice_request)]
    return data


def _attempt(step, answer, status: int = 200):
    """Run a step; commit and answer with its JSON, or refuse (422 with each field, or the refusal's status)."""
    try:
        result = step()
    except AdviceInvalid as invalid:
        db().rollback()
        return _problem(422, "The request is not complete", fields=invalid.errors)
    except StepRefused as refused:
        db().rollback()
        return _problem(refused.status, refused.message)
    db().commit()
    return jsonify(answer(result)), status


@bp.get("/advisers")
@token_required
def advisers():
    return jsonify({"advisers": [{"id": a.id, **asking.who(a)} for a in asking.advisers_of(db(), g.api_user.agency)
                                 if a.id != g.api_user.id]})


@bp.post("/walks/<walk_id>/advice-requests")
@token_required
def ask(walk_id: str):
    data = _body()
    walk = walk_for(db(), walk_id, g.api_user)
    if walk is None:
        return _problem(404, "No such walk of yours")
    return _attempt(lambda: asking.ask(db(), guidance(), walk, g.api_user, {**data, "question_id": data.get("at_question")}),
                    lambda made: request_json(made, with_messages=True), 201)


@bp.get("/advice-requests")
@token_required
def list_requests():
    return jsonify({"asked": [request_json(r) for r in asking.asked_by(db(), g.api_user)],
                    "queue": [request_json(r) for r in asking.queue(db(), g.api_user)],
                    "awaiting_countersignature": [r.id for r in signoff.awaiting(db(), g.api_user)]})


def _api_request(request_id: str):
    found = asking.request_for(db(), request_id, g.api_user)
    if found is None:
        abort(_problem(404, "No such request for advice"))
    return found


@bp.get("/advice-requests/<request_id>")
@token_required
def get_request(request_id: str):
    advice_request = _api_request(request_id)
    asking.seen(db(), advice_request, g.api_user)
    db().commit()
    return jsonify(request_json(advice_request, with_messages=True))


@bp.post("/advice-requests/<request_id>/messages")
@token_required
def post_message(request_id: str):
    data = _body()
    advice_request = _api_request(request_id)
    return _attempt(lambda: asking.add_message(db(), guidance(), advice_request, g.api_user, data),
                    lambda _: request_json(advice_request, with_messages=True), 201)


@bp.post("/advice-requests/<request_id>/close")
@token_required
def close_request(request_id: str):
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    advice_request = _api_request(request_id)
    return _attempt(lambda: asking.close(db(), advice_request, g.api_user, data),
                    lambda _: request_json(advice_request, with_messages=True))


@bp.post("/records/<record_id>/countersignature")
@token_required
def countersign(record_id: str):
    data = _body()
    record = db().get(DecisionRecord, record_id) if len(record_id) <= 32 else None
    if record is None or not signoff.may_review(g.api_user, record) or signoff.signoff_of(db(), record.id).state == "":
        return _problem(404, "No such record awaiting your countersignature")
    return _attempt(lambda: signoff.countersign(db(), guidance(), record, g.api_user, data), signoff_json, 201)


def signoff_json(row) -> dict:
    return {"state": row.state, "by": row.signer or None, "note": row.note, "at": utc_iso(row.at), "record": row.record_id}


@bp.get("/records/<record_id>/countersignature")
@token_required
def get_countersignature(record_id: str):
    from ..records.visibility import can_view
    record = db().get(DecisionRecord, record_id) if len(record_id) <= 32 else None
    if record is None or not (can_view(g.api_user, record) or signoff.may_review(g.api_user, record)):
        return _problem(404, "No such record")
    status = signoff.signoff_of(db(), record.id)
    return jsonify({"record": record.id, "state": status.state or "not_required",
                    "rule": status.required.rule if status.required else None,
                    "outcome": signoff_json(status.done) if status.done else None})
