"""How long a request has waited, in the working hours of the agency's choosing.

A working day is one `flows/timescales.is_working_day` counts (Monday to Friday, not an
England and Wales bank holiday); on it, only the hours between the agency's start and end
count, on the wall clock in England.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..flows.timescales import UK_TIME, is_working_day
from .policy import AgencyPolicy

# A request older than this is long overdue however it is counted: no need to walk every day.
MAX_DAYS_COUNTED = 120


def _local(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(UK_TIME)


def working_hours_between(start: datetime, end: datetime, policy: AgencyPolicy) -> float:
    """Working hours from start to end (both UTC, aware or naive), counted in the agency's hours."""
    begin, finish = _local(start), _local(end)
    if finish <= begin:
        return 0.0
    total = timedelta()
    day = begin.date()
    for _ in range(MAX_DAYS_COUNTED):
        if day > finish.date():
            break
        if is_working_day(day):
            opens = datetime.combine(day, policy.day_starts, tzinfo=UK_TIME)
            closes = datetime.combine(day, policy.day_ends, tzinfo=UK_TIME)
            overlap = min(closes, finish) - max(opens, begin)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds() / 3600


def describe_hours(hours: float) -> str:
    if hours < 1:
        minutes = int(hours * 60)
        return "less than a minute" if minutes < 1 else f"{minutes} minute{'s' if minutes != 1 else ''}"
    whole = int(hours)
    return f"{whole} working hour{'s' if whole != 1 else ''}"
