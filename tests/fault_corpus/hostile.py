"""Hostile drops of issue 14, generated (small on disk by nature), and fault-injecting tasks for reader processes.

    workbook(rows_xml, strings)      a minimal xlsx: one worksheet (rows as <row> XML) and a shared-string table
    far_cell("XFD100000")            one value far away: the parser would allocate rows × columns cells (≈ 52 GB)
    shared_string_bomb()             a shared-string table of ~200 MB of XML in ~0.2 MB of zip
    header_workbook(cells)           a 医保 header row plus the given extra <c> cells (for attribute-order variants)

Every workbook here has a real 医保 header in row 1, so a reader that got past the pre-checks would try to read it.
The tasks at the end (``task``) are run by reader processes in tests/test_sources_pool.py.
"""

from __future__ import annotations

import io
import os
import time
import zipfile

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WB = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<workbook {_NS} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="明细" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
HEADER = ["姓名", "身份证号", "结算日期", "个人自付"]
ROW = ["张三", "450225198005061233", "2026-03-05", "1200.50"]


def _strings_xml(strings: list[str], extra: bytes = b"") -> bytes:
    body = "".join(f"<si><t>{s}</t></si>" for s in strings).encode()
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS} count="{len(strings)}" uniqueCount="{len(strings)}">'.encode()
        + body
        + extra
        + b"</sst>"
    )


def _cells(row: int, values: list[str], first: int = 0) -> str:
    return "".join(f'<c r="{chr(65 + j)}{row}" t="s"><v>{first + j}</v></c>' for j in range(len(values)))


def workbook(rows_xml: str, strings: list[str], *, dimension: str | None = None, prefix: str = "") -> bytes:
    """A minimal workbook; ``prefix`` writes the worksheet with a namespace prefix (``x:``, as .NET writers do)."""
    dim = f'<{prefix}dimension ref="{dimension}"/>' if dimension else ""
    ns = _NS.replace("xmlns=", f"xmlns:{prefix[:-1]}=") if prefix else _NS
    if prefix:
        rows_xml = rows_xml.replace("<row", f"<{prefix}row").replace("</row>", f"</{prefix}row>")
        rows_xml = rows_xml.replace("<c ", f"<{prefix}c ").replace("</c>", f"</{prefix}c>")
        rows_xml = rows_xml.replace("<v>", f"<{prefix}v>").replace("</v>", f"</{prefix}v>")
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><{prefix}worksheet {ns}>{dim}<{prefix}sheetData>{rows_xml}'
        f"</{prefix}sheetData></{prefix}worksheet>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/sharedStrings.xml", _strings_xml(strings))
    return buf.getvalue()


def header_workbook(extra_cells: str = "", *, dimension: str | None = None, prefix: str = "") -> bytes:
    rows = f'<row r="1">{_cells(1, HEADER)}</row><row r="2">{_cells(2, ROW, len(HEADER))}{extra_cells}</row>'
    return workbook(rows, HEADER + ROW, dimension=dimension, prefix=prefix)


def far_cell(ref: str = "XFD100000", *, dimension: str | None = "auto", prefix: str = "") -> bytes:
    """The header, one data row, and one number far away at ``ref`` (issue 14: XFD100000 → 52 GB, BH1048576 →
    5.2 GB). ``dimension``: "auto" declares the true used area, None leaves it out, any other value is declared as is
    (a lie)."""
    col = "".join(ch for ch in ref if ch.isalpha())
    row = int(ref[len(col) :])
    rows = (
        f'<row r="1">{_cells(1, HEADER)}</row><row r="2">{_cells(2, ROW, len(HEADER))}</row>'
        f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>'
    )
    dim = f"A1:{ref}" if dimension == "auto" else dimension
    return workbook(rows, HEADER + ROW, dimension=dim, prefix=prefix)


def shared_string_bomb(megabytes: int = 200) -> bytes:
    """A valid workbook whose shared-string table inflates from ~0.2 MB to ``megabytes`` MB of XML (the parser keeps
    every entry in memory: issue 14's 1.1 MB bomb went past 8 GB). Written a megabyte at a time."""
    buf = io.BytesIO()
    chunk = b"<si><t>A</t></si>" * (1 << 16)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in (
            ("[Content_Types].xml", _CT),
            ("_rels/.rels", _RELS),
            ("xl/workbook.xml", _WB),
            ("xl/_rels/workbook.xml.rels", _WB_RELS),
        ):
            z.writestr(name, text)
        rows = f'<row r="1">{_cells(1, HEADER)}</row><row r="2">{_cells(2, ROW, len(HEADER))}</row>'
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><sheetData>{rows}</sheetData></worksheet>',
        )
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            head = _strings_xml(HEADER + ROW)[: -len(b"</sst>")]
            out.write(head)
            for _ in range(megabytes * (1 << 20) // len(chunk)):
                out.write(chunk)
            out.write(b"</sst>")
    return buf.getvalue()


# ----------------------------------------------------------------------- tasks for reader processes (fault injection)


def task(payload: tuple[str, object]) -> object:
    """What a reader process runs in the pool tests: ("echo", x) returns x; the others fail on purpose."""
    kind, arg = payload
    if kind == "echo":
        return arg
    if kind == "threads":
        return os.environ.get("POLARS_MAX_THREADS")
    if kind == "abort":  # a native crash (SIGABRT), as the Excel parser's failed 52 GB allocation
        os.abort()
    if kind == "grow":  # resident memory growing a MB at a time until the pool stops the process
        hold = []
        while True:
            block = bytearray(1 << 20)
            block[::4096] = b"x" * len(block[::4096])
            hold.append(block)
            if len(hold) > int(arg):
                return len(hold)
    if kind == "allocate":  # one absurd allocation: fails at once under the data-segment limit
        return len(bytearray(int(arg)))
    if kind == "sleep":
        time.sleep(float(arg))
        return "woke"
    if kind == "bug":
        raise ValueError("450225198005061233 is a value that must never reach a log")
    raise AssertionError(kind)
