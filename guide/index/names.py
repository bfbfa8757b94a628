"""How a child's names and number are checked and normalised for exact look-ups on the index.

One rule for recording and for looking up, so a child recorded as "Zoë O’Neill" is found by
"ZOË O'NEILL", "zoe\u0308 o'neill" (the same letters typed another way) or "Zoë O-Neill" with a
phone's hyphen: Unicode NFKC (one form for letters that can be typed several ways), case folded,
and everything that is not a letter (spaces, hyphens, apostrophes of every kind) left out of the
key. Names in any script are accepted; part names and wildcards are not (IDX §2.29: no trawling).

Kept apart from the service so guide/crypto.py (the blind index normalisers) and the synthetic
generator can use the same rules without importing the models.
"""

from __future__ import annotations

import unicodedata

# What may separate the parts of a name: spaces, hyphens and dashes, apostrophes as phones and
# word processors type them. U+02BC (modifier letter apostrophe) counts as a letter in Unicode,
# so it is named here to be treated as the apostrophe it is used as.
APOSTROPHES = "'’‘ʼ`´′ʻ"
HYPHENS = "-‐‑‒–—―−"
SEPARATORS = set(" " + APOSTROPHES + HYPHENS)


def _is_letter(character: str) -> bool:
    return character not in APOSTROPHES and unicodedata.category(character)[0] in "LM"


def name_key(name: str) -> str:
    """A name as look-ups compare it: NFKC, case folded, letters only ("O’Brien-Smith" → "obriensmith")."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return "".join(character for character in folded if _is_letter(character))


def is_full_name(name: str) -> bool:
    """Letters in any script with spaces, hyphens or apostrophes between them; at least two letters,
    starting with one. Wildcards (* % ? _), digits and single initials are refused."""
    name = unicodedata.normalize("NFKC", name.strip())
    if not 2 <= len(name) <= 100 or not _is_letter(name[0]):
        return False
    if not all(_is_letter(character) or character in SEPARATORS for character in name):
        return False
    return sum(1 for character in name if _is_letter(character) and unicodedata.category(character)[0] == "L") >= 2


def upn_key(upn: str) -> str:
    """A unique number as look-ups compare it: upper case, no spaces."""
    return "".join(upn.split()).upper()


def identity_text(family_key: str, given_key: str, dob_iso: str) -> str:
    """What the identity blind index is taken of: both name keys and the date of birth (YYYY-MM-DD)."""
    return f"{family_key}|{given_key}|{dob_iso[:10]}"


def identity(family_name: str, given_name: str, dob: str) -> str:
    return identity_text(name_key(family_name), name_key(given_name), dob)
