"""Error pages in the service's own words; nothing internal is shown."""

from __future__ import annotations

from flask import Flask, g, render_template, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError

from .crypto import TamperedValue, UndecryptableValue
from .guidance import ContentGone

MESSAGES = {
    400: ("There is a problem with your request", "Check what you entered and try again."),
    403: ("You do not have permission to see this page", "If you think you should, ask your agency's administrator."),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    405: ("That action is not allowed here", "Go back and try again."),
    409: ("That step cannot be taken", "Your answers were not changed."),
    410: ("This is no longer in the guide", "It was removed from the guide's content. Nothing you saved has been lost."),
    413: ("What you sent is too large", "Shorten the text and try again. Nothing was saved."),
    429: ("Too many requests", "Wait a minute and try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you saved has been lost."),
}


def _page(status: int, detail: str | None = None, headers: dict | None = None, title: str | None = None):
    # A failed flush leaves the request's database session unusable until it is rolled back, and
    # the page (the signed-in user in its header) reads from it: nothing of the failed attempt is kept.
    db = g.get("db")
    if db is not None and status >= 409:
        db.rollback()
    title, body = title or MESSAGES.get(status, MESSAGES[500])[0], MESSAGES.get(status, MESSAGES[500])[1]
    if request.path.startswith("/api/"):
        return {"error": {"status": status, "title": title, "detail": detail or body}}, status, headers or {}
    return render_template("error.html", title=title, body=detail or body, status=status), status, headers or {}


def _allow(exc) -> dict:
    """A 405 says which methods the address does take (RFC 9110 §15.5.6), as werkzeug's own page does."""
    methods = getattr(exc, "valid_methods", None)
    return {"Allow": ", ".join(methods)} if methods else {}


def init_errors(app: Flask) -> None:
    for status in MESSAGES:
        if status != 500:
            app.register_error_handler(status, lambda exc, status=status: _page(status, headers=_allow(exc)))

    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        ended = getattr(session, "ended_reason", None)
        if ended and not request.path.startswith("/api/"):
            # A form sent after its session ended (idle timeout, lifetime): sign in again and
            # send it on, losing nothing that was typed.
            from .accounts.views import sign_in_again
            return sign_in_again(ended)
        return _page(400, "This form has expired or was not sent from this service. Go back, reload the page and try again. Nothing was changed.")

    @app.errorhandler(ContentGone)
    def _content_gone(exc):
        app.logger.warning("stored work refers to content that is gone: %s", exc.content_id)
        return _page(410, "This was started on a flowchart or case example that has since been removed from the guide, "
                          "so it cannot be shown or continued. Nothing you saved has been lost: decision records keep the "
                          "questions and answers as they were. Tell your agency's administrator.")

    @app.errorhandler(StaleDataError)
    def _stale(_exc):
        return _page(409, "These answers were changed in another window at the same moment. Reload the page; nothing from this attempt was saved.")

    @app.errorhandler(TamperedValue)
    def _tampered(exc):
        # A value that does not open where it is (altered, or moved from another row or column in the
        # database): refused, and nothing of it, or of the row it came from, is shown.
        app.logger.error("encrypted value refused: %s", exc)
        return _page(409, "This record cannot be opened: it has been tampered with. Part of it was changed outside the "
                          "service (altered, or moved in the database from another record), so none of it is shown. "
                          "Tell your agency's administrator; nothing has been changed.",
                     title="This record cannot be opened")

    @app.errorhandler(UndecryptableValue)
    def _undecryptable(exc):
        # An encrypted value that does not open was altered in the database, or its key is missing.
        app.logger.error("encrypted value could not be read: %s", exc)
        return _page(500, "This information cannot be read: it was changed outside the service, or its encryption "
                          "key is missing. Tell your agency's administrator; nothing has been changed.")

    @app.errorhandler(500)
    def _server_error(_exc):
        return _page(500)
