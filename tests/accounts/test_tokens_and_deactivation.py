"""API tokens expire and can be revoked; users can be deactivated (issue 15.8): pages and commands, audited."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from guide.accounts.users import find_by_email, issue_token
from guide.models import ApiToken, AuditEvent, User, utcnow

from tests.conftest import PASSWORD, USERS, Client, table_snapshot


def token_for(app, who="practitioner", days=None) -> str:
    session = app.extensions["db_sessions"]()
    token = issue_token(session, find_by_email(session, USERS[who]["email"]), days)
    session.commit()
    session.close()
    return token


def api_status(app, token: str) -> int:
    return app.test_client().get("/api/v1/records", headers={"Authorization": f"Bearer {token}"}).status_code


def user_id(app, who="practitioner") -> int:
    session = app.extensions["db_sessions"]()
    try:
        return find_by_email(session, USERS[who]["email"]).id
    finally:
        session.close()


def audited(app, action: str) -> list[AuditEvent]:
    session = app.extensions["db_sessions"]()
    try:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
    finally:
        session.close()


def test_a_token_stops_working_when_it_expires(app):
    token = token_for(app, days=30)
    assert api_status(app, token) == 200
    session = app.extensions["db_sessions"]()
    session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    session.close()
    assert api_status(app, token) == 401


def test_tokens_expire_after_ninety_days_unless_told_otherwise(app):
    token_for(app)
    session = app.extensions["db_sessions"]()
    row = session.scalars(select(ApiToken)).one()
    session.close()
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=utcnow().tzinfo)
    assert timedelta(days=89) < expires - utcnow() <= timedelta(days=90)


def test_an_administrator_revokes_a_token_on_the_users_page(app, admin):
    token, other = token_for(app), token_for(app)
    page = admin.get(f"/admin/users/{user_id(app)}").get_data(as_text=True)
    token_ids = re.findall(r'name="token" value="(\d+)"', page)
    assert len(token_ids) == 2
    assert admin.post(f"/admin/users/{user_id(app)}", {"action": "revoke_token", "token": token_ids[-1]}).status_code == 303
    statuses = sorted([api_status(app, token), api_status(app, other)])
    assert statuses == [200, 401]
    [event] = audited(app, "token.revoke")
    assert event.object_id == str(user_id(app))


def test_a_token_of_another_user_cannot_be_revoked_through_this_user(app, admin):
    token = token_for(app, "colleague")
    session = app.extensions["db_sessions"]()
    token_id = session.scalars(select(ApiToken.id)).one()
    session.close()
    before = table_snapshot(app)
    assert admin.post(f"/admin/users/{user_id(app)}", {"action": "revoke_token", "token": token_id}).status_code == 404
    assert api_status(app, token) == 200 and table_snapshot(app) == before


def test_an_administrator_issues_a_token_shown_once(app, admin):
    response = admin.post(f"/admin/users/{user_id(app)}", {"action": "issue_token", "days": "7"})
    token = re.search(r"(gd_[A-Za-z0-9_-]+)", response.get_data(as_text=True)).group(1)
    assert api_status(app, token) == 200
    assert admin.get(f"/admin/users/{user_id(app)}").get_data(as_text=True).count("gd_") == 0


def test_the_commands_list_and_revoke_tokens(app):
    token = token_for(app)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["users", "tokens", USERS["practitioner"]["email"]])
    assert listed.exit_code == 0 and "\tactive" in listed.output
    token_id = listed.output.split("\t")[0]
    result = runner.invoke(args=["users", "revoke-token", USERS["practitioner"]["email"], "--token", token_id])
    assert result.exit_code == 0, result.output
    assert api_status(app, token) == 401
    assert "\trevoked" in runner.invoke(args=["users", "tokens", USERS["practitioner"]["email"]]).output
    assert len(audited(app, "token.revoke")) == 1


def test_a_deactivated_user_cannot_sign_in_and_their_session_and_tokens_stop(app, admin):
    person = Client(app).sign_in("practitioner")
    token = token_for(app)
    assert admin.post(f"/admin/users/{user_id(app)}", {"action": "deactivate"}).status_code == 303
    assert person.get("/records").status_code == 302
    assert api_status(app, token) == 401
    attempt = Client(app)
    attempt.get("/sign-in")
    assert attempt.post("/sign-in", {"email": USERS["practitioner"]["email"], "password": PASSWORD}).status_code == 400
    assert len(audited(app, "user.deactivate")) == 1
    assert admin.post(f"/admin/users/{user_id(app)}", {"action": "activate"}).status_code == 303
    assert Client(app).sign_in("practitioner") and api_status(app, token) == 200


def test_the_commands_deactivate_and_reactivate(app):
    person = Client(app).sign_in("practitioner")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "deactivate", USERS["practitioner"]["email"]]).exit_code == 0
    assert person.get("/records").status_code == 302
    session = app.extensions["db_sessions"]()
    assert session.get(User, user_id(app)).active is False
    session.close()
    assert runner.invoke(args=["users", "activate", USERS["practitioner"]["email"]]).exit_code == 0
    Client(app).sign_in("practitioner")
    assert [e.action for e in audited(app, "user.deactivate") + audited(app, "user.activate")] == \
        ["user.deactivate", "user.activate"]


def test_only_an_administrator_reaches_the_users_pages(app):
    token = token_for(app)
    colleague = Client(app).sign_in("records")
    before = table_snapshot(app)
    assert colleague.get("/admin/users").status_code == 403
    assert colleague.post(f"/admin/users/{user_id(app)}", {"action": "deactivate"}).status_code == 403
    assert api_status(app, token) == 200 and table_snapshot(app) == before


def test_an_unknown_action_or_a_hostile_token_id_changes_nothing(app, admin):
    token_for(app)
    before = table_snapshot(app)
    for data in ({"action": "explode"}, {"action": "revoke_token", "token": "9" * 30},
                 {"action": "issue_token", "days": "99999999999999999999"}, {"action": "issue_token", "days": "0"}):
        assert admin.post(f"/admin/users/{user_id(app)}", data).status_code in (400, 404)
    assert table_snapshot(app) == before
