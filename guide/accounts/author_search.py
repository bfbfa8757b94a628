"""Finding practitioners by part of their name or email without decrypting every user.

Names and emails are encrypted, so a records officer's "Practitioner" filter cannot be a LIKE. For
each word of a user's name and email (split at spaces and punctuation) the index keeps a blind
index (keyed HMAC, guide/crypto.py) of each of its beginnings, at least MIN_PREFIX characters long;
a search text's words must each begin a word of the user's name or email. "pat", "practi",
"pat prac" and "example.org" find Pat Practitioner <pat@example.org>; "ctitio" does not (the
middle of a word is not indexed).
"""

from __future__ import annotations

import re

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ..crypto import KeyRing, keyring_for
from ..models import User, UserSearchKey

MIN_PREFIX = 2
MAX_WORD = 40
_WORDS = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return [word[:MAX_WORD] for word in _WORDS.findall((text or "").casefold())]


def _hashed(keyring: KeyRing, prefix: str) -> list[str]:
    return keyring.blind_indexes(f"author-prefix:{prefix}")


def keys_for(keyring: KeyRing, name: str, email: str) -> set[str]:
    """The newest key's blind index of every beginning of every word of the name and email."""
    found = set()
    for word in words(name) + words(email):
        for end in range(min(MIN_PREFIX, len(word)), len(word) + 1):
            found.add(_hashed(keyring, word[:end])[0])
    return found


def index_user(db: Session, user: User) -> None:
    """(Re)write the user's search keys; call after the user's name or email is set."""
    db.flush()
    keyring = keyring_for(db)
    db.execute(delete(UserSearchKey).where(UserSearchKey.user_id == user.id))
    keys = keys_for(keyring, user.name, user.email)
    if keys:
        db.execute(insert(UserSearchKey), [{"user_id": user.id, "key": key} for key in keys])


def matching_user_ids(db: Session, text: str):
    """A subquery of the ids of users for whom each of the text's words begins a word of their name or
    email (under any key in the ring, so it keeps working during a key rotation)."""
    wanted = [word for word in words(text) if len(word) >= MIN_PREFIX] or words(text)
    if not wanted:
        return select(UserSearchKey.user_id).where(False)
    keyring = keyring_for(db)
    query = select(User.id)
    for word in wanted:
        query = query.where(User.id.in_(select(UserSearchKey.user_id).where(UserSearchKey.key.in_(_hashed(keyring, word)))))
    return query


def reindex_all(session: Session) -> int:
    """Every user's keys again, under the newest key (after `keys rotate`, and by the migration)."""
    count = 0
    for user in session.scalars(select(User)):
        index_user(session, user)
        count += 1
    return count
