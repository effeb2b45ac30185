"""Deadlines in Chinese working days (SPEC §7): statutory holidays, adjusted working weekends, and the fallback."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from fangpin.domain.workdays import add_working_days, fallback_note, is_working_day, working_days_between

D = dt.date


def test_the_library_knows_national_day_2026_as_we_assume():
    # 2026: National Day holiday Oct 1–7; Saturday Oct 10 is an adjusted working day (调休上班).
    assert all(chinese_calendar.is_holiday(D(2026, 10, d)) for d in range(1, 8))
    assert D(2026, 10, 10).weekday() == 5 and chinese_calendar.is_workday(D(2026, 10, 10))
    assert chinese_calendar.is_holiday(D(2026, 10, 11))  # the Sunday after stays a rest day


def test_five_working_days_across_national_day_and_the_adjusted_saturday():
    # pushed Wednesday 30 Sep: Thu 8, Fri 9, Sat 10 (adjusted working day), Mon 12, Tue 13
    assert add_working_days(D(2026, 9, 30), 5) == (D(2026, 10, 13), False)
    # pushed on the first holiday: the whole golden week is skipped
    assert add_working_days(D(2026, 10, 1), 1) == (D(2026, 10, 8), False)
    assert add_working_days(D(2026, 10, 1), 5) == (D(2026, 10, 13), False)
    # pushed Friday 9 Oct: the adjusted Saturday counts, Sunday does not
    assert add_working_days(D(2026, 10, 9), 1) == (D(2026, 10, 10), False)
    assert add_working_days(D(2026, 10, 9), 5) == (D(2026, 10, 15), False)


def test_a_plain_week_and_mid_autumn():
    # 2026 Mid-autumn: Fri 25 – Sun 27 Sep are rest days
    assert add_working_days(D(2026, 9, 24), 1) == (D(2026, 9, 28), False)
    # an ordinary week: Monday + 5 → next Monday
    assert add_working_days(D(2026, 11, 2), 5) == (D(2026, 11, 9), False)


def test_zero_and_negative_counts():
    assert add_working_days(D(2026, 10, 3), 0) == (D(2026, 10, 3), False)
    assert add_working_days(D(2026, 10, 8), -1) == (D(2026, 9, 30), False)


def test_outside_the_calendar_falls_back_to_weekends_only_and_says_so():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 1, 4))
    # 2027 National Day would be a holiday; the fallback does not know that and flags it
    result, fallback = add_working_days(D(2027, 9, 30), 5)
    assert fallback is True
    assert result == D(2027, 10, 7)  # Fri 1, Mon 4, Tue 5, Wed 6, Thu 7 — weekends only
    assert is_working_day(D(2027, 10, 2)) == (False, True)  # Saturday
    assert is_working_day(D(2027, 10, 1)) == (True, True)  # Friday, holiday unknown to the fallback
    # a span that starts in a known year and ends in an unknown one is flagged too
    assert add_working_days(D(2026, 12, 30), 5)[1] is True
    assert "2027" in fallback_note(D(2026, 12, 30), D(2027, 1, 6))


def test_working_days_between():
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 13)) == (5, False)
    assert working_days_between(D(2026, 10, 13), D(2026, 9, 30)) == (-5, False)
    assert working_days_between(D(2026, 10, 1), D(2026, 10, 1)) == (0, False)
