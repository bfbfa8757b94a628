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

from .phrases import clauses, negated, spans

STRENGTHS = ("grave", "harm", "weak")
GRAVE_WITH = ("young", "baby")  # markers that make a signal grave
MARKERS = ("soon", "present", "past", "calm", *GRAVE_WITH)


@dataclass(frozen=True)
class Signal:
    id: str
    about: str
    strength: str            # grave | harm | weak
    grave_with: str | None   # grave when a very young child ("young") or a baby ("baby") is in the story
    cite: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class UrgentSignals:
    markers: dict            # soon / present / past / calm / young / baby → phrases
    cites: dict              # the same → cite
    signals: tuple[Signal, ...]


@dataclass(frozen=True)
class Assessment:
    level: str | None                  # "urgent", "ask" or None
    signals: tuple[str, ...] = ()      # what was found (signal ids, and "young", "baby", "soon", "calm")
    cites: tuple[str, ...] = ()        # the paragraphs those signals rest on


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
    with_child = {m for m in GRAVE_WITH if any(_present(p.text, marker.get(m, ())) for p in parts)}
    calm = any(_present(p.text, marker.get("calm", ())) for p in parts)
    found: list[Signal] = []
    for part in parts:
        # "told me today that he hit her last year" is the past: only "about to" outweighs it.
        in_the_past = (_present(part.text, marker.get("past", ()))
                       and not _present(part.text, marker.get("soon", ()), deniable=False))
        if in_the_past:
            continue
        for signal in urgent.signals:
            if signal not in found and _present(part.text, signal.phrases):
                found.append(signal)
    grave = any(s.strength == "grave" or s.grave_with in with_child for s in found)
    harm = any(s.strength in ("grave", "harm") for s in found)
    level = None
    if grave or (harm and soon):
        level = "ask" if calm else "urgent"  # a grave signal is never silenced, only questioned
    elif (harm and present) or len(found) >= 2:
        level = None if calm else "ask"
    names = tuple(s.id for s in found) + tuple(sorted(with_child)) + (("soon",) if soon else ()) + (
        ("calm",) if calm else ())
    cites = tuple(dict.fromkeys(s.cite for s in found))
    return Assessment(level, names, cites)
