"""Evaluate linkage against the ground truth of a synthetic city.

    python -m warehouse.linkage.evaluate --home DIR [--run] [--json FILE]

Joins ``link`` (in <home>/warehouse/fangpin.duckdb) to <home>/truth/records.parquet on (source, source_file,
source_row) and prints precision / recall / F1 overall, per feed, per noise type and for the records without a
usable ID. ``--run`` first runs linkage on the warehouse (needs write access: nothing else may hold the file).

Counting, per record:
- linked (id_exact / id_repaired / fuzzy) to its true person — or, for a household-level link (no person), to its
  true household — is a true positive (TP);
- linked to anyone else (or linked although the person is not in the registry) is a false positive (FP); when the
  record does have a true person, that person was also missed, so it is a false negative (FN) too;
- review or unmatched for a record that has a true person is a false negative (FN);
- unmatched / review for a record whose person is not in the registry is a true negative (TN).
precision = TP / (TP + FP); recall = TP / (records with a true person); F1 their harmonic mean.
Review records are also counted on their own (they are not wrong, they wait for a person).

The figures of issue 12's "Done when" (``targets``): overall F1; recall of the records without a usable ID whose true
person's name is unique in their township (truth column ``name_unique_in_township`` when the generator writes it, else
computed from ``truth/persons.parquet``: no other registry person of that township has the same name); recall of the
rows with a homophone error (all of them, and those without a usable ID); wrong links among records with a clean valid
ID; the share of outsiders' records (no true person) that were linked, per ``outsider_kind`` when the truth has it;
and the review-list size per department. ``namesake_share`` is the share of registry persons who share their exact
name with another person of their township (the city's namesake level).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

LINKED = ("id_exact", "id_repaired", "fuzzy")


def _outcome_sql(truth: str) -> str:
    return f"""
        SELECT t.source, t.source_file, t.source_row, t.noise, t.id_exact,
            t.true_id_number, t.true_household_id,
            d.id_status, l.match_method, l.id_number, l.household_id, l.match_score,
            l.match_method IS NULL AS no_link_row,
            l.match_method IN {LINKED} AS linked,
            t.true_id_number IS NOT NULL OR t.true_household_id IS NOT NULL AS has_true,
            CASE
                WHEN l.match_method NOT IN {LINKED} OR l.match_method IS NULL THEN false
                WHEN l.id_number IS NOT NULL THEN l.id_number = t.true_id_number
                ELSE l.household_id = t.true_household_id
            END AS correct
        FROM read_parquet('{truth}') t
        LEFT JOIN link l USING (source, source_file, source_row)
        LEFT JOIN dept_record d USING (source, source_file, source_row)
    """


def _metrics(rows: list[tuple]) -> dict[str, float | int]:
    n = tp = fp = fn = tn = review = wrong_exact = 0
    for linked, correct, has_true, method, id_exact in rows:
        n += 1
        if linked and correct:
            tp += 1
        elif linked:
            fp += 1
            if has_true:
                fn += 1
            if id_exact:
                wrong_exact += 1
        elif has_true:
            fn += 1
        else:
            tn += 1
        if method == "review":
            review += 1
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "records": n,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "review": review,
        "precision": p,
        "recall": r,
        "f1": f1,
        "wrong_links_exact_id": wrong_exact,
    }


def evaluate(con: duckdb.DuckDBPyConnection, truth: Path) -> dict:
    con.execute(f"CREATE OR REPLACE TEMP TABLE ev AS {_outcome_sql(str(truth))}")
    cols = "linked, correct, has_true, match_method, id_exact"
    out: dict = {}
    out["missing_link_rows"] = con.sql("SELECT count(*) FROM ev WHERE no_link_row").fetchall()[0][0]
    con.execute("DELETE FROM ev WHERE no_link_row")  # truth rows the loader rejected or folded (not linkage's)
    out["overall"] = _metrics(con.sql(f"SELECT {cols} FROM ev").fetchall())
    out["per_feed"] = {
        src: _metrics(con.sql(f"SELECT {cols} FROM ev WHERE source = ?", params=[src]).fetchall())
        for (src,) in con.sql("SELECT DISTINCT source FROM ev ORDER BY 1").fetchall()
    }
    con.execute("""CREATE OR REPLACE TEMP TABLE ev_noise AS
        SELECT *, unnest(CASE WHEN len(noise) = 0 OR noise IS NULL THEN ['clean'] ELSE noise END) AS noise_type FROM ev""")
    out["per_noise"] = {
        nt: _metrics(con.sql(f"SELECT {cols} FROM ev_noise WHERE noise_type = ?", params=[nt]).fetchall())
        for (nt,) in con.sql("SELECT DISTINCT noise_type FROM ev_noise ORDER BY 1").fetchall()
    }
    out["no_usable_id"] = _metrics(
        con.sql(
            f"SELECT {cols} FROM ev WHERE coalesce(id_status, 'missing') NOT IN ('valid', 'converted15')"
        ).fetchall()
    )
    out["id_missing_or_mangled"] = _metrics(
        con.sql(
            f"SELECT {cols} FROM ev WHERE coalesce(id_status, 'missing') IN ('missing', 'mangled', 'bad_length')"
        ).fetchall()
    )
    out["exact_valid_id"] = _metrics(con.sql(f"SELECT {cols} FROM ev WHERE id_exact").fetchall())
    out["namesake_wrong_links"] = con.sql(
        "SELECT count(*) FROM ev_noise WHERE noise_type = 'namesake' AND linked AND NOT correct"
    ).fetchall()[0][0]
    out["targets"] = _targets(con, truth, cols)
    out["methods"] = dict(
        con.sql("SELECT coalesce(match_method, '-'), count(*) FROM ev GROUP BY 1 ORDER BY 1").fetchall()
    )
    out["errors_by_method"] = dict(
        con.sql("SELECT match_method, count(*) FROM ev WHERE linked AND NOT correct GROUP BY 1 ORDER BY 1").fetchall()
    )
    return out


def _truth_columns(con: duckdb.DuckDBPyConnection, path: Path) -> set[str]:
    return {r[0] for r in con.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}


def _targets(con: duckdb.DuckDBPyConnection, truth: Path, cols: str) -> dict:
    """Issue 12's linkage figures (see the module docstring)."""
    tcols = _truth_columns(con, truth)
    persons = truth.parent / "persons.parquet"
    if "name_unique_in_township" in tcols:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE ev_x AS SELECT e.*, t.name_unique_in_township AS unique_name
            FROM ev e JOIN read_parquet('{truth}') t USING (source, source_file, source_row)""")
    elif persons.exists():
        con.execute(f"""CREATE OR REPLACE TEMP TABLE ev_x AS
            WITH p AS (SELECT id_number, count(*) OVER (PARTITION BY township_code, name) = 1 AS unique_name
                       FROM read_parquet('{persons}'))
            SELECT e.*, p.unique_name FROM ev e LEFT JOIN p ON p.id_number = e.true_id_number""")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE ev_x AS SELECT *, NULL::BOOLEAN AS unique_name FROM ev")
    kind = "t.outsider_kind" if "outsider_kind" in tcols else "'outsider'"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE ev_out AS
        SELECT e.source, coalesce({kind}, 'outsider') AS kind, e.linked
        FROM ev e JOIN read_parquet('{truth}') t USING (source, source_file, source_row) WHERE NOT e.has_true""")
    no_id = "coalesce(id_status, 'missing') NOT IN ('valid', 'converted15')"

    def m(where: str) -> dict:
        return _metrics(con.sql(f"SELECT {cols} FROM ev_x WHERE {where}").fetchall())

    def share(where: str) -> dict:
        n, k = con.sql(f"SELECT count(*), count(*) FILTER (WHERE linked) FROM ev_out WHERE {where}").fetchall()[0]
        return {"records": n, "linked": k, "share": k / n if n else 0.0}

    unique = m(f"{no_id} AND has_true AND unique_name")
    hom = "list_contains(noise, 'homophone')"
    out = {
        "f1": round(m("true")["f1"], 6),
        "no_id_unique_name_recall": unique["recall"],
        "no_id_unique_name_records": unique["records"],
        "homophone_recall": m(hom)["recall"],
        "homophone_no_id_recall": m(f"{hom} AND {no_id}")["recall"],
        "wrong_links_clean_valid_id": m("id_exact")["wrong_links_exact_id"],
        "outsiders": share("true"),
        "outsiders_by_kind": {
            k: share(f"kind = '{k}'") for (k,) in con.sql("SELECT DISTINCT kind FROM ev_out ORDER BY 1").fetchall()
        },
        "outsiders_by_feed": {
            s: share(f"source = '{s}'") for (s,) in con.sql("SELECT DISTINCT source FROM ev_out ORDER BY 1").fetchall()
        },
        "review_per_feed": dict(
            con.sql("SELECT source, count(*) FROM ev WHERE match_method = 'review' GROUP BY 1 ORDER BY 1").fetchall()
        ),
    }
    out["review_total"] = sum(out["review_per_feed"].values())
    if persons.exists():
        out["namesake_share"] = con.sql(f"""SELECT avg(CASE WHEN n > 1 THEN 1.0 ELSE 0.0 END) FROM (
            SELECT count(*) OVER (PARTITION BY township_code, name) AS n FROM read_parquet('{persons}'))""").fetchall()[0][0]
    return out


def _row(name: str, m: dict) -> str:
    return (
        f"{name:<26}{m['records']:>9}{m['tp']:>9}{m['fp']:>7}{m['fn']:>7}{m['review']:>8}"
        f"{m['precision']:>10.4f}{m['recall']:>9.4f}{m['f1']:>9.4f}"
    )


def format_report(res: dict) -> str:
    head = f"{'':<26}{'records':>9}{'TP':>9}{'FP':>7}{'FN':>7}{'review':>8}{'precision':>10}{'recall':>9}{'F1':>9}"
    lines = [
        "linkage evaluation against ground truth",
        head,
        _row("overall", res["overall"]),
        _row("no usable ID", res["no_usable_id"]),
        _row("ID missing/mangled", res["id_missing_or_mangled"]),
        _row("exact valid ID", res["exact_valid_id"]),
        "",
        "per feed:",
    ]
    lines += [_row("  " + k, v) for k, v in res["per_feed"].items()]
    lines += ["", "per noise type:"]
    lines += [_row("  " + k, v) for k, v in res["per_noise"].items()]
    lines += [
        "",
        f"wrong links among records with an exact valid ID: {res['exact_valid_id']['wrong_links_exact_id']}",
        f"wrong links among namesake records: {res['namesake_wrong_links']}",
        f"methods: {res['methods']}",
        f"wrong links by method: {res['errors_by_method']}",
    ]
    t = res["targets"]
    lines += [
        "",
        "issue 12 targets:",
        f"  namesake share (persons sharing their exact name within the township): {t.get('namesake_share', float('nan')):.4f}",
        f"  F1 {t['f1']:.4f} (≥ 0.995)",
        f"  no usable ID, name unique in township: recall {t['no_id_unique_name_recall']:.4f} (≥ 0.99) "
        f"of {t['no_id_unique_name_records']} records",
        f"  homophone rows: recall {t['homophone_recall']:.4f} (≥ 0.98); without a usable ID {t['homophone_no_id_recall']:.4f}",
        f"  wrong links on clean valid IDs: {t['wrong_links_clean_valid_id']} (0)",
        f"  outsiders linked: {t['outsiders']['linked']} of {t['outsiders']['records']} = {t['outsiders']['share']:.4%} (≤ 0.1 %)",
        "    by kind: " + ", ".join(f"{k} {v['linked']}/{v['records']}" for k, v in t["outsiders_by_kind"].items()),
        "    by feed: " + ", ".join(f"{k} {v['linked']}/{v['records']}" for k, v in t["outsiders_by_feed"].items()),
        f"  review list: {t['review_total']} records; per department: "
        + ", ".join(f"{k} {v}" for k, v in t["review_per_feed"].items()),
    ]
    if res["missing_link_rows"]:
        lines.append(f"truth records without a link row (rejected or merged by the loader): {res['missing_link_rows']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m warehouse.linkage.evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", required=True, type=Path)
    ap.add_argument("--run", action="store_true", help="run linkage first (rewrites the link table)")
    ap.add_argument("--json", type=Path, help="also write the numbers as JSON")
    args = ap.parse_args(argv)
    home = args.home
    db = home / "warehouse" / "fangpin.duckdb"
    truth = home / "truth" / "records.parquet"
    for p in (db, truth):
        if not p.exists():
            print(f"missing {p}", file=sys.stderr)
            return 2
    if args.run:
        from warehouse.engine import connect
        from warehouse.linkage import link_records

        with connect(db) as con:
            stats = link_records(con, home)
            print(stats.summary())
            res = evaluate(con, truth)
    else:
        con = duckdb.connect(str(db), read_only=True)
        try:
            res = evaluate(con, truth)
        finally:
            con.close()
    print(format_report(res))
    if args.json:
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
