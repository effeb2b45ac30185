"""Screening figures of a published round against a synthetic city's ground truth (issue 12, "Done when").

    python -m warehouse.rules.evaluate --home DIR [--round 2026Q4] [--level realistic|stress] [--json out.json] [--replay [P:R,…]]

Reads ``<home>/out/<round>/suspects.parquet`` (the contract), ``<home>/truth/households.parquet`` (``at_risk``,
``expected_category``) and ``<home>/truth/records.parquet`` (each record's true household), and — read-only — the
warehouse's ``link`` and ``review_impact`` for the review figures. Reports:

- recall of the truly at-risk households: firm suspects only, and counting 同名待确认 households as flagged;
- precision: of the firm suspects, and of the whole list (同名待确认 households counted as flagged);
- category accuracy among firm true positives;
- review: records linkage left for review, those on the county lists (material: attaching them to a plausible
  candidate changes a result), the (record, county) rows the counties see, those held for their departments,
  households 同名待确认 and how many of them are truly at risk, material records whose true person is a candidate.

``--level`` checks issue 12's targets (realistic: recall ≥ 0.995, precision ≥ 0.98, county lists ≤ 1,500 records;
stress: ≥ 0.99, ≥ 0.95, ≤ 5,000) and exits 1 when one is missed; precision is checked on the whole list.
``--replay`` adds what other review thresholds would have given (:func:`replay_thresholds`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

from warehouse import engine
from warehouse.runner import runner_for

TARGETS = {
    "realistic": {"recall": 0.995, "precision": 0.98, "county_list_records": 1500},
    "stress": {"recall": 0.99, "precision": 0.95, "county_list_records": 5000},
}


def evaluate(home: Path, round_id: str) -> dict:
    truth = pl.read_parquet(home / "truth" / "households.parquet")
    out = pl.read_parquet(home / "out" / round_id / "suspects.parquet")
    if "pending_namesake" not in out.columns:  # a round published before issue 12
        out = out.with_columns(pl.lit(False).alias("pending_namesake"))
    out = out.with_columns(pl.col("pending_namesake").fill_null(False))
    at_risk = truth.filter(pl.col("at_risk")).select("household_id", "expected_category")
    firm = out.filter(~pl.col("pending_namesake"))
    pending = out.filter(pl.col("pending_namesake"))

    def hits(frame: pl.DataFrame) -> int:
        return frame.join(at_risk, on="household_id", how="semi").height

    tp_all, tp_firm, tp_pending = hits(out), hits(firm), hits(pending)
    cat = firm.join(at_risk, on="household_id").filter(pl.col("suspect_category") == pl.col("expected_category"))
    res = {
        "round_id": round_id,
        "households": truth.height,
        "at_risk": at_risk.height,
        "suspects": out.height,
        "suspects_firm": firm.height,
        "pending_namesake": pending.height,
        "pending_truly_at_risk": tp_pending,
        "recall_firm": _ratio(tp_firm, at_risk.height),
        "recall": _ratio(tp_all, at_risk.height),
        "precision_firm": _ratio(tp_firm, firm.height),
        "precision": _ratio(tp_all, out.height),
        "category_accuracy": _ratio(cat.height, tp_firm),
        "missed": at_risk.height - tp_all,
    }
    res.update(_review(home, round_id))
    return res


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 1.0


def _review(home: Path, round_id: str) -> dict:
    records = pl.read_parquet(home / "truth" / "records.parquet").select(
        "source", "source_file", "source_row", "true_household_id"
    )
    with engine.connect(home / "warehouse" / "fangpin.duckdb", read_only=True) as con:
        wh = runner_for(con)
        review = wh.scalar("rules/evaluate.review_records")
        out = {"review_records": review}
        if not wh.exists("review_impact"):
            return out
        wh.put("_truth", records)
        material, rows, true_cand = wh.rows("rules/evaluate.material", round_id=round_id)[0]
    out.update(
        county_list_records=material,
        county_list_rows=rows,
        department_held=review - material,
        material_with_true_candidate=true_cand,
    )
    return out


#: (review_min_candidate_posterior, review_min_candidate_ratio) pairs replayed by ``--replay`` when none are given
REPLAY_GRID = ((0.1, 0.5), (0.1, 0.3), (0.05, 0.5), (0.05, 0.3), (0.03, 0.2), (0.01, 0.1))


def scenarios(wh, round_id: str) -> pl.DataFrame:
    """Every scenario of the round (``review_impact``: a review record attached to one of its candidates) with what
    its materiality depends on: ``changed``, ``score`` (the candidate's posterior), ``best`` (the record's best
    candidate's), ``linkable`` (evidence beyond the name), ``flags`` (it flags a household the round did not), and
    the round's own ``material``."""
    return runner_for(wh).frame("rules/evaluate.scenarios", round_id=round_id)


def material_under(min_posterior: float, min_ratio: float) -> pl.Expr:
    """Materiality as the round decides it (rules/sql/36_impact.sql), under other thresholds."""
    score = pl.col("score")
    return pl.col("changed") & (score >= min_posterior) & (score >= min_ratio * pl.col("best")) & pl.col("linkable")


def replay_thresholds(home: Path, round_id: str, grid=REPLAY_GRID) -> pl.DataFrame:
    """What other review thresholds would have given in this round, without running it again: ``review_impact``
    keeps every scenario of every candidate, so materiality can be decided again (:func:`material_under`). A
    household is 同名待确认 when a material scenario flags it and it is not a firm suspect. Per pair: records on the
    county lists, 同名待确认 households, and against the ground truth the at-risk households missed, recall and
    precision of the whole list. Each record is judged alone, as in the round."""
    truth = pl.read_parquet(home / "truth" / "households.parquet")
    out = pl.read_parquet(home / "out" / round_id / "suspects.parquet")
    at_risk = set(truth.filter(pl.col("at_risk"))["household_id"])
    firm = set(out.filter(~pl.col("pending_namesake").fill_null(False))["household_id"])
    with engine.connect(home / "warehouse" / "fangpin.duckdb", read_only=True) as con:
        sc = scenarios(con, round_id)
    rows = []
    for p, r in grid:
        m = sc.filter(material_under(p, r))
        pending = set(m.filter("flags")["household_id"]) - firm
        flagged = firm | pending
        hits = len(flagged & at_risk)
        rows.append(
            {
                "min_posterior": p,
                "min_ratio": r,
                "county_list_records": m.select("source", "source_file", "source_row").unique().height,
                "pending_namesake": len(pending),
                "missed": len(at_risk) - hits,
                "recall": _ratio(hits, len(at_risk)),
                "precision": _ratio(hits, len(flagged)),
            }
        )
    return pl.DataFrame(rows)


def check(res: dict, level: str) -> list[str]:
    """The targets of ``level`` that ``res`` misses (empty: all met)."""
    t = TARGETS[level]
    missed = []
    if res["recall"] < t["recall"]:
        missed.append(f"recall {res['recall']} < {t['recall']}")
    if res["precision"] < t["precision"]:
        missed.append(f"precision {res['precision']} < {t['precision']}")
    if res.get("county_list_records", 0) > t["county_list_records"]:
        missed.append(f"county review lists {res['county_list_records']} > {t['county_list_records']} records")
    return missed


def format_report(res: dict) -> str:
    lines = [
        f"round {res['round_id']}: {res['households']} households, {res['at_risk']} truly at risk",
        f"  suspects {res['suspects']} = firm {res['suspects_firm']} + 同名待确认 {res['pending_namesake']} "
        f"({res['pending_truly_at_risk']} of those truly at risk)",
        f"  recall    {res['recall']:.4f} counting 同名待确认 as flagged (firm only {res['recall_firm']:.4f}); "
        f"missed {res['missed']}",
        f"  precision {res['precision']:.4f} of the whole list (firm only {res['precision_firm']:.4f})",
        f"  category accuracy (firm true positives) {res['category_accuracy']:.4f}",
        f"  review: {res['review_records']} records left for review",
    ]
    if "county_list_records" in res:
        lines.append(
            f"    county lists {res['county_list_records']} records ({res['county_list_rows']} record×county), "
            f"held for departments {res['department_held']}; material records whose true person is a candidate "
            f"{res['material_with_true_candidate']}"
        )
    return "\n".join(lines)


def _grid(text: str) -> list[tuple[float, float]]:
    try:
        grid = [(float(p), float(r)) for p, r in (pair.split(":") for pair in text.split(","))]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected posterior:ratio pairs separated by commas, got {text!r}") from None
    return grid


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m warehouse.rules.evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", required=True, type=Path)
    ap.add_argument("--round", default="2026Q4")
    ap.add_argument("--level", choices=sorted(TARGETS), help="check issue 12's targets for this level")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    ap.add_argument(
        "--replay",
        nargs="?",
        type=_grid,
        const=list(REPLAY_GRID),
        metavar="P:R,…",
        help="also replay the round's review with other (review_min_candidate_posterior:review_min_candidate_ratio)"
        " thresholds; without a value, " + " ".join(f"{p}:{r}" for p, r in REPLAY_GRID),
    )
    args = ap.parse_args(argv)
    for p in (
        args.home / "truth" / "households.parquet",
        args.home / "out" / args.round / "suspects.parquet",
        args.home / "warehouse" / "fangpin.duckdb",
    ):
        if not p.exists():
            print(f"missing {p}", file=sys.stderr)
            return 2
    res = evaluate(args.home, args.round)
    print(format_report(res))
    missed = check(res, args.level) if args.level else []
    if args.level:
        res["level"], res["targets_missed"] = args.level, missed
        print(f"  targets ({args.level}): " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    if args.replay:
        table = replay_thresholds(args.home, args.round, args.replay)
        with pl.Config(tbl_rows=-1, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
            print("review thresholds replayed (posterior:ratio):")
            print(table)
        res["replay"] = table.to_dicts()
    if args.json:
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
