"""Free-text replies to a question → one of its answers, or nothing (ask again). Never a guess.

A reply is understood when it is an answer's label or value, or contains a phrase that
content/chat.yaml gives for that answer. Where phrases overlap the longest wins ("I don't
know" is not "I don't"); if what is left points at two different answers ("yes and no"), or
at none, the reply is not understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..flows import Question
from .content import ChatContent

MAX_REPLY = 500


@dataclass(frozen=True)
class Understood:
    value: str | None  # None: not understood; ask again with the options
    phrase: str = ""   # what in the reply decided it
    reason: str = ""   # why it was not understood


def _normalise(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether the phrase stands in the text as whole words ("hit her" is not in "white hers")."""
    return next(_spans(_normalise(text), phrase), None) is not None


def _spans(text: str, phrase: str):
    for match in re.finditer(rf"(?<![a-z0-9']){re.escape(phrase)}(?![a-z0-9'])", text):
        yield match.start(), match.end()


def understand(reply: str, question: Question, chat: ChatContent) -> Understood:
    if len(reply) > MAX_REPLY:
        return Understood(None, reason="That reply is too long to read as an answer.")
    text = _normalise(reply)
    if not text:
        return Understood(None, reason="I could not find an answer in that reply.")
    found = []  # (start, end, value, phrase)
    for answer in question.answers:
        phrases = {_normalise(answer.label), answer.value.replace("_", " ")}
        phrases.update(chat.answer_words.get(answer.value, ()))
        phrases.update(chat.answer_phrases.get((question.id, answer.value), ()))
        for phrase in filter(None, phrases):
            found.extend((start, end, answer.value, phrase) for start, end in _spans(text, phrase))
    kept = []
    for start, end, value, phrase in sorted(found, key=lambda f: f[0] - f[1]):  # longest first
        if all(end <= k_start or start >= k_end for k_start, k_end, *_ in kept):
            kept.append((start, end, value, phrase))
    values = {value for _, _, value, _ in kept}
    if not values:
        return Understood(None, reason="I could not match that to one of the answers.")
    if len(values) > 1:
        return Understood(None, reason="That could mean more than one of the answers.")
    return Understood(kept[0][2], phrase=kept[0][3])
