"""Read `content/flowcharts.yaml` (and the flowchart files it lists) into flowcharts and check it before anything is served.

Every problem is reported with the file and line it is on, all at once, so a practice
lead editing the YAML can fix them in one pass. Nothing here is specific to any one
flowchart: the rules are about the shape of a flowchart (ids, routes, citations).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .flowchart import Answer, Decision, Event, Flowchart, Outcome, Question, Role, Route
from .paths import MAX_PATHS, enumerate_paths
from .timescales import Timescale
from .yaml_lines import ContentError, ContentIssue, Located, load_yaml

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# A citation names one of the source documents and a paragraph, e.g. "WTD App3 §4.22".
CITE_PATTERN = re.compile(r"\b(XG|WTD|IDX|ISP|NEWS)\b[^§]*§\s?\d")
NOT_SURE = "not_sure"
# A question's id is the last part of its page's address (/walks/<walk>/<id>); these words
# are the walk's other pages, so no question may take them.
RESERVED_NODE_IDS = frozenset({"check", "outcome", "record", "diagram"})

FLOWCHARTS_FILE = "flowcharts.yaml"

TOP_KEYS = {"decisions": True, "flowcharts": True, "sharing_checklist": False,
            "roles": False, "events": False, "timescales": False, "edition": False}
# The edition of the guidance and law the content walks: every record keeps it.
EDITION_KEYS = {"title": True, "date": True, "status": True, "note": True}
ROLE_KEYS = {"label": True}
EVENT_KEYS = {"label": True, "hint": False}
TIMESCALE_KEYS = {"id": True, "label": True, "from": True, "cite": True, "who": False,
                  "working_days": False, "hours": False, "months": False}
TIMESCALE_UNITS = ("working_days", "hours", "months")
KINDS = ("decision", "process")
DECISION_KEYS = {"label": True, "shares": True, "without_consent": False}
FLOWCHART_KEYS = {
    "id": True, "title": True, "summary": True, "cite": True, "start": True,
    "nodes": True, "include": False, "listed": False, "kind": False,
}
# Who does what, and by when: required on every step of a process flowchart.
STEP_KEYS = {"who": False, "does": False, "timescale": False}
QUESTION_KEYS = {
    "id": True, "question": True, "help": True, "cite": True, "answers": True,
    "hint": False, "key": False, "terms": False, **STEP_KEYS,
}
ANSWER_KEYS = {"value": True, "label": True, "reason": True, "next": True, "hint": False}
OUTCOME_KEYS = {"id": True, "outcome": True, "title": True, "body": True, "cite": True,
                "next_flowchart": False, "actions": False, **STEP_KEYS}
INCLUDE_KEYS = {"flowchart": True, "from": True, "outcomes": False}
ROUTE_KEYS = {"goto": True, "when": False}
CHECKLIST_KEYS = {"id": True, "label": True, "cite": True}


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    label: str
    cite: str


@dataclass
class Content:
    """Everything loaded from `content/`, with the version (hash) records are stamped with."""

    directory: Path
    version: str
    files: dict[str, str]
    decisions: dict[str, Decision] = field(default_factory=dict)
    flowcharts: dict[str, Flowchart] = field(default_factory=dict)
    sharing_checklist: tuple[ChecklistItem, ...] = ()
    roles: dict[str, Role] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    timescales: dict[str, "Timescale"] = field(default_factory=dict)
    edition: "Edition | None" = None

    def steps_for(self, chart: Flowchart, role: str | None) -> list:
        """The steps of a process flowchart whose `who` names the role (all of them without a role).

        Only the role named: a step every practitioner takes is the part of the role the
        content names for it, so a role's part stays short enough to read on a phone.
        """
        nodes = list(chart.questions.values()) + list(chart.outcomes.values())
        return [n for n in nodes if role is None or role in n.who]

    def flowchart(self, flowchart_id: str) -> Flowchart | None:
        return self.flowcharts.get(flowchart_id)


def content_version(directory: Path) -> tuple[str, dict[str, str]]:
    """A short hash over every content file, and the files' text (kept with each version)."""
    digest = hashlib.sha256()
    files: dict[str, str] = {}
    for path in sorted(directory.rglob("*.yaml")):
        relative = path.relative_to(directory).as_posix()
        data = path.read_bytes()
        digest.update(relative.encode() + b"\0" + data + b"\0")
        files[relative] = data.decode("utf-8", errors="replace")
    return digest.hexdigest()[:16], files


class _Checker:
    """Collects issues for one file instead of stopping at the first."""

    def __init__(self, path: Path):
        self.path = path
        self.issues: list[ContentIssue] = []

    def fail(self, line: int | None, message: str) -> None:
        self.issues.append(ContentIssue(self.path, line, message))

    def mapping(self, value, line: int, what: str) -> Located | None:
        if not isinstance(value, Located):
            self.fail(line, f"{what} must be a mapping of keys to values")
            return None
        return value

    def keys(self, data: Located, allowed: dict[str, bool], what: str) -> bool:
        ok = True
        for key in data:
            if key not in allowed:
                self.fail(data.line_of(key), f"{what}: unknown key '{key}' (expected one of: {', '.join(allowed)})")
                ok = False
        for key, required in allowed.items():
            if required and (key not in data or data[key] in (None, "")):
                self.fail(data.line, f"{what}: missing '{key}'")
                ok = False
        return ok

    def text(self, data: Located, key: str, what: str) -> str:
        value = data.get(key, "")
        if value is None:
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.fail(data.line_of(key), f"{what}: '{key}' must be text")
            return ""
        return str(value).strip()

    def ident(self, data: Located, key: str, what: str) -> str:
        value = self.text(data, key, what)
        if value and not ID_PATTERN.match(value):
            self.fail(data.line_of(key), f"{what}: '{value}' is not a valid id (lower case letters, digits and _; starts with a letter)")
        return value

    def cite(self, data: Located, what: str) -> str:
        value = self.text(data, "cite", what)
        if value and not CITE_PATTERN.search(value):
            self.fail(data.line_of("cite"), f"{what}: cite '{value}' does not name a source and paragraph (e.g. 'WTD App3 §4.22')")
        return value


def open_content_file(path: Path, top_keys: dict) -> tuple[_Checker, Located]:
    """Parse one content file and check its top-level keys; a missing or unparsable file is a ContentError."""
    if not path.exists():
        raise ContentError([ContentIssue(path, None, "file not found")])
    try:
        raw = load_yaml(path)
    except ContentIssue as issue:
        raise ContentError([issue]) from None
    check = _Checker(path)
    top = check.mapping(raw, 1, "the file") or Located()
    if top:
        check.keys(top, top_keys, "the file")
    return check, top


def load_content(directory: Path | str) -> Content:
    """Load and validate `content/`; raise ContentError listing every problem found."""
    directory = Path(directory)
    path = directory / FLOWCHARTS_FILE
    if not path.exists():
        raise ContentError([ContentIssue(path, None, "file not found")])
    try:
        raw = load_yaml(path)
    except ContentIssue as issue:
        raise ContentError([issue]) from None
    version, files = content_version(directory)
    content = Content(directory=directory, version=version, files=files)
    check = _Checker(path)
    top = check.mapping(raw, 1, "the file")
    if top is not None and check.keys(top, TOP_KEYS, "the file"):
        content.decisions = _read_decisions(check, top)
        content.edition = _read_edition(check, top)
        content.sharing_checklist = _read_checklist(check, top)
        content.roles = _read_labelled(check, top, "roles", ROLE_KEYS, Role)
        content.events = _read_labelled(check, top, "events", EVENT_KEYS, Event)
        content.timescales = _read_timescales(check, top, content)
        raw_charts = _read_flowchart_list(check, top, directory)
        content.flowcharts = _build_flowcharts(raw_charts, content)
        issues = list(check.issues)
        for chart_check in {id(c): c for c, _ in raw_charts if c is not check}.values():
            issues.extend(chart_check.issues)
    else:
        issues = check.issues
    if issues:
        raise ContentError(issues)
    return content


def _read_decisions(check: _Checker, top: Located) -> dict[str, Decision]:
    decisions: dict[str, Decision] = {}
    raw = check.mapping(top["decisions"], top.line_of("decisions"), "decisions")
    for decision_id, spec in (raw or {}).items():
        line = raw.line_of(decision_id)
        what = f"decision '{decision_id}'"
        if not ID_PATTERN.match(decision_id):
            check.fail(line, f"{what}: not a valid id")
        spec = check.mapping(spec, line, what)
        if spec is None or not check.keys(spec, DECISION_KEYS, what):
            continue
        for flag in ("shares", "without_consent"):
            if flag in spec and not isinstance(spec[flag], bool):
                check.fail(spec.line_of(flag), f"{what}: '{flag}' must be true or false")
        decisions[decision_id] = Decision(
            id=decision_id, label=check.text(spec, "label", what), shares=bool(spec["shares"]),
            without_consent=bool(spec.get("without_consent", False)), line=line,
        )
    return decisions


def _read_labelled(check: _Checker, top: Located, key: str, keys: dict, make) -> dict:
    """A mapping of id → {label, …}: the roles and the events."""
    result = {}
    raw = top.get(key)
    if raw is None:
        return result
    raw = check.mapping(raw, top.line_of(key), key)
    for item_id, spec in (raw or {}).items():
        what = f"{key} '{item_id}'"
        if not ID_PATTERN.match(item_id):
            check.fail(raw.line_of(item_id), f"{what}: not a valid id")
        spec = check.mapping(spec, raw.line_of(item_id), what)
        if spec is None or not check.keys(spec, keys, what):
            continue
        fields = {name: check.text(spec, name, what) for name in keys}
        result[item_id] = make(id=item_id, line=raw.line_of(item_id), **fields)
    return result


def _ids(check: _Checker, data: Located, key: str, known: dict, what: str) -> tuple[str, ...]:
    """A list of ids that must each be declared (e.g. `who: [social_worker, police]`)."""
    raw = data.get(key) or []
    if not isinstance(raw, list):
        check.fail(data.line_of(key), f"{what}: '{key}' must be a list")
        return ()
    for item in raw:
        if str(item) not in known:
            check.fail(data.line_of(key), f"{what}: unknown {key} '{item}' (declared: {', '.join(known) or 'none'})")
    return tuple(str(item) for item in raw)


def _read_timescales(check: _Checker, top: Located, content) -> dict[str, Timescale]:
    result = {}
    raw = top.get("timescales") or []
    if not isinstance(raw, list):
        check.fail(top.line_of("timescales"), "timescales must be a list")
        return result
    for entry in raw:
        entry = check.mapping(entry, top.line_of("timescales"), "timescale")
        if entry is None or not check.keys(entry, TIMESCALE_KEYS, "timescale"):
            continue
        scale_id = check.ident(entry, "id", "timescale")
        what = f"timescale '{scale_id}'"
        if scale_id in result:
            check.fail(entry.line_of("id"), f"duplicate timescale id '{scale_id}'")
        event = check.text(entry, "from", what)
        if event not in content.events:
            check.fail(entry.line_of("from"), f"{what}: unknown event '{event}' (declared: {', '.join(content.events) or 'none'})")
        units = {unit: entry[unit] for unit in TIMESCALE_UNITS if unit in entry}
        if len(units) != 1 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in units.values()):
            check.fail(entry.line, f"{what}: give exactly one of {', '.join(TIMESCALE_UNITS)}, as a whole number")
            continue
        result[scale_id] = Timescale(
            id=scale_id, label=check.text(entry, "label", what), from_event=event, cite=check.cite(entry, what),
            who=_ids(check, entry, "who", content.roles, what), **units)
    return result


def _read_step(check: _Checker, entry: Located, what: str, content, process: bool) -> dict:
    """Who is responsible, what they do, and the timescale: required at every step of a process."""
    step = {
        "who": _ids(check, entry, "who", content.roles, what),
        "does": check.text(entry, "does", what),
        "timescale": check.text(entry, "timescale", what),
    }
    if step["timescale"] and step["timescale"] not in content.timescales:
        check.fail(entry.line_of("timescale"), f"{what}: unknown timescale '{step['timescale']}'")
    if process:
        for key in ("who", "does"):
            if not step[key]:
                check.fail(entry.line, f"{what}: every step of a process flowchart says '{key}'")
    return step


def _read_checklist(check: _Checker, top: Located) -> tuple[ChecklistItem, ...]:
    items = []
    raw = top.get("sharing_checklist") or []
    if not isinstance(raw, list):
        check.fail(top.line_of("sharing_checklist"), "sharing_checklist must be a list")
        return ()
    for entry in raw:
        entry = check.mapping(entry, top.line_of("sharing_checklist"), "sharing_checklist item")
        if entry is None or not check.keys(entry, CHECKLIST_KEYS, "sharing_checklist item"):
            continue
        items.append(ChecklistItem(
            id=check.ident(entry, "id", "sharing_checklist item"),
            label=check.text(entry, "label", "sharing_checklist item"),
            cite=check.cite(entry, "sharing_checklist item"),
        ))
    return tuple(items)


def _read_flowchart_list(check: _Checker, top: Located, directory: Path) -> list[tuple[_Checker, Located]]:
    """The flowcharts in order: written inline, or `- file: flowcharts/<id>.yaml`, one flowchart a file."""
    raw = top["flowcharts"]
    if not isinstance(raw, list):
        check.fail(top.line_of("flowcharts"), "flowcharts must be a list")
        return []
    charts, seen = [], {}
    for entry in raw:
        entry = check.mapping(entry, top.line_of("flowcharts"), "flowchart")
        chart_check = check
        if entry is not None and set(entry) == {"file"}:
            chart_check, entry = _open_chart_file(check, entry, directory)
        if entry is None or not chart_check.keys(entry, FLOWCHART_KEYS, "flowchart"):
            continue
        chart_id = chart_check.ident(entry, "id", "flowchart")
        if chart_id in seen:
            chart_check.fail(entry.line_of("id"), f"duplicate flowchart id '{chart_id}' (first at {seen[chart_id]})")
            continue
        seen[chart_id] = f"{chart_check.path.name} line {entry.line_of('id')}"
        charts.append((chart_check, entry))
    return charts


def _open_chart_file(check: _Checker, entry: Located, directory: Path) -> tuple[_Checker, Located | None]:
    """One flowchart kept in a file of its own; its problems are reported against that file."""
    name = check.text(entry, "file", "flowchart file")
    path = (directory / name).resolve()
    if not name.endswith(".yaml") or directory.resolve() not in path.parents:
        check.fail(entry.line_of("file"), f"flowchart file '{name}' must be a .yaml file inside the content folder")
        return check, None
    if not path.exists():
        check.fail(entry.line_of("file"), f"flowchart file '{name}' not found")
        return check, None
    try:
        raw = load_yaml(path)
    except ContentIssue as issue:
        check.issues.append(issue)
        return check, None
    chart_check = _Checker(path)
    return chart_check, chart_check.mapping(raw, 1, "the flowchart file")


def _read_routes(check: _Checker, raw, line: int, what: str) -> tuple[Route, ...]:
    """`next:` is a node id, or a list of {when, goto} tried in order, the last without `when`."""
    if isinstance(raw, str):
        return (Route(goto=raw.strip(), line=line),)
    if not isinstance(raw, list) or not raw:
        check.fail(line, f"{what}: 'next' must be a node id or a list of {{when, goto}} routes")
        return ()
    routes = []
    for index, entry in enumerate(raw):
        entry = check.mapping(entry, line, f"{what} route")
        if entry is None or not check.keys(entry, ROUTE_KEYS, f"{what} route"):
            continue
        when = []
        condition = entry.get("when")
        if condition is not None:
            condition = check.mapping(condition, entry.line_of("when"), f"{what} route 'when'")
            for question_id, values in (condition or {}).items():
                values = values if isinstance(values, list) else [values]
                when.append((question_id, tuple(str(v) for v in values)))
        is_last = index == len(raw) - 1
        if is_last and when:
            check.fail(entry.line, f"{what}: the last route must have no 'when', so every walk has somewhere to go")
        if not is_last and not when:
            check.fail(entry.line, f"{what}: only the last route may omit 'when' (later routes would never be taken)")
        routes.append(Route(goto=check.text(entry, "goto", what), when=tuple(when), line=entry.line))
    return tuple(routes)


def _read_nodes(check: _Checker, chart: Located, chart_id: str, content, process: bool) -> tuple[dict, dict]:
    questions: dict[str, Question] = {}
    outcomes: dict[str, Outcome] = {}
    raw = chart["nodes"]
    if not isinstance(raw, list):
        check.fail(chart.line_of("nodes"), f"flowchart '{chart_id}': nodes must be a list")
        return questions, outcomes
    for entry in raw:
        entry = check.mapping(entry, chart.line_of("nodes"), "node")
        if entry is None:
            continue
        node_id = check.ident(entry, "id", "node")
        if not node_id:
            check.fail(entry.line, "node: missing 'id'")
            continue
        if node_id in RESERVED_NODE_IDS:
            check.fail(entry.line_of("id"), f"node id '{node_id}' is reserved for a page of the walk "
                                            f"(reserved: {', '.join(sorted(RESERVED_NODE_IDS))})")
            continue
        if node_id in questions or node_id in outcomes:
            check.fail(entry.line_of("id"), f"flowchart '{chart_id}': duplicate node id '{node_id}'")
            continue
        if "question" in entry:
            question = _read_question(check, entry, node_id, content, process)
            if question:
                questions[node_id] = question
        elif "outcome" in entry or (process and "title" in entry):
            outcome = _read_outcome(check, entry, node_id, content, process)
            if outcome:
                outcomes[node_id] = outcome
        else:
            check.fail(entry.line, f"node '{node_id}': needs either 'question' or 'outcome'")
    return questions, outcomes


def _read_question(check: _Checker, entry: Located, node_id: str, content, process: bool) -> Question | None:
    what = f"question '{node_id}'"
    if not check.keys(entry, QUESTION_KEYS, what):
        return None
    step = _read_step(check, entry, what, content, process)
    raw_answers = entry["answers"]
    if not isinstance(raw_answers, list) or len(raw_answers) < 2:
        check.fail(entry.line_of("answers"), f"{what}: needs a list of at least two answers")
        return None
    answers, values = [], set()
    for raw in raw_answers:
        raw = check.mapping(raw, entry.line_of("answers"), f"{what} answer")
        if raw is None or not check.keys(raw, ANSWER_KEYS, f"{what} answer"):
            continue
        value = check.ident(raw, "value", f"{what} answer")
        if value in values:
            check.fail(raw.line_of("value"), f"{what}: duplicate answer value '{value}'")
        values.add(value)
        answers.append(Answer(
            value=value, label=check.text(raw, "label", what), reason=check.text(raw, "reason", what),
            hint=check.text(raw, "hint", what),
            routes=_read_routes(check, raw["next"], raw.line_of("next"), f"{what} answer '{value}'"),
            line=raw.line,
        ))
    if NOT_SURE not in values:
        check.fail(entry.line_of("answers"), f"{what}: every question must offer the answer '{NOT_SURE}' (I'm not sure)")
    terms = entry.get("terms") or []
    if not isinstance(terms, list):
        check.fail(entry.line_of("terms"), f"{what}: terms must be a list")
        terms = []
    return Question(
        id=node_id, text=check.text(entry, "question", what), help=check.text(entry, "help", what),
        cite=check.cite(entry, what), hint=check.text(entry, "hint", what), key=bool(entry.get("key")),
        answers=tuple(answers), terms=tuple(str(t) for t in terms), line=entry.line, **step,
    )


def _read_outcome(check: _Checker, entry: Located, node_id: str, content, process: bool) -> Outcome | None:
    what = f"outcome '{node_id}'"
    # The stages a process ends in decide nothing about sharing, so they name no decision.
    keys = {**OUTCOME_KEYS, "outcome": not process}
    if not check.keys(entry, keys, what):
        return None
    decision = check.text(entry, "outcome", what)
    if (decision or not process) and decision not in content.decisions:
        check.fail(entry.line_of("outcome"), f"{what}: unknown decision '{decision}' (declared: {', '.join(content.decisions)})")
    return Outcome(
        id=node_id, decision=decision, title=check.text(entry, "title", what),
        body=check.text(entry, "body", what), cite=check.cite(entry, what), line=entry.line,
        next_flowchart=check.text(entry, "next_flowchart", what), actions=_read_actions(check, entry, what),
        **_read_step(check, entry, what, content, process),
    )


def _read_actions(check: _Checker, entry: Located, what: str) -> tuple[str, ...]:
    """An outcome's "What to do now": a list of short steps, each non-empty text."""
    raw = entry.get("actions")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        check.fail(entry.line_of("actions"), f"{what}: actions must be a list of short steps (text)")
        return ()
    actions = []
    for number, action in enumerate(raw, 1):
        if not isinstance(action, str) or isinstance(action, bool) or not action.strip():
            check.fail(entry.line_of("actions"), f"{what}: action {number} must be non-empty text")
            continue
        actions.append(action.strip())
    return tuple(actions)


@dataclass(frozen=True)
class Edition:
    """Which guidance and law the content walks, said plainly (kept on every record)."""

    title: str
    date: str
    status: str
    note: str

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def _read_edition(check: _Checker, top: Located) -> Edition | None:
    if "edition" not in top:
        return None
    raw = check.mapping(top["edition"], top.line_of("edition"), "edition")
    if raw is None or not check.keys(raw, EDITION_KEYS, "edition"):
        return None
    return Edition(**{key: check.text(raw, key, "edition") for key in EDITION_KEYS})


def _build_flowcharts(raw_charts: list[tuple[_Checker, Located]], content) -> dict[str, Flowchart]:
    own: dict[str, Flowchart] = {}
    includes: dict[str, list] = {}
    checkers: dict[str, _Checker] = {}
    for check, chart in raw_charts:
        chart_id = chart["id"]
        what = f"flowchart '{chart_id}'"
        kind = check.text(chart, "kind", what) or "decision"
        if kind not in KINDS:
            check.fail(chart.line_of("kind"), f"{what}: kind must be one of {', '.join(KINDS)}")
        questions, outcomes = _read_nodes(check, chart, chart_id, content, kind == "process")
        listed = chart.get("listed", True)
        own[chart_id] = Flowchart(
            id=chart_id, title=check.text(chart, "title", what), summary=check.text(chart, "summary", what),
            cite=check.cite(chart, what), start=check.text(chart, "start", what),
            questions=questions, outcomes=outcomes, source=str(check.path), line=chart.line,
            listed=listed is not False, kind=kind,
        )
        includes[chart_id] = chart.get("include") or []
        checkers[chart_id] = check
    built: dict[str, Flowchart] = {}
    for chart_id in own:
        _resolve_includes(checkers, chart_id, own, includes, built, stack=())
    for chart in built.values():
        check = checkers[chart.id]
        _check_graph(check, chart)
        for outcome in chart.outcomes.values():
            if outcome.next_flowchart and outcome.next_flowchart not in built:
                check.fail(outcome.line, f"outcome '{outcome.id}': next_flowchart '{outcome.next_flowchart}' is not a flowchart")
    return {chart_id: built[chart_id] for chart_id in own if chart_id in built}  # in the file's order


def _resolve_includes(checkers, chart_id, own, includes, built, stack) -> Flowchart | None:
    """Copy in the nodes of included flowcharts, rerouting their mapped outcomes."""
    check = checkers[chart_id]
    if chart_id in built:
        return built[chart_id]
    if chart_id in stack:
        check.fail(own[chart_id].line, f"flowchart '{chart_id}' includes itself (through {' → '.join(stack)})")
        return None
    chart = own[chart_id]
    entries = includes[chart_id]
    if not isinstance(entries, list):
        check.fail(chart.line, f"flowchart '{chart_id}': include must be a list")
        entries = []
    for entry in entries:
        what = f"flowchart '{chart_id}' include"
        entry = check.mapping(entry, chart.line, what)
        if entry is None or not check.keys(entry, INCLUDE_KEYS, what):
            continue
        other_id = check.text(entry, "flowchart", what)
        if other_id not in own:
            check.fail(entry.line_of("flowchart"), f"{what}: unknown flowchart '{other_id}'")
            continue
        other = _resolve_includes(checkers, other_id, own, includes, built, stack + (chart_id,))
        if other is None:
            continue
        entry_node = check.text(entry, "from", what)
        if entry_node not in other.questions:
            check.fail(entry.line_of("from"), f"{what}: '{entry_node}' is not a question of '{other_id}'")
            continue
        mapping = {}
        raw_map = entry.get("outcomes") or Located()
        raw_map = check.mapping(raw_map, entry.line_of("outcomes"), f"{what} outcomes") or {}
        for outcome_id, target in raw_map.items():
            if outcome_id not in other.outcomes:
                check.fail(raw_map.line_of(outcome_id), f"{what}: '{outcome_id}' is not an outcome of '{other_id}'")
                continue
            mapping[outcome_id] = _read_routes(check, target, raw_map.line_of(outcome_id), f"{what} outcome '{outcome_id}'")
        for node_id in _reachable(other, entry_node):
            if chart.node(node_id) is not None:
                check.fail(entry.line, f"{what}: node '{node_id}' from '{other_id}' clashes with a node of the same id")
                continue
            if node_id in other.questions:
                chart.questions[node_id] = _reroute(other.questions[node_id], mapping)
            elif node_id not in mapping:
                chart.outcomes[node_id] = other.outcomes[node_id]
    built[chart_id] = chart
    return chart


def _reroute(question: Question, mapping: dict[str, tuple[Route, ...]]) -> Question:
    """Replace routes into mapped outcomes with the includer's routes, conditions combined."""
    answers = []
    for answer in question.answers:
        routes = []
        for route in answer.routes:
            if route.goto in mapping:
                routes.extend(Route(goto=m.goto, when=route.when + m.when, line=m.line) for m in mapping[route.goto])
            else:
                routes.append(route)
        answers.append(Answer(answer.value, answer.label, answer.reason, tuple(routes), answer.hint, answer.line))
    return dataclasses.replace(question, answers=tuple(answers))


def _reachable(chart: Flowchart, start: str) -> list[str]:
    seen, order, stack = set(), [], [start]
    while stack:
        node_id = stack.pop()
        if node_id in seen or chart.node(node_id) is None:
            continue
        seen.add(node_id)
        order.append(node_id)
        question = chart.questions.get(node_id)
        if question:
            stack.extend(route.goto for answer in question.answers for route in answer.routes)
    return order


def _check_graph(check: _Checker, chart: Flowchart) -> None:
    what = f"flowchart '{chart.id}'"
    if chart.start not in chart.questions:
        check.fail(chart.line, f"{what}: start '{chart.start}' is not one of its questions")
        return
    broken = False
    for question in chart.questions.values():
        for answer in question.answers:
            for route in answer.routes:
                if chart.node(route.goto) is None:
                    check.fail(route.line or answer.line, f"question '{question.id}' answer '{answer.value}': goes to unknown node '{route.goto}'")
                    broken = True
                for condition_id, values in route.when:
                    condition = chart.questions.get(condition_id)
                    if condition is None:
                        check.fail(route.line, f"question '{question.id}': condition on unknown question '{condition_id}'")
                        broken = True
                        continue
                    for value in values:
                        if condition.answer(value) is None:
                            check.fail(route.line, f"question '{question.id}': condition '{condition_id}: {value}' is not an answer of that question")
                            broken = True
    if broken:
        return
    reachable = set(_reachable(chart, chart.start))
    for node_id in list(chart.questions) + list(chart.outcomes):
        if node_id not in reachable:
            node = chart.node(node_id)
            check.fail(node.line, f"{what}: '{node_id}' can never be reached from '{chart.start}'")
    try:
        paths = enumerate_paths(chart)
    except ValueError as exc:
        check.fail(chart.line, f"{what}: {exc}")
        return
    if not paths:
        check.fail(chart.line, f"{what}: no path ends in an outcome")
    if len(paths) >= MAX_PATHS:
        check.fail(chart.line, f"{what}: more than {MAX_PATHS} paths; split it into smaller flowcharts")
