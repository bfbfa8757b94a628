"""Users, passwords (argon2) and API tokens (only their hashes are stored)."""

from __future__ import annotations

import hashlib
import os
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import audit
from ..crypto import blind_match
from ..models import ROLES, ApiToken, User
from .author_search import index_user

# RFC 9106's low-memory profile in production. The test suite, which hashes hundreds of
# throwaway passwords, may ask for argon2's cheapest parameters instead: same code, less work.
_hasher = PasswordHasher.from_parameters(
    profiles.CHEAPEST if os.environ.get("GUIDE_CHEAP_PASSWORD_HASHING") == "1" else profiles.RFC_9106_LOW_MEMORY
)
# Verifying against this when the email is unknown keeps sign-in time the same either way.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

MIN_PASSWORD_LENGTH = 12


class UserError(ValueError):
    pass


def create_user(db: Session, *, email: str, name: str, role: str, agency: str, password: str,
                team: str = "", job_title: str = "") -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise UserError(f"role must be one of: {', '.join(ROLES)}")
    if "@" not in email or len(email) > 254:
        raise UserError("enter an email address like name@example.org")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if not name.strip() or not agency.strip():
        raise UserError("name and agency are required")
    if find_by_email(db, email):
        raise UserError(f"a user with email {email} already exists")
    user = User(email=email, name=name.strip(), role=role, agency=agency.strip(), team=team.strip(),
                job_title=job_title.strip(), password_hash=_hasher.hash(password))
    db.add(user)
    db.flush()
    index_user(db, user)  # so the records officer's author filter finds them
    audit(db, None, "user.create", "user", user.id, email=email, role=role)
    return user


def find_by_email(db: Session, email: str) -> User | None:
    """The user with this email: emails are encrypted, so the match is on their blind index."""
    return db.scalar(select(User).where(blind_match(db, User.email_key, email)))


def authenticate(db: Session, email: str, password: str) -> User | None:
    user = find_by_email(db, email)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(db: Session, user: User) -> str:
    token = "gd_" + secrets.token_urlsafe(32)
    db.add(ApiToken(user_id=user.id, token_hash=_token_hash(token)))
    audit(db, user.id, "token.issue", "user", user.id)
    return token


def user_for_token(db: Session, token: str) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked.is_(False)))
    if row is None or not row.user.active:
        return None
    return row.user
