"""The systemic-risk watch against a synthetic city's ground truth (issue 16's "Done when"), for screened data homes.

    python bench/systemic_truth.py --home DIR [--home DIR ...] [--round 2026Q4] [--json out.json]

Each home must have been generated (``fangpin generate``, with or without ``--no-surges``) and screened
(``fangpin screen --round R``). Reads only the round's publications and the generator's truth:

* every planted surge (truth/surges.parquet) flagged in its quarter for each signal it must raise
  (out/<round>/systemic_risk.parquet), with its ratio and p-value;
* flagged villages per quarter outside the planted areas (a planted area: the area itself, a village of a planted
  township, the township of a planted village), as a share of the city's villages — the false-alarm rate;
* the share of the planted near-line households (truth/surge_households.parquet, role near_line) that are on their
  county's 专项调查名单 (the 规模性风险预警_<县>.xlsx workbooks).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl
from openpyxl import load_workbook


def _planted_area(flags: pl.DataFrame, surges: pl.DataFrame) -> pl.Series:
    villages = set(surges.filter(pl.col("area_level") == "village")["area_code"])
    towns = set(surges.filter(pl.col("area_level") == "township")["area_code"]) | {v[:9] for v in villages}
    return flags["area_code"].is_in(list(villages | towns)) | flags["area_code"].str.slice(0, 9).is_in(list(towns))


def _survey_households(out: Path) -> set[str]:
    listed: set[str] = set()
    for path in sorted(out.glob("规模性风险预警_*.xlsx")):
        wb = load_workbook(path, read_only=True)
        rows = wb["专项调查名单"].iter_rows(values_only=True)
        for row in rows:
            if row and row[0] == "序号":
                break
        listed |= {r[3] for r in rows if r and r[3]}
        wb.close()
    return listed


def _tested_quarter(round_id: str) -> str:
    """The quarter a round looks at: the one before the round's (2026Q4 → 2026Q3)."""
    year, q = int(round_id[:4]), int(round_id[5])
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


def measure(home: Path, round_id: str) -> dict:
    truth = home / "truth"
    out = home / "out" / round_id
    surges = pl.read_parquet(truth / "surges.parquet")
    members = pl.read_parquet(truth / "surge_households.parquet")
    villages = pl.read_parquet(truth / "households.parquet", columns=["village_code"])["village_code"].n_unique()
    flags = pl.read_parquet(out / "systemic_risk.parquet")

    planted = []
    for s in surges.iter_rows(named=True):
        got = flags.filter((pl.col("area_code") == s["area_code"]) & (pl.col("quarter") == s["quarter"]))
        by_signal = {r["signal"]: r for r in got.iter_rows(named=True)}
        planted.append(
            {
                "kind": s["kind"],
                "area_level": s["area_level"],
                "quarter": s["quarter"],
                "affected_households": s["affected_households"],
                "flagged": all(sig in by_signal for sig in s["signals"]),
                "signals": {
                    sig: (
                        {
                            "ratio": round(by_signal[sig]["ratio"], 1),
                            "p_value": float(f"{by_signal[sig]['p_value']:.2g}"),
                        }
                        if sig in by_signal
                        else None
                    )
                    for sig in s["signals"]
                },
            }
        )

    outside = flags.filter(~_planted_area(flags, surges) & (pl.col("area_level") == "village"))
    quarters = sorted(set(flags["quarter"].to_list()) | set(surges["quarter"].to_list()) | {_tested_quarter(round_id)})
    false_villages = {q: outside.filter(pl.col("quarter") == q)["area_code"].n_unique() for q in quarters}
    outside_towns = flags.filter(~_planted_area(flags, surges) & (pl.col("area_level") == "township"))

    near = members.filter(pl.col("role") == "near_line")
    listed = _survey_households(out)
    on_list = near.filter(pl.col("household_id").is_in(list(listed))).height
    return {
        "home": str(home),
        "round": round_id,
        "villages": villages,
        "surges_planted": surges.height,
        "surges_flagged": sum(p["flagged"] for p in planted),
        "planted": planted,
        "flag_rows": flags.height,
        "flagged_villages_outside_planted": false_villages,
        "flagged_village_share_outside_planted": {
            q: round(n / villages, 4) if villages else 0.0 for q, n in false_villages.items()
        },
        "flagged_townships_outside_planted": outside_towns["area_code"].n_unique(),
        "outside_by_signal": dict(outside.group_by("signal").len().sort("signal").iter_rows()),
        "near_line_planted": near.height,
        "near_line_on_survey_lists": on_list,
        "near_line_share": round(on_list / near.height, 4) if near.height else None,
        "survey_households": len(listed),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, action="append", required=True)
    ap.add_argument("--round", default="2026Q4")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results = [measure(h, args.round) for h in args.home]
    text = json.dumps(results, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
