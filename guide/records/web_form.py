"""The record form on the web: what a posted form says, and the record section under an outcome.

A new record is saved from the outcome page itself: what the walk already knows (the consent
position, the legal basis, the date) is filled in or taken from the answers shown above the form,
so the practitioner writes only what the guide cannot know. The checks are the API's
(form.check_details); only the reading of the web form lives here.
"""

from __future__ import annotations

from flask import request, session, url_for

from ..models import IndexContactsDraft, Walk
from ..web import db, guidance
from .form import BASES, CONSENT_POSITIONS, SHARE_METHODS, YES_NO, known_from_walk

# Record fields the walk's answers settle: not asked again on a new record (change the answer instead).
SETTLED_BY_ANSWERS = ("consent_position", "basis")


def form_values() -> dict:
    """The posted form as the checks expect it: lists for checkboxes, one ISO date from day/month/year.

    The sharing checklist is confirmed with one declaration ("checklist_confirmed"), which stands for
    every point listed beside it; the API and older forms may still send the points one by one."""
    raw = {key: value for key, value in request.form.items()}
    raw["checklist"] = request.form.getlist("checklist")
    if request.form.get("checklist_confirmed") == "yes":
        raw["checklist"] = [item.id for item in guidance().content.sharing_checklist]
    day, month, year = (request.form.get(f"shared_on-{part}", "").strip() for part in ("day", "month", "year"))
    if day or month or year:
        raw["shared_on"] = f"{year.zfill(4)}-{month.zfill(2)}-{day.zfill(2)}" if (
            day.isdigit() and month.isdigit() and year.isdigit()) else "invalid"
    return raw


def _options(mapping: dict) -> list[dict]:
    return [{"value": value, "text": text} for value, text in mapping.items()]


def form_context(decision_id: str) -> dict:
    """What the record fields need to be drawn for a decision."""
    return {
        "decision": guidance().content.decisions[decision_id],
        "checklist": guidance().content.sharing_checklist,
        "consent_positions": _options(CONSENT_POSITIONS), "share_methods": _options(SHARE_METHODS),
        "bases": _options(BASES), "yes_no": _options(YES_NO),
    }


def settled_by_answers(walk: Walk) -> dict:
    """The record fields this walk's answers settle (consent position, legal basis)."""
    known = known_from_walk(walk.answers or {})
    return {name: known[name] for name in SETTLED_BY_ANSWERS if name in known}


def new_record_values(walk: Walk) -> dict:
    """A new record's fields before the practitioner writes anything: what the walk and the index know."""
    values = known_from_walk(walk.answers or {})
    if walk.subject_ref:
        values["subject_ref"] = walk.subject_ref
    copied = db().get(IndexContactsDraft, walk.id)  # contacts copied from the index, if any (index/views.py)
    values["other_practitioners"] = copied.contacts if copied else ""
    return values


def posted_new_record(walk: Walk) -> dict:
    """The posted form for a new record, with the fields the answers settle taken from the answers."""
    return {**form_values(), **settled_by_answers(walk)}


def _draft_key(walk: Walk) -> str:
    return f"record_draft:{walk.id}"


def keep_draft(walk: Walk) -> None:
    """Keep what was typed into the record while the practitioner changes an answer above it.

    Kept in the server-side session (encrypted at rest like every session's data, never in the
    cookie) and dropped when the record is saved or the session ends."""
    session[_draft_key(walk)] = {key: value for key, value in form_values().items() if key != "csrf_token"}


def drop_draft(walk: Walk) -> None:
    session.pop(_draft_key(walk), None)


def record_section(walk: Walk, where, *, values: dict | None = None, errors: dict | None = None) -> dict:
    """The record part of an outcome page: its fields, values, errors and where it posts."""
    settled = settled_by_answers(walk)
    if values is None:
        values = {**new_record_values(walk), **session.get(_draft_key(walk), {})}
    return {"values": values, "errors": errors or {},
            "settled": settled, "action": url_for("records.new", walk_id=walk.id),
            "labels": {"consent_position": CONSENT_POSITIONS, "basis": BASES},
            **form_context(where.outcome.decision)}
