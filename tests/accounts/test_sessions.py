"""Server-side sessions (issue 15.7): sign-out, the idle timeout and the absolute lifetime really end
a session; a form sent after a timeout is kept; an administrator can end a user's sessions."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from guide.models import AuditEvent, DecisionRecord, UserSession, utcnow

from werkzeug.datastructures import MultiDict

from tests.accounts.conftest import hidden_fields
from tests.conftest import PASSWORD, USERS, Client, count_rows, table_snapshot
from tests.decisions.test_walk_journey import SHARE_WITHOUT_CONSENT, walk_to

SIGNED_IN_PAGE = "/records"


def cookie_of(client: Client) -> str:
    return client.http.get_cookie("session").value


def with_cookie(app, value: str) -> Client:
    stranger = Client(app)
    stranger.http.set_cookie("session", value)
    return stranger


def signed_in(client: Client) -> bool:
    return client.get(SIGNED_IN_PAGE).status_code == 200


def age_sessions(app, **ago):
    """Move every session's clock back, as if that much time had passed."""
    session = app.extensions["db_sessions"]()
    for column, delta in ago.items():
        session.execute(update(UserSession).values({column: utcnow() - delta}))
    session.commit()
    session.close()


def sessions_of(app) -> list[UserSession]:
    session = app.extensions["db_sessions"]()
    try:
        return session.scalars(select(UserSession)).all()
    finally:
        session.close()


def test_a_cookie_copied_before_sign_out_stops_working(app):
    person = Client(app).sign_in("practitioner")
    copied = cookie_of(person)
    assert signed_in(with_cookie(app, copied))
    person.get(SIGNED_IN_PAGE)
    assert person.post("/sign-out").status_code == 303
    assert not signed_in(person)
    thief = with_cookie(app, copied)
    response = thief.get(SIGNED_IN_PAGE)
    assert response.status_code == 302 and "/sign-in" in response.location
    [row] = sessions_of(app)
    assert row.ended_at is not None and row.end_reason == "signed out"


def test_the_cookie_holds_only_a_random_session_id(app):
    person = Client(app).sign_in("practitioner")
    walk_to(person, [("purpose", "yes")])
    data = app.session_interface.get_signing_serializer(app).loads(cookie_of(person))
    assert set(data) == {"sid"} and len(data["sid"]) >= 40
    # The row is found by the id's hash: the database does not hold the cookie's id.
    assert all(row.id_hash != data["sid"] for row in sessions_of(app))


def test_the_idle_timeout_ends_a_session(app):
    person = Client(app).sign_in("practitioner")
    age_sessions(app, last_seen_at=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
    assert not signed_in(person)
    [row] = sessions_of(app)
    assert row.end_reason == "idle"
    # And it stays ended: moving the clock forward again opens nothing.
    age_sessions(app, last_seen_at=timedelta(0))
    assert not signed_in(person)


def test_a_busy_session_does_not_slide_past_its_lifetime(app):
    person = Client(app).sign_in("practitioner")
    age_sessions(app, created_at=timedelta(seconds=app.config["PERMANENT_SESSION_LIFETIME"] + 60),
                 last_seen_at=timedelta(seconds=5))
    assert not signed_in(person)
    assert sessions_of(app)[0].end_reason == "lifetime"


def test_a_page_asked_for_keeps_the_session_open(app):
    person = Client(app).sign_in("practitioner")
    age_sessions(app, last_seen_at=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1))
    assert signed_in(person)
    age_sessions(app, last_seen_at=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1))
    person.get(SIGNED_IN_PAGE)
    assert person.post("/session/keep-alive", headers={"X-CSRFToken": person.token}).status_code == 204
    last_seen = sessions_of(app)[0].last_seen_at
    assert utcnow() - (last_seen if last_seen.tzinfo else last_seen.replace(tzinfo=utcnow().tzinfo)) < timedelta(minutes=1)


def test_the_timeout_warning_is_on_signed_in_pages(app):
    person = Client(app).sign_in("practitioner")
    page = person.get(SIGNED_IN_PAGE).get_data(as_text=True)
    left = int(re.search(r'data-seconds-left="(\d+)"', page).group(1))
    assert app.config["SESSION_IDLE_MINUTES"] * 60 - 120 <= left <= app.config["SESSION_IDLE_MINUTES"] * 60
    assert 'id="session-timeout"' not in Client(app).get("/sign-in").get_data(as_text=True)


def test_a_form_sent_after_the_timeout_keeps_what_was_typed(app):
    person = Client(app).sign_in("practitioner")
    walk_id = walk_to(person, [("purpose", "yes"), ("consent", "no"), ("lawful", "yes")])
    person.get(f"/walks/{walk_id}/outcome")
    age_sessions(app, last_seen_at=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
    before = table_snapshot(app)
    typed = dict(SHARE_WITHOUT_CONSENT, information_shared="Weight charts,\nmissed appointments & <notes>.")
    response = person.post(f"/walks/{walk_id}/record", typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 401 and "What you typed has been kept" in page
    assert table_snapshot(app) == before  # nothing saved while signed out
    carried = hidden_fields(page, "carried:")
    assert ("information_shared", typed["information_shared"]) in carried
    assert not any(name in ("csrf_token", "password") for name, _ in carried)
    # Sign in again from that page: the form comes back ready to send, then is saved.
    form = hidden_fields(page) + [("email", USERS["practitioner"]["email"]), ("password", PASSWORD)]
    again = person.http.post("/sign-in", data=MultiDict(form))
    assert again.status_code == 200, again.get_data(as_text=True)
    assert "What you typed before you were signed out has been kept" in again.get_data(as_text=True)
    target = re.search(r'<form method="post" action="([^"]+)" novalidate', again.get_data(as_text=True)).group(1)
    assert target == f"/walks/{walk_id}/record"
    saved = person.http.post(target, data=MultiDict(hidden_fields(again.get_data(as_text=True))))
    assert saved.status_code == 303, saved.get_data(as_text=True)
    assert count_rows(app, DecisionRecord) == before["decision_records"] + 1


def test_an_administrator_ends_every_session_of_a_user(app, admin):
    laptop, phone = Client(app).sign_in("practitioner"), Client(app).sign_in("practitioner")
    user_id = sessions_of(app)[-1].user_id
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "Signed-in sessions" in page
    response = admin.post(f"/admin/users/{user_id}", {"action": "end_sessions"})
    assert response.status_code == 303
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(admin)
    session = app.extensions["db_sessions"]()
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.end_sessions")).one()
    session.close()
    assert event.object_id == str(user_id) and event.detail == {"ended": 2}


def test_someone_not_an_administrator_cannot_end_sessions(app):
    laptop = Client(app).sign_in("practitioner")
    colleague = Client(app).sign_in("colleague")
    user_id = sessions_of(app)[0].user_id
    before = table_snapshot(app)
    assert colleague.get(f"/admin/users/{user_id}").status_code == 403
    assert colleague.post(f"/admin/users/{user_id}", {"action": "end_sessions"}).status_code == 403
    assert signed_in(laptop) and table_snapshot(app) == before


def test_the_command_ends_every_session_of_a_user(app):
    laptop = Client(app).sign_in("practitioner")
    result = app.test_cli_runner().invoke(args=["users", "end-sessions", USERS["practitioner"]["email"]])
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    assert not signed_in(laptop)


def test_sessions_long_over_are_removed_when_the_user_signs_in_again(app):
    Client(app).sign_in("practitioner")
    age_sessions(app, created_at=timedelta(days=3), last_seen_at=timedelta(days=2))
    Client(app).sign_in("practitioner")
    assert len(sessions_of(app)) == 1


def test_a_page_polling_by_itself_does_not_keep_an_idle_session_open(app):
    # The header's advice count refreshes every 30 seconds on every page: a page left open on a
    # shared computer must still time out.
    person = Client(app).sign_in("practitioner")
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    age_sessions(app, last_seen_at=idle - timedelta(seconds=5))
    assert person.get("/advice/count", headers={"HX-Request": "true"}).status_code == 200
    last_seen = sessions_of(app)[0].last_seen_at
    last_seen = last_seen if last_seen.tzinfo else last_seen.replace(tzinfo=utcnow().tzinfo)
    assert utcnow() - last_seen > idle - timedelta(seconds=10)  # the poll did not count as using the guide
    assert signed_in(person)  # a page asked for does
    assert utcnow() - sessions_of(app)[0].last_seen_at.replace(tzinfo=utcnow().tzinfo) < timedelta(minutes=1)
