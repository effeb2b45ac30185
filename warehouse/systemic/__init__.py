"""Systemic-risk watch (规模性、系统性风险研判; work plan part three (三), issue 16): areas whose rate of a risk signal
jumps above their own history and above the other areas of their county, and the households there to visit before
they fall.

``analyse(wh, round_id, reference_date, home=None)`` looks at the round's quarter (the three months before its
reference date) and the quarters before it that the warehouse holds; per village and township and per signal
(``fangpin/config/systemic.yaml``) it counts persons or households with the signal, tests the count against two
baselines (``model.surge_test``), and writes the round's ``systemic_flag``, ``systemic_history`` and
``systemic_survey`` (``sql/tables.sql``). ``frames(wh, round_id)`` returns what a round publishes.

The steps (named SQL, run through the step runner): ``sql/10_base`` households, areas, records, feed coverage;
``sql/20_units`` the units of each signal and the estimated adjusted income per quarter end; ``sql/30_test`` counts
and baselines; ``sql/40_write`` the round tables; ``sql/50_publish`` the frames. The model: docs/DECISIONS.md,
"Systemic-risk watch".
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fangpin.domain import divisions
from fangpin.settings import load
from warehouse import rules
from warehouse.runner import runner_for
from warehouse.systemic.model import surge_test

LEVELS = ("village", "township")
#: the signals the SQL knows (``sql/20_units.sql``), with the parameters each step takes from its config entry
SIGNAL_PARAMS = {
    "medical_claims": ("min_out_of_pocket",),
    "medical_oop": ("min_out_of_pocket",),
    "disaster_houses": ("house_damage_pattern",),
    "disaster_loss": (),
    "job_loss": ("event_pattern",),
    "new_aid": ("aid_type_pattern", "aid_type_exclude", "status_exclude"),
    "below_line": (),
}
#: the same quarter last year, counted back from the round's quarter
SAME_QUARTER = 4


@dataclass
class SystemicStats:
    """What a run of the watch found (counts only: this goes into Dagster metadata)."""

    round_id: str
    quarter: str
    history_quarters: dict[str, int] = field(default_factory=dict)  # signal → quarters of history held
    tests: int = 0
    flags: int = 0
    flags_by_signal: dict[str, int] = field(default_factory=dict)
    flags_by_level: dict[str, int] = field(default_factory=dict)
    flags_by_county: dict[str, int] = field(default_factory=dict)
    villages: int = 0
    flagged_villages: int = 0
    survey_households: int = 0
    dispersion: dict[str, float] = field(default_factory=dict)  # "<level>/<signal>" → α used
    not_tested: list[str] = field(default_factory=list)  # signals without the history the test needs


def quarter_label(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _months_back(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(y, m + 1, 1)


def quarter_frame(reference_date: dt.date, history: int, grace_days: int) -> pl.DataFrame:
    """sys_quarter: q_index 0 = the three months before the reference date (the round's quarter), 1 … ``history``
    the quarters before, with their label, bounds [q_start, q_end) and the end of their grace (coverage)."""
    ref = dt.date(reference_date.year, reference_date.month, 1)
    rows = []
    for i in range(history + 1):
        start, end = _months_back(ref, 3 * (i + 1)), _months_back(ref, 3 * i)
        rows.append(
            {
                "q_index": i,
                "label": quarter_label(start),
                "q_start": start,
                "q_end": end,
                "grace_end": start + dt.timedelta(days=grace_days),
            }
        )
    return pl.DataFrame(rows, schema_overrides={"q_index": pl.Int32})


def _lines(wh, reference_date: dt.date, region: str, home: Path | None) -> tuple[pl.DataFrame, int]:
    """sys_line per county code of the registry (the rules' thresholds of the round's year), and the evidence
    window in quarters."""
    codes = [r[0] for r in wh.rows("systemic/10_base.county_codes")]
    region_cfg = rules.thresholds(region, reference_date.year, home)
    served = set(divisions.city_codes())
    rows = []
    for code in codes:
        cfg = rules.thresholds(code, reference_date.year, home) if code and code[:4] in served else region_cfg
        rows.append(
            {
                "county_code": code,
                "monitoring_line": float(cfg["monitoring_line"]),
                "lost_wage_months": float(cfg["lost_wage_months"]),
            }
        )
    schema = {"county_code": pl.String, "monitoring_line": pl.Float64, "lost_wage_months": pl.Float64}
    window = math.ceil(int(region_cfg["evidence_window_months"]) / 3)
    return pl.DataFrame(rows, schema=schema), window


def analyse(
    wh,
    round_id: str,
    reference_date: dt.date,
    *,
    home: Path | None = None,
    region: str | None = None,
) -> SystemicStats:
    """Run the watch for the round's quarter and write the round's systemic tables (replacing an earlier run's).
    ``region``: whose thresholds apply to counties outside the divisions (default: the area served — the city, or
    the province of several prefectures)."""
    wh = runner_for(wh)
    cfg = load("systemic", home)
    signals = cfg.get("signals") or {}  # names checked against config_schema.SYSTEMIC_SIGNALS on load
    quarters = cfg.get("quarters") or {}
    model = cfg.get("model") or {}
    survey = cfg.get("survey") or {}
    levels = [lv for lv in (cfg.get("levels") or LEVELS) if lv in LEVELS]
    qf = quarter_frame(
        reference_date,
        int(quarters.get("history", 8)),
        int(quarters.get("coverage_grace_days", 31)),
    )
    stats = SystemicStats(round_id, qf["label"][0])

    wh.run("systemic/tables")
    wh.put("sys_quarter", qf)
    wh.put(
        "sys_signal",
        pl.DataFrame(
            {
                "signal": list(signals),
                "name": [str(s.get("name", k)) for k, s in signals.items()],
                "feed": [str(s.get("feed", "all")) for s in signals.values()],
                "unit": [str(s.get("unit", "household")) for s in signals.values()],
                "kind": [str(s.get("kind", "count")) for s in signals.values()],
            },
            schema={"signal": pl.String, "name": pl.String, "feed": pl.String, "unit": pl.String, "kind": pl.String},
        ),
    )
    counties = divisions.counties()
    wh.put("sys_county", pl.DataFrame({"county_code": list(counties), "county": list(counties.values())}))
    try:
        for step in ("households", "areas", "records", "coverage"):
            wh.run(f"systemic/10_base.{step}")
        lines, window_quarters = _lines(wh, reference_date, region or divisions.whole_area()[1], home)
        wh.put("sys_line", lines)
        wh.put("sys_offset", pl.DataFrame({"k": list(range(window_quarters))}, schema={"k": pl.Int32}))

        wh.run("systemic/20_units.init")
        for name, spec in signals.items():
            if name != "below_line":
                wh.run(f"systemic/20_units.{name}", **{p: spec[p] for p in SIGNAL_PARAMS[name]})
        job_pattern = (signals.get("job_loss") or {}).get("event_pattern", "失业|返乡|中断")
        wh.run("systemic/20_units.spend", event_pattern=job_pattern)
        wh.run("systemic/20_units.adjusted")
        if "below_line" in signals:
            wh.run("systemic/20_units.below_line")

        wh.run("systemic/30_test.cells", cap_quantile=float(model.get("amount_cap_quantile", 0.95)))
        wh.run("systemic/30_test.phi")
        wh.run(
            "systemic/30_test.baselines",
            levels=levels,
            prior=float(model.get("prior_events", 2)),
            same_quarter=SAME_QUARTER,
        )
        estimates = wh.frame("systemic/30_test.dispersion", levels=levels)
        base = wh.frame("systemic/30_test.frame")
        result = surge_test(base, estimates, cfg)
        wh.put("sys_result", result)
        wh.run(
            "systemic/40_write.suspects" if wh.exists("suspect") else "systemic/40_write.no_suspects", round_id=round_id
        )
        with wh.transaction():
            params = {"round_id": round_id, "quarter": stats.quarter}
            wh.run(
                "systemic/40_write.survey",
                margin=float(survey.get("near_line_margin", 0.2)),
                include_monitored=bool(survey.get("include_monitored", False)),
                **params,
            )
            wh.run("systemic/40_write.flags", **params)
            wh.run("systemic/40_write.history", **params)
        _fill_stats(stats, wh, base, result, round_id)
        wh.run(
            "systemic/40_write.run",
            round_id=round_id,
            quarter=stats.quarter,
            tests=stats.tests,
            flags=stats.flags,
            villages=stats.villages,
            flagged_villages=stats.flagged_villages,
            survey_households=stats.survey_households,
        )
    finally:
        wh.run("systemic/40_write.drop")
    return stats


def _fill_stats(stats: SystemicStats, wh, base: pl.DataFrame, result: pl.DataFrame, round_id: str) -> None:
    history = base.group_by("signal").agg(pl.col("m").max())
    stats.history_quarters = dict(history.iter_rows())
    stats.tests = int(result["tested"].sum())
    tested = result.filter(pl.col("tested"))["signal"].unique().to_list()
    stats.not_tested = sorted(set(base["signal"].unique().to_list()) - set(tested))
    alphas = result.group_by("area_level", "signal").agg(pl.col("alpha").first())
    stats.dispersion = {f"{lv}/{sg}": round(float(a), 4) for lv, sg, a in alphas.sort("area_level", "signal").rows()}
    flags = result.filter(pl.col("flagged"))
    stats.flags = flags.height
    stats.flags_by_signal = dict(flags.group_by("signal").len().sort("signal").rows())
    stats.flags_by_level = dict(flags.group_by("area_level").len().sort("area_level").rows())
    stats.villages = int(base.filter(pl.col("area_level") == "village")["area_code"].n_unique())
    stats.flagged_villages = int(flags.filter(pl.col("area_level") == "village")["area_code"].n_unique())
    published = frames(wh, round_id)
    stats.flags_by_county = dict(published["flags"].group_by("county_code").len().sort("county_code").rows())
    stats.survey_households = published["survey"].height


def frames(wh, round_id: str) -> dict[str, pl.DataFrame]:
    """What the round publishes: ``flags`` (systemic_risk.parquet), ``history`` (the summary's chart) and ``survey``
    (the 专项调查名单 of every county), without the round id column."""
    wh = runner_for(wh)
    wh.run("systemic/tables")
    return {
        name: wh.frame(f"systemic/50_publish.{name}", round_id=round_id).drop("round_id", strict=False)
        for name in ("flags", "history", "survey")
    }


def registry_counties(wh) -> list[str]:
    """The county codes of the registry (as the registry writes them)."""
    return [r[0] for r in runner_for(wh).rows("systemic/50_publish.counties")]


def summary(wh, round_id: str) -> dict | None:
    """What the round summary shows (``fangpin.reports.summary.systemic_section``): the quarter, the flags, their
    history and the number of survey households — or None when the watch has not looked at this round."""
    wh = runner_for(wh)
    wh.run("systemic/tables")
    run = wh.frame("systemic/50_publish.run", round_id=round_id)
    if run.is_empty():
        return None
    published = frames(wh, round_id)
    return {
        "quarter": run["quarter"][0],
        "flags": published["flags"],
        "history": published["history"],
        "survey_households": int(run["survey_households"][0]),
    }
