"""Benchmark: our Chinese-aware linkage vs Splink 5 (DuckDB backend, EM-trained) on the same records, in one run.

    python bench/linkage_vs_splink.py --home DIR            # a generated + loaded city (fangpin generate; fangpin screen)
    python bench/linkage_vs_splink.py --dev-persons 100000  # no city at hand: a quick synthetic warehouse (devcity)

Both linkers read the same ``registry_person`` / ``dept_record`` rows (a copy of the warehouse; the home is not
modified) and are scored against ``truth/records.parquet`` in the same way:
a record is correct when linked to its true person, or — for head-of-household-only records — to its true household.
Splink gets what a competent user of a public tool would give it: the normalised name (NFKC, no blanks), the cleaned ID
(usable ID, else the 18-character candidate), birth date, sex, surname, and the county / township / village codes our
locality parser resolved (Splink has no address parser for Chinese). Blocking: ID, birth date, surname + village.
Training: u by random sampling, m by EM on the birth-date and surname+village blocks. A record links to its best
candidate when the match probability ≥ 0.5 (``--splink-threshold``).

Needs the ``bench`` extra: pip install 'splink>=5,<6'.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import Recorder, loadavg, to_json  # noqa: E402


def score(con: duckdb.DuckDBPyConnection, table: str, truth: Path) -> dict:
    """precision / recall / F1 of ``table`` (source, source_file, source_row, id_number, household_id, linked)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ev AS
        SELECT t.true_id_number IS NOT NULL AS has_true, coalesce(x.linked, false) AS linked,
            coalesce(x.linked, false) AND (x.id_number = t.true_id_number
                OR (coalesce(d.is_head_only, false) AND x.household_id = t.true_household_id)) AS correct,
            coalesce(d.id_status, 'missing') NOT IN ('valid', 'converted15') AS no_usable_id
        FROM read_parquet('{truth}') t
        JOIN dept_record d USING (source, source_file, source_row)
        LEFT JOIN {table} x USING (source, source_file, source_row)
    """)

    def m(where: str) -> dict:
        tp, fp, n_true = con.sql(f"""SELECT count(*) FILTER (WHERE linked AND correct),
            count(*) FILTER (WHERE linked AND NOT correct), count(*) FILTER (WHERE has_true) FROM _ev WHERE {where}""").fetchall()[0]
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / n_true if n_true else 1.0
        return {
            "precision": p,
            "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "tp": tp,
            "fp": fp,
            "n_true": n_true,
        }

    return {"overall": m("true"), "no_usable_id": m("no_usable_id")}


def run_ours(db: Path, home: Path | None) -> tuple[float, object]:
    from warehouse.engine import connect
    from warehouse.linkage import link_records

    with connect(db) as con:
        t0 = time.perf_counter()
        stats = link_records(con, home)
        wall = time.perf_counter() - t0
        con.execute("""CREATE OR REPLACE TABLE bench_ours AS SELECT source, source_file, source_row, id_number, household_id,
                       match_method IN ('id_exact', 'id_repaired', 'fuzzy') AS linked FROM link""")
    return wall, stats


def splink_inputs(con: duckdb.DuckDBPyConnection) -> None:
    """Registry and record tables for Splink, with the locality codes our parser resolved (lk_rec is rebuilt here)."""
    from warehouse.linkage import keys

    keys.prepare(con)
    con.execute("""
        CREATE OR REPLACE TABLE sp_persons AS
        SELECT 'p' || pid AS unique_id, k.name_key AS name, left(k.name_key, 1) AS surname, id_number AS id,
               birth_date, sex, county_code, township_code, village_code, household_id, id_number AS person_id
        FROM lk_person k
    """)
    con.execute("""
        CREATE OR REPLACE TABLE sp_records AS
        SELECT 'r' || rid AS unique_id, regexp_replace(name, '\\s', '', 'g') AS name, left(name, 1) AS surname,
               coalesce(id_number, id_candidate) AS id, birth_date, sex, county_code, township_code, village_code,
               source, source_file, source_row
        FROM lk_rec
    """)


def run_splink(db: Path, threshold: float) -> float:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.WARNING)
    con = duckdb.connect(str(db))
    con.execute("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    splink_inputs(con)
    cols = ["unique_id", "name", "surname", "id", "birth_date", "sex", "county_code", "township_code", "village_code"]
    api = DuckDBAPI(connection=con)
    left = api.register(con.sql(f"SELECT {', '.join(cols)} FROM sp_persons").to_arrow_table(), table_name="sp_l")
    right = api.register(con.sql(f"SELECT {', '.join(cols)} FROM sp_records").to_arrow_table(), table_name="sp_r")
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.LevenshteinAtThresholds("id", [1, 2]),
            cl.JaroWinklerAtThresholds("name", [0.9, 0.7]),
            cl.ExactMatch("birth_date"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("village_code"),
            cl.ExactMatch("township_code"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id"),
            block_on("birth_date"),
            block_on("surname", "village_code"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([left, right], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match([block_on("id")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname", "village_code"))
    pred = linker.inference.predict(threshold_match_probability=threshold)
    best = con.sql(f"""
        SELECT unique_id_r, arg_max(unique_id_l, match_probability) AS unique_id_l
        FROM {pred.physical_name} GROUP BY unique_id_r
    """).to_arrow_table()
    con.register("_best", best)
    con.execute("""
        CREATE OR REPLACE TABLE bench_splink AS
        SELECT r.source, r.source_file, r.source_row, p.person_id AS id_number, p.household_id, p.unique_id IS NOT NULL AS linked
        FROM sp_records r LEFT JOIN _best b ON b.unique_id_r = r.unique_id LEFT JOIN sp_persons p ON p.unique_id = b.unique_id_l
    """)
    wall = time.perf_counter() - t0
    con.close()
    return wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, help="a data home with warehouse/fangpin.duckdb and truth/records.parquet")
    ap.add_argument(
        "--dev-persons", type=int, default=0, help="no home: build a devcity warehouse of this many persons"
    )
    ap.add_argument("--dev-records", type=int, default=0)
    ap.add_argument("--splink-threshold", type=float, default=0.5)
    ap.add_argument("--skip-splink", action="store_true")
    ap.add_argument("--json", type=Path, help="write the figures (wall, peak RSS, precision/recall/F1 per linker) here")
    ap.add_argument("--work", type=Path, help="scratch folder for the warehouse copy (default: a temporary folder)")
    args = ap.parse_args(argv)
    rec = Recorder()
    work = Path(tempfile.mkdtemp(prefix="lkbench_", dir=args.work))
    try:
        if args.home:
            src = args.home / "warehouse" / "fangpin.duckdb"
            truth = args.home / "truth" / "records.parquet"
            db = work / "w.duckdb"
            shutil.copy(src, db)
            home = args.home
        else:
            from warehouse.linkage import devcity

            n = args.dev_persons or 100_000
            db = devcity.write(work, n, args.dev_records or int(n * 1.15))
            truth = work / "truth" / "records.parquet"
            home = None
        con = duckdb.connect(str(db), read_only=True)
        n_p, n_r = con.sql(
            "SELECT (SELECT count(*) FROM registry_person), (SELECT count(*) FROM dept_record)"
        ).fetchall()[0]
        con.close()
        print(f"records: {n_r} department rows against {n_p} registry persons")
        with rec.stage("ours"):
            t_ours, stats = run_ours(db, home)
        print(stats.summary())
        t_splink = None
        if not args.skip_splink:
            with rec.stage("splink"):
                t_splink = run_splink(db, args.splink_threshold)
        con = duckdb.connect(str(db), read_only=True)
        res = {"ours": score(con, "bench_ours", truth)}
        if t_splink is not None:
            res["splink"] = score(con, "bench_splink", truth)
        con.close()
        print()
        print(
            f"{'linker':<10}{'wall s':>9}{'precision':>11}{'recall':>9}{'F1':>9}   | no usable ID:{'precision':>10}{'recall':>9}{'F1':>9}"
        )
        for name, wall in (("ours", t_ours), ("splink", t_splink)):
            if name not in res:
                continue
            o, u = res[name]["overall"], res[name]["no_usable_id"]
            print(
                f"{name:<10}{wall:>9.1f}{o['precision']:>11.4f}{o['recall']:>9.4f}{o['f1']:>9.4f}   |"
                f"{'':>13}{u['precision']:>10.4f}{u['recall']:>9.4f}{u['f1']:>9.4f}"
            )
        rec.close()
        if args.json:
            mem = rec.as_dict()["stages"]
            out = {
                "records": n_r,
                "persons": n_p,
                "load_end": loadavg(),
                "ours": {
                    "wall_s": round(t_ours, 3),
                    "peak_rss_mb": mem["ours"]["peak_rss_mb"],
                    "cpu_s": mem["ours"]["cpu_s"],
                    "steps_s": {k: round(v, 2) for k, v in stats.steps.items()},
                    **res["ours"],
                },
            }
            if t_splink is not None:
                out["splink"] = {
                    "wall_s": round(t_splink, 3),
                    "peak_rss_mb": mem["splink"]["peak_rss_mb"],
                    "cpu_s": mem["splink"]["cpu_s"],
                    "threshold": args.splink_threshold,
                    **res["splink"],
                }
            args.json.write_text(to_json(out), encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
