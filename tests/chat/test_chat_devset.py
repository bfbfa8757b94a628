"""The chat on the development set: worries and replies written by someone who never saw its words.

tests/chat/devset.yaml is the oracle (its labels are kept as written). The scoring is the one
bench/chat_quality.py prints, so the figures there and the thresholds here are the same
measure. Goals (issue 16): every urgent worry prompts; at most 1 in 10 non-urgent ones do; a
relevant case example in the top three for at least 9 in 10; no reply read as a wrong answer;
at most 1 in 8 plain replies asked again.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import REAL_CONTENT

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("chat_quality", ROOT / "bench" / "chat_quality.py")
quality = importlib.util.module_from_spec(_spec)
sys.modules["chat_quality"] = quality  # dataclasses look their module up there
_spec.loader.exec_module(quality)

DEVSET = quality.load_devset()
URGENT = [w for w in DEVSET["worries"] if w["urgent"]]
REPLIES = DEVSET["replies"]


@pytest.fixture(scope="module")
def chat():
    from guide.guidance import Guidance
    return quality.Chat(Guidance.load(REAL_CONTENT))


@pytest.fixture(scope="module")
def scores(chat):
    return {"whole": quality.score(chat, DEVSET),
            "held_out": quality.score(chat, DEVSET, quality.held_out)}


def test_the_development_set_is_the_one_written_blind():
    assert len(DEVSET["worries"]) >= 80 and len(URGENT) >= 20
    assert len(REPLIES) >= 100 and sum(r["expected"] == "ask_again" for r in REPLIES) >= 20


@pytest.mark.parametrize("worry", URGENT, ids=[w["id"] for w in URGENT])
def test_every_urgent_worry_brings_the_urgent_prompt_or_the_danger_question(chat, worry):
    assert chat.prompts(worry["text"]) in ("urgent", "ask"), worry["text"]


@pytest.mark.parametrize("reply", REPLIES, ids=[r["id"] for r in REPLIES])
def test_no_reply_is_read_as_a_wrong_answer(chat, reply):
    expected = quality.REPLY_LABELS.get(reply["expected"], reply["expected"])
    got = chat.reply(reply["question"], reply["text"], expected)
    assert got is None or got == expected, f"{reply['text']!r} read as {got}, meant {expected}"


@pytest.mark.parametrize("part", ["whole", "held_out"])
def test_at_most_one_in_ten_non_urgent_worries_prompts(scores, part):
    s = scores[part]
    assert (s.false_alarms + s.false_asks) * 10 <= s.calm, f"{s.false_alarms + s.false_asks} of {s.calm}"


@pytest.mark.parametrize("part", ["whole", "held_out"])
def test_a_relevant_case_is_in_the_top_three_for_nine_in_ten(scores, part):
    s = scores[part]
    assert s.top3 * 10 >= s.with_cases * 9, f"{s.top3} of {s.with_cases}"


@pytest.mark.parametrize("part", ["whole", "held_out"])
def test_at_most_one_in_eight_plain_replies_is_asked_again(scores, part):
    s = scores[part]
    assert s.needless * 8 <= s.plain, f"{s.needless} of {s.plain}"
