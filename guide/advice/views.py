"""Advice and sign-off pages: ask, the conversation, the advisers' queue, countersigning; the header count."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup, escape

from ..fragments import add_request_value, request_value
from ..decisions.steps import StepRefused, position, walk_for
from ..models import DecisionRecord, Walk
from ..web import current_user, db, guidance, login_required
from . import asking, signoff
from .asking import ADVISER_KINDS, KINDS, AdviceInvalid
from .notify import init_notify
from .waiting import describe_hours

bp = Blueprint("advice", __name__, url_prefix="/advice", template_folder="templates")


def _refused(refused: StepRefused, resume_url: str | None):
    db().rollback()
    return render_template("refused.html", message=refused.message, walk=None, resume_url=resume_url), refused.status


def _take_step(step, done_url, refused_url: str):
    """Run a step that may be refused: (the redirect after it, or the refusal page; or None) and the form's errors."""
    try:
        result = step()
    except AdviceInvalid as invalid:
        db().rollback()
        return None, invalid.errors
    except StepRefused as refused:
        return _refused(refused, refused_url), {}
    db().commit()
    return redirect(done_url(result), 303), {}


def _own_walk_or_404(walk_id: str) -> Walk:
    walk = walk_for(db(), walk_id, current_user())
    if walk is None or guidance().is_case(walk.flowchart_id):
        abort(404)  # the same answer for someone else's walk and one that does not exist
    return walk


@bp.route("/ask/<walk_id>", methods=["GET", "POST"])
@login_required
def ask(walk_id: str):
    walk = _own_walk_or_404(walk_id)
    where = position(guidance(), walk)
    question_id = request.values.get("question_id", "")[:64]
    question = guidance().flowchart(walk.flowchart_id).questions.get(question_id) if question_id else None
    advisers = [a for a in asking.advisers_of(db(), current_user().agency) if a.id != current_user().id]
    errors, values = {}, {"question_id": question_id}
    if request.method == "POST":
        values = request.form.to_dict()
        response, errors = _take_step(lambda: asking.ask(db(), guidance(), walk, current_user(), values),
                                      lambda made: url_for("advice.show", request_id=made.id), url_for("advice.index"))
        if response:
            return response
    back = (url_for("walks.step", walk_id=walk.id, question_id=question.id) if question
            else url_for("walks.outcome", walk_id=walk.id) if where.finished else url_for("pages.home"))
    return render_template("advice/ask.html", walk=walk, where=where, question=question, advisers=advisers,
                           errors=errors, values=values, back=back), (400 if errors else 200)


def _request_or_404(request_id: str):
    found = asking.request_for(db(), request_id, current_user())
    if found is None:
        abort(404)
    return found


@bp.get("/requests/<request_id>")
@login_required
def show(request_id: str):
    advice_request = _request_or_404(request_id)
    asking.seen(db(), advice_request, current_user())
    db().commit()
    return _request_page(advice_request, {}, {})


def _request_page(advice_request, errors: dict, values: dict, status: int = 200):
    walk = db().get(Walk, advice_request.walk_id)
    chart = guidance().flowchart(walk.flowchart_id)
    where = position(guidance(), walk)
    user = current_user()
    is_practitioner = user.id == advice_request.practitioner_id
    path = [q.id for q, _ in where.path]
    here = where.outcome.id if where.finished else (where.current.id if where.current else None)
    return render_template(
        "advice/request.html", advice_request=advice_request, walk=walk, chart=chart, where=where,
        messages=asking.messages(db(), advice_request), is_practitioner=is_practitioner,
        asked_at=chart.questions.get(advice_request.question_id) if advice_request.question_id else None,
        waited=asking.waited(guidance(), advice_request), overdue=asking.is_overdue(guidance(), advice_request),
        describe_hours=describe_hours, kinds=KINDS, adviser_kinds=ADVISER_KINDS, errors=errors, values=values,
        # The adviser sees the practitioner's path on the flowchart, drawn on the server as SVG.
        svg=None if is_practitioner or chart.id not in guidance().content.flowcharts
        else Markup(guidance().diagram(chart.id, path, here)),
    ), status


@bp.post("/requests/<request_id>/messages")
@login_required
def message(request_id: str):
    advice_request = _request_or_404(request_id)
    values = request.form.to_dict()
    if values.get("suggest"):  # "question=answer" from the page's list of answers the adviser would give
        values["suggest_question"], _, values["suggest_answer"] = values["suggest"].partition("=")
    here = url_for("advice.show", request_id=advice_request.id)
    response, errors = _take_step(lambda: asking.add_message(db(), guidance(), advice_request, current_user(), values),
                                  lambda _: here, here)
    return response or _request_page(advice_request, errors, values, 400)


@bp.post("/requests/<request_id>/close")
@login_required
def close(request_id: str):
    advice_request = _request_or_404(request_id)
    here = url_for("advice.show", request_id=advice_request.id)
    response, errors = _take_step(lambda: asking.close(db(), advice_request, current_user(), request.form.to_dict()),
                                  lambda _: here, here)
    return response or _request_page(advice_request, errors, {}, 400)


@bp.get("")
@login_required
def index():
    user = current_user()
    queue = asking.queue(db(), user)
    return render_template(
        "advice/index.html", queue=queue, asked=asking.asked_by(db(), user), awaiting=signoff.awaiting(db(), user),
        waited={r.id: asking.waited(guidance(), r) for r in queue},
        overdue={r.id: asking.is_overdue(guidance(), r) for r in queue},
        describe_hours=describe_hours, is_adviser=asking.is_adviser(user))


@bp.get("/count")
def count():
    """The header's count, for htmx to poll. Signed out (the session ended): nothing, and htmx stops polling."""
    g.background_poll = True  # polling the count must not keep an idle session alive
    if current_user() is None:
        return "", 286
    return count_badge()


def count_badge() -> Markup:
    waiting = asking.waiting_count(db(), current_user())
    label = f"{waiting} waiting" if waiting else "nothing waiting"
    return Markup(
        '<span id="advice-count" class="app-count{}" hx-get="{}" hx-trigger="every 30s" hx-target="this" '
        'hx-swap="outerHTML"><span aria-hidden="true">{}</span><span class="govuk-visually-hidden">: {}</span></span>'
    ).format(" app-count--waiting" if waiting else "", url_for("advice.count"), waiting or "", escape(label))


def _reviewable_or_404(record_id: str) -> DecisionRecord:
    record = db().get(DecisionRecord, record_id) if len(record_id) <= 32 else None
    if record is None or not signoff.may_review(current_user(), record) or signoff.signoff_of(db(), record.id).state == "":
        abort(404)
    return record


@bp.route("/records/<record_id>", methods=["GET", "POST"])
@login_required
def countersign(record_id: str):
    record = _reviewable_or_404(record_id)
    errors, values = {}, {}
    if request.method == "POST":
        values = request.form.to_dict()
        response, errors = _take_step(lambda: signoff.countersign(db(), guidance(), record, current_user(), values),
                                      lambda _: url_for("advice.countersign", record_id=record.id),
                                      url_for("advice.index"))
        if response:
            return response
    else:
        from ..audit import audit
        audit(db(), current_user().id, "record.view", "decision_record", record.id, reference=record.reference,
              version=record.version, via="countersignature")
        db().commit()
    return render_template("advice/countersign.html", record=record, status=signoff.signoff_of(db(), record.id),
                           rule_label=lambda rule: signoff.rule_label(guidance(), rule),
                           own=record.author_id == current_user().id, errors=errors, values=values), (400 if errors else 200)


def init_advice(app: Flask) -> None:
    """Emails after commit, and what the layout, question, outcome and record pages need from here."""
    init_notify(app)
    asking.read_counts_with_user()
    add_request_value("advice_badge", count_badge)  # the header's count is the signed-in user's own

    @app.context_processor
    def _advice_globals():
        def advice_nav():
            return Markup("Advice {}").format(request_value("advice_badge"))

        def advice_on_record(record):
            return {"advice": (record.body or {}).get("advice", []), "signoff": signoff.signoff_of(db(), record.id),
                    "rule_label": lambda rule: signoff.rule_label(guidance(), rule)}

        return {"advice_nav": advice_nav, "advice_on_record": advice_on_record}
