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

import polars as pl

from warehouse.runner import Handle, runner_for

LINKED = ("id_exact", "id_repaired", "fuzzy")
#: the columns _metrics counts, in its order
COUNTED = ["linked", "correct", "has_true", "match_method", "id_exact"]
NO_USABLE_ID = ~pl.coalesce(pl.col("id_status"), pl.lit("missing")).is_in(["valid", "converted15"])


def _outcomes(wh: Handle, truth: pl.DataFrame) -> pl.DataFrame:
    """Each truth record with its link (step ``linkage/evaluate.outcomes``) and whether the link is right.

    ``correct`` keeps SQL's three-valued logic: null when the link names a person but the truth has none (or the
    household the truth lacks); such a row is counted neither right nor, in ``linked AND NOT correct``, wrong."""
    wh = runner_for(wh)
    with wh.attached("_ev_truth", truth):
        ev = wh.frame("linkage/evaluate.outcomes")
    method = pl.col("match_method")
    return ev.with_columns(
        no_link_row=method.is_null(),
        linked=method.is_in(LINKED),
        has_true=pl.col("true_id_number").is_not_null() | pl.col("true_household_id").is_not_null(),
        correct=pl.when(~method.is_in(LINKED) | method.is_null())
        .then(False)
        .when(pl.col("id_number").is_not_null())
        .then(pl.col("id_number") == pl.col("true_id_number"))
        .otherwise(pl.col("household_id") == pl.col("true_household_id")),
    )


def _metrics(frame: pl.DataFrame) -> dict[str, float | int]:
    n = tp = fp = fn = tn = review = wrong_exact = 0
    for linked, correct, has_true, method, id_exact in frame.select(COUNTED).iter_rows():
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


def _counts(frame: pl.DataFrame, column: str) -> dict:
    """Rows per value of ``column``, by value."""
    return dict(sorted(frame.group_by(column).len().rows()))


def _values(frame: pl.DataFrame, column: str) -> list:
    return sorted(frame[column].drop_nulls().unique().to_list())


def evaluate(wh: Handle, truth: Path) -> dict:
    ev = _outcomes(wh, pl.read_parquet(truth))
    out: dict = {}
    out["missing_link_rows"] = int(ev["no_link_row"].sum())
    ev = ev.filter(~pl.col("no_link_row"))  # truth rows the loader rejected or folded (not linkage's)
    out["overall"] = _metrics(ev)
    out["per_feed"] = {src: _metrics(ev.filter(pl.col("source") == src)) for src in _values(ev, "source")}
    noise = pl.col("noise")
    ev_noise = ev.with_columns(
        noise_type=pl.when(noise.is_null() | (noise.list.len() == 0))
        .then(pl.lit(["clean"], dtype=pl.List(pl.String)))
        .otherwise(noise)
    ).explode("noise_type")
    out["per_noise"] = {
        nt: _metrics(ev_noise.filter(pl.col("noise_type") == nt)) for nt in _values(ev_noise, "noise_type")
    }
    out["no_usable_id"] = _metrics(ev.filter(NO_USABLE_ID))
    out["id_missing_or_mangled"] = _metrics(
        ev.filter(pl.coalesce(pl.col("id_status"), pl.lit("missing")).is_in(["missing", "mangled", "bad_length"]))
    )
    out["exact_valid_id"] = _metrics(ev.filter(pl.col("id_exact")))
    out["namesake_wrong_links"] = ev_noise.filter(
        (pl.col("noise_type") == "namesake") & pl.col("linked") & ~pl.col("correct")
    ).height
    out["targets"] = _targets(ev, truth)
    out["methods"] = _counts(ev.with_columns(pl.col("match_method").fill_null("-")), "match_method")
    out["errors_by_method"] = _counts(ev.filter(pl.col("linked") & ~pl.col("correct")), "match_method")
    return out


def _unique_names(ev: pl.DataFrame, persons: Path) -> pl.DataFrame:
    """``ev`` with ``unique_name``: whether the true person's name is unique in their township (see the docstring)."""
    if "name_unique_in_township" in ev.columns:
        return ev.with_columns(unique_name=pl.col("name_unique_in_township"))
    if persons.exists():
        p = pl.read_parquet(persons, columns=["id_number", "township_code", "name"]).select(
            "id_number", unique_name=pl.len().over("township_code", "name") == 1
        )
        return ev.join(p, left_on="true_id_number", right_on="id_number", how="left")
    return ev.with_columns(unique_name=pl.lit(None, dtype=pl.Boolean))


def _targets(ev: pl.DataFrame, truth: Path) -> dict:
    """Issue 12's linkage figures (see the module docstring)."""
    persons = truth.parent / "persons.parquet"
    ev_x = _unique_names(ev, persons)
    kind = pl.col("outsider_kind") if "outsider_kind" in ev.columns else pl.lit("outsider")
    ev_out = ev.filter(~pl.col("has_true")).select("source", "linked", kind=pl.coalesce(kind, pl.lit("outsider")))
    no_id = NO_USABLE_ID

    def m(where: pl.Expr) -> dict:
        return _metrics(ev_x.filter(where))

    def share(where: pl.Expr) -> dict:
        sel = ev_out.filter(where)
        n, k = sel.height, int(sel["linked"].sum())
        return {"records": n, "linked": k, "share": k / n if n else 0.0}

    unique = m(no_id & pl.col("has_true") & pl.col("unique_name"))
    hom = pl.col("noise").list.contains("homophone")
    out = {
        "f1": round(m(pl.lit(True))["f1"], 6),
        "no_id_unique_name_recall": unique["recall"],
        "no_id_unique_name_records": unique["records"],
        "homophone_recall": m(hom)["recall"],
        "homophone_no_id_recall": m(hom & no_id)["recall"],
        "wrong_links_clean_valid_id": m(pl.col("id_exact"))["wrong_links_exact_id"],
        "outsiders": share(pl.lit(True)),
        "outsiders_by_kind": {k: share(pl.col("kind") == k) for k in _values(ev_out, "kind")},
        "outsiders_by_feed": {s: share(pl.col("source") == s) for s in _values(ev_out, "source")},
        "review_per_feed": _counts(ev.filter(pl.col("match_method") == "review"), "source"),
    }
    out["review_total"] = sum(out["review_per_feed"].values())
    if persons.exists():
        n = pl.read_parquet(persons, columns=["township_code", "name"]).select(
            pl.len().over("township_code", "name").alias("n")
        )["n"]
        out["namesake_share"] = float((n > 1).sum() / n.len()) if n.len() else None
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
    from warehouse.engine import session

    with session(db, read_only=not args.run) as wh:
        if args.run:
            from warehouse.linkage import link_records

            stats = link_records(wh, home)
            print(stats.summary())
        res = evaluate(wh, truth)
    print(format_report(res))
    if args.json:
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
