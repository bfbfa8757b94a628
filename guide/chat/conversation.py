"""What the guide says back. It retrieves and it walks flowcharts; it never makes up advice.

Every reply is one of: an urgent-action prompt (from content, when the signals of
chat_urgent.yaml say a child may be in danger now) or the question "Is a child in danger right
now?" when they are weaker, the closest case examples and
paragraphs with the words they matched on, a glossary entry or paragraph quoted from the
guidance, a flowchart question (the same engine and walk as the form pages), how a reply
was understood, or a flowchart outcome with its reasons. A request for a decision is
answered by saying that decisions come only from a flowchart's outcome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ..decisions.steps import StepRefused, answer, position, start_walk
from ..flows import Answer, Question, WalkPosition
from ..guidance import Guidance
from ..models import Chat, ChatMessage, User, utcnow
from .content import ChatContent
from .retrieve import ChatIndex
from .understand import contains_phrase as _contains_phrase
from .understand import understand
from .urgent import assess

DANGER_CHECK = "danger_now"  # the id of the "Is a child in danger right now?" question

MAX_MESSAGE = 2000

LOOKUP = re.compile(r"^\s*(?:what(?:'s| is| are| does)?|define|meaning of|explain)\s+(?:a |an |the )?(.+?)(?:\s+mean)?\s*\??\s*$",
                    re.IGNORECASE)
CASE_REFERENCE = re.compile(r"\bcase(?:\s+example)?\s+(\d{1,2})\b", re.IGNORECASE)


class MessageRefused(ValueError):
    pass


@dataclass
class Turn:
    """The replies to one message, to be stored and shown in order."""

    replies: list[tuple[str, str, dict]] = field(default_factory=list)  # (kind, text, data)

    def say(self, kind: str, text: str = "", **data) -> None:
        self.replies.append((kind, text, data))


class Conversation:
    def __init__(self, db: Session, guidance: Guidance, chat_content: ChatContent, index: ChatIndex,
                 guidance_text, chat: Chat, user: User):
        self.db, self.guidance, self.words, self.index = db, guidance, chat_content, index
        self.text, self.chat, self.user = guidance_text, chat, user

    # --- entry points -------------------------------------------------------------------

    def message(self, text: str) -> Turn:
        text = (text or "").strip()
        if not text:
            raise MessageRefused("Type a message first.")
        if len(text) > MAX_MESSAGE:
            raise MessageRefused(f"Keep a message to {MAX_MESSAGE} characters or fewer.")
        self._store("you", "text", text)
        turn = Turn()
        lowered = " ".join(text.lower().split())
        asking = self._asking()
        pending = None if asking else self._pending_danger_check()
        if pending is not None:
            understood = understand(text, self._danger_question(), self.words)
            if understood.value:
                self._answer_danger_check(turn, pending, understood.value)
                return self._finish(turn)
        danger = assess(text, self.words)
        if danger.level == "urgent":
            self._urgent(turn, danger.cites)
        elif danger.level == "ask":
            prompt = self.words.urgent
            turn.say("danger_check", prompt.question, hint=prompt.hint, cite=prompt.cite, answered="",
                     options=[{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}])
        if self._look_up(text, turn):
            if asking:
                self._ask(turn, asking)
        elif asking:
            self._reply_to_question(turn, asking, text)
        elif any(_contains_phrase(lowered, phrase) for phrase in self.words.decision_requests.phrases):
            turn.say("no_decision", self.words.decision_requests.body, cite=self.words.decision_requests.cite,
                     flowchart=self._suggested_flowchart(lowered))
        else:
            self._find(turn, text, lowered)
        return self._finish(turn)

    def danger(self, value: str) -> Turn:
        """The answer, with a button, to "Is a child in danger right now?"."""
        pending = self._pending_danger_check()
        if pending is None:
            raise MessageRefused("There is no question about danger waiting for an answer.")
        if value not in ("yes", "no"):
            raise MessageRefused("Choose Yes or No.")
        self._store("you", "text", "Yes" if value == "yes" else "No")
        turn = Turn()
        self._answer_danger_check(turn, pending, value)
        return self._finish(turn)

    def start(self, flowchart_id: str) -> Turn:
        chart = self.guidance.content.flowcharts.get(flowchart_id)
        if chart is None:
            raise MessageRefused("There is no flowchart with that name.")
        walk = start_walk(self.db, self.guidance, self.user, chart.id)
        self.chat.walk_id = walk.id
        self._store("you", "text", f"Start: {chart.title}")
        turn = Turn()
        turn.say("text", f"Let's walk “{chart.title}” together, one question at a time. Answer with the buttons "
                         "or in your own words; you can say “not sure” to any question.")
        self._ask(turn, chart.questions[chart.start])
        return self._finish(turn)

    def choose(self, question_id: str, value: str) -> Turn:
        """An answer given with a button."""
        question = self._asking()
        if question is None or question.id != question_id:
            raise MessageRefused("That question is not the one the guide is asking now.")
        chosen = question.answer(value)
        if chosen is None:
            raise MessageRefused("Choose one of the answers offered.")
        self._store("you", "text", chosen.label)
        turn = Turn()
        self._record_answer(turn, question, value, phrase=None)
        return self._finish(turn)

    def change(self, question_id: str) -> Turn:
        """Ask an answered question again (the "change" link after "I understood…")."""
        walk = self._walk()
        where = position(self.guidance, walk) if walk else None
        if where is None or not any(q.id == question_id for q, _ in where.path):
            raise MessageRefused("You can only change an answer you have given in this conversation.")
        question = where.chart.questions[question_id]
        self._store("you", "text", f"Change my answer to: {question.text}")
        turn = Turn()
        self._ask(turn, question)
        return self._finish(turn)

    # --- the parts ----------------------------------------------------------------------

    def _urgent(self, turn: Turn, cites=()) -> None:
        prompt = self.words.urgent
        turn.say("urgent", prompt.body, title=prompt.title, cite="; ".join(dict.fromkeys((prompt.cite, *cites))))

    def _pending_danger_check(self) -> ChatMessage | None:
        """The latest "Is a child in danger right now?" still waiting for its answer, if any."""
        from sqlalchemy import select
        latest = self.db.scalar(select(ChatMessage).where(ChatMessage.chat_id == self.chat.id,
                                                          ChatMessage.kind == "danger_check")
                                .order_by(ChatMessage.id.desc()).limit(1))
        return latest if latest is not None and not (latest.data or {}).get("answered") else None

    def _danger_question(self) -> Question:
        return Question(id=DANGER_CHECK, text=self.words.urgent.question, help="", cite=self.words.urgent.cite,
                        answers=(Answer("yes", "Yes", "", ()), Answer("no", "No", "", ())))

    def _answer_danger_check(self, turn: Turn, pending: ChatMessage, value: str) -> None:
        pending.data = {**(pending.data or {}), "answered": value}
        if value == "yes":
            self._urgent(turn)
        else:
            turn.say("text", self.words.urgent.no_reply)

    def _walk(self):
        from ..models import Walk
        return self.db.get(Walk, self.chat.walk_id) if self.chat.walk_id else None

    def _asking(self) -> Question | None:
        walk = self._walk()
        if walk is None or not self.chat.asking:
            return None
        return self.guidance.flowchart(walk.flowchart_id).questions.get(self.chat.asking)

    def _ask(self, turn: Turn, question: Question) -> None:
        self.chat.asking = question.id
        turn.say("question", question.text, question=question.id, hint=question.hint, cite=question.cite,
                 help=question.help, options=[{"value": a.value, "label": a.label} for a in question.answers])

    def _reply_to_question(self, turn: Turn, question: Question, text: str) -> None:
        understood = understand(text, question, self.words)
        if understood.value is None:
            turn.say("not_understood", understood.reason + " Please choose one of these answers, "
                                                           "or say it another way.", cite=understood.cite)
            self._ask(turn, question)
            return
        self._record_answer(turn, question, understood.value, phrase=understood.phrase)

    def _record_answer(self, turn: Turn, question: Question, value: str, phrase: str | None) -> None:
        walk = self._walk()
        try:
            where = answer(self.db, self.guidance, walk, self.user, question.id, value)
        except StepRefused as refused:
            raise MessageRefused(refused.message) from None
        label = question.answer(value).label
        turn.say("understood", label, question=question.id, question_text=question.text, phrase=phrase or "",
                 by_button=phrase is None)
        self._continue(turn, where)

    def _continue(self, turn: Turn, where: WalkPosition) -> None:
        if where.finished:
            self.chat.asking = None
            outcome = where.outcome
            turn.say("outcome", outcome.title, outcome=outcome.id, body=outcome.body, cite=outcome.cite,
                     decision=self.guidance.decision_label(outcome.decision) if outcome.decision else "",
                     reasons=where.reasons(), walk=self.chat.walk_id,
                     process=self.guidance.flowchart(where.chart.id).is_process,
                     next_flowchart=outcome.next_flowchart)
        else:
            self._ask(turn, where.current)

    def _look_up(self, text: str, turn: Turn) -> bool:
        """Glossary terms, paragraph references and case numbers, quoted from the content."""
        case_ref = CASE_REFERENCE.search(text)
        if case_ref:
            case = next((c for c in self.guidance.scenarios.values() if c.number == int(case_ref.group(1))), None)
            if case:
                turn.say("case", case.title, case=case.id, number=case.number, cite=case.cite,
                         facts=[{"quote": f.quote, "cite": f.cite} for f in case.facts[:3]])
                return True
        if self.text is None:
            return False
        from ..lookup.content import find_references
        refs = find_references(text, self.text)
        if refs:
            for ref in refs[:3]:
                paragraph = self.text.paragraphs[ref]
                turn.say("paragraph", paragraph.text, ref=ref, heading=paragraph.heading)
            return True
        asked = LOOKUP.match(text)
        if asked:
            term = self._term(asked.group(1))
            if term:
                turn.say("term", term.definition, term=term.id, title=term.term, cite=term.cite)
                return True
        return False

    def _term(self, words: str):
        wanted = " ".join(re.sub(r"[^a-z' -]", " ", words.lower()).split())
        for term in self.text.terms.values():
            if wanted == term.term.lower() or wanted in term.aliases:
                return term
        found = self.index.search(wanted, {}, kinds=("term",), limit=1)
        return self.text.terms.get(found[0].ref) if found else None

    def _suggested_flowchart(self, lowered: str) -> str:
        for chart_id, phrases in self.words.flowchart_rules:
            if any(_contains_phrase(lowered, phrase) for phrase in phrases):
                return chart_id
        return self.words.default_flowchart

    def _find(self, turn: Turn, text: str, lowered: str) -> None:
        cases = self.index.search(text, self.words.synonyms, kinds=("case",), limit=3,
                                  abbreviations=self.words.abbreviations)
        paragraphs = self.index.search(text, self.words.synonyms, kinds=("paragraph",), limit=2,
                                       abbreviations=self.words.abbreviations)
        suggested = self._suggested_flowchart(lowered)
        turn.say("matches", "", flowchart=suggested,
                 cases=[{"ref": m.ref, "title": m.title, "matched": list(m.matched)} for m in cases],
                 paragraphs=[{"ref": m.ref, "title": m.title, "snippet": m.snippet, "matched": list(m.matched)}
                             for m in paragraphs])

    def _store(self, author: str, kind: str, text: str, **data) -> None:
        self.db.add(ChatMessage(chat_id=self.chat.id, author=author, kind=kind, text=text, data=data))

    def _finish(self, turn: Turn) -> Turn:
        for kind, text, data in turn.replies:
            self._store("guide", kind, text, **data)
        self.chat.updated_at = utcnow()
        self.db.flush()
        return turn
