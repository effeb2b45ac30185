"""Excel pre-checks: refuse a hostile or absurd workbook before any parser opens it (issue 14).

The Excel parser (calamine, through fastexcel) builds a dense grid from the first to the last used cell and keeps
every shared string in memory: a 5.7 KB workbook with one value in cell XFD100000 makes it allocate about 52 GB and
the process aborts; one value at BH1048576 costs 5.2 GB; a 1.1 MB zip of repeated shared strings passes 8 GB. So
before parsing, :func:`inspect_xlsx` checks, with limits from ``ingest.yaml`` (``excel:``):

- the zip directory: every part's uncompressed size, the total, and the compression ratio of large parts;
- the shared-string table: its uncompressed size and the number of its entries (counted, not taken from its header);
- every worksheet: its declared ``<dimension>`` and the largest cell reference actually present (rows × columns of
  the used area), by one streaming pass over the sheet's XML with byte-level searches (about a fifth of the parser's
  own time on a large export, and no second parse: the same pass records the number cells that hold 16 or more
  digits, which is what the reader needs to know about ID and household-number columns).

A workbook that fails a check raises :class:`UnreadableFile` (code ``too_large``) with a Chinese reason for the clerk.
What the pass cannot see (cells without a reference, attributes in an unusual order) is left to the reader
process's memory and time limits (:mod:`sources.pool`).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from sources.errors import UnreadableFile

_CHUNK = 8 << 20
_MB = 1 << 20
_SHEET_TYPE = "/worksheet"


@dataclass(frozen=True)
class ExcelLimits:
    max_cells: int = 40_000_000
    max_columns: int = 1000
    max_rows: int = 1_048_576
    max_part_bytes: int = 2048 * _MB
    max_total_bytes: int = 4096 * _MB
    max_compression_ratio: float = 100.0
    max_shared_strings: int = 10_000_000
    max_shared_strings_bytes: int = 512 * _MB

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> ExcelLimits:
        c = dict((cfg or {}).get("excel") or {})
        d = cls()
        return cls(
            max_cells=int(c.get("max_cells", d.max_cells)),
            max_columns=int(c.get("max_columns", d.max_columns)),
            max_rows=int(c.get("max_rows", d.max_rows)),
            max_part_bytes=int(float(c.get("max_part_mb", d.max_part_bytes / _MB)) * _MB),
            max_total_bytes=int(float(c.get("max_total_mb", d.max_total_bytes / _MB)) * _MB),
            max_compression_ratio=float(c.get("max_compression_ratio", d.max_compression_ratio)),
            max_shared_strings=int(c.get("max_shared_strings", d.max_shared_strings)),
            max_shared_strings_bytes=int(float(c.get("max_shared_strings_mb", d.max_shared_strings_bytes / _MB)) * _MB),
        )


@dataclass
class SheetScan:
    """What the pass over one worksheet found (rows 1-based, columns 0-based as fastexcel's ``absolute_index``)."""

    name: str
    part: str
    max_row: int = 0
    max_col: int = -1
    declared: str | None = None  # the <dimension ref>
    #: the sheet's visibility as workbook.xml states it (visible | hidden | veryhidden, as fastexcel's ``visible``);
    #: None when the workbook does not say it in a form the parser is known to read alike
    state: str | None = None
    #: column → sheet rows of number cells with 16 or more digits (or in scientific notation): Excel keeps 15
    long_numbers: dict[int, list[int]] = field(default_factory=dict)

    @property
    def cells(self) -> int:
        return self.max_row * (self.max_col + 1)


def column_index(letters: bytes | str) -> int:
    """``A`` → 0, ``Z`` → 25, ``AA`` → 26, ``XFD`` → 16383."""
    n = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def column_letters(index: int) -> str:
    out = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _mb(n: float) -> str:
    return f"{n / _MB:,.0f} MB" if n >= _MB else f"{n / 1024:,.0f} KB"


def _count(n: int) -> str:
    return f"{n / 1e4:,.0f}万" if n >= 100_000 else f"{n:,}"


def _bomb(reason: str) -> UnreadableFile:
    return UnreadableFile("too_large", reason + "文件可能已损坏或是特意构造的。请从原系统重新导出后再放入文件夹。")


def _check_directory(zf: zipfile.ZipFile, limits: ExcelLimits) -> None:
    total = 0
    for info in zf.infolist():
        size, packed = info.file_size, max(info.compress_size, 1)
        total += size
        if size > limits.max_part_bytes:
            raise _bomb(
                f"Excel文件中的“{info.filename}”解压后有{_mb(size)}，超过系统允许的{_mb(limits.max_part_bytes)}。"
            )
        if size > _MB and size / packed > limits.max_compression_ratio:
            raise _bomb(
                f"Excel文件中的“{info.filename}”压缩了{size / packed:,.0f}倍（{_mb(packed)}解压后成为{_mb(size)}），"
                f"正常的工作簿不超过{limits.max_compression_ratio:,.0f}倍。"
            )
    if total > limits.max_total_bytes:
        raise _bomb(f"Excel文件解压后共有{_mb(total)}，超过系统允许的{_mb(limits.max_total_bytes)}。")


#: workbook.xml's sheet ``state`` → fastexcel's ``visible`` (calamine reads these three; no attribute = visible)
_STATES = {None: "visible", b"visible": "visible", b"hidden": "hidden", b"veryHidden": "veryhidden"}


def _sheet_parts(zf: zipfile.ZipFile, names: set[str]) -> list[tuple[str, str, str | None]]:
    """(sheet name, worksheet part, visibility) in workbook order; chart sheets and dialog sheets are left out."""
    try:
        wb = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return [(n.rsplit("/", 1)[-1], n, None) for n in sorted(names) if re.match(r"xl/worksheets/[^/]+\.xml$", n)]
    targets: dict[bytes, tuple[bytes, bytes]] = {}
    for m in re.finditer(rb"<(?:\w+:)?Relationship\b([^>]*)/?>", rels):
        attrs = dict(re.findall(rb'(\w+)="([^"]*)"', m.group(1)))
        if b"Id" in attrs and b"Target" in attrs:
            targets[attrs[b"Id"]] = (attrs[b"Target"], attrs.get(b"Type", b""))
    out = []
    for m in re.finditer(rb"<(?:\w+:)?sheet\b([^>]*)/?>", wb):
        attrs = dict(re.findall(rb'([\w:]+)="([^"]*)"', m.group(1)))
        rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
        target, kind = targets.get(rid, (b"", b""))
        if not target or not kind.decode(errors="replace").endswith(_SHEET_TYPE):
            continue
        t = target.decode("utf-8", "replace").lstrip("/")
        part = t if t.startswith("xl/") else "xl/" + t
        name = _xml_text(attrs.get(b"name", b""))
        if part in names:
            out.append((name, part, _STATES.get(attrs.get(b"state"))))
    return out


def _xml_text(raw: bytes) -> str:
    s = raw.decode("utf-8", "replace")
    for a, b in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        s = s.replace(a, b)
    return s


def _ref(ref: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+)", ref.strip().upper())
    return (column_index(m.group(1)), int(m.group(2))) if m else None


class _Patterns:
    """Byte patterns for one namespace prefix (``<c`` or, from .NET writers, ``<x:c``)."""

    _CACHE: dict[bytes, _Patterns] = {}

    def __init__(self, prefix: bytes):
        p = re.escape(prefix)
        self.row = re.compile(b"<" + p + rb'row\s(?:[^>]*?\s)?r="(\d+)"')
        self.wide = re.compile(b"<" + p + rb'c r="([A-Z]{2,3})\d')  # cells beyond column Z, in the usual form
        self.cell_unusual = re.compile(b"<" + p + rb"c(?:>|/>| [^r])")  # a cell whose reference is not first
        self.cell_usual = b"<" + prefix + b'c r="'
        self.cell_general = re.compile(b"<" + p + rb'c\s(?:[^>]*?\s)?r="([A-Z]{1,3})(\d+)"')
        # what every match of cell_general contains: a piece without it has no referenced cell (a byte-level search
        # skips the general pattern, which costs about 70 ns a cell, on the pieces of a sheet whose cells carry no
        # reference at all)
        self.any_cell_ref = re.compile(rb'r="[A-Z]')
        # what every match of long_cell contains (a piece without number cells skips the search). No pre-search for a
        # long value in any form before long_cell: on a large export it cost four times long_cell's own pass, and
        # long_cell finds nothing where it would have found nothing.
        self.value_tag = b"<" + prefix + b"v>"
        self.long_cell = re.compile(
            b"<"
            + p
            + rb'c r="([A-Z]{1,3})(\d+)"(?:\s+s="\d+")?(?:\s+t="n")?\s*><'
            + p
            + rb"v>(?:\d{16,}|[\d.]+[eE]\+?\d\d)</"
        )

    @classmethod
    def of(cls, prefix: bytes) -> _Patterns:
        if prefix not in cls._CACHE:
            cls._CACHE[prefix] = cls(prefix)
        return cls._CACHE[prefix]


def _pieces(zf: zipfile.ZipFile, part: str, where: str):
    """The decompressed part in pieces of about 8 MB, each ending after a '>' (no tag is split between two)."""
    tail = b""
    with zf.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            buf = tail + chunk
            cut = buf.rfind(b">") + 1
            buf, tail = buf[:cut], buf[cut:]
            if len(tail) > _MB:  # no '>' in a megabyte: not XML anyone wrote on purpose
                raise _bomb(f"{where}的内容格式异常（过长的XML标记）。")
            if buf:
                yield buf
    if tail:
        yield tail


def _scan_sheet(zf: zipfile.ZipFile, name: str, part: str) -> SheetScan:
    scan = SheetScan(name, part)
    pats: _Patterns | None = None
    for buf in _pieces(zf, part, f"工作表“{name}”"):
        if pats is None:
            root = re.search(rb"<(\w+:)?worksheet[\s>]", buf)
            pats = _Patterns.of((root.group(1) or b"") if root else b"")
            dim = re.search(rb'<(?:\w+:)?dimension\s+ref="([^"]+)"', buf[: 1 << 16])
            if dim:
                scan.declared = dim.group(1).decode("ascii", "replace")
        rows = pats.row.findall(buf)
        if rows:
            scan.max_row = max(scan.max_row, max(map(int, rows)))
        if pats.cell_unusual.search(buf):
            # some cells carry their reference elsewhere than first (or none): the general (slower) pattern for this
            # piece, when it holds a cell reference at all
            for letters, row in pats.cell_general.findall(buf) if pats.any_cell_ref.search(buf) else ():
                scan.max_col = max(scan.max_col, column_index(letters))
                scan.max_row = max(scan.max_row, int(row))
        elif pats.cell_usual in buf:
            wide = set(pats.wide.findall(buf))
            # without a cell beyond column Z, Z is the bound (the used area is at most that wide)
            scan.max_col = max(scan.max_col, max((column_index(w) for w in wide), default=25))
        if pats.value_tag in buf:
            for letters, row in pats.long_cell.findall(buf):
                scan.long_numbers.setdefault(column_index(letters), []).append(int(row))
    return scan


def _check_sheet(scan: SheetScan, limits: ExcelLimits) -> None:
    boxes = [("", scan.max_row, scan.max_col)]
    if scan.declared:
        last = _ref(scan.declared.split(":")[-1])
        if last:
            boxes.append(("声明的", last[1], last[0]))
    for how, rows, col in boxes:
        cols = col + 1
        if rows <= 0 or cols <= 0:
            continue
        far = f"{column_letters(col)}{rows}"
        if rows > limits.max_rows or cols > limits.max_columns or rows * cols > limits.max_cells:
            raise UnreadableFile(
                "too_large",
                f"工作表“{scan.name}”{how}数据区域异常大：一直延伸到单元格{far}（{rows:,}行×{cols:,}列，约"
                f"{_count(rows * cols)}个单元格），超过系统允许的范围（最多{limits.max_rows:,}行、"
                f"{limits.max_columns:,}列、{_count(limits.max_cells)}个单元格）。通常是远处的单元格（如{far}）"
                "误填了内容或设置了格式。请删除多余的行和列（或把数据复制到一个新的工作表）后另存，再放入文件夹；"
                "如果数据确实这么多，请拆分成几个文件。",
            )


def _check_shared_strings(zf: zipfile.ZipFile, names: set[str], limits: ExcelLimits) -> None:
    part = next((n for n in names if n.lower().endswith("sharedstrings.xml")), None)
    if part is None:
        return
    info = zf.getinfo(part)
    if info.file_size > limits.max_shared_strings_bytes:
        raise _bomb(
            f"Excel文件的共享文本表解压后有{_mb(info.file_size)}，超过系统允许的{_mb(limits.max_shared_strings_bytes)}。"
        )
    count = 0
    for buf in _pieces(zf, part, "共享文本表"):
        count += buf.count(b"<si>") + buf.count(b"<si ") + len(re.findall(rb"<\w+:si[\s>]", buf))
    if count > limits.max_shared_strings:
        raise _bomb(f"Excel文件的共享文本表有{count:,}条，超过系统允许的{limits.max_shared_strings:,}条。")


def inspect_xlsx(data: bytes, limits: ExcelLimits | None = None) -> dict[str, SheetScan]:
    """Check a workbook's bytes against ``limits``; return the worksheets' scans by sheet name.

    Raises :class:`UnreadableFile`: ``too_large`` (a limit), ``truncated`` (not a complete zip)."""
    limits = limits or ExcelLimits()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UnreadableFile(
            "truncated", "Excel文件不完整（文件末尾缺失，可能复制或下载时中断）。请重新导出或重新复制文件。"
        ) from None
    with zf:
        names = set(zf.namelist())
        _check_directory(zf, limits)
        _check_shared_strings(zf, names, limits)
        scans: dict[str, SheetScan] = {}
        for name, part, state in _sheet_parts(zf, names):
            try:
                scan = _scan_sheet(zf, name, part)
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise UnreadableFile(
                    "corrupt", "Excel文件已损坏，无法读取。请重新导出或重新复制文件。", detail=str(exc)[:200]
                ) from None
            _check_sheet(scan, limits)
            scan.state = state
            scans[name] = scan
        return scans
