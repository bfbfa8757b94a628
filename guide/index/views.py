"""The children's index pages: look up, see what the rules allow, keep your own entry up to date."""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from ..decisions.steps import walk_for
from ..models import IndexContactsDraft, User, utcnow
from ..web import current_user, db, guidance, login_required, roles_required
from .access import can_answer_subject_access, can_grant_lead, can_use_index, is_lead
from .audit import verify_new
from .service import IndexService, LookupRequest, Refused, patrol

bp = Blueprint("index", __name__, url_prefix="/index", template_folder="templates")


def _policy():
    policy = guidance().index_policy
    if policy is None:
        abort(404)
    return policy


def _service() -> IndexService:
    return IndexService(db(), current_app.extensions["db_engine"], _policy(), current_user())


def _designated():
    if not can_use_index(current_user()):
        abort(403)


def _grant() -> int | None:
    try:
        return int(request.values.get("grant", ""))
    except ValueError:
        return None


def _date(prefix: str) -> date | None:
    try:
        return date(int(request.form.get(f"{prefix}-year", "")), int(request.form.get(f"{prefix}-month", "")),
                    int(request.form.get(f"{prefix}-day", "")))
    except ValueError:
        return None


@bp.route("", methods=["GET", "POST"])
@login_required
def lookup():
    policy = _policy()
    _designated()
    walk = request.values.get("walk", "")[:32]
    errors, values = {}, dict(request.form)
    if request.method == "POST":
        service = _service()
        try:
            child, grant = service.lookup(LookupRequest(
                upn=request.form.get("upn", "")[:20], family_name=request.form.get("family_name", "")[:100],
                given_name=request.form.get("given_name", "")[:100], dob=_date("dob"),
                postcode=request.form.get("postcode", "")[:10], reason=request.form.get("reason", ""),
                reason_text=request.form.get("reason_text", "")[:1000]))
        except Refused as refused:
            db().rollback()
            errors[refused.field or "lookup"] = refused.message
            return render_template("index/lookup.html", policy=policy, errors=errors, values=values, walk=walk), refused.status
        if child is None:
            errors["lookup"] = "No child on the index matches those details. Check them and try again."
            return render_template("index/lookup.html", policy=policy, errors=errors, values=values, walk=walk), 404
        return redirect(url_for("index.child", child_id=child.id, grant=grant, walk=walk or None), 303)
    return render_template("index/lookup.html", policy=policy, errors=errors, values=values, walk=walk,
                           due=_service().due_for_review())


@bp.get("/children/<int:child_id>")
@login_required
def child(child_id: int):
    _designated()
    try:
        record = _service().view(child_id, _grant())
    except Refused as refused:
        return render_template("refused.html", message=refused.message, walk=None,
                               resume_url=url_for("index.lookup")), refused.status
    return render_template("index/child.html", policy=_policy(), grant=_grant(), walk=request.args.get("walk", "")[:32],
                           review_due=_review_due(record["mine"]), can_grant_lead=can_grant_lead(current_user()),
                           is_lead=is_lead, **record)


def _review_due(involvement) -> bool:
    if involvement is None:
        return False
    reviewed = involvement.reviewed_at.replace(tzinfo=None)
    return reviewed < (utcnow() - timedelta(days=_policy().rules["review_after_days"])).replace(tzinfo=None)


def _change(child_id: int, action):
    _designated()
    service = _service()
    try:
        action(service)
    except Refused as refused:
        db().rollback()
        return render_template("refused.html", message=refused.message, walk=None,
                               resume_url=url_for("index.lookup")), refused.status
    db().commit()
    service.write_audit()
    return redirect(url_for("index.child", child_id=child_id, grant=_grant()), 303)


@bp.post("/children/<int:child_id>/involvement")
@login_required
def record_involvement(child_id: int):
    form = request.form
    return _change(child_id, lambda s: s.record_involvement(
        child_id, _grant(), category=form.get("category", ""), consent=form.get("consent", ""),
        justification=form.get("justification", "")[:2000], lead_professional=form.get("lead") == "yes",
        named_categories=form.getlist("named")))


@bp.post("/children/<int:child_id>/involvements/<int:involvement_id>/lead")
@login_required
def grant_lead(child_id: int, involvement_id: int):
    """The index manager or a child protection social worker grants (or withdraws) lead professional status."""
    granted = request.form.get("lead") == "grant"
    return _change(child_id, lambda s: s.grant_lead(child_id, _grant(), involvement_id, granted))


@bp.post("/children/<int:child_id>/involvement/end")
@login_required
def end_involvement(child_id: int):
    return _change(child_id, lambda s: s.end_involvement(child_id, _grant()))


@bp.post("/children/<int:child_id>/review")
@login_required
def confirm_review(child_id: int):
    return _change(child_id, lambda s: s.confirm_review(child_id, _grant()))


@bp.post("/children/<int:child_id>/concerns")
@login_required
def raise_concern(child_id: int):
    return _change(child_id, lambda s: s.raise_concern(child_id, _grant(), request.form.get("level", "")))


@bp.post("/children/<int:child_id>/concerns/<int:concern_id>/close")
@login_required
def close_concern(child_id: int, concern_id: int):
    return _change(child_id, lambda s: s.close_concern(child_id, _grant(), concern_id))


@bp.post("/children/<int:child_id>/to-record")
@login_required
def to_record(child_id: int):
    """Add the contacts this user may see to the decision record they are completing."""
    _designated()
    walk = walk_for(db(), request.form.get("walk", "")[:32], current_user())
    if walk is None:
        abort(404)
    try:
        record = _service().view(child_id, _grant())
    except Refused as refused:
        return render_template("refused.html", message=refused.message, walk=None,
                               resume_url=url_for("index.lookup")), refused.status
    contacts = [f"{i.practitioner_name}, {i.job_title}, {i.organisation} ({_policy().categories[i.category].label}): {i.contact}"
                for i in record["involvements"] if i.category in _policy().categories]
    # Kept in the database, encrypted, with the walk: never in the (signed, readable) session cookie.
    draft = db().get(IndexContactsDraft, walk.id) or IndexContactsDraft(walk_id=walk.id)
    draft.contacts, draft.at = "\n".join(contacts), utcnow()
    db().add(draft)
    db().commit()
    return redirect(url_for("walks.outcome", walk_id=walk.id) + "#record", 303)


@bp.get("/patrol")
@roles_required("index_manager")
def manager_patrol():
    days = min(max(request.args.get("days", 7, type=int), 1), 90)
    report = patrol(db(), _policy(), utcnow() - timedelta(days=days))
    users = {u.id: u for u in db().scalars(select(User))}
    # Only the entries added since the last check that passed are read here (index/audit.py: verify_new);
    # the whole trail is verified nightly by `flask --app guide index verify-audit`.
    checked, broken, why = verify_new(current_app.extensions["db_engine"])
    return render_template("index/patrol.html", report=report, users=users, days=days,
                           chain={"checked": checked, "broken": broken, "why": why})


@bp.route("/subject-access", methods=["GET", "POST"])
@login_required
def subject_access_request():
    result, error, status = None, None, 200
    if not can_answer_subject_access(current_user()) and request.method == "GET":
        abort(403)
    if request.method == "POST":
        try:
            result = _service().subject_access(request.form.get("upn", "")[:20], request.form.get("reason_text", "")[:100])
        except Refused as refused:
            if refused.status == 403:
                abort(403)  # the same page whatever number was asked for
            error, status = refused.message, refused.status
    return render_template("index/subject_access.html", result=result, error=error, policy=_policy()), status


@bp.route("/users", methods=["GET", "POST"])
@roles_required("index_manager")
def manage_users():
    """The index manager grants and withdraws access (IDX §2.27: access granted by those managing the system)."""
    policy = _policy()
    error = None
    if request.method == "POST":
        user = db().get(User, request.form.get("user", type=int))
        designation = request.form.get("designation", "")
        category = request.form.get("service_category", "")
        if user is None or designation not in ("", "user", "cp_social_worker", "subject_access") or (category and category not in policy.categories):
            error = "Choose a user, their access and (optionally) their service."
        else:
            before = (user.index_designation, user.service_category)
            user.index_designation, user.service_category = designation, category
            db().commit()
            _service()._audit("designate", detail_user=user.id, before=list(before), after=[designation, category])
            return redirect(url_for("index.manage_users"), 303)
    # Names are encrypted in the database, so they are put in order here.
    users = sorted(db().scalars(select(User).where(User.role != "index_manager")),
                   key=lambda user: (user.agency, user.name.casefold()))
    return render_template("index/users.html", users=users, policy=policy, error=error), (400 if error else 200)
