"""The start pages: what the guide offers, and each flowchart's start page."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, send_from_directory
from sqlalchemy import select

from ..models import DecisionRecord, Walk
from ..web import current_user, db, guidance, login_required
from .steps import position

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/")
@login_required
def home():
    return home_page()


def home_page(errors: dict | None = None, chosen: str = "", reference: str = ""):
    """The start page: what do you need to decide (started from here), and what you left unfinished."""
    user = current_user()
    recent = list(db().scalars(
        select(Walk).where(Walk.user_id == user.id,
                           ~select(DecisionRecord.id).where(DecisionRecord.walk_id == Walk.id).exists())
        .order_by(Walk.updated_at.desc()).limit(5)))
    unfinished = []
    for walk in recent:
        chart = guidance().content.flowcharts.get(walk.flowchart_id)
        if chart is not None:
            unfinished.append((walk, chart, position(guidance(), walk)))
    return render_template("decisions/home.html", flowcharts=guidance().listed_flowcharts(), unfinished=unfinished,
                           errors=errors or {}, chosen=chosen, reference=reference), (400 if errors else 200)


@bp.get("/flowcharts/<flowchart_id>")
@login_required
def flowchart(flowchart_id: str):
    chart = guidance().content.flowcharts.get(flowchart_id)
    if chart is None:
        abort(404)
    key_questions = [q for q in chart.questions.values() if q.key]
    return render_template("decisions/flowchart_start.html", chart=chart, key_questions=key_questions)


@bp.get("/healthz")
def healthz():
    return {"status": "ok", "content_version": guidance().version}


@bp.get("/assets/<path:filename>")
def govuk_assets(filename: str):
    # GOV.UK Frontend's stylesheet asks for its fonts and images under /assets.
    return send_from_directory(Path(current_app.static_folder) / "vendor" / "govuk" / "assets", filename,
                               max_age=86400)
