"""A minimal XLSX writer for the synthetic city's exports, vectorised: the sheet XML is built column-wise by Polars
and streamed into the zip, so a county registry of 200,000 persons × 27 columns is written in seconds.

xlsxwriter turns every cell into a Python object (≈ 8 µs a cell; a city-size registry has ≈ 35 M cells). Here a
cell is a Polars string expression, a row is their concatenation, and the rows go straight from Polars into the
sheet part. Text cells of columns with few distinct values refer to the shared strings table, others are inline
strings (``t="inlineStr"``, as streaming exporters such as Apache POI's SXSSF write them); numbers are ``<v>``
values in their shortest round-trip form, dates are serial numbers with a ``yyyy-mm-dd`` style. Title rows are merged across the table, the header row is bold with borders. Byte-stable: the
same table gives the same file (fixed timestamps, fixed part order, fixed compression level).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import polars as pl

#: zip entries' timestamp (xlsx readers ignore it; fixed for byte-identical reruns)
ZIP_TIME = (2026, 1, 1, 8, 0, 0)
#: deflate level of the sheet part: on this XML levels 1–3 cost the same CPU and 3 is the smallest (level 6: 1.6× the CPU)
SHEET_LEVEL = 3
#: rows rendered and compressed at a time (bounded memory: ≈ 80 MB of XML)
CHUNK_ROWS = 50_000
#: above this many rows the sheet part may pass 4 GB uncompressed: write it with ZIP64 sizes
ZIP64_ROWS = 1_000_000
#: cellXfs indices in STYLES
TITLE, SUBTITLE, HEADER, DATE = 1, 2, 3, 4

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<Application>Microsoft Excel</Application></Properties>"
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>'
    '<fonts count="3"><font><sz val="11"/><name val="宋体"/><family val="2"/></font>'
    '<font><b/><sz val="14"/><name val="宋体"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="宋体"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>'
    '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment horizontal="center"/></xf>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1" applyAlignment="1"><alignment horizontal="center"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _core(created: dt.datetime) -> str:
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _workbook(sheet: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{_esc(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _esc_expr(e: pl.Expr) -> pl.Expr:
    return (
        e.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def column_letter(j: int) -> str:
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _text_cell(ref: str, text: str, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t>{_esc(text)}</t></is></c>'


def _number_cell(ref: str, value: float) -> str:
    return f'<c r="{ref}"><v>{pl.Series([float(value)]).cast(pl.String).item()}</v></c>'


def write_xlsx(
    path: Path,
    titles: list[str],
    header: list[str],
    texts: list[pl.Series],
    numbers: list[np.ndarray | None],
    date_cells: list[bool],
    total: list[tuple[str, float | None]] | None,
    widths: list[float],
    sheet: str = "Sheet1",
    created: dt.datetime = dt.datetime(2026, 1, 1, 8, 0, 0),
) -> None:
    """One sheet: title rows (merged across the table), a header row, data rows, an optional total row.

    texts[j]: the cell text per row ("" or null = empty cell); numbers[j]: a float per row written as a number cell
    where not NaN (else the text); date_cells[j]: numbers are Excel serial dates shown as yyyy-mm-dd;
    total: (text, number or None) per column for a row after the data."""
    ncol = len(header)
    n = len(texts[0]) if texts else 0
    last = column_letter(max(ncol - 1, 0))
    top = len(titles) + 1  # header row number
    first = top + 1
    end = first + n - 1 + (1 if total is not None else 0)
    head = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<dimension ref="A1:{last}{max(end, top)}"/>'
        '<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>'
    ]
    head += [f'<col min="{j + 1}" max="{j + 1}" width="{w:g}" customWidth="1"/>' for j, w in enumerate(widths)]
    head.append("</cols><sheetData>")
    for i, t in enumerate(titles):
        head.append(f'<row r="{i + 1}">{_text_cell(f"A{i + 1}", t, TITLE if i == 0 else SUBTITLE)}</row>')
    head.append(
        f'<row r="{top}">' + "".join(_text_cell(f"{column_letter(j)}{top}", h, HEADER) for j, h in enumerate(header))
    )
    head.append("</row>\n")

    tail = []
    if total is not None:
        cells = []
        for j, (text, num) in enumerate(total):
            ref = f"{column_letter(j)}{end}"
            if num is not None:
                cells.append(_number_cell(ref, num))
            elif text:
                cells.append(_text_cell(ref, text))
        tail.append(f'<row r="{end}">{"".join(cells)}</row>')
    tail.append("</sheetData>")
    if titles and ncol > 1:
        tail.append(f'<mergeCells count="{len(titles)}">')
        tail += [f'<mergeCell ref="A{i + 1}:{last}{i + 1}"/>' for i in range(len(titles))]
        tail.append("</mergeCells>")
    tail.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in (
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", ROOT_RELS),
            ("docProps/app.xml", APP),
            ("docProps/core.xml", _core(created)),
            ("xl/workbook.xml", _workbook(sheet)),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            ("xl/styles.xml", STYLES),
        ):
            zf.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = SHEET_LEVEL  # ZipFile.open(ZipInfo, "w") takes the level from the ZipInfo only
        shared: dict[str, int] = {}
        with zf.open(info, "w", force_zip64=n > ZIP64_ROWS) as sheet_part:
            sheet_part.write("".join(head).encode("utf-8"))
            for lo in range(0, n, CHUNK_ROWS):
                hi = min(n, lo + CHUNK_ROWS)
                chunk = io.BytesIO()
                _rows(
                    [t.slice(lo, hi - lo) for t in texts],
                    [None if x is None else x[lo:hi] for x in numbers],
                    date_cells,
                    first + lo,
                    shared,
                ).write_csv(chunk, include_header=False, quote_style="never", line_terminator="\n")
                sheet_part.write(chunk.getbuffer())
            sheet_part.write("".join(tail).encode("utf-8"))
        sst = "".join(f"<si><t>{_esc(v)}</t></si>" for v in shared)
        zf.writestr(
            zipfile.ZipInfo("xl/sharedStrings.xml", ZIP_TIME),
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{len(shared)}">'
            f"{sst}</sst>",
            compress_type=zipfile.ZIP_DEFLATED,
        )


def _rows(
    texts: list[pl.Series], numbers: list[np.ndarray | None], date_cells: list[bool], first: int, shared: dict[str, int]
) -> pl.DataFrame:
    """One column of row XML (``<row r="5"><c …/>…</row>``), built column-wise.

    Data cells carry no ``r`` reference (it is optional: a cell without one is the next column), and an empty cell
    is written as ``<c/>``, so a cell's XML depends on its value only. A column with few distinct values (most of
    the registry's: county, relation, labour, …) refers to the shared strings table (``shared``: text → index,
    extended here; half the XML of inline strings) and is rendered once per value, then gathered; other columns
    (names, IDs) are inline strings."""
    n = len(texts[0])
    data: dict[str, object] = {"_r": pl.Series(np.arange(first, first + n, dtype=np.int64)).cast(pl.String)}
    cells = []
    for j, text in enumerate(texts):
        text = text.cast(pl.String).fill_null("")
        values = text.unique().sort()
        if len(values) <= max(64, n // 20):
            xml = [EMPTY if v == "" else f'<c t="s"><v>{shared.setdefault(v, len(shared))}</v></c>' for v in values]
            data[f"t{j}"] = text.replace_strict(values, pl.Series(xml, dtype=pl.String), return_dtype=pl.String)
            cell = pl.col(f"t{j}")
        else:
            data[f"t{j}"] = text
            t = pl.col(f"t{j}")
            body = _esc_expr(t) if text.str.contains("[&<>]").any() else t  # names and IDs seldom need escaping
            cell = pl.when(t != "").then(_INLINE_OPEN + body + _INLINE_CLOSE).otherwise(pl.lit(EMPTY))
        num = numbers[j]
        if num is not None:
            data[f"n{j}"] = pl.Series(np.asarray(num, dtype=np.float64)).fill_nan(None)
            v = pl.col(f"n{j}")
            open_ = f'<c s="{DATE}"><v>' if date_cells[j] else "<c><v>"
            cell = pl.when(v.is_not_null()).then(pl.lit(open_) + v.cast(pl.String) + pl.lit("</v></c>")).otherwise(cell)
        cells.append(cell)
    row = pl.concat_str([pl.lit('<row r="'), pl.col("_r"), pl.lit('">'), *cells, pl.lit("</row>")])
    return pl.DataFrame(data).select(row.alias("xml"))


EMPTY = "<c/>"
_INLINE_OPEN = pl.lit('<c t="inlineStr"><is><t>')
_INLINE_CLOSE = pl.lit("</t></is></c>")
