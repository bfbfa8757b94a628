"""Every path through a flowchart: each answer chosen at each question, to an outcome.

Used by the content check (every path must end) and by the tests (every path ends
in the outcome its answers imply). Routes may depend on earlier answers, so paths
are walked with the answers given so far, exactly as a practitioner would walk them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .flowchart import Flowchart

MAX_PATHS = 200_000


@dataclass(frozen=True)
class FlowPath:
    steps: tuple[tuple[str, str], ...]  # (question id, answer value), in order
    outcome: str

    @property
    def answers(self) -> dict[str, str]:
        return dict(self.steps)


def enumerate_paths(chart: Flowchart, limit: int = MAX_PATHS) -> list[FlowPath]:
    """All paths from the start; raises ValueError on a loop or a dead end."""
    found: list[FlowPath] = []

    def walk(node_id: str, steps: tuple, answers: dict, visiting: tuple) -> None:
        if len(found) >= limit:
            return
        if node_id in chart.outcomes:
            found.append(FlowPath(steps, node_id))
            return
        if node_id in visiting:
            loop = " → ".join(visiting[visiting.index(node_id):] + (node_id,))
            raise ValueError(f"a loop: {loop}")
        question = chart.questions[node_id]
        for answer in question.answers:
            chosen = {**answers, question.id: answer.value}
            target = answer.next_for(chosen)
            if target is None:
                raise ValueError(f"question '{question.id}' answer '{answer.value}' leads nowhere after {steps}")
            walk(target, steps + ((question.id, answer.value),), chosen, visiting + (node_id,))

    walk(chart.start, (), {}, ())
    return found
