"""The guidance's own words: every numbered paragraph, and a glossary, looked up by reference.

`content/guidance/*.yaml` hold the paragraphs of each source document (made by
`scripts/extract_paragraphs.py`), `content/glossary.yaml` the terms practitioners ask
about. Both are checked like the flowcharts: every problem is reported with its file
and line, all at once.

`find_references` turns what people type ("§4.22", "XG 4.17", "wtd app3 4.22",
"paragraph 4.22 of XG", "WTD §24–28") into the ids of paragraphs that exist;
`find_terms` finds the glossary terms a question mentions ("what is implied consent?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..flows.content import CITE_PATTERN, _Checker
from ..flows.yaml_lines import ContentError, ContentIssue, Located, load_yaml

GUIDANCE_DIRECTORY = "guidance"
GLOSSARY_FILE = "glossary.yaml"
# The documents' files, in the order their paragraphs are listed; any other *.yaml follows.
GUIDANCE_FILES = ("xg.yaml", "wtd.yaml", "wtd_app3.yaml", "idx.yaml", "isp.yaml", "news.yaml")
SOURCES = ("XG", "WTD", "IDX", "ISP", "NEWS")

# A paragraph id is exactly its citation: "XG §4.17", "XG App1 §3.2", "WTD §24", "WTD App3 §4.22".
PARAGRAPH_ID = re.compile(r"^(XG|WTD|IDX|ISP|NEWS)(?: App([1-9]))? §([1-9]\d?(?:\.[1-9]\d?)?)$")
# A bare number ("§4.22") may be any document's: these are searched, in this order.
BARE_ORDER = (("XG", ""), ("WTD", "App3"), ("WTD", ""), ("IDX", ""), ("ISP", ""), ("NEWS", ""))
# A document named without an appendix is its main text; if the number is not there, these are tried.
APPENDIX_FALLBACK = {"WTD": ("App3", "App1", "App2"), "XG": ("App1", "App2")}

FILE_KEYS = {"source": True, "title": True, "paragraphs": True}
PARAGRAPH_KEYS = {"id": True, "text": True, "heading": False}
GLOSSARY_KEYS = {"terms": True}
TERM_KEYS = {"id": True, "term": True, "aliases": True, "definition": True, "cite": True, "see_also": False}


@dataclass(frozen=True)
class Paragraph:
    id: str          # "WTD App3 §4.22"
    source: str      # "WTD"
    heading: str
    text: str
    line: int
    file: str


@dataclass(frozen=True)
class GlossaryTerm:
    id: str
    term: str
    aliases: tuple[str, ...]
    definition: str
    cite: str
    see_also: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class GuidanceText:
    paragraphs: dict[str, Paragraph]
    terms: dict[str, GlossaryTerm]

    def paragraph(self, paragraph_id: str) -> Paragraph | None:
        return self.paragraphs.get(paragraph_id)


# --------------------------------------------------------------------------- loading


def load_guidance_text(content_dir: Path | str) -> GuidanceText:
    """Load and check `guidance/*.yaml` and `glossary.yaml`; raise ContentError listing every problem."""
    content_dir = Path(content_dir)
    directory = content_dir / GUIDANCE_DIRECTORY
    issues: list[ContentIssue] = []
    if not directory.is_dir():
        raise ContentError([ContentIssue(directory, None, "folder not found")])
    known = [directory / name for name in GUIDANCE_FILES if (directory / name).exists()]
    others = sorted(path for path in directory.glob("*.yaml") if path not in known)
    paragraphs: dict[str, Paragraph] = {}
    for path in known + others:
        check = _Checker(path)
        _read_guidance_file(check, path, paragraphs)
        issues.extend(check.issues)
    guidance = GuidanceText(paragraphs=paragraphs, terms={})
    path = content_dir / GLOSSARY_FILE
    if not path.exists():
        issues.append(ContentIssue(path, None, "file not found"))
    else:
        check = _Checker(path)
        # Cites are checked against the paragraphs only when those loaded cleanly, so one
        # broken guidance file does not also flag every term that cites it.
        _read_glossary(check, path, guidance, check_cites=not issues)
        issues.extend(check.issues)
    if issues:
        raise ContentError(issues)
    return guidance


def _load(check: _Checker, path: Path) -> Located | None:
    try:
        raw = load_yaml(path)
    except ContentIssue as issue:
        check.issues.append(issue)
        return None
    return check.mapping(raw, 1, "the file")


def _read_guidance_file(check: _Checker, path: Path, paragraphs: dict[str, Paragraph]) -> None:
    top = _load(check, path)
    if top is None or not check.keys(top, FILE_KEYS, "the file"):
        return
    source = check.text(top, "source", "the file")
    if source not in SOURCES:
        check.fail(top.line_of("source"), f"source '{source}' is not one of {', '.join(SOURCES)}")
        return
    check.text(top, "title", "the file")
    raw = top["paragraphs"]
    if not isinstance(raw, list):
        check.fail(top.line_of("paragraphs"), "paragraphs must be a list")
        return
    for entry in raw:
        entry = check.mapping(entry, top.line_of("paragraphs"), "paragraph")
        if entry is None:
            continue
        what = f"paragraph '{entry.get('id', '?')}'"
        if not check.keys(entry, PARAGRAPH_KEYS, what):
            continue
        paragraph_id = check.text(entry, "id", what)
        match = PARAGRAPH_ID.match(paragraph_id)
        if not match:
            check.fail(entry.line_of("id"), f"{what}: the id must be its citation, e.g. '{source} §4.17' or "
                                            f"'{source} App3 §4.22' (one space before §)")
            continue
        if match.group(1) != source:
            check.fail(entry.line_of("id"), f"{what}: this file's source is {source}")
            continue
        if paragraph_id in paragraphs:
            first = paragraphs[paragraph_id]
            check.fail(entry.line_of("id"), f"duplicate paragraph id '{paragraph_id}' (first at {first.file}:{first.line})")
            continue
        text = check.text(entry, "text", what)
        if not text:
            check.fail(entry.line_of("text"), f"{what}: 'text' must not be empty")
            continue
        paragraphs[paragraph_id] = Paragraph(
            id=paragraph_id, source=source, heading=check.text(entry, "heading", what), text=text,
            line=entry.line, file=str(path),
        )


def _list_of_text(check: _Checker, entry: Located, key: str, what: str) -> list[str]:
    raw = entry.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) and item.strip() for item in raw):
        check.fail(entry.line_of(key), f"{what}: '{key}' must be a list of words or phrases")
        return []
    return [item.strip() for item in raw]


def _read_glossary(check: _Checker, path: Path, guidance: GuidanceText, check_cites: bool = True) -> None:
    top = _load(check, path)
    if top is None or not check.keys(top, GLOSSARY_KEYS, "the file"):
        return
    raw = top["terms"]
    if not isinstance(raw, list):
        check.fail(top.line_of("terms"), "terms must be a list")
        return
    alias_owner: dict[str, tuple[str, int]] = {}
    see_also_lines: list[tuple[str, Located]] = []
    for entry in raw:
        entry = check.mapping(entry, top.line_of("terms"), "term")
        if entry is None:
            continue
        what = f"term '{entry.get('id', '?')}'"
        if not check.keys(entry, TERM_KEYS, what):
            continue
        term_id = check.ident(entry, "id", what)
        if term_id in guidance.terms:
            check.fail(entry.line_of("id"), f"duplicate term id '{term_id}' (first at line {guidance.terms[term_id].line})")
            continue
        aliases = _list_of_text(check, entry, "aliases", what)
        if not aliases and "aliases" in entry:
            continue
        for alias in aliases:
            if alias != alias.lower() or "  " in alias:
                check.fail(entry.line_of("aliases"), f"{what}: alias '{alias}' must be lower case, single-spaced")
            elif alias in alias_owner and alias_owner[alias][0] != term_id:
                other, line = alias_owner[alias]
                check.fail(entry.line_of("aliases"), f"{what}: alias '{alias}' is also an alias of '{other}' (line {line})")
            else:
                alias_owner[alias] = (term_id, entry.line_of("aliases"))
        cite = check.cite(entry, what)
        if check_cites and cite and CITE_PATTERN.search(cite) and not find_references(cite, guidance):
            check.fail(entry.line_of("cite"), f"{what}: cite '{cite}' names no paragraph in {GUIDANCE_DIRECTORY}/")
        see_also = _list_of_text(check, entry, "see_also", what)
        see_also_lines.append((term_id, entry))
        guidance.terms[term_id] = GlossaryTerm(
            id=term_id, term=check.text(entry, "term", what), aliases=tuple(aliases),
            definition=check.text(entry, "definition", what), cite=cite, see_also=tuple(see_also), line=entry.line,
        )
    for term_id, entry in see_also_lines:
        for other in guidance.terms[term_id].see_also:
            if other == term_id:
                check.fail(entry.line_of("see_also"), f"term '{term_id}': see_also names the term itself")
            elif other not in guidance.terms:
                check.fail(entry.line_of("see_also"), f"term '{term_id}': see_also '{other}' is not a term "
                                                      f"(terms are listed by id, e.g. 'implied_consent')")


# --------------------------------------------------------------------------- references

_NUMBER = r"\d{1,2}(?:\.\d{1,2})?(?![\d]|\.\d)"
_RANGE = rf"(?P<num>{_NUMBER})(?:\s*(?:-|–|—|to)\s*(?P<end>{_NUMBER}))?"
_MARK = r"(?:§+|paras?\.?|paragraphs?|section)"
_DOC = r"(?<![a-z])(?P<doc{n}>xg|wtd|idx|isp|news)(?:(?![a-z])|(?=app))"
_PART = r"(?:app(?:endix)?\.?\s*(?P<app{n}>[1-9]))"

# "XG 4.17", "xg §4.17", "wtd app3 4.22", "WTD App3 glossary (§4.32)", "XG App1 §3.2–3.5"
_NAMED = re.compile(rf"{_DOC.format(n=1)}[\s,]*(?:{_PART.format(n=1)}[\s,]*)?(?:glossary\s*\(?\s*)?(?:{_MARK}\s*)?{_RANGE}")
# "paragraph 4.22 of XG", "§3.2 in XG appendix 1", "para 4.22 of appendix 3"
_TRAILING = re.compile(rf"(?:{_MARK}\s*)?{_RANGE}\s+(?:of|in)\s+(?:the\s+)?(?:{_DOC.format(n=1)}(?:\s*{_PART.format(n=1)})?"
                       rf"|{_PART.format(n=2)}(?:\s+(?:of|in)\s+(?:the\s+)?{_DOC.format(n=2)})?)")
# "appendix 3 paragraph 4.22", "App3 §4.22"
_PART_ONLY = re.compile(rf"(?<![a-z]){_PART.format(n=1)}[\s,]*(?:{_MARK}\s*)?{_RANGE}")
# "§4.22", "para 4.22", "paragraphs 4.2 to 4.5": no document named
_BARE = re.compile(rf"(?:§+\s*|(?<![a-z])(?:paras?\.?|paragraphs?)\s*){_RANGE}")
# "what does 4.22 say?": a decimal number on its own (not "£1.5", not a date "15.11.2005")
_LOOSE = re.compile(r"(?<![\w.£$/:-])(?P<num>\d{1,2}\.\d{1,2})(?![\d]|\.\d|\s*(?:%|per ?cent|hours?|days?|years?|months?|weeks?|miles?|km|m|kg)\b)")
# "§4.14" after "XG §4.7–4.10, " belongs to XG too
_MORE = re.compile(rf"\s*(?:,|\band\b|&|\bor\b)\s*(?:{_MARK}\s*)?{_RANGE}")


def _key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


def _in_part(guidance: GuidanceText, doc: str, part: str, start: str, end: str | None) -> list[str]:
    """Existing paragraphs of one document part from `start` to `end` (`§24–28` takes in §28.1…)."""
    prefix = f"{doc} {part + ' ' if part else ''}§"
    if end is None:
        return [prefix + start] if prefix + start in guidance.paragraphs else []
    if "." in start and "." not in end:          # "4.28–30" is 4.28 to 4.30
        section, sub = start.split(".")
        if int(end) > int(sub):
            end = f"{section}.{end}"
    low, high = sorted((_key(start), _key(end)))
    found = []
    for paragraph_id in guidance.paragraphs:
        if paragraph_id.startswith(prefix):
            key = _key(paragraph_id[len(prefix):])
            if low <= key and key[:len(high)] <= high:
                found.append(paragraph_id)
    return found


def _resolve(guidance: GuidanceText, doc: str | None, part: str, start: str, end: str | None) -> list[str]:
    if doc:
        found = _in_part(guidance, doc, part, start, end)
        if not found and not part:
            for fallback in APPENDIX_FALLBACK.get(doc, ()):
                found = _in_part(guidance, doc, fallback, start, end)
                if found:
                    break
        return found
    candidates = BARE_ORDER if not part else [(d, part) for d in SOURCES]
    found = []
    for candidate_doc, candidate_part in candidates:
        found.extend(_in_part(guidance, candidate_doc, candidate_part, start, end))
    return found


def _normalise_text(text: str) -> str:
    return " ".join(text.lower().replace("\u00a0", " ").split())


def _matches(text: str):
    """(doc, part, start, end) for every reference in `text`, in order; doc is None if not named."""
    text = _normalise_text(text)
    spans: list[tuple[int, int, str | None, str, str, str | None]] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, stop: int) -> bool:
        return all(stop <= a or start >= b for a, b in taken)

    for pattern in (_NAMED, _TRAILING, _PART_ONLY, _BARE, _LOOSE):
        for match in pattern.finditer(text):
            if not free(match.start(), match.end()):
                continue
            groups = match.groupdict()
            doc = (groups.get("doc1") or groups.get("doc2") or "").upper() or None
            app = groups.get("app1") or groups.get("app2")
            part = f"App{app}" if app else ""
            spans.append((match.start(), match.end(), doc, part, groups["num"], groups.get("end")))
            taken.append((match.start(), match.end()))
            position = match.end()
            while True:   # a list after a reference continues it: "XG §4.7, §4.14"
                more = _MORE.match(text, position)
                if not more or not free(more.start(), more.end()):
                    break
                spans.append((more.start(), more.end(), doc, part, more.group("num"), more.group("end")))
                taken.append((more.start(), more.end()))
                position = more.end()
    for _, _, doc, part, start, end in sorted(spans):
        yield doc, part, start, end


def find_references(text: str, guidance: GuidanceText) -> list[str]:
    """The ids of existing paragraphs that `text` refers to, in the order they are mentioned.

    A document named without an appendix means its main text, then its appendices
    ("WTD 4.22" is WTD App3 §4.22, as the main text has no §4.22). A number with no
    document ("§4.22", "para 4.22", or a decimal on its own: "what does 4.22 say?") gives every document's paragraph of
    that number, ordered XG, WTD App3, WTD, IDX, ISP, NEWS. An appendix with no document
    ("appendix 3 paragraph 4.22") gives that appendix of every document that has one.
    Ranges ("§4.2–4.5", "WTD §24–28") give every paragraph in them.
    """
    found: list[str] = []
    for doc, part, start, end in _matches(text):
        for paragraph_id in _resolve(guidance, doc, part, start, end):
            if paragraph_id not in found:
                found.append(paragraph_id)
    return found


def normalise_reference(text: str) -> str | None:
    """The citation form of the first reference in `text` that names its document, or None.

    "xg 4.17" → "XG §4.17", "wtd app3 4.22" → "WTD App3 §4.22", "appendix 3 paragraph
    4.22" → "WTD App3 §4.22" (only WTD has an Appendix 3). It does not check that the
    paragraph exists, and a bare "§4.22" gives None: use `find_references` for those.
    """
    for doc, part, start, end in _matches(text):
        if doc is None and part == "App3":
            doc = "WTD"
        if doc:
            return f"{doc} {part + ' ' if part else ''}§{start}"
    return None


# --------------------------------------------------------------------------- glossary terms

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def find_terms(text: str, guidance: GuidanceText) -> list[GlossaryTerm]:
    """The glossary terms whose aliases `text` mentions, longest phrase first, in order of mention.

    "what is implied consent?" gives implied consent, not consent as well.
    """
    text = _normalise_text(text).translate(_QUOTES)
    aliases = sorted(((alias.translate(_QUOTES), term) for term in guidance.terms.values() for alias in term.aliases),
                     key=lambda pair: -len(pair[0]))
    taken: list[tuple[int, int, GlossaryTerm]] = []
    for alias, term in aliases:
        for match in re.finditer(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", text):
            if all(match.end() <= a or match.start() >= b for a, b, _ in taken):
                taken.append((match.start(), match.end(), term))
    result: list[GlossaryTerm] = []
    for _, _, term in sorted(taken, key=lambda item: item[0]):
        if term not in result:
            result.append(term)
    return result
