"""The loaded content and its state machines, built once when the app starts."""

from __future__ import annotations

import re
import textwrap
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
    if (directory / "advice_policy.yaml").exists() and "content" in parts:
        from .advice.policy import load_advice_policy
        attempt("advice_policy", lambda: load_advice_policy(directory, parts["content"].decisions))
    if (directory / CHAT_FILE).exists() and "content" in parts:
        attempt("chat", lambda: load_chat_content(directory, parts["content"].flowcharts))
    if issues:
        raise ContentError(issues)
    return parts


class Guidance:
    def __init__(self, content: Content, scenarios: dict[str, Scenario] | None = None, chat=None, text=None,
                 index_policy=None, advice_policy=None):
        self.content = content
        self.scenarios = scenarios or {}
        self.chat = chat  # the chat's words (content/chat.yaml), or None
        self.text = text  # the guidance's paragraphs and glossary, or None
        self.index_policy = index_policy  # the children's index rules (content/index_policy.yaml), or None
        # Each agency's advice and countersignature policy (content/advice_policy.yaml); none without the file.
        from .advice.policy import NO_POLICY
        self.advice_policy = advice_policy or NO_POLICY
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

    def diagram(self, flowchart_id: str, path: list[str] = (), here: str | None = None) -> str:
        """The flowchart as SVG, drawn on the server by Graphviz from its `transitions` machine,
        in words, the walker's path highlighted (answered questions blue, where they are yellow)."""
        key = (flowchart_id, tuple(path), here)
        svg = self._drawn.get(key)
        if svg is None:
            if len(self._drawn) > 512:  # every path is cheap to draw again; memory is not unbounded
                self._drawn.clear()
            svg = self._drawn[key] = _svg(self.content.flowcharts[flowchart_id], set(path), here)
        return svg

    @cached_property
    def _drawn(self) -> dict:
        return {}


def _wrapped(text: str, width: int = 28, limit: int = 140) -> str:
    """A label in lines of about `width` characters, so the drawing stays narrow."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return textwrap.fill(text, width)


def _svg(chart: Flowchart, visited: set[str], here: str | None) -> str:
    class _Drawn:
        pass

    drawn = _Drawn()
    machine = GraphMachine(model=drawn, states=list(chart.questions) + list(chart.outcomes), initial=chart.start,
                           auto_transitions=False, graph_engine="graphviz", show_conditions=False, title="")
    for question in chart.questions.values():
        for answer in question.answers:
            for route in answer.routes:
                # The trigger is the answer's words, so the arrow is labelled as the reader answered.
                machine.add_transition(_wrapped(answer.label, 20, 60), question.id, route.goto)
    graph = drawn.get_graph()
    graph.attr(rankdir="TB", label="", fontname="Arial", nodesep="0.25", ranksep="0.35")
    graph.attr("edge", fontname="Arial", fontsize="10", color="#505a5f", fontcolor="#0b0c0c")
    for node_id in list(chart.questions) + list(chart.outcomes):
        node = chart.node(node_id)
        words = node.text if node_id in chart.questions else f"Outcome: {node.title}"
        style = {"color": "#0b0c0c", "fillcolor": "white", "fontcolor": "#0b0c0c", "peripheries": "1", "penwidth": "1",
                 "fontname": "Arial", "fontsize": "12", "margin": "0.15,0.08"}
        if node_id == here:
            style.update(fillcolor="#ffdd00", penwidth="3")
        elif node_id in visited:
            style.update(fillcolor="#1d70b8", fontcolor="white", color="#1d70b8")
        graph.node(node_id, label=_wrapped(words), **style)
    svg = graph.pipe(format="svg", engine="dot").decode("utf-8")
    # Inline in the page: no XML prolog or doctype, no fixed size (CSS fits it to the width).
    svg = svg[svg.index("<svg"):]
    # Graphviz titles each shape with its internal id (a tooltip) and comments it: readers need neither.
    svg = re.sub(r"<title>[^<]*</title>\n?|<!--.*?-->\n?", "", svg, flags=re.S)
    return re.sub(r'<svg width="[^"]*" height="[^"]*"', '<svg class="app-diagram__svg" focusable="false" aria-hidden="true"', svg, count=1)
