"""Where a child may be at risk, no walk ends in a bare "Do not share" — and the walks stay short.

Every path through "Should I share information?" on which the practitioner answered that
there is evidence or reasonable cause to believe significant harm (or a section 47 request,
a reasonable suspicion, or serious harm to an adult) is listed, and each must end in an
outcome that shares or seeks advice, says what to do if a child is in immediate danger, and
points to children's social care (WTD App3 §2, §3.11–3.12, §3.18–3.19; XG App1 §3.2; XG §4.5).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from guide.flows import FlowMachine, enumerate_paths, load_content

CONTENT = Path(__file__).resolve().parents[2] / "content"
CONCERN = {"yes", "section_47", "other_ground", "suspicion"}


@pytest.fixture(scope="module")
def chart():
    return load_content(CONTENT).flowcharts["confidentiality"]


@pytest.fixture(scope="module")
def paths(chart):
    return enumerate_paths(chart)


def concern_paths(paths, values=CONCERN):
    return [p for p in paths if p.answers.get("harm_threshold") in values]


def test_no_path_with_evidence_of_significant_harm_ends_in_do_not_share(paths, chart):
    evidence = concern_paths(paths, {"yes"})
    assert evidence, "some paths answer Yes to the significant harm question"
    by_family = Counter(chart.outcomes[p.outcome].decision for p in evidence)
    assert "do_not_share" not in by_family, by_family
    assert "seek_consent_first" not in by_family, by_family


def test_no_path_with_any_concern_about_harm_ends_in_do_not_share(paths, chart):
    for path in concern_paths(paths):
        assert chart.outcomes[path.outcome].decision not in ("do_not_share", "seek_consent_first"), path.steps


def test_every_concern_path_says_what_to_do_in_immediate_danger_and_who_to_refer_to(paths, chart):
    for path in concern_paths(paths):
        outcome = chart.outcomes[path.outcome]
        text = (outcome.body + " ".join(outcome.actions)).replace("’", "'")
        assert "999" in text, outcome.id
        assert "children's social care" in text, outcome.id
        if path.answers["harm_threshold"] != "other_ground":  # an adult's safety: the police (WTD App3 §3.12)
            assert outcome.next_flowchart == "referral", outcome.id


def test_outcomes_on_concern_paths_that_share_limited_information_mention_referral(chart):
    # WTD App3 §3.18: "always consider referring" where there is reasonable cause to suspect.
    for outcome in chart.outcomes.values():
        if outcome.decision == "share_limited":
            assert "always consider referring" in outcome.body.lower(), outcome.id


def test_the_data_protection_questions_are_not_asked_where_a_concern_settles_them(paths):
    # XG App1 §3.2, §3.4–3.10: the reasons record how the Act's checks are met instead.
    for path in concern_paths(paths):
        assert not any(q.startswith("dpa_") for q, _ in path.steps), path.steps


def test_every_path_through_the_confidentiality_and_dpa_flowcharts_has_actions(chart):
    dpa = load_content(CONTENT).flowcharts["dpa1998"]
    for outcome in list(chart.outcomes.values()) + list(dpa.outcomes.values()):
        assert outcome.actions, outcome.id
        assert any("record" in action.lower() for action in outcome.actions), outcome.id


# --- question counts on the common paths ------------------------------------------------

def asked(chart, answers):
    position = FlowMachine(chart).replay(answers)
    assert position.finished, position.current.id
    return position


CONFIDENTIAL = {"purpose": "yes", "identifiable": "yes", "confidential": "yes"}


def test_explicit_consent_from_the_right_person_is_six_questions(chart):
    position = asked(chart, {**CONFIDENTIAL, "consent": "yes_explicit", "consent_who": "yes", "consent_valid": "yes"})
    assert position.outcome.decision == "share_with_consent"
    assert len(position.path) <= 6


def test_share_without_consent_on_evidence_of_significant_harm_is_at_most_ten_questions(paths, chart):
    sharing = [p for p in concern_paths(paths, {"yes"})
               if chart.outcomes[p.outcome].decision == "share_without_consent"]
    assert sharing
    assert max(len(p.steps) for p in sharing) <= 10


def test_consent_that_cannot_be_obtained_moves_to_the_public_interest_test(chart):
    # XG §2.1, §4.13, §4.17; WTD App3 §3.9: not back to "seek consent first".
    position = asked(chart, {**CONFIDENTIAL, "consent": "cannot_obtain", "statutory": "no",
                             "harm_threshold": "yes", "public_interest": "yes"})
    assert position.outcome.id == "share_without_consent_public_interest"
    assert "consent_seek_safe" not in [q.id for q, _ in position.path]
