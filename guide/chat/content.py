"""Read `content/chat.yaml` (answer words, reply rules, synonyms, flowchart hints) and
`content/chat_urgent.yaml` (the signals of a child in danger now).

Checked like the flowcharts (every problem with file and line), and against them: phrases for
a question's answers, and the questions a rule names, must be real questions and answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..flows.content import CITE_PATTERN, _Checker, open_content_file
from ..flows.yaml_lines import ContentError, Located
from .urgent import GRAVE_WITH, MARKERS, STRENGTHS, Signal, UrgentSignals

CHAT_FILE = "chat.yaml"
URGENT_FILE = "chat_urgent.yaml"
TOP_KEYS = {"urgent": True, "decision_requests": True, "flowchart_hints": True, "synonyms": False,
            "abbreviations": False, "shorthand": False, "fillers": False, "answer_words": True, "answers": False,
            "ask_again": False, "disagreement": False, "topics": False}


@dataclass(frozen=True)
class Prompt:
    title: str
    body: str
    cite: str
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class UrgentPrompt:
    """The urgent-action prompt, the line on every chat page, and the "in danger now?" question."""
    title: str
    body: str
    cite: str
    always: str
    question: str
    hint: str
    no_reply: str


@dataclass(frozen=True)
class ReplyRule:
    """Replies that must be asked again (said with `reason`), for `questions` (None: every question)."""
    id: str
    reason: str
    cite: str
    phrases: tuple[str, ...]
    questions: frozenset[str] | None = None

    def applies_to(self, question_id: str) -> bool:
        return self.questions is None or question_id in self.questions


@dataclass(frozen=True)
class Disagreement:
    """People who could consent, one agreeing and another refusing."""
    reason: str
    cite: str
    questions: frozenset[str]
    people: tuple[str, ...]
    agree: tuple[str, ...]
    refuse: tuple[str, ...]


@dataclass(frozen=True)
class Topic:
    about: str
    questions: frozenset[str]
    words: tuple[str, ...]
    negated: str | None = None  # the answer a reply gives by denying the subject


@dataclass
class ChatContent:
    urgent: UrgentPrompt
    decision_requests: Prompt
    default_flowchart: str
    flowchart_rules: tuple[tuple[str, tuple[str, ...]], ...]
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    answer_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # (question id, answer value) → phrases
    answer_phrases: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    abbreviations: dict[str, str] = field(default_factory=dict)
    shorthand: dict[str, str] = field(default_factory=dict)
    fillers: frozenset[str] = frozenset()
    ask_again: tuple[ReplyRule, ...] = ()
    disagreement: Disagreement | None = None
    topics: tuple[Topic, ...] = ()
    signals: UrgentSignals | None = None  # from chat_urgent.yaml


def _phrases(check: _Checker, data: Located, key: str, what: str) -> tuple[str, ...]:
    raw = data.get(key)
    if not isinstance(raw, list) or not raw:
        check.fail(data.line_of(key), f"{what}: '{key}' must be a list of phrases")
        return ()
    phrases = []
    for phrase in raw:
        if not isinstance(phrase, str) or not phrase.strip():
            check.fail(data.line_of(key), f"{what}: every phrase must be text")
            continue
        if phrase != phrase.lower().strip():
            check.fail(data.line_of(key), f"{what}: write phrases in lower case ('{phrase}')")
        phrases.append(" ".join(phrase.lower().split()))
    return tuple(phrases)


def _prompt(check: _Checker, top: Located, key: str, body_key: str) -> Prompt:
    raw = check.mapping(top.get(key), top.line_of(key), key) or Located()
    allowed = {"title": False, body_key: True, "cite": True, "phrases": True}
    check.keys(raw, allowed, key) if raw else None
    cite = check.text(raw, "cite", key)
    if cite and not CITE_PATTERN.search(cite):
        check.fail(raw.line_of("cite"), f"{key}: cite '{cite}' does not name a source and paragraph")
    return Prompt(title=check.text(raw, "title", key), body=check.text(raw, body_key, key), cite=cite,
                  phrases=_phrases(check, raw, "phrases", key) if raw else ())


def _urgent_prompt(check: _Checker, top: Located) -> UrgentPrompt:
    raw = check.mapping(top.get("urgent"), top.line_of("urgent"), "urgent") or Located()
    fields = ("title", "body", "always", "question", "hint", "no_reply")
    if raw:
        check.keys(raw, {**{f: True for f in fields}, "cite": True}, "urgent")
    return UrgentPrompt(cite=_cited(check, raw, "urgent"), **{f: check.text(raw, f, "urgent") for f in fields})


def load_chat_content(directory: Path, flowcharts: dict) -> ChatContent:
    check, top = open_content_file(Path(directory) / CHAT_FILE, TOP_KEYS)
    urgent = _urgent_prompt(check, top)
    requests = _prompt(check, top, "decision_requests", "reply")
    hints = check.mapping(top.get("flowchart_hints"), top.line_of("flowchart_hints"), "flowchart_hints") or Located()
    default = check.text(hints, "default", "flowchart_hints")
    if default not in flowcharts:
        check.fail(hints.line_of("default"), f"flowchart_hints: unknown flowchart '{default}'")
    rules = []
    for rule in hints.get("rules") or []:
        rule = check.mapping(rule, hints.line_of("rules"), "flowchart_hints rule")
        if rule is None or not check.keys(rule, {"flowchart": True, "phrases": True}, "flowchart_hints rule"):
            continue
        chart_id = check.text(rule, "flowchart", "flowchart_hints rule")
        if chart_id not in flowcharts:
            check.fail(rule.line_of("flowchart"), f"flowchart_hints rule: unknown flowchart '{chart_id}'")
        rules.append((chart_id, _phrases(check, rule, "phrases", f"flowchart_hints rule '{chart_id}'")))
    synonyms = {}
    raw_synonyms = check.mapping(top.get("synonyms") or Located(), top.line_of("synonyms"), "synonyms") or {}
    for word, alternatives in raw_synonyms.items():
        holder = Located({"words": alternatives})
        holder.line, holder.key_lines = raw_synonyms.line_of(word), {}
        synonyms[word.lower()] = _phrases(check, holder, "words", f"synonyms '{word}'")
    words = {}
    raw_words = check.mapping(top.get("answer_words"), top.line_of("answer_words"), "answer_words") or {}
    for value in raw_words:
        words[value] = _phrases(check, raw_words, value, f"answer_words '{value}'")
    phrases = {}
    raw_answers = check.mapping(top.get("answers") or Located(), top.line_of("answers"), "answers") or {}
    for question_id, by_value in raw_answers.items():
        question = next((c.questions[question_id] for c in flowcharts.values() if question_id in c.questions), None)
        if question is None:
            check.fail(raw_answers.line_of(question_id), f"answers: unknown question '{question_id}'")
            continue
        by_value = check.mapping(by_value, raw_answers.line_of(question_id), f"answers '{question_id}'") or {}
        for value in by_value:
            if question.answer(value) is None:
                check.fail(by_value.line_of(value), f"answers '{question_id}': '{value}' is not one of its answers")
                continue
            phrases[(question_id, value)] = _phrases(check, by_value, value, f"answers '{question_id}' '{value}'")
    question_ids = {q for chart in flowcharts.values() for q in chart.questions}
    rules_for_replies = _reply_rules(check, top, question_ids)
    disagreement = _disagreement(check, top, question_ids)
    topics = _topics(check, top, question_ids)
    abbreviations = _word_map(check, top, "abbreviations")
    shorthand = _word_map(check, top, "shorthand")
    fillers = frozenset(_phrases(check, top, "fillers", "fillers")) if "fillers" in top else frozenset()
    if check.issues:
        raise ContentError(check.issues)
    signals = load_signals(Path(directory))
    return ChatContent(urgent=urgent, decision_requests=requests, default_flowchart=default,
                       flowchart_rules=tuple(rules), synonyms=synonyms, answer_words=words, answer_phrases=phrases,
                       abbreviations=abbreviations, shorthand=shorthand, fillers=fillers, ask_again=rules_for_replies,
                       disagreement=disagreement, topics=topics, signals=signals)


def _word_map(check: _Checker, top: Located, key: str) -> dict[str, str]:
    raw = check.mapping(top.get(key) or Located(), top.line_of(key), key) or {}
    found = {}
    for word, meaning in raw.items():
        if not isinstance(meaning, str) or str(word) != str(word).lower():
            check.fail(raw.line_of(word), f"{key}: '{word}' needs lower-case text for what it stands for")
            continue
        found[str(word)] = " ".join(meaning.lower().split())
    return found


def _questions(check: _Checker, raw: Located, what: str, known: set[str]) -> frozenset[str] | None:
    if "questions" not in raw:
        return None
    listed = raw.get("questions")
    if not isinstance(listed, list):
        check.fail(raw.line_of("questions"), f"{what}: 'questions' must be a list of question ids")
        return frozenset()
    for question_id in listed:
        if question_id not in known:
            check.fail(raw.line_of("questions"), f"{what}: unknown question '{question_id}'")
    return frozenset(listed)


def _cited(check: _Checker, raw: Located, what: str) -> str:
    cite = check.text(raw, "cite", what)
    if cite and not CITE_PATTERN.search(cite):
        check.fail(raw.line_of("cite"), f"{what}: cite '{cite}' does not name a source and paragraph")
    return cite


def _reply_rules(check: _Checker, top: Located, known: set[str]) -> tuple[ReplyRule, ...]:
    rules = []
    for raw in top.get("ask_again") or []:
        raw = check.mapping(raw, top.line_of("ask_again"), "ask_again rule")
        if raw is None or not check.keys(raw, {"id": True, "reason": True, "cite": True, "phrases": True,
                                                "questions": False}, "ask_again rule"):
            continue
        what = f"ask_again '{raw.get('id')}'"
        rules.append(ReplyRule(id=check.text(raw, "id", what), reason=check.text(raw, "reason", what),
                               cite=_cited(check, raw, what), phrases=_phrases(check, raw, "phrases", what),
                               questions=_questions(check, raw, what, known)))
    return tuple(rules)


def _disagreement(check: _Checker, top: Located, known: set[str]) -> Disagreement | None:
    if "disagreement" not in top:
        return None
    raw = check.mapping(top.get("disagreement"), top.line_of("disagreement"), "disagreement") or Located()
    if not check.keys(raw, {"questions": True, "reason": True, "cite": True, "people": True, "agree": True,
                            "refuse": True}, "disagreement"):
        return None
    return Disagreement(reason=check.text(raw, "reason", "disagreement"), cite=_cited(check, raw, "disagreement"),
                        questions=_questions(check, raw, "disagreement", known) or frozenset(),
                        people=_phrases(check, raw, "people", "disagreement"),
                        agree=_phrases(check, raw, "agree", "disagreement"),
                        refuse=_phrases(check, raw, "refuse", "disagreement"))


def _topics(check: _Checker, top: Located, known: set[str]) -> tuple[Topic, ...]:
    topics = []
    for raw in top.get("topics") or []:
        raw = check.mapping(raw, top.line_of("topics"), "topic")
        if raw is None or not check.keys(raw, {"about": True, "questions": True, "words": True, "negated": False},
                                         "topic"):
            continue
        what = f"topic '{raw.get('about')}'"
        topics.append(Topic(about=check.text(raw, "about", what), words=_phrases(check, raw, "words", what),
                            questions=_questions(check, raw, what, known) or frozenset(),
                            negated=str(raw["negated"]) if "negated" in raw else None))
    return tuple(topics)


def load_signals(directory: Path) -> UrgentSignals:
    check, top = open_content_file(Path(directory) / URGENT_FILE, {**{m: True for m in MARKERS}, "signals": True})
    markers, cites = {}, {}
    for marker in MARKERS:
        raw = check.mapping(top.get(marker), top.line_of(marker), marker) or Located()
        if raw and check.keys(raw, {"cite": True, "phrases": True}, marker):
            cites[marker] = _cited(check, raw, marker)
            markers[marker] = _phrases(check, raw, "phrases", marker)
    signals, seen = [], set()
    for raw in top.get("signals") or []:
        raw = check.mapping(raw, top.line_of("signals"), "signal")
        if raw is None or not check.keys(raw, {"id": True, "about": True, "strength": True, "cite": True,
                                                "phrases": True, "grave_with": False}, "signal"):
            continue
        what = f"signal '{raw.get('id')}'"
        signal_id = check.ident(raw, "id", what)
        if signal_id in seen:
            check.fail(raw.line_of("id"), f"{what}: the id is used twice")
        seen.add(signal_id)
        strength = raw.get("strength")
        if strength not in STRENGTHS:
            check.fail(raw.line_of("strength"), f"{what}: strength must be one of {', '.join(STRENGTHS)}")
        grave_with = raw.get("grave_with")
        if grave_with not in (None, *GRAVE_WITH):
            check.fail(raw.line_of("grave_with"), f"{what}: grave_with must be one of {', '.join(GRAVE_WITH)}")
        signals.append(Signal(id=signal_id, about=check.text(raw, "about", what), strength=strength,
                              grave_with=grave_with, cite=_cited(check, raw, what),
                              phrases=_phrases(check, raw, "phrases", what)))
    if check.issues:
        raise ContentError(check.issues)
    return UrgentSignals(markers=markers, cites=cites, signals=tuple(signals))
