"""Flow tests for Flowchart 2, the Data Protection Act 1998 (XG App1 §3–4), on its own.

One readable test per branch, then every path checked against an oracle written here
from XG App1 §3.1–3.10 that computes the expected outcome from the answers alone.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from guide.flows import FlowMachine, enumerate_paths, load_content

CONTENT = Path(__file__).resolve().parents[2] / "content"

ORDER = ["dpa_personal_data", "dpa_confidential_anyway", "dpa_lawful", "dpa_fair", "dpa_schedule2", "dpa_sensitive", "dpa_schedule3",
         "dpa_compatible", "dpa_other_principles"]

OUTCOME_DECISION = {
    "dpa_conditions_met": "share",
    "dpa_not_personal_data": "share",
    "dpa_not_personal_data_confidential": "do_not_share",
    "dpa_seek_advice_confidential": "seek_advice",
    "dpa_do_not_share_unlawful": "do_not_share",
    "dpa_do_not_share_unfair": "do_not_share",
    "dpa_do_not_share_no_condition": "do_not_share",
    "dpa_do_not_share_no_schedule3": "do_not_share",
    "dpa_do_not_share_incompatible": "do_not_share",
    "dpa_do_not_share_principles": "do_not_share",
    "dpa_seek_advice_personal_data": "seek_advice",
    "dpa_seek_advice_lawful": "seek_advice",
    "dpa_seek_advice_fair": "seek_advice",
    "dpa_seek_advice_schedule2": "seek_advice",
    "dpa_seek_advice_sensitive": "seek_advice",
    "dpa_seek_advice_schedule3": "seek_advice",
    "dpa_seek_advice_compatible": "seek_advice",
    "dpa_seek_advice_principles": "seek_advice",
}

SEEK_ADVICE_FOR = {
    "dpa_personal_data": "dpa_seek_advice_personal_data",
    "dpa_confidential_anyway": "dpa_seek_advice_confidential",
    "dpa_lawful": "dpa_seek_advice_lawful",
    "dpa_fair": "dpa_seek_advice_fair",
    "dpa_schedule2": "dpa_seek_advice_schedule2",
    "dpa_sensitive": "dpa_seek_advice_sensitive",
    "dpa_schedule3": "dpa_seek_advice_schedule3",
    "dpa_compatible": "dpa_seek_advice_compatible",
    "dpa_other_principles": "dpa_seek_advice_principles",
}

ALL_MET = {
    "dpa_personal_data": "yes", "dpa_lawful": "yes", "dpa_fair": "yes_told", "dpa_schedule2": "yes",
    "dpa_sensitive": "no", "dpa_compatible": "yes_compatible", "dpa_other_principles": "yes",
}


@pytest.fixture(scope="module")
def chart():
    return load_content(CONTENT).flowcharts["dpa1998"]


@pytest.fixture(scope="module")
def machine(chart):
    return FlowMachine(chart)


@pytest.fixture(scope="module")
def paths(chart):
    return enumerate_paths(chart)


def ends_in(position, outcome_id: str, decision: str):
    assert position.outcome is not None, f"walk stopped at {position.current.id if position.current else None}"
    assert position.outcome.id == outcome_id
    assert position.outcome.decision == decision


def asked(position) -> list[str]:
    return [question.id for question, _ in position.path]


# --- the chart's shape ---------------------------------------------------------------


def test_the_flowchart_is_listed_and_starts_with_personal_data(chart):
    assert chart.listed
    assert chart.start == "dpa_personal_data"
    assert list(chart.questions) == ORDER


def test_every_question_has_help_a_citation_and_not_sure_to_seek_advice(chart):
    for question in chart.questions.values():
        assert question.help and question.cite, question.id
        assert "XG" in question.cite, question.id
        not_sure = question.answer("not_sure")
        assert not_sure is not None and [r.goto for r in not_sure.routes] == [SEEK_ADVICE_FOR[question.id]]
        for answer in question.answers:
            assert answer.reason, (question.id, answer.value)


def test_every_outcome_has_a_title_body_and_citation(chart):
    for outcome in chart.outcomes.values():
        assert outcome.title and outcome.body and outcome.cite, outcome.id
        assert outcome.decision == OUTCOME_DECISION[outcome.id]


def test_the_help_lists_the_schedule_conditions_and_sensitive_categories(chart):
    schedule2 = chart.questions["dpa_schedule2"].help.lower()
    for condition in ("consents", "legal obligation", "vital interests", "statutory function", "legitimate interests"):
        assert condition in schedule2
    sensitive = chart.questions["dpa_sensitive"].help.lower()
    for category in ("racial or ethnic origin", "political opinions", "religious beliefs", "trade union",
                     "physical or mental health", "sexual life", "criminal offences"):
        assert category in sensitive
    schedule3 = chart.questions["dpa_schedule3"].help.lower()
    for condition in ("explicitly", "vital interests", "legal rights", "statutory function", "substantial public interest"):
        assert condition in schedule3


# --- one test per branch -------------------------------------------------------------


def test_information_that_is_not_personal_data_is_not_stopped_by_the_act(machine):
    position = machine.replay({"dpa_personal_data": "no", "dpa_confidential_anyway": "no"})
    ends_in(position, "dpa_not_personal_data", "share")


def test_not_personal_data_but_confidential_is_not_free_to_share(machine):
    # XG App1 §2.1: the duty of confidence does not depend on the Act (issue 11, item 12).
    position = machine.replay({"dpa_personal_data": "no", "dpa_confidential_anyway": "yes"})
    ends_in(position, "dpa_not_personal_data_confidential", "do_not_share")
    assert "Should I share information?" in position.outcome.body
    assert "confidence" in position.outcome.body  # the duty of confidence still applies


def test_every_condition_met_means_the_act_does_not_stop_sharing(machine):
    position = machine.replay(ALL_MET)
    ends_in(position, "dpa_conditions_met", "share")
    assert "dpa_schedule3" not in asked(position)


def test_sensitive_data_with_a_schedule_3_condition_may_be_shared(machine):
    answers = {**ALL_MET, "dpa_sensitive": "yes", "dpa_schedule3": "yes"}
    position = machine.replay(answers)
    ends_in(position, "dpa_conditions_met", "share")
    assert "dpa_schedule3" in asked(position)


def test_exceptions_satisfy_fairness_and_the_second_principle(machine):
    answers = {**ALL_MET, "dpa_fair": "yes_exempt", "dpa_compatible": "yes_exempt"}
    ends_in(machine.replay(answers), "dpa_conditions_met", "share")


def test_a_breach_of_confidence_means_do_not_share(machine):
    ends_in(machine.replay({**ALL_MET, "dpa_lawful": "no"}), "dpa_do_not_share_unlawful", "do_not_share")


def test_not_told_and_no_exception_means_do_not_share_yet(machine):
    ends_in(machine.replay({**ALL_MET, "dpa_fair": "no"}), "dpa_do_not_share_unfair", "do_not_share")


def test_no_schedule_2_condition_means_do_not_share(machine):
    ends_in(machine.replay({**ALL_MET, "dpa_schedule2": "no"}), "dpa_do_not_share_no_condition", "do_not_share")


def test_sensitive_data_without_a_schedule_3_condition_means_do_not_share(machine):
    answers = {**ALL_MET, "dpa_sensitive": "yes", "dpa_schedule3": "no"}
    ends_in(machine.replay(answers), "dpa_do_not_share_no_schedule3", "do_not_share")


def test_an_incompatible_purpose_means_do_not_share(machine):
    ends_in(machine.replay({**ALL_MET, "dpa_compatible": "no"}), "dpa_do_not_share_incompatible", "do_not_share")


def test_unmet_remaining_principles_means_put_it_right_first(machine):
    ends_in(machine.replay({**ALL_MET, "dpa_other_principles": "no"}), "dpa_do_not_share_principles", "do_not_share")


@pytest.mark.parametrize("question_id", ORDER)
def test_not_sure_at_each_question_means_seek_advice(machine, question_id):
    before = dict(ALL_MET)
    if question_id == "dpa_schedule3":
        before["dpa_sensitive"] = "yes"
    index = ORDER.index(question_id)
    before = {q: v for q, v in before.items() if ORDER.index(q) < index}
    if question_id == "dpa_confidential_anyway":
        before["dpa_personal_data"] = "no"
    assert machine.replay(before).current.id == question_id
    ends_in(machine.replay({**before, question_id: "not_sure"}), SEEK_ADVICE_FOR[question_id], "seek_advice")


def test_unsure_about_lawfulness_points_to_the_confidentiality_flowchart(machine):
    position = machine.replay({"dpa_personal_data": "yes", "dpa_lawful": "not_sure"})
    assert "Should I share information?" in " ".join(position.outcome.body.split())


# --- every path, against an oracle ------------------------------------------------------


class NotSure(Exception):
    def __init__(self, question_id: str):
        self.question_id = question_id


class Answers:
    """One path's answers; records what the oracle read, fails on a question never asked."""

    def __init__(self, answers: dict[str, str]):
        self._answers = answers
        self.read: list[str] = []

    def __getitem__(self, question_id: str) -> str:
        if question_id not in self._answers:
            raise AssertionError(f"the rules need '{question_id}', but the walk never asked it")
        self.read.append(question_id)
        if self._answers[question_id] == "not_sure":
            raise NotSure(question_id)
        return self._answers[question_id]


def dpa_rules(a: Answers) -> str:
    if a["dpa_personal_data"] == "no":  # §3.1: the Act regulates personal data only
        # ... but not personal data is not "not confidential" (XG App1 §2.1).
        if a["dpa_confidential_anyway"] == "yes":
            return "dpa_not_personal_data_confidential"
        return "dpa_not_personal_data"
    if a["dpa_lawful"] == "no":  # first principle, lawful: no breach of confidence, Article 8 (App1 §2.1, §4.2–4.3)
        return "dpa_do_not_share_unlawful"
    if a["dpa_fair"] not in ("yes_told", "yes_exempt"):  # first principle, fair (§3.4)
        return "dpa_do_not_share_unfair"
    if a["dpa_schedule2"] != "yes":  # §3.5
        return "dpa_do_not_share_no_condition"
    if a["dpa_sensitive"] == "yes" and a["dpa_schedule3"] != "yes":  # §3.7–3.8
        return "dpa_do_not_share_no_schedule3"
    if a["dpa_compatible"] not in ("yes_compatible", "yes_exempt"):  # second principle (§3.10)
        return "dpa_do_not_share_incompatible"
    if a["dpa_other_principles"] != "yes":  # the remaining principles (§3.2; XG §2.1)
        return "dpa_do_not_share_principles"
    return "dpa_conditions_met"


def path_problem(path, chart) -> str | None:
    a = Answers(path.answers)
    try:
        try:
            expected = dpa_rules(a)
        except NotSure as unsure:
            expected = SEEK_ADVICE_FOR[unsure.question_id]
    except AssertionError as exc:
        return f"{path.steps}: {exc}"
    if path.outcome != expected:
        return f"{path.steps}: got {path.outcome}, expected {expected}"
    if chart.outcomes[path.outcome].decision != OUTCOME_DECISION[expected]:
        return f"{path.outcome}: wrong decision {chart.outcomes[path.outcome].decision}"
    if sorted(a.read) != sorted(q for q, _ in path.steps):
        return f"{path.steps}: asked questions the rules did not need"
    return None


def test_every_path_ends_where_the_act_says(paths, chart):
    problems = [problem for path in paths if (problem := path_problem(path, chart))]
    assert not problems, f"{len(problems)} of {len(paths)} paths disagree, e.g.:\n" + "\n".join(problems[:10])


def test_every_path_asks_the_questions_in_order(paths):
    for path in paths:
        ids = [q for q, _ in path.steps]
        assert ids == sorted(ids, key=ORDER.index), path.steps


def test_every_outcome_is_reached(paths, chart):
    assert {p.outcome for p in paths} == set(chart.outcomes) == set(OUTCOME_DECISION)


def test_the_oracle_catches_a_wrong_route(chart):
    """Mutation check: let `dpa_schedule2: no` carry on, and the oracle must object."""
    question = chart.questions["dpa_schedule2"]
    wrong = tuple(
        dataclasses.replace(answer, routes=(dataclasses.replace(answer.routes[0], goto="dpa_sensitive"),))
        if answer.value == "no" else answer
        for answer in question.answers
    )
    mutated = dataclasses.replace(
        chart, questions={**chart.questions, "dpa_schedule2": dataclasses.replace(question, answers=wrong)},
    )
    assert any(path_problem(path, mutated) for path in enumerate_paths(mutated))
