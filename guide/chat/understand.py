"""Free-text replies to a question → one of its answers, or nothing (ask again). Never a guess.

Only the answers the current question offers are considered, with the words content/chat.yaml
gives for them. In order:

1. A question back ("what counts as implied?") is not an answer.
2. Replies the guidance says cannot be read as an answer are asked again, saying why: consent
   from silence, under pressure or while intoxicated, separated parents, people who could
   consent disagreeing, an answer that differs by person or part, a tentative "I think so".
3. A reply that names another question's subject ("it's identifiable") and not this one's is
   asked again, saying which question it seems to answer.
4. Phrases for this question's answers count anywhere, and so do everyday phrases ("not that
   I'm aware of"); a one-word everyday answer ("yes", "nope") only where a clause starts.
   Uncertainty at the start of a clause governs the clause ("dunno who has PR"); beside another
   answer elsewhere in a clause ("it could be confidential") it is asked again. A phrase with a
   "not" before it is not that answer: the question's own subject denied ("I wouldn't say it's
   confidential") answers no; anything else denied is asked again unless a later "but" answers.
   A yes/no question asked back ("does that count?") is uncertainty.
5. One answer found → that answer. Several → what follows a "but" decides ("she signed, but has
   changed her mind"); otherwise asked again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..flows import Question
from .content import ChatContent
from .phrases import NEGATORS, Clause, clauses, negated, normalise, spans, starts_clause

MAX_REPLY = 500
NOT_SURE = "not_sure"
WH_QUESTION = re.compile(r"^(what|whats|what's|which|who|whose|how|why|where|when)\b")
YES_NO_QUESTION = re.compile(r"^(is|isn't|are|aren't|does|doesn't|do|don't|did|can|could|should|would|will|am|was"
                             r"|has|have|shouldn't|wouldn't|might|must)\b")


@dataclass(frozen=True)
class Understood:
    value: str | None  # None: not understood; ask again with the options
    phrase: str = ""   # what in the reply decided it
    reason: str = ""   # why it was not understood
    cite: str = ""     # the paragraph behind the reason, when there is one


@dataclass(frozen=True)
class _Found:
    value: str | None  # None: a phrase with a "not" before it, not an answer
    phrase: str
    clause: Clause
    specific: bool  # a phrase for this question (True) or an everyday word (False)


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether the phrase stands in the text as whole words ("hit her" is not in "white hers")."""
    return next(spans(normalise(text), phrase), None) is not None


def understand(reply: str, question: Question, chat: ChatContent) -> Understood:
    if len(reply) > MAX_REPLY:
        return Understood(None, reason="That reply is too long to read as an answer.")
    parts = clauses(reply, chat.shorthand)
    if not parts:
        return Understood(None, reason="I could not find an answer in that reply.")
    offered = {answer.value for answer in question.answers}
    if WH_QUESTION.match(parts[0].text) and parts[-1].question:
        return Understood(None, reason="That is a question rather than an answer. Ask it on its own and I will "
                                       "look it up; then answer this question.")
    text = " | ".join(part.text for part in parts)
    blocked = _ask_again(parts, normalise(reply, chat.shorthand), question, chat)
    if blocked:
        return blocked
    found = _found(parts, question, chat, offered) + _named(normalise(reply, chat.shorthand), parts[0], question)
    elsewhere = _other_topic(text, question, chat, found)
    if elsewhere:
        return elsewhere
    specific = [f for f in found if f.specific]
    chosen = specific or found
    if not chosen:
        return _nothing(text, question, chat, offered)
    chosen = _after_but(chosen)
    denied = next((f for f in chosen if f.value is None), None)
    if denied:
        return Understood(None, phrase=denied.phrase, reason=f"I read “{denied.phrase}” and could not be sure "
                                                             "which answer you mean.")
    values = {f.value for f in chosen}
    if len(values) != 1:
        return Understood(None, reason="That could mean more than one of the answers.")
    best = max(chosen, key=lambda f: len(f.phrase))
    return Understood(best.value, phrase=best.phrase)


def _ask_again(parts: list[Clause], text: str, question: Question, chat: ChatContent) -> Understood | None:
    hedged = any(_at_start(part, phrase, chat) for part in parts for phrase in chat.answer_words.get(NOT_SURE, ()))
    for rule in chat.ask_again:
        if not rule.applies_to(question.id) or (rule.id == "tentative" and hedged):
            continue
        for phrase in rule.phrases:
            if next(spans(text, phrase), None):
                return Understood(None, phrase=phrase, reason=rule.reason, cite=rule.cite)
    rule = chat.disagreement
    if rule and question.id in rule.questions and _disagree(parts, rule):
        return Understood(None, reason=rule.reason, cite=rule.cite)
    return None


def _disagree(parts: list[Clause], rule) -> bool:
    """Two different people in the reply, one agreeing and another refusing."""
    stances: dict[str, set[str]] = {}
    for part in parts:
        person = None
        for phrase in rule.people:
            for start, end in spans(part.text, phrase):
                person = part.text[start:end]
        if person is None:
            continue
        for stance, phrases in (("agree", rule.agree), ("refuse", rule.refuse)):
            if any(next(spans(part.text, p), None) for p in phrases):
                stances.setdefault(stance, set()).add(person)
    agreeing, refusing = stances.get("agree", set()), stances.get("refuse", set())
    return bool(agreeing and refusing and (agreeing | refusing) - (agreeing & refusing))


def _at_start(part: Clause, phrase: str, chat: ChatContent) -> bool:
    return any(starts_clause(part.text, start, chat.fillers) for start, _ in spans(part.text, phrase))


def _found(parts: list[Clause], question: Question, chat: ChatContent, offered: set[str]):
    own_topics = [t for t in chat.topics if question.id in t.questions]
    found = []
    for part in parts:
        if YES_NO_QUESTION.match(part.text) and part.question and NOT_SURE in offered:
            found.append(_Found(NOT_SURE, part.text, part, True))
            continue
        candidates = []  # (start, end, value, phrase, specific)
        for answer in question.answers:
            value = answer.value
            for phrase in chat.answer_phrases.get((question.id, value), ()):
                candidates += [(s, e, value, phrase, True) for s, e in spans(part.text, phrase)]
            for phrase in {normalise(answer.label), value.replace("_", " "), *chat.answer_words.get(value, ())}:
                candidates += [(s, e, value, phrase, False) for s, e in spans(part.text, phrase)
                               if " " in phrase or starts_clause(part.text, s, chat.fillers)]
        for value, phrases in chat.answer_words.items():  # answers not offered still hold their words:
            if value not in offered:                       # "no idea" is not "no" where "not sure" isn't offered
                candidates += [(s, e, None, p, False) for p in phrases for s, e in spans(part.text, p)
                               if " " in p or starts_clause(part.text, s, chat.fillers)]
        for topic in own_topics:
            if topic.negated in offered:
                for phrase in topic.words:
                    candidates += [(s, e, "", phrase, True) for s, e in spans(part.text, phrase)]
        kept = []
        for start, end, value, phrase, specific in sorted(candidates, key=lambda c: (c[0] - c[1], not c[4])):
            if any(start < k_end and end > k_start for k_start, k_end, *_ in kept):
                continue  # overlapping phrases: the longest wins ("i don't know" is not "i don't")
            kept.append((start, end, value, phrase, specific))
        hedge = next(((s, phrase) for s, _, value, phrase, _ in kept if value == NOT_SURE), None)
        if hedge and starts_clause(part.text, hedge[0], chat.fillers):
            found.append(_Found(NOT_SURE, hedge[1], part, True))  # "dunno who has PR": the doubt governs
            continue
        in_clause = []
        for start, end, value, phrase, specific in kept:
            # A "no" before a phrase that is itself negative ("no, she hasn't been asked") is emphasis.
            denial = negated(part.text, start) if specific and not NEGATORS & set(phrase.split()) else ""
            topic = next((t for t in own_topics if phrase in t.words), None)
            if topic and (denial or not value):
                if denial:
                    in_clause.append(_Found(topic.negated, f"{denial} … {phrase}", part, True))
                # else: the subject named, not answered
            elif denial:
                in_clause.append(_Found(None, f"{denial} … {phrase}", part, True))
            elif value:
                in_clause.append(_Found(value, phrase, part, specific))
            # value None: words of an answer this question does not offer; they only hold their place
        if hedge and any(f.value != NOT_SURE for f in in_clause):
            in_clause = [_Found(None, hedge[1], part, True)]  # "it could be confidential": unsure of what?
        found += in_clause
    return found


def _named(full: str, first: Clause, question: Question) -> list[_Found]:
    """An answer named by its value or label across a comma ("yes, exempt" → yes_exempt)."""
    found = []
    for answer in question.answers:
        for phrase in {answer.value.replace("_", " "), normalise(answer.label)}:
            if " " in phrase and next(spans(full, phrase), None) and not negated(full, full.index(phrase)):
                found.append(_Found(answer.value, phrase, first, True))
    return found


def _other_topic(text: str, question: Question, chat: ChatContent, found: list[_Found]) -> Understood | None:
    if any(f.specific for f in found):
        return None
    own = [t for t in chat.topics if question.id in t.questions]
    if any(next(spans(text, w), None) for t in own for w in t.words):
        return None
    for topic in chat.topics:
        if question.id not in topic.questions and any(next(spans(text, w), None) for w in topic.words):
            return Understood(None, reason=f"That sounds like an answer about {topic.about}, but this question asks: "
                                           f"“{question.text}”")
    return None


def _after_but(found: list[_Found]) -> list[_Found]:
    """What follows the last "but" that has an answer in it, if anything before it had one too."""
    last_but = max((f.clause.index for f in found if f.clause.after_but), default=None)
    if last_but is None or not any(f.clause.index < last_but for f in found):
        return found
    return [f for f in found if f.clause.index >= last_but]


def _nothing(text: str, question: Question, chat: ChatContent, offered: set[str]) -> Understood:
    """No answer found: say so, and when everyday words fit answers this question doesn't offer, which to choose."""
    for value, phrases in chat.answer_words.items():
        if value in offered or value not in ("yes", "no"):
            continue
        if any(next(spans(text, phrase), None) for phrase in phrases):
            labels = [a.label for a in question.answers if a.value != NOT_SURE]
            return Understood(None, reason=f"“{value.replace('_', ' ').capitalize()}” could mean more than one "
                                           f"answer here: {'; '.join(labels)}.")
    return Understood(None, reason="I could not match that to one of the answers.")
