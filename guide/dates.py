"""Dates and times in GOV.UK style, as Jinja filters: "3 December 2026", "5pm", "midnight".

Times are stored in UTC and shown in UK time (GMT or BST), the time the reader lives in.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Flask

UK = ZoneInfo("Europe/London")


def _as_datetime(value) -> datetime | date | None:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        except ValueError:
            return None
    return value


def uk_time(value: datetime) -> datetime:
    """A stored time (naive means UTC) in UK time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(UK)


def govuk_date(value, weekday: bool = False) -> str:
    """`3 December 2026`, or `Thursday 3 December 2026`; an unreadable value is shown as it is."""
    parsed = _as_datetime(value)
    if parsed is None:
        return "" if value is None else str(value)
    if isinstance(parsed, datetime):
        parsed = uk_time(parsed)
    text = f"{parsed.day} {parsed:%B %Y}"
    return f"{parsed:%A} {text}" if weekday else text


def govuk_time(value) -> str:
    """`midnight`, `midday`, `5pm`, `9:30am`."""
    parsed = _as_datetime(value)
    if not isinstance(parsed, datetime):
        return "" if value is None else str(value)
    parsed = uk_time(parsed)
    if parsed.hour == 0 and parsed.minute == 0:
        return "midnight"
    if parsed.hour == 12 and parsed.minute == 0:
        return "midday"
    hour = parsed.hour % 12 or 12
    minutes = f":{parsed.minute:02d}" if parsed.minute else ""
    return f"{hour}{minutes}{'am' if parsed.hour < 12 else 'pm'}"


def govuk_datetime(value) -> str:
    """`3 December 2026 at 5pm`."""
    parsed = _as_datetime(value)
    if not isinstance(parsed, datetime):
        return govuk_date(value)
    return f"{govuk_date(parsed)} at {govuk_time(parsed)}"


def govuk_deadline(value) -> str:
    """When something is due: `5pm on Friday 4 December 2026`; a deadline at midnight is the end of the
    day before it (`the end of Thursday 3 December 2026`), since "midnight on Friday" is often read as
    Friday night, a day late. A date alone: `Friday 4 December 2026`."""
    parsed = _as_datetime(value)
    if not isinstance(parsed, datetime):
        return govuk_date(value, weekday=True)
    local = uk_time(parsed)
    if local.hour == 0 and local.minute == 0:
        return f"the end of {govuk_date(local - timedelta(days=1), weekday=True)}"
    return f"{govuk_time(local)} on {govuk_date(local, weekday=True)}"


def init_dates(app: Flask) -> None:
    app.add_template_filter(govuk_deadline, "govuk_deadline")
    app.add_template_filter(govuk_date, "govuk_date")
    app.add_template_filter(govuk_time, "govuk_time")
    app.add_template_filter(govuk_datetime, "govuk_datetime")
