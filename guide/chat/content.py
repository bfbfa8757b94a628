"""Read `content/chat.yaml`: urgent-danger phrases, answer words, synonyms, flowchart hints.

Checked like the flowcharts (every problem with file and line), and against them: phrases for
a question's answers must name a real question and answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..flows.content import CITE_PATTERN, _Checker, open_content_file
from ..flows.yaml_lines import ContentError, Located

CHAT_FILE = "chat.yaml"
TOP_KEYS = {"urgent": True, "decision_requests": True, "flowchart_hints": True, "synonyms": False,
            "answer_words": True, "answers": False}


@dataclass(frozen=True)
class Prompt:
    title: str
    body: str
    cite: str
    phrases: tuple[str, ...]


@dataclass
class ChatContent:
    urgent: Prompt
    decision_requests: Prompt
    default_flowchart: str
    flowchart_rules: tuple[tuple[str, tuple[str, ...]], ...]
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    answer_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # (question id, answer value) → phrases
    answer_phrases: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)


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


def load_chat_content(directory: Path, flowcharts: dict) -> ChatContent:
    check, top = open_content_file(Path(directory) / CHAT_FILE, TOP_KEYS)
    urgent = _prompt(check, top, "urgent", "body")
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
    if check.issues:
        raise ContentError(check.issues)
    return ChatContent(urgent=urgent, decision_requests=requests, default_flowchart=default,
                       flowchart_rules=tuple(rules), synonyms=synonyms, answer_words=words, answer_phrases=phrases)
