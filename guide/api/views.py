"""JSON API for agencies' case-management systems: the same walk and record rules as the web pages."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, g, jsonify, request

from ..accounts.users import user_for_token
from ..audit import audit
from ..decisions.steps import StepRefused, answer, position, start_walk, walk_for
from ..flows import Question, WalkPosition
from ..models import DecisionRecord, utc_iso
from ..records.form import RecordInvalid
from ..records.saving import save_record
from ..records.visibility import can_view, visible_records
from ..web import db, encodable, guidance
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The largest OFFSET the databases take (a signed 64-bit integer, SQLite's and PostgreSQL's bigint).
MAX_OFFSET = 2**63 - 1


def _problem(status: int, detail: str, **extra):
    response = jsonify({"error": {"status": status, "detail": detail, **extra}})
    response.status_code = status
    return response


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        user = user_for_token(db(), token) if token else None
        if user is None:
            return _problem(401, "Send a valid API token: Authorization: Bearer <token>")
        g.api_user = user
        return view(*args, **kwargs)
    return wrapped


def _body() -> dict:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # JSON nested deeper than the parser goes (a thousand arrays deep)
        data = None
    if not isinstance(data, dict) or not _printable_json(data):
        abort(_problem(400, "Send a JSON object with Content-Type: application/json (UTF-8 text, nested no deeper than 32 levels)"))
    return data


def _printable_json(value, depth: int = 0) -> bool:
    """No lone surrogate (it cannot be stored or encrypted as UTF-8), no nesting past 32 levels:
    nothing the API takes is nested deeper than a list in an object."""
    if depth > 32:
        return False
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, dict):
        return all(encodable(key) and _printable_json(item, depth + 1) for key, item in value.items())
    if isinstance(value, list):
        return all(_printable_json(item, depth + 1) for item in value)
    return True


def question_json(question: Question) -> dict:
    return {
        "id": question.id, "text": question.text, "hint": question.hint, "help": question.help,
        "cite": question.cite, "key": question.key,
        "answers": [{"value": a.value, "label": a.label} for a in question.answers],
    }


def walk_json(walk, where: WalkPosition) -> dict:
    outcome = None
    if where.finished:
        outcome = {"id": where.outcome.id, "decision": where.outcome.decision, "title": where.outcome.title,
                   "body": where.outcome.body, "cite": where.outcome.cite, "reasons": where.reasons()}
    return {
        "id": walk.id, "flowchart": walk.flowchart_id, "content_version": walk.content_version,
        "answers": [{"question": q.id, "answer": v} for q, v in where.path],
        "question": question_json(where.current) if where.current else None,
        "outcome": outcome,
    }


def record_json(record: DecisionRecord) -> dict:
    body = record.body
    return {
        "id": record.id, "reference": record.reference, "version": record.version,
        "supersedes": record.supersedes_id, "created_at": utc_iso(record.created_at),
        "flowchart": record.flowchart_id, "content_version": record.content_version,
        "walk": record.walk_id, "agency": record.agency, "team": record.team,
        "subject_ref": record.subject_ref, "decision": record.decision, "outcome": body["outcome"],
        "consent_position": record.consent_position, "author": body["author"],
        "answers": body["answers"], "details": body["details"], "correction_reason": record.correction_reason,
        "edition": body.get("edition"),
        "advice": body.get("advice", []),  # what advisers said on the walk, frozen with the record
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(guidance()))


@bp.get("/flowcharts")
@token_required
def flowcharts():
    return jsonify({"flowcharts": [
        {"id": c.id, "title": c.title, "summary": c.summary, "cite": c.cite, "start": c.start}
        for c in guidance().content.flowcharts.values()
    ], "content_version": guidance().version})


@bp.post("/walks")
@token_required
def create_walk():
    data = _body()
    flowchart_id = data.get("flowchart")
    if not isinstance(flowchart_id, str) or flowchart_id not in guidance().content.flowcharts:
        return _problem(400, "Give 'flowchart': one of " + ", ".join(guidance().content.flowcharts))
    walk = start_walk(db(), guidance(), g.api_user, flowchart_id)
    db().commit()
    return jsonify(walk_json(walk, position(guidance(), walk))), 201


def _api_walk(walk_id: str):
    walk = walk_for(db(), walk_id, g.api_user, for_update=request.method == "POST")
    if walk is None:
        abort(_problem(404, "No such walk"))
    return walk


@bp.get("/walks/<walk_id>")
@token_required
def get_walk(walk_id: str):
    walk = _api_walk(walk_id)
    return jsonify(walk_json(walk, position(guidance(), walk)))


@bp.post("/walks/<walk_id>/answers")
@token_required
def post_answer(walk_id: str):
    data = _body()
    walk = _api_walk(walk_id)
    question_id, value = data.get("question"), data.get("answer")
    if not isinstance(question_id, str) or not isinstance(value, str):
        return _problem(400, "Give 'question' (the current question's id) and 'answer' (one of its answer values)")
    try:
        where = answer(db(), guidance(), walk, g.api_user, question_id, value, allow_change=False)
    except StepRefused as refused:
        db().rollback()
        current = position(guidance(), walk).current
        # The walk was found: a question id that is not in its flowchart is a bad body, not a missing resource
        # (the web pages answer 404 for it because there the question is part of the address).
        status = 400 if refused.status == 404 else refused.status
        return _problem(status, refused.message, current_question=current.id if current else None)
    db().commit()
    return jsonify(walk_json(walk, where))


@bp.post("/walks/<walk_id>/record")
@token_required
def post_record(walk_id: str):
    data = _body()
    walk = _api_walk(walk_id)
    try:
        record = save_record(db(), guidance(), walk, g.api_user, data)
    except RecordInvalid as invalid:
        db().rollback()
        return _problem(422, "The record is not complete", fields=invalid.errors)
    except StepRefused as refused:
        db().rollback()
        return _problem(refused.status, refused.message)
    db().commit()
    return jsonify(record_json(record)), 201


@bp.get("/records/<record_id>")
@token_required
def get_record(record_id: str):
    record = db().get(DecisionRecord, record_id)
    if record is None or not can_view(g.api_user, record):
        return _problem(404, "No such record")
    audit(db(), g.api_user.id, "record.view", "decision_record", record.id, via="api")
    db().commit()
    return jsonify(record_json(record))


@bp.get("/records")
@token_required
def list_records():
    try:
        limit = int(request.args.get("limit", 50))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        limit = offset = -1
    if not 1 <= limit <= 500 or not 0 <= offset <= MAX_OFFSET:
        # As documented: out of range is refused, not quietly clamped to another page than was asked for.
        return _problem(400, f"limit must be a whole number from 1 to 500, and offset one from 0 to {MAX_OFFSET}")
    rows, total = visible_records(db(), g.api_user, limit=limit, offset=offset)
    return jsonify({"total": total, "limit": limit, "offset": offset, "records": [record_json(r) for r in rows]})
