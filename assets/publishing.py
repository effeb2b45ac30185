"""Publications: the warehouse's publish-ready tables handed to the report writers.

``warehouse.publish`` runs the named SQL steps and returns frames; ``fangpin.reports`` only presents them. These
functions join the two for the assets, the benchmark and the tests:

- :func:`publish_round` — a round's outputs under ``<home>/out/<round_id>/`` (SPEC §7);
- :func:`write_review_lists` — the county review lists alone.
"""

from __future__ import annotations

from pathlib import Path

from fangpin.reports import publish as report
from fangpin.reports import review_lists
from fangpin.settings import load
from warehouse import publish as tables
from warehouse.rules import county_scope


def publish_round(wh, home: Path, round_id: str, counties=None, *, workers: int | None = None) -> dict:
    """Publish the round's outputs (all of them), or — ``counties`` given — a county rerun: only those counties'
    workbooks, their rows of the round-wide Parquet files (other counties' rows kept as published), the department
    task lists and the summary (both regenerated from the round's tables). ``links.parquet``, ``rejected.parquet``,
    the department returns (未匹配记录) and the review lists describe department data, not counties: full
    publications, and the first publication of a round. ``workers``: processes writing the workbooks."""
    report.check_round_id(round_id)
    home = Path(home)
    scope = county_scope(counties)  # None = the whole round
    returns = scope is None or not (home / "out" / round_id / "links.parquet").exists()
    routing = load("routing", home)
    deadlines = load("rules", home).get("deadlines") or {}
    data = tables.round_tables(
        wh,
        round_id,
        routing=routing,
        scope=scope,
        returns=returns,
        task_working_days=int(deadlines.get("measures_working_days", 10)),
    )
    return report.write_round(data, home, round_id, workers=workers)


def write_review_lists(wh, folder: Path, round_id: str | None = None) -> list[str]:
    """待核实匹配清单_<县>.xlsx per county with review records, into ``folder``; returns the file names."""
    return review_lists.write_review_lists(tables.review_rows(wh), folder, round_id)
