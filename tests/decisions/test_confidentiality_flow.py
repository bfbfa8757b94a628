"""Flow tests for Flowchart 1, "Should I share information?" (content/flowcharts.yaml).

In the style of GOV.UK Smart Answers' flow tests: one readable test per branch, each
replaying a practitioner's answers and checking where they lead. Then a table-driven
test walks *every* path and checks its outcome against an oracle written here, from
the guidance's rules (WTD App3 §3.6–3.12, §4.1–4.30; XG §4–§5, §8.8–8.10, App1), that
computes the expected outcome from the answers alone — it never reads the YAML routes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from guide.flows import FlowMachine, enumerate_paths, load_content

CONTENT = Path(__file__).resolve().parents[2] / "content"

# The eight key questions' ids and answer values are fixed: records, exports and the
# case examples depend on them.
KEY_QUESTIONS = {
    "purpose": {"yes", "no", "not_sure"},
    "identifiable": {"yes", "no", "not_sure"},
    "confidential": {"yes", "no", "not_sure"},
    "consent": {"yes_explicit", "yes_implied", "refused", "cannot_obtain", "not_asked", "not_sure"},
    "statutory": {"yes", "no", "not_sure"},
    "public_interest": {"yes", "no", "not_sure"},
}
KEY_ORDER = ["purpose", "identifiable", "confidential", "consent", "statutory", "public_interest"]

# The Data Protection Act questions borrowed from `dpa1998` (personal data and lawfulness
# are not re-asked: `identifiable` and the confidentiality questions answer them). They are
# asked only where their answers can change the outcome: with no consent and no concern about
# harm (XG App1 §3.2, §3.4–3.10; issue 11).
DPA_QUESTIONS = ["dpa_fair", "dpa_schedule2", "dpa_sensitive", "dpa_schedule3", "dpa_compatible", "dpa_other_principles"]

# What each outcome decides — the test's own view, checked against the YAML's.
OUTCOME_DECISION = {
    "do_not_share_no_purpose": "do_not_share",
    "share_anonymised": "share",
    "share_not_confidential": "share",
    "share_not_confidential_concern": "share",
    "share_without_consent_serious_harm": "share_without_consent",
    "seek_explicit_consent": "seek_consent_first",
    "seek_advice_no_consent_possible": "seek_advice",
    "share_with_consent": "share_with_consent",
    "must_share_statutory": "must_share",
    "share_without_consent_public_interest": "share_without_consent",
    "share_without_consent_proportionate": "share_without_consent",
    "share_limited_tier_one": "share_limited",
    "share_limited_to_decide": "share_limited",
    "do_not_share_public_interest": "do_not_share",
    "seek_consent_first": "seek_consent_first",
    "seek_advice_purpose": "seek_advice",
    "seek_advice_identifiable": "seek_advice",
    "seek_advice_confidential": "seek_advice",
    "seek_advice_consent": "seek_advice",
    "seek_advice_consent_who": "seek_advice",
    "seek_advice_consent_valid": "seek_advice",
    "seek_advice_seeking_consent": "seek_advice",
    "seek_advice_statutory": "seek_advice",
    "seek_advice_harm": "seek_advice",
    "seek_advice_health_professional": "seek_advice",
    "seek_advice_public_interest": "seek_advice",
    "seek_advice_share_extent": "seek_advice",
    "seek_advice_concern_not_shared": "seek_advice",
    "dpa_do_not_share_unfair": "do_not_share",
    "dpa_do_not_share_no_condition": "do_not_share",
    "dpa_do_not_share_no_schedule3": "do_not_share",
    "dpa_do_not_share_incompatible": "do_not_share",
    "dpa_do_not_share_principles": "do_not_share",
    "dpa_seek_advice_fair": "seek_advice",
    "dpa_seek_advice_schedule2": "seek_advice",
    "dpa_seek_advice_sensitive": "seek_advice",
    "dpa_seek_advice_schedule3": "seek_advice",
    "dpa_seek_advice_compatible": "seek_advice",
    "dpa_seek_advice_principles": "seek_advice",
}

# "I'm not sure" at a question leads to the seek-advice outcome about that question.
SEEK_ADVICE_FOR = {
    "purpose": "seek_advice_purpose",
    "identifiable": "seek_advice_identifiable",
    "confidential": "seek_advice_confidential",
    "consent": "seek_advice_consent",
    "consent_who": "seek_advice_consent_who",
    "consent_valid": "seek_advice_consent_valid",
    "consent_seek_safe": "seek_advice_seeking_consent",
    "statutory": "seek_advice_statutory",
    "harm_threshold": "seek_advice_harm",
    "health_professional": "seek_advice_health_professional",
    "public_interest": "seek_advice_public_interest",
    "limited_enquiry": "seek_advice_share_extent",
    "implied_consent_sensitive": "dpa_seek_advice_schedule3",
    "dpa_fair": "dpa_seek_advice_fair",
    "dpa_schedule2": "dpa_seek_advice_schedule2",
    "dpa_sensitive": "dpa_seek_advice_sensitive",
    "dpa_schedule3": "dpa_seek_advice_schedule3",
    "dpa_compatible": "dpa_seek_advice_compatible",
    "dpa_other_principles": "dpa_seek_advice_principles",
}

# Answers that get a walk to the point where the information is identifiable and confidential.
CONFIDENTIAL = {"purpose": "yes", "identifiable": "yes", "confidential": "yes"}
# The Data Protection Act questions all satisfied (information not sensitive).
DPA_OK = {
    "dpa_fair": "yes_told", "dpa_schedule2": "yes", "dpa_sensitive": "no",
    "dpa_compatible": "yes_compatible", "dpa_other_principles": "yes",
}
# Consent refused by the person whose decision it is; no statutory duty.
REFUSED_NO_DUTY = {**CONFIDENTIAL, "consent": "refused", "consent_who": "yes", "statutory": "no"}


@pytest.fixture(scope="module")
def content():
    return load_content(CONTENT)


@pytest.fixture(scope="module")
def chart(content):
    return content.flowcharts["confidentiality"]


@pytest.fixture(scope="module")
def machine(chart):
    return FlowMachine(chart)


@pytest.fixture(scope="module")
def paths(chart):
    return enumerate_paths(chart)


def walk(machine, answers: dict):
    return machine.replay(answers)


def asked(position) -> list[str]:
    return [question.id for question, _ in position.path]


def ends_in(position, outcome_id: str, decision: str):
    assert position.outcome is not None, f"walk stopped at question {position.current.id if position.current else None}"
    assert position.outcome.id == outcome_id
    assert position.outcome.decision == decision


# --- the chart's shape ---------------------------------------------------------------


def test_the_flowchart_is_listed_and_starts_with_the_purpose_question(chart):
    assert chart.listed
    assert chart.start == "purpose"
    assert chart.title == "Should I share information?"


def test_the_key_questions_are_marked_key_with_their_fixed_answers(chart):
    for question_id, values in KEY_QUESTIONS.items():
        question = chart.questions[question_id]
        assert question.key, question_id
        assert {a.value for a in question.answers} == values, question_id
    assert {q.id for q in chart.questions.values() if q.key} == set(KEY_QUESTIONS)


def test_the_questions_quote_the_eight_key_questions(chart):
    # WTD App3 §4.1 (and the headings of §4.2–4.25)
    assert chart.questions["purpose"].text == "Is there a legitimate purpose for you or your agency to share the information?"
    assert chart.questions["identifiable"].text == "Does the information enable a person to be identified?"
    assert chart.questions["confidential"].text == "Is the information confidential?"
    assert chart.questions["consent"].text == "Do you have consent to share?"
    assert chart.questions["statutory"].text == "Is there a statutory duty or court order to share the information?"
    assert "is there a sufficient public interest to share information?" in chart.questions["public_interest"].text


def test_every_question_explains_itself_and_offers_not_sure_leading_to_advice(chart):
    for question in chart.questions.values():
        assert question.help and question.cite, question.id
        not_sure = question.answer("not_sure")
        assert not_sure is not None, question.id
        for answer in question.answers:
            assert answer.reason, (question.id, answer.value)
        targets = {route.goto for route in not_sure.routes}
        assert all(chart.outcomes[t].decision == "seek_advice" for t in targets), question.id


def test_every_outcome_has_a_title_body_and_citation(chart, content):
    for outcome in chart.outcomes.values():
        assert outcome.title and outcome.body and outcome.cite, outcome.id
        assert outcome.decision in content.decisions


def test_seek_advice_outcomes_name_who_to_ask(chart):
    # WTD App3 §4.26–4.27: line manager / nominated person, Caldicott Guardian, professional
    # bodies, the named child protection lead.
    for outcome in chart.outcomes.values():
        if outcome.decision != "seek_advice":
            continue
        body = outcome.body.lower()
        assert any(who in body for who in ("line manager", "child protection lead", "caldicott", "source of advice")), outcome.id


def test_share_outcomes_say_how_to_share_and_whether_to_tell_the_person(chart):
    # WTD App3 §4.28–4.30
    for outcome in chart.outcomes.values():
        if outcome.decision not in ("share_with_consent", "share_without_consent", "must_share", "share_limited"):
            continue
        body = outcome.body.lower()
        assert "tell the person" in body, outcome.id
        assert "record" in body, outcome.id


def test_the_decisions_are_declared_with_their_flags(content):
    d = content.decisions
    assert set(d) == {"share", "share_with_consent", "share_without_consent", "must_share", "share_limited",
                      "seek_consent_first", "do_not_share", "seek_advice"}
    assert d["share"].shares and d["share_with_consent"].shares and d["share_limited"].shares
    assert d["share_without_consent"].shares and d["share_without_consent"].without_consent
    assert d["must_share"].shares and d["must_share"].without_consent
    assert not d["share_with_consent"].without_consent
    for decision_id in ("seek_consent_first", "do_not_share", "seek_advice"):
        assert not d[decision_id].shares


def test_the_sharing_checklist_covers_sharing_properly(content):
    ids = {item.id for item in content.sharing_checklist}
    assert {"necessary", "need_to_know", "accurate", "fact_and_opinion", "secure", "onward_use",
            "inform_person", "record"} <= ids
    assert all(item.cite for item in content.sharing_checklist)


def test_the_dpa_questions_are_borrowed_from_fairness_on(chart):
    for question_id in DPA_QUESTIONS:
        assert question_id in chart.questions
    # "Is it personal data?" is answered by `identifiable`; lawfulness by the confidentiality questions.
    assert "dpa_personal_data" not in chart.questions
    assert "dpa_lawful" not in chart.questions


# --- one test per branch -------------------------------------------------------------


def test_no_legitimate_purpose_means_do_not_share(machine):
    position = walk(machine, {"purpose": "no"})
    ends_in(position, "do_not_share_no_purpose", "do_not_share")


def test_anonymised_information_may_be_shared(machine):
    position = walk(machine, {"purpose": "yes", "identifiable": "no"})
    ends_in(position, "share_anonymised", "share")
    assert asked(position) == ["purpose", "identifiable"]


def test_identifiable_information_that_is_not_confidential_and_no_concern_is_shared_after_the_dpa_checks(machine):
    position = walk(machine, {"purpose": "yes", "identifiable": "yes", "confidential": "no", "harm_threshold": "no",
                              **DPA_OK})
    ends_in(position, "share_not_confidential", "share")
    assert asked(position)[3:] == ["harm_threshold", "dpa_fair", "dpa_schedule2", "dpa_sensitive", "dpa_compatible",
                                   "dpa_other_principles"]


def test_not_confidential_asks_about_harm_first(machine):
    # WTD App3 §3.18: information that is not confidential about harm still calls for a referral.
    position = walk(machine, {"purpose": "yes", "identifiable": "yes", "confidential": "no"})
    assert position.current.id == "harm_threshold"
    for concern in ("yes", "suspicion", "section_47", "other_ground"):
        position = walk(machine, {"purpose": "yes", "identifiable": "yes", "confidential": "no", "harm_threshold": concern})
        ends_in(position, "share_not_confidential_concern", "share")
        assert "refer" in position.outcome.body and "999" in position.outcome.body


def test_explicit_consent_from_the_right_person_still_valid_means_share_with_consent(machine):
    answers = {**CONFIDENTIAL, "consent": "yes_explicit", "consent_who": "yes", "consent_valid": "yes"}
    position = walk(machine, answers)
    ends_in(position, "share_with_consent", "share_with_consent")
    assert "statutory" not in asked(position)
    assert "public_interest" not in asked(position)
    # Valid explicit consent settles the Data Protection Act checks (XG App1 §3.4–3.5, §3.8, §3.10).
    assert not set(asked(position)) & set(DPA_QUESTIONS)
    assert "Schedule 3" in position.reasons()[-1]["reason"]


def test_implied_consent_still_valid_means_share_with_consent_when_nothing_sensitive(machine):
    answers = {**CONFIDENTIAL, "consent": "yes_implied", "consent_who": "yes", "consent_valid": "yes"}
    assert walk(machine, answers).current.id == "implied_consent_sensitive"
    ends_in(walk(machine, {**answers, "implied_consent_sensitive": "no"}), "share_with_consent", "share_with_consent")


def test_implied_consent_between_health_professionals_for_care_shares_health_information(machine):
    # WTD App3 §4.14 (GP to hospital specialist); XG §8.2, §8.15 — flagged as unsettled against XG App1 §3.8.
    answers = {**CONFIDENTIAL, "consent": "yes_implied", "consent_who": "yes", "consent_valid": "yes",
               "implied_consent_sensitive": "health_care"}
    ends_in(walk(machine, answers), "share_with_consent", "share_with_consent")


def test_implied_consent_for_other_sensitive_data_asks_for_explicit_consent_not_do_not_share(machine):
    answers = {**CONFIDENTIAL, "consent": "yes_implied", "consent_who": "yes", "consent_valid": "yes",
               "implied_consent_sensitive": "other"}
    ends_in(walk(machine, answers), "seek_explicit_consent", "seek_consent_first")


def test_consent_from_the_wrong_person_and_safe_to_ask_means_seek_consent_first(machine):
    answers = {**CONFIDENTIAL, "consent": "yes_explicit", "consent_who": "no", "statutory": "no", "consent_seek_safe": "no"}
    ends_in(walk(machine, answers), "seek_consent_first", "seek_consent_first")


def test_consent_no_longer_valid_and_safe_to_ask_again_means_seek_consent_first(machine):
    answers = {**CONFIDENTIAL, "consent": "yes_implied", "consent_who": "yes", "consent_valid": "no",
               "statutory": "no", "consent_seek_safe": "no"}
    ends_in(walk(machine, answers), "seek_consent_first", "seek_consent_first")


def test_consent_not_asked_asks_about_a_legal_duty_before_whether_it_is_safe_to_ask(machine):
    # WTD App3 §4.23–4.24: a duty or order means you must share whatever the consent position.
    position = walk(machine, {**CONFIDENTIAL, "consent": "not_asked"})
    assert position.current.id == "statutory"
    ends_in(walk(machine, {**CONFIDENTIAL, "consent": "not_asked", "statutory": "yes"}), "must_share_statutory", "must_share")


def test_consent_not_asked_and_safe_to_ask_means_seek_consent_first(machine):
    position = walk(machine, {**CONFIDENTIAL, "consent": "not_asked", "statutory": "no", "consent_seek_safe": "no"})
    ends_in(position, "seek_consent_first", "seek_consent_first")
    assert "consent_who" not in asked(position)


def test_consent_not_sought_because_asking_would_increase_risk_moves_on_to_harm(machine):
    position = walk(machine, {**CONFIDENTIAL, "consent": "not_asked", "statutory": "no", "consent_seek_safe": "yes"})
    assert position.current.id == "harm_threshold"


def test_consent_that_cannot_be_obtained_goes_to_the_public_interest_not_back_to_asking(machine):
    # XG §4.13, §4.17; WTD App3 §3.9.
    position = walk(machine, {**CONFIDENTIAL, "consent": "cannot_obtain", "statutory": "no"})
    assert position.current.id == "harm_threshold"
    assert "consent_seek_safe" not in asked(position)


def test_consent_refused_by_the_right_person_moves_on_to_statutory(machine):
    position = walk(machine, {**CONFIDENTIAL, "consent": "refused", "consent_who": "yes"})
    assert position.current.id == "statutory"
    assert "consent_valid" not in asked(position)


def test_consent_refused_by_the_wrong_person_asks_whether_to_seek_it_from_the_right_one(machine):
    position = walk(machine, {**CONFIDENTIAL, "consent": "refused", "consent_who": "no", "statutory": "no"})
    assert position.current.id == "consent_seek_safe"


def test_consent_refused_and_a_statutory_duty_means_must_share_without_dpa_questions(machine):
    position = walk(machine, {**CONFIDENTIAL, "consent": "refused", "consent_who": "yes", "statutory": "yes"})
    ends_in(position, "must_share_statutory", "must_share")
    assert not set(asked(position)) & set(DPA_QUESTIONS)


def test_refused_and_significant_harm_and_public_interest_means_share_without_consent(machine):
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "yes", "public_interest": "yes"}
    position = walk(machine, answers)
    ends_in(position, "share_without_consent_public_interest", "share_without_consent")
    assert "limited_enquiry" not in asked(position)
    assert "health_professional" not in asked(position)
    # The Data Protection Act points are settled and recorded, not asked (XG App1 §3.2, §3.4–3.10).
    assert not set(asked(position)) & set(DPA_QUESTIONS)
    harm_reason = next(r for r in position.reasons() if r["question_id"] == "harm_threshold")["reason"]
    assert "XG App1" in harm_reason


def test_a_section_47_request_is_weighed_in_the_public_interest(machine):
    # XG §11.4; XG App2 §2.1: the requester's concern counts, not only the practitioner's own.
    answers = {**CONFIDENTIAL, "consent": "not_asked", "statutory": "no", "consent_seek_safe": "yes",
               "harm_threshold": "section_47", "public_interest": "yes"}
    ends_in(walk(machine, answers), "share_without_consent_public_interest", "share_without_consent")


def test_serious_harm_to_an_adult_gets_its_own_outcome(machine):
    # WTD App3 §3.12, third bullet: not a children's social care referral about a child.
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "other_ground", "public_interest": "yes"}
    position = walk(machine, answers)
    ends_in(position, "share_without_consent_serious_harm", "share_without_consent")
    assert "police" in position.outcome.body


def test_significant_harm_but_not_the_substance_offers_a_limited_enquiry(machine):
    # WTD App3 §4.25: limited sharing to reach an informed decision.
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "yes", "public_interest": "no"}
    assert walk(machine, answers).current.id == "limited_enquiry"
    ends_in(walk(machine, {**answers, "limited_enquiry": "yes"}), "share_limited_to_decide", "share_limited")
    ends_in(walk(machine, {**answers, "limited_enquiry": "no"}), "seek_advice_concern_not_shared", "seek_advice")


def test_below_the_harm_threshold_a_limited_enquiry_goes_through_the_dpa_checks(machine):
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "no", "public_interest": "no", "limited_enquiry": "yes", **DPA_OK}
    ends_in(walk(machine, answers), "share_limited_to_decide", "share_limited")


def test_below_the_harm_threshold_proportionate_means_share_without_consent(machine):
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "no", "public_interest": "yes", **DPA_OK}
    ends_in(walk(machine, answers), "share_without_consent_proportionate", "share_without_consent")


def test_below_the_harm_threshold_and_not_even_a_limited_enquiry_means_do_not_share(machine):
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "no", "public_interest": "no", "limited_enquiry": "no"}
    ends_in(walk(machine, answers), "do_not_share_public_interest", "do_not_share")


def test_when_consent_cannot_be_obtained_there_is_no_refusal_to_respect(machine):
    answers = {**CONFIDENTIAL, "consent": "cannot_obtain", "statutory": "no", "harm_threshold": "no",
               "public_interest": "no", "limited_enquiry": "no"}
    ends_in(walk(machine, answers), "seek_advice_no_consent_possible", "seek_advice")


def test_health_professional_with_a_reasonable_suspicion_is_offered_tier_one_after_no(machine):
    # XG §8.8–8.10: "No" to sharing the substance still offers the tier-one enquiry.
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "suspicion", "health_professional": "yes",
               "public_interest": "no", "limited_enquiry": "yes"}
    position = walk(machine, answers)
    ends_in(position, "share_limited_tier_one", "share_limited")
    assert position.outcome.next_flowchart == "referral"


def test_health_professional_with_reasonable_grounds_for_belief_is_tier_two(machine):
    # XG §8.9 ii: reasonable grounds for believing → consider sharing substantive information.
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "yes", "public_interest": "yes"}
    position = walk(machine, answers)
    ends_in(position, "share_without_consent_public_interest", "share_without_consent")
    assert "tier two" in position.outcome.body


def test_other_practitioner_with_a_suspicion(machine):
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "suspicion", "health_professional": "no"}
    ends_in(walk(machine, {**answers, "public_interest": "yes"}),
            "share_without_consent_public_interest", "share_without_consent")
    ends_in(walk(machine, {**answers, "public_interest": "no", "limited_enquiry": "yes"}),
            "share_limited_to_decide", "share_limited")
    ends_in(walk(machine, {**answers, "public_interest": "no", "limited_enquiry": "no"}),
            "seek_advice_concern_not_shared", "seek_advice")


def test_no_concern_without_consent_and_no_schedule_2_condition_means_do_not_share_under_the_act(machine):
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "no", "public_interest": "yes", "dpa_fair": "yes_told",
               "dpa_schedule2": "no"}
    ends_in(walk(machine, answers), "dpa_do_not_share_no_condition", "do_not_share")


def test_sensitive_data_needs_a_schedule_3_condition(machine):
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "no", "public_interest": "yes", "dpa_fair": "yes_told",
               "dpa_schedule2": "yes", "dpa_sensitive": "yes"}
    assert walk(machine, answers).current.id == "dpa_schedule3"
    ends_in(walk(machine, {**answers, "dpa_schedule3": "no"}), "dpa_do_not_share_no_schedule3", "do_not_share")


def test_unfair_sharing_incompatible_purpose_or_unmet_principles_stop_sharing_only_without_a_concern(machine):
    base = {**REFUSED_NO_DUTY, "harm_threshold": "no", "public_interest": "yes"}
    ends_in(walk(machine, {**base, "dpa_fair": "no"}), "dpa_do_not_share_unfair", "do_not_share")
    ends_in(walk(machine, {**base, **DPA_OK, "dpa_compatible": "no"}), "dpa_do_not_share_incompatible", "do_not_share")
    ends_in(walk(machine, {**base, **DPA_OK, "dpa_other_principles": "no"}), "dpa_do_not_share_principles", "do_not_share")


NOT_SURE_WALKS = [
    ("purpose", {}),
    ("identifiable", {"purpose": "yes"}),
    ("confidential", {"purpose": "yes", "identifiable": "yes"}),
    ("consent", CONFIDENTIAL),
    ("consent_who", {**CONFIDENTIAL, "consent": "yes_explicit"}),
    ("consent_valid", {**CONFIDENTIAL, "consent": "yes_explicit", "consent_who": "yes"}),
    ("implied_consent_sensitive", {**CONFIDENTIAL, "consent": "yes_implied", "consent_who": "yes", "consent_valid": "yes"}),
    ("consent_seek_safe", {**CONFIDENTIAL, "consent": "not_asked", "statutory": "no"}),
    ("statutory", {**CONFIDENTIAL, "consent": "refused", "consent_who": "yes"}),
    ("harm_threshold", {**REFUSED_NO_DUTY}),
    ("health_professional", {**REFUSED_NO_DUTY, "harm_threshold": "suspicion"}),
    ("public_interest", {**REFUSED_NO_DUTY, "harm_threshold": "yes"}),
    ("limited_enquiry", {**REFUSED_NO_DUTY, "harm_threshold": "yes", "public_interest": "no"}),
    ("dpa_fair", {**REFUSED_NO_DUTY, "harm_threshold": "no", "public_interest": "yes"}),
    ("dpa_schedule2", {**REFUSED_NO_DUTY, "harm_threshold": "no", "public_interest": "yes", "dpa_fair": "yes_told"}),
    ("dpa_sensitive", {**REFUSED_NO_DUTY, "harm_threshold": "no", "public_interest": "yes", "dpa_fair": "yes_told", "dpa_schedule2": "yes"}),
    ("dpa_schedule3", {**REFUSED_NO_DUTY, "harm_threshold": "no", "public_interest": "yes", "dpa_fair": "yes_told", "dpa_schedule2": "yes",
                       "dpa_sensitive": "yes"}),
    ("dpa_compatible", {"purpose": "yes", "identifiable": "yes", "confidential": "no", "harm_threshold": "no",
                        "dpa_fair": "yes_told", "dpa_schedule2": "yes", "dpa_sensitive": "no"}),
    ("dpa_other_principles", {"purpose": "yes", "identifiable": "yes", "confidential": "no", "harm_threshold": "no",
                              "dpa_fair": "yes_told", "dpa_schedule2": "yes", "dpa_sensitive": "no",
                              "dpa_compatible": "yes_compatible"}),
]


@pytest.mark.parametrize("question_id, before", NOT_SURE_WALKS, ids=[q for q, _ in NOT_SURE_WALKS])
def test_not_sure_at_each_question_means_seek_advice(machine, question_id, before):
    position = walk(machine, before)
    assert position.current is not None and position.current.id == question_id
    position = walk(machine, {**before, question_id: "not_sure"})
    ends_in(position, SEEK_ADVICE_FOR[question_id], "seek_advice")


def test_every_question_has_a_not_sure_walk(chart):
    assert {q for q, _ in NOT_SURE_WALKS} == set(chart.questions)


def test_changing_an_earlier_answer_drops_later_answers_that_no_longer_apply(machine):
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "yes", "public_interest": "yes"}
    assert walk(machine, answers).outcome.id == "share_without_consent_public_interest"
    changed = walk(machine, {**answers, "consent": "yes_explicit", "consent_valid": "yes"})
    assert changed.outcome.id == "share_with_consent"
    assert "public_interest" not in asked(changed)


# --- every path, against an oracle ------------------------------------------------------


class NotSure(Exception):
    def __init__(self, question_id: str):
        self.question_id = question_id


class Answers:
    """The answers on one path, recording which the oracle needed to read.

    Reading a question that was never asked fails the test (the guide skipped a question
    the rules need); reading an "I'm not sure" answer ends the oracle in seek advice.
    """

    def __init__(self, answers: dict[str, str]):
        self._answers = answers
        self.read: list[str] = []

    def __getitem__(self, question_id: str) -> str:
        if question_id not in self._answers:
            raise AssertionError(f"the rules need '{question_id}', but the walk never asked it")
        self.read.append(question_id)
        value = self._answers[question_id]
        if value == "not_sure":
            raise NotSure(question_id)
        return value


def dpa_then(a: Answers, decision_if_met: str) -> str:
    """XG App1 §3.3–3.10: the Data Protection Act checks for identifiable information.

    The first principle (fair: told, or an exception, §3.4), a Schedule 2 condition (§3.5),
    a Schedule 3 condition if the data is sensitive (§3.7–3.8), the second principle (§3.10),
    and the remaining principles (§3.2; XG §2.1).
    """
    if a["dpa_fair"] == "no":
        return "dpa_do_not_share_unfair"
    if a["dpa_schedule2"] == "no":
        return "dpa_do_not_share_no_condition"
    if a["dpa_sensitive"] == "yes" and a["dpa_schedule3"] == "no":
        return "dpa_do_not_share_no_schedule3"
    if a["dpa_compatible"] == "no":
        return "dpa_do_not_share_incompatible"
    if a["dpa_other_principles"] == "no":
        return "dpa_do_not_share_principles"
    return decision_if_met


CONCERN = ("yes", "section_47", "other_ground", "suspicion")


def confidentiality_rules(a: Answers) -> str:
    # 1. No legitimate purpose: do not share (WTD App3 §4.2).
    if a["purpose"] == "no":
        return "do_not_share_no_purpose"
    # 2. Anonymised information may be shared for a legitimate purpose (WTD App3 §4.6);
    #    identifiable information is personal data, so the DPA checks apply to any sharing.
    if a["identifiable"] == "no":
        return "share_anonymised"
    # 3. Information that is not confidential may be shared (WTD App3 §3.17) — but a concern
    #    about harm calls for a referral, and settles the DPA points (WTD App3 §3.18; XG App1 §3.2).
    if a["confidential"] == "no":
        if a["harm_threshold"] in CONCERN:
            return "share_not_confidential_concern"
        return dpa_then(a, "share_not_confidential")
    # 4. Valid consent from the right person: share within it (WTD App3 §4.13–4.21); consent
    #    settles the DPA points, except implied consent for sensitive data (XG App1 §3.8).
    consent = a["consent"]
    if consent in ("yes_explicit", "yes_implied"):
        if a["consent_who"] == "yes" and a["consent_valid"] == "yes":
            if consent == "yes_implied" and a["implied_consent_sensitive"] == "other":
                return "seek_explicit_consent"
            return "share_with_consent"
        right_person_still_to_ask = True
    elif consent == "refused":
        right_person_still_to_ask = a["consent_who"] != "yes"
    elif consent == "cannot_obtain":  # XG §4.13; WTD App3 §3.9: straight to the public interest
        right_person_still_to_ask = False
    else:  # not asked
        right_person_still_to_ask = True
    # 5. A statutory duty or court order: must share whatever the consent position
    #    (WTD App3 §4.23–4.24), so it is asked before whether it is safe to seek consent.
    if a["statutory"] == "yes":
        return "must_share_statutory"
    # Consent not yet sought from the right person: seek it first, unless seeking it would put
    # someone at risk, prejudice a serious crime investigation or cause delay (§4.22).
    if right_person_still_to_ask and a["consent_seek_safe"] == "no":
        return "seek_consent_first"
    # 6. Public interest (WTD App3 §3.9–3.12, §4.25; XG §4.14–4.18, §8.8–8.10, §11.4).
    harm = a["harm_threshold"]
    health_suspicion = harm == "suspicion" and a["health_professional"] == "yes"
    if a["public_interest"] == "yes":  # the substance
        if harm == "no":
            return dpa_then(a, "share_without_consent_proportionate")
        if harm == "other_ground":
            return "share_without_consent_serious_harm"
        return "share_without_consent_public_interest"
    if harm == "other_ground":
        return "seek_advice_concern_not_shared"
    # Not the substance: is a limited enquiry justified? (WTD App3 §4.25; XG §8.9 i)
    if a["limited_enquiry"] == "yes":
        if harm == "no":
            return dpa_then(a, "share_limited_to_decide")
        return "share_limited_tier_one" if health_suspicion else "share_limited_to_decide"
    if harm == "no":
        # A refusal is respected (WTD App3 §3.17); where consent could not be obtained there is
        # no refusal to respect, so the decision not to share is talked through (XG §4.20).
        return "seek_advice_no_consent_possible" if consent == "cannot_obtain" else "do_not_share_public_interest"
    # A concern about harm must not be ignored (WTD App3 §3.19).
    return "seek_advice_concern_not_shared"


def expected_outcome(answers: dict[str, str]) -> tuple[str, list[str]]:
    a = Answers(answers)
    try:
        outcome = confidentiality_rules(a)
    except NotSure as unsure:
        outcome = SEEK_ADVICE_FOR[unsure.question_id]
    return outcome, a.read


def test_the_path_count_stays_reasonable(paths):
    assert 500 < len(paths) < 5000


def path_problem(path, chart) -> str | None:
    """What is wrong with one path, judged by the oracle — or None."""
    try:
        expected, read = expected_outcome(path.answers)
    except AssertionError as exc:  # the walk skipped a question the rules need
        return f"{path.steps}: {exc}"
    if path.outcome != expected:
        return f"{path.steps}: got {path.outcome}, expected {expected}"
    if chart.outcomes[path.outcome].decision != OUTCOME_DECISION[expected]:
        return f"{path.outcome}: decision {chart.outcomes[path.outcome].decision}, expected {OUTCOME_DECISION[expected]}"
    # The walk asked exactly the questions the rules needed — none skipped, none extra.
    if sorted(read) != sorted(q for q, _ in path.steps):
        return f"{path.steps}: asked questions the rules did not need (rules read {read})"
    return None


def test_every_path_ends_where_the_guidance_says(paths, chart):
    problems = [problem for path in paths if (problem := path_problem(path, chart))]
    assert not problems, f"{len(problems)} of {len(paths)} paths disagree, e.g.:\n" + "\n".join(problems[:10])


def test_every_path_asks_the_key_questions_in_the_guidance_order(paths):
    for path in paths:
        keys = [q for q, _ in path.steps if q in KEY_QUESTIONS]
        assert keys == sorted(keys, key=KEY_ORDER.index), path.steps
        assert keys == KEY_ORDER[:len(keys)], path.steps  # none skipped on the way


def test_identifiable_information_is_only_shared_when_the_dpa_checks_are_met_or_settled(paths, chart):
    # XG App1 §3.2: the Act is no obstacle where there is a concern about a child's welfare and
    # sharing is justified; consent or a legal duty settles its checks too (XG App1 §3.4–3.10).
    for path in paths:
        decision = chart.outcomes[path.outcome].decision
        answers = path.answers
        if decision in ("share", "share_with_consent", "share_without_consent", "share_limited") \
                and answers.get("identifiable") == "yes":
            settled = answers.get("consent_valid") == "yes" or answers.get("harm_threshold") in CONCERN
            assert settled or answers.get("dpa_other_principles") == "yes", path.steps


def test_sharing_without_consent_is_only_reached_when_consent_was_refused_not_sought_or_unobtainable(paths, chart):
    for path in paths:
        decision = chart.outcomes[path.outcome].decision
        if decision in ("share_without_consent", "share_limited", "must_share"):
            a = path.answers
            refused = a.get("consent") == "refused" and a.get("consent_who") == "yes"
            not_sought = a.get("consent_seek_safe") == "yes"
            unobtainable = a.get("consent") == "cannot_obtain"
            duty = a.get("statutory") == "yes"  # WTD App3 §4.24: whatever the consent position
            assert refused or not_sought or unobtainable or duty, path.steps


def test_every_outcome_is_reached_by_some_path(paths, chart):
    assert {p.outcome for p in paths} == set(chart.outcomes)
    assert set(chart.outcomes) == set(OUTCOME_DECISION)


def test_the_oracle_catches_a_wrong_route(chart):
    """Mutation check: send `public_interest: yes` to "do not share" and the oracle must object."""
    question = chart.questions["public_interest"]
    wrong = tuple(
        dataclasses.replace(answer, routes=(dataclasses.replace(answer.routes[-1], goto="do_not_share_public_interest", when=()),))
        if answer.value == "yes" else answer
        for answer in question.answers
    )
    mutated = dataclasses.replace(
        chart, questions={**chart.questions, "public_interest": dataclasses.replace(question, answers=wrong)},
    )
    assert any(path_problem(path, mutated) for path in enumerate_paths(mutated))


def test_a_competent_young_persons_refusal_counts_even_if_a_parent_agreed(machine, chart):
    # WTD App3 §4.20; XG §4.23: the help says to answer Refused, and the route respects it
    # without sending the practitioner to ask someone who has already refused.
    assert "competent young person refused, choose Refused even if a" in " ".join(chart.questions["consent"].help.split())
    answers = {**REFUSED_NO_DUTY, "harm_threshold": "no", "public_interest": "no", "limited_enquiry": "no"}
    position = walk(machine, answers)
    ends_in(position, "do_not_share_public_interest", "do_not_share")
    assert "consent_seek_safe" not in asked(position)
    wrong_person = chart.questions["consent_who"].answer("no").reason
    assert "has not been asked" not in wrong_person
