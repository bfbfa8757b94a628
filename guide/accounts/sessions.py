"""Signed-in sessions kept on the server, so that they can really be ended.

The cookie of a signed-in user holds only a random session id (signed, as Flask signs every
cookie); everything the session holds (who is signed in, the form token, anything a page keeps
between requests) is an encrypted row in `user_sessions`, found by the id's hash. Nothing about
a child is ever in the cookie, and a copied cookie opens nothing once its row has ended:

- signing out ends it;
- the idle timeout (SESSION_IDLE_MINUTES, default 30) ends it when no page was asked for;
- the absolute lifetime (PERMANENT_SESSION_LIFETIME, default 8 hours) ends it however busy;
- an administrator can end every session of a user (page and `flask --app guide users end-sessions`),
  and deactivating a user ends them too.

A visitor who is not signed in keeps Flask's ordinary signed cookie, which holds nothing but the
sign-in form's token (and, for a live training room, which participant they are): no row is
made for anyone who has not signed in, so nobody can fill the table by asking for pages.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask import Flask, current_app, g, has_app_context
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..crypto import RowBound
from ..db import recall, remember_until_write
from ..models import User, UserSession, utcnow

# last_seen_at is written at most this often: not a database write on every page.
TOUCH_EVERY = timedelta(seconds=60)


class GuideSession(SecureCookieSession):
    """A session; `sid` is set when it is a signed-in session kept on the server."""

    sid: str | None = None
    last_seen_at: datetime | None = None
    # Why the session the cookie named is no longer open ("idle", "signed out", "lifetime", …).
    ended_reason: str | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def aware(moment: datetime) -> datetime:
    """SQLite hands back stored UTC times without their offset; PostgreSQL with it."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def idle_limit(app: Flask) -> timedelta:
    return timedelta(minutes=float(app.config["SESSION_IDLE_MINUTES"]))


def absolute_limit(app: Flask) -> timedelta:
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    return lifetime if isinstance(lifetime, timedelta) else timedelta(seconds=lifetime)


def why_ended(app: Flask, row: UserSession | None, now: datetime) -> str | None:
    """None while the session is open; else the reason it is not."""
    if row is None:
        return "unknown"
    if row.ended_at is not None:
        return row.end_reason or "ended"
    if now - aware(row.created_at) > absolute_limit(app):
        return "lifetime"
    if now - aware(row.last_seen_at) > idle_limit(app):
        return "idle"
    return None


def begin(db: Session, session: GuideSession, user_id: int) -> None:
    """Start a signed-in session for the user (after the password was checked): a fresh id, so a
    session id planted before sign-in is never the one signed in."""
    token = secrets.token_urlsafe(32)
    # The user's sessions long over are removed as they start another, so the table stays small
    # (signing in and out are in the audit trail, not here).
    db.execute(delete(UserSession).where(UserSession.user_id == user_id,
                                         UserSession.last_seen_at < utcnow() - absolute_limit(current_app) - timedelta(days=1)))
    db.add(UserSession(id_hash=_hash(token), user_id=user_id, data={"user_id": user_id}))
    session.clear()
    session["user_id"] = user_id
    session.sid = token
    session.last_seen_at = utcnow()


def end(db: Session, session: GuideSession, reason: str) -> None:
    """End this session (signing out): its row is closed and the cookie removed."""
    if session.sid:
        db.execute(update(UserSession).where(UserSession.id_hash == _hash(session.sid), UserSession.ended_at.is_(None))
                   .values(ended_at=utcnow(), end_reason=reason))
    session.clear()
    session.sid = None


def end_all(db: Session, user_id: int, reason: str) -> int:
    """End every open session of a user; how many were open."""
    result = db.execute(update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
                        .values(ended_at=utcnow(), end_reason=reason))
    return result.rowcount or 0


def open_count(db: Session, user_id: int) -> int:
    """A user's sessions that have not been ended (some may have run out and not been noticed yet)."""
    now = utcnow()
    rows = db.scalars(select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None)))
    return sum(1 for row in rows if why_ended(current_app, row, now) is None)


def seconds_left(app: Flask, session: GuideSession) -> int | None:
    """Seconds until the idle timeout or the lifetime ends this session, for the timeout warning."""
    if not session.sid or session.last_seen_at is None:
        return None
    return max(0, int((aware(session.last_seen_at) + idle_limit(app) - utcnow()).total_seconds()))


# Other journeys' values read in the same query as the session and its user (`read_with_user`), by name.
_READ_WITH_USER: dict[str, ColumnElement] = {}


def _session_and_user_query():
    return (select(UserSession, User, *_READ_WITH_USER.values()).outerjoin(User, User.id == UserSession.user_id)
            .where(UserSession.id_hash == bindparam("id_hash")))


# Built once (and again when a value is added): every signed-in request asks it.
_SESSION_AND_USER = _session_and_user_query()


def read_with_user(name: str, column: ColumnElement) -> None:
    """Read `column` (an expression over `User`, such as a correlated count) with the session and its user,
    in the one query every signed-in page makes: `read_with_user` beside it gives the value back. For what
    every page shows about the signed-in user (the header's advice count), instead of a query of its own."""
    global _SESSION_AND_USER
    _READ_WITH_USER[name] = column.label(name)
    _SESSION_AND_USER = _session_and_user_query()


def read_with_user_value(db: Session, user: User, name: str):
    """What `read_with_user(name, …)` read at the start of this request for `user`; None when it was not read
    for this user, or when something has been written since (the value may have changed: ask again)."""
    return recall(db, ("with_user", user.id, name))


class ServerSideSessions(SecureCookieSessionInterface):
    session_class = GuideSession

    def open_session(self, app: Flask, request) -> GuideSession | None:
        cookie = super().open_session(app, request)
        token = cookie.get("sid") if cookie is not None else None
        if not isinstance(token, str) or not token:
            return cookie
        # The request's own database session (guide/web.py), when there is one: the session row and its
        # user come back in one query, and the user stays in that session's identity map, so
        # `current_user()` finds it there without asking the database again.
        own = not has_app_context()
        db = app.extensions["db_sessions"]() if own else _request_db()
        try:
            found = db.execute(_SESSION_AND_USER, {"id_hash": _hash(token)}).first()
            row = found[0] if found is not None else None
            now = utcnow()
            reason = why_ended(app, row, now)
            if reason is not None:
                if row is not None and row.ended_at is None:  # ran out: close it for good
                    row.ended_at, row.end_reason = now, reason
                    db.commit()
                fresh = self.session_class()
                fresh.ended_reason = reason
                fresh.modified = True  # the old cookie is replaced
                return fresh
            session = self.session_class(row.data or {})
            session.sid, session.last_seen_at = token, row.last_seen_at
            if not own:
                # Held for the request: the identity map keeps only weak references.
                g.session_user = found[1]
                if found[1] is not None:
                    for name in _READ_WITH_USER:
                        remember_until_write(db, ("with_user", found[1].id, name), found._mapping[name])
            return session
        finally:
            if own:
                db.close()

    def save_session(self, app: Flask, session: GuideSession, response) -> None:
        if not session.sid:
            return super().save_session(app, session, response)
        now = utcnow()
        touch = session.last_seen_at is None or now - aware(session.last_seen_at) >= TOUCH_EVERY
        if g.get("background_poll"):
            touch = False  # a part of a page refreshing itself is not the person using the guide
        if session.modified or touch:
            values = {"last_seen_at": now} if touch else {}
            if session.modified:
                values["data"] = RowBound(dict(session), _hash(session.sid))  # the row's key: see guide/crypto.py
            db = app.extensions["db_sessions"]()
            try:
                db.execute(update(UserSession).where(UserSession.id_hash == _hash(session.sid),
                                                     UserSession.ended_at.is_(None)).values(**values))
                db.commit()
            finally:
                db.close()
        if session.modified or touch:
            response.set_cookie(
                self.get_cookie_name(app), self.get_signing_serializer(app).dumps({"sid": session.sid}),
                expires=self.get_expiration_time(app, session), httponly=self.get_cookie_httponly(app),
                domain=self.get_cookie_domain(app), path=self.get_cookie_path(app),
                secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app))
        response.vary.add("Cookie")


def _request_db() -> Session:
    """The request's database session, the one guide.web.db() hands to the views (made here if first)."""
    if "db" not in g:
        g.db = current_app.extensions["db_sessions"]()
    return g.db


def init_sessions(app: Flask) -> None:
    app.session_interface = ServerSideSessions()
