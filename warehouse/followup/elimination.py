"""Risk-elimination candidates (消除风险精准) and the fund-allocation factor (资金使用精准), SPEC §8.

``elimination_review(wh, as_of)`` — one row per monitored roster household with each condition and, when it is not
a candidate, the reasons in Chinese. A household is proposed (``candidate``) when ALL hold on ``as_of``:

- ``c_months``: identified (roster ``identified_on``) at least ``elimination_min_months`` (6) months ago;
- ``c_measure``: at least one 帮扶措施 recorded (feedback);
- ``c_income``: per-capita net income ≥ the monitoring line of ``as_of``'s year (the county's line in rules.yaml):
  the latest income a county reported in feedback (核实人均纯收入) if any, else the registry's 人均纯收入 (last year);
- ``c_stable``: the income has stayed above the line for ``elimination_stable_income_months`` (6): no department
  record supporting a risk flag (``suspect_evidence.risk_type``) dated in those months, and no income below the line
  reported in feedback in those months. Annual registry income cannot show months; the absence of new risk signals
  is the evidence of stability we have (documented choice);
- ``c_housing`` / ``c_water`` / ``c_education``: 三保障 and safe water — registry 是否危房户 = 否 for the household,
  是否解决安全饮用水 = 是, and no member whose 在校生状况 says 失学/辍学. Unknown (not registered) is not "met";
- ``c_labour``: NOT every member 丧失劳动力 / 无劳动力 — a household with no labour at all is never proposed: it stays
  monitored once social security is in place (work plan (四); domain-notes §1).
Basic medical insurance (基本医疗保障) is not in our registry columns and is not checked.

``funds_factor(wh)`` — monitored (not eliminated) roster households and persons per county (registry county) and
each county's share of the city's monitored persons: the allocation factor of work plan (五).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from fangpin.domain import divisions
from fangpin.settings import ConfigError, rules_for
from warehouse.followup._base import deadlines_config, ensure_tables
from warehouse.runner import runner_for

CONDITIONS = ("c_months", "c_measure", "c_income", "c_stable", "c_housing", "c_water", "c_education", "c_labour")


def _lines(wh, year: int, home: Path | None) -> pl.DataFrame:
    """Monitoring line per county present in the roster (county entry, else its city's or province's, else the
    area served's); missing → ConfigError naming the entry to add."""
    counties = [r[0] for r in wh.rows("followup/elimination.counties")]
    rows = []
    for code in sorted(counties):
        try:
            cfg = rules_for(code, year, home)
        except ConfigError:
            # a county code outside the divisions: the area served's line (raises, naming the entry, when missing)
            cfg = rules_for(divisions.whole_area()[1], year, home)
        rows.append({"county_code": code, "monitoring_line": float(cfg["monitoring_line"])})
    return pl.DataFrame(rows, schema={"county_code": pl.String, "monitoring_line": pl.Float64})


def elimination_review(wh, as_of: dt.date, home: Path | None = None) -> pl.DataFrame:
    wh = runner_for(wh)
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    ensure_tables(wh)
    cfg = deadlines_config(home)
    wh.run("followup/elimination.monitored")
    try:
        wh.put("_fu_lines", _lines(wh, as_of.year, home))
        return wh.frame(
            "followup/elimination.review",
            as_of=as_of,
            min_months=int(cfg["elimination_min_months"]),
            stable_months=int(cfg["elimination_stable_income_months"]),
        )
    finally:
        wh.drop("_fu_monitored", "_fu_lines")


def elimination_candidates(wh, as_of: dt.date, home: Path | None = None) -> pl.DataFrame:
    """The households proposed for 风险消除 on ``as_of`` (all conditions met)."""
    return elimination_review(wh, as_of, home).filter(pl.col("candidate"))


def funds_factor(wh) -> pl.DataFrame:
    """Monitored households and persons per county and the share of the city's monitored persons."""
    wh = runner_for(wh)
    ensure_tables(wh)
    df = wh.frame("followup/elimination.funds")
    total = int(df["persons"].sum() or 0)
    names = divisions.counties()
    return (
        df.with_columns(
            pl.col("county_code")
            .replace_strict(names, default=pl.col("county_code"), return_dtype=pl.String)
            .alias("county"),
            (pl.col("persons").cast(pl.Float64) / total if total else pl.lit(0.0)).alias("share"),
        )
        .select("county_code", "county", "households", "persons", "share")
        .sort("county_code")
    )
