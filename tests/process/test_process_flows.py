"""Flow tests for the safeguarding process after a referral (WTD §8–§84, flow charts 1–5).

The five process flowcharts in content/flowcharts.yaml: `referral`, `after_initial_assessment`,
`urgent_action`, `after_strategy_discussion` and `after_conference`. In the style of GOV.UK
Smart Answers' flow tests: one readable test per branch, replaying a practitioner's answers
and checking the stage they reach; then checks over every path and every step — each step
says who does what, with a citation of WTD and a paragraph — the chain of flowcharts from a
referral to the review conference, the view of one role, and the timescales' numbers.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import date
from pathlib import Path

import pytest

from guide.flows import FlowMachine, enumerate_paths, load_content

CONTENT = Path(__file__).resolve().parents[2] / "content"

PROCESS_FLOWS = ["referral", "after_initial_assessment", "urgent_action", "after_strategy_discussion", "after_conference"]

# A citation of WTD itself (not an appendix only) with a paragraph number, e.g. "WTD §11.5".
WTD_PARAGRAPH = re.compile(r"\bWTD\s+§\s?\d")

# The timescales of WTD §11.5, §12.1, §16.1, §44.1, §51.2, §52.5 and §68.1: (unit, amount, counted from).
EXPECTED_TIMESCALES = {
    "referral_decision": ("working_days", 1, "referral"),
    "written_confirmation": ("hours", 48, "referral"),
    "chase_acknowledgement": ("working_days", 3, "written_referral"),
    "initial_assessment": ("working_days", 7, "referral"),
    "initial_conference": ("working_days", 15, "strategy_discussion"),
    "core_assessment": ("working_days", 35, "core_assessment_started"),
    "first_core_group": ("working_days", 10, "conference"),
    "first_review": ("months", 3, "conference"),
    "later_reviews": ("months", 6, "review_conference"),
}

# Confidentiality outcomes that tell the practitioner to refer to children's social care.
# Issue 11: every outcome reachable with a concern about harm links the referral guide
# ("always consider referring", WTD App3 §3.18; WTD §11.2), not only the three it had.
CONFIDENTIALITY_TO_REFERRAL = {
    "share_without_consent_public_interest", "seek_advice_harm", "seek_advice_concern_not_shared",
    "share_not_confidential_concern", "share_limited_tier_one", "share_limited_to_decide", "seek_consent_first",
    "seek_advice_seeking_consent", "seek_advice_health_professional", "seek_advice_public_interest",
    "seek_advice_share_extent",
}


@pytest.fixture(scope="module")
def content():
    return load_content(CONTENT)


@pytest.fixture(scope="module")
def machines(content):
    return {chart_id: FlowMachine(content.flowcharts[chart_id]) for chart_id in PROCESS_FLOWS}


def walk(machines, chart_id: str, answers: dict):
    return machines[chart_id].replay(answers)


def stage(machines, chart_id: str, answers: dict):
    position = walk(machines, chart_id, answers)
    assert position.outcome is not None, f"walk stopped at question {position.current.id if position.current else None}"
    return position.outcome


def steps(chart):
    return list(chart.questions.values()) + list(chart.outcomes.values())


# --- shape: every flow, every path, every step ---------------------------------------


@pytest.mark.parametrize("chart_id", PROCESS_FLOWS)
def test_each_flow_is_a_listed_process_citing_wtd(content, chart_id):
    chart = content.flowcharts[chart_id]
    assert chart.is_process and chart.listed
    assert chart.title and chart.summary
    assert WTD_PARAGRAPH.search(chart.cite), chart.cite


@pytest.mark.parametrize("chart_id", PROCESS_FLOWS)
def test_every_path_ends_in_a_stage_and_every_stage_is_reached(content, machines, chart_id):
    chart = content.flowcharts[chart_id]
    paths = enumerate_paths(chart)
    assert paths
    for path in paths:
        position = walk(machines, chart_id, path.answers)
        assert position.outcome is not None and position.outcome.id == path.outcome, path.steps
        # A stage of a process decides nothing about sharing.
        assert position.outcome.decision == ""
    assert {path.outcome for path in paths} == set(chart.outcomes)
    asked = {question_id for path in paths for question_id, _ in path.steps}
    assert asked == set(chart.questions)


@pytest.mark.parametrize("chart_id", PROCESS_FLOWS)
def test_every_step_says_who_does_what_and_cites_a_wtd_paragraph(content, chart_id):
    chart = content.flowcharts[chart_id]
    for node in steps(chart):
        assert node.who, node.id
        assert all(role in content.roles for role in node.who), (node.id, node.who)
        assert node.does.strip(), node.id
        assert WTD_PARAGRAPH.search(node.cite), (node.id, node.cite)
        if node.timescale:
            assert node.timescale in content.timescales, (node.id, node.timescale)


@pytest.mark.parametrize("chart_id", PROCESS_FLOWS)
def test_every_question_helps_gives_reasons_and_sends_not_sure_to_a_stage_saying_who_to_ask(content, chart_id):
    chart = content.flowcharts[chart_id]
    for question in chart.questions.values():
        assert question.help.strip(), question.id
        for answer in question.answers:
            assert answer.reason, (question.id, answer.value)
        not_sure = question.answer("not_sure")
        assert not_sure is not None, question.id
        for route in not_sure.routes:
            target = chart.outcomes.get(route.goto)
            assert target is not None, f"{question.id}: 'not sure' should lead to a stage, not {route.goto}"
            assert target.who and target.does, target.id


def test_roles_are_labelled_in_plain_english(content):
    for role_id in ("all_practitioners", "referrer", "social_worker", "social_care_manager", "police",
                    "health", "key_worker", "conference_chair", "core_group", "safeguarding_lead"):
        assert role_id in content.roles, role_id
        label = content.roles[role_id].label
        assert label and "_" not in label, role_id


def test_the_decision_questions_quote_wtd(content):
    flows = content.flowcharts
    assert flows["referral"].questions["immediate_danger"].text == (
        "Is there a risk to the life of the child or a likelihood of serious immediate harm?")  # WTD §22
    assert "do you still have concerns?" in flows["referral"].questions["discuss_concerns"].text  # §11.1–11.2
    assert "is or may be a child in need" in flows["referral"].questions["child_in_need"].text  # §11.2
    assert "increased risk of significant harm" in flows["referral"].questions["tell_family"].text  # §11.3
    assert "reasonable cause to suspect" in flows["after_initial_assessment"].questions["significant_harm"].text  # §24
    assert "initiate s47 enquiries" in flows["after_strategy_discussion"].questions["start_s47"].text  # §25
    assert "substantiated" in flows["after_strategy_discussion"].questions["substantiated"].text  # §37, §39
    assert flows["after_strategy_discussion"].questions["continuing_risk"].text == (
        "Is the child judged to be at continuing risk of significant harm?")  # §39, §44
    assert "child protection plan" in flows["after_conference"].questions["needs_plan"].text  # §48


# --- flow chart 1: referral ---------------------------------------------------------

TO_REFERRAL = {"immediate_danger": "no", "discuss_concerns": "yes", "child_in_need": "yes"}
REFERRED = {**TO_REFERRAL, "tell_family": "no", "referral_method": "yes", "acknowledged": "yes"}


def test_referral_immediate_danger_goes_straight_to_urgent_action(machines):
    outcome = stage(machines, "referral", {"immediate_danger": "yes"})
    assert outcome.id == "emergency_contact"
    assert outcome.next_flowchart == "urgent_action"
    assert "police" in outcome.who and "all_practitioners" in outcome.who


def test_referral_not_sure_about_danger_gets_help_now(machines):
    outcome = stage(machines, "referral", {"immediate_danger": "not_sure"})
    assert outcome.id == "seek_advice_danger"
    assert "safeguarding_lead" in outcome.who
    assert "police" in outcome.body


def test_referral_starts_by_discussing_with_your_manager(machines):
    position = walk(machines, "referral", {"immediate_danger": "no"})
    assert position.current.id == "discuss_concerns"
    assert "safeguarding_lead" in position.current.who


def test_referral_concerns_resolved_by_discussion_are_recorded(machines):
    outcome = stage(machines, "referral", {"immediate_danger": "no", "discuss_concerns": "no"})
    assert outcome.id == "concerns_resolved"
    assert "record" in outcome.body.lower()


def test_referral_still_unsure_after_discussion_talks_it_through_again(machines):
    outcome = stage(machines, "referral", {"immediate_danger": "no", "discuss_concerns": "not_sure"})
    assert outcome.id == "seek_advice_concerns"


def test_referral_child_not_in_need_goes_to_another_service(machines):
    outcome = stage(machines, "referral", {**TO_REFERRAL, "child_in_need": "no"})
    assert outcome.id == "other_services_referral"


def test_referral_not_sure_whether_child_in_need_asks_manager(machines):
    outcome = stage(machines, "referral", {**TO_REFERRAL, "child_in_need": "not_sure"})
    assert outcome.id == "seek_advice_child_in_need"
    assert "safeguarding_lead" in outcome.who


@pytest.mark.parametrize("tell", ["yes", "no"])
def test_referral_is_made_whether_or_not_the_family_is_told_first(machines, tell):
    position = walk(machines, "referral", {**TO_REFERRAL, "tell_family": tell})
    assert position.current.id == "referral_method"


def test_referral_not_sure_about_telling_the_family_gets_advice_without_delaying(machines):
    outcome = stage(machines, "referral", {**TO_REFERRAL, "tell_family": "not_sure"})
    assert outcome.id == "seek_advice_tell_family"
    assert "delay" in outcome.body


def test_referral_by_telephone_is_confirmed_in_writing_within_48_hours(content, machines):
    position = walk(machines, "referral", {**TO_REFERRAL, "tell_family": "no"})
    question = position.current
    assert question.id == "referral_method" and question.timescale == "written_confirmation"
    assert content.timescales["written_confirmation"].hours == 48
    assert "referrer" in question.who


def test_referral_unsure_how_it_was_made_checks_with_whoever_made_it(machines):
    outcome = stage(machines, "referral", {**TO_REFERRAL, "tell_family": "no", "referral_method": "not_sure"})
    assert outcome.id == "check_referral_made"


@pytest.mark.parametrize("acknowledged", ["yes", "chased"])
def test_referral_acknowledged_or_chased_reaches_the_social_care_decision(machines, acknowledged):
    answers = {**REFERRED, "acknowledged": acknowledged}
    position = walk(machines, "referral", answers)
    assert position.current.id == "next_course"
    assert position.current.timescale == "referral_decision"
    ack = machines["referral"].chart.questions["acknowledged"]
    assert ack.timescale == "chase_acknowledgement"


def test_referral_unsure_whether_acknowledged_contacts_social_care(machines):
    outcome = stage(machines, "referral", {**REFERRED, "acknowledged": "not_sure"})
    assert outcome.id == "chase_referral_now"


@pytest.mark.parametrize("decision, outcome_id, next_flowchart", [
    ("no_further_action", "no_further_action", ""),
    ("services", "other_services", ""),
    ("initial_assessment", "to_initial_assessment", "after_initial_assessment"),
    ("strategy_discussion", "to_strategy_discussion", "after_strategy_discussion"),
    ("urgent_action", "to_urgent_action", "urgent_action"),
    ("not_sure", "seek_advice_next_course", ""),
])
def test_referral_outcomes_of_the_social_care_decision(machines, decision, outcome_id, next_flowchart):
    outcome = stage(machines, "referral", {**REFERRED, "next_course": decision})
    assert outcome.id == outcome_id
    assert outcome.next_flowchart == next_flowchart


def test_referral_no_further_action_tells_the_referrer_the_reasons(machines):
    outcome = stage(machines, "referral", {**REFERRED, "next_course": "no_further_action"})
    assert "referrer" in outcome.who
    assert "reasons" in outcome.body


def test_referral_initial_assessment_has_its_7_working_days_and_asks_the_referrer(content, machines):
    outcome = stage(machines, "referral", {**REFERRED, "next_course": "initial_assessment"})
    assert outcome.timescale == "initial_assessment"
    assert content.timescales["initial_assessment"].working_days == 7
    assert "referrer" in outcome.who
    assert "asked for more information" in outcome.body


# --- flow chart 2: after the initial assessment ----------------------------------------


def test_initial_assessment_suspected_harm_leads_to_a_strategy_discussion(machines):
    outcome = stage(machines, "after_initial_assessment", {"significant_harm": "yes", "immediate_risk": "no"})
    assert outcome.id == "to_strategy_discussion"
    assert outcome.next_flowchart == "after_strategy_discussion"


def test_initial_assessment_suspected_harm_with_immediate_risk_leads_to_urgent_action(machines):
    outcome = stage(machines, "after_initial_assessment", {"significant_harm": "yes", "immediate_risk": "yes"})
    assert outcome.id == "to_urgent_action"
    assert outcome.next_flowchart == "urgent_action"


def test_initial_assessment_immediate_risk_not_sure_decides_now_with_police(machines):
    outcome = stage(machines, "after_initial_assessment", {"significant_harm": "yes", "immediate_risk": "not_sure"})
    assert outcome.id == "seek_advice_immediate"
    assert "police" in outcome.who


def test_initial_assessment_question_carries_its_timescale(machines):
    question = walk(machines, "after_initial_assessment", {}).current
    assert question.id == "significant_harm" and question.timescale == "initial_assessment"
    assert "all_practitioners" in question.who


def test_initial_assessment_child_in_need_with_core_assessment(machines):
    answers = {"significant_harm": "no", "child_in_need": "yes", "core_assessment_needed": "yes"}
    assert stage(machines, "after_initial_assessment", answers).id == "core_assessment_child_in_need"


def test_initial_assessment_child_in_need_with_services(machines):
    answers = {"significant_harm": "no", "child_in_need": "yes", "core_assessment_needed": "no"}
    assert stage(machines, "after_initial_assessment", answers).id == "services_child_in_need"


def test_initial_assessment_not_a_child_in_need_means_no_further_action(machines):
    outcome = stage(machines, "after_initial_assessment", {"significant_harm": "no", "child_in_need": "no"})
    assert outcome.id == "no_services"
    assert "referrer" in outcome.who


@pytest.mark.parametrize("answers, outcome_id", [
    ({"significant_harm": "not_sure"}, "seek_advice_harm"),
    ({"significant_harm": "no", "child_in_need": "not_sure"}, "seek_advice_child_in_need"),
    ({"significant_harm": "no", "child_in_need": "yes", "core_assessment_needed": "not_sure"}, "seek_advice_core_assessment"),
])
def test_initial_assessment_not_sure_goes_to_the_social_care_manager(machines, answers, outcome_id):
    outcome = stage(machines, "after_initial_assessment", answers)
    assert outcome.id == outcome_id
    assert "social_care_manager" in outcome.who


# --- flow chart 3: urgent action --------------------------------------------------------


@pytest.mark.parametrize("action, outcome_id", [
    ("emergency_protection_order", "emergency_protection_order"),
    ("police_protection", "police_protection"),
    ("no_order", "safe_without_order"),
    ("not_sure", "seek_legal_advice"),
])
def test_urgent_action_immediate_protection_then_a_strategy_discussion(machines, action, outcome_id):
    outcome = stage(machines, "urgent_action", {"risk_to_life": "yes", "protective_action": action})
    assert outcome.id == outcome_id
    assert outcome.next_flowchart == "after_strategy_discussion"
    assert "strategy discussion" in outcome.body


def test_urgent_action_police_protection_lasts_at_most_72_hours(content, machines):
    outcome = stage(machines, "urgent_action", {"risk_to_life": "yes", "protective_action": "police_protection"})
    assert outcome.timescale == "police_protection_limit"
    assert content.timescales["police_protection_limit"].hours == 72
    assert "police" in outcome.who


def test_urgent_action_protective_decision_is_for_the_statutory_agencies(machines):
    question = walk(machines, "urgent_action", {"risk_to_life": "yes"}).current
    assert question.id == "protective_action"
    assert set(question.who) <= {"social_worker", "social_care_manager", "police", "nspcc"}


def test_urgent_action_no_emergency_returns_to_the_usual_referral(machines):
    outcome = stage(machines, "urgent_action", {"risk_to_life": "no"})
    assert outcome.id == "no_emergency_action"
    assert outcome.next_flowchart == "referral"


def test_urgent_action_not_sure_means_do_not_wait(machines):
    outcome = stage(machines, "urgent_action", {"risk_to_life": "not_sure"})
    assert outcome.id == "urgent_not_sure"
    assert "police" in outcome.body


# --- flow chart 4: after the strategy discussion ------------------------------------------

S47 = {"start_s47": "yes"}
SUBSTANTIATED = {**S47, "substantiated": "yes"}


def test_strategy_discussion_record_is_due_within_one_working_day(content, machines):
    question = walk(machines, "after_strategy_discussion", {}).current
    assert question.id == "start_s47" and question.timescale == "strategy_record"
    assert content.timescales["strategy_record"].working_days == 1
    assert "all_practitioners" in question.who


def test_strategy_discussion_without_s47_offers_other_help(machines):
    assert stage(machines, "after_strategy_discussion", {"start_s47": "no"}).id == "no_s47"


def test_strategy_discussion_not_substantiated(machines):
    outcome = stage(machines, "after_strategy_discussion", {**S47, "substantiated": "no"})
    assert outcome.id == "not_substantiated"
    assert outcome.next_flowchart == ""


def test_s47_enquiries_run_on_the_core_assessment_timescale(machines):
    question = walk(machines, "after_strategy_discussion", S47).current
    assert question.id == "substantiated" and question.timescale == "core_assessment"


def test_substantiated_with_continuing_risk_goes_to_an_initial_conference(content, machines):
    outcome = stage(machines, "after_strategy_discussion", {**SUBSTANTIATED, "continuing_risk": "yes"})
    assert outcome.id == "to_initial_conference"
    assert outcome.timescale == "initial_conference"
    assert content.timescales["initial_conference"].working_days == 15
    assert outcome.next_flowchart == "after_conference"
    assert "all_practitioners" in outcome.who  # invited to attend, contribute a report


def test_substantiated_without_continuing_risk_but_a_conference_requested(machines):
    answers = {**SUBSTANTIATED, "continuing_risk": "no", "conference_requested": "yes"}
    assert stage(machines, "after_strategy_discussion", answers).id == "to_initial_conference"


def test_substantiated_without_continuing_risk_a_plan_without_a_conference(machines):
    answers = {**SUBSTANTIATED, "continuing_risk": "no", "conference_requested": "no"}
    outcome = stage(machines, "after_strategy_discussion", answers)
    assert outcome.id == "plan_without_conference"
    assert outcome.next_flowchart == ""


@pytest.mark.parametrize("answers, outcome_id", [
    ({"start_s47": "not_sure"}, "seek_advice_s47"),
    ({**S47, "substantiated": "not_sure"}, "seek_advice_substantiated"),
    ({**SUBSTANTIATED, "continuing_risk": "not_sure"}, "seek_advice_continuing_risk"),
    ({**SUBSTANTIATED, "continuing_risk": "no", "conference_requested": "not_sure"}, "seek_advice_conference"),
])
def test_strategy_discussion_not_sure_stages(machines, answers, outcome_id):
    assert stage(machines, "after_strategy_discussion", answers).id == outcome_id


# --- flow chart 5: after the conference -------------------------------------------------

PLAN = {"needs_plan": "yes", "conference_tasks": "yes", "core_group_meeting": "yes", "core_assessment_complete": "yes"}


def test_conference_no_plan_means_child_in_need_help(machines):
    outcome = stage(machines, "after_conference", {"needs_plan": "no"})
    assert outcome.id == "no_plan"


def test_conference_plan_then_core_group_within_10_working_days(content, machines):
    question = walk(machines, "after_conference", {"needs_plan": "yes", "conference_tasks": "yes"}).current
    assert question.id == "core_group_meeting" and question.timescale == "first_core_group"
    assert content.timescales["first_core_group"].working_days == 10
    assert {"key_worker", "core_group"} <= set(question.who)


def test_conference_core_assessment_and_first_review_timescales(machines):
    chart = machines["after_conference"].chart
    assert chart.questions["core_assessment_complete"].timescale == "core_assessment"
    assert chart.questions["review_decision"].timescale == "first_review"


@pytest.mark.parametrize("core_group, core_assessment", [("yes", "yes"), ("not_yet", "not_yet"), ("yes", "not_yet")])
def test_conference_reaches_the_review_even_if_work_is_late(machines, core_group, core_assessment):
    answers = {**PLAN, "core_group_meeting": core_group, "core_assessment_complete": core_assessment}
    assert walk(machines, "after_conference", answers).current.id == "review_decision"


def test_review_keeps_the_plan_with_the_next_review_within_six_months(content, machines):
    outcome = stage(machines, "after_conference", {**PLAN, "review_decision": "yes"})
    assert outcome.id == "plan_continues"
    assert outcome.timescale == "later_reviews"
    assert content.timescales["later_reviews"].months == 6


def test_review_ends_the_plan_without_withdrawing_help(machines):
    outcome = stage(machines, "after_conference", {**PLAN, "review_decision": "no"})
    assert outcome.id == "plan_ends"
    assert "never" in outcome.body and "child in need plan" in outcome.body


@pytest.mark.parametrize("answers, outcome_id", [
    ({"needs_plan": "not_sure"}, "seek_advice_conference_decision"),
    ({"needs_plan": "yes", "conference_tasks": "no"}, "confirm_key_worker"),
    ({"needs_plan": "yes", "conference_tasks": "not_sure"}, "confirm_key_worker"),
    ({"needs_plan": "yes", "conference_tasks": "yes", "core_group_meeting": "not_sure"}, "ask_key_worker"),
    ({**PLAN, "core_assessment_complete": "not_sure"}, "ask_key_worker"),
    ({**PLAN, "review_decision": "not_sure"}, "seek_advice_review"),
])
def test_conference_not_sure_stages(machines, answers, outcome_id):
    assert stage(machines, "after_conference", answers).id == outcome_id


# --- the chain from a referral to the review ------------------------------------------


def _next_flowcharts(chart) -> set[str]:
    return {outcome.next_flowchart for outcome in chart.outcomes.values() if outcome.next_flowchart}


def test_next_flowcharts_name_process_flows(content):
    for chart_id in PROCESS_FLOWS:
        assert _next_flowcharts(content.flowcharts[chart_id]) <= set(PROCESS_FLOWS), chart_id


def test_every_process_flow_is_reachable_from_a_referral(content):
    seen, queue = {"referral"}, deque(["referral"])
    while queue:
        for nxt in _next_flowcharts(content.flowcharts[queue.popleft()]):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    assert seen == set(PROCESS_FLOWS)


def test_the_main_chain_referral_to_conference_by_walks(machines):
    # referral → initial assessment → strategy discussion → conference, each a real walk.
    chain = [
        ("referral", {**REFERRED, "next_course": "initial_assessment"}, "after_initial_assessment"),
        ("after_initial_assessment", {"significant_harm": "yes", "immediate_risk": "no"}, "after_strategy_discussion"),
        ("after_strategy_discussion", {**SUBSTANTIATED, "continuing_risk": "yes"}, "after_conference"),
    ]
    for chart_id, answers, next_id in chain:
        assert stage(machines, chart_id, answers).next_flowchart == next_id
    # … and the urgent route joins it at the strategy discussion.
    assert stage(machines, "referral", {"immediate_danger": "yes"}).next_flowchart == "urgent_action"
    assert stage(machines, "urgent_action", {"risk_to_life": "yes", "protective_action": "no_order"}).next_flowchart == "after_strategy_discussion"


def test_confidentiality_outcomes_that_say_refer_offer_the_referral_flow(content):
    chart = content.flowcharts["confidentiality"]
    linked = {o.id for o in chart.outcomes.values() if o.next_flowchart == "referral"}
    assert linked == CONFIDENTIALITY_TO_REFERRAL
    for outcome_id in linked:
        body = chart.outcomes[outcome_id].body.lower()
        assert "refer" in body and "children's social care" in body, outcome_id
    # The other flowchart links stay within the process.
    assert all(o.next_flowchart in ("", "referral") for o in chart.outcomes.values())


def test_a_walk_to_share_without_consent_for_significant_harm_is_offered_the_referral(content):
    chart = content.flowcharts["confidentiality"]
    machine = FlowMachine(chart)
    path = next(p for p in enumerate_paths(chart) if p.outcome == "share_without_consent_public_interest")
    assert path.answers.get("harm_threshold") == "yes"
    position = machine.replay(path.answers)
    assert position.outcome.next_flowchart == "referral"
    assert content.flowcharts[position.outcome.next_flowchart].is_process


# --- one role's view --------------------------------------------------------------------


def test_the_referrer_sees_their_steps_in_the_referral_flow(content):
    chart = content.flowcharts["referral"]
    mine = {node.id for node in content.steps_for(chart, "referrer")}
    assert {"referral_method", "acknowledged", "next_course", "tell_family", "no_further_action"} <= mine
    # Issue 12: a step for "all practitioners" is that role's part, not every role's, or the
    # referrer's part of the referral would be all 22 steps.
    assert "immediate_danger" not in mine
    for node in steps(chart):
        assert (node.id in mine) == ("referrer" in node.who), node.id


def test_the_referrer_does_not_see_steps_only_for_others(content):
    conference = content.flowcharts["after_conference"]
    assert conference.questions["conference_tasks"].who == ("conference_chair",)
    referrer_view = {node.id for node in content.steps_for(conference, "referrer")}
    assert "conference_tasks" not in referrer_view
    assert "needs_plan" not in referrer_view  # the chair's and all practitioners' step, not named for the referrer
    assert "needs_plan" in {node.id for node in content.steps_for(conference, "all_practitioners")}
    assert "conference_tasks" in {node.id for node in content.steps_for(conference, "conference_chair")}

    urgent = content.flowcharts["urgent_action"]
    assert "protective_action" not in {node.id for node in content.steps_for(urgent, "referrer")}
    assert "protective_action" in {node.id for node in content.steps_for(urgent, "police")}


def test_no_role_means_every_step(content):
    for chart_id in PROCESS_FLOWS:
        chart = content.flowcharts[chart_id]
        assert len(content.steps_for(chart, None)) == len(chart.questions) + len(chart.outcomes)


# --- timescales -----------------------------------------------------------------------


def test_the_events_timescales_count_from_are_declared(content):
    assert {"referral", "strategy_discussion", "conference", "review_conference"} <= set(content.events)
    for timescale in content.timescales.values():
        assert timescale.from_event in content.events, timescale.id
        assert timescale.who and all(role in content.roles for role in timescale.who), timescale.id
        assert WTD_PARAGRAPH.search(timescale.cite) or "WTD App2" in timescale.cite, timescale.id


@pytest.mark.parametrize("scale_id, expected", sorted(EXPECTED_TIMESCALES.items()))
def test_the_timescales_have_wtds_numbers(content, scale_id, expected):
    unit, amount, from_event = expected
    timescale = content.timescales[scale_id]
    assert (timescale.unit, timescale.amount, timescale.from_event) == (unit, amount, from_event)


def test_every_process_timescale_is_used_by_a_step(content):
    used = {node.timescale for chart_id in PROCESS_FLOWS for node in steps(content.flowcharts[chart_id]) if node.timescale}
    assert used == set(content.timescales)


def test_due_dates_from_the_content_timescales(content):
    scales = content.timescales
    # Referral received on Friday 1 May 2026; Monday 4 May is the early May bank holiday.
    assert scales["referral_decision"].due(date(2026, 5, 1)) == date(2026, 5, 5)
    assert scales["initial_assessment"].due(date(2026, 5, 1)) == date(2026, 5, 13)
    # Strategy discussion on Monday 5 January 2026: conference within 15 working days.
    assert scales["initial_conference"].due(date(2026, 1, 5)) == date(2026, 1, 26)
    # Conference on 30 November 2026: first review by 28 February 2027; core group by 14 December.
    assert scales["first_review"].due(date(2026, 11, 30)) == date(2027, 2, 28)
    assert scales["first_core_group"].due(date(2026, 11, 30)) == date(2026, 12, 14)


# --- where WTD is ambiguous, the content says so -------------------------------------------


@pytest.mark.parametrize("chart_id, node_id, words", [
    ("referral", "referral_method", ["does\nnot say whether that means 48 clock hours", "48 clock hours"]),
    ("referral", "acknowledged", ["does not say which day the 3 working days count from"]),
    ("referral", "next_course", ["does not say whether the day the referral arrives counts"]),
    ("referral", "to_initial_assessment", ["does not say which day the 7 working days count from"]),
    ("after_initial_assessment", "significant_harm", ["does not say which day these count from"]),
    ("after_initial_assessment", "core_assessment_needed", ["sets none for a core assessment of a child in need"]),
    ("after_strategy_discussion", "substantiated", ["without saying which day it counts", "does not define"]),
    ("after_strategy_discussion", "start_s47", ["does not say whether the day of the discussion counts"]),
    ("after_conference", "core_assessment_complete", ["does not say which day the 35 working days count from"]),
])
def test_ambiguities_are_stated_where_they_apply(content, chart_id, node_id, words):
    node = content.flowcharts[chart_id].node(node_id)
    text = " ".join(filter(None, [getattr(node, "help", ""), getattr(node, "body", ""), node.does]))
    flat = " ".join(text.split())
    for phrase in words:
        assert " ".join(phrase.split()) in flat, (node_id, phrase)
