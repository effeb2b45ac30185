"""Chinese working days (SPEC §7, work plan 二/三): statutory holidays and adjusted working weekends (调休).

The calendar comes from ``chinese_calendar`` (it knows the State Council's holiday arrangements for the years it
ships, 2004–2026 in 1.11). For a date outside those years the library raises ``NotImplementedError``; we then fall
back to "Monday–Friday are working days" and report it (``used_fallback=True``) so that the deadline can say
"按仅周末计算" instead of pretending to know the holidays.

Counting convention: ``add_working_days(start, n)`` returns the n-th working day AFTER ``start`` (``start`` itself is
never counted, whether or not it is a working day). verify_by = add_working_days(pushed_on, 5): pushed on Wednesday
2026-09-30 → Thu 10-08, Fri 10-09, Sat 10-10 (adjusted working Saturday), Mon 10-12, Tue 10-13.
``n = 0`` returns ``start`` unchanged; a negative ``n`` counts backwards.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar

FALLBACK_NOTE = "节假日日历未覆盖{years}年，截止日期按仅周末休息计算，请人工核对法定节假日"


@lru_cache(maxsize=8192)
def is_working_day(d: dt.date) -> tuple[bool, bool]:
    """(is a working day, used_fallback). Fallback = weekends-only, for years the calendar does not know."""
    try:
        return bool(chinese_calendar.is_workday(d)), False
    except NotImplementedError:
        return d.weekday() < 5, True


def add_working_days(start: dt.date, n: int) -> tuple[dt.date, bool]:
    """The n-th working day after ``start`` and whether any day counted needed the weekends-only fallback."""
    if isinstance(start, dt.datetime):
        start = start.date()
    step = 1 if n >= 0 else -1
    remaining = abs(int(n))
    d = start
    fallback = False
    while remaining:
        d = d + dt.timedelta(days=step)
        ok, fb = is_working_day(d)
        fallback = fallback or fb
        if ok:
            remaining -= 1
    return d, fallback


def working_days_between(start: dt.date, end: dt.date) -> tuple[int, bool]:
    """Working days in (start, end] (negative if end < start), and whether the fallback was used."""
    if end == start:
        return 0, False
    lo, hi, sign = (start, end, 1) if end > start else (end, start, -1)
    count, fallback = 0, False
    d = lo
    while d < hi:
        d = d + dt.timedelta(days=1)
        ok, fb = is_working_day(d)
        fallback = fallback or fb
        count += ok
    return sign * count, fallback


def fallback_note(start: dt.date, end: dt.date) -> str:
    """The sentence shown next to a deadline computed with the fallback."""
    years = sorted({start.year, end.year})
    return FALLBACK_NOTE.format(years="、".join(str(y) for y in years))
