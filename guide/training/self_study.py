"""Self-study of the case examples: browse and filter, walk the decision points, compare with the guidance."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select

from ..decisions.steps import start_walk, walk_for
from ..guidance import ContentGone
from ..models import TrainingRecord
from ..web import current_user, db, guidance, login_required
from .case_examples import CHILD_AGES, COMPARED_FLOWCHART, CONCERNS, LABELS, SECTORS
from .service import Refused, filter_cases, keep_training_record, study_review

bp = Blueprint("study", __name__, template_folder="templates")


def _case_or_404(case_id: str):
    case = guidance().scenarios.get(case_id)
    if case is None:
        abort(404)
    return case


@bp.app_template_filter("case_label")
def _label(value: str) -> str:
    return LABELS.get(value) or value.replace("_", " ").capitalize()


@bp.get("/cases")
@login_required
def index():
    chosen = {name: [v for v in request.args.getlist(name) if v in allowed]
              for name, allowed in (("sector", SECTORS), ("age", CHILD_AGES), ("concern", CONCERNS))}
    cases = filter_cases(guidance(), chosen["sector"], chosen["age"], chosen["concern"])
    present = list(guidance().scenarios.values())
    facets = {
        "sector": [(v, _label(v)) for v in SECTORS if any(c.sector == v for c in present)],
        "age": [(v, _label(v)) for v in CHILD_AGES if any(c.child_age == v for c in present)],
        "concern": [(v, _label(v)) for v in CONCERNS if any(v in c.concerns for c in present)],
    }
    return render_template("training/cases.html", cases=cases, facets=facets, chosen=chosen)


@bp.get("/cases/<case_id>")
@login_required
def case(case_id: str):
    return render_template("training/case.html", case=_case_or_404(case_id), facts_open=True,
                           compared=guidance().flowchart(COMPARED_FLOWCHART))


@bp.post("/cases/<case_id>/start")
@login_required
def start(case_id: str):
    case = _case_or_404(case_id)
    walk = start_walk(db(), guidance(), current_user(), case.id)
    db().commit()
    return redirect(url_for("walks.step", walk_id=walk.id, question_id=case.decision_points[0].id), 303)


@bp.post("/cases/<case_id>/flowchart")
@login_required
def try_flowchart(case_id: str):
    """Walk the confidentiality flowchart for this case, to compare with the answers the case implies."""
    case = _case_or_404(case_id)
    chart = guidance().flowchart(COMPARED_FLOWCHART)
    walk = start_walk(db(), guidance(), current_user(), chart.id, case_id=case.id)
    db().commit()
    return redirect(url_for("walks.step", walk_id=walk.id, question_id=chart.start), 303)


def _case_walk_or_404(walk_id: str):
    walk = walk_for(db(), walk_id, current_user())
    if walk is not None and walk.flowchart_id not in guidance().machines:
        raise ContentGone(walk.flowchart_id)
    if walk is None or not guidance().is_case(walk.flowchart_id):
        abort(404)
    return walk


@bp.get("/cases/walks/<walk_id>/review")
@login_required
def review(walk_id: str):
    walk = _case_walk_or_404(walk_id)
    try:
        case, reviews = study_review(guidance(), walk)
    except Refused:
        return redirect(url_for("study.case", case_id=walk.flowchart_id))
    kept = db().scalar(select(TrainingRecord).where(TrainingRecord.walk_id == walk.id))
    return render_template("training/case_review.html", walk=walk, case=case, reviews=reviews, kept=kept,
                           agreed=sum(r.agreed for r in reviews))


@bp.post("/cases/walks/<walk_id>/keep")
@login_required
def keep(walk_id: str):
    walk = _case_walk_or_404(walk_id)
    try:
        keep_training_record(db(), guidance(), walk, current_user())
    except Refused:
        abort(409)
    db().commit()
    return redirect(url_for("study.records"), 303)


@bp.get("/training/records")
@login_required
def records():
    rows = list(db().scalars(select(TrainingRecord).where(TrainingRecord.user_id == current_user().id)
                             .order_by(TrainingRecord.created_at.desc())))
    return render_template("training/training_records.html", rows=rows, cases=guidance().scenarios)
