"""The shapes content is read into. Nothing here knows any particular flowchart."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Route:
    """Where an answer leads: `goto`, taken when every `when` condition holds.

    `when` maps an earlier question's id to the answer values that satisfy it.
    """

    goto: str
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    line: int = 0

    def applies(self, answers: dict[str, str]) -> bool:
        return all(answers.get(question) in values for question, values in self.when)


@dataclass(frozen=True)
class Answer:
    value: str
    label: str
    reason: str
    routes: tuple[Route, ...]
    hint: str = ""
    line: int = 0

    def next_for(self, answers: dict[str, str]) -> str | None:
        for route in self.routes:
            if route.applies(answers):
                return route.goto
        return None


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    help: str
    cite: str
    answers: tuple[Answer, ...]
    hint: str = ""
    key: bool = False
    terms: tuple[str, ...] = ()
    line: int = 0
    # Process flowcharts: who is responsible at this step, what they do, and by when.
    who: tuple[str, ...] = ()
    does: str = ""
    timescale: str = ""

    def answer(self, value: str) -> Answer | None:
        return next((a for a in self.answers if a.value == value), None)


@dataclass(frozen=True)
class Outcome:
    id: str
    decision: str  # empty for the stages of a process flowchart, which decide nothing about sharing
    title: str
    body: str
    cite: str
    line: int = 0
    who: tuple[str, ...] = ()
    does: str = ""
    timescale: str = ""
    next_flowchart: str = ""  # the flowchart offered next, e.g. the referral process after "share"
    # Short imperative steps, in order ("What to do now"), each markdown; cited in `cite`.
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Role:
    id: str
    label: str
    line: int = 0


@dataclass(frozen=True)
class Event:
    """A date the practitioner can give (e.g. the referral) that timescales count from."""

    id: str
    label: str
    hint: str = ""
    line: int = 0


@dataclass(frozen=True)
class Decision:
    """One of the product's decisions, e.g. share with consent; every outcome names one."""

    id: str
    label: str
    shares: bool
    without_consent: bool = False
    line: int = 0


@dataclass
class Flowchart:
    id: str
    title: str
    summary: str
    cite: str
    start: str
    questions: dict[str, Question] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    source: str = ""
    line: int = 0
    listed: bool = True
    kind: str = "decision"  # or "process": the safeguarding process after a referral

    @property
    def is_process(self) -> bool:
        return self.kind == "process"

    def node(self, node_id: str) -> Question | Outcome | None:
        return self.questions.get(node_id) or self.outcomes.get(node_id)
