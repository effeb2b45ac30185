"""Formatted Excel tables for people (xlsxwriter): Chinese headers, frozen header, autofilter, column widths.

Every string cell goes through :func:`fangpin.reports.safe.safe_text` and ``write_string``; numbers and dates are
written as numbers and dates. Nothing from an input is ever written as a formula.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Sequence

import xlsxwriter

from fangpin.reports.safe import safe_text


@dataclass(frozen=True)
class Col:
    header: str
    key: str
    width: float = 12
    kind: str = "text"   # text | money | number | int | date | wrap


class Book:
    """A workbook with shared formats. Use as a context manager; ``table`` adds one formatted sheet."""

    def __init__(self, path):
        self.path = path
        self.wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                                  "strings_to_numbers": False})
        # a fixed creation date keeps reruns byte-stable (SPEC §9: the same round gives the same outputs)
        self.wb.set_properties({"created": dt.datetime(2000, 1, 1), "author": "fangpin 防贫监测"})
        f = self.wb.add_format
        self.fmt = {
            "header": f({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter", "align": "center"}),
            "title": f({"bold": True, "font_size": 13}),
            "note": f({"italic": True, "font_color": "#555555"}),
            "text": f({"valign": "top"}),
            "wrap": f({"text_wrap": True, "valign": "top"}),
            "money": f({"num_format": "#,##0.00", "valign": "top"}),
            "number": f({"num_format": "0.0", "valign": "top"}),
            "int": f({"num_format": "0", "valign": "top"}),
            "date": f({"num_format": "yyyy-mm-dd", "valign": "top"}),
            "fill": f({"bg_color": "#FFF2CC", "border": 1, "valign": "top"}),
        }

    def __enter__(self) -> "Book":
        return self

    def __exit__(self, *exc) -> None:
        self.wb.close()

    def table(self, sheet_name: str, cols: Sequence[Col], rows: Sequence[dict[str, Any]], *,
              title: str | None = None, notes: Sequence[str] = (), fill_keys: Sequence[str] = ()) -> None:
        ws = self.wb.add_worksheet(sheet_name[:31])
        r = 0
        if title:
            ws.write_string(r, 0, safe_text(title), self.fmt["title"])
            r += 1
        for note in notes:
            ws.write_string(r, 0, safe_text(note), self.fmt["note"])
            r += 1
        header_row = r
        for c, col in enumerate(cols):
            ws.write_string(header_row, c, col.header, self.fmt["header"])
            ws.set_column(c, c, col.width, self.fmt["wrap"] if col.kind == "wrap" else None)
        ws.set_row(header_row, 30)
        for i, row in enumerate(rows, start=header_row + 1):
            for c, col in enumerate(cols):
                self._cell(ws, i, c, row.get(col.key), col, col.key in fill_keys)
        last = header_row + max(len(rows), 1)
        ws.autofilter(header_row, 0, last, max(len(cols) - 1, 0))
        ws.freeze_panes(header_row + 1, 0)

    def _cell(self, ws, r: int, c: int, value: Any, col: Col, fill: bool) -> None:
        fmt = self.fmt["fill"] if fill else self.fmt.get(col.kind, self.fmt["text"])
        if value is None or (isinstance(value, float) and math.isnan(value)):
            ws.write_blank(r, c, None, fmt)
        elif isinstance(value, bool):
            ws.write_string(r, c, "是" if value else "否", fmt)
        elif isinstance(value, (int, float)) and col.kind in ("money", "number", "int"):
            ws.write_number(r, c, float(value), fmt)
        elif isinstance(value, (dt.date, dt.datetime)) and col.kind == "date":
            if not isinstance(value, dt.datetime):
                value = dt.datetime(value.year, value.month, value.day)
            ws.write_datetime(r, c, value, fmt)
        elif isinstance(value, (list, tuple)):
            ws.write_string(r, c, safe_text("、".join(str(v) for v in value if v is not None)), fmt)
        else:
            ws.write_string(r, c, safe_text(value if isinstance(value, str) else str(value)), fmt)
