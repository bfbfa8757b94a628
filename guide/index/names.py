"""How a child's identifying details are normalised for exact look-ups on the index.

Kept apart from the service so guide/crypto.py (the blind index normalisers) and the synthetic
generator can use the same rules without importing the models.
"""

from __future__ import annotations

import re

_NOT_A_LETTER = re.compile(r"[^a-z]")


def name_key(name: str) -> str:
    """A name as look-ups compare it: lower case, letters only ("O'Brien-Smith" → "obriensmith")."""
    return _NOT_A_LETTER.sub("", name.lower())


def upn_key(upn: str) -> str:
    """A unique number as look-ups compare it: upper case, no spaces."""
    return "".join(upn.split()).upper()


def identity_text(family_key: str, given_key: str, dob_iso: str) -> str:
    """What the identity blind index is taken of: both name keys and the date of birth (YYYY-MM-DD)."""
    return f"{family_key}|{given_key}|{dob_iso[:10]}"


def identity(family_name: str, given_name: str, dob: str) -> str:
    return identity_text(name_key(family_name), name_key(given_name), dob)
