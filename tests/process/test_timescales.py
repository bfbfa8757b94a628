"""Working-day, hour and month arithmetic for the WTD timescales (guide/timescales.py).

Every expected date below was worked out by hand from a printed calendar and the
GOV.UK list of England and Wales bank holidays, never with the code under test:

  2025: Thu 25 Dec, Fri 26 Dec
  2026: Thu 1 Jan, Fri 3 Apr (Good Friday), Mon 6 Apr (Easter Monday), Mon 4 May,
        Mon 25 May, Mon 31 Aug, Fri 25 Dec, Mon 28 Dec (Boxing Day, Sat 26th, observed)
  2027: Fri 1 Jan, Fri 26 Mar, Mon 29 Mar, Mon 3 May, Mon 31 May, Mon 30 Aug,
        Mon 27 Dec and Tue 28 Dec (Christmas Day and Boxing Day fall on Sat/Sun)
  2028: Mon 3 Jan (New Year's Day, Sat 1st, observed), Fri 14 Apr, Mon 17 Apr, ...
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from guide.process.timeline import Due, compute_timeline, timeline_ics
from guide.flows.timescales import (Timescale, add_hours, add_months, add_working_days, bank_holidays, is_working_day)

D = date
# The WTD timescales as test data (the app reads its own from content/flowcharts.yaml).
WTD_TIMESCALES: tuple[Timescale, ...] = (
    Timescale("written_confirmation", "Confirm a telephone referral in writing",
              "telephone_referral", "WTD §11.5", hours=48, who=("All practitioners",)),
    Timescale("chase_acknowledgement", "Contact children's social care if the referral is not acknowledged",
              "written_referral", "WTD §11.5", working_days=3, who=("All practitioners",)),
    Timescale("referral_decision", "Decide the next course of action on the referral",
              "referral", "WTD §12.1", working_days=1, who=("Social workers", "Managers")),
    Timescale("initial_assessment", "Complete the initial assessment",
              "referral", "WTD §16.1", working_days=7, who=("Social workers",)),
    Timescale("initial_conference", "Hold the initial child protection conference",
              "strategy_discussion", "WTD §44.1", working_days=15,
              who=("Children's social care managers",)),
    Timescale("core_assessment", "Complete the core assessment",
              "core_assessment_started", "WTD §51.2", working_days=35, who=("The named keyworker",)),
    Timescale("first_core_group", "First core group meeting",
              "initial_conference", "WTD §52.5", working_days=10, who=("The core group",)),
    Timescale("first_review", "First child protection review conference",
              "initial_conference", "WTD §68.1", months=3, who=("Children's social care managers",)),
    Timescale("next_review", "Next child protection review conference",
              "review_conference", "WTD §68.1", months=6, who=("Children's social care managers",)),
)

WTD = {ts.id: ts for ts in WTD_TIMESCALES}


# --------------------------------------------------------------------------- bank holidays


# The holidays package also lists the festival itself when it falls at a weekend
# (Boxing Day, Sat 26 Dec 2026); GOV.UK lists only the weekday substitute. Weekend
# days are not working days either way, so only the weekday dates matter below.


def _weekdays(days):
    return {d for d in days if d.weekday() < 5}


def test_bank_holidays_2026_match_the_gov_uk_list():
    assert _weekdays(bank_holidays(2026)) == {
        D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 4), D(2026, 5, 25),
        D(2026, 8, 31), D(2026, 12, 25), D(2026, 12, 28),
    }
    assert D(2026, 12, 26) in bank_holidays(2026)  # Boxing Day itself, a Saturday


def test_bank_holidays_2027_have_both_christmas_substitutes():
    assert _weekdays(bank_holidays(2027)) == {
        D(2027, 1, 1), D(2027, 3, 26), D(2027, 3, 29), D(2027, 5, 3), D(2027, 5, 31),
        D(2027, 8, 30), D(2027, 12, 27), D(2027, 12, 28),
    }


def test_bank_holidays_returns_a_copy():
    mine = bank_holidays(2026)
    mine.add(D(2026, 7, 1))
    assert D(2026, 7, 1) not in bank_holidays(2026)
    assert is_working_day(D(2026, 7, 1))


@pytest.mark.parametrize("day, expected", [
    (D(2026, 1, 16), True),    # Friday
    (D(2026, 1, 17), False),   # Saturday
    (D(2026, 1, 18), False),   # Sunday
    (D(2026, 12, 25), False),  # Christmas Day, Friday
    (D(2026, 12, 26), False),  # Boxing Day, Saturday
    (D(2026, 12, 28), False),  # Boxing Day observed, Monday
    (D(2026, 12, 29), True),   # Tuesday after
    (D(2027, 12, 27), False),  # Christmas Day observed, Monday
    (D(2027, 12, 28), False),  # Boxing Day observed, Tuesday
    (D(2028, 1, 3), False),    # New Year's Day observed, Monday
    (D(2028, 2, 29), True),    # leap day, Tuesday
    (datetime(2026, 4, 3, 9, 0), False),  # a datetime on Good Friday counts as its date
])
def test_is_working_day(day, expected):
    assert is_working_day(day) is expected


# --------------------------------------------------------------------------- working days

WORKING_DAY_ROWS = [
    # --- weekends, no holiday
    (D(2026, 1, 16), 1, D(2026, 1, 19)),    # Fri -> Mon over the weekend
    (D(2026, 1, 17), 1, D(2026, 1, 19)),    # Sat start (day 0, not counted) -> Mon
    (D(2026, 1, 18), 1, D(2026, 1, 19)),    # Sun start -> Mon
    (D(2026, 1, 19), 0, D(2026, 1, 19)),    # n = 0 returns start
    (D(2026, 1, 17), 0, D(2026, 1, 17)),    # n = 0 returns start even on a Saturday
    (D(2026, 1, 14), 5, D(2026, 1, 21)),    # Wed + 5 = next Wed, one weekend
    (D(2026, 1, 12), 10, D(2026, 1, 26)),   # Mon + 10 = Mon fortnight, two weekends
    # --- Christmas and New Year 2025/26 (Thu 25, Fri 26 Dec; Thu 1 Jan)
    (D(2025, 12, 23), 1, D(2025, 12, 24)),  # Tue -> Christmas Eve, a working day
    (D(2025, 12, 24), 1, D(2025, 12, 29)),  # Christmas Day, Boxing Day, weekend
    (D(2025, 12, 23), 2, D(2025, 12, 29)),  # 24th, then Christmas Day, Boxing Day, weekend
    (D(2025, 12, 24), 3, D(2025, 12, 31)),  # Christmas, Boxing Day, weekend, 29, 30, 31
    (D(2025, 12, 24), 4, D(2026, 1, 2)),    # ... and New Year's Day (Thu)
    (D(2025, 12, 31), 1, D(2026, 1, 2)),    # year end: New Year's Day Thu -> Fri 2nd
    (D(2025, 12, 22), 7, D(2026, 1, 5)),    # Christmas, Boxing Day, New Year's Day, 2 weekends
    # --- Christmas and New Year 2026/27 (Fri 25; Sat 26 -> Mon 28 observed; Fri 1 Jan)
    (D(2026, 12, 23), 1, D(2026, 12, 24)),  # Wed -> Christmas Eve
    (D(2026, 12, 24), 1, D(2026, 12, 29)),  # Christmas Day, weekend, Boxing Day observed Mon 28
    (D(2026, 12, 23), 2, D(2026, 12, 29)),  # 24th, then the same four days off
    (D(2026, 12, 26), 1, D(2026, 12, 29)),  # Sat start; Sun 27 and Boxing Day observed Mon 28
    (D(2026, 12, 28), 1, D(2026, 12, 29)),  # start on the observed bank holiday itself
    (D(2026, 12, 24), 3, D(2026, 12, 31)),  # Christmas Day, weekend, Boxing Day observed; 29, 30, 31
    (D(2026, 12, 24), 4, D(2027, 1, 4)),    # ... and New Year's Day (Fri) + weekend
    (D(2026, 12, 31), 1, D(2027, 1, 4)),    # year end: New Year's Day Fri, weekend -> Mon 4th
    # --- Christmas and New Year 2027/28 (Sat 25/Sun 26 -> Mon 27, Tue 28; Sat 1 Jan -> Mon 3)
    (D(2027, 12, 24), 1, D(2027, 12, 29)),  # weekend, Christmas observed Mon 27, Boxing observed Tue 28
    (D(2027, 12, 23), 3, D(2027, 12, 30)),  # 24th, then four days off, 29, 30
    (D(2027, 12, 31), 1, D(2028, 1, 4)),    # New Year's Day Sat, Sun, New Year observed Mon 3
    # --- Easter 2026 (Good Friday 3 Apr, Easter Monday 6 Apr)
    (D(2026, 4, 2), 1, D(2026, 4, 7)),      # Maundy Thursday -> Tue after Easter Monday
    (D(2026, 3, 27), 5, D(2026, 4, 7)),     # 30, 31 Mar, 1, 2 Apr, skip Easter, 7 Apr (month end too)
    (D(2026, 4, 3), 1, D(2026, 4, 7)),      # start on Good Friday itself
    # --- Easter 2027 (Good Friday 26 Mar, Easter Monday 29 Mar)
    (D(2027, 3, 25), 1, D(2027, 3, 30)),    # Thu before Good Friday -> Tue after Easter Monday
    (D(2027, 3, 24), 3, D(2027, 3, 31)),    # 25, skip Good Friday..Easter Monday, 30, 31
    # --- Easter 2028 (Good Friday 14 Apr, Easter Monday 17 Apr)
    (D(2028, 4, 13), 1, D(2028, 4, 18)),    # Thu -> Tue
    # --- early May bank holiday
    (D(2026, 5, 1), 1, D(2026, 5, 5)),      # Fri 1 May, weekend, Mon 4 May -> Tue 5
    (D(2027, 4, 30), 1, D(2027, 5, 4)),     # month end: Fri 30 Apr, weekend, Mon 3 May -> Tue 4
    # --- spring bank holiday
    (D(2026, 5, 22), 1, D(2026, 5, 26)),    # weekend, Mon 25 May -> Tue 26
    (D(2027, 5, 28), 1, D(2027, 6, 1)),     # weekend, Mon 31 May -> Tue 1 Jun (month end)
    # --- summer bank holiday
    (D(2026, 8, 28), 1, D(2026, 9, 1)),     # weekend, Mon 31 Aug -> Tue 1 Sep (month end)
    (D(2027, 8, 27), 1, D(2027, 8, 31)),    # weekend, Mon 30 Aug -> Tue 31 Aug
    # --- month ends, no holiday
    (D(2026, 9, 30), 1, D(2026, 10, 1)),    # Wed 30 Sep -> Thu 1 Oct
    (D(2026, 1, 30), 1, D(2026, 2, 2)),     # Fri 30 Jan, weekend 31 Jan/1 Feb -> Mon 2 Feb
    (D(2027, 2, 26), 1, D(2027, 3, 1)),     # non-leap Feb: Fri 26, weekend 27/28 -> Mon 1 Mar
    # --- leap year 2028
    (D(2028, 2, 28), 1, D(2028, 2, 29)),    # Mon 28 Feb -> Tue 29 Feb
    (D(2028, 2, 29), 1, D(2028, 3, 1)),     # Tue 29 Feb -> Wed 1 Mar
    (D(2028, 2, 25), 2, D(2028, 2, 29)),    # Fri, weekend, Mon 28, Tue 29
    # --- one-off bank holidays, from the package's history
    (D(2020, 5, 1), 1, D(2020, 5, 4)),      # 2020: Mon 4 May was a working day (moved for VE Day)
    (D(2020, 5, 7), 1, D(2020, 5, 11)),     # early May bank holiday moved to Fri 8 May (VE Day 75)
    (D(2022, 6, 1), 1, D(2022, 6, 6)),      # spring bank holiday Thu 2 + Platinum Jubilee Fri 3 Jun
    (D(2022, 9, 16), 1, D(2022, 9, 20)),    # state funeral of Queen Elizabeth II, Mon 19 Sep
    (D(2023, 5, 5), 1, D(2023, 5, 9)),      # coronation of Charles III, Mon 8 May
]


@pytest.mark.parametrize("start, n, expected", WORKING_DAY_ROWS,
                         ids=[f"{s}+{n}" for s, n, _ in WORKING_DAY_ROWS])
def test_add_working_days(start, n, expected):
    assert add_working_days(start, n) == expected


def test_add_working_days_on_a_datetime_gives_its_date():
    assert add_working_days(datetime(2026, 12, 24, 16, 45), 1) == D(2026, 12, 29)


@pytest.mark.parametrize("n", [-1, -35])
def test_add_working_days_rejects_negative_n(n):
    with pytest.raises(ValueError):
        add_working_days(D(2026, 1, 5), n)


# --------------------------------------------------------------------------- hours

HOUR_ROWS = [
    (datetime(2026, 1, 16, 16, 30), 48, datetime(2026, 1, 18, 16, 30)),   # Fri -> Sun: weekend counts
    (datetime(2026, 12, 24, 10, 0), 48, datetime(2026, 12, 26, 10, 0)),   # Christmas Day counts
    (datetime(2025, 12, 31, 23, 15), 48, datetime(2026, 1, 2, 23, 15)),   # year end, New Year's Day
    (datetime(2028, 2, 28, 9, 0), 48, datetime(2028, 3, 1, 9, 0)),       # leap day counts
    (datetime(2026, 3, 27, 10, 0), 48, datetime(2026, 3, 29, 11, 0)),     # clocks go forward Sun 29 Mar:
                                                                          # 10:00 GMT + 48 h = 11:00 BST
    (datetime(2026, 10, 23, 10, 0), 48, datetime(2026, 10, 25, 9, 0)),    # clocks go back Sun 25 Oct:
                                                                          # 10:00 BST + 48 h = 09:00 GMT
    (datetime(2026, 3, 27, 10, 0, tzinfo=UTC), 48,
     datetime(2026, 3, 29, 10, 0, tzinfo=UTC)),                           # aware UTC stays UTC
    (datetime(2026, 1, 16, 16, 30), 0, datetime(2026, 1, 16, 16, 30)),    # 0 hours
]


@pytest.mark.parametrize("start, hours, expected", HOUR_ROWS)
def test_add_hours(start, hours, expected):
    got = add_hours(start, hours)
    assert got == expected
    assert (got.tzinfo is None) == (expected.tzinfo is None)


# --------------------------------------------------------------------------- months

MONTH_ROWS = [
    (D(2026, 1, 31), 1, D(2026, 2, 28)),    # clamp to end of February
    (D(2028, 1, 31), 1, D(2028, 2, 29)),    # leap year: clamp to 29 Feb
    (D(2026, 11, 30), 3, D(2027, 2, 28)),   # first review, across the year end, clamped
    (D(2027, 11, 30), 3, D(2028, 2, 29)),   # first review, leap February
    (D(2026, 8, 31), 6, D(2027, 2, 28)),    # six-monthly review, clamped
    (D(2027, 8, 31), 6, D(2028, 2, 29)),    # six-monthly review, leap February
    (D(2026, 10, 15), 3, D(2027, 1, 15)),   # year end, no clamping
    (D(2026, 3, 31), 3, D(2026, 6, 30)),    # 31 -> 30-day month
    (D(2026, 12, 31), 6, D(2027, 6, 30)),   # year end and 30-day month
    (D(2028, 2, 29), 12, D(2029, 2, 28)),   # leap day + a year
    (D(2026, 1, 15), 0, D(2026, 1, 15)),    # 0 months
    (D(2026, 3, 31), -1, D(2026, 2, 28)),   # backwards works too
]


@pytest.mark.parametrize("start, months, expected", MONTH_ROWS)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


# --------------------------------------------------------------------------- the WTD timescales

WTD_ROWS = [
    # decision on a referral within 1 working day (WTD §12.1)
    ("referral_decision", D(2026, 12, 24), D(2026, 12, 29)),        # Christmas, weekend, Boxing Day observed
    ("referral_decision", D(2026, 1, 16), D(2026, 1, 19)),          # Fri -> Mon
    # chase if not acknowledged within 3 working days (WTD §11.5)
    ("chase_acknowledgement", D(2027, 3, 24), D(2027, 3, 31)),      # Easter 2027
    ("chase_acknowledgement", D(2027, 12, 23), D(2027, 12, 30)),    # Christmas 2027, both observed
    # initial assessment within 7 working days of the referral (WTD §16.1)
    ("initial_assessment", D(2026, 4, 1), D(2026, 4, 14)),          # 2, skip Easter 2026, 7-10, 13, 14
    ("initial_assessment", D(2026, 12, 24), D(2027, 1, 7)),         # 29, 30, 31, skip New Year, 4-7
    # initial child protection conference within 15 working days of the strategy discussion (§44.1)
    ("initial_conference", D(2026, 12, 18), D(2027, 1, 13)),        # Christmas 2026 and New Year 2027
    ("initial_conference", D(2026, 5, 11), D(2026, 6, 2)),          # spring bank holiday 25 May
    # first core group within 10 working days of the conference (§52.5)
    ("first_core_group", D(2027, 3, 22), D(2027, 4, 7)),            # Easter 2027, month end
    ("first_core_group", D(2026, 1, 12), D(2026, 1, 26)),           # two weekends only
    # core assessment within 35 working days (§51.2)
    ("core_assessment", D(2026, 3, 2), D(2026, 4, 22)),             # Easter 2026
    ("core_assessment", D(2026, 11, 30), D(2027, 1, 21)),           # Christmas 2026 and New Year 2027
    # first review within 3 months of the conference, then no more than 6 months apart (§68.1)
    ("first_review", D(2026, 11, 30), D(2027, 2, 28)),              # clamped to end of February
    ("first_review", D(2027, 11, 30), D(2028, 2, 29)),              # leap year
    ("next_review", D(2027, 2, 26), D(2027, 8, 26)),
    ("next_review", D(2027, 8, 31), D(2028, 2, 29)),                # leap year, clamped
    # 48 hours for written confirmation of a telephone referral (§11.5): elapsed, not working
    ("written_confirmation", datetime(2026, 12, 24, 15, 0), datetime(2026, 12, 26, 15, 0)),
    ("written_confirmation", datetime(2026, 4, 2, 11, 0), datetime(2026, 4, 4, 11, 0)),  # Good Friday counts
]


@pytest.mark.parametrize("ts_id, event, expected", WTD_ROWS)
def test_wtd_timescales(ts_id, event, expected):
    assert WTD[ts_id].due(event) == expected


def test_wtd_timescales_units_and_cites():
    assert (WTD["referral_decision"].working_days, WTD["referral_decision"].cite) == (1, "WTD §12.1")
    assert WTD["chase_acknowledgement"].working_days == 3
    assert WTD["initial_assessment"].working_days == 7
    assert (WTD["initial_conference"].working_days, WTD["initial_conference"].from_event) == (
        15, "strategy_discussion")
    assert (WTD["first_core_group"].working_days, WTD["first_core_group"].from_event) == (
        10, "initial_conference")
    assert WTD["core_assessment"].working_days == 35
    assert (WTD["first_review"].months, WTD["next_review"].months) == (3, 6)
    assert WTD["written_confirmation"].hours == 48
    assert len(WTD) == len(WTD_TIMESCALES)  # ids are unique
    assert all(ts.cite.startswith("WTD §") for ts in WTD_TIMESCALES)


def test_hours_from_a_plain_date_start_at_midnight():
    assert WTD["written_confirmation"].due(D(2026, 1, 16)) == datetime(2026, 1, 18, 0, 0)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("units", [
    {},                                    # no unit
    {"working_days": 1, "hours": 48},      # two units
    {"working_days": 1, "months": 3},
    {"hours": 48, "months": 3},
    {"working_days": 1, "hours": 2, "months": 3},
    {"working_days": -1},                  # negative
    {"hours": -48},
    {"months": -3},
    {"working_days": 1.5},                 # not an int
    {"working_days": True},
])
def test_timescale_rejects_bad_units(units):
    with pytest.raises(ValueError):
        Timescale("x", "X", "referral", "WTD §0", **units)


def test_timescale_zero_is_allowed():
    ts = Timescale("same_day", "Same day", "referral", "WTD §0", working_days=0)
    assert ts.due(D(2026, 12, 26)) == D(2026, 12, 26)


# --------------------------------------------------------------------------- compute_timeline


def test_compute_timeline_skips_missing_events_and_sorts():
    events = {
        "referral": D(2026, 12, 24),
        "strategy_discussion": D(2026, 12, 18),
        "telephone_referral": datetime(2026, 12, 23, 15, 0),
        "initial_conference": None,          # no date yet: skipped
        # written_referral, core_assessment_started, review_conference: absent, skipped
    }
    timeline = compute_timeline(list(WTD_TIMESCALES), events)
    assert [(d.timescale.id, d.due) for d in timeline] == [
        ("written_confirmation", datetime(2026, 12, 25, 15, 0)),  # 48 h, Christmas Day
        ("referral_decision", D(2026, 12, 29)),
        ("initial_assessment", D(2027, 1, 7)),
        ("initial_conference", D(2027, 1, 13)),
    ]
    assert all(isinstance(d, Due) for d in timeline)
    assert timeline[1].event_date == D(2026, 12, 24)


def test_compute_timeline_breaks_ties_by_label():
    zebra = Timescale("z", "Zebra", "referral", "WTD §1", working_days=1)
    aardvark = Timescale("a", "Aardvark", "referral", "WTD §2", working_days=1)
    later = Timescale("m", "Middle", "strategy_discussion", "WTD §3", working_days=1)
    timeline = compute_timeline([later, zebra, aardvark],
                                {"referral": D(2026, 1, 16), "strategy_discussion": D(2026, 1, 19)})
    assert [d.timescale.label for d in timeline] == ["Aardvark", "Zebra", "Middle"]
    assert [d.due for d in timeline] == [D(2026, 1, 19), D(2026, 1, 19), D(2026, 1, 20)]


def test_compute_timeline_empty():
    assert compute_timeline(list(WTD_TIMESCALES), {}) == []


# --------------------------------------------------------------------------- iCalendar

STAMP = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _timeline():
    return compute_timeline(list(WTD_TIMESCALES), {
        "referral": D(2026, 12, 24),
        "telephone_referral": datetime(2026, 7, 1, 9, 0),   # 09:00 BST
        "initial_conference": D(2026, 11, 30),
    })


def test_timeline_ics_round_trips():
    dues = _timeline()
    # referral: decision 29 Dec 2026, initial assessment 7 Jan 2027;
    # telephone: written confirmation 3 Jul 2026 09:00 BST;
    # conference: core group 14 Dec 2026 (1-4, 7-11, 14), first review 28 Feb 2027
    assert len(dues) == 5
    raw = timeline_ics(dues, dtstamp=STAMP)
    assert isinstance(raw, bytes)
    cal = icalendar.Calendar.from_ical(raw)
    assert str(cal["PRODID"]) == "-//Information sharing guide//Timeline//EN"
    events = list(cal.walk("VEVENT"))
    assert len(events) == 5

    by_uid = {str(e["UID"]): e for e in events}
    assert set(by_uid) == {
        "written_confirmation-2026-07-03T09:00:00@guide.invalid",
        "first_core_group-2026-12-14@guide.invalid",
        "referral_decision-2026-12-29@guide.invalid",
        "initial_assessment-2027-01-07@guide.invalid",
        "first_review-2027-02-28@guide.invalid",
    }

    decision = by_uid["referral_decision-2026-12-29@guide.invalid"]
    assert decision.decoded("DTSTART") == D(2026, 12, 29)
    assert not isinstance(decision.decoded("DTSTART"), datetime)
    assert decision.decoded("DTEND") == D(2026, 12, 30)
    assert str(decision["SUMMARY"]) == "Decide the next course of action on the referral"
    assert str(decision["DESCRIPTION"]) == "Due 1 working day after referral. WTD §12.1"
    assert decision.decoded("DTSTAMP") == STAMP

    review = by_uid["first_review-2027-02-28@guide.invalid"]
    assert str(review["DESCRIPTION"]) == "Due 3 months after initial conference. WTD §68.1"

    written = by_uid["written_confirmation-2026-07-03T09:00:00@guide.invalid"]
    start = written.decoded("DTSTART")
    assert start == datetime(2026, 7, 3, 8, 0, tzinfo=UTC)   # 09:00 BST is 08:00 UTC
    assert start.utcoffset() == timedelta(0)
    assert written.decoded("DTEND") - start == timedelta(minutes=30)
    assert str(written["DESCRIPTION"]) == "Due 48 hours after telephone referral. WTD §11.5"

    assert [e.decoded("DTSTART") for e in events][1:] == [
        D(2026, 12, 14), D(2026, 12, 29), D(2027, 1, 7), D(2027, 2, 28)]


def test_timeline_ics_uids_are_stable_and_domain_is_configurable():
    dues = _timeline()
    a = icalendar.Calendar.from_ical(timeline_ics(dues, uid_domain="example.org"))
    b = icalendar.Calendar.from_ical(timeline_ics(dues, uid_domain="example.org",
                                                  prodid="-//Test//EN"))
    uids = [str(e["UID"]) for e in a.walk("VEVENT")]
    assert uids == [str(e["UID"]) for e in b.walk("VEVENT")]
    assert all(u.endswith("@example.org") for u in uids)
    assert str(b["PRODID"]) == "-//Test//EN"


def test_timeline_ics_empty_calendar_still_parses():
    cal = icalendar.Calendar.from_ical(timeline_ics([]))
    assert list(cal.walk("VEVENT")) == []
