"""A referral's timeline: when each step is due from the dates of events, and as a calendar file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import icalendar

from ..flows.timescales import UK_TIME, Timescale


@dataclass(frozen=True)
class Due:
    """A timescale applied to the date of its event."""

    timescale: Timescale
    event_date: date | datetime
    due: date | datetime

    @property
    def due_day(self) -> date:
        """The calendar day (UK time) on which this falls due."""
        if isinstance(self.due, datetime):
            if self.due.tzinfo is not None:
                return self.due.astimezone(UK_TIME).date()
            return self.due.date()
        return self.due


def compute_timeline(timescales: list[Timescale], events: dict[str, date]) -> list[Due]:
    """The due date of every timescale whose ``from_event`` has a date in ``events``.

    Events with no date (absent, or None) are skipped. Sorted by due day, then
    by time (a timed deadline before an all-day one the same day), then label.
    """
    dues = [
        Due(timescale=ts, event_date=events[ts.from_event], due=ts.due(events[ts.from_event]))
        for ts in timescales
        if events.get(ts.from_event) is not None
    ]

    def key(d: Due) -> tuple:
        if isinstance(d.due, datetime):
            local = d.due.astimezone(UK_TIME) if d.due.tzinfo is not None else d.due
            at = (local.hour, local.minute, local.second)
        else:
            at = (24, 0, 0)  # an all-day deadline runs to the end of the day
        return (d.due_day, at, d.timescale.label, d.timescale.id)

    return sorted(dues, key=key)


# --------------------------------------------------------------------------- iCalendar


def _as_utc(moment: datetime) -> datetime:
    aware = moment.replace(tzinfo=UK_TIME) if moment.tzinfo is None else moment
    return aware.astimezone(UTC)


def _event_words(from_event: str) -> str:
    return from_event.replace("_", " ")


def timeline_ics(
    dues: list[Due],
    *,
    prodid: str = "-//Information sharing guide//Timeline//EN",
    uid_domain: str = "guide.invalid",
    dtstamp: datetime | None = None,
) -> bytes:
    """An iCalendar file with one VEVENT per due date.

    Working-day and month dues are all-day events (DTSTART the due date, DTEND
    the next day). Hour dues are timed events: DTSTART in UTC (a naive due time
    is read as UK time), lasting 30 minutes. UIDs are stable,
    ``{timescale.id}-{due.isoformat()}@{uid_domain}``, so re-importing updates
    rather than duplicates. ``dtstamp`` defaults to now (UTC).
    """
    stamp = _as_utc(dtstamp) if dtstamp is not None else datetime.now(UTC).replace(microsecond=0)
    cal = icalendar.Calendar()
    cal.add("prodid", prodid)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    for d in dues:
        ts = d.timescale
        event = icalendar.Event()
        event.add("uid", f"{ts.id}-{d.due.isoformat()}@{uid_domain}")
        event.add("dtstamp", stamp)
        event.add("summary", ts.label)
        event.add("description", f"Due {ts.describe()} after {_event_words(ts.from_event)}. {ts.cite}")
        if isinstance(d.due, datetime):
            start = _as_utc(d.due)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(minutes=30))
        else:
            event.add("dtstart", d.due)
            event.add("dtend", d.due + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
