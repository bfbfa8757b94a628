"""The administrator's pages for accounts: deactivate a user, end their sessions, revoke their tokens.

Everything done here is audited (user.deactivate, user.activate, user.end_sessions, token.issue,
token.revoke) and can be done from the command line too (`flask --app guide users …`).
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select

from ..models import ApiToken, User
from ..web import current_user, db, roles_required
from . import sessions
from .users import UserError, end_sessions, issue_token, revoke_token, set_active, token_state

bp = Blueprint("accounts_admin", __name__, url_prefix="/admin/users", template_folder="templates")


def _user(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("")
@roles_required("admin")
def users():
    everyone = sorted(db().scalars(select(User)), key=lambda user: (user.agency, user.name.casefold()))
    return render_template("accounts/admin_users.html", users=everyone)


@bp.get("/<int:user_id>")
@roles_required("admin")
def user(user_id: int):
    who = _user(user_id)
    tokens = db().scalars(select(ApiToken).where(ApiToken.user_id == who.id).order_by(ApiToken.created_at.desc())).all()
    return render_template("accounts/admin_user.html", user=who, tokens=tokens, token_state=token_state,
                           open_sessions=sessions.open_count(db(), who.id), new_token=None)


@bp.post("/<int:user_id>")
@roles_required("admin")
def act(user_id: int):
    who, admin, action = _user(user_id), current_user(), request.form.get("action", "")
    if who.id == admin.id and action in ("deactivate", "end_sessions"):
        abort(409)  # an administrator cannot lock themself out from this page
    new_token = None
    if action == "deactivate":
        set_active(db(), who, False, by=admin)
    elif action == "activate":
        set_active(db(), who, True, by=admin)
    elif action == "end_sessions":
        end_sessions(db(), who, by=admin)
    elif action == "revoke_token":
        token_id = request.form.get("token", "")
        row = revoke_token(db(), int(token_id), by=admin) if token_id.isdigit() and len(token_id) < 12 else None
        if row is None or row.user_id != who.id:
            abort(404)
    elif action == "issue_token":
        days = request.form.get("days", "")
        try:
            new_token = issue_token(db(), who, int(days) if days.isdigit() and len(days) < 4 else 0, by=admin)
        except UserError:
            abort(400)
    else:
        abort(400)
    db().commit()
    if new_token:
        # Shown once, on this page only; only its hash is kept.
        tokens = db().scalars(select(ApiToken).where(ApiToken.user_id == who.id).order_by(ApiToken.created_at.desc())).all()
        return render_template("accounts/admin_user.html", user=who, tokens=tokens, token_state=token_state,
                               open_sessions=sessions.open_count(db(), who.id), new_token=new_token)
    return redirect(url_for("accounts_admin.user", user_id=who.id), 303)
