"""The floor: what any implementation must at least spend on the same landing files.

    python bench/floor.py --home DIR [--json out.json]

DuckDB alone (plus the decoding DuckDB cannot do offline), no validation, no normalisation, no linkage beyond an
exact join, no reports:

1. read every registry export and department extract in ``<home>/landing/`` — UTF-8 CSV (with or without BOM) with
   DuckDB's own ``read_csv``; GBK CSV decoded by Polars (``read_csv(encoding="gbk")``: DuckDB's GBK support is an
   extension downloaded at run time, unavailable offline) and XLSX by fastexcel (DuckDB cannot read XLSX offline),
   each handed to DuckDB as Arrow;
2. keep per file only what the join and the sums need: the ID number (text, trimmed — no other normalisation) and,
   registry: the household number; department rows: the amount of the feed (医保 out-of-pocket, 受灾 direct loss,
   民政 aid amount, 人社 previous monthly income), cast with ``TRY_CAST`` (unreadable → null);
3. exact-ID join of the department rows to the registry persons and per-household sums of the amounts (and row
   counts), materialised as a table.

Which column holds the ID / household / amount is decided by the header aliases the pipeline uses
(``fangpin/config/aliases.yaml``, by ``sources.spec``) on the first rows of each file — a few milliseconds per file.
The village table (registry folder, no ID column) is not needed and is skipped.

This script runs its SQL on a raw DuckDB connection on purpose, outside the step runner (warehouse/runner.py): it
is the baseline the product is measured against, not part of the product, and must not pay for the runner's
rendering, timing or engine seam.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

T_PROCESS = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb  # noqa: E402
import polars as pl  # noqa: E402
from _measure import Recorder, emit, loadavg  # noqa: E402

AMOUNT = {
    "medical": "out_of_pocket",
    "disaster": "direct_loss",
    "civil_affairs": "amount",
    "employment": "previous_monthly_income",
    "property": None,
}
FEEDS = ("registry", "medical", "disaster", "civil_affairs", "employment", "property")


def _is_utf8(path: Path) -> bool:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _head(path: Path, kind: str, encoding: str) -> list[list[str]]:
    if kind == "xlsx":
        import fastexcel

        sheet = fastexcel.read_excel(path.read_bytes()).load_sheet(0, header_row=None, n_rows=30, dtypes="string")
        return [[("" if v is None else str(v)) for v in row] for row in sheet.to_polars().iter_rows()]
    with open(path, encoding="utf-8-sig" if encoding == "utf-8" else "gb18030", errors="replace") as fh:
        return [next(fh, "").rstrip("\r\n").split(",") for _ in range(30)]


def _columns(head: list[list[str]], feed: str, specs) -> tuple[int, dict[str, int]] | None:
    """(header row index, {field: column index}) for the fields the floor needs, or None (not a person file)."""
    want = {"id_number"} | ({"household_id"} if feed == "registry" else ({AMOUNT[feed]} - {None}))
    for i, row in enumerate(head):
        for spec in specs:
            if spec.table not in ("registry_person", "dept_record"):
                continue
            found: dict[str, tuple[int, int]] = {}
            for j, label in enumerate(row):
                f, rank = spec.match(label.strip().strip('"'))
                if f in want and (f not in found or rank < found[f][0]):
                    found[f] = (rank, j)
            if "id_number" in found and (feed != "registry" or "household_id" in found):
                return i, {f: j for f, (_, j) in found.items()}
    return None


def run(home: Path, threads: int | None = None) -> dict:
    from sources.spec import load_config

    rec = Recorder()
    cfg = load_config(home)
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("CREATE TABLE reg (id VARCHAR, household_id VARCHAR)")
    con.execute("CREATE TABLE rec (feed VARCHAR, id VARCHAR, amount DOUBLE)")
    files = {"duckdb_csv": 0, "polars_gbk_csv": 0, "fastexcel_xlsx": 0}
    t0 = time.perf_counter()
    with rec.stage("read"):
        for feed in FEEDS:
            folder = home / "landing" / feed
            if not folder.is_dir():
                continue
            specs = cfg.specs_for_folder(feed)
            for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~"))):
                kind = "xlsx" if path.read_bytes()[:4] == b"PK\x03\x04" else "csv"
                enc = "utf-8" if kind == "csv" and _is_utf8(path) else "gbk"
                hit = _columns(_head(path, kind, enc), feed, specs)
                if hit is None:
                    continue
                hdr, cols = hit
                amount = AMOUNT.get(feed)
                if kind == "csv" and enc == "utf-8":
                    files["duckdb_csv"] += 1
                    src = (
                        f"read_csv('{path}', header = false, skip = {hdr + 1}, all_varchar = true, "
                        f"delim = ',', quote = '\"', null_padding = true, ignore_errors = true)"
                    )
                    names = duckdb.sql(f"SELECT * FROM {src} LIMIT 0").columns
                    col = {f: names[j] for f, j in cols.items()}
                else:
                    if kind == "csv":
                        files["polars_gbk_csv"] += 1
                        df = pl.read_csv(
                            path,
                            encoding="gbk",
                            has_header=False,
                            skip_rows=hdr + 1,
                            infer_schema=False,
                            truncate_ragged_lines=True,
                        )
                    else:
                        import fastexcel

                        files["fastexcel_xlsx"] += 1
                        df = (
                            fastexcel.read_excel(path.read_bytes())
                            .load_sheet(0, header_row=None, skip_rows=hdr + 1, dtypes="string")
                            .to_polars()
                        )
                    arrow = df.select([pl.col(df.columns[j]).alias(f) for f, j in cols.items()]).to_arrow()
                    con.register("_f", arrow)
                    src, col = "_f", {f: f for f in cols}
                q = (
                    f'INSERT INTO reg SELECT trim("{col["id_number"]}"), "{col["household_id"]}" FROM {src}'
                    if feed == "registry"
                    else f"INSERT INTO rec SELECT '{feed}', trim(\"{col['id_number']}\"), "
                    + (f'TRY_CAST(trim("{col[amount]}") AS DOUBLE)' if amount in col else "NULL")
                    + f" FROM {src}"
                )
                con.execute(q)
                if src == "_f":
                    con.unregister("_f")
    with rec.stage("join_sum"):
        con.execute("""
            CREATE TABLE household_sum AS
            SELECT r.household_id, count(*) AS records, sum(d.amount) AS amount,
                   sum(d.amount) FILTER (WHERE d.feed = 'medical') AS medical,
                   sum(d.amount) FILTER (WHERE d.feed = 'disaster') AS disaster
            FROM rec d JOIN reg r ON r.id = d.id
            GROUP BY r.household_id
        """)
    wall = time.perf_counter() - t0
    rec.close()
    n_reg, n_rec, n_hh, n_matched = con.sql(
        "SELECT (SELECT count(*) FROM reg), (SELECT count(*) FROM rec), (SELECT count(*) FROM household_sum), "
        "(SELECT sum(records) FROM household_sum)"
    ).fetchall()[0]
    con.close()
    return {
        "wall_s": round(wall, 3),
        "process_wall_s": round(time.perf_counter() - T_PROCESS, 3),
        **rec.as_dict(),
        "files": files,
        "registry_rows": n_reg,
        "department_rows": n_rec,
        "households_with_records": n_hh,
        "records_joined": int(n_matched or 0),
        "load_end": loadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", required=True, type=Path)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    res = run(args.home.resolve(), args.threads)
    emit(res, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
