"""Run a flowchart as a `transitions` state machine.

A walk's state is not kept in memory: the answers live in the database, and the
position is found by replaying them through the machine from the start. Replaying
also means a changed answer earlier on keeps the later answers that still apply
(as GOV.UK "check your answers" Change links should), and drops the rest from the path.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from transitions import Machine, MachineError

from .flowchart import Flowchart, Outcome, Question


def trigger_name(value: str) -> str:
    # Prefixed so an answer value can never shadow the model's own attributes.
    return f"answer__{value}"


class _Position:
    """The model the machine moves: one replay of one walk."""

    state: str


@dataclass
class WalkPosition:
    """Where a set of answers leads: the path taken, and the question or outcome reached."""

    chart: Flowchart
    path: list[tuple[Question, str]] = field(default_factory=list)
    current: Question | None = None
    outcome: Outcome | None = None

    @property
    def answers(self) -> dict[str, str]:
        return {question.id: value for question, value in self.path}

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def on_path(self, question_id: str) -> bool:
        return any(q.id == question_id for q, _ in self.path) or (
            self.current is not None and self.current.id == question_id
        )

    def reasons(self) -> list[dict]:
        """Each answer on the path with the reason it contributed and its citation."""
        result = []
        for question, value in self.path:
            answer = question.answer(value)
            result.append({
                "question_id": question.id, "question": question.text, "cite": question.cite,
                "answer": value, "answer_label": answer.label, "reason": answer.reason,
                "key": question.key,
            })
        return result


class FlowMachine:
    """One `transitions.Machine` per flowchart, built once and shared by every walk.

    The machine moves one model, reset to the start for each replay (adding a model per
    replay costs more than the replay). Replays are remembered by their answers: a position
    depends on nothing else, and a walk is replayed several times in one request.
    """

    CACHE_SIZE = 4096

    def __init__(self, chart: Flowchart):
        self.chart = chart
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, WalkPosition] = OrderedDict()
        states = list(chart.questions) + list(chart.outcomes)
        self._model = _Position()
        self.machine = Machine(
            model=self._model, states=states, initial=chart.start,
            auto_transitions=False, ignore_invalid_triggers=False,
        )
        for question in chart.questions.values():
            for answer in question.answers:
                for route in answer.routes:
                    # Routes are tried in order; a route's conditions look at the answers
                    # given so far on this walk, passed to the trigger.
                    self.machine.add_transition(
                        trigger=trigger_name(answer.value), source=question.id, dest=route.goto,
                        conditions=[route.applies] if route.when else None,
                    )

    def replay(self, answers: dict[str, str]) -> WalkPosition:
        """Follow the stored answers from the start until a question has none, or an outcome.

        The position returned may be shared with other callers: read it, do not change it.
        """
        key = tuple(sorted(answers.items()))
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
            position = self._replay(answers)
            self._cache[key] = position
            if len(self._cache) > self.CACHE_SIZE:
                self._cache.popitem(last=False)
        return position

    def _replay(self, answers: dict[str, str]) -> WalkPosition:
        position = WalkPosition(chart=self.chart)
        model = self._model
        self.machine.set_state(self.chart.start, model)
        given: dict[str, str] = {}
        while True:
            state = model.state
            if state in self.chart.outcomes:
                position.outcome = self.chart.outcomes[state]
                return position
            question = self.chart.questions[state]
            value = answers.get(state)
            if value is None or question.answer(value) is None:
                position.current = question
                return position
            given[state] = value
            try:
                model.trigger(trigger_name(value), given)
            except MachineError as exc:  # content validation makes this unreachable
                raise RuntimeError(f"{self.chart.id}: no route from {state} on {value}") from exc
            position.path.append((question, value))
