"""Safeguarding timescales: working days, elapsed hours and calendar months.

*What to do if you're worried a child is being abused* (WTD, §8–§84) sets most of
its timescales in working days (a decision on a referral within one working day,
an initial child protection conference within 15 working days of the strategy
discussion, ...), one in hours (confirm a telephone referral in writing within
48 hours) and the review cycle in months (first review within three months of
the initial conference, then at intervals of not more than six months).

Part of the content format: a process flowchart's steps name these timescales.
Pure functions only: no Flask, no database. A working day is Monday to Friday
and not a bank holiday in England and Wales, taken from the ``holidays``
package (substitute days included). Bank holidays announced after the
installed version of ``holidays`` was released (one-off days such as a state
funeral) are not known until the package is upgraded.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "UK_TIME",
    "Timescale",
    "add_hours",
    "add_months",
    "add_working_days",
    "bank_holidays",
    "is_working_day",
]

#: Local time for naive datetimes (telephone referrals are timed by the clock on the wall).
UK_TIME = ZoneInfo("Europe/London")


# --------------------------------------------------------------------------- calendar


@lru_cache(maxsize=None)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.UK(subdiv="England", years=year).keys())


def bank_holidays(year: int) -> set[date]:
    """The bank holidays of England and Wales in ``year``, substitute days included.

    ``holidays.UK(subdiv="England")`` lists the same days as the England and
    Wales list on GOV.UK (for example Boxing Day 2026 falls on a Saturday, so
    Monday 28 December 2026 is the bank holiday). Unlike GOV.UK, the package also
    lists the festival's own date when it falls at a weekend (Saturday 26 December
    2026); that is harmless, as weekends are not working days anyway. Cached per
    year; a fresh set is returned so callers may change it freely.
    """
    return set(_bank_holidays(year))


def _as_date(day: date) -> date:
    """A plain date (a datetime is a date subclass; drop its time)."""
    return day.date() if isinstance(day, datetime) else day


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an England and Wales bank holiday."""
    day = _as_date(day)
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, n: int) -> date:
    """The date ``n`` working days after ``start``.

    ``start`` is day 0 and is never counted, whether or not it is itself a
    working day: Friday + 1 working day is Monday, and a referral on Saturday
    + 1 working day is also Monday. ``n == 0`` returns ``start`` unchanged.
    A datetime is treated as its date and a date is returned.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    day = _as_date(start)
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def add_hours(start: datetime, hours: int) -> datetime:
    """``start`` plus ``hours`` elapsed (clock) hours, weekends and bank holidays included.

    WTD §11.5 says "confirm it in writing within 48 hours"; it does not say
    working hours, so elapsed hours are used, and the content says so.

    Elapsed means real time: across a clock change 48 hours is still 48 hours
    (Friday 10:00 GMT before the clocks go forward is Sunday 11:00 BST). A
    naive datetime is read as UK local time and a naive datetime is returned;
    an aware datetime keeps its own time zone.
    """
    if isinstance(start, datetime):
        naive = start.tzinfo is None
        aware = start.replace(tzinfo=UK_TIME) if naive else start
        zone = aware.tzinfo
    else:  # a plain date: the start of that day, UK time (the earliest reading, so never late)
        naive = True
        aware = datetime(start.year, start.month, start.day, tzinfo=UK_TIME)
        zone = UK_TIME
    result = (aware.astimezone(UTC) + timedelta(hours=hours)).astimezone(zone)
    return result.replace(tzinfo=None) if naive else result


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` calendar months, clamped to the last day of the month.

    31 January + 1 month is 28 February (29 February in a leap year);
    31 August + 6 months is 28 or 29 February. A datetime is treated as its date.
    """
    day = _as_date(start)
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --------------------------------------------------------------------------- timescales


@dataclass(frozen=True)
class Timescale:
    """One timescale: something due a number of working days, hours or months after an event.

    Exactly one of ``working_days``, ``hours`` and ``months`` is set, and it is >= 0.
    """

    id: str
    label: str
    from_event: str
    cite: str
    working_days: int | None = None
    hours: int | None = None
    months: int | None = None
    who: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        units = {
            name: value
            for name, value in (("working_days", self.working_days), ("hours", self.hours),
                                ("months", self.months))
            if value is not None
        }
        if len(units) != 1:
            raise ValueError(
                f"timescale {self.id!r}: set exactly one of working_days, hours, months "
                f"(got {sorted(units) or 'none'})"
            )
        ((name, value),) = units.items()
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"timescale {self.id!r}: {name} must be an int, not {value!r}")
        if value < 0:
            raise ValueError(f"timescale {self.id!r}: {name} must be >= 0, not {value}")
        object.__setattr__(self, "who", tuple(self.who))

    @property
    def unit(self) -> str:
        """``"working_days"``, ``"hours"`` or ``"months"``."""
        if self.working_days is not None:
            return "working_days"
        if self.hours is not None:
            return "hours"
        return "months"

    @property
    def amount(self) -> int:
        return getattr(self, self.unit)

    def describe(self) -> str:
        """E.g. "1 working day", "15 working days", "48 hours", "3 months"."""
        n = self.amount
        word = {"working_days": "working day", "hours": "hour", "months": "month"}[self.unit]
        return f"{n} {word}" if n == 1 else f"{n} {word}s"

    def due(self, event_date: date | datetime) -> date | datetime:
        """When this is due, given the date (or date and time) of ``from_event``.

        Working days and months give a date. Hours give a datetime; a plain date
        is read as the start of that day (UK time), the earliest the event
        could have happened, so the deadline shown is never later than the real one.
        """
        if self.working_days is not None:
            return add_working_days(event_date, self.working_days)
        if self.hours is not None:
            return add_hours(event_date, self.hours)
        return add_months(event_date, self.months)


