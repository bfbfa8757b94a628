"""Free-text replies → the answer understood, or "ask again". Never a guess."""

import pytest

from guide.chat.understand import understand
from guide.guidance import Guidance

from tests.conftest import REAL_CONTENT


@pytest.fixture(scope="module")
def guidance():
    return Guidance.load(REAL_CONTENT)


def question(guidance, question_id):
    return guidance.content.flowcharts["confidentiality"].questions[question_id]


YES_NO = [
    ("yes", "yes"), ("Yes.", "yes"), ("yep", "yes"), ("YEAH", "yes"), ("yes, definitely", "yes"),
    ("no", "no"), ("Nope", "no"), ("not really", "no"), ("no.", "no"),
    ("not sure", "not_sure"), ("I'm not sure", "not_sure"), ("I don't know", "not_sure"),
    ("dunno", "not_sure"), ("maybe", "not_sure"), ("it depends", "not_sure"), ("no idea", "not_sure"),
    ("not really sure", "not_sure"),
    ("I'm not sure", "not_sure"),
    # Not understood: asked again with the options.
    ("yes and no", None), ("yes or no, I can't say", None), ("purple", None), ("", None), ("   ", None),
    ("she's 14", None), ("<script>alert(1)</script>", None), ("'; DROP TABLE walks; --", None),
    ("x" * 600, None), ("noyes", None), ("yesterday", None), ("know", None),
]


@pytest.mark.parametrize("reply, expected", YES_NO)
def test_replies_to_a_yes_no_question(guidance, reply, expected):
    assert understand(reply, question(guidance, "purpose"), guidance.chat).value == expected


CONSENT = [
    ("mum said no", "refused"), ("She refused", "refused"), ("dad doesn't want us to", "refused"),
    ("they agreed", "yes_explicit"), ("she signed the form", "yes_explicit"), ("she gave consent", "yes_explicit"),
    ("I haven't asked", "not_asked"), ("we did not ask them", "not_asked"),
    ("it's implied, it's part of the service", "yes_implied"),
    ("not sure", "not_sure"),
    # Consent given and later withdrawn is refused (WTD App3 §4.15): what follows "but" decides.
    # (Before issue 16 this was asked again as "two answers".)
    ("she agreed but then refused", "refused"),
    ("she agreed and refused", None),       # two answers, neither correcting the other: ask again
    ("yes", None),                          # consent has no plain yes: which kind?
    ("no", None),
]


@pytest.mark.parametrize("reply, expected", CONSENT)
def test_replies_to_the_consent_question(guidance, reply, expected):
    assert understand(reply, question(guidance, "consent"), guidance.chat).value == expected


def test_a_label_typed_out_is_understood(guidance):
    consent = question(guidance, "consent")
    for answer in consent.answers:
        assert understand(answer.label, consent, guidance.chat).value == answer.value


def test_an_understood_reply_says_what_decided_it(guidance):
    result = understand("well, mum said no to that", question(guidance, "consent"), guidance.chat)
    assert (result.value, result.phrase) == ("refused", "said no")
    not_understood = understand("purple", question(guidance, "consent"), guidance.chat)
    assert not_understood.value is None and not_understood.reason


# --- issue 16: practitioners' own words, never a wrong guess ----------------------------------

def offering(question, value, label):
    """The question as a flowchart that offers one more answer would ask it."""
    import dataclasses
    extra = dataclasses.replace(question.answers[0], value=value, label=label)
    return dataclasses.replace(question, answers=(*question.answers, extra))


@pytest.mark.parametrize("reply", [
    "she gave consent last week but has since withdrawn it",
    "mum rang to say she no longer agrees",
    "absolutely not, he said don't you dare",
])
def test_consent_withdrawn_or_emphatically_refused_is_refused(guidance, reply):
    assert understand(reply, question(guidance, "consent"), guidance.chat).value == "refused"


def test_parents_who_disagree_are_asked_again_saying_whose_consent_counts(guidance):
    result = understand("mum said yes but dad said no", question(guidance, "consent"), guidance.chat)
    assert result.value is None
    assert result.cite == "WTD App3 §4.16–4.21" and "resident parent" in result.reason


def test_silence_is_not_consent(guidance):
    result = understand("he didn't object when I mentioned it", question(guidance, "consent"), guidance.chat)
    assert result.value is None and result.cite == "WTD App3 §4.15"


@pytest.mark.parametrize("reply", ["not 100% tbh", "idk", "could be, hard to say", "does that count?"])
def test_hedged_or_abbreviated_uncertainty_is_not_sure(guidance, reply):
    assert understand(reply, question(guidance, "statutory"), guidance.chat).value == "not_sure"


def test_uncertainty_beside_an_answer_in_one_clause_is_asked_again(guidance):
    assert understand("it could be confidential", question(guidance, "confidential"), guidance.chat).value is None


def test_the_subject_denied_answers_no(guidance):
    assert understand("I wouldn't say it's confidential", question(guidance, "confidential"), guidance.chat).value == "no"
    assert understand("no court order yet", question(guidance, "statutory"), guidance.chat).value == "no"


def test_other_words_denied_are_asked_again(guidance):
    result = understand("she never said to keep it quiet", question(guidance, "confidential"), guidance.chat)
    assert result.value is None and "never" in result.reason


def test_an_answer_to_a_different_question_is_asked_again_saying_which(guidance):
    result = understand("yes, it's anonymised", question(guidance, "confidential"), guidance.chat)
    assert result.value is None and "identifies someone" in result.reason


def test_an_answer_that_differs_by_person_is_asked_again(guidance):
    assert understand("yes for the school, no for the police", question(guidance, "public_interest"),
                      guidance.chat).value is None


def test_a_legal_order_in_ordinary_words_is_a_court_order(guidance):
    assert understand("the judge ordered us to disclose it", question(guidance, "statutory"), guidance.chat).value == "yes"


def test_nobody_reachable_is_read_only_where_the_question_offers_it(guidance):
    import dataclasses
    consent = question(guidance, "consent")
    without = dataclasses.replace(consent, answers=tuple(a for a in consent.answers if a.value != "cannot_obtain"))
    reply = "we've rang both parents all morning, phones are off"
    assert understand(reply, without, guidance.chat).value is None  # not offered: asked again
    offered = consent if consent.answer("cannot_obtain") else offering(
        consent, "cannot_obtain", "Nobody who could consent can be reached in time")
    assert understand(reply, offered, guidance.chat).value == "cannot_obtain"


def test_a_bare_no_to_consent_says_which_answers_it_could_mean(guidance):
    result = understand("nope", question(guidance, "consent"), guidance.chat)
    assert result.value is None and "consent was refused" in result.reason and "has not been asked" in result.reason


def test_a_question_back_is_not_an_answer(guidance):
    assert understand("what counts as explicit?", question(guidance, "consent"), guidance.chat).value is None
