"""Write a table as a clerk's system would: CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX with title rows above the header.

Deterministic: the same input gives byte-identical files (XLSX: :mod:`fangpin.synth.xlsx`, fixed timestamps).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from fangpin.synth.xlsx import write_xlsx

FORMATS = ("xlsx", "csv_utf8", "csv_bom", "csv_gbk")
FIXED_TIME = dt.datetime(2026, 1, 1, 8, 0, 0)


@dataclass
class Col:
    header: str
    text: pl.Series  # String: the cell text (CSV, and XLSX text cells); "" or null = empty
    number: np.ndarray | None = None  # float or NaN per row: XLSX numeric cell when not NaN
    date_cell: bool = False  # XLSX: numbers are Excel serial dates shown with a date format


def ext(fmt: str) -> str:
    return "xlsx" if fmt == "xlsx" else "csv"


def encoding(fmt: str) -> str:
    return {"xlsx": "xlsx", "csv_utf8": "utf-8", "csv_bom": "utf-8-sig", "csv_gbk": "gbk"}[fmt]


def write_table(
    path: Path,
    fmt: str,
    titles: list[str],
    cols: list[Col],
    total: dict[str, tuple[str, float | None]] | None,
    sheet: str = "Sheet1",
) -> dict:
    """Write and describe the file: rows before the data, data rows, whether a 合计 row follows."""
    n = len(cols[0].text) if cols else 0  # data rows
    if fmt == "xlsx":
        _write_xlsx(path, titles, cols, total, sheet)
        title_rows = len(titles)
    else:
        if titles:
            raise ValueError("CSV files are written without title rows")
        _write_csv(path, fmt, cols, total)
        title_rows = 0
    return {
        "file": path.name,
        "format": fmt,
        "encoding": encoding(fmt),
        "title_rows": title_rows,
        "header_row": title_rows + 1,
        "first_data_row": title_rows + 2,
        "data_rows": n,
        "total_row": total is not None,
    }


def _write_csv(path: Path, fmt: str, cols: list[Col], total) -> None:
    df = pl.DataFrame([c.text.alias(c.header).cast(pl.String) for c in cols])
    if total is not None:
        row = pl.DataFrame(
            {c.header: [total.get(c.header, ("", None))[0]] for c in cols}, schema={c.header: pl.String for c in cols}
        )
        df = pl.concat([df, row])
    df = df.with_columns(pl.when(pl.all() != "").then(pl.all()))  # empty text → empty field (not "")
    if fmt == "csv_gbk":
        path.write_bytes(df.write_csv(null_value="", line_terminator="\r\n").encode("gbk"))
    else:
        df.write_csv(path, null_value="", include_bom=fmt == "csv_bom")


def _write_xlsx(path: Path, titles: list[str], cols: list[Col], total, sheet: str) -> None:
    write_xlsx(
        path,
        titles,
        [c.header for c in cols],
        [c.text for c in cols],
        [c.number for c in cols],
        [c.date_cell for c in cols],
        None if total is None else [total.get(c.header, ("", None)) for c in cols],
        [max(8, min(40, 2 * len(c.header) + 4)) for c in cols],
        sheet,
        FIXED_TIME,
    )
