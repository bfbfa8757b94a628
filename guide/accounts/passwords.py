"""Which passwords are accepted, when an account is created or its password changed.

NCSC and NIST SP 800-63B advice: a minimum length, no composition rules, and a refusal of
passwords that attackers try first: the most common ones (a bundled list), one character
over and over, a run along the keyboard or the alphabet, and the account's own email.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

COMMON_PASSWORDS = Path(__file__).parent / "data" / "common_passwords.txt"
RUNS = ("0123456789012345678901234567890", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
        "qwertyuiopqwertyuiop", "asdfghjklasdfghjkl", "zxcvbnmzxcvbnm", "1q2w3e4r5t6y7u8i9o0p")


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text().splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _squashed(text: str) -> str:
    """Lower case, without spaces, and without the digits and symbols people add to either end."""
    return re.sub(r"^[\W\d_]+|[\W\d_]+$", "", text.casefold().replace(" ", ""))


def password_problem(password: str, email: str = "") -> str | None:
    """Why this password is refused, in words for the person choosing it; None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    folded = password.casefold()
    if len(set(folded)) <= 2:
        return "Password must not be one or two characters repeated"
    if any(folded.replace(" ", "") in run or folded[::-1] in run for run in RUNS):
        return "Password must not be a run of keys or letters, like 123456789012 or abcdefghijkl"
    common = common_passwords()
    if folded in common or folded.replace(" ", "") in common or _squashed(password) in common:
        return "Password is one of the most common passwords: choose one that is harder to guess"
    email = email.strip().casefold()
    local = email.split("@", 1)[0]
    if email and (email in folded or (len(local) >= 4 and local in folded)):
        return "Password must not contain your email address"
    return None
