"""Screening round ids → reference date, quarter and default kind (SPEC §6.1, §6.4, §7).

Accepted ids (anything else is a ``ValueError`` that shows the accepted forms):

- ``2026Q4`` (also ``2026q4``, ``2026-Q4``): a scheduled quarterly round. Reference date = first day of the quarter.
  Default kind: Q2/Q4 → ``full`` (集中全面排查), Q1/Q3 → ``priority`` (重点区域排查), as the work plan schedules them.
- Ad-hoc rounds, default kind ``incremental``; reference date = first day of the quarter the date falls in:
  ``20261115`` / ``2026-11-15`` (a day), ``202611`` / ``2026-11`` (a month), each optionally followed by a suffix
  of letters, digits, ``_`` or ``-`` (``2026-11-adhoc``, ``20261115-rerun2``).

The round id becomes a folder name under ``out/``, so only the characters above are accepted: no separators,
no ``..``, no blanks.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

KINDS = ("full", "priority", "incremental")
#: what the work plan calls each kind (for people: command line, launchpad, run tags stay the codes above)
KIND_NAMES = {"full": "集中全面排查", "priority": "重点区域排查", "incremental": "增量排查"}

_QUARTERLY = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_DAY = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})(?:[-_]([A-Za-z0-9_-]+))?$")
_MONTH = re.compile(r"^(\d{4})-?(\d{2})(?:[-_]([A-Za-z0-9_-]*[A-Za-z_][A-Za-z0-9_-]*))?$")

_FORMS = "2026Q4 (quarterly), 20261115 / 2026-11-15 / 2026-11 / 2026-11-adhoc (ad-hoc)"


@dataclass(frozen=True)
class RoundInfo:
    round_id: str
    year: int
    quarter: int
    reference_date: dt.date
    default_kind: str

    @property
    def is_adhoc(self) -> bool:
        return self.default_kind == "incremental"


def quarter_start(d: dt.date) -> dt.date:
    return dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _check_year(year: int, round_id: str) -> None:
    if not 2000 <= year <= 2100:
        raise ValueError(f"round id {round_id!r}: year {year} is out of range (2000–2100); accepted forms: {_FORMS}")


def parse_round(round_id: str) -> RoundInfo:
    """'2026Q4' → RoundInfo('2026Q4', 2026, 4, date(2026, 10, 1), 'full'); see the module docstring for all forms."""
    if not isinstance(round_id, str) or not round_id.strip():
        raise ValueError(f"round id is empty; accepted forms: {_FORMS}")
    rid = round_id.strip()
    if len(rid) > 64:
        raise ValueError(f"round id {rid[:20]!r}… is too long (max 64 characters); accepted forms: {_FORMS}")

    m = _QUARTERLY.match(rid)
    if m:
        year, quarter = int(m.group(1)), int(m.group(2))
        _check_year(year, rid)
        ref = dt.date(year, 3 * (quarter - 1) + 1, 1)
        return RoundInfo(rid, year, quarter, ref, "priority" if quarter in (1, 3) else "full")

    m = _DAY.match(rid)
    if m:
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        _check_year(year, rid)
        try:
            d = dt.date(year, month, day)
        except ValueError:
            raise ValueError(
                f"round id {rid!r}: {year}-{month:02d}-{day:02d} is not a date; accepted forms: {_FORMS}"
            ) from None
        ref = quarter_start(d)
        return RoundInfo(rid, year, (ref.month - 1) // 3 + 1, ref, "incremental")

    m = _MONTH.match(rid)
    if m:
        year, month = int(m.group(1)), int(m.group(2))
        _check_year(year, rid)
        if not 1 <= month <= 12:
            raise ValueError(f"round id {rid!r}: month {month} is not 01–12; accepted forms: {_FORMS}")
        ref = quarter_start(dt.date(year, month, 1))
        return RoundInfo(rid, year, (ref.month - 1) // 3 + 1, ref, "incremental")

    raise ValueError(
        f"round id {rid!r} is not understood; accepted forms: {_FORMS} "
        "(letters, digits, '-' and '_' only after the date)"
    )


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown round kind {kind!r}: use one of {', '.join(KINDS)}")
    return kind
