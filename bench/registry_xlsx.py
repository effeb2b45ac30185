"""Re-write a city's registry exports as per-county xlsx workbooks, the shape the national system exports (issue 17).

    python bench/registry_xlsx.py --home DIR        # landing/registry/*.csv → *.xlsx (the CSVs are removed)

Every person-level registry CSV in ``<home>/landing/registry/`` becomes one workbook with a title row, the same
header and the same cell texts (amounts and counts as number cells, as the national export writes them); the village
table is left as it is. Used by ``bench/ingest_throughput.py --city`` until the generator writes this shape itself.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fangpin.reports.xlsx import Book, Col

NUMBERS = {"人均纯收入（元）": "money", "家庭人口数": "int"}


def convert(csv_path: Path) -> Path:
    frame = pl.read_csv(csv_path, infer_schema=False, encoding="utf8-lossy")
    frame = frame.with_columns([pl.col(c).cast(pl.Float64, strict=False) for c in NUMBERS if c in frame.columns])
    out = csv_path.with_suffix(".xlsx")
    cols = [Col(c, c, 14, NUMBERS.get(c, "text")) for c in frame.columns]
    county = csv_path.stem.split("_")[-1]
    with Book(out) as book:
        book.table("Sheet1", cols, frame, title=f"防止返贫监测对象信息（柳州市{county}）")
    csv_path.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True, type=Path)
    args = ap.parse_args()
    folder = args.home / "landing" / "registry"
    for p in sorted(folder.glob("*.csv")):
        if "行政村" in p.name:
            continue
        out = convert(p)
        print(f"{out.name}: {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
