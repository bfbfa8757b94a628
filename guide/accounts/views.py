"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, redirect, render_template, request, session, url_for

from ..audit import audit
from ..web import current_user, db
from .users import authenticate

bp = Blueprint("auth", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    # Only ever return to a path on this site: never an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc:
        return target
    return url_for("pages.home")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    errors = {}
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip()[:254]
        password = request.form.get("password", "")[:1024]
        if not email:
            errors["email"] = "Enter your email address"
        if not password:
            errors["password"] = "Enter your password"
        if not errors:
            user = authenticate(db(), email, password)
            if user is None:
                audit(db(), None, "auth.failed", "user", email.lower()[:64])
                db().commit()
                errors["email"] = "Enter a correct email address and password"
            else:
                session.clear()
                session["user_id"] = user.id
                session.permanent = True
                audit(db(), user.id, "auth.sign_in", "user", user.id)
                db().commit()
                return redirect(_safe_next(request.form.get("next")), 303)
    status = 400 if errors else 200
    return render_template("accounts/sign_in.html", errors=errors, email=email, next=request.values.get("next", "")), status


@bp.post("/sign-out")
def sign_out():
    user = current_user()
    if user is not None:
        audit(db(), user.id, "auth.sign_out", "user", user.id)
        db().commit()
    session.clear()
    return redirect(url_for("auth.sign_in"), 303)
