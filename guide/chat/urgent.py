"""Is a child in danger now? Signals from content/chat_urgent.yaml, combined (WTD §22–23).

Recall over precision: a missed child in danger can cost a life; a false alarm costs a glance.
Each signal is words for one kind of danger, with the paragraph it rests on. They combine:

- `urgent` (the urgent-action prompt): a grave signal (self-harm or suicide intent; injury,
  intoxication, no one caring, a hazard or a carer's acute mental illness with a very young
  child), or a harm signal together with words of how soon ("tonight", "now", "at 3pm");
- `ask` ("Is a child in danger right now?", Yes / No): a harm signal with words of the present
  only ("now", "today"), or two different signals without a time; or what would be urgent in a
  story that also reassures or may not be about a real child now (a grave signal is never
  silenced, only questioned);
- nothing otherwise.

A signal just after "not", "no", "never" does not count, nor one in a clause about the past
("years ago", "last week") unless that clause also says how soon ("since yesterday").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..flows.content import CITE_PATTERN, open_content_file
from ..flows.yaml_lines import ContentError, Located
from .phrases import clauses, negated, spans

URGENT_FILE = "chat_urgent.yaml"
STRENGTHS = ("grave", "harm", "weak")
MARKERS = ("soon", "present", "past", "calm", "young")


@dataclass(frozen=True)
class Signal:
    id: str
    about: str
    strength: str            # grave | harm | weak
    grave_with_young: bool   # grave when a very young child is in the story
    cite: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class UrgentSignals:
    markers: dict            # soon / past / calm / young → phrases
    cites: dict              # soon / past / calm / young → cite
    signals: tuple[Signal, ...]


@dataclass(frozen=True)
class Assessment:
    level: str | None                  # "urgent", "ask" or None
    signals: tuple[str, ...] = ()      # what was found (signal ids, and "soon", "young", "calm")
    cites: tuple[str, ...] = ()        # the paragraphs those signals rest on


def load_signals(directory: Path) -> UrgentSignals:
    from .content import _phrases
    check, top = open_content_file(Path(directory) / URGENT_FILE, {**{m: True for m in MARKERS}, "signals": True})
    markers, cites = {}, {}
    for marker in MARKERS:
        raw = check.mapping(top.get(marker), top.line_of(marker), marker) or Located()
        if raw and check.keys(raw, {"cite": True, "phrases": True}, marker):
            cites[marker] = _cite(check, raw, marker)
            markers[marker] = _phrases(check, raw, "phrases", marker)
    signals, seen = [], set()
    for raw in top.get("signals") or []:
        raw = check.mapping(raw, top.line_of("signals"), "signal")
        if raw is None or not check.keys(raw, {"id": True, "about": True, "strength": True, "cite": True,
                                                "phrases": True, "grave_with_young": False}, "signal"):
            continue
        what = f"signal '{raw.get('id')}'"
        signal_id = check.ident(raw, "id", what)
        if signal_id in seen:
            check.fail(raw.line_of("id"), f"{what}: the id is used twice")
        seen.add(signal_id)
        strength = raw.get("strength")
        if strength not in STRENGTHS:
            check.fail(raw.line_of("strength"), f"{what}: strength must be one of {', '.join(STRENGTHS)}")
        young = raw.get("grave_with_young", False)
        if not isinstance(young, bool):
            check.fail(raw.line_of("grave_with_young"), f"{what}: grave_with_young must be true or false")
        signals.append(Signal(id=signal_id, about=check.text(raw, "about", what), strength=strength,
                              grave_with_young=young is True, cite=_cite(check, raw, what),
                              phrases=_phrases(check, raw, "phrases", what)))
    if check.issues:
        raise ContentError(check.issues)
    return UrgentSignals(markers=markers, cites=cites, signals=tuple(signals))


def _cite(check, raw: Located, what: str) -> str:
    cite = check.text(raw, "cite", what)
    if cite and not CITE_PATTERN.search(cite):
        check.fail(raw.line_of("cite"), f"{what}: cite '{cite}' does not name a source and paragraph")
    return cite


def _present(text: str, phrases, deniable: bool = True) -> bool:
    """Whether any phrase stands in the text (without a "not"/"no" just before it, if `deniable`)."""
    return any(not (deniable and negated(text, start)) for phrase in phrases for start, _ in spans(text, phrase))


def assess(text: str, chat) -> Assessment:
    urgent: UrgentSignals | None = chat.signals
    if urgent is None:
        return Assessment(None)
    parts = clauses(text, chat.shorthand)
    marker = urgent.markers
    soon = any(_present(p.text, marker.get("soon", ()), deniable=False) for p in parts)
    present = soon or any(_present(p.text, marker.get("present", ()), deniable=False) for p in parts)
    young = any(_present(p.text, marker.get("young", ())) for p in parts)
    calm = any(_present(p.text, marker.get("calm", ())) for p in parts)
    found: list[Signal] = []
    for part in parts:
        in_the_past = (_present(part.text, marker.get("past", ()))
                       and not _present(part.text, marker.get("soon", ()) + marker.get("present", ()),
                                        deniable=False))
        if in_the_past:
            continue
        for signal in urgent.signals:
            if signal not in found and _present(part.text, signal.phrases):
                found.append(signal)
    grave = any(s.strength == "grave" or (s.grave_with_young and young) for s in found)
    harm = any(s.strength in ("grave", "harm") for s in found)
    level = None
    if grave or (harm and soon):
        level = "ask" if calm else "urgent"  # a grave signal is never silenced, only questioned
    elif (harm and present) or len(found) >= 2:
        level = None if calm else "ask"
    names = tuple(s.id for s in found) + tuple(n for n, on in (("soon", soon), ("young", young), ("calm", calm)) if on)
    cites = tuple(dict.fromkeys(s.cite for s in found))
    return Assessment(level, names, cites)
