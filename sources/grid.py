"""Raw grids: a file's cells as text, one row per physical row, before anything is interpreted.

A grid is a Polars frame with String columns ``c0 … cN`` and ``_row`` (Int64): the row number a person sees — the
CSV line where the record starts, or the XLSX sheet row (1-based; leading empty rows kept, trailing ones dropped).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from sources.errors import UnreadableFile
from sources.xlsx_guard import ExcelLimits, SheetScan, inspect_xlsx

_DELIMS = (",", "\t", ";", "|")


@dataclass
class Grid:
    frame: pl.DataFrame
    kind: str  # csv | xlsx
    encoding: str | None = None
    sheet: str | None = None
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)
    may_be_damaged: bool = True  # False when the decoded text has no replacement character at all
    #: CSV only: the text does not end with a line break (the last line may have been cut off mid-row)
    unterminated: bool = False
    #: XLSX only: columns → Boolean Series "this cell is a number/bool cell, not text" (aligned with frame rows)
    numeric_probe: Callable[[list[int]], dict[int, pl.Series]] | None = None

    @property
    def rows_in_file(self) -> int:
        return self.frame.height

    @property
    def width(self) -> int:
        return self.frame.width - 1

    def head_rows(self, n: int) -> list[list[str | None]]:
        cols = [f"c{i}" for i in range(self.width)]
        return [list(r) for r in self.frame.head(n).select(cols).iter_rows()]


def _named(df: pl.DataFrame) -> pl.DataFrame:
    df = df.rename({c: f"c{i}" for i, c in enumerate(df.columns)})
    return df.with_columns(pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("_row"))


def _detect_delimiter(lines: list[str]) -> str:
    best, best_n = ",", 0
    for d in _DELIMS:
        n = max((ln.count(d) for ln in lines), default=0)
        if n > best_n:
            best, best_n = d, n
    return best


# ------------------------------------------------------------------------------------------------------------ CSV


def csv_grid(text: str, encoding: str, notes: list[str] | None = None, raw: bytes | None = None) -> Grid:
    """The grid of a decoded CSV/TSV text. ``raw``: the text's exact UTF-8 bytes when the file was UTF-8 already,
    parsed as they are (re-encoding and slicing a city-size text costs more than parsing it)."""
    notes = list(notes or [])
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # classic Mac line ends
        raw = None

    def body() -> str:  # the text without its final line end (a copy: only where the bytes will not do)
        return text[:-1] if text.endswith("\n") else text

    if raw is not None:  # parsed as they are: no copy of the whole file only to drop the final line end
        data = raw
        n_lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    else:
        data = body().encode("utf-8")
        n_lines = data.count(b"\n") + 1
    head = [ln for ln in _first_lines(text, 40) if ln.strip()]
    delim = _detect_delimiter(head)
    width = max((ln.count(delim) for ln in head), default=0) + 1
    frame = _polars_csv(data, delim, width)
    if frame is False:
        # a row further down has more cells than any of the first lines: size the grid to the widest line
        lines = pl.read_csv(
            data,
            has_header=False,
            separator="\x1f",
            quote_char=None,
            infer_schema=False,
            schema={"line": pl.String},
            missing_columns="insert",
            truncate_ragged_lines=True,
        )["line"]
        width = int(lines.str.count_matches(delim, literal=True).max() or 0) + 1
        frame = _polars_csv(data, delim, width)
    if frame is not None and frame is not False and frame.height != n_lines:
        frame = None  # a quoted field spans lines (or another oddity): count lines exactly below
    if frame is not None and frame is not False:
        df = _named(frame)
    else:
        df = _python_csv(body(), delim, width)
        if df.height != n_lines:
            notes.append(f"有{n_lines - df.height}处单元格内含换行，行号按每条记录开始的行计")
    if delim != ",":
        notes.append({"\t": "文件用制表符分隔列", ";": "文件用分号分隔列", "|": "文件用竖线分隔列"}[delim])
    damaged = "\ufffd" in text or "锟斤拷" in text
    unterminated = bool(text.strip()) and not text.endswith(("\n", "\r"))
    return Grid(
        df, "csv", encoding=encoding, delimiter=delim, notes=notes, may_be_damaged=damaged, unterminated=unterminated
    )


def _first_lines(text: str, n: int) -> list[str]:
    """The first ``n`` lines, without splitting (and so copying) the rest of a large text."""
    end = -1
    for _ in range(n):
        end = text.find("\n", end + 1)
        if end < 0:
            return text.split("\n")[:n]
    return text[:end].split("\n")


def _polars_csv(data: bytes, delim: str, width: int) -> pl.DataFrame | None | bool:
    """The grid by Polars; False when a line has more cells than ``width``; None when Polars cannot parse it."""
    try:
        return pl.read_csv(
            data,
            has_header=False,
            separator=delim,
            quote_char='"',
            schema={f"column_{i + 1}": pl.String for i in range(width)},
            missing_columns="insert",
            raise_if_empty=False,
        )
    except Exception as exc:
        return False if "more fields" in str(exc) else None


def _python_csv(body: str, delim: str, width: int) -> pl.DataFrame:
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delim, strict=False)
    rows: list[list[str | None]] = []
    starts: list[int] = []
    prev = 0
    for rec in reader:
        starts.append(prev + 1)
        prev = reader.line_num
        width = max(width, len(rec))
        rows.append([v if v != "" else None for v in rec])
    cols: dict[str, list[Any]] = {f"c{i}": [r[i] if i < len(r) else None for r in rows] for i in range(width)}
    cols["_row"] = starts
    return pl.DataFrame(cols, schema={**{f"c{i}": pl.String for i in range(width)}, "_row": pl.Int64})


# ----------------------------------------------------------------------------------------------------------- XLSX


def xlsx_grids(data: bytes, limits: ExcelLimits | None = None) -> Iterator[Grid]:
    """Every sheet with content, visible sheets first. Raises UnreadableFile(truncated|corrupt|encrypted|too_large).

    The workbook is checked first (:func:`sources.xlsx_guard.inspect_xlsx`): no parser sees a workbook whose used
    area, parts or shared strings exceed ``limits``."""
    import fastexcel

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile:
        raise UnreadableFile(
            "truncated", "Excel文件不完整（文件末尾缺失，可能复制或下载时中断）。请重新导出或重新复制文件。"
        ) from None
    if not any(n.startswith("xl/") for n in names):
        raise UnreadableFile("unsupported", "文件是压缩包或其他Office文档，不是Excel表格。请提供CSV或xlsx文件。")
    scans = inspect_xlsx(data, limits)
    try:
        reader = fastexcel.read_excel(data)
    except Exception as exc:
        raise _excel_error(exc) from None
    hidden: list[tuple[int, str, Any]] = []
    for idx, name in enumerate(reader.sheet_names):
        scan = scans.get(name)
        state = scan.state if scan is not None else None
        if state is not None and state != "visible":
            hidden.append((idx, name, None))  # visible sheets first; read when their turn comes
            continue
        try:
            sheet = _load_sheet(reader, idx, name, eager=state is not None)
        except _EmptySheet:
            continue
        if sheet.visible != "visible":
            hidden.append((idx, name, sheet))
            continue
        grid = _to_grid(sheet, _scan_probe(scan))
        if grid is not None:
            if idx > 0:
                grid.notes.append(f"数据取自第{idx + 1}个工作表“{name}”（前面的工作表没有可识别的表头）")
            yield grid
    for idx, name, sheet in hidden:
        if sheet is None:
            try:
                sheet = _load_sheet(reader, idx, name, eager=True, visible=scans[name].state)
            except _EmptySheet:
                continue
        grid = _to_grid(sheet, _scan_probe(scans.get(name)))
        if grid is not None:
            grid.notes.append(f"数据在隐藏的工作表“{name}”中")
            yield grid


class _EmptySheet(Exception):
    pass


@dataclass
class _EagerSheet:
    """A sheet read by fastexcel in one go (``eager=True``: the Arrow batch is built directly, about a third of the
    lazy sheet's conversion), with what :func:`_to_grid` asks of a lazy one: the visibility comes from the pre-check's
    reading of workbook.xml, the columns' absolute indices from the column selector fastexcel calls."""

    name: str
    visible: str
    batch: Any
    absolute: list[int]

    def to_polars(self) -> pl.DataFrame:
        return pl.from_arrow(self.batch)

    def available_columns(self) -> list[Any]:
        return [_Column(i) for i in self.absolute]


@dataclass(frozen=True)
class _Column:
    absolute_index: int


def _load_sheet(reader: Any, idx: int, name: str, *, eager: bool, visible: str = "visible") -> Any:
    """Sheet ``idx`` as text cells: lazily (a fastexcel ExcelSheet, which knows its visibility) or, when the
    visibility is known, eagerly (:class:`_EagerSheet`). Raises _EmptySheet for a sheet without cells."""
    try:
        if not eager:
            return reader.load_sheet(idx, header_row=None, skip_rows=0, dtypes="string")
        absolute: list[int] = []

        def keep(column: Any) -> bool:
            absolute.append(column.absolute_index)
            return True

        batch = reader.load_sheet(idx, header_row=None, skip_rows=0, dtypes="string", eager=True, use_columns=keep)
        return _EagerSheet(name, visible, batch, absolute)
    except Exception as exc:
        if "empty" in str(exc).lower():
            raise _EmptySheet from None
        raise _excel_error(exc) from None


Probe = Callable[[list[int]], dict[int, pl.Series]]


def _to_grid(sheet: Any, probe: Callable[[int, list[int]], Probe]) -> Grid | None:
    try:
        df = sheet.to_polars()
        absolute = [c.absolute_index for c in sheet.available_columns()]
    except Exception as exc:
        raise _excel_error(exc) from None
    if df.width == 0 or df.height == 0:
        return None
    df = _named(df.select(pl.all().cast(pl.String)))
    cols = [c for c in df.columns if c != "_row"]
    nonblank = pl.any_horizontal([pl.col(c).str.contains(r"\S").fill_null(False) for c in cols])
    # the last row with content: almost always near the end, so the tail is looked at first
    last = df.tail(1000).select(pl.when(nonblank).then(pl.col("_row")).max()).item()
    if last is None:
        last = df.select(pl.when(nonblank).then(pl.col("_row")).max()).item()
    if last is None:
        return None
    df = df.head(int(last))
    return Grid(df, "xlsx", sheet=sheet.name, numeric_probe=probe(df.height, absolute or list(range(len(cols)))))


def _scan_probe(scan: SheetScan | None) -> Callable[[int, list[int]], Probe]:
    """Grid columns → Boolean Series "this cell is a number cell with 16 or more digits" (Excel keeps 15), from the
    pre-check's pass over the sheet's XML: no second parse. Grid row i is sheet row i + 1; fastexcel counts columns
    from the first used one, the sheet from column A."""

    def bind(height: int, absolute: list[int]) -> Probe:
        def probe(cols: list[int]) -> dict[int, pl.Series]:
            out = {}
            for c in cols:
                rows = scan.long_numbers.get(absolute[c], []) if scan is not None else []
                at = pl.Series("at", [r - 1 for r in rows if 0 < r <= height], dtype=pl.Int64)
                out[c] = pl.int_range(0, height, dtype=pl.Int64, eager=True).is_in(at.implode())
            return out

        return probe

    return bind


def _boolean_probe(reader: Any, idx: int) -> Callable[[int, list[int]], Probe]:
    """Legacy .xls (no XML to scan): grid columns → "this cell is a number (or boolean) cell, not text", by a second
    read of just these columns as "boolean" (text cells come back null)."""

    def bind(height: int, absolute: list[int]) -> Probe:
        def probe(cols: list[int]) -> dict[int, pl.Series]:
            absc = [absolute[c] for c in cols]
            sheet = reader.load_sheet(
                idx, header_row=None, skip_rows=0, use_columns=absc, dtypes={a: "boolean" for a in absc}
            )
            df = sheet.to_polars().head(height)
            out = {}
            for c, name in zip(cols, df.columns):
                s = df[name].is_not_null()
                if s.len() < height:
                    s = s.extend_constant(False, height - s.len())
                out[c] = s
            return out

        return probe

    return bind


def _excel_error(exc: Exception) -> UnreadableFile:
    msg = str(exc).lower()
    if "password" in msg or "encrypt" in msg:
        return UnreadableFile(
            "encrypted",
            "Excel文件设置了打开密码，系统无法读取。请去掉密码后另存为xlsx，再放入文件夹。",
            detail=str(exc)[:200],
        )
    if any(w in msg for w in ("zip", "eof", "invalid", "unexpected", "xml", "deflate", "crc")):
        return UnreadableFile("corrupt", "Excel文件已损坏，无法读取。请重新导出或重新复制文件。", detail=str(exc)[:200])
    return UnreadableFile(
        "corrupt", "Excel文件无法读取（格式已损坏）。请重新导出或另存为xlsx后再放入。", detail=str(exc)[:200]
    )


def xls_grids(data: bytes) -> Iterator[Grid]:
    """Legacy .xls (BIFF in an OLE file): calamine reads it; a password-protected one is reported as such."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
    except Exception as exc:
        err = _excel_error(exc)
        if err.code == "corrupt":
            err = UnreadableFile(
                "unsupported",
                "文件是旧版Excel（.xls）或其他Office格式，且无法读取。请在Excel中“另存为”xlsx后再放入。",
                detail=str(exc)[:200],
            )
        raise err from None
    for idx in range(len(reader.sheet_names)):
        try:
            sheet = reader.load_sheet(idx, header_row=None, skip_rows=0, dtypes="string")
            grid = _to_grid(sheet, _boolean_probe(reader, idx))
        except Exception:
            continue
        if grid is not None:
            grid.notes.append("文件为旧版Excel（.xls）格式")
            yield grid
