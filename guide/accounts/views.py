"""Signing in and out; keeping a session alive; carrying a form across a sign-in after a timeout."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from ..audit import audit
from ..web import current_user, db
from . import sessions
from .throttle import counts_for
from .users import Busy, Throttled, authenticate

bp = Blueprint("auth", __name__, template_folder="templates")

# What a timed-out form carries through the sign-in page: never these.
NOT_CARRIED = {"csrf_token", "password", "email", "next"}
CARRIED = "carried:"

END_REASONS = {
    "idle": "You were signed out because you had not done anything for a while.",
    "lifetime": "You were signed out because you had been signed in for the longest time a session lasts.",
    "signed out": "You had signed out.",
}
DEFAULT_END_REASON = "Your session has ended."


def _safe_next(target: str | None) -> str:
    # Only ever return to a path on this site: never an open redirect (a backslash is a slash to a
    # browser), and never a header with a line break or other control character in it.
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and target.isprintable() and not urlparse(target).netloc):
        return target
    return url_for("pages.home")


def carried_fields(form) -> list[tuple[str, str]]:
    """The fields of a form sent after its session ended, to send again once signed in."""
    return [(name, value) for name in form for value in form.getlist(name) if name not in NOT_CARRIED]


def sign_in_again(reason: str | None):
    """The sign-in page for a form sent after its session ended: what was typed is kept (in the
    page itself, never stored) and sent on once the person has signed in again."""
    message = END_REASONS.get(reason or "", DEFAULT_END_REASON)
    return render_template("accounts/sign_in.html", errors={}, email="", next=_safe_next(request.path),
                           carried=carried_fields(request.form), ended=message), 401


def _client_address() -> str:
    return request.remote_addr or "unknown"


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    errors, email, status, headers = {}, "", 200, {}
    carried = [(name[len(CARRIED):], value) for name in request.form for value in request.form.getlist(name)
               if name.startswith(CARRIED)]
    if request.method == "POST":
        email = request.form.get("email", "").strip()[:254]
        password = request.form.get("password", "")[:1024]
        if not email:
            errors["email"] = "Enter your email address"
        if not password:
            errors["password"] = "Enter your password"
        if not errors:
            try:
                attempt = authenticate(db(), email, password, counts=counts_for(current_app),
                                       address=_client_address())
            except Throttled as throttled:
                minutes = (throttled.retry_after + 59) // 60
                wait = f"{throttled.retry_after} seconds" if throttled.retry_after < 120 else f"{minutes} minutes"
                errors["email"] = f"Too many attempts to sign in. Wait {wait} and try again"
                status, headers = 429, {"Retry-After": str(throttled.retry_after)}
                audit(db(), None, "auth.throttled", "user", "")
                db().commit()
            except Busy:
                errors["email"] = "The service is busy. Wait a few seconds and try again"
                status, headers = 503, {"Retry-After": "5"}
            else:
                if attempt.user is None:
                    # Nothing typed is kept: not the email (which might be a password typed in the
                    # wrong box), only whether it named an account.
                    audit(db(), None, "auth.failed", "user", "", account_known=attempt.account_known)
                    db().commit()
                    errors["email"] = "Enter a correct email address and password"
                else:
                    user = attempt.user
                    sessions.begin(db(), session, user.id)
                    audit(db(), user.id, "auth.sign_in", "user", user.id)
                    db().commit()
                    target = _safe_next(request.form.get("next"))
                    if carried and target != url_for("pages.home"):
                        return render_template("accounts/carry_on.html", target=target, carried=carried)
                    return redirect(target, 303)
        if status == 200:
            status = 400
    return render_template("accounts/sign_in.html", errors=errors, email=email, carried=carried,
                           next=request.values.get("next", "")), status, headers


@bp.post("/sign-out")
def sign_out():
    user = current_user()
    if user is not None:
        audit(db(), user.id, "auth.sign_out", "user", user.id)
    sessions.end(db(), session, "signed out")
    db().commit()
    return redirect(url_for("auth.sign_in"), 303)


@bp.post("/session/keep-alive")
def keep_alive():
    """"Stay signed in" in the timeout warning: the session's idle time starts again."""
    if current_user() is None:
        return "", 401
    session.last_seen_at = None  # written now, not within the minute
    return "", 204
