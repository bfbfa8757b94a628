"""Users, passwords (argon2), sign-in throttling, API tokens (only their hashes are stored)."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..audit import audit
from ..crypto import blind_match, keyring_for
from ..models import ROLES, ApiToken, User, utcnow
from . import sessions, throttle
from .author_search import index_user
from .passwords import password_problem

# RFC 9106's low-memory profile in production (64 MiB a hash). The test suite, which hashes hundreds of
# throwaway passwords, may ask for argon2's cheapest parameters instead: same code, less work.
_hasher = PasswordHasher.from_parameters(
    profiles.CHEAPEST if os.environ.get("GUIDE_CHEAP_PASSWORD_HASHING") == "1" else profiles.RFC_9106_LOW_MEMORY
)
# Verifying against this when the email is unknown keeps sign-in time the same either way.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

# At most this many passwords are hashed at once in one process (64 MiB each): a burst of sign-ins
# waits its turn instead of taking the machine's memory. Workers × this × 64 MiB bounds it all.
HASHING_AT_ONCE = max(1, int(os.environ.get("GUIDE_PASSWORD_HASHING_AT_ONCE", "2")))
HASHING_WAIT_SECONDS = 10
_hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)
_gauge_lock = threading.Lock()
hashing_gauge = {"now": 0, "peak": 0}  # how many hashes run at once (read by tests and the bench)

# Sign-in throttles (guide/accounts/throttle.py): per account, and per address (an office shares
# one address, so it has more free attempts, and a success gives its attempt back).
SIGN_IN_PER_ACCOUNT = throttle.Rule("sign-in-account", free=5, first_delay=2, max_delay=15 * 60, forget_after=24 * 3600)
SIGN_IN_PER_ADDRESS = throttle.Rule("sign-in-address", free=30, first_delay=1, max_delay=15 * 60, forget_after=3600)

TOKEN_LIFETIME_DAYS = int(os.environ.get("GUIDE_API_TOKEN_DAYS", "90"))


class UserError(ValueError):
    pass


class Busy(Exception):
    """Too many passwords are being checked at this moment: try again shortly."""


class Throttled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"try again in {retry_after} seconds")
        self.retry_after = retry_after


def _hash_work(work, *args):
    if not _hashing.acquire(timeout=HASHING_WAIT_SECONDS):
        raise Busy()
    try:
        with _gauge_lock:
            hashing_gauge["now"] += 1
            hashing_gauge["peak"] = max(hashing_gauge["peak"], hashing_gauge["now"])
        return work(*args)
    finally:
        with _gauge_lock:
            hashing_gauge["now"] -= 1
        _hashing.release()


def hash_password(password: str) -> str:
    return _hash_work(_hasher.hash, password)


def create_user(db: Session, *, email: str, name: str, role: str, agency: str, password: str,
                team: str = "", job_title: str = "") -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise UserError(f"role must be one of: {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254:
        raise UserError("enter an email address like name@example.org")
    problem = password_problem(password, email)
    if problem:
        raise UserError(problem.lower())
    if not name.strip() or not agency.strip():
        raise UserError("name and agency are required")
    if find_by_email(db, email):
        raise UserError(f"a user with email {email} already exists")
    user = User(email=email, name=name.strip(), role=role, agency=agency.strip(), team=team.strip(),
                job_title=job_title.strip(), password_hash=hash_password(password))
    db.add(user)
    db.flush()
    index_user(db, user)  # so the records officer's author filter finds them
    audit(db, None, "user.create", "user", user.id, email=email, role=role)
    return user


def set_password(db: Session, user: User, password: str, by: User | None = None) -> None:
    """Change a user's password (same rules as a new one); every session of theirs ends."""
    problem = password_problem(password, user.email)
    if problem:
        raise UserError(problem.lower())
    user.password_hash = hash_password(password)
    sessions.end_all(db, user.id, "password changed")
    audit(db, by.id if by else None, "user.password", "user", user.id)


def find_by_email(db: Session, email: str) -> User | None:
    """The user with this email: emails are encrypted, so the match is on their blind index."""
    return db.scalar(select(User).where(blind_match(db, User.email_key, email)))


@dataclass
class SignIn:
    user: User | None  # None: wrong email or password (never which)
    account_known: bool


def _throttle_keys(db: Session, email: str, address: str) -> tuple[str, str]:
    secret = keyring_for(db).blind_index("throttle").encode()
    return (throttle.bucket_key(SIGN_IN_PER_ACCOUNT, email.strip().lower(), secret),
            throttle.bucket_key(SIGN_IN_PER_ADDRESS, address, secret))


def authenticate(db: Session, email: str, password: str, *, counts=None, address: str | None = None) -> SignIn:
    """Check an email and password. With throttle counts and an address, throttled per account and per
    address (raises Throttled, having checked nothing, while either must wait); at most
    HASHING_AT_ONCE passwords are hashed at once (raises Busy past HASHING_WAIT_SECONDS)."""
    keys = None
    if counts is not None:
        keys = _throttle_keys(db, email, address or "unknown")
        for rule, key in zip((SIGN_IN_PER_ACCOUNT, SIGN_IN_PER_ADDRESS), keys):
            verdict = counts.take_turn(rule, key)
            if not verdict.allowed:
                raise Throttled(verdict.retry_after)
    user = find_by_email(db, email)
    try:
        _hash_work(_hasher.verify, user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return SignIn(None, user is not None)
    if user is None or not user.active:
        return SignIn(None, user is not None)
    if keys is not None:
        counts.forget(keys[0])
        counts.give_back(SIGN_IN_PER_ADDRESS, keys[1])
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return SignIn(user, True)


# --- deactivation ---------------------------------------------------------------------------

def set_active(db: Session, user: User, active: bool, by: User | None = None) -> None:
    """Deactivate (every session ends, tokens stop working) or reactivate a user; audited."""
    user.active = active
    if not active:
        sessions.end_all(db, user.id, "deactivated")
    audit(db, by.id if by else None, "user.activate" if active else "user.deactivate", "user", user.id)


def end_sessions(db: Session, user: User, by: User | None = None) -> int:
    ended = sessions.end_all(db, user.id, "ended by administrator")
    audit(db, by.id if by else None, "user.end_sessions", "user", user.id, ended=ended)
    return ended


# --- API tokens -------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(db: Session, user: User, days: int | None = None, by: User | None = None) -> str:
    """A new token for the user, working for `days` (GUIDE_API_TOKEN_DAYS, default 90)."""
    days = TOKEN_LIFETIME_DAYS if days is None else days
    if not 1 <= days <= 366:
        raise UserError("a token lasts between 1 and 366 days")
    token = "gd_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_token_hash(token), expires_at=utcnow() + timedelta(days=days))
    db.add(row)
    db.flush()
    audit(db, by.id if by else user.id, "token.issue", "user", user.id, token=row.id, days=days)
    return token


def revoke_token(db: Session, token_id: int, by: User | None = None) -> ApiToken | None:
    row = db.get(ApiToken, token_id)
    if row is None:
        return None
    if not row.revoked:
        row.revoked, row.revoked_at = True, utcnow()
        audit(db, by.id if by else None, "token.revoke", "user", row.user_id, token=row.id)
    return row


def revoke_all_tokens(db: Session, user: User, by: User | None = None) -> int:
    result = db.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
                        .values(revoked=True, revoked_at=utcnow()))
    audit(db, by.id if by else None, "token.revoke_all", "user", user.id, revoked=result.rowcount or 0)
    return result.rowcount or 0


def token_state(row: ApiToken) -> str:
    if row.revoked:
        return "revoked"
    if row.expires_at is not None and sessions.aware(row.expires_at) <= utcnow():
        return "expired"
    return "active"


def user_for_token(db: Session, token: str) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked.is_(False)))
    if row is None or token_state(row) != "active" or not row.user.active:
        return None
    return row.user
