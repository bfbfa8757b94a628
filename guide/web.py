"""What every page needs: a database session per request, the signed-in user, role checks, htmx partials."""

from __future__ import annotations

from functools import wraps

from flask import Flask, Response, abort, current_app, g, redirect, request, session, url_for
from sqlalchemy.orm import Session

from .dates import init_dates
from .fragments import add_request_value, request_value
from .guidance import Guidance
from .models import User
from .rendering import render_markdown, render_typed_markdown


def db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["db_sessions"]()
    return g.db


def guidance() -> Guidance:
    return current_app.extensions["guidance"]


def current_user() -> User | None:
    if "user" not in g:
        user_id = session.get("user_id")
        user = db().get(User, user_id) if user_id else None
        g.user = user if user is not None and user.active else None
    return g.user


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            wanted = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("auth.sign_in", next=wanted))
        return view(*args, **kwargs)
    return wrapped


def roles_required(*roles):
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user().role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def layout_key() -> tuple:
    """What the layout around a page depends on, besides request values (fragments.request_value): the
    whole layout or htmx's part of it, which page is active in the navigation, and who is signed in as
    what (the navigation's links). A cached page (fragments.render_cached_page) is kept under it."""
    user = current_user()
    who = (user.role, user.index_designation) if user is not None else None
    return is_partial_request(), request.endpoint, request.script_root, who


def is_partial_request() -> bool:
    """An htmx request that swaps only the main content (not a history restore, which needs the whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request") \
        and request.headers.get("HX-Target") == "page-container"


def unchanged_since(version: str) -> Response | None:
    """For a page part that is polled: when the client already has `version` (it names it in `seen`, as
    htmx polls do, or in If-None-Match), an empty answer — 204, which htmx leaves in place, or 304 —
    without rendering anything. None when the part has changed and must be rendered."""
    if request.args.get("seen") == version:
        return Response(status=204)
    if version in request.if_none_match:
        response = Response(status=304)
        response.set_etag(version)
        return response
    return None


def versioned(body: str, version: str) -> Response:
    """A polled part with its version as ETag, so the next poll can be answered by unchanged_since."""
    response = Response(body)
    response.set_etag(version)
    return response


def encodable(text: str) -> bool:
    """Whether text can be stored (and encrypted) as UTF-8: not so with a lone surrogate, which JSON's
    \\ud800 escape can carry (forms cannot: their bytes are decoded with replacement characters)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def init_web(app: Flask) -> None:
    @app.teardown_appcontext
    def _close_db(_exc):
        session_ = g.pop("db", None)
        if session_ is not None:
            # Closing rolls back whatever the request did not commit (its connection goes back to the
            # pool reset), without a separate rollback through the session's transaction first.
            session_.close()

    from .accounts.sessions import seconds_left
    # For the timeout warning (static/app.js): seconds until the idle timeout.
    add_request_value("session_seconds_left",
                      lambda: seconds_left(app, session) if current_user() is not None else None)
    # Who signs out (the sign-out button says, for screen readers).
    add_request_value("user_name", lambda: current_user().name if current_user() is not None else None)

    @app.context_processor
    def _template_globals():
        user = current_user()
        return {
            "current_user": user,
            "session_seconds_left": request_value("session_seconds_left"),
            "session_warning_seconds": app.config["SESSION_WARNING_SECONDS"],
            "layout": "partial.html" if is_partial_request() else "layout.html",
            "service_name": app.config["SERVICE_NAME"],
        }

    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(render_typed_markdown, "typed_markdown")
    init_dates(app)
