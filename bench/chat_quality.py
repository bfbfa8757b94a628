"""How well the chat reads practitioners' own words: the development set, scored.

    .venv/bin/python bench/chat_quality.py            # whole set, then its tuning and held-out parts
    .venv/bin/python bench/chat_quality.py --misses   # also list every miss

The set (tests/chat/devset.yaml) was written from the guidance by someone who had not seen
content/chat.yaml or the code. Items whose number is a multiple of 5 (W005, W010, …, R005,
R010, …) are the held-out part, printed apart. Honestly: the rules are hand-written, not
trained, and whoever wrote them read the whole set once first (to learn its format and kinds
of miss), so the held-out figures are not a clean measure of text never seen; the misses were
studied only on the tuning part. The fairer test is new text: the goals will be checked on
worries and replies nobody here has seen.

Printed, as counts:
- worries: urgent ones that brought the urgent prompt or the "Is a child in danger right now?"
  question (recall), non-urgent ones that did (false alarms); a relevant case example first
  and in the top three;
- replies: read right, read as a wrong answer (a guess), asked again although the meaning was
  plain (needless), for every reply to a flowchart question.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from guide.chat.retrieve import build_index  # noqa: E402
from guide.chat.understand import understand  # noqa: E402
from guide.guidance import Guidance  # noqa: E402
from guide.lookup.content import load_guidance_text  # noqa: E402

DEVSET = ROOT / "tests" / "chat" / "devset.yaml"
# The set's names for consent answers → the flowchart's answer values.
REPLY_LABELS = {"explicit": "yes_explicit", "implied": "yes_implied"}
ASK_AGAIN = "ask_again"


def held_out(item_id: str) -> bool:
    return int(re.sub(r"\D", "", item_id)) % 5 == 0


def load_devset(path: Path = DEVSET) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def case_ids_by_paragraph(guidance: Guidance) -> dict[str, str]:
    """'XG §10.4' → the case example whose cite starts there (a cite may be a range, 'XG §10.4–10.5')."""
    found = {}
    for case in guidance.scenarios.values():
        first = re.split(r"[–;,-]", case.cite)[0].strip()
        found[first] = case.id
    return found


def with_answer(question, value: str):
    """The question as it will be once it offers `value` (issue 11 adds consent 'cannot_obtain')."""
    if question.answer(value) is not None:
        return question
    extra = dataclasses.replace(question.answers[-1], value=value, label=value.replace("_", " ").capitalize())
    return dataclasses.replace(question, answers=(*question.answers[:-1], extra, question.answers[-1]))


class Chat:
    """The chat's reading of a worry and of a reply, as the conversation uses them."""

    def __init__(self, guidance: Guidance):
        self.guidance, self.words = guidance, guidance.chat
        self.index = build_index(guidance, guidance.text)
        self.questions = {}
        for chart in guidance.content.flowcharts.values():
            for question in chart.questions.values():
                self.questions.setdefault(question.id, question)

    def prompts(self, text: str) -> str | None:
        """'urgent' (the urgent prompt), 'ask' (is a child in danger now?) or None."""
        try:
            from guide.chat.urgent import assess
        except ImportError:  # the chat before urgent signals: a fixed list of phrases
            from guide.chat.understand import contains_phrase
            lowered = " ".join(text.lower().split())
            return "urgent" if any(contains_phrase(lowered, p) for p in self.words.urgent.phrases) else None
        return assess(text, self.words).level

    def cases(self, text: str) -> list[str]:
        return [m.ref for m in self.index.search(text, self.words.synonyms, kinds=("case",), limit=3,
                                                 **({"abbreviations": self.words.abbreviations}
                                                    if hasattr(self.words, "abbreviations") else {}))]

    def reply(self, question_id: str, text: str, expected: str) -> str | None:
        question = self.questions[question_id]
        if expected != ASK_AGAIN:
            question = with_answer(question, expected)
        return understand(text, question, self.words).value


@dataclasses.dataclass
class Score:
    urgent: int = 0
    urgent_prompted: int = 0
    urgent_asked: int = 0
    calm: int = 0
    false_alarms: int = 0
    false_asks: int = 0
    with_cases: int = 0
    top1: int = 0
    top3: int = 0
    replies: int = 0
    plain: int = 0          # replies whose meaning was plain (not labelled ask_again)
    right: int = 0
    wrong: int = 0
    needless: int = 0
    misses: list = dataclasses.field(default_factory=list)


def score(chat: Chat, devset: dict, keep=lambda item_id: True) -> Score:
    s = Score()
    by_paragraph = case_ids_by_paragraph(chat.guidance)
    for worry in devset["worries"]:
        if not keep(worry["id"]):
            continue
        level = chat.prompts(worry["text"])
        if worry["urgent"]:
            s.urgent += 1
            s.urgent_prompted += level == "urgent"
            s.urgent_asked += level == "ask"
            if level is None:
                s.misses.append((worry["id"], "urgent, no prompt", worry["text"]))
        else:
            s.calm += 1
            s.false_alarms += level == "urgent"
            s.false_asks += level == "ask"
            if level:
                s.misses.append((worry["id"], f"not urgent, prompted ({level})", worry["text"]))
        relevant = {by_paragraph[p] for p in worry.get("relevant_cases") or []}
        if relevant:
            s.with_cases += 1
            found = chat.cases(worry["text"])
            s.top1 += bool(found[:1]) and found[0] in relevant
            s.top3 += bool(relevant & set(found[:3]))
            if not relevant & set(found[:3]):
                s.misses.append((worry["id"], f"cases {sorted(relevant)} not in {found}", worry["text"]))
    for reply in devset["replies"]:
        if not keep(reply["id"]):
            continue
        expected = REPLY_LABELS.get(reply["expected"], reply["expected"])
        got = chat.reply(reply["question"], reply["text"], expected)
        s.replies += 1
        s.plain += expected != ASK_AGAIN
        if (got or ASK_AGAIN) == expected:
            s.right += 1
        elif got is None:
            s.needless += 1
            s.misses.append((reply["id"], f"{reply['question']}: asked again, meant {expected}", reply["text"]))
        else:
            s.wrong += 1
            s.misses.append((reply["id"], f"{reply['question']}: WRONG {got}, meant {expected}", reply["text"]))
    return s


def report(name: str, s: Score) -> None:
    print(f"\n{name}")
    print(f"  urgent worries prompted:      {s.urgent_prompted + s.urgent_asked} of {s.urgent}"
          f" (urgent prompt {s.urgent_prompted}, asked 'in danger now?' {s.urgent_asked})")
    print(f"  non-urgent worries prompted:  {s.false_alarms + s.false_asks} of {s.calm}"
          f" (urgent prompt {s.false_alarms}, asked {s.false_asks})")
    print(f"  relevant case first / top 3:  {s.top1} / {s.top3} of {s.with_cases}")
    print(f"  replies read right:           {s.right} of {s.replies}")
    print(f"  replies read as a wrong answer: {s.wrong}")
    print(f"  replies asked again needlessly: {s.needless} of {s.plain} plain replies")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--misses", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    guidance = Guidance.load(ROOT / "content")
    if guidance.text is None:
        guidance.text = load_guidance_text(ROOT / "content")
    chat, devset = Chat(guidance), load_devset()
    for name, keep in (("whole set", lambda i: True), ("tuning part", lambda i: not held_out(i)),
                       ("held-out part (numbers divisible by 5)", held_out)):
        result = score(chat, devset, keep)
        report(name, result)
        if args.misses and name == "whole set":
            for item_id, what, text in result.misses:
                print(f"    {item_id} {what}: {text[:110]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
