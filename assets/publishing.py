"""Publications: the warehouse's publish-ready tables handed to the report writers.

``warehouse.publish`` runs the named SQL steps and returns frames; ``fangpin.reports`` only presents them. These
functions join the two for the assets, the benchmark and the tests:

- :func:`publish_round` — a round's outputs under ``<home>/out/<round_id>/`` (SPEC §7);
- :func:`publish_systemic` — the round's systemic-risk watch and its outputs (systemic_risk.parquet, 规模性风险预警);
- :func:`write_review_lists` — the county review lists alone;
- :func:`write_followup`, :func:`write_approval_batch` — the monthly follow-up (SPEC §8) under ``out/followup/``;
- :func:`publish_forms` — the official forms under ``out/forms/<date>/``;
- :func:`publish_registry_quality` — the registry's data quality under ``out/registry_checks/<date>/``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from fangpin.domain import divisions
from fangpin.home import DataHome
from fangpin.reports import followup as followup_report
from fangpin.reports import forms as forms_report
from fangpin.reports import publish as report
from fangpin.reports import registry_quality, review_lists
from fangpin.reports.systemic import write_systemic
from fangpin.settings import load
from warehouse import publish as tables
from warehouse import systemic
from warehouse.publish.followup import approval_batch, followup_tables
from warehouse.publish.forms import form_tables
from warehouse.registry_checks import drop_temps, run_checks
from warehouse.rules import county_scope


def publish_round(
    wh, home: Path, round_id: str, counties=None, *, workers: int | None = None, systemic: dict | None = None
) -> dict:
    """Publish the round's outputs (all of them), or — ``counties`` given — a county rerun: only those counties'
    workbooks, their rows of the round-wide Parquet files (other counties' rows kept as published), the department
    task lists and the summary (both regenerated from the round's tables). ``links.parquet``, ``rejected.parquet``,
    the department returns (未匹配记录) and the review lists describe department data, not counties: full
    publications, and the first publication of a round. ``workers``: processes writing the workbooks. ``systemic``:
    the round's systemic-risk frames for the summary (``warehouse.systemic.summary``), None when the watch did not
    look at the round."""
    report.check_round_id(round_id)
    home = Path(home)
    scope = county_scope(counties)  # None = the whole round
    returns = scope is None or not (home / "out" / round_id / "links.parquet").exists()
    routing = load("routing", home)
    deadlines = load("rules", home).get("deadlines") or {}
    # the engine's exports (links, rejected rows: personal data) in the private warehouse folder, gone afterwards
    private = DataHome(home).warehouse_dir
    private.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".publish-", dir=private) as stage:
        data = tables.round_tables(
            wh,
            round_id,
            routing=routing,
            stage=Path(stage),
            scope=scope,
            returns=returns,
            task_working_days=int(deadlines.get("measures_working_days", 10)),
        )
        data["systemic"] = systemic
        return report.write_round(data, home, round_id, workers=workers)


def publish_systemic(wh, home: Path, round_id: str, reference_date: dt.date, counties=None) -> tuple:
    """Look at the round's quarter across the whole city (``warehouse.systemic.analyse``: one false-discovery control
    over every area, so a county rerun reads the whole city too), then publish ``systemic_risk.parquet`` (the whole
    round) and the 规模性风险预警_<县>.xlsx of ``counties`` (None = every county). Returns (stats, written).
    Raises ``ConfigError`` for a bad systemic.yaml."""
    home = Path(home)
    stats = systemic.analyse(wh, round_id, reference_date, home=home)
    frames = systemic.frames(wh, round_id)
    names = _county_names(systemic.registry_counties(wh))
    written = write_systemic(frames, home / "out" / round_id, round_id, stats.quarter, names, counties=counties)
    return stats, written


def _county_names(codes: list[str]) -> dict[str, str]:
    current = divisions.counties()
    names = {}
    for code in codes:
        if not code:
            continue
        now = divisions.HISTORIC_COUNTY_CODES.get(code, code)
        names[code] = current.get(now, f"县别代码{code}")
    return names


def write_review_lists(wh, folder: Path, round_id: str | None = None) -> list[str]:
    """待核实匹配清单_<县>.xlsx per county with material review records of round ``round_id`` (every review record when
    that round screened none), into ``folder``; returns the file names."""
    return review_lists.write_review_lists(tables.review_rows(wh, round_id), folder, round_id)


def write_followup(wh, home: Path, as_of: dt.date) -> dict:
    """The follow-up outputs of ``as_of`` (逾期事项, 督查合规表, 风险消除候选, 资金分配因素 and their Parquet twins)."""
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    return followup_report.write_followup(followup_tables(wh, as_of, Path(home)), home, as_of)


def write_approval_batch(wh, home: Path, month: str, as_of: dt.date | None = None) -> dict:
    """The 县级审定 batch of ``month`` ('YYYY-MM') per county, as of ``as_of`` (default today)."""
    _, label = followup_report.batch_month(month)
    as_of = as_of or dt.date.today()
    batch = approval_batch(wh, label, as_of, Path(home))
    return followup_report.write_approval_batch(batch, home, month, as_of)


def publish_forms(wh, home: Path, as_of: dt.date) -> dict:
    """The official forms of ``as_of`` (the public wall tables scanned before anything is published)."""
    if not isinstance(as_of, dt.date):
        raise TypeError("as_of must be a date")
    return forms_report.publish_forms(form_tables(wh, as_of), home, as_of)


def publish_registry_quality(wh, home: Path, as_of: dt.date) -> dict:
    """Run the registry checks of ``as_of`` and write their Parquet file and county workbooks."""
    try:
        result = run_checks(wh, as_of, Path(home))
    finally:
        drop_temps(wh)
    return registry_quality.write_registry_quality(result, home)
