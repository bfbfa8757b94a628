"""The guidance's 21 case examples, loaded from `content/scenarios/` for training walks."""

from .content import (
    CHILD_AGES, CONCERNS, FLOWCHART_ANSWERS, REVIEW_OUTCOME, SCENARIOS_DIRECTORY, SECTORS,
    CaseOutcome, DecisionPoint, Fact, Option, Person, Scenario, load_scenarios,
)

__all__ = [
    "CHILD_AGES", "CONCERNS", "FLOWCHART_ANSWERS", "REVIEW_OUTCOME", "SCENARIOS_DIRECTORY",
    "SECTORS", "CaseOutcome", "DecisionPoint", "Fact", "Option", "Person", "Scenario",
    "load_scenarios",
]
