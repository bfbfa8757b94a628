"""Live training sessions: the trainer's screen, and participants joining from their own devices."""

from __future__ import annotations

import csv
import io

import segno
from flask import (
    Blueprint,
    current_app,
    Response,
    abort,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select

from ..accounts.throttle import Rule, Verdict, bucket_key, counts_for
from ..crypto import keyring_for
from ..models import Participant, TrainingSession
from ..web import current_user, db, guidance, roles_required, unchanged_since, versioned
from .service import (
    REVEALED,
    Refused,
    cast_vote,
    create_session,
    current_step,
    has_voted,
    is_open,
    join,
    move,
    seen,
    open_session_for_code,
    participant_count,
    rejoined_during_vote,
    report,
    room_version,
    steps,
    tally,
)

bp = Blueprint("sessions", __name__, template_folder="templates")

TRAINERS = ("trainer", "admin")


def _own_session(session_id: str) -> TrainingSession:
    training = db().get(TrainingSession, session_id)
    if training is None:
        abort(404)
    if training.trainer_id != current_user().id:
        abort(403)
    return training


@bp.route("/training", methods=["GET", "POST"])
@roles_required(*TRAINERS)
def index():
    error = None
    if request.method == "POST":
        try:
            training = create_session(db(), guidance(), current_user(), request.form.getlist("cases"),
                                      keep_names=request.form.get("keep_names") == "yes")
        except Refused as refused:
            db().rollback()
            error = refused.message
        else:
            db().commit()
            return redirect(url_for("sessions.control", session_id=training.id), 303)
    mine = list(db().scalars(select(TrainingSession).where(TrainingSession.trainer_id == current_user().id)
                             .order_by(TrainingSession.created_at.desc()).limit(20)))
    return render_template("training/training.html", cases=guidance().scenarios.values(), sessions=mine, error=error,
                           is_open=is_open), (400 if error else 200)


def _live_context(training: TrainingSession, version: str | None = None) -> dict:
    step = current_step(guidance(), training)
    return {
        "training": training, "step": step, "total_steps": len(steps(guidance(), training)),
        "counts": tally(db(), training, step.index) if step else {},
        "joined": participant_count(db(), training),
        "version": version or room_version(db(), training),
    }


@bp.get("/training/sessions/<session_id>")
@roles_required(*TRAINERS)
def control(session_id: str):
    training = _own_session(session_id)
    join_url = url_for("sessions.join_page", code=training.code, _external=True)
    qr = Markup(segno.make(join_url, error="m").svg_inline(scale=5, title=f"QR code to join with code {training.code}"))
    return render_template("training/session_control.html", join_url=join_url, qr=qr, open=is_open(training),
                           **_live_context(training))


@bp.get("/training/sessions/<session_id>/end")
@roles_required(*TRAINERS)
def confirm_end(session_id: str):
    """Ending a session cannot be undone, so the trainer is asked first (the button sits near "Next")."""
    training = _own_session(session_id)
    if not is_open(training):
        return redirect(url_for("sessions.control", session_id=session_id), 303)
    return render_template("training/session_end.html", training=training)


@bp.get("/training/sessions/<session_id>/live")
@roles_required(*TRAINERS)
def live(session_id: str):
    """The tally and the number who have joined, polled by the trainer's screen: answered without
    rendering (204) while nothing has changed, so a room of hundreds can be polled often."""
    training = _own_session(session_id)
    version = room_version(db(), training)
    unchanged = unchanged_since(version)
    if unchanged is not None:
        return unchanged
    return versioned(render_template("training/_session_live.html", **_live_context(training, version)), version)


@bp.post("/training/sessions/<session_id>/move")
@roles_required(*TRAINERS)
def move_room(session_id: str):
    training = _own_session(session_id)
    try:
        move(db(), guidance(), training, current_user(), request.form.get("action", ""),
             request.form.get("state", ""), int(request.form.get("step", "-1") or -1))
    except (Refused, ValueError) as refused:
        db().rollback()
        message = getattr(refused, "message", "That action is not allowed.")
        return render_template("refused.html", message=message, walk=None,
                               resume_url=url_for("sessions.control", session_id=session_id)), getattr(refused, "status", 400)
    db().commit()
    return redirect(url_for("sessions.control", session_id=session_id), 303)


@bp.get("/training/sessions/<session_id>/report")
@roles_required(*TRAINERS)
def session_report(session_id: str):
    training = _own_session(session_id)
    return render_template("training/session_report.html", training=training, rows=report(db(), guidance(), training),
                           joined=participant_count(db(), training))


@bp.get("/training/sessions/<session_id>/report.csv")
@roles_required(*TRAINERS)
def session_report_csv(session_id: str):
    training = _own_session(session_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["case_number", "case", "decision_point", "question", "guidance_answer", "votes",
                     "agreed_with_guidance", "agreed_percent", "votes_by_option"])
    for row in report(db(), guidance(), training):
        point = row.step.point
        writer.writerow([row.step.case.number, row.step.case.title, point.id, point.question,
                         point.guidance_option.label, row.total, row.agreed,
                         "" if row.agreed_percent is None else row.agreed_percent,
                         "; ".join(f"{o.label}: {row.counts.get(o.value, 0)}" for o in point.options)])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=session-{training.code}-report.csv"})


# --- participants: no account, a name and the code --------------------------------------

def _participant_id(training: TrainingSession) -> int | None:
    return (session.get("joined") or {}).get(training.id)


# Joining is limited per address (kept as a keyed hash), in the database so that it holds across
# processes: a room of people behind one office address joins at once, a script cannot fill a room.
JOIN_PER_ADDRESS = Rule("join-address", free=100, first_delay=1, max_delay=60, forget_after=600)


def join_turn(code: str) -> Verdict:
    secret = keyring_for(db()).blind_index("throttle").encode()
    return counts_for(current_app).take_turn(JOIN_PER_ADDRESS,
                                             bucket_key(JOIN_PER_ADDRESS, request.remote_addr or "unknown", secret))


def _already_joined(code: str) -> int | None:
    """The participant this browser joined the room as, if it did."""
    code = "".join(ch for ch in code.upper() if ch.isalnum())
    training = db().scalar(select(TrainingSession).where(TrainingSession.code == code)) if code else None
    return _participant_id(training) if training is not None else None


@bp.route("/join", methods=["GET", "POST"])
def join_page():
    error, code, name, status = None, request.values.get("code", "")[:20], "", 400
    if request.method == "POST":
        name = request.form.get("name", "")[:200]
        try:
            allowed = join_turn(code)
            if not allowed.allowed:
                raise Refused(f"Too many people have joined from this network just now. Wait {allowed.retry_after} "
                              "seconds and try again.", status=429)
            training, participant = join(db(), code, name, already=_already_joined(code))
        except Refused as refused:
            db().rollback()
            error, status = refused.message, refused.status
        else:
            db().commit()
            joined = dict(session.get("joined") or {})
            joined[training.id] = participant.id
            session["joined"] = joined
            return redirect(url_for("sessions.room", code=training.code), 303)
    return render_template("training/join.html", error=error, code=code, name=name), (status if error else 200)


def _room(code: str):
    try:
        training = open_session_for_code(db(), code)
    except Refused:
        training = db().scalar(select(TrainingSession).where(TrainingSession.code == code.upper()))
        if training is None or _participant_id(training) is None:
            return None
    return training


def _panel_context(training: TrainingSession, error: str | None = None) -> dict:
    step = current_step(guidance(), training)
    participant_id = _participant_id(training)
    participant = db().get(Participant, participant_id) if participant_id else None
    waits = (step is not None and participant is not None and participant.session_id == training.id
             and rejoined_during_vote(db(), participant, step.index))
    return {
        "training": training, "step": step, "error": error, "waits_for_next_point": waits,
        "my_vote": has_voted(db(), training, participant_id, step.index) if step else None,
        "counts": tally(db(), training, step.index) if step and training.state == REVEALED else {},
    }


@bp.get("/join/<code>")
def room(code: str):
    training = _room(code)
    if training is None or _participant_id(training) is None:
        return redirect(url_for("sessions.join_page", code=code))
    return render_template("training/session_room.html", **_panel_context(training))


@bp.get("/join/<code>/panel")
def panel(code: str):
    """Polled by participants' pages: nothing new (204) until the trainer moves the room."""
    training = _room(code)
    if training is None or _participant_id(training) is None:
        abort(404)
    if seen(db(), _participant_id(training)):
        db().commit()
    version = str(training.revision)
    unchanged = unchanged_since(version)
    if unchanged is not None:
        return unchanged
    return versioned(render_template("training/_session_panel.html", **_panel_context(training)), version)


@bp.post("/join/<code>/vote")
def vote(code: str):
    training = _room(code)
    if training is None:
        return redirect(url_for("sessions.join_page", code=code))
    try:
        cast_vote(db(), guidance(), training, _participant_id(training),
                  int(request.form.get("step", "-1") or -1), request.form.get("vote", ""))
    except (Refused, ValueError) as refused:
        db().rollback()
        message = getattr(refused, "message", "Choose one of the options.")
        return render_template("training/session_room.html", **_panel_context(training, error=message)), getattr(refused, "status", 400)
    db().commit()
    return redirect(url_for("sessions.room", code=training.code), 303)
