"""Sign-in throttling (issue 15.6, 13.4): per account and per address, in the database, so it holds
across processes; password hashing capped; common passwords refused."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from argon2 import PasswordHasher, profiles
from sqlalchemy import select

from guide.accounts import throttle, users
from guide.accounts.passwords import password_problem
from guide.models import AuditEvent, ThrottleBucket, User

from tests.conftest import PASSWORD, USERS, Client, count_rows, table_snapshot


def sign_in(client: Client, email: str, password: str):
    client.get("/sign-in")
    return client.post("/sign-in", {"email": email, "password": password})


def audit_actions(app, action: str) -> int:
    session = app.extensions["db_sessions"]()
    try:
        return len(session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all())
    finally:
        session.close()


def test_sixty_wrong_passwords_then_the_right_one_is_refused(app):
    attacker = Client(app)
    statuses = [sign_in(attacker, USERS["practitioner"]["email"], f"guess number {n}").status_code for n in range(60)]
    # The first attempts are checked (wrong: 400); then the account must wait longer and longer (429).
    assert statuses[:5] == [400] * 5
    assert statuses.count(429) >= 45  # a few more get through on a slow machine as the short first waits run out
    response = sign_in(attacker, USERS["practitioner"]["email"], PASSWORD)
    assert response.status_code == 429 and "Too many attempts to sign in" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) >= 1
    assert attacker.get("/records").status_code == 302  # not signed in
    assert audit_actions(app, "auth.sign_in") == 0
    # Only the attempts let through were checked at all (a few more as the first short delays run
    # out while the test runs): no password was hashed for the rest.
    assert audit_actions(app, "auth.failed") == statuses.count(400) <= 10


def test_parallel_attempts_on_one_account_get_no_more_through(live_app, monkeypatch):
    # The account's first wait made long, so that however slowly the attempts arrive on a busy
    # machine, no wait runs out while they do: exactly free + 1 can be checked.
    monkeypatch.setattr(users, "SIGN_IN_PER_ACCOUNT", throttle.Rule("sign-in-account", free=5, first_delay=600,
                                                                    max_delay=900, forget_after=3600))
    base, app = live_app
    email = USERS["practitioner"]["email"]

    def attempt(n):
        http = requests.Session()
        page = http.get(f"{base}/sign-in").text
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        return http.post(f"{base}/sign-in", data={"csrf_token": token, "email": email, "password": f"wrong {n}"},
                         allow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(attempt, range(48)))
    assert statuses.count(400) == users.SIGN_IN_PER_ACCOUNT.free + 1
    assert statuses.count(429) == 48 - users.SIGN_IN_PER_ACCOUNT.free - 1
    assert audit_actions(app, "auth.failed") == statuses.count(400)


def test_parallel_attempts_within_the_free_ones_all_get_checked(live_app):
    base, app = live_app

    def attempt(n):
        http = requests.Session()
        page = http.get(f"{base}/sign-in").text
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        return http.post(f"{base}/sign-in", data={"csrf_token": token, "email": f"someone{n}@example.org",
                                                   "password": "a long wrong password"}, allow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(attempt, range(users.SIGN_IN_PER_ADDRESS.free - 5)))
    assert statuses == [400] * len(statuses)


def test_many_accounts_from_one_address_are_throttled_too(app):
    attacker = Client(app)
    statuses = [sign_in(attacker, f"nobody{n}@example.org", "a long wrong password").status_code for n in range(40)]
    assert statuses[:users.SIGN_IN_PER_ADDRESS.free] == [400] * users.SIGN_IN_PER_ADDRESS.free
    assert 429 in statuses[users.SIGN_IN_PER_ADDRESS.free:]


def test_a_right_password_starts_the_count_again_and_gives_the_address_its_attempt_back(app):
    person = Client(app)
    for _ in range(3):
        for n in range(4):
            assert sign_in(person, USERS["practitioner"]["email"], f"typo {n}").status_code == 400
        assert sign_in(person, USERS["practitioner"]["email"], PASSWORD).status_code == 303
        person.post("/sign-out")
    # An office signing in all morning from one address is never held up.
    for _ in range(users.SIGN_IN_PER_ADDRESS.free + 5):
        assert sign_in(Client(app), USERS["colleague"]["email"], PASSWORD).status_code == 303


def test_the_throttle_stores_no_email_and_no_address(app):
    sign_in(Client(app), "secret.person@example.org", "a long wrong password")
    session = app.extensions["db_sessions"]()
    keys = [row.key for row in session.scalars(select(ThrottleBucket))]
    session.close()
    assert len(keys) == 2 and not any("secret" in key or "127.0.0.1" in key for key in keys)


def test_at_most_a_few_passwords_are_hashed_at_once(app):
    # Real argon2 work at the production parameters (64 MiB each), from 8 threads at once.
    hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
    stored = hasher.hash("a password of some length")
    users.hashing_gauge["peak"] = 0
    start = threading.Barrier(8)

    def verify(_):
        start.wait()
        try:
            users._hash_work(hasher.verify, stored, "a wrong password guess")
        except Exception:
            pass

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(verify, range(8)))
    assert users.hashing_gauge["peak"] == users.HASHING_AT_ONCE


@pytest.mark.parametrize("password", [
    "aaaaaaaaaaaa", "abababababab", "123456789012", "abcdefghijklmnop", "qwertyuiop12",
    "password1234", "Password2026!", "iloveyou2026!!", "  welcome welcome  ", "pat@example.org!",
])
def test_common_and_guessable_passwords_are_refused_and_nothing_is_created(app, password):
    before = table_snapshot(app)
    session = app.extensions["db_sessions"]()
    with pytest.raises(users.UserError):
        users.create_user(session, email="pat2@example.org" if "pat@" not in password else "pat@example.org",
                          name="P", role="practitioner", agency="A", password=password)
    session.rollback()
    session.close()
    assert table_snapshot(app) == before


def test_a_good_password_is_accepted():
    assert password_problem("stapled orange kettle drum", "pat@example.org") is None
    assert password_problem(PASSWORD, "pat@example.org") is None


def test_the_command_refuses_a_common_password_when_changing_it(app):
    session = app.extensions["db_sessions"]()
    old_hash = session.scalar(select(User.password_hash).where(User.id == 1))
    session.close()
    result = app.test_cli_runner().invoke(args=["users", "set-password", USERS["practitioner"]["email"],
                                                "--password", "password12345"])
    assert result.exit_code != 0 and "common" in result.output
    session = app.extensions["db_sessions"]()
    assert session.scalar(select(User.password_hash).where(User.id == 1)) == old_hash
    session.close()
    result = app.test_cli_runner().invoke(args=["users", "set-password", USERS["practitioner"]["email"],
                                                "--password", "a new and unusual phrase"])
    assert result.exit_code == 0, result.output
    assert sign_in(Client(app), USERS["practitioner"]["email"], "a new and unusual phrase").status_code == 303
    assert count_rows(app, User) == len(USERS)
