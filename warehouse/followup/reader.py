"""Reading one feedback file (landing/feedback/) into canonical rows — the department readers' robustness, our columns.

``read_feedback_file(path, file_name, file_hash, home)`` → :class:`sources.read.ReadResult` with ``table =
"feedback_record"`` and ``rows`` in :data:`FEEDBACK_COLUMNS`, or raises :class:`sources.errors.UnreadableFile`.

It reuses the building blocks of ``sources/`` — format sniffing (CSV in GBK/GB18030/UTF-8/UTF-16, XLSX, XLS, HTML
disguised as Excel, encrypted or truncated workbooks), raw grids with the row numbers a person sees, the header
search over the first 30 rows with the aliases of ``aliases.yaml`` (``feeds.feedback``; a file that is really another
feed's is reported as "放错了文件夹"), cell cleaning and the date / amount parsers — but assembles its own columns:
``sources.read`` builds only registry / village / department rows (see docs/FOLLOWUP.md for the small change that
would let it build these too).

Row accounting as in the readers: ``rows_in_file == accepted + rejected + skipped`` (title, header, total, blank).
A row with an empty 核实结果 is *accepted* with ``verify_result = null`` (not verified yet) — in a returned suspect
workbook most rows may be like that. What rejects a row here (format only; checks against what was pushed are in
:mod:`warehouse.followup.feedback`): no 户编号, or one Excel turned into a number; a 核实结果 that is none of
纳入监测 / 不纳入 / 待核实 (synonyms in aliases.yaml); 纳入监测 or 不纳入 without a 核实日期; any date that cannot be read
or lies outside 2000–2099; a broken-encoding row; a CSV row with more cells than the header.
Kept with a warning: a category that is not one of the three official categories (set empty), an unreadable income.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from sources import normalise as nz
from sources import read as _read
from sources.decode import mojibake_advice, mojibake_reason
from sources.errors import UnreadableFile
from sources.spec import load_config

FEED = "feedback"
TABLE = "feedback_record"
#: a returned 待核实匹配清单 (spec review_feedback): its rows decide links (warehouse.review), not households
REVIEW_TABLE = "link_decision"
NONE_OF_THEM = "均不是"
RESULTS = ("纳入监测", "不纳入", "待核实")
NAMESAKE_RESULTS = ("是本户", "不是本户")
DECISIONS = ("纳入监测", "不纳入")
CATEGORIES = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
DATE_RANGE = (_dt.date(2000, 1, 1), _dt.date(2099, 12, 31))
_SPLIT = r"[、,，;；/\n]+"
_DATE_SPLIT = r"[、,，;；\n]+|\s{2,}"

FEEDBACK_COLUMNS: dict[str, pl.DataType] = {
    "source": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int64,
    "file_hash": pl.String,
    "household_id": pl.String,
    "county": pl.String,
    "township": pl.String,
    "village": pl.String,
    "head_name": pl.String,
    "verify_result": pl.String,
    "verify_date": pl.Date,
    "verifier": pl.String,
    "category": pl.String,
    "suggested_category": pl.String,
    "risk_types": pl.List(pl.String),
    "helper_name": pl.String,
    "helper_date": pl.Date,
    "measures": pl.List(pl.String),
    "measure_date": pl.Date,
    "visit_dates": pl.List(pl.Date),
    "included_on": pl.Date,
    "county_approved_on": pl.Date,
    "eliminated_on": pl.Date,
    "income": pl.Float64,
    "pushed_on": pl.Date,
    "note": pl.String,
    "namesake_result": pl.String,  # 同名记录核实 of a 同名待确认 household: 是本户 | 不是本户 | null
}
REVIEW_COLUMNS: dict[str, pl.DataType] = {
    "source": pl.String,
    "source_file": pl.String,  # the returned file and the row a person sees
    "source_row": pl.Int64,
    "file_hash": pl.String,
    "feed_label": pl.String,  # 来源部门 as written
    "record_file": pl.String,  # 文件名 / 行号 of the department record (as the list showed them)
    "record_row": pl.Int64,
    "rank": pl.Int64,  # 候选序号 of the row's candidate
    "household_id": pl.String,  # 户编号 of the row's candidate
    "cand_id": pl.String,  # 候选人证件号码 of the row's candidate
    "answer": pl.String,  # the candidate number the county chose ("2"), 均不是, or null (not answered on this row)
    "verify_date": pl.Date,
}
REVIEW_FIELD_ZH = {
    "feed_label": "来源部门",
    "record_file": "文件名",
    "record_row": "行号",
    "rank": "候选序号",
    "household_id": "户编号",
    "cand_id": "候选人证件号码",
    "review_result": "核实结果",
    "verify_date": "核实日期",
}

DATE_FIELDS = (
    "verify_date",
    "helper_date",
    "measure_date",
    "included_on",
    "county_approved_on",
    "eliminated_on",
    "pushed_on",
)
TEXT_FIELDS = ("county", "township", "village", "head_name", "verifier", "helper_name", "note")
FIELD_ZH = {
    "household_id": "户编号",
    "county": "县(市、区)",
    "township": "乡(镇)",
    "village": "行政村",
    "head_name": "户主姓名",
    "verify_result": "核实结果",
    "verify_date": "核实日期",
    "verifier": "核实人",
    "category": "认定类别（监测对象类别）",
    "suggested_category": "疑似类别",
    "risk_types": "风险类型",
    "helper_name": "帮扶责任人",
    "helper_date": "帮扶责任人安排日期",
    "measures": "帮扶措施",
    "measure_date": "措施日期",
    "visit_dates": "走访日期",
    "included_on": "纳入日期",
    "county_approved_on": "县级审定日期",
    "eliminated_on": "风险消除日期",
    "income": "人均纯收入（元）",
    "pushed_on": "推送日期",
    "note": "核实说明",
    "namesake_result": "同名记录核实",
}


def _s(x: str) -> pl.Expr:
    return pl.lit(x, dtype=pl.String)


def _quote(raw: pl.Expr) -> pl.Expr:
    r = raw.str.replace_all(r"[\r\n\t]+", " ")
    r = pl.when(r.str.len_chars() > 30).then(r.str.slice(0, 30) + _s("…")).otherwise(r)
    return _s("“") + r + _s("”")


def read_feedback_file(
    path: Path, file_name: str | None = None, file_hash: str | None = None, home: Path | None = None
) -> _read.ReadResult:
    """Read a dropped (archived) feedback file. Raises :class:`UnreadableFile` for a file that cannot be read."""
    t0 = time.perf_counter()
    data = Path(path).read_bytes()
    file_name = file_name or Path(path).name
    file_hash = file_hash or hashlib.sha256(data).hexdigest()
    try:
        cfg = load_config(home)
        own = cfg.specs_for_folder(FEED)
        if not own:
            raise UnreadableFile(
                "unknown_feed",
                "数据类别“feedback”没有配置表头对照（aliases.yaml 缺少 feeds.feedback），系统不知道如何读取核实结果文件。请联系系统管理员。",
            )
        grids, pre_notes = _read.file_grids(data, file_name)
        failure: UnreadableFile | None = None
        any_grid = False
        result = None
        for grid in grids:
            any_grid = True
            head = grid.head_rows(_read.HEADER_SCAN + 2)
            try:
                hdr = _read._find_header(head, own, cfg, FEED, file_name)
            except UnreadableFile as exc:
                sample = "\n".join(",".join(c for c in row if c) for row in head)
                moj = mojibake_reason(sample)
                if moj and exc.code in ("no_header", "missing_columns"):
                    exc = UnreadableFile("mojibake", moj + mojibake_advice())
                rank = {"wrong_feed": 5, "missing_columns": 4, "mojibake": 3, "no_header": 2}
                if failure is None or rank.get(exc.code, 0) > rank.get(failure.code, 0):
                    failure = exc
                continue
            grid.notes[:0] = pre_notes
            build = _build_review if hdr.spec.table == REVIEW_TABLE else _build
            result = build(grid, hdr, cfg, file_name, file_hash)
            break
        if result is None:
            if not any_grid:
                raise UnreadableFile("empty", "文件中没有任何数据（所有工作表都是空的）。请重新导出后再放入文件夹。")
            assert failure is not None
            raise failure
    except UnreadableFile as exc:
        exc.feed = exc.feed or FEED
        exc.file_name = exc.file_name or file_name
        exc.file_hash = exc.file_hash or file_hash
        raise
    result.seconds = time.perf_counter() - t0
    result.check_accounting()
    return result


def _classify(grid, hdr, cfg) -> pl.DataFrame:
    """Grid + ``_kind`` (title / header / total / blank / data), as the department readers classify rows."""
    cols = [f"c{j}" for j in range(grid.width)]
    first, last = hdr.rows[0], hdr.rows[-1]

    def spaced(words) -> str:
        return "|".join(r"\s*".join(re.escape(ch) for ch in w) for w in words)

    total_re = r"^\s*(?:" + spaced(cfg.total_markers) + r")"
    note_re = (r"^\s*(?:" + spaced(cfg.note_prefixes) + r")") if cfg.note_prefixes else "^$^"
    primary = sorted({lst[0][1] for lst in hdr.mapping.values()})
    df = grid.frame.with_columns(
        pl.int_range(0, grid.frame.height, dtype=pl.Int64).alias("_pos"),
        pl.sum_horizontal([(pl.col(c).str.strip_chars().fill_null("") != "").cast(pl.Int32) for c in cols]).alias(
            "_filled"
        ),
        pl.any_horizontal(
            [(pl.col(c).str.contains(total_re) & (pl.col(c).str.len_chars() <= 24)).fill_null(False) for c in cols]
        ).alias("_is_total"),
        pl.any_horizontal([pl.col(c).str.contains(note_re).fill_null(False) for c in cols]).alias("_has_note"),
        pl.sum_horizontal(
            [
                (pl.col(f"c{j}").str.strip_chars() == pl.lit(str(hdr.labels[j]).strip()))
                .fill_null(False)
                .cast(pl.Int32)
                for j in primary
            ]
        ).alias("_rep"),
    )
    kind = (
        pl.when(pl.col("_pos") < first)
        .then(pl.when(pl.col("_filled") == 0).then(_s("blank")).otherwise(_s("title")))
        .when(pl.col("_pos") <= last)
        .then(_s("header"))
        .when(pl.col("_filled") == 0)
        .then(_s("blank"))
        .when(pl.col("_is_total"))
        .then(_s("total"))
        .when((pl.col("_filled") == 1) & pl.col("_has_note"))
        .then(_s("title"))
        .when(pl.col("_rep") >= min(2, len(primary)))
        .then(_s("header"))
        .otherwise(_s("data"))
    )
    return df.with_columns(kind.alias("_kind"))


@dataclass
class _Sheet:
    """The data rows of a header-mapped grid with the cleaned raw text of every mapped field (``_r_<field>``), the
    row-level faults ``_damaged`` / ``_extra``, and what was skipped."""

    grid: Any
    hdr: Any
    d: pl.DataFrame
    skipped: dict[str, int]
    skipped_rows: pl.DataFrame
    notes: list[str]
    labels: dict[str, str]
    header_row: int  # physical row of the (first) header row

    def R(self, f: str) -> pl.Expr:
        return pl.col(f"_r_{f}") if f in self.hdr.mapping else pl.lit(None, dtype=pl.String)

    def lab(self, f: str) -> str:
        return self.labels.get(f) or self.hdr.spec.label_of(f)

    def row_checks(self) -> list[tuple[str, bool, pl.Expr]]:
        """Faults of a whole row (field label, reject?, reason or null): broken encoding, cells beyond the header."""
        return [
            ("（整行）", True, pl.when(pl.col("_damaged")).then(_s("本行含有无法识别的字符（文件编码损坏）"))),
            (
                "（整行）",
                True,
                pl.when(pl.col("_extra")).then(_s("本行的列数比表头多（可能有未加引号的逗号），各列已错位")),
            ),
        ]


def _sheet(grid, hdr, cfg) -> _Sheet:
    notes = list(grid.notes)
    df = _classify(grid, hdr, cfg)
    cols = [f"c{j}" for j in range(grid.width)]
    first_text = pl.concat_str([pl.col(c) for c in cols], separator=" ", ignore_nulls=True).str.slice(0, 60)
    skipped_rows = df.filter(pl.col("_kind") != "data").select(
        pl.col("_row").alias("source_row"), pl.col("_kind").alias("kind"), first_text.alias("text")
    )
    skipped = {k: 0 for k in _read.SKIP_LABELS}
    for k, n in skipped_rows.group_by("kind").len().iter_rows():
        skipped[k] = n
    d = df.filter(pl.col("_kind") == "data")
    if d.height == 0:
        notes.append("文件只有表头，没有数据行")

    # ---- raw text per field (cleaned cells; columns of one field coalesced in alias priority order)
    used = sorted({j for lst in hdr.mapping.values() for _, j in lst})
    d = nz.run(d, [nz.clean_cell_plan(f"c{j}", f"_k{j}", cfg.null_tokens) for j in used])
    labels: dict[str, str] = {}
    exprs = []
    for f, lst in hdr.mapping.items():
        labels[f] = str(hdr.labels[lst[0][1]]).strip()
        exprs.append(pl.coalesce([pl.col(f"_k{j}") for _, j in lst]).alias(f"_r_{f}"))
    exprs.append(
        pl.any_horizontal([pl.col(c).str.contains("\ufffd|锟斤拷").fill_null(False) for c in cols]).alias("_damaged")
        if grid.may_be_damaged
        else pl.lit(False).alias("_damaged")
    )
    extra = []
    if grid.kind == "csv":
        hdr_width = max((j for j in range(grid.width) if not _read._blank(hdr.labels[j])), default=-1) + 1
        extra = cols[hdr_width:]
    exprs.append(
        pl.any_horizontal([pl.col(c).str.strip_chars().fill_null("") != "" for c in extra]).alias("_extra")
        if extra
        else pl.lit(False).alias("_extra")
    )
    d = d.with_columns(exprs)
    unused = [
        str(hdr.labels[j]).strip() for j in range(grid.width) if j not in set(used) and not _read._blank(hdr.labels[j])
    ]
    if unused:
        notes.append("未使用的列：" + "、".join(unused[:20]) + ("等" if len(unused) > 20 else ""))
    return _Sheet(grid, hdr, d, skipped, skipped_rows, notes, labels, int(df["_row"][hdr.rows[0]]))


def _build(grid, hdr, cfg, file_name: str, file_hash: str) -> _read.ReadResult:
    sheet = _sheet(grid, hdr, cfg)
    spec, d, notes, R, lab = hdr.spec, sheet.d, sheet.notes, sheet.R, sheet.lab

    # ---- XLSX: 户编号 cells that are number cells with 16+ digits lost their last digits
    numeric_hid = pl.lit(False)
    if grid.numeric_probe is not None and d.height and "household_id" in hdr.mapping:
        probe_cols = [j for _, j in hdr.mapping["household_id"]]
        sv = R("household_id")
        if bool(d.select(sv.str.contains(r"^\d{16,}(\.0+)?$").fill_null(False).any()).item()):
            probe = grid.numeric_probe(probe_cols)
            pos = d["_pos"]
            d = d.with_columns(pl.any_horizontal([ser.gather(pos) for ser in probe.values()]).alias("_hid_num"))
            numeric_hid = pl.col("_hid_num")

    # ---- typed values
    plans = [nz.code_plan("_r_household_id", "_t_household_id")] if "household_id" in hdr.mapping else []
    for f in DATE_FIELDS:
        if f in hdr.mapping:
            plans.append(nz.date_plan(f"_r_{f}", f"_t_{f}"))
    if "income" in hdr.mapping:
        plans.append(nz.amount_plan("_r_income", "_t_income"))
    for f in TEXT_FIELDS + ("verify_result", "category", "suggested_category", "namesake_result"):
        if f in hdr.mapping:
            plans.append(nz.text_plan(f"_r_{f}", f"_t_{f}"))
    d = nz.run(d, plans)

    def T(f: str, dtype=pl.String) -> pl.Expr:
        return pl.col(f"_t_{f}") if f in hdr.mapping else pl.lit(None, dtype=dtype)

    result = T("verify_result")
    if "verify_result" in spec.values:
        result = nz.map_values(result.str.replace_all(r"\s+", ""), spec.values["verify_result"])
    category = T("category")
    if "category" in spec.values:
        category = nz.map_values(category, spec.values["category"])
    namesake = T("namesake_result")
    if "namesake_result" in spec.values:
        namesake = nz.map_values(namesake.str.replace_all(r"\s+", ""), spec.values["namesake_result"])
    d = d.with_columns(result.alias("_result"), category.alias("_category"), namesake.alias("_namesake"))

    # lists: risk types and measures (several values per cell), visit dates (several dates per cell)
    def split_list(f: str) -> pl.Expr:
        if f not in hdr.mapping:
            return pl.lit(None, dtype=pl.List(pl.String))
        items = (
            R(f)
            .str.normalize("NFKC")
            .str.replace_all(_SPLIT, "\u0001")
            .str.split("\u0001")
            .list.eval(pl.element().str.strip_chars())
            .list.eval(pl.element().filter(pl.element() != ""))
        )
        return pl.when(R(f).is_null()).then(None).otherwise(items)

    d = d.with_columns(split_list("risk_types").alias("_risk_types"), split_list("measures").alias("_measures"))
    if "risk_types" in hdr.mapping and "risk_types" in spec.values:
        mapping = spec.values["risk_types"]
        d = d.with_columns(pl.col("_risk_types").list.eval(nz.map_values(pl.element(), mapping)).alias("_risk_types"))
    if "visit_dates" in hdr.mapping:
        vd = (
            d.select(
                pl.col("_row"),
                R("visit_dates").str.replace_all(_DATE_SPLIT, "\u0001").str.split("\u0001").alias("_v"),
            )
            .explode("_v")
            .with_columns(pl.col("_v").str.strip_chars())
            .filter(pl.col("_v").is_not_null() & (pl.col("_v") != ""))
        )
        vd = nz.run(vd, [nz.date_plan("_v", "_vd")])
        vd = vd.with_columns((pl.col("_vd").is_null() | ~nz.date_in_range(pl.col("_vd"), *DATE_RANGE)).alias("_vbad"))
        agg = vd.group_by("_row").agg(
            pl.col("_vd").filter(~pl.col("_vbad")).unique().sort().alias("_visits"),
            pl.col("_v").filter(pl.col("_vbad")).first().alias("_vbad_text"),
        )
        d = d.join(agg, on="_row", how="left")
    else:
        d = d.with_columns(
            pl.lit(None, dtype=pl.List(pl.Date)).alias("_visits"), pl.lit(None, dtype=pl.String).alias("_vbad_text")
        )

    # ---- faults: (field label, reject?, reason or null)
    checks = sheet.row_checks()
    hid, hid_raw, L = T("household_id"), R("household_id"), lab("household_id")
    checks.append(
        (
            L,
            True,
            pl.when(hid.is_null())
            .then(_s(L + "为空"))
            .when(
                hid_raw.str.contains(r"(?i)^\d+(\.\d+)?e\+?\d+$")
                | (numeric_hid & hid.str.contains(r"^\d{16,}$")).fill_null(False)
            )
            .then(
                _s(L)
                + _quote(hid_raw)
                + _s("在Excel中被存成了数字，超过15位的部分已失真；请把该列设为文本格式后重新填写")
            ),
        )
    )

    def unknown_value(f: str, col: str, allowed: tuple[str, ...]) -> tuple[str, bool, pl.Expr]:
        L = lab(f)
        return (
            L,
            True,
            pl.when(pl.col(col).is_not_null() & ~pl.col(col).is_in(list(allowed))).then(
                _s(L) + _quote(R(f)) + _s("无法识别，应填写：" + "、".join(allowed[:-1]) + "或" + allowed[-1])
            ),
        )

    if "verify_result" in hdr.mapping:
        L = lab("verify_result")
        checks.append(unknown_value("verify_result", "_result", RESULTS))
        dl = lab("verify_date")
        checks.append(
            (
                dl,
                True,
                pl.when(
                    pl.col("_result").is_in(list(DECISIONS))
                    & T("verify_date", pl.Date).is_null()
                    & R("verify_date").is_null()
                ).then(_s(f"{L}为“") + pl.col("_result") + _s(f"”但{dl}为空，请补填{dl}（核实截止日期按此判断）")),
            )
        )
    if "namesake_result" in hdr.mapping:
        checks.append(unknown_value("namesake_result", "_namesake", NAMESAKE_RESULTS))
    for f in DATE_FIELDS:
        if f not in hdr.mapping:
            continue
        r, v, L = R(f), T(f, pl.Date), lab(f)
        checks.append(
            (
                L,
                True,
                pl.when(r.is_not_null() & v.is_null())
                .then(_s(L) + _quote(r) + _s("无法识别为日期"))
                .when(r.is_not_null() & ~nz.date_in_range(v, *DATE_RANGE))
                .then(_s(L) + _quote(r) + _s(f"不在合理范围（{DATE_RANGE[0].year}—{DATE_RANGE[1].year}年）")),
            )
        )
    if "visit_dates" in hdr.mapping:
        L = lab("visit_dates")
        checks.append(
            (
                L,
                True,
                pl.when(pl.col("_vbad_text").is_not_null()).then(
                    _s(L) + _quote(pl.col("_vbad_text")) + _s("无法识别为日期（多个日期请用顿号或逗号分隔）")
                ),
            )
        )
    if "income" in hdr.mapping:
        L = lab("income")
        checks.append(
            (
                L,
                False,
                pl.when(R("income").is_not_null() & T("income", pl.Float64).is_null()).then(
                    _s(L) + _quote(R("income")) + _s("不是数字，已置空")
                ),
            )
        )
    if "category" in hdr.mapping:
        L = lab("category")
        checks.append(
            (
                L,
                False,
                pl.when(pl.col("_category").is_not_null() & ~pl.col("_category").is_in(list(CATEGORIES))).then(
                    _s(L)
                    + _quote(pl.col("_category"))
                    + _s("不是监测对象类别（脱贫不稳定户、边缘易致贫户、突发严重困难户），已置空")
                ),
            )
        )

    rejected, ok, warnings = _faults(d, checks, file_name, file_hash)

    rows = ok.select(
        _s(FEED).alias("source"),
        _s(file_name).alias("source_file"),
        pl.col("_row").cast(pl.Int64).alias("source_row"),
        _s(file_hash).alias("file_hash"),
        T("household_id").alias("household_id"),
        *[T(f).alias(f) for f in ("county", "township", "village", "head_name")],
        pl.col("_result").alias("verify_result"),
        T("verify_date", pl.Date).alias("verify_date"),
        T("verifier").alias("verifier"),
        pl.when(pl.col("_category").is_in(list(CATEGORIES))).then(pl.col("_category")).alias("category"),
        T("suggested_category").alias("suggested_category"),
        pl.col("_risk_types").alias("risk_types"),
        T("helper_name").alias("helper_name"),
        T("helper_date", pl.Date).alias("helper_date"),
        pl.col("_measures").alias("measures"),
        T("measure_date", pl.Date).alias("measure_date"),
        pl.col("_visits").alias("visit_dates"),
        T("included_on", pl.Date).alias("included_on"),
        T("county_approved_on", pl.Date).alias("county_approved_on"),
        T("eliminated_on", pl.Date).alias("eliminated_on"),
        T("income", pl.Float64).alias("income"),
        T("pushed_on", pl.Date).alias("pushed_on"),
        T("note").alias("note"),
        pl.col("_namesake").alias("namesake_result"),
    ).select([pl.col(c).cast(t) for c, t in FEEDBACK_COLUMNS.items()])

    if rows.height:
        n_empty = rows.filter(pl.col("verify_result").is_null()).height
        if n_empty and "verify_result" in hdr.mapping:
            notes.append(f"{n_empty}行未填写核实结果，视为尚未核实（已接收，不计入核实结论）")
        counts = rows.group_by("verify_result").len()
        done = {r: n for r, n in counts.iter_rows() if r}
        if done:
            notes.append("核实结果：" + "，".join(f"{k}{v}户" for k, v in sorted(done.items())))
    return _result(sheet, rows, rejected, warnings, file_name, file_hash, TABLE, FIELD_ZH)


def _faults(d: pl.DataFrame, checks, file_name: str, file_hash: str):
    """(rejected rows, accepted rows, warnings) from ``checks``: (field label, reject?, reason or null) per row."""
    d = d.with_columns([e.alias(f"_x{i}") for i, (_, _, e) in enumerate(checks)])
    d = d.with_columns(_read.fault_columns(checks))
    return _read.split_by_verdict(d, FEED, file_name, file_hash)


def _result(
    sheet: _Sheet, rows, rejected, warnings, file_name: str, file_hash: str, table: str, field_zh: dict[str, str]
) -> _read.ReadResult:
    grid, hdr = sheet.grid, sheet.hdr
    # (header in the file, what it was read as): the clerk's receipt shows the second in Chinese
    columns = [
        (
            str(hdr.labels[j]).strip(),
            field_zh.get(f, f)
            if (f := next((f for f, lst in hdr.mapping.items() if any(jj == j for _, jj in lst)), None))
            else None,
        )
        for j in range(grid.width)
        if not _read._blank(hdr.labels[j])
    ]
    return _read.ReadResult(
        feed=FEED,
        file_name=file_name,
        file_hash=file_hash,
        rows=rows,
        rejected=rejected,
        rows_in_file=grid.rows_in_file,
        skipped=sheet.skipped,
        encoding=grid.encoding,
        sheet=grid.sheet,
        header_row=sheet.header_row,
        notes=sheet.notes,
        table=table,
        spec=hdr.spec.name,
        warnings=warnings,
        skipped_rows=sheet.skipped_rows,
        columns=columns,
        file_format=grid.kind,
        label=hdr.spec.label,
    )


def _build_review(grid, hdr, cfg, file_name: str, file_hash: str) -> _read.ReadResult:
    """A returned 待核实匹配清单: one row per (record, candidate); the county wrote the right candidate's number, or
    均不是, on any row of the record. Rejected here (format only; warehouse.review checks the rows against the
    records and candidates): no 文件名 or 行号, an unreadable 行号 / 候选序号 / 核实日期, an answer that is neither a
    number nor 均不是 (synonyms in aliases.yaml), a broken-encoding row."""
    sheet = _sheet(grid, hdr, cfg)
    spec, d, R, lab = hdr.spec, sheet.d, sheet.R, sheet.lab
    plans = [nz.int_plan(f"_r_{f}", f"_t_{f}") for f in ("record_row", "rank") if f in hdr.mapping]
    plans += [nz.code_plan(f"_r_{f}", f"_t_{f}") for f in ("household_id", "cand_id") if f in hdr.mapping]
    plans += [nz.text_plan(f"_r_{f}", f"_t_{f}") for f in ("feed_label", "record_file") if f in hdr.mapping]
    if "verify_date" in hdr.mapping:
        plans.append(nz.date_plan("_r_verify_date", "_t_verify_date"))
    d = nz.run(d, plans)

    def T(f: str, dtype=pl.String) -> pl.Expr:
        return pl.col(f"_t_{f}") if f in hdr.mapping else pl.lit(None, dtype=dtype)

    raw = R("review_result").str.normalize("NFKC").str.replace_all(r"\s+", "")
    number = raw.str.extract(r"^(?:第|候选(?:序号)?)?(\d{1,2})(?:号|个|名|人)?$", 1).cast(pl.Int64, strict=False)
    none = nz.map_values(raw, spec.values.get("review_result", {})) == _s(NONE_OF_THEM)
    d = d.with_columns(
        pl.when(number.is_not_null())
        .then(number.cast(pl.String))
        .when(none.fill_null(False))
        .then(_s(NONE_OF_THEM))
        .alias("_answer")
    )
    checks = sheet.row_checks()
    for f in ("record_file", "record_row"):
        L = lab(f)
        checks.append(
            (
                L,
                True,
                pl.when(R(f).is_null())
                .then(_s(L + "为空（请勿修改清单中的文件名和行号）"))
                .when(T(f, pl.Int64 if f == "record_row" else pl.String).is_null())
                .then(_s(L) + _quote(R(f)) + _s("无法识别")),
            )
        )
    for f, dtype in (("rank", pl.Int64), ("verify_date", pl.Date)):
        if f in hdr.mapping:
            L = lab(f)
            checks.append(
                (
                    L,
                    True,
                    pl.when(R(f).is_not_null() & T(f, dtype).is_null()).then(_s(L) + _quote(R(f)) + _s("无法识别")),
                )
            )
    L = lab("review_result")
    checks.append(
        (
            L,
            True,
            pl.when(raw.is_not_null() & (raw != "") & pl.col("_answer").is_null()).then(
                _s(L) + _quote(R("review_result")) + _s("无法识别，应填写正确的候选序号（如 1）或“均不是”")
            ),
        )
    )
    rejected, ok, warnings = _faults(d, checks, file_name, file_hash)
    rows = ok.select(
        _s(FEED).alias("source"),
        _s(file_name).alias("source_file"),
        pl.col("_row").cast(pl.Int64).alias("source_row"),
        _s(file_hash).alias("file_hash"),
        T("feed_label").alias("feed_label"),
        T("record_file").alias("record_file"),
        T("record_row", pl.Int64).alias("record_row"),
        T("rank", pl.Int64).alias("rank"),
        T("household_id").alias("household_id"),
        T("cand_id").alias("cand_id"),
        pl.col("_answer").alias("answer"),
        T("verify_date", pl.Date).alias("verify_date"),
    ).select([pl.col(c).cast(t) for c, t in REVIEW_COLUMNS.items()])
    answered = rows.filter(pl.col("answer").is_not_null()).height
    sheet.notes.append(
        f"待核实匹配清单：{answered}行填写了核实结果" if answered else "待核实匹配清单：尚未填写任何核实结果"
    )
    return _result(sheet, rows, rejected, warnings, file_name, file_hash, REVIEW_TABLE, REVIEW_FIELD_ZH)
