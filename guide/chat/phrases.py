"""Finding content's phrases in what people type: shorthand, clauses, whole words, negation.

Shared by the reading of replies (understand.py) and of worries (urgent.py). A phrase is lower
case words; a word ending in `*` matches any word it starts ("strangl*" finds "strangled").
Text is read clause by clause (split at . , ; : ! ? dashes, "but" and "&") so that "yes for the
older one, not the baby" is two clauses, and a "not" only negates words in its own clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# A clause ends at punctuation, a dash between words, or "but" (what follows "but" usually
# corrects what came before it).
CLAUSE_BREAK = re.compile(r"[.,;:!?()\[\]\n]+|\s[-–—/]+\s|\s[-–—]+(?=\w)|\bbut\b|&|\+")
NEGATORS = frozenset("""not no never nothing without nobody none isn't wasn't aren't weren't don't doesn't didn't
won't wouldn't haven't hasn't hadn't can't cannot couldn't shouldn't nor""".split())
NEGATION_REACH = 4  # a negator negates a phrase up to this many words after it, within a clause


def normalise(text: str, shorthand: dict[str, str] | None = None) -> str:
    """Lower case, curly quotes straightened, shorthand spelt out, only letters, digits and apostrophes."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("`", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    words = []
    for word in text.split():
        word = word.strip("'") or word
        replacement = (shorthand or {}).get(word)
        words.extend((replacement if replacement is not None else word).split())
    return " ".join(words)


@dataclass(frozen=True)
class Clause:
    text: str          # normalised
    index: int         # position in the reply
    after_but: bool    # the clause follows a "but"
    question: bool     # the clause ended with a question mark


def clauses(text: str, shorthand: dict[str, str] | None = None) -> list[Clause]:
    found, start, after_but = [], 0, False
    for match in list(CLAUSE_BREAK.finditer(text)) + [None]:
        end = match.start() if match else len(text)
        piece = normalise(text[start:end], shorthand)
        question = bool(match and "?" in match.group(0))
        if piece:
            found.append(Clause(piece, len(found), after_but, question))
            after_but = False
        if match:
            after_but = after_but or match.group(0).strip().lower() == "but"
            start = match.end()
    return found


@lru_cache(maxsize=4096)
def compile_phrase(phrase: str) -> re.Pattern:
    parts = []
    for word in phrase.split():
        prefix = word.endswith("*")
        part = r"[0-9]+".join(re.escape(piece) for piece in word.rstrip("*").split("#"))
        parts.append(part + (r"[a-z0-9']*" if prefix else ""))
    return re.compile(r"(?<![a-z0-9'])" + r"\s+".join(parts) + r"(?![a-z0-9'])")


def spans(text: str, phrase: str):
    """(start, end) of each whole-word occurrence of the phrase in normalised text."""
    for match in compile_phrase(phrase).finditer(text):
        yield match.start(), match.end()


def contains(text: str, phrase: str) -> bool:
    return next(spans(text, phrase), None) is not None


def negated(text: str, start: int) -> str:
    """The negating word just before position `start` in a clause, or ''."""
    before = text[:start].split()[-NEGATION_REACH:]
    return next((word for word in reversed(before) if word in NEGATORS), "")


def starts_clause(text: str, start: int, fillers: frozenset[str]) -> bool:
    """Whether only filler words ("well", "hmm") come before `start` in the clause."""
    return all(word in fillers for word in text[:start].split())
