"""Dates and times in GOV.UK style."""

from datetime import date, datetime, timezone

from guide.dates import govuk_date, govuk_datetime, govuk_time


def test_dates_have_no_leading_zero_and_the_month_in_full():
    assert govuk_date(date(2026, 12, 3)) == "3 December 2026"
    assert govuk_date("2026-12-03") == "3 December 2026"
    assert govuk_date(date(2026, 12, 3), weekday=True) == "Thursday 3 December 2026"


def test_times_are_midnight_midday_or_am_and_pm_in_uk_time():
    assert govuk_time(datetime(2026, 12, 3, 0, 0)) == "midnight"
    assert govuk_time(datetime(2026, 12, 3, 12, 0)) == "midday"
    assert govuk_time(datetime(2026, 12, 3, 17, 0)) == "5pm"
    assert govuk_time(datetime(2026, 12, 3, 9, 30)) == "9:30am"
    # Stored in UTC; in summer the UK is an hour ahead.
    assert govuk_time(datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)) == "5pm"
    assert govuk_datetime(datetime(2026, 12, 3, 17, 0)) == "3 December 2026 at 5pm"


def test_a_value_that_is_not_a_date_is_shown_as_it_is():
    assert govuk_date("not a date") == "not a date" and govuk_date(None) == ""


def test_a_deadline_at_midnight_is_the_end_of_the_day_before():
    from datetime import datetime, timezone

    from guide.dates import govuk_deadline
    # Midnight UK time at the start of Friday 4 December 2026 (GMT in winter).
    assert govuk_deadline(datetime(2026, 12, 4, 0, 0, tzinfo=timezone.utc)) == "the end of Thursday 3 December 2026"
    assert govuk_deadline(datetime(2026, 12, 4, 17, 0, tzinfo=timezone.utc)) == "5pm on Friday 4 December 2026"
    assert govuk_deadline(datetime(2026, 12, 4).date()) == "Friday 4 December 2026"
