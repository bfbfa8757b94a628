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
