"""Formatted Excel tables for people (xlsxwriter): Chinese headers, frozen header, autofilter, column widths, and a
page set-up that prints: landscape A4, one page wide, the header row on every page, page numbers, grid lines, row
heights that show wrapped text, and dropdowns (data validation with an input message) on the columns to fill in.

Every string cell goes through :func:`fangpin.reports.safe.safe_text` and is written as a string; numbers and dates
are written as numbers and dates. Nothing from an input is ever written as a formula.

Row heights: neither LibreOffice nor WPS sizes a row to its wrapped text when a file is opened (Excel does only
for rows it lays out itself), so every row whose wrapped cells need more than one line gets an explicit height,
estimated from the text and the column width (:func:`text_lines`: a CJK character is about two column units; for
the rows of a Polars frame the same arithmetic runs as a Polars expression).

Speed: xlsxwriter keeps every cell as an object and turns it into XML in Python (≈ 8 µs a cell); a city round
writes a few million cells. So the title, notes and header of a table go through xlsxwriter (formats, widths,
autofilter, frozen panes, print setup all stay its business), while the data rows are rendered straight to the
sheet's XML in one pass by :class:`_TableSheet` (inline strings, the same cell types and formats) — about six
times faster, with the same workbook for a reader.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from fangpin.domain.verification import DATE_RANGE
from fangpin.reports.safe import safe_text


@dataclass(frozen=True)
class Fill:
    """What a person writes into a fill-in column: a dropdown (``choices``), a date, a whole number in a range, or
    free text — always with an input message (``prompt``, shown when the cell is selected)."""

    prompt: str
    choices: tuple[str, ...] = ()
    date: bool = False
    whole: tuple[int, int] | None = None

    def validation(self, header: str) -> dict:
        title = header[:32]
        message = self.prompt[:255]
        if self.choices:
            opts = {"validate": "list", "source": list(self.choices)}
            error = "请从下拉列表中选择：" + "、".join(self.choices)
        elif self.date:
            lo, hi = DATE_RANGE
            opts = {"validate": "date", "criteria": "between", "minimum": lo, "maximum": hi}
            error = f"请填写{lo.year}—{hi.year}年之间的日期，如 2026-10-12"
        elif self.whole:
            opts = {"validate": "integer", "criteria": "between", "minimum": self.whole[0], "maximum": self.whole[1]}
            error = f"请填写{self.whole[0]}—{self.whole[1]}之间的整数"
        else:
            return {"validate": "any", "input_title": title, "input_message": message}
        return opts | {
            "input_title": title,
            "input_message": message,
            "error_title": title,
            "error_message": error[:255],
            "error_type": "stop",
        }


@dataclass(frozen=True)
class Col:
    """One column: header, key of the row value, width (Excel character units), kind of value, and for columns a
    person fills in, what goes in (``fill``). ``screen_only`` columns come last and are left out of the printout
    (they stay in the workbook for filtering and programs)."""

    header: str
    key: str
    width: float = 12
    kind: str = "text"  # text | wrap (long text, wrapped) | money | number | int | percent | date
    fill: Fill | None = None
    screen_only: bool = False


#: A fill-in column named in ``fill_keys`` without its own :class:`Fill`.
FREE_TEXT = Fill("请填写本栏。")

# page geometry (points): what LibreOffice/WPS/Excel need per line of 11-pt text, CJK fonts included
LINE_PT = 15.0
PAD_PT = 3.0
MAX_ROW_PT = 409.0  # Excel's limit
CJK_UNITS = 2.0  # column units taken by one CJK character (a digit or Latin letter takes one)


def display_width(text: str) -> float:
    """Width of ``text`` in column units: a character of three UTF-8 bytes (CJK, full-width punctuation) counts
    :data:`CJK_UNITS`, anything else one. Computed from the encoded length (no per-character Python loop)."""
    chars = len(text)
    wide = (len(text.encode("utf-8")) - chars) / 2
    return chars + wide * (CJK_UNITS - 1)


def text_lines(text: str, width: float) -> int:
    """Lines ``text`` takes wrapped in a cell ``width`` units wide (explicit line breaks kept)."""
    per_line = max(width - 1.0, 1.0)  # cell padding
    if "\n" not in text:
        return max(1, math.ceil(display_width(text) * 1.05 / per_line))
    return sum(max(1, math.ceil(display_width(line) * 1.05 / per_line)) for line in text.split("\n"))


def row_height(lines: int) -> float:
    return min(MAX_ROW_PT, lines * LINE_PT + PAD_PT)


#: a workbook with up to this many table rows is assembled in memory (xlsxwriter otherwise writes every part to a
#: temporary file and deletes it: ≈ 3 ms a part on the overlay file systems of containers, 11 parts a workbook)
IN_MEMORY_ROWS = 100_000
#: rows a worksheet can hold (Excel's limit): a longer table continues on further sheets (:meth:`Book.table`)
SHEET_ROWS = 1_048_576


class Book:
    """A workbook with shared formats. Use as a context manager; ``table`` adds one formatted sheet. ``rows``: how
    many table rows the workbook will hold, if known (a large one keeps its parts in temporary files, not memory)."""

    def __init__(self, path, rows: int = 0):
        self.path = path
        self.wb = xlsxwriter.Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "in_memory": rows <= IN_MEMORY_ROWS,
            },
        )
        # a fixed creation date keeps reruns byte-stable (SPEC §9: the same round gives the same outputs)
        self.wb.set_properties({"created": dt.datetime(2000, 1, 1), "author": "fangpin 防贫监测"})
        f = self.wb.add_format
        fill = {"bg_color": "#FFF2CC", "border": 1, "valign": "top", "text_wrap": True}
        self.fmt = {
            "header": f(
                {
                    "bold": True,
                    "bg_color": "#DDEBF7",
                    "border": 1,
                    "text_wrap": True,
                    "valign": "vcenter",
                    "align": "center",
                }
            ),
            "title": f({"bold": True, "font_size": 13, "valign": "top"}),
            "note": f({"italic": True, "font_color": "#555555", "text_wrap": True, "valign": "top"}),
            "empty": f({"bold": True, "font_color": "#A50021", "text_wrap": True, "valign": "top"}),
            "text": f({"valign": "top"}),
            "wrap": f({"text_wrap": True, "valign": "top"}),
            "money": f({"num_format": "#,##0.00", "valign": "top"}),
            "number": f({"num_format": "0.0", "valign": "top"}),
            "int": f({"num_format": "0", "valign": "top"}),
            "percent": f({"num_format": "0%", "valign": "top"}),
            "date": f({"num_format": "yyyy-mm-dd", "valign": "top"}),
            "fill": f(fill),
            "fill_date": f(fill | {"num_format": "yyyy-mm-dd"}),
        }

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc) -> None:
        self.wb.close()

    def table(
        self,
        sheet_name: str,
        cols: Sequence[Col],
        rows: Sequence[dict[str, Any]] | pl.DataFrame,
        *,
        title: str | None = None,
        notes: Sequence[str] = (),
        fill_keys: Sequence[str] = (),
        empty: str | None = None,
    ) -> Worksheet:
        """One sheet: title, notes, header, then ``rows`` (dicts, or a Polars frame — large tables are best passed
        as a frame: it becomes Python values a slice at a time). ``empty`` says why the table has no rows (shown
        above the header when it has none). Columns with a ``fill`` (or named in ``fill_keys``) are shaded and get
        their validation. Returns the worksheet (for extra settings above the header)."""
        n_rows = rows.height if isinstance(rows, pl.DataFrame) else len(rows)
        room = SHEET_ROWS - (1 if title else 0) - len(notes) - 1  # below the title, the notes and the header
        if n_rows > room:  # each part gets one more note, saying which rows it holds
            return self._continued(sheet_name, cols, rows, n_rows, room - 1, title, notes, fill_keys)
        ws = self.wb.add_worksheet(sheet_name[:31], worksheet_class=_TableSheet)
        fills = {c.key: (c.fill or FREE_TEXT) for c in cols if c.fill or c.key in fill_keys}
        printed = [c for c in cols if not c.screen_only]
        if any(c.screen_only for c in cols[: len(printed)]):
            raise ValueError(f"{sheet_name}: screen-only columns must come after every printed column")
        span = len(printed) - 1
        span_width = sum(c.width for c in printed)

        r = 0
        lines = []
        if title:
            lines.append((title, "title"))
        lines += [(note, "note") for note in notes]
        if not n_rows:
            lines.append(("本表没有记录：" + (empty or "本次没有需要列出的内容。"), "empty"))
        for text, style in lines:
            self._wide_text(ws, r, span, safe_text(text), self.fmt[style])
            height = text_lines(text, span_width * (0.8 if style == "title" else 1.0))
            if height > 1 or style == "title":
                ws.set_row(r, row_height(height) + (4 if style == "title" else 0))
            r += 1
        header_row = r
        for c, col in enumerate(cols):
            ws.write_string(header_row, c, col.header, self.fmt["header"])
            ws.set_column(c, c, col.width, self.fmt["wrap"] if col.kind == "wrap" else None)
        ws.set_row(header_row, max(30.0, row_height(max(text_lines(c.header, c.width) for c in cols))))
        formats = [self._body_format(col, col.key in fills) for col in cols]
        n = ws.add_rows(header_row + 1, cols, formats, rows)
        last = header_row + max(n, 1)
        if n:
            for c, col in enumerate(cols):
                if col.key in fills:
                    ws.data_validation(header_row + 1, c, header_row + n, c, fills[col.key].validation(col.header))
        ws.autofilter(header_row, 0, last, max(len(cols) - 1, 0))
        ws.freeze_panes(header_row + 1, 0)
        self._print_setup(ws, header_row, title or sheet_name)
        if len(printed) < len(cols):
            ws.print_area(0, 0, last, span)
        return ws

    def _continued(self, sheet_name, cols, rows, n_rows, room, title, notes, fill_keys) -> Worksheet:
        """A table longer than a sheet holds: the same title, notes and header on each of several sheets
        (``名称``, ``名称（续2）``, …), each saying which rows it holds. Returns the first sheet."""
        parts = math.ceil(n_rows / room)
        first = None
        for i in range(parts):
            lo, hi = i * room, min(n_rows, (i + 1) * room)
            suffix = "" if i == 0 else f"（续{i + 1}）"
            note = f"本表共 {n_rows:,} 行，超出一张工作表能容纳的行数，分 {parts} 张工作表：本张为第 {i + 1} 张（第 {lo + 1:,}–{hi:,} 行）。"
            ws = self.table(
                sheet_name[: 31 - len(suffix)] + suffix,
                cols,
                rows[lo:hi],
                title=title,
                notes=[*notes, note],
                fill_keys=fill_keys,
            )
            first = first or ws
        return first

    def _body_format(self, col: Col, fill: bool):
        if fill:
            return self.fmt["fill_date"] if (col.fill and col.fill.date) else self.fmt["fill"]
        return self.fmt.get(col.kind, self.fmt["text"])

    @staticmethod
    def _wide_text(ws: Worksheet, row: int, span: int, text, fmt) -> None:
        """A title or note across the printed columns (merged, so it wraps within the page width)."""
        if span > 0:
            ws.merge_range(row, 0, row, span, text, fmt)
        else:
            ws.write_string(row, 0, text, fmt)

    @staticmethod
    def _print_setup(ws: Worksheet, header_row: int, title: str) -> None:
        print_setup(ws, header_row, title)


def print_setup(ws: Worksheet, header_row: int | None, title: str | None = None, *, landscape: bool = True) -> None:
    """The page set-up every workbook for people uses: A4, landscape, one page wide (as many pages tall as needed),
    the header row repeated on every page, the list's title top left and 第 n 页，共 m 页 at the foot, grid lines."""
    if landscape:
        ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    if header_row is not None:
        ws.repeat_rows(header_row)
    ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
    ws.center_horizontally()
    ws.hide_gridlines(0)  # show and print the grid: a wide row is read across its cells
    if title:
        ws.set_header("&L" + title.replace("&", "&&")[:200], {"margin": 0.3})
    ws.set_footer("&C第 &P 页，共 &N 页", {"margin": 0.3})


# ------------------------------------------------------------------------------------------- data rows as XML

_XML_SPECIAL = re.compile(r"[&<>]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_EXCEL_EPOCH = dt.datetime(1899, 12, 31)
MAX_STRING = 32767  # Excel's cell limit; xlsxwriter truncates the same way
_CHUNK = 5000  # rows rendered per write to the body's temporary file
_SLICE = 50_000  # rows of a Polars frame turned into Python values at a time
_NUMERIC = ("money", "number", "int", "percent")


def _escape(text: str) -> str:
    """Cell text for the XML stream, as xlsxwriter escapes it (control characters as _xHHHH_)."""
    if _CONTROL.search(text):
        text = _CONTROL_ESCAPE.sub(r"_x005F\1", text)
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    if _XML_SPECIAL.search(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _excel_serial(value: dt.date) -> float:
    """Excel's serial day number (1900 system, with its phantom 1900-02-29), as xlsxwriter computes it."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    elif value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    delta = value - _EXCEL_EPOCH
    serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    return serial + 1 if serial > 59 else serial


def _text(value: Any) -> str:
    """The text a non-numeric value shows (lists joined with 、, flags as 是/否)."""
    if value.__class__ is str:  # by far the most common: no other test
        return str(safe_text(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return str(safe_text("、".join(str(v) for v in value if v is not None)))
    return str(safe_text(value if isinstance(value, str) else str(value)))


def _cell_xml(ref: str, style: str, value: Any, kind: str) -> str:
    """One ``<c>`` element: what :meth:`Book.table` promises for a value in a column of ``kind``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f'<c r="{ref}"{style}/>'
    if value.__class__ is not str:
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and kind in _NUMERIC:
            return f'<c r="{ref}"{style}><v>{float(value):.16G}</v></c>'
        if isinstance(value, (dt.date, dt.datetime)) and kind == "date":
            return f'<c r="{ref}"{style}><v>{_excel_serial(value):.16G}</v></c>'
    text = _text(value)
    if not text:
        return f'<c r="{ref}"{style}/>'
    text = _escape(text[:MAX_STRING])
    space = ' xml:space="preserve"' if (text[0].isspace() or text[-1].isspace()) else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _lines_of(value: Any, width: float) -> int:
    if value is None or isinstance(value, (int, float, Decimal, dt.date)):
        return 1
    return text_lines(_text(value)[:MAX_STRING], width)


_LINES = "__lines__"  # the column the frame path adds: lines the row's tallest wrapped cell needs


def _lines_expr(name: str, dtype: pl.DataType, width: float) -> pl.Expr:
    """:func:`text_lines` of every cell of a column, in Polars (the same arithmetic, per explicit line)."""
    col = pl.col(name)
    if isinstance(dtype, (pl.List, pl.Array)):
        text = col.list.eval(pl.element().cast(pl.String)).list.drop_nulls().list.join("、")
    else:
        text = col.cast(pl.String)
    per_line = max(width - 1.0, 1.0)
    line = pl.element()
    chars = line.str.len_chars().cast(pl.Float64)
    width_units = chars + (line.str.len_bytes().cast(pl.Float64) - chars) / 2 * (CJK_UNITS - 1)
    per = (width_units * 1.05 / per_line).ceil().clip(lower_bound=1)
    return text.str.split("\n").list.eval(per).list.sum().fill_null(1).cast(pl.Int64)


def _dict_slices(
    rows: Sequence[dict[str, Any]] | pl.DataFrame, wrapped: Sequence[tuple[str, float]]
) -> Iterator[Sequence[dict[str, Any]]]:
    """Rows as dicts a slice at a time; from a frame with the ``__lines__`` of each row computed by Polars."""
    if isinstance(rows, pl.DataFrame):
        present = [(k, w) for k, w in wrapped if k in rows.columns]
        exprs = [_lines_expr(k, rows.schema[k], w) for k, w in present]
        for part in rows.iter_slices(_SLICE):
            if exprs:
                part = part.with_columns(pl.max_horizontal(exprs).alias(_LINES))
            yield part.to_dicts()
    elif rows:
        yield rows


class _TableSheet(Worksheet):
    """A worksheet whose table body is rendered straight to XML (:meth:`add_rows`) into a temporary file (memory stays
    bounded however long the table); everything above it — title, notes, header — and all sheet settings stay with
    xlsxwriter. The body must be the last rows of the sheet."""

    def __init__(self) -> None:
        super().__init__()
        self._body: IO[str] | None = None
        self._body_first: int | None = None

    def add_rows(
        self, first_row: int, cols: Sequence[Col], formats: Sequence[Any], rows: Sequence[dict[str, Any]] | pl.DataFrame
    ) -> int:
        """Render the body; returns the number of rows. A row whose wrapped cells need several lines gets the
        height that shows them."""
        if self._body_first is not None:
            raise RuntimeError("a table sheet holds one table body")
        specs = [
            (xl_col_to_name(c), f' s="{fmt._get_xf_index()}"', col.key, col.kind)
            for c, (col, fmt) in enumerate(zip(cols, formats))
        ]
        wrapped = [(col.key, col.width) for col in cols if col.kind == "wrap"]
        spans = f"1:{len(cols)}"
        n = first_row  # XML row numbers are 1-based: row index n is XML row n + 1
        for part in _dict_slices(rows, wrapped):
            if self._body is None:
                self._body = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
            for start in range(0, len(part), _CHUNK):
                lines = []
                for row in part[start : start + _CHUNK]:
                    n += 1
                    get = row.get
                    height = get(_LINES)
                    if height is None:
                        height = max([_lines_of(get(key), width) for key, width in wrapped], default=1)
                    tall = f' ht="{row_height(height):.16g}" customHeight="1"' if height > 1 else ""
                    lines.append(
                        f'<row r="{n}" spans="{spans}"{tall}>'
                        + "".join(
                            [_cell_xml(f"{letter}{n}", style, get(key), kind) for letter, style, key, kind in specs]
                        )
                        + "</row>"
                    )
                self._body.write("".join(lines))
        count = n - first_row
        if n > SHEET_ROWS:  # Book.table splits long tables first: past Excel's limit the file would not open
            raise ValueError(
                f"a table body of {count} rows from row {first_row + 1} exceeds a sheet's {SHEET_ROWS} rows"
            )
        if count:
            self._body_first = first_row
            self._check_dimensions(first_row + count - 1, len(cols) - 1)
        return count

    def _write_rows(self) -> None:
        if self._body_first is None or self._body is None:
            super()._write_rows()
            return
        clash = [r for r in self.row_info if r >= self._body_first] + [
            r for r, cells in self.table.items() if cells and r >= self._body_first
        ]
        if clash:
            # the body is written as it was rendered: a later write into its rows would be lost, so refuse loudly
            raise RuntimeError(f"cells or row settings were added inside a table body (rows {sorted(clash)[:5]})")
        top = self.dim_rowmax
        self.dim_rowmax = self._body_first - 1
        try:
            super()._write_rows()
        finally:
            self.dim_rowmax = top
        self._body.seek(0)
        shutil.copyfileobj(self._body, self.fh, 1 << 20)
        self._body.close()
        self._body = None
