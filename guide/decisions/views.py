"""The "should I share?" journey: one question per page, then the outcome (what to do now, your answers to check,
and the record to save on the same page), and the diagram."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from markupsafe import Markup

from ..records.web_form import record_section
from ..fragments import TypedValues, render_cached_page
from ..records.form import CHOICE_FIELDS
from ..web import current_user, db, guidance, layout_key, login_required
from .start import home_page
from .steps import StepRefused, answer, discard_walk, is_recorded, position, start_walk, walk_for

bp = Blueprint("walks", __name__, template_folder="templates")

REFERENCE_LIMIT = 100  # as on the decision record


@bp.app_context_processor
def _edition_in_templates():
    # Every page about a decision says which edition of the guidance and law it walks (_edition.html).
    return {"current_edition": guidance().content.edition}


def _walk_or_404(walk_id: str, *, cases: bool = False):
    """The signed-in practitioner's walk; case-example walks only where the page serves them."""
    walk = walk_for(db(), walk_id, current_user())
    if walk is None or (guidance().is_case(walk.flowchart_id) and not cases):
        abort(404)
    return walk


def _next_url(walk, where, *, after_change: bool = False) -> str:
    if where.finished:
        if guidance().is_case(walk.flowchart_id):
            return url_for("study.review", walk_id=walk.id)
        return url_for("walks.outcome", walk_id=walk.id)
    return url_for("walks.step", walk_id=walk.id, question_id=where.current.id,
                   **({"change": 1} if after_change else {}))


@bp.post("/flowcharts/<flowchart_id>/start")
@login_required
def start(flowchart_id: str):
    chart = guidance().content.flowcharts.get(flowchart_id) or abort(404)
    reference = request.form.get("subject_ref", "").strip()
    if len(reference) > REFERENCE_LIMIT:
        return render_template("decisions/flowchart_start.html", chart=chart, reference=reference,
                               key_questions=[q for q in chart.questions.values() if q.key],
                               errors={"subject_ref": _too_long_reference()}), 400
    return _begin(flowchart_id, reference)


@bp.post("/start")
@login_required
def start_from_home():
    """The start page's own form: which decision, and (optionally) your reference for the child."""
    chosen = request.form.get("flowchart", "")
    reference = request.form.get("subject_ref", "").strip()
    errors = {}
    if chosen not in {chart.id for chart in guidance().listed_flowcharts()}:
        errors["flowchart"] = "Select what you need to decide"
    if len(reference) > REFERENCE_LIMIT:
        errors["subject_ref"] = _too_long_reference()
    if errors:
        return home_page(errors, chosen=chosen, reference=reference[:REFERENCE_LIMIT * 2])
    return _begin(chosen, reference)


def _too_long_reference() -> str:
    return f"The reference must be {REFERENCE_LIMIT} characters or fewer"


def _begin(flowchart_id: str, reference: str):
    try:
        walk = start_walk(db(), guidance(), current_user(), flowchart_id, subject_ref=reference)
    except StepRefused:
        abort(404)
    db().commit()
    return redirect(url_for("walks.step", walk_id=walk.id, question_id=guidance().flowchart(flowchart_id).start), 303)


@bp.route("/walks/<walk_id>/<question_id>", methods=["GET", "POST"])
@login_required
def step(walk_id: str, question_id: str):
    walk = _walk_or_404(walk_id, cases=True)
    case = guidance().scenarios.get(walk.flowchart_id)
    chart = guidance().flowchart(walk.flowchart_id)
    where = position(guidance(), walk)
    question = chart.questions.get(question_id)
    if question is None:
        abort(404)
    changing = request.values.get("change") == "1"
    error, status = None, 200
    if request.method == "POST":
        try:
            where = answer(db(), guidance(), walk, current_user(), question_id, request.form.get("answer", ""))
        except StepRefused as refused:
            db().rollback()
            if refused.status != 400:
                return render_template("refused.html", message=refused.message, walk=walk,
                                       resume_url=_next_url(walk, position(guidance(), walk))), refused.status
            error, status = refused.message, 400
        else:
            db().commit()
            return redirect(_next_url(walk, where, after_change=changing), 303)
    elif not where.on_path(question_id):
        # A question further on than the walk has reached: skipping ahead is not allowed.
        return render_template("refused.html", walk=walk, resume_url=_next_url(walk, where),
                               message="You cannot skip ahead to that question. "
                                       "Answer the questions in order."), 409
    path_ids = [q.id for q, _ in where.path]
    index = path_ids.index(question_id) if question_id in path_ids else len(path_ids)
    if changing:
        back_url = url_for("walks.outcome", walk_id=walk.id) + "#answers"
    elif index > 0:
        back_url = url_for("walks.step", walk_id=walk.id, question_id=path_ids[index - 1])
    elif case:
        back_url = url_for("study.case", case_id=case.id)
    else:
        back_url = url_for("pages.flowchart", flowchart_id=chart.id)
    selected = request.form.get("answer") if error else (walk.answers or {}).get(question_id)
    recorded = is_recorded(db(), walk)
    context = dict(walk=walk, chart=chart, question=question, error=error, changing=changing, selected=selected,
                   back_url=back_url, step_number=index + 1, recorded=recorded, case=case)
    if error:
        return render_template("decisions/question.html", **context), status
    # The same question, answer and place on the path give the same page: kept whole, the walk's id and
    # what differs per request or user put back in (guide/fragments.py).
    return render_cached_page(
        "decisions/question.html",
        (chart.id, question.id, selected, changing, index, recorded, case.id if case else None,
         back_url.replace(walk.id, "")), layout_key(), stand_ins={walk.id: "walk"}, **context)


@bp.post("/walks/<walk_id>/discard")
@login_required
def discard(walk_id: str):
    """Throw away an unfinished walk from "carry on where you left off"; a recorded one is kept."""
    walk = _walk_or_404(walk_id)
    if is_recorded(db(), walk):
        return render_template("refused.html", walk=None, resume_url=url_for("pages.home"),
                               message="This walk has been saved as a decision record, so it cannot be discarded."), 409
    discard_walk(db(), walk, current_user())
    db().commit()
    return redirect(url_for("pages.home"), 303)


@bp.get("/walks/<walk_id>/check")
@login_required
def check(walk_id: str):
    # Your answers are checked on the outcome page now, beside the record they go into; old links land there.
    walk = _walk_or_404(walk_id)
    return redirect(url_for("walks.outcome", walk_id=walk.id) + "#answers")


@bp.get("/walks/<walk_id>/outcome")
@login_required
def outcome(walk_id: str):
    walk = _walk_or_404(walk_id)
    where = position(guidance(), walk)
    if not where.finished:
        return redirect(_next_url(walk, where))
    return outcome_page(walk, where)


def outcome_page(walk, where, *, values: dict | None = None, errors: dict | None = None, status: int = 200):
    """What to do now, then your answers and the record to save (with what the walk knows filled in)."""
    chart = guidance().flowchart(walk.flowchart_id)
    recorded = is_recorded(db(), walk)
    section = None if (chart.is_process or recorded) else record_section(walk, where, values=values, errors=errors)
    compared = guidance().scenarios.get(walk.case_id) if walk.case_id else None
    # Kept whole in the page cache: the same answers (choices, never text) give the same page; the record's
    # typed fields, the walk's id and what differs per request or user are put back in (guide/fragments.py).
    typed = TypedValues(section["values"], CHOICE_FIELDS) if section else None
    key = (chart.id, tuple(sorted((walk.answers or {}).items())), recorded, compared.id if compared else None,
           (tuple(sorted(section["errors"].items())), tuple(sorted(section["settled"].items())), typed.key)
           if section else None)
    return render_cached_page("decisions/outcome.html", key, layout_key(), stand_ins={walk.id: "walk"}, typed=typed,
                              walk=walk, where=where, chart=chart,
                              decision=guidance().content.decisions.get(where.outcome.decision),
                              next_chart=guidance().content.flowcharts.get(where.outcome.next_flowchart),
                              recorded=recorded, record=section, compared=compared), status


@bp.get("/walks/<walk_id>/diagram")
@login_required
def walk_diagram(walk_id: str):
    walk = _walk_or_404(walk_id)
    where = position(guidance(), walk)
    here = where.outcome.id if where.finished else where.current.id
    return _diagram_page(walk.flowchart_id, [q.id for q, _ in where.path], here, walk=walk, where=where)


@bp.get("/flowcharts/<flowchart_id>/diagram")
@login_required
def diagram(flowchart_id: str):
    if flowchart_id not in guidance().content.flowcharts:
        abort(404)
    return _diagram_page(flowchart_id, [], None)


def _diagram_page(flowchart_id, path, here, walk=None, where=None):
    svg = guidance().diagram(flowchart_id, path, here)
    if request.args.get("full") == "1":
        # The drawing alone, to zoom into on a phone (the page fits it to the screen's width).
        return Response(svg, mimetype="image/svg+xml")
    chart = guidance().flowchart(flowchart_id)
    return render_template("decisions/diagram.html", chart=chart, walk=walk, where=where, path=path, here=here,
                           svg=Markup(svg))
