"""The loaded content and its state machines, built once when the app starts."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from transitions.extensions import GraphMachine

from .chat.content import CHAT_FILE, load_chat_content
from .flows import Content, ContentError, Flowchart, FlowMachine, load_content
from .training.case_examples import SCENARIOS_DIRECTORY, Scenario, load_scenarios


class ContentGone(LookupError):
    """Stored work (a walk, a live session) refers to a flowchart or case example that is no longer in
    the content: its pages say so plainly (410) instead of failing."""

    def __init__(self, content_id: str):
        super().__init__(content_id)
        self.content_id = content_id


def check_all(directory: Path) -> dict:
    """Load every part of content/; one ContentError lists every problem in all of them.

    The flowcharts are required; the case examples, the chat's words and the guidance's
    paragraphs and glossary are loaded when their files are there.
    """
    directory = Path(directory)
    issues, parts = [], {}

    def attempt(name, load):
        try:
            parts[name] = load()
        except ContentError as error:
            issues.extend(error.issues)

    attempt("content", lambda: load_content(directory))
    if (directory / SCENARIOS_DIRECTORY).is_dir():
        attempt("scenarios", lambda: load_scenarios(directory / SCENARIOS_DIRECTORY))
    if (directory / "glossary.yaml").exists():
        from .lookup.content import load_guidance_text
        attempt("text", lambda: load_guidance_text(directory))
    if (directory / "index_policy.yaml").exists():
        from .index.policy import load_policy
        attempt("index_policy", lambda: load_policy(directory))
    if (directory / CHAT_FILE).exists() and "content" in parts:
        attempt("chat", lambda: load_chat_content(directory, parts["content"].flowcharts))
    if issues:
        raise ContentError(issues)
    return parts


class Guidance:
    def __init__(self, content: Content, scenarios: dict[str, Scenario] | None = None, chat=None, text=None,
                 index_policy=None):
        self.content = content
        self.scenarios = scenarios or {}
        self.chat = chat  # the chat's words (content/chat.yaml), or None
        self.text = text  # the guidance's paragraphs and glossary, or None
        self.index_policy = index_policy  # the children's index rules (content/index_policy.yaml), or None
        # (database, version) pairs whose content text is known to be stored.
        self.stored_versions: set[tuple[str, str]] = set()
        # Each case example runs as a flowchart of its decision points, on the same engine.
        self.case_flowcharts = {case_id: case.as_flowchart() for case_id, case in self.scenarios.items()}
        self.machines = {chart_id: FlowMachine(chart)
                         for chart_id, chart in {**content.flowcharts, **self.case_flowcharts}.items()}

    @classmethod
    def load(cls, directory: Path) -> "Guidance":
        return cls(**check_all(Path(directory)))

    @property
    def version(self) -> str:
        return self.content.version

    def flowchart(self, flowchart_id: str) -> Flowchart | None:
        return self.content.flowcharts.get(flowchart_id) or self.case_flowcharts.get(flowchart_id)

    def is_case(self, flowchart_id: str) -> bool:
        return flowchart_id in self.case_flowcharts

    def listed_flowcharts(self) -> list[Flowchart]:
        """The decision flowcharts offered on the start page (process flowcharts have their own)."""
        return [chart for chart in self.content.flowcharts.values() if chart.listed and not chart.is_process]

    def decision_label(self, decision_id: str) -> str:
        decision = self.content.decisions.get(decision_id)
        return decision.label if decision else decision_id

    @cached_property
    def _diagrams(self) -> dict[str, str]:
        return {chart_id: _mermaid(chart) for chart_id, chart in self.content.flowcharts.items()}

    def diagram(self, flowchart_id: str, path: list[str] = (), here: str | None = None) -> str:
        """Mermaid text drawn by `transitions` from the flowchart's machine, the walker's path highlighted."""
        lines = []
        visited = set(path)
        for line in self._diagrams[flowchart_id].splitlines():
            stripped = line.strip()
            if stripped.startswith("Class ") and stripped.endswith(" s_default"):
                node = stripped.split()[1]
                if node == here:
                    line = line.replace("s_default", "s_active")
                elif node in visited:
                    line = line.replace("s_default", "s_previous")
            lines.append(line)
        return "\n".join(lines)


def _label(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    # Mermaid's state labels are quoted; these characters would end or break them.
    return text.replace('"', "'").replace(":", " -").replace(";", ",").replace("#", "")


def _mermaid(chart: Flowchart) -> str:
    class _Drawn:
        pass

    labels = {q.id: f"{q.id} - {_label(q.text)}" for q in chart.questions.values()}
    labels.update({o.id: _label(o.title) for o in chart.outcomes.values()})
    drawn = _Drawn()
    machine = GraphMachine(model=drawn, states=list(labels), initial=chart.start, auto_transitions=False,
                           graph_engine="mermaid", show_conditions=False, title=_label(chart.title))
    for question in chart.questions.values():
        for answer in question.answers:
            for route in answer.routes:
                machine.add_transition(answer.value, question.id, route.goto)
    text = drawn.get_graph().draw(None)
    for node_id, label in labels.items():
        # transitions names each state by its id; the reader needs the question or outcome.
        text = text.replace(f'state "{node_id}" as {node_id}\n', f'state "{label}" as {node_id}\n')
    # The freshly built machine marks its start state active; the caller decides what is highlighted.
    return text.replace(f"Class {chart.start} s_active", f"Class {chart.start} s_default").replace(
        "classDef s_active color:red,fill:darksalmon", "classDef s_active color:black,fill:#ffdd00,stroke:#0b0c0c,stroke-width:3px"
    ).replace("classDef s_previous color:blue,fill:azure", "classDef s_previous color:white,fill:#1d70b8").replace(
        "direction LR", "direction TB")
