"""Read one dropped file into canonical rows, rejected rows and counts (SPEC §2 step 1, §4, §5, §9).

``read_file(path, feed)`` → :class:`ReadResult`, or raises :class:`UnreadableFile` (the file goes to quarantine).

Every physical row ends in exactly one place::

    rows_in_file == len(rows) + len(rejected) + sum(skipped.values())

``skipped`` counts ``title`` (rows above the header, and notes such as "制表人：…" below it), ``header`` (the header
row(s), and header rows repeated further down), ``total`` (合计/小计/总计 rows) and ``blank`` rows. ``rejected`` has
one row per rejected input row (several faults of one row are joined with "；").

What rejects a row (department feeds): no name AND no ID number; the event date (结算日期/受灾日期/批准日期/登记日期)
empty, unreadable or outside 2000–2099; an amount that is not a number or is negative; a row with damaged characters
(broken encoding); in a CSV, a row with more cells than the header (an unquoted comma shifted the columns).
Registry: no 户编号, or one Excel turned into a number; no name AND no ID; a 行政村代码 that is not 12 digits and
cannot be taken from another member of the same household. Village table: a 行政村代码 that is not 12 digits.
What does NOT reject a row: an unusable ID number (it is kept with its ``id_status``; linkage works by name + place),
unknown coded values (kept; the quality suites judge them), an unreadable secondary value (birth date, month, yes/no,
household size, registry income): it is set to null and listed in ``warnings``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fangpin import settings
from fangpin.domain.names import normalise_expr
from sources import normalise as nz
from sources.decode import decode_text, mojibake_advice, mojibake_reason, sniff
from sources.errors import UnreadableFile
from sources.grid import Grid, csv_grid, xls_grids, xlsx_grids
from sources.ids import add_id_columns
from sources.spec import AliasConfig, FeedSpec, header_key, load_config
from sources.xlsx_guard import ExcelLimits

__all__ = [
    "UnreadableFile",
    "ReadResult",
    "read_file",
    "DEPT_COLUMNS",
    "REGISTRY_COLUMNS",
    "VILLAGE_COLUMNS",
    "SCHEMAS",
]

HEADER_SCAN = 30  # the header must be within the first 30 rows
EVENT_DATE_RANGE = (_dt.date(2000, 1, 1), _dt.date(2099, 12, 31))
BIRTH_DATE_RANGE = (_dt.date(1900, 1, 1), _dt.date(2099, 12, 31))
_MAX_RAW = 30  # characters of a cell value quoted in a reason

PROVENANCE = {
    "source": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int64,
    "file_hash": pl.String,
    "event_key": pl.String,
}

DEPT_COLUMNS: dict[str, pl.DataType] = {
    **PROVENANCE,
    "name": pl.String,
    "id_raw": pl.String,
    "id_status": pl.String,
    "id_number": pl.String,
    "id_candidate": pl.String,
    "birth_date": pl.Date,
    "sex": pl.String,
    "county": pl.String,
    "township": pl.String,
    "village": pl.String,
    "hukou_address": pl.String,
    "is_head_only": pl.Boolean,
    "event_date": pl.Date,
    "settle_date": pl.Date,
    "institution": pl.String,
    "total_cost": pl.Float64,
    "fund_paid": pl.Float64,
    "critical_illness_paid": pl.Float64,
    "medical_aid_paid": pl.Float64,
    "out_of_pocket": pl.Float64,
    "visit_type": pl.String,
    "diagnosis": pl.String,
    "disaster_type": pl.String,
    "disaster_date": pl.Date,
    "house_damage": pl.String,
    "direct_loss": pl.Float64,
    "aid_type": pl.String,
    "approved_on": pl.Date,
    "amount": pl.Float64,
    "status": pl.String,
    "event": pl.String,
    "previous_workplace": pl.String,
    "previous_monthly_income": pl.Float64,
    "property_type": pl.String,
}
REGISTRY_COLUMNS: dict[str, pl.DataType] = {
    **PROVENANCE,
    "household_id": pl.String,
    "county": pl.String,
    "township": pl.String,
    "village": pl.String,
    "village_code": pl.String,
    "county_code": pl.String,
    "township_code": pl.String,
    "name": pl.String,
    "id_raw": pl.String,
    "id_status": pl.String,
    "id_number": pl.String,
    "sex": pl.String,
    "birth_date": pl.Date,
    "relation": pl.String,
    "household_type": pl.String,
    "monitoring_category": pl.String,
    "risk_eliminated": pl.String,
    "identified_month": pl.String,
    "eliminated_month": pl.String,
    "labour": pl.String,
    "health": pl.String,
    "student": pl.String,
    "dibao": pl.String,
    "tekun": pl.String,
    "per_capita_net_income": pl.Float64,
    "household_size": pl.Int32,
    "relocated": pl.String,
    "resettlement_site": pl.String,
    "hukou_moved": pl.String,
    "unsafe_housing": pl.String,
    "safe_water": pl.String,
}
VILLAGE_COLUMNS: dict[str, pl.DataType] = {
    **PROVENANCE,
    "village_code": pl.String,
    "village": pl.String,
    "township": pl.String,
    "county": pl.String,
    "township_code": pl.String,
    "county_code": pl.String,
    "former_deep_poverty": pl.Boolean,
    "resettlement_community": pl.Boolean,
}
SCHEMAS = {"dept_record": DEPT_COLUMNS, "registry_person": REGISTRY_COLUMNS, "village": VILLAGE_COLUMNS}
REJECTED_SCHEMA = {
    "source": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int64,
    "field": pl.String,
    "reason": pl.String,
    "file_hash": pl.String,
}
ISSUE_SCHEMA = {"source_row": pl.Int64, "field": pl.String, "reason": pl.String}
SKIPPED_SCHEMA = {"source_row": pl.Int64, "kind": pl.String, "text": pl.String}
COUNT_ROWS_SCHEMA = {"item": pl.String, "first_row": pl.Int64, "last_row": pl.Int64}
SKIP_LABELS = {"title": "标题/说明行", "header": "表头行", "total": "合计/小计行", "blank": "空行"}


@dataclass
class ReadResult:
    feed: str
    file_name: str
    file_hash: str
    rows: pl.DataFrame  # accepted rows: SCHEMAS[table] columns, in that order, with those dtypes
    rejected: pl.DataFrame  # REJECTED_SCHEMA, one row per rejected input row
    rows_in_file: int
    skipped: dict[str, int]  # title, header, total, blank
    encoding: str | None
    sheet: str | None
    header_row: int  # physical row of the (first) header row
    notes: list[str]  # what was normalised or noticed, Chinese
    table: str = "dept_record"  # registry_person | village | dept_record
    spec: str = ""  # feed spec used (registry_village for the village table)
    warnings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ISSUE_SCHEMA))  # kept rows, value nulled
    skipped_rows: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SKIPPED_SCHEMA))
    columns: list[tuple[str, str | None]] = field(default_factory=list)  # (header as in the file, canonical field)
    file_format: str = "csv"
    label: str = ""  # Chinese name of the feed
    seconds: float = 0.0
    #: the rows behind every count in ``notes``: one row per run of consecutive row numbers (COUNT_ROWS_SCHEMA)
    count_rows: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=COUNT_ROWS_SCHEMA))

    def check_accounting(self) -> None:
        total = self.rows.height + self.rejected.height + sum(self.skipped.values())
        if total != self.rows_in_file:
            raise AssertionError(
                f"row accounting broken: {self.rows.height}+{self.rejected.height}+{self.skipped} != {self.rows_in_file}"
            )


# --------------------------------------------------------------------------------------------------- entry point


def read_file(
    path: Path,
    feed: str,
    file_name: str | None = None,
    file_hash: str | None = None,
    home: Path | None = None,
    arrived: _dt.date | None = None,
) -> ReadResult:
    """Read a dropped (archived) file of ``feed``. Raises :class:`UnreadableFile` for a file that cannot be read.

    ``arrived``: the day the file was dropped; a row whose event date is later is rejected (a birth date later is
    set empty), beyond ``dates.future_tolerance_days`` of ``ingest.yaml``. None: no such check."""
    t0 = time.perf_counter()
    path = Path(path)
    data = path.read_bytes()
    file_name = file_name or path.name
    file_hash = file_hash or hashlib.sha256(data).hexdigest()
    try:
        result = _read(data, feed, file_name, file_hash, home, arrived)
    except UnreadableFile as exc:
        exc.feed = exc.feed or feed
        exc.file_name = exc.file_name or file_name
        exc.file_hash = exc.file_hash or file_hash
        raise
    result.seconds = time.perf_counter() - t0
    result.check_accounting()
    return result


_FAILURE_RANK = {"wrong_feed": 5, "missing_columns": 4, "mojibake": 3, "no_header": 2}


def file_grids(data: bytes, file_name: str, limits: ExcelLimits | None = None):
    """The sheets of a dropped file as grids, whatever its format really is (the extension is only a hint), and the
    notes on what was assumed. Raises :class:`UnreadableFile` for empty, encrypted, HTML or archive files, and for a
    workbook beyond the Excel ``limits`` (default: ``ingest.yaml`` as packaged)."""
    kind = sniff(data)
    ext = Path(file_name).suffix.lower()
    notes: list[str] = []
    if kind == "empty":
        raise UnreadableFile("empty", "文件是空的（0字节或只有空白）。请重新导出后再放入文件夹。")
    if kind == "encrypted":
        raise UnreadableFile(
            "encrypted", "Excel文件设置了打开密码（已加密），系统无法读取。请去掉密码后另存为xlsx，再放入文件夹。"
        )
    if kind == "html":
        raise UnreadableFile(
            "html",
            "文件实际是网页（HTML/XML）格式，只是扩展名为Excel，系统无法可靠读取。请用Excel打开后“另存为”xlsx，再放入文件夹。",
        )
    if kind == "zip":
        raise UnreadableFile("unsupported", "文件是压缩包或其他Office文档，不是Excel表格。请解压后提供CSV或xlsx文件。")
    if kind == "xlsx":
        if ext in (".csv", ".txt", ".tsv"):
            notes.append(f"文件扩展名为{ext}，但内容是Excel工作簿，已按Excel读取")
        return xlsx_grids(data, limits), notes
    if kind == "ole":
        return xls_grids(data), notes
    if ext in (".xlsx", ".xls", ".xlsm", ".et"):
        notes.append(f"文件扩展名为{ext}，但内容是文本（CSV），已按CSV读取")
    dec = decode_text(data)
    return iter([csv_grid(dec.text, dec.encoding, dec.notes, raw=dec.raw)]), notes


def _read(
    data: bytes, feed: str, file_name: str, file_hash: str, home: Path | None, arrived: _dt.date | None
) -> ReadResult:
    cfg = load_config(home)
    own = cfg.specs_for_folder(feed)
    if not own:
        raise UnreadableFile(
            "unknown_feed",
            f"数据类别“{feed}”没有配置表头对照（aliases.yaml），系统不知道如何读取这个文件夹中的文件。请联系系统管理员。",
        )
    intake = settings.load("ingest", home)
    grids, pre_notes = file_grids(data, file_name, ExcelLimits.from_config(intake))
    latest = None
    if arrived is not None:
        tolerance = int(((intake.get("dates") or {}).get("future_tolerance_days")) or 0)
        latest = (arrived, arrived + _dt.timedelta(days=tolerance))

    failure: UnreadableFile | None = None
    any_grid = False
    for grid in grids:
        any_grid = True
        head = grid.head_rows(HEADER_SCAN + 2)
        sample = "\n".join(",".join(c for c in row if c) for row in head)
        try:
            hdr = _find_header(head, own, cfg, feed, file_name)
        except UnreadableFile as exc:
            # No usable header: if the text is garbled, say so (a damaged data row alone never quarantines a file)
            moj = mojibake_reason(sample)
            if moj and exc.code in ("no_header", "missing_columns"):
                exc = UnreadableFile("mojibake", moj + mojibake_advice())
            if failure is None or _FAILURE_RANK.get(exc.code, 0) > _FAILURE_RANK.get(failure.code, 0):
                failure = exc
            continue
        grid.notes[:0] = pre_notes
        return _build(grid, hdr, cfg, feed, file_name, file_hash, latest)
    if not any_grid:
        raise UnreadableFile("empty", "文件中没有任何数据（所有工作表都是空的）。请重新导出后再放入文件夹。")
    assert failure is not None
    raise failure


# ------------------------------------------------------------------------------------------------ header search


@dataclass
class _Header:
    spec: FeedSpec
    rows: list[int]  # 0-based grid positions of the header row(s)
    labels: list[str | None]  # one label per grid column
    mapping: dict[str, list[tuple[int, int]]]  # field → [(rank, column)], best first


def _blank(v: str | None) -> bool:
    return v is None or not str(v).strip()


def _match_row(labels: list[str | None], spec: FeedSpec) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for j, lab in enumerate(labels):
        if _blank(lab):
            continue
        f, rank = spec.match(lab)
        if f is not None:
            out.setdefault(f, []).append((rank, j))
    for f in out:
        out[f].sort()
    return out


def _candidates(head: list[list[str | None]]) -> list[tuple[list[int], list[str | None]]]:
    cands = []
    limit = min(len(head), HEADER_SCAN)
    for i in range(limit):
        row = head[i]
        if all(_blank(v) for v in row):
            continue
        cands.append(([i], row))
        if i + 1 < len(head) and not all(_blank(v) for v in head[i + 1]):
            merged = [b if not _blank(b) else a for a, b in zip(row, head[i + 1])]
            cands.append(([i, i + 1], merged))
    return cands


def _find_header(
    head: list[list[str | None]], own: list[FeedSpec], cfg: AliasConfig, feed: str, file_name: str
) -> _Header:
    cands = _candidates(head)
    best: tuple | None = None
    for spec in own:
        hint = 1 if (spec.table == "village" and "行政村" in file_name) else 0
        for rows, labels in cands:
            m = _match_row(labels, spec)
            if spec.missing_required(set(m)):
                continue
            score = (len(m) + hint, -len(rows), -rows[0])
            if best is None or score > best[0]:
                best = (score, _Header(spec, rows, labels, m))
    if best is not None:
        return best[1]

    # Not this folder's data: is it another feed's?
    other_best: tuple | None = None
    for spec in cfg.feeds.values():
        if spec.folder == feed:
            continue
        for rows, labels in cands:
            m = _match_row(labels, spec)
            if spec.missing_required(set(m)):
                continue
            score = (len(m), -rows[0])
            if other_best is None or score > other_best[0]:
                other_best = (score, spec, rows, m)
    own_label = own[0].label
    if other_best is not None:
        _, spec, rows, m = other_best
        shown = "、".join(
            str(head[rows[-1]][cols[0][1]] if not _blank(head[rows[-1]][cols[0][1]]) else head[rows[0]][cols[0][1]])
            for f, cols in list(m.items())[:4]
        )
        raise UnreadableFile(
            "wrong_feed",
            f"文件放错了文件夹：表头（第{rows[0] + 1}行，含“{shown}”等列）看起来是【{spec.label}】数据，"
            f"却放在了【{own_label}】文件夹（landing/{feed}/）。请放到 landing/{spec.folder}/ 文件夹。",
            looks_like=spec.folder,
        )

    # A header of this feed with required columns missing?
    partial: tuple | None = None
    for spec in own:
        for rows, labels in cands:
            m = _match_row(labels, spec)
            satisfied = len(spec.required) - len(spec.missing_required(set(m)))
            score = (satisfied, len(m), -rows[0])
            if partial is None or score > partial[0]:
                partial = (score, spec, rows, m)
    if partial is not None:
        (satisfied, n_fields, _), spec, rows, m = partial
        if n_fields >= 3 or (n_fields >= 2 and satisfied >= 1):
            missing = "、".join(spec.required_label(g) for g in spec.missing_required(set(m)))
            raise UnreadableFile(
                "missing_columns",
                f"找到了表头（第{rows[0] + 1}行），但缺少必需的列：{missing}。请按【{spec.label}】数据的要求导出完整的列后再放入。",
            )
    need = "、".join(own[0].required_label(g) for g in own[0].required)
    raise UnreadableFile(
        "no_header",
        f"在文件前{HEADER_SCAN}行中没有找到【{own_label}】数据的表头（应包含 {need} 等列）。请保留原系统导出的列名后再放入。",
    )


# -------------------------------------------------------------------------------------------------- build rows


def _lit_str(s: str) -> pl.Expr:
    return pl.lit(s, dtype=pl.String)


def fault_columns(checks) -> list[pl.Expr]:
    """The row's verdict from ``checks`` — (field label, reject?, reason or null) per check, whose reasons already
    stand in columns ``_x0``, ``_x1``, …: ``_rej_reason`` / ``_rej_field`` (the rejecting checks' reasons joined with
    "；", their fields with "、") and ``_warn_reason`` / ``_warn_field`` (the same for the warnings), null when none."""

    def joined(reject: bool) -> tuple[pl.Expr, pl.Expr]:
        idx = [i for i, (_, rj, _) in enumerate(checks) if rj == reject]
        if not idx:
            none = pl.lit(None, dtype=pl.String)
            return none, none
        reason = pl.concat_str([pl.col(f"_x{i}") for i in idx], separator="；", ignore_nulls=True)
        fld = pl.concat_str(
            [pl.when(pl.col(f"_x{i}").is_not_null()).then(_lit_str(checks[i][0])) for i in idx],
            separator="、",
            ignore_nulls=True,
        )
        return pl.when(reason == "").then(None).otherwise(reason), pl.when(fld == "").then(None).otherwise(fld)

    rj_reason, rj_field = joined(True)
    wn_reason, wn_field = joined(False)
    return [
        rj_reason.alias("_rej_reason"),
        rj_field.alias("_rej_field"),
        wn_reason.alias("_warn_reason"),
        wn_field.alias("_warn_field"),
    ]


def split_by_verdict(
    d: pl.DataFrame, feed: str, file_name: str, file_hash: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(rejected rows in ``rejected_row``'s shape, accepted rows, their warnings) of a frame with
    :func:`fault_columns` and the file's row number ``_row``."""
    rejected = d.filter(pl.col("_rej_reason").is_not_null()).select(
        _lit_str(feed).alias("source"),
        _lit_str(file_name).alias("source_file"),
        pl.col("_row").alias("source_row"),
        pl.col("_rej_field").alias("field"),
        pl.col("_rej_reason").alias("reason"),
        _lit_str(file_hash).alias("file_hash"),
    )
    ok = d.filter(pl.col("_rej_reason").is_null())
    warnings = ok.filter(pl.col("_warn_reason").is_not_null()).select(
        pl.col("_row").alias("source_row"), pl.col("_warn_field").alias("field"), pl.col("_warn_reason").alias("reason")
    )
    return rejected, ok, warnings


def _quote(raw: pl.Expr) -> pl.Expr:
    r = raw.str.replace_all(r"[\r\n\t]+", " ")
    r = pl.when(r.str.len_chars() > _MAX_RAW).then(r.str.slice(0, _MAX_RAW) + _lit_str("…")).otherwise(r)
    return _lit_str("“") + r + _lit_str("”")


def _column_flags(d: pl.DataFrame, raw: dict[str, pl.Expr], types: dict[str, str]) -> dict[str, bool]:
    """Per field: has a full-width character (``fw|f``), has a blank (``sp|f``), every value already in the simple
    form of its type (``simple|f``). One scan per column for the common case: full-width and blank characters are
    looked for together, and told apart only in the columns that have either."""
    if not raw or not d.height:
        return {}
    odd = nz.FULLWIDTH[:-1] + r"\s]"
    first = [r.str.contains(odd).any().alias(f"odd|{f}") for f, r in raw.items()]
    first += [
        (r.is_null() | r.str.contains(nz.SIMPLE[types[f]])).all().alias(f"simple|{f}")
        for f, r in raw.items()
        if types[f] in nz.SIMPLE
    ]
    flags = d.select(first).row(0, named=True)
    odd_fields = [f for f in raw if flags.pop(f"odd|{f}")]
    for f in raw:
        if f not in odd_fields:
            flags[f"fw|{f}"] = flags[f"sp|{f}"] = False
    if odd_fields:
        flags |= d.select(
            [
                e
                for f in odd_fields
                for e in (
                    raw[f].str.contains(nz.FULLWIDTH).any().alias(f"fw|{f}"),
                    raw[f].str.contains(r"\s").any().alias(f"sp|{f}"),
                )
            ]
        ).row(0, named=True)
    return flags


def _build(
    grid: Grid,
    hdr: _Header,
    cfg: AliasConfig,
    feed: str,
    file_name: str,
    file_hash: str,
    latest: tuple[_dt.date, _dt.date] | None = None,
) -> ReadResult:
    """``latest``: (the day the file arrived, the latest plausible date), or None."""
    # Computed in stages (with_columns steps that materialise intermediate columns): one huge nested expression
    # costs Polars seconds of planning per call, whatever the row count.
    spec = hdr.spec
    width = grid.width
    cols = [f"c{j}" for j in range(width)]
    first, last = hdr.rows[0], hdr.rows[-1]
    notes = list(grid.notes)
    nt = cfg.null_tokens

    # ---- 1. classify rows: title / header / total / blank / data (regexes tolerate blanks inside "合 计")
    def spaced(words: Iterable[str]) -> str:
        return "|".join(r"\s*".join(re.escape(ch) for ch in w) for w in words)

    total_re = r"^\s*(?:" + spaced(cfg.total_markers) + r")"
    note_re = (r"^\s*(?:" + spaced(cfg.note_prefixes) + r")") if cfg.note_prefixes else "^$^"
    primary = sorted({lst[0][1] for lst in hdr.mapping.values()})
    df = grid.frame.with_columns(
        pl.int_range(0, grid.frame.height, dtype=pl.Int64).alias("_pos"),
        # a cell is filled when it has a non-blank character (same as "non-empty after strip", without the copy)
        pl.sum_horizontal([pl.col(c).str.contains(r"\S").fill_null(False).cast(pl.Int32) for c in cols]).alias(
            "_filled"
        ),
        pl.any_horizontal(
            [(pl.col(c).str.contains(total_re) & (pl.col(c).str.len_chars() <= 24)).fill_null(False) for c in cols]
        ).alias("_is_total"),
        pl.sum_horizontal(
            [
                (pl.col(f"c{j}").str.strip_chars() == pl.lit(str(hdr.labels[j]).strip()))
                .fill_null(False)
                .cast(pl.Int32)
                for j in primary
            ]
        ).alias("_rep"),
    )
    # a note ("制表人：…") only matters on a row with one filled cell: test those rows only
    single = df.filter(pl.col("_filled") == 1)
    note_pos = single.filter(
        pl.any_horizontal([pl.col(c).str.contains(note_re).fill_null(False) for c in cols])
    ).get_column("_pos")
    df = df.with_columns(
        pl.col("_pos").is_in(note_pos.implode()).alias("_has_note")
        if note_pos.len()
        else pl.lit(False).alias("_has_note")
    )
    kind = (
        pl.when(pl.col("_pos") < first)
        .then(pl.when(pl.col("_filled") == 0).then(_lit_str("blank")).otherwise(_lit_str("title")))
        .when(pl.col("_pos") <= last)
        .then(_lit_str("header"))
        .when(pl.col("_filled") == 0)
        .then(_lit_str("blank"))
        .when(pl.col("_is_total"))
        .then(_lit_str("total"))
        .when((pl.col("_filled") == 1) & pl.col("_has_note"))
        .then(_lit_str("title"))
        .when(pl.col("_rep") >= min(2, len(primary)))
        .then(_lit_str("header"))
        .otherwise(_lit_str("data"))
    )
    df = df.with_columns(kind.alias("_kind"))
    first_text = pl.concat_str([pl.col(c) for c in cols], separator=" ", ignore_nulls=True).str.slice(0, 60)
    skipped_rows = df.filter(pl.col("_kind") != "data").select(
        pl.col("_row").alias("source_row"), pl.col("_kind").alias("kind"), first_text.alias("text")
    )
    skipped = {k: 0 for k in SKIP_LABELS}
    for k, n in skipped_rows.group_by("kind").len().iter_rows():
        skipped[k] = n
    if len(hdr.rows) > 1:
        notes.append(f"表头占两行（第{first + 1}、{last + 1}行），已合并识别")
    if skipped["header"] > len(hdr.rows):
        notes.append(f"文件中间有{skipped['header'] - len(hdr.rows)}行重复的表头，已跳过")
    d = df.filter(pl.col("_kind") == "data")
    if d.height == 0:
        notes.append("文件只有表头，没有数据行")

    # ---- 2. XLSX: which ID / 户编号 cells were number cells (digits beyond the 15th are lost)?
    numeric_cols: set[int] = set()
    if grid.numeric_probe is not None and d.height:
        suspects = []
        for f in ("id_number", "household_id"):
            for _, j in hdr.mapping.get(f, []):
                sv = d[f"c{j}"].str.strip_chars()
                exact_double = sv.cast(pl.Int64, strict=False) == sv.cast(pl.Float64, strict=False).cast(
                    pl.Int64, strict=False
                )
                if bool((sv.str.contains(r"^\d{16,19}$") & exact_double).fill_null(False).any()):
                    suspects.append(j)
        if suspects:
            probe = grid.numeric_probe(sorted(set(suspects)))
            pos = d["_pos"]
            d = d.with_columns([ser.gather(pos).alias(f"_num{j}") for j, ser in probe.items()])
            numeric_cols = set(probe)

    # ---- 3. canonical raw text per field (cleaned cells; columns of one field coalesced in alias priority order)
    used = sorted({j for lst in hdr.mapping.values() for _, j in lst})
    d = nz.run(d, [nz.clean_cell_plan(f"c{j}", f"_k{j}", nt) for j in used])
    labels: dict[str, str] = {}
    raw_exprs = []
    for f, lst in hdr.mapping.items():
        labels[f] = str(hdr.labels[lst[0][1]]).strip()
        raw_exprs.append(pl.coalesce([pl.col(f"_k{j}") for _, j in lst]).alias(f"_r_{f}"))
        if len(lst) > 1:
            others = "、".join(f"“{str(hdr.labels[j]).strip()}”" for _, j in lst[1:])
            notes.append(f"列“{labels[f]}”与{others}都对应{spec.label_of(f)}，以“{labels[f]}”为准，空白处用其他列补充")
        if f in ("id_number", "household_id") and any(j in numeric_cols for _, j in lst):
            raw_exprs.append(
                pl.coalesce(
                    [
                        pl.when(pl.col(f"_k{j}").is_not_null()).then(
                            pl.col(f"_num{j}").fill_null(False) if j in numeric_cols else pl.lit(False)
                        )
                        for _, j in lst
                    ]
                )
                .fill_null(False)
                .alias(f"_numcell_{f}")
            )
    unused = [str(hdr.labels[j]).strip() for j in range(width) if j not in set(used) and not _blank(hdr.labels[j])]
    if unused:
        notes.append("未使用的列：" + "、".join(unused[:20]) + ("等" if len(unused) > 20 else ""))
    if grid.may_be_damaged:
        raw_exprs.append(
            pl.any_horizontal([pl.col(c).str.contains("\ufffd|锟斤拷").fill_null(False) for c in cols]).alias(
                "_damaged"
            )
        )
    else:
        raw_exprs.append(pl.lit(False).alias("_damaged"))
    extra_cols = []
    if grid.kind == "csv":
        hdr_width = max((j for j in range(width) if not _blank(hdr.labels[j])), default=-1) + 1
        extra_cols = cols[hdr_width:]
    raw_exprs.append(
        pl.any_horizontal([pl.col(c).str.strip_chars().fill_null("") != "" for c in extra_cols]).alias("_extra")
        if extra_cols
        else pl.lit(False).alias("_extra")
    )
    d = d.with_columns(raw_exprs)

    def R(f: str) -> pl.Expr:
        return pl.col(f"_r_{f}") if f in hdr.mapping else pl.lit(None, dtype=pl.String)

    def T(f: str) -> pl.Expr:
        return pl.col(f"_t_{f}")

    def lab(f: str) -> str:
        return labels.get(f) or spec.label_of(f)

    # ---- 4. typed values
    # Column-level shortcuts (decided once per column, never per row): skip NFKC when a column has no full-width
    # character, skip blank removal when it has no blank, and take the cheap path when every value is already clean.
    fields_typed = [f for f in hdr.mapping if spec.type_of(f) not in ("id", "name")]
    col_flags = _column_flags(d, {f: R(f) for f in fields_typed}, {f: spec.type_of(f) for f in fields_typed})
    plans = []
    typed: list[str] = []
    for f in fields_typed:
        t = spec.type_of(f)
        kw = {
            "nfkc": bool(col_flags.get(f"fw|{f}", True)),
            "spaces": bool(col_flags.get(f"sp|{f}", True)),
            "simple": bool(col_flags.get(f"simple|{f}", False)),
        }
        if t == "amount" and "万元" in header_key(lab(f)):
            kw["scale"] = 10000
            notes.append(f"“{lab(f)}”以万元为单位，已乘以10000换算为元")
        plans.append(nz.PLANS[t](f"_r_{f}", f"_t_{f}", **kw))
        typed.append(f)
    d = nz.run(d, plans)
    synonyms = [f for f in typed if f in spec.values and spec.type_of(f) == "text"]
    if synonyms:
        d = d.with_columns([nz.map_values(T(f), spec.values[f]).alias(f"_m_{f}") for f in synonyms])
    d = add_id_columns(d.with_columns(R("id_number").alias("_id_in")), "_id_in", prefix="_id")
    if "id_number" in hdr.mapping and "_numcell_id_number" in d.columns:
        nc = pl.col("_numcell_id_number")
        d = d.with_columns(
            pl.when(nc).then(_lit_str("mangled")).otherwise(pl.col("_id_status")).alias("_id_status"),
            *[
                pl.when(nc).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("_id_number", "_id_candidate", "_id_birth_date", "_id_sex")
            ],
        )
    name_v = normalise_expr(R("name")) if "name" in hdr.mapping else pl.lit(None, dtype=pl.String)
    d = d.with_columns(pl.when(name_v == "").then(None).otherwise(name_v).alias("_name"))

    # ---- 5. faults: (label, reject?, reason expression — null when the row is fine)
    checks: list[tuple[str, bool, pl.Expr]] = []
    checks.append(
        (
            "（整行）",
            True,
            pl.when(pl.col("_damaged")).then(
                _lit_str("本行含有无法识别的字符或空字符（文件编码损坏，或导出、传输时损坏）")
            ),
        )
    )
    checks.append(
        (
            "（整行）",
            True,
            pl.when(pl.col("_extra")).then(_lit_str("本行的列数比表头多（可能有未加引号的逗号），各列已错位")),
        )
    )
    note_counts: list[tuple[pl.Expr, str]] = []
    emptied: list[tuple[str, pl.Expr]] = []  # (field, keep): a value the warnings say was set empty
    for f in typed:
        t = spec.type_of(f)
        r, v, L = R(f), T(f), lab(f)
        if t == "date":
            is_event = f == spec.event_date
            lo, hi = EVENT_DATE_RANGE if is_event else BIRTH_DATE_RANGE
            in_range = nz.date_in_range(v, lo, hi)
            future = (v > pl.lit(latest[1])).fill_null(False) if latest else pl.lit(False)
            day = latest[0].isoformat() if latest else ""
            if is_event:
                checks.append(
                    (
                        L,
                        True,
                        pl.when(r.is_null() & pl.lit(not spec.event_date_optional))
                        .then(_lit_str(L + "为空"))
                        .when(r.is_not_null() & v.is_null())
                        .then(_lit_str(L) + _quote(r) + _lit_str("无法识别为日期"))
                        .when(r.is_not_null() & ~in_range)
                        .then(_lit_str(L) + _quote(r) + _lit_str(f"不在合理范围（{lo.year}—{hi.year}年）"))
                        .when(future)
                        .then(
                            _lit_str(L)
                            + _quote(r)
                            + _lit_str(f"晚于文件报送的日期（{day}），事情不可能发生在报送之后，请核对日期后重新报送")
                        ),
                    )
                )
            else:
                checks.append(
                    (
                        L,
                        False,
                        pl.when(r.is_not_null() & (v.is_null() | ~in_range))
                        .then(_lit_str(L) + _quote(r) + _lit_str("无法识别为日期，已置空"))
                        .when(future)
                        .then(_lit_str(L) + _quote(r) + _lit_str(f"晚于文件报送的日期（{day}），已置空")),
                    )
                )
                emptied.append((f, in_range.fill_null(False) & ~future))
            note_counts.append(
                (
                    r.is_not_null() & in_range & (r != v.dt.strftime("%Y-%m-%d")),
                    f"{L}：{{n}}个日期（如“2026/3/5”“2026年3月5日”、Excel日期序号或带时间的日期）已统一为年-月-日",
                )
            )
        elif t == "amount":
            if spec.table == "dept_record":
                checks.append(
                    (
                        L,
                        True,
                        pl.when(r.is_not_null() & v.is_null())
                        .then(_lit_str(L) + _quote(r) + _lit_str("不是数字"))
                        .when(v < 0)
                        .then(_lit_str(L) + _quote(r) + _lit_str("为负数（如为退费冲销，请与原记录合并后再报）")),
                    )
                )
            else:
                checks.append(
                    (
                        L,
                        False,
                        pl.when(r.is_not_null() & v.is_null()).then(
                            _lit_str(L) + _quote(r) + _lit_str("不是数字，已置空")
                        ),
                    )
                )
            note_counts.append(
                (
                    r.is_not_null() & v.is_not_null() & ~nz.is_plain_number(r),
                    f"{L}：{{n}}个金额（含千分位逗号、“元”、货币符号、全角数字或“万”）已统一为数字",
                )
            )
        elif t in ("int", "month", "bool", "sex"):
            what = {
                "int": "不是整数，已置空",
                "month": "无法识别为年月，已置空",
                "bool": "不是“是/否”，已置空",
                "sex": "无法识别，已按证件号码推算",
            }[t]
            checks.append(
                (L, False, pl.when(r.is_not_null() & v.is_null()).then(_lit_str(L) + _quote(r) + _lit_str(what)))
            )
        if f in synonyms:
            note_counts.append((v.is_not_null() & (v != pl.col(f"_m_{f}")), f"{L}：{{n}}个同义写法已统一为标准值"))
    if spec.table in ("dept_record", "registry_person"):
        has_name = "name" in hdr.mapping
        ident_label = "/".join(lab(f) for f in ("name", "id_number") if f in hdr.mapping)
        checks.append(
            (
                ident_label,
                True,
                pl.when(pl.col("_name").is_null() & (pl.col("_id_status") == "missing")).then(
                    _lit_str(("姓名为空且" if has_name else "") + "证件号码为空，无法识别人员")
                ),
            )
        )
    if spec.table == "registry_person":
        hid, L = T("household_id"), lab("household_id")
        hid_bad = (
            (pl.col("_numcell_household_id") & hid.str.contains(r"^\d{16,}$"))
            if "_numcell_household_id" in d.columns
            else pl.lit(False)
        )
        checks.append(
            (
                L,
                True,
                pl.when(hid.is_null())
                .then(_lit_str(L + "为空"))
                .when(hid_bad)
                .then(_lit_str(L) + _quote(hid) + _lit_str("在Excel中被存成了数字，超过15位的部分已失真")),
            )
        )
    if spec.table in ("registry_person", "village"):
        vc = T("village_code")
        d = d.with_columns(pl.when(vc.str.contains(r"^\d{12}$")).then(vc).alias("_vc"))
        if spec.table == "registry_person":
            d = d.with_columns(pl.col("_vc").max().over(T("household_id")).alias("_vc_hh"))
        else:
            d = d.with_columns(pl.lit(None, dtype=pl.String).alias("_vc_hh"))
        L = lab("village_code")
        vc_raw = R("village_code")
        checks.append(
            (
                L,
                True,
                pl.when(pl.col("_vc").is_null() & pl.col("_vc_hh").is_null()).then(
                    pl.when(vc_raw.is_null())
                    .then(_lit_str(L + "为空"))
                    .otherwise(_lit_str(L) + _quote(vc_raw) + _lit_str("不是12位数字"))
                ),
            )
        )
        checks.append(
            (
                L,
                False,
                pl.when(pl.col("_vc").is_null() & pl.col("_vc_hh").is_not_null()).then(
                    _lit_str(L)
                    + _quote(vc_raw.fill_null(""))
                    + _lit_str("无效，已按同户其他成员补为")
                    + pl.col("_vc_hh")
                ),
            )
        )
        d = d.with_columns(pl.coalesce(pl.col("_vc"), pl.col("_vc_hh")).alias("_t_village_code"))

    d = d.with_columns([e.alias(f"_x{i}") for i, (_, _, e) in enumerate(checks)])
    if emptied:
        d = d.with_columns([pl.when(keep).then(T(f)).alias(f"_t_{f}") for f, keep in emptied])

    d = d.with_columns(fault_columns(checks))
    # the raw grid and the per-check columns are no longer needed: filter a narrower frame
    d = d.drop([c for c in d.columns if re.match(r"^(c\d+|_k\d+|_x\d+|_num\d+|_q\d+)$", c)])
    rejected, ok, warnings = split_by_verdict(d, feed, file_name, file_hash)
    if grid.unterminated and grid.frame.height:
        # the file ends in the middle of its last line: that row may be cut off (read while still being written) —
        # the clerk is told whether the row was accepted, rejected or taken for a total line
        last = int(grid.frame["_row"].max())
        if ok.height and ok["_row"].max() == last:
            cut = "文件末尾没有换行：这一行可能不完整（文件可能在写入或复制完成前就被读取了），请核对；如有完整的文件，请用同一文件名重新报送，新文件将取代本文件"
            warnings = pl.concat(
                [
                    warnings,
                    pl.DataFrame({"source_row": [last], "field": ["（整行）"], "reason": [cut]}, schema=ISSUE_SCHEMA),
                ]
            )
        notes.append(
            f"文件末尾没有换行，最后一行（第{last}行）可能不完整，请核对；如有完整的文件，请用同一文件名重新报送"
        )

    # ---- 6. notes on what was normalised, each with the rows behind its count (one pass over the accepted rows)
    count_rows = pl.DataFrame(schema=COUNT_ROWS_SCHEMA)
    if ok.height:
        masks = list(note_counts)
        masks.append(
            (
                pl.col("_name").is_not_null() & (pl.col("_name") != R("name").str.strip_chars()),
                "姓名：{n}个姓名去掉了空格、统一了全角字符或少数民族姓名中的间隔点（·）",
            )
        )
        if spec.table != "village" and "id_number" in hdr.mapping:
            masks.append(
                (
                    pl.col("_id_status").is_in(["valid", "converted15"]) & (pl.col("_id_clean") != pl.col("_id_in")),
                    "证件号码：{n}个含空格、全角数字或小写x的号码已统一",
                )
            )
            masks += [(pl.col("_id_status") == status, "证件号码：" + t) for status, t in _ID_NOTES.items()]
        found, count_rows = _counted_rows(ok, masks)
        notes += found
    for f in synonyms:
        ok = ok.with_columns(pl.col(f"_m_{f}").alias(f"_t_{f}"))
    rows = _assemble(
        ok, spec, feed, file_name, file_hash, set(typed) | ({"village_code"} if spec.table != "dept_record" else set())
    )
    if spec.head_only:
        notes.append("本类数据按户主登记：姓名为户主姓名")
    columns = [
        (str(hdr.labels[j]).strip(), next((f for f, lst in hdr.mapping.items() if any(jj == j for _, jj in lst)), None))
        for j in range(width)
        if not _blank(hdr.labels[j])
    ]
    return ReadResult(
        feed=feed,
        file_name=file_name,
        file_hash=file_hash,
        rows=rows,
        rejected=rejected,
        rows_in_file=grid.rows_in_file,
        skipped=skipped,
        encoding=grid.encoding,
        sheet=grid.sheet,
        header_row=int(df["_row"][first]),
        notes=notes,
        table=spec.table,
        spec=spec.name,
        warnings=warnings,
        skipped_rows=skipped_rows,
        columns=columns,
        file_format=grid.kind,
        label=spec.label,
        count_rows=count_rows,
    )


def _counted_rows(ok: pl.DataFrame, masks: list[tuple[pl.Expr, str]]) -> tuple[list[str], pl.DataFrame]:
    """For each (mask, note template): the note with its count, and the rows behind it as runs of consecutive row
    numbers (``COUNT_ROWS_SCHEMA``), so a receipt can say which rows a count means — set-based, whatever the size."""
    flags = ok.select(pl.col("_row"), *[m.fill_null(False).alias(f"m{i}") for i, (m, _) in enumerate(masks)])
    totals = flags.select([pl.col(f"m{i}").sum() for i in range(len(masks))]).row(0)
    notes: list[str] = []
    parts = []
    for i, ((_, template), n) in enumerate(zip(masks, totals)):
        if not n:
            continue
        item = template.format(n=n)
        runs = _runs(flags.filter(pl.col(f"m{i}")).get_column("_row"))
        notes.append(f"{item}（{rows_text(runs)}）")
        parts.append(runs.with_columns(pl.lit(item, dtype=pl.String).alias("item")).select(list(COUNT_ROWS_SCHEMA)))
    return notes, (pl.concat(parts) if parts else pl.DataFrame(schema=COUNT_ROWS_SCHEMA))


def _runs(rows: pl.Series) -> pl.DataFrame:
    """Sorted row numbers → runs of consecutive numbers (first_row, last_row)."""
    d = pl.DataFrame({"r": rows.sort()})
    return (
        d.with_columns((pl.col("r").diff().fill_null(1) != 1).cum_sum().alias("g"))
        .group_by("g", maintain_order=True)
        .agg(pl.col("r").min().alias("first_row"), pl.col("r").max().alias("last_row"))
        .drop("g")
    )


def rows_text(runs: pl.DataFrame, most: int = 8) -> str:
    """``第3—5、9行`` (at most ``most`` runs; the rest are in the receipt's 计数明细 sheet)."""
    shown = [f"{a}" if a == b else f"{a}—{b}" for a, b in runs.head(most).select("first_row", "last_row").iter_rows()]
    more = f"等{runs.height}段，逐行见回执“计数明细”" if runs.height > most else ""
    return "第" + "、".join(shown) + "行" + more


_ID_NOTES = {
    "converted15": "{n}个15位旧身份证号已转换为18位",
    "mangled": "{n}个证件号码被表格软件变成了数字或科学计数法（如4.50222E+17），已无法使用（保留该行，按姓名和地址匹配）；请把证件号码列设为文本格式后导出",
    "bad_checksum": "{n}个证件号码校验位不对（可能抄错一位），保留原值，匹配时需核对",
    "bad_date": "{n}个证件号码中的出生日期不存在，保留原值",
    "bad_area": "{n}个证件号码的地址码不对，保留原值",
    "bad_length": "{n}个证件号码位数或格式不对，保留原值",
    "missing": "{n}行没有填写证件号码（按姓名和地址匹配）",
}


def _assemble(
    ok: pl.DataFrame, spec: FeedSpec, feed: str, file_name: str, file_hash: str, typed: set[str]
) -> pl.DataFrame:
    schema = SCHEMAS[spec.table]

    def t(f: str) -> pl.Expr:
        return pl.col(f"_t_{f}") if f in typed else pl.lit(None, dtype=schema.get(f, pl.String))

    exprs: dict[str, pl.Expr] = {
        "source": _lit_str(feed),
        "source_file": _lit_str(file_name),
        "source_row": pl.col("_row"),
        "file_hash": _lit_str(file_hash),
        "event_key": pl.lit(None, dtype=pl.String),
    }
    if spec.table == "village":
        vc = t("village_code")
        exprs.update(
            {
                "village_code": vc,
                "village": t("village"),
                "township": t("township"),
                "county": t("county"),
                "township_code": vc.str.slice(0, 9),
                "county_code": vc.str.slice(0, 6),
                "former_deep_poverty": t("former_deep_poverty"),
                "resettlement_community": t("resettlement_community"),
            }
        )
    else:
        exprs.update(
            {
                "name": pl.col("_name"),
                "id_raw": pl.col("_id_in"),
                "id_status": pl.col("_id_status"),
                "id_number": pl.col("_id_number"),
                "id_candidate": pl.col("_id_candidate"),
            }
        )
        if spec.table == "registry_person":
            vc = t("village_code")
            exprs.update(
                {
                    "village_code": vc,
                    "county_code": vc.str.slice(0, 6),
                    "township_code": vc.str.slice(0, 9),
                    "sex": pl.coalesce(t("sex"), pl.col("_id_sex")),
                    "birth_date": pl.coalesce(t("birth_date"), pl.col("_id_birth_date")),
                }
            )
            for f in REGISTRY_COLUMNS:
                if f not in exprs:
                    exprs[f] = t(f)
        else:
            exprs.update(
                {
                    "sex": pl.col("_id_sex"),
                    "birth_date": pl.col("_id_birth_date"),
                    "is_head_only": pl.lit(spec.head_only, dtype=pl.Boolean),
                    "event_date": t(spec.event_date) if spec.event_date else pl.lit(None, dtype=pl.Date),
                }
            )
            for f in DEPT_COLUMNS:
                if f not in exprs:
                    exprs[f] = t(f) if f != "event_date" else exprs[f]
            exprs["event_key"] = _event_key(spec, t)
    out = ok.select([exprs[c].cast(dt).alias(c) for c, dt in schema.items()])
    if spec.table == "registry_person":
        derived = pl.len().over("household_id").cast(pl.Int32)
        out = out.with_columns(pl.coalesce(pl.col("household_size"), derived).alias("household_size"))
    return out


def _event_key(spec: FeedSpec, t) -> pl.Expr:
    place = pl.coalesce(t("village"), t("township"), t("county"), t("hukou_address"))
    person = pl.coalesce(
        _lit_str("I:") + pl.col("_id_number"),
        _lit_str("C:") + pl.col("_id_candidate"),
        _lit_str("N:") + nz.key_text(pl.col("_name")) + _lit_str("@") + nz.key_text(place),
    )
    parts = [_lit_str(spec.name)]
    for f in spec.event_key:
        if f == "person":
            parts.append(person)
            continue
        ty = spec.type_of(f)
        v = t(f)
        if ty == "date":
            parts.append(nz.key_date(v))
        elif ty == "amount":
            parts.append(nz.key_amount(v))
        else:
            parts.append(nz.key_text(v))
    return pl.concat_str(parts, separator="|")
