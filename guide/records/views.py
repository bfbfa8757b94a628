"""Decision records on the web: the form after an outcome, the confirmation, viewing, printing, correcting."""

from __future__ import annotations

from datetime import date
from itertools import chain

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from ..advice import signoff
from ..advice.signoff import states_of
from ..audit import audit
from ..decisions.steps import StepRefused, position, walk_for
from ..decisions.views import outcome_page
from ..fragments import render_cached_page
from ..models import DecisionRecord
from ..web import current_user, db, guidance, layout_key, login_required
from .export_formats import csv_rows, json_rows, pdf
from .form import BASES, CHOICE_FIELDS, CONSENT_POSITIONS, SHARE_METHODS, YES_NO, RecordInvalid
from .saving import correct_record, latest_version, save_record, versions
from .visibility import RecordFilter, can_view, records_page, visible_records
from .web_form import drop_draft, form_context, form_values, keep_draft, posted_new_record

bp = Blueprint("records", __name__, template_folder="templates")


@bp.app_context_processor
def _record_fields_in_templates():
    # The record fields partial (records/_record_fields.html) is drawn on the outcome and correction pages.
    return {"record_choices": CHOICE_FIELDS}

PAGE_SIZE = 25


@bp.route("/walks/<walk_id>/record", methods=["GET", "POST"])
@login_required
def new(walk_id: str):
    """Save a new record. Its form is on the outcome page; a problem shows that page again with the errors."""
    walk = walk_for(db(), walk_id, current_user())
    if walk is None:
        abort(404)
    where = position(guidance(), walk)
    if not where.finished:
        return redirect(url_for("walks.step", walk_id=walk.id, question_id=where.current.id))
    if request.method == "GET":
        return redirect(url_for("walks.outcome", walk_id=walk.id) + "#record")
    values = posted_new_record(walk)
    try:
        record = save_record(db(), guidance(), walk, current_user(), values)
    except RecordInvalid as invalid:
        db().rollback()
        return outcome_page(walk, where, values=values, errors=invalid.errors, status=400)
    except StepRefused as refused:
        db().rollback()
        return render_template("refused.html", message=refused.message, walk=walk,
                               resume_url=url_for("records.index")), refused.status
    db().commit()
    drop_draft(walk)
    return redirect(url_for("records.saved", record_id=record.id), 303)


@bp.post("/walks/<walk_id>/record/change/<question_id>")
@login_required
def change_answer(walk_id: str, question_id: str):
    """A Change link beside the record form: keep what was typed, then go to the question."""
    walk = walk_for(db(), walk_id, current_user())
    if walk is None or guidance().is_case(walk.flowchart_id):
        abort(404)
    if question_id not in {question.id for question, _ in position(guidance(), walk).path}:
        abort(404)
    keep_draft(walk)
    return redirect(url_for("walks.step", walk_id=walk.id, question_id=question_id, change=1), 303)


def _visible_or_404(record_id: str) -> DecisionRecord:
    record = db().get(DecisionRecord, record_id)
    if record is None or not can_view(current_user(), record):
        # The same answer whether it does not exist or is not yours: no probing for records.
        abort(404)
    return record


@bp.get("/records/<record_id>/saved")
@login_required
def saved(record_id: str):
    record = _visible_or_404(record_id)
    # What to do now, again: the record is saved, the child may still need the referral or the call.
    chart = guidance().content.flowcharts.get(record.flowchart_id)
    outcome = chart.outcomes.get(record.outcome_id) if chart else None
    signoff_state = signoff.signoff_of(db(), record.id)
    # Kept whole in the page cache: the same outcome, version and countersignature give the same page; the
    # record's id and reference are put back in (guide/fragments.py).
    key = (record.flowchart_id, record.outcome_id, record.content_version, record.version,
           record.body["outcome"]["title"], record.body["outcome"].get("next_flowchart"),
           signoff_state.state, signoff_state.required.rule if signoff_state.required else None)
    return render_cached_page("records/record_saved.html", key, layout_key(),
                              stand_ins={record.id: "record", record.reference: "reference"},
                              record=record, actions=list(getattr(outcome, "actions", None) or []))


@bp.get("/records/<record_id>")
@login_required
def show(record_id: str):
    record = _visible_or_404(record_id)
    audit(db(), current_user().id, "record.view", "decision_record", record.id, reference=record.reference,
          version=record.version)
    db().commit()
    latest = latest_version(db(), record.reference)
    return render_template("records/record.html", record=record, details=record.body["details"],
                           versions=versions(db(), record.reference), latest=latest,
                           can_correct=latest.id == record.id and record.author_id == current_user().id,
                           labels={"consent": CONSENT_POSITIONS, "method": SHARE_METHODS, "basis": BASES, "yes_no": YES_NO},
                           checklist=guidance().content.sharing_checklist,
                           print_view=request.args.get("print") == "1")


@bp.route("/records/<record_id>/correct", methods=["GET", "POST"])
@login_required
def correct(record_id: str):
    record = _visible_or_404(record_id)
    errors = {}
    values = dict(record.body["details"])
    if values.get("shared_on"):
        year, month, day = values["shared_on"].split("-")
        values.update({"shared_on-day": day, "shared_on-month": month, "shared_on-year": year})
    if request.method == "POST":
        values = form_values()
        try:
            new_version = correct_record(db(), guidance(), record, current_user(), values)
        except RecordInvalid as invalid:
            db().rollback()
            errors = invalid.errors
        except StepRefused as refused:
            db().rollback()
            return render_template("refused.html", message=refused.message, walk=None,
                                   resume_url=url_for("records.show", record_id=record.id)), refused.status
        else:
            db().commit()
            return redirect(url_for("records.saved", record_id=new_version.id), 303)
    return render_template("records/record_form.html", walk=None, where=None, errors=errors, values=values,
                           action=url_for("records.correct", record_id=record.id), correcting=record,
                           **form_context(record.decision)), (400 if errors else 200)


PDF_BUNDLE_LIMIT = 200


def _filters(errors: dict | None = None) -> RecordFilter:
    """Filters from the query string. A date that does not exist is named in `errors` (when given)
    and not applied; anything else malformed is ignored rather than guessed."""
    args = request.args

    def day(name, label):
        # A GOV.UK date input (name-day, name-month, name-year), or an ISO date in links and exports.
        parts = [args.get(f"{name}-{part}", "").strip() for part in ("year", "month", "day")]
        try:
            if any(parts):
                return date(*(int(part) for part in parts))
            return date.fromisoformat(args.get(name, ""))
        except (ValueError, TypeError):
            if errors is not None and (any(parts) or args.get(name)):
                errors[name] = f"{label} must be a real date, for example 3 12 2026"
            return None

    return RecordFilter(
        date_from=day("from", "Recorded from"), date_to=day("to", "Recorded to"), team=args.get("team", "")[:200],
        flowchart=args.get("flowchart", "")[:64], decision=args.get("decision", "")[:64],
        consent=args.get("consent", "")[:32], author=args.get("author", "")[:100],
        subject_ref=args.get("subject", "")[:100], all_versions=bool(args.get("subject")))


@bp.get("/records")
@login_required
def index():
    errors: dict[str, str] = {}
    wanted = _filters(errors)
    page = records_page(db(), current_user(), wanted, PAGE_SIZE,
                        after=request.args.get("after", "")[:80], before=request.args.get("before", "")[:80])
    rows, total = page.rows, page.total
    if wanted.subject_ref:
        # The child's reference goes in the (encrypted) detail, not the object id, which is in clear.
        audit(db(), current_user().id, "record.subject_access", "subject", "-", subject_ref=wanted.subject_ref,
              count=total)
        db().commit()
    query = {k: v for k, v in request.args.items() if k not in ("page", "after", "before")}
    return render_template("records/records.html", records=rows, total=total, page=page, wanted=wanted, query=query,
                           signoffs=states_of(db(), [record.id for record in rows]),
                           decisions=guidance().content.decisions,
                           flowcharts=guidance().content.flowcharts, consent_positions=CONSENT_POSITIONS,
                           pdf_limit=PDF_BUNDLE_LIMIT, errors=errors), (400 if errors else 200)


def _export_audit(kind: str, wanted: RecordFilter) -> None:
    audit(db(), current_user().id, "record.export", "decision_record", "*", format=kind, filters=wanted.as_dict())
    db().commit()


@bp.get("/records/export.csv")
@login_required
def export_csv():
    wanted = _filters()
    _export_audit("csv", wanted)
    return Response(stream_with_context(_first_read(csv_rows(db(), current_user(), wanted))), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=decision-records.csv"})


def _first_read(chunks):
    """The first chunk (hundreds of records) is read before the download starts, so a value that does not
    open (tampered with in the database) gets the error page rather than a download cut short."""
    first = next(chunks, None)
    return chain([] if first is None else [first], chunks)


@bp.get("/records/export.json")
@login_required
def export_json():
    from ..api.views import record_json
    wanted = _filters()
    _export_audit("json", wanted)
    return Response(stream_with_context(json_rows(db(), current_user(), wanted, record_json)),
                    mimetype="application/json",
                    headers={"Content-Disposition": "attachment; filename=decision-records.json"})


@bp.get("/records/export.pdf")
@login_required
def export_pdf():
    wanted = _filters()
    rows, total = visible_records(db(), current_user(), limit=PDF_BUNDLE_LIMIT + 1, wanted=wanted)
    if total > PDF_BUNDLE_LIMIT:
        abort(413)
    _export_audit("pdf", wanted)
    return Response(pdf(rows, guidance().content.sharing_checklist), mimetype="application/pdf",
                    headers={"Content-Disposition": "attachment; filename=decision-records.pdf"})


@bp.get("/records/<record_id>.pdf")
@login_required
def record_pdf(record_id: str):
    record = _visible_or_404(record_id)
    audit(db(), current_user().id, "record.export", "decision_record", record.id, format="pdf")
    db().commit()
    return Response(pdf([record], guidance().content.sharing_checklist), mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename={record.reference}-v{record.version}.pdf"})
