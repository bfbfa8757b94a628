"""Find the case examples, guidance paragraphs and glossary terms closest to a story.

Full-text ranking (BM25) with SQLite's FTS5, in memory: the corpus is the content, the same
on every worker and rebuilt when the app starts, so no database server or model is involved
whatever database the app's records live in. Each result says which of its words matched.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass

# Words that carry no meaning for finding a case.
STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being below
between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself
him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't
my myself no nor not of off on once only or other ought our ours ourselves out over own same shan't she she'd
she'll she's should shouldn't so some such than that that's the their theirs them themselves then there there's
these they they'd they'll they're they've this those through to too under until up very was wasn't we we'd
we'll we're we've were weren't what what's when when's where where's which while who who's whom why why's with
won't would wouldn't you you'd you'll you're you've your yours yourself yourselves also just really think
worried worry concerned concern know told tell said says get got going want wants like one two year years old
new day days today yesterday week weeks time times thing things lot bit way
""".split())


@dataclass(frozen=True)
class Match:
    kind: str        # case | paragraph | term
    ref: str         # the case id, paragraph id or term id
    title: str
    snippet: str
    score: float
    matched: tuple[str, ...]


def spell_out(text: str, abbreviations: dict[str, str]) -> str:
    """Practitioners' abbreviations and everyday names ("HV", "A&E", "gym") → the guidance's words, added."""
    for short, meaning in abbreviations.items():
        pattern = rf"(?<![\w&#]){re.escape(short)}(?![\w&#])"
        text = re.sub(pattern, lambda m: f"{m.group(0)} {meaning} ", text, flags=re.IGNORECASE)
    return text


def query_terms(text: str, synonyms: dict[str, tuple[str, ...]]) -> list[str]:
    words = re.findall(r"[a-z][a-z'-]+", text.lower())
    terms: list[str] = []
    for word in words:
        word = word.strip("'-")
        if len(word) < 3 or word in STOPWORDS:
            continue
        for term in (word, *synonyms.get(word, ())):
            for part in re.findall(r"[a-z]+", term):
                if len(part) >= 3 and part not in STOPWORDS and part not in terms:
                    terms.append(part)
    return terms


class ChatIndex:
    def __init__(self):
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute("CREATE VIRTUAL TABLE docs USING fts5(kind UNINDEXED, ref UNINDEXED, title, body, "
                         "tokenize='porter unicode61')")

    def add(self, kind: str, ref: str, title: str, body: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO docs (kind, ref, title, body) VALUES (?, ?, ?, ?)", (kind, ref, title, body))

    def search(self, text: str, synonyms: dict, kinds: tuple[str, ...] = ("case", "paragraph", "term"),
               limit: int = 5, abbreviations: dict | None = None) -> list[Match]:
        terms = query_terms(spell_out(text, abbreviations or {}), synonyms)
        if not terms:
            return []
        expression = " OR ".join(f'"{term}"' for term in terms)
        placeholders = ",".join("?" for _ in kinds)
        with self._lock:
            rows = self._db.execute(
                f"SELECT kind, ref, title, highlight(docs, 3, '\x02', '\x03'), "
                f"snippet(docs, 3, '', '', ' … ', 24), bm25(docs, 0, 0, 4.0, 1.0) AS rank "
                f"FROM docs WHERE docs MATCH ? AND kind IN ({placeholders}) ORDER BY rank LIMIT ?",
                (expression, *kinds, limit)).fetchall()
        matches = []
        for kind, ref, title, marked, snippet, rank in rows:
            words = []
            for word in re.findall("\x02(.*?)\x03", marked) + re.findall(r"\b\w+\b", title):
                word = word.lower()
                if len(word) >= 3 and word not in words and any(_same_stem(word, term) for term in terms):
                    words.append(word)
            matches.append(Match(kind, ref, title, snippet, -rank, tuple(words[:8])))
        return matches


def _same_stem(word: str, term: str) -> bool:
    # FTS5's porter stemmer matched them; a shared stem of five letters (or the whole short word) says why.
    n = min(len(term), len(word), 5)
    return word[:n] == term[:n]


def build_index(guidance, guidance_text=None) -> ChatIndex:
    """Index every case example, and the guidance's paragraphs and glossary when loaded."""
    index = ChatIndex()
    for case in guidance.scenarios.values():
        body = " ".join([case.service, case.sector.replace("_", " "), " ".join(c.replace("_", " ") for c in case.concerns),
                         " ".join(p.role for p in case.people), " ".join(f.quote for f in case.facts),
                         " ".join(p.question for p in case.decision_points)])
        index.add("case", case.id, f"Case example {case.number}: {case.title}", body)
    if guidance_text is not None:
        for paragraph in guidance_text.paragraphs.values():
            index.add("paragraph", paragraph.id, f"{paragraph.id} {paragraph.heading}".strip(), paragraph.text)
        for term in guidance_text.terms.values():
            index.add("term", term.id, term.term, " ".join((term.definition, *term.aliases)))
    return index
