"""Read the case examples in `content/scenarios/` and check them before anything is served.

One YAML file per case example of the guidance (XG §8.11–§12.2). Every problem is
reported with its file and line, all at once, in the same way as the flowchart content
(`guide.flows.content`). A scenario can also be run by the flowchart engine: see
`Scenario.as_flowchart`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from guide.flows.content import CITE_PATTERN, NOT_SURE, RESERVED_NODE_IDS, _Checker
from guide.flows.flowchart import Answer, Flowchart, Outcome, Question, Route
from guide.flows.yaml_lines import ContentError, ContentIssue, Located, load_yaml

SCENARIOS_DIRECTORY = "scenarios"  # inside content/
FILE_PATTERN = re.compile(r"^ce(\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*\.yaml$")
MAX_NUMBER = 21  # the guidance gives 21 case examples
REVIEW_OUTCOME = "case_review"  # the node (and decision id) every scenario walk ends in

SECTORS = (
    "health", "police_justice", "education", "early_years", "voluntary",
    "social_care", "housing", "leisure", "multi_agency",
)
# Case examples say which answers to the key questions of this flowchart they imply.
COMPARED_FLOWCHART = "confidentiality"
# How the vocabularies read on the page, where the id alone would read badly.
LABELS = {
    "police_justice": "Police and justice", "early_years": "Early years", "social_care": "Social care",
    "multi_agency": "Multi-agency", "under_5": "Under 5", "5_to_11": "5 to 11", "12_to_15": "12 to 15",
    "16_to_17": "16 to 17", "not_stated": "Age not stated",
}
CHILD_AGES = ("unborn", "under_5", "5_to_11", "12_to_15", "16_to_17", "various", "not_stated")
# What a case is about; the same list, with meanings, is in content/scenarios/README.md.
CONCERNS = (
    "neglect", "physical_abuse", "sexual_abuse", "emotional_abuse", "sexual_exploitation",
    "domestic_abuse", "parental_substance_misuse", "parental_mental_health",
    "child_mental_health", "self_harm", "substance_misuse", "offending", "risk_from_adult",
    "sexual_health", "development", "disability", "education", "housing", "immigration",
    "private_fostering", "general_welfare",
)
YES_NO = ("yes", "no", NOT_SURE)
FLOWCHART_ANSWERS = {
    "purpose": YES_NO,
    "identifiable": YES_NO,
    "confidential": YES_NO,
    "consent": ("yes_explicit", "yes_implied", "refused", "not_asked", NOT_SURE),
    "statutory": YES_NO,
    "public_interest": YES_NO,
}

TOP_KEYS = {
    "id": True, "number": True, "title": True, "cite": True, "sector": True, "service": True,
    "child_age": True, "concerns": True, "people": True, "facts": True, "decision_points": True,
    "outcomes": False, "flowchart_answers": True, "trainer_prompts": True,
}
PERSON_KEYS = {"role": True, "name": False}
FACT_KEYS = {"quote": True, "cite": True}
POINT_KEYS = {
    "id": True, "question": True, "cite": True, "options": True, "guidance": True,
    "view": True, "view_cite": True,
}
OPTION_KEYS = {"value": True, "label": True}
OUTCOMES_KEYS = {"sharing": False, "not_sharing": False}
CASE_OUTCOME_KEYS = {"text": True, "cite": True}


@dataclass(frozen=True)
class Person:
    role: str
    name: str = ""


@dataclass(frozen=True)
class Fact:
    quote: str  # the guidance's own words
    cite: str
    line: int = 0


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def in_fair_order(point_id: str, options: tuple[Option, ...]) -> tuple[Option, ...]:
    """A decision point's answers in the order every page shows them.

    Written down, the guidance's answer tends to come first; shown that way, a room that always
    picks the first answer would seem to agree with the guidance. So each point's answers are put
    in an order drawn from its id alone — the same on every page, for every person, on every run —
    that does not follow the guidance's answer; "I'm not sure" stays last."""
    def drawn(option: Option) -> bytes:
        return hashlib.sha256(f"{point_id}\0{option.value}".encode()).digest()
    sure = sorted((o for o in options if o.value != NOT_SURE), key=drawn)
    return tuple(sure) + tuple(o for o in options if o.value == NOT_SURE)


@dataclass(frozen=True)
class DecisionPoint:
    id: str
    question: str
    cite: str
    options: tuple[Option, ...]
    guidance: str  # the value of the option that matches the guidance's view
    view: str  # our words; shown only after the room has answered
    view_cite: str
    line: int = 0

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    @property
    def guidance_option(self) -> Option:
        return self.option(self.guidance)


@dataclass(frozen=True)
class CaseOutcome:
    text: str
    cite: str


@dataclass(frozen=True)
class Scenario:
    id: str
    number: int
    title: str
    cite: str
    sector: str
    service: str
    child_age: str
    concerns: tuple[str, ...]
    people: tuple[Person, ...]
    facts: tuple[Fact, ...]
    decision_points: tuple[DecisionPoint, ...]
    sharing: CaseOutcome | None  # None: the guidance gives no outcome of sharing
    not_sharing: CaseOutcome | None
    flowchart_answers: tuple[tuple[str, str], ...]
    trainer_prompts: tuple[str, ...]
    source: str = ""
    line: int = 0

    @property
    def answers(self) -> dict[str, str]:
        """The Flowchart 1 answers the case implies, e.g. {'purpose': 'yes', 'consent': 'refused'}."""
        return dict(self.flowchart_answers)

    def decision_point(self, point_id: str) -> DecisionPoint | None:
        return next((p for p in self.decision_points if p.id == point_id), None)

    def guidance_answers(self) -> dict[str, str]:
        """The guidance's answer at every decision point: a walk that agrees with it."""
        return {p.id: p.guidance for p in self.decision_points}

    def as_flowchart(self) -> Flowchart:
        """The decision points as a flowchart the engine (FlowMachine) can walk.

        Every answer leads to the next decision point, the last to one outcome,
        `case_review`, where the guidance's views are revealed. The views are not put in
        the questions' help: a trainer's room answers before seeing them.
        """
        points = self.decision_points
        questions = {}
        for index, point in enumerate(points):
            goto = points[index + 1].id if index + 1 < len(points) else REVIEW_OUTCOME
            questions[point.id] = Question(
                id=point.id, text=point.question, help="", cite=point.cite, line=point.line,
                answers=tuple(
                    Answer(value=o.value, label=o.label, reason=o.label, routes=(Route(goto=goto),))
                    for o in point.options
                ),
            )
        body = "\n\n".join(
            f"**{heading}** {outcome.text} ({outcome.cite})"
            for heading, outcome in (("If information is shared:", self.sharing),
                                     ("If it is not shared:", self.not_sharing))
            if outcome is not None
        ) or "The guidance does not describe the outcomes of sharing or not sharing in this case."
        review = Outcome(id=REVIEW_OUTCOME, decision=REVIEW_OUTCOME, title=self.title, body=body, cite=self.cite)
        return Flowchart(
            id=self.id, title=f"Case example {self.number}: {self.title}",
            summary=f"Case example {self.number} of the guidance ({self.cite}).", cite=self.cite,
            start=points[0].id, questions=questions, outcomes={REVIEW_OUTCOME: review},
            source=self.source, line=self.line, listed=False,
        )


def load_scenarios(directory: Path | str) -> dict[str, Scenario]:
    """Load and validate every `ceNN-*.yaml` in `directory`, keyed by id, in case order.

    Raises ContentError listing every problem in every file. Works on any number of
    files (a test fixture may hold one); numbers must be unique and within 1..21.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ContentError([ContentIssue(directory, None, "directory not found")])
    issues: list[ContentIssue] = []
    scenarios: list[Scenario] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            raw = load_yaml(path)
        except ContentIssue as issue:
            issues.append(issue)
            continue
        check = _ScenarioChecker(path)
        scenario = check.scenario(raw)
        issues.extend(check.issues)
        if scenario is not None and not check.issues:
            scenarios.append(scenario)
    issues.extend(_check_across(scenarios))
    if issues:
        raise ContentError(issues)
    return {s.id: s for s in sorted(scenarios, key=lambda s: s.number)}


def _check_across(scenarios: list[Scenario]) -> list[ContentIssue]:
    issues, ids, numbers = [], {}, {}
    for scenario in scenarios:
        for key, seen, what in ((scenario.id, ids, "id"), (scenario.number, numbers, "number")):
            if key in seen:
                issues.append(ContentIssue(scenario.source, scenario.line,
                                           f"{what} '{key}' is also used by {Path(seen[key]).name}"))
            else:
                seen[key] = scenario.source
    return issues


class _ScenarioChecker(_Checker):
    """Checks one scenario file, collecting every issue with its line."""

    def scenario(self, raw) -> Scenario | None:
        top = self.mapping(raw, 1, "the file")
        if top is None or not self.keys(top, TOP_KEYS, "the file"):
            return None
        scenario_id = self.ident(top, "id", "scenario")
        number = self.number(top)
        self.file_name(top, scenario_id, number)
        points = self.decision_points(top)
        outcomes = self.outcomes(top)
        return Scenario(
            id=scenario_id, number=number, title=self.text(top, "title", "scenario"),
            cite=self.cite(top, "scenario"),
            sector=self.choice(top, "sector", SECTORS), service=self.text(top, "service", "scenario"),
            child_age=self.choice(top, "child_age", CHILD_AGES), concerns=self.concerns(top),
            people=self.people(top), facts=self.facts(top), decision_points=points,
            sharing=outcomes.get("sharing"), not_sharing=outcomes.get("not_sharing"),
            flowchart_answers=self.flowchart_answers(top), trainer_prompts=self.prompts(top),
            source=str(self.path), line=top.line,
        )

    # -- helpers ---------------------------------------------------------------

    def cite_of(self, data: Located, key: str, what: str) -> str:
        value = self.text(data, key, what)
        if value and not CITE_PATTERN.search(value):
            self.fail(data.line_of(key), f"{what}: {key} '{value}' does not name a source and paragraph (e.g. 'XG §8.12')")
        return value

    def choice(self, data: Located, key: str, allowed: tuple[str, ...], what: str = "scenario") -> str:
        value = self.text(data, key, what)
        if value not in allowed:
            self.fail(data.line_of(key), f"{what}: {key} '{value}' is not one of: {', '.join(allowed)}")
        return value

    def items(self, data: Located, key: str, what: str, minimum: int = 1, maximum: int | None = None) -> list:
        value = data.get(key)
        if not isinstance(value, list):
            self.fail(data.line_of(key), f"{what}: {key} must be a list")
            return []
        if len(value) < minimum or (maximum is not None and len(value) > maximum):
            wanted = f"{minimum}–{maximum}" if maximum else f"at least {minimum}"
            self.fail(data.line_of(key), f"{what}: {key} needs {wanted} entries (has {len(value)})")
        return value

    def entries(self, data: Located, key: str, allowed: dict, what: str, minimum: int = 1):
        """The mappings of a list, each checked for its keys; yields the good ones."""
        for entry in self.items(data, key, what, minimum):
            entry = self.mapping(entry, data.line_of(key), what)
            if entry is not None and self.keys(entry, allowed, what):
                yield entry

    # -- parts -----------------------------------------------------------------

    def number(self, top: Located) -> int:
        value = top["number"]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_NUMBER:
            self.fail(top.line_of("number"), f"scenario: number must be a whole number from 1 to {MAX_NUMBER}")
            return 0
        return value

    def file_name(self, top: Located, scenario_id: str, number: int) -> None:
        match = FILE_PATTERN.match(self.path.name)
        if not match:
            self.fail(None, "file name must look like ce01-health-visitor.yaml (ce, two digits, a hyphenated slug)")
            return
        if number and int(match.group(1)) != number:
            self.fail(top.line_of("number"), f"scenario: number {number} does not match the file name {self.path.name}")
        expected = self.path.stem.replace("-", "_")
        if scenario_id and scenario_id != expected:
            self.fail(top.line_of("id"), f"scenario: id '{scenario_id}' should be '{expected}' (the file name with _ for -)")

    def concerns(self, top: Located) -> tuple[str, ...]:
        found = []
        for value in self.items(top, "concerns", "scenario"):
            if value not in CONCERNS:
                self.fail(top.line_of("concerns"), f"scenario: concern '{value}' is not one of: {', '.join(CONCERNS)}")
            elif value in found:
                self.fail(top.line_of("concerns"), f"scenario: concern '{value}' is listed twice")
            else:
                found.append(value)
        return tuple(found)

    def people(self, top: Located) -> tuple[Person, ...]:
        return tuple(
            Person(role=self.text(p, "role", "person"), name=self.text(p, "name", "person"))
            for p in self.entries(top, "people", PERSON_KEYS, "person")
        )

    def facts(self, top: Located) -> tuple[Fact, ...]:
        return tuple(
            Fact(quote=self.text(f, "quote", "fact"), cite=self.cite(f, "fact"), line=f.line)
            for f in self.entries(top, "facts", FACT_KEYS, "fact")
        )

    def decision_points(self, top: Located) -> tuple[DecisionPoint, ...]:
        points: list[DecisionPoint] = []
        for entry in self.entries(top, "decision_points", POINT_KEYS, "decision point", minimum=2):
            point_id = self.ident(entry, "id", "decision point")
            what = f"decision point '{point_id}'"
            if point_id in RESERVED_NODE_IDS:
                self.fail(entry.line_of("id"), f"{what}: the id is reserved for a page of the walk "
                                               f"(reserved: {', '.join(sorted(RESERVED_NODE_IDS))})")
            if point_id == REVIEW_OUTCOME:
                self.fail(entry.line_of("id"), f"{what}: the id '{REVIEW_OUTCOME}' is reserved for the end of the walk")
            if any(p.id == point_id for p in points):
                self.fail(entry.line_of("id"), f"{what}: duplicate decision point id")
            options = self.options(entry, what)
            values = [o.value for o in options]
            guidance = self.text(entry, "guidance", what)
            if values and NOT_SURE not in values:
                self.fail(entry.line_of("options"), f"{what}: options must include '{NOT_SURE}' (I'm not sure)")
            if values and guidance not in values:
                self.fail(entry.line_of("guidance"), f"{what}: guidance '{guidance}' is not one of its option values ({', '.join(values)})")
            points.append(DecisionPoint(
                id=point_id, question=self.text(entry, "question", what), cite=self.cite(entry, what),
                options=in_fair_order(point_id, options), guidance=guidance, view=self.text(entry, "view", what),
                view_cite=self.cite_of(entry, "view_cite", what), line=entry.line,
            ))
        return tuple(points)

    def options(self, entry: Located, what: str) -> tuple[Option, ...]:
        options: list[Option] = []
        for raw in self.entries(entry, "options", OPTION_KEYS, f"{what} option", minimum=3):
            value = self.ident(raw, "value", f"{what} option")
            if any(o.value == value for o in options):
                self.fail(raw.line_of("value"), f"{what}: duplicate option value '{value}'")
            options.append(Option(value=value, label=self.text(raw, "label", f"{what} option")))
        return tuple(options)

    def outcomes(self, top: Located) -> dict[str, CaseOutcome]:
        if "outcomes" not in top or top["outcomes"] is None:
            return {}
        raw = self.mapping(top["outcomes"], top.line_of("outcomes"), "outcomes")
        if raw is None or not self.keys(raw, OUTCOMES_KEYS, "outcomes"):
            return {}
        found = {}
        for key in raw:
            what = f"outcomes: {key}"
            entry = self.mapping(raw[key], raw.line_of(key), what)
            if entry is not None and self.keys(entry, CASE_OUTCOME_KEYS, what):
                found[key] = CaseOutcome(text=self.text(entry, "text", what), cite=self.cite(entry, what))
        return found

    def flowchart_answers(self, top: Located) -> tuple[tuple[str, str], ...]:
        raw = self.mapping(top["flowchart_answers"], top.line_of("flowchart_answers"), "flowchart_answers")
        if raw is None:
            return ()
        answers = []
        for key in raw:
            if key not in FLOWCHART_ANSWERS:
                self.fail(raw.line_of(key), f"flowchart_answers: unknown key '{key}' (expected one of: {', '.join(FLOWCHART_ANSWERS)})")
                continue
            value = self.choice(raw, key, FLOWCHART_ANSWERS[key], "flowchart_answers")
            answers.append((key, value))
        if "purpose" not in raw:
            self.fail(raw.line, "flowchart_answers: missing 'purpose'")
        return tuple(answers)

    def prompts(self, top: Located) -> tuple[str, ...]:
        prompts = []
        for value in self.items(top, "trainer_prompts", "scenario", minimum=2, maximum=4):
            if not isinstance(value, str) or not value.strip():
                self.fail(top.line_of("trainer_prompts"), "scenario: each trainer prompt must be text")
            else:
                prompts.append(value.strip())
        return tuple(prompts)
