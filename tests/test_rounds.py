"""Round ids → reference date, quarter and default kind (SPEC §6.1, §6.4, §7)."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.domain.rounds import RoundInfo, check_kind, parse_round

D = dt.date


@pytest.mark.parametrize(
    "rid, year, quarter, ref, kind",
    [
        ("2026Q4", 2026, 4, D(2026, 10, 1), "full"),
        ("2026Q2", 2026, 2, D(2026, 4, 1), "full"),
        ("2026Q1", 2026, 1, D(2026, 1, 1), "priority"),
        ("2026Q3", 2026, 3, D(2026, 7, 1), "priority"),
        ("2027q1", 2027, 1, D(2027, 1, 1), "priority"),
        ("2026-Q4", 2026, 4, D(2026, 10, 1), "full"),
    ],
)
def test_quarterly_rounds(rid, year, quarter, ref, kind):
    assert parse_round(rid) == RoundInfo(rid, year, quarter, ref, kind)


@pytest.mark.parametrize(
    "rid, ref, quarter",
    [
        ("2026-11-adhoc", D(2026, 10, 1), 4),
        ("20261115", D(2026, 10, 1), 4),
        ("2026-11-15", D(2026, 10, 1), 4),
        ("202602", D(2026, 1, 1), 1),
        ("2026-05", D(2026, 4, 1), 2),
        ("20260930-rerun_2", D(2026, 7, 1), 3),
    ],
)
def test_adhoc_rounds_are_incremental_with_the_quarter_start(rid, ref, quarter):
    info = parse_round(rid)
    assert info.reference_date == ref and info.quarter == quarter and info.default_kind == "incremental"
    assert info.round_id == rid and info.is_adhoc


@pytest.mark.parametrize(
    "rid",
    [
        "",
        "   ",
        "2026Q5",
        "2026Q0",
        "26Q4",
        "20261315",
        "20260230",
        "2026-13",
        "../2026Q4",
        "2026Q4/..",
        "2026-11-adhoc/../../x",
        "2026-11 adhoc",
        "Q4",
        "1999Q1",
        "2026-11-5",
        "x" * 80,
    ],
)
def test_invalid_round_ids_raise_a_clear_error(rid):
    with pytest.raises(ValueError) as err:
        parse_round(rid)
    assert "round id" in str(err.value)


def test_kinds():
    assert check_kind("full") == "full"
    with pytest.raises(ValueError, match="full, priority, incremental"):
        check_kind("weekly")
