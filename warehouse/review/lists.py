"""The rows of the lists about records linkage left for review (SQL: ``review/lists``).

- :func:`county_rows` — 待核实匹配清单 per county: the material records of a round (attaching one to a plausible
  candidate would change that household's screening result; ``review_impact``, written by ``warehouse.rules``), sent
  to every county holding such a candidate, with only that county's candidates and what each would change, the risk
  at stake first. A round that has not screened the review records yet lists every review record at the county of
  its best candidate (nothing held back while the stake is unknown).
- :func:`department_rows` — the other review records of a department's feeds (同名待定记录): they change nobody's
  result this round, so they go back to the department for an ID, not to the villages.

The workbooks are written by :mod:`fangpin.reports.review_lists`.
"""

from __future__ import annotations

import polars as pl

from warehouse.runner import runner_for


def screened(con, round_id: str | None) -> bool:
    """Did round ``round_id`` screen the review records (``review_impact`` rows)?"""
    wh = runner_for(con)
    if round_id is None or not wh.exists("review_impact"):
        return False
    return bool(wh.scalar("review/lists.screened", round_id=round_id))


def county_rows(con, round_id: str | None = None) -> pl.DataFrame:
    """County, record, candidate rows (in list order) with ``change_text`` and the stake of the record."""
    wh = runner_for(con)
    if screened(con, round_id):
        wh.run("review/lists.stake", round_id=round_id)
        impact = "review_impact"
    else:
        wh.run("review/lists.stake_unscreened")
        impact = "review_impact" if wh.exists("review_impact") else "_rv_no_impact"
        if impact == "_rv_no_impact":
            wh.run("review/lists.no_impact")
    try:
        return wh.frame("review/lists.county", round_id=round_id or "", impact=impact)
    finally:
        wh.drop("_rv_stake")
        wh.run("review/lists.drop")


def department_rows(con, round_id: str | None, feeds: list[str]) -> pl.DataFrame:
    """Review records of ``feeds`` that change nobody's screening result in round ``round_id`` (empty when the round
    has not screened them: then every review record is on a county list)."""
    if not feeds or not screened(con, round_id):
        return pl.DataFrame()
    return runner_for(con).frame("review/lists.department", round_id=round_id, feeds=list(feeds))
