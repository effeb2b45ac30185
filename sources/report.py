"""The clerk's receipt for one dropped file (Chinese): ``<home>/reports/ingest/<feed>/<name>.回执.xlsx`` plus a
plain-text twin ``….回执.txt``; a second file of the same name with other content gets ``<name>#<hash8>.回执.xlsx``
(the name its rows carry in the warehouse), a drop that is not read ``<name>（未导入）.回执.xlsx``.

Status line: 已接收 / 部分接收 (some rows rejected) / 未通过质量校验 (the file was read but a blocking data-quality
check kept it out of screening) / 已隔离 (the file could not be read) / 未导入 (a hidden file, a link, a copy of a file
already received). Then the counts (rows in the file = accepted + rejected + skipped), the rejected rows with
行号/字段/原因, kept rows whose secondary values were set empty, the skipped title/header/total/blank rows, rows that
repeat events already received, the normalisations done with the rows behind every count (计数明细), and which column
of the file was read as which field.

Cell texts copied from the input are neutralised (a leading = + - @ tab or CR gets a ' in front) and written as
strings, so Excel never evaluates them. The file name is sanitised before it is used in a path.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from sources.archive import safe_feed, sanitise_name
from sources.errors import NOT_READ, UnreadableFile
from sources.read import SKIP_LABELS, ReadResult

FEED_LABELS = {
    "registry": "防返贫监测名册",
    "medical": "医保",
    "disaster": "应急管理",
    "civil_affairs": "民政",
    "employment": "人社",
    "property": "财产检索",
    "feedback": "核实结果",
}
FIELD_LABELS = {
    "household_id": "户编号",
    "county": "县(市、区)",
    "township": "乡(镇)",
    "village": "行政村",
    "village_code": "行政村代码",
    "name": "姓名",
    "id_number": "证件号码",
    "sex": "性别",
    "birth_date": "出生日期",
    "relation": "与户主关系",
    "household_type": "户类型",
    "monitoring_category": "监测对象类别",
    "risk_eliminated": "风险是否已消除",
    "identified_month": "识别监测时间",
    "eliminated_month": "消除监测时间",
    "labour": "劳动技能",
    "health": "健康状况",
    "student": "在校生状况",
    "dibao": "享受低保政策情况",
    "tekun": "享受特困供养政策情况",
    "per_capita_net_income": "人均纯收入（元）",
    "household_size": "家庭人口数",
    "relocated": "是否易地搬迁户",
    "resettlement_site": "安置点",
    "hukou_moved": "户籍是否迁出",
    "unsafe_housing": "是否危房户",
    "safe_water": "是否解决安全饮用水",
    "former_deep_poverty": "是否原深度贫困村",
    "resettlement_community": "是否易地搬迁安置社区",
    "settle_date": "结算日期",
    "institution": "医疗机构",
    "total_cost": "医疗总费用（元）",
    "fund_paid": "统筹支付（元）",
    "critical_illness_paid": "大病保险支付（元）",
    "medical_aid_paid": "医疗救助支付（元）",
    "out_of_pocket": "个人自付（元）",
    "visit_type": "就诊类型",
    "diagnosis": "诊断",
    "disaster_type": "灾害类型",
    "disaster_date": "受灾日期",
    "house_damage": "房屋受损情况",
    "direct_loss": "直接经济损失（元）",
    "aid_type": "救助类型",
    "approved_on": "批准日期",
    "amount": "救助金额（元）",
    "status": "状态",
    "hukou_address": "户籍地",
    "event": "事件类型",
    "event_date": "登记日期",
    "previous_workplace": "原就业地",
    "previous_monthly_income": "原月收入（元）",
    "property_type": "财产类型",
}
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(v: Any) -> str:
    """Text for a spreadsheet cell that Excel will not evaluate."""
    s = "" if v is None else str(v)
    return "'" + s if s.startswith(_DANGEROUS) else s


def report_paths(home: Path, feed: str, file_name: str, file_hash: str) -> tuple[Path, Path]:
    """(xlsx, txt) of a file's receipt: named after the file; ``#<hash8>`` added when another file of that name
    (other content) already has its receipt there. ``file_hash`` empty: a drop that is not read (hidden file, link)."""
    folder = Path(home) / "reports" / "ingest" / safe_feed(feed)
    base = sanitise_name(file_name)
    if not file_hash:
        base = f"{base}（未导入）"
    stem = f"{base}.回执"
    if file_hash:
        owner = _fingerprint(folder / f"{stem}.txt")
        if owner is not None and owner != file_hash[:16]:
            stem = f"{base}#{file_hash[:8]}.回执"
    return folder / f"{stem}.xlsx", folder / f"{stem}.txt"


_FINGERPRINT = "文件指纹（SHA-256前16位）"


def _fingerprint(txt: Path) -> str | None:
    """The content hash (16 hex) a receipt was written for; None when there is no such receipt."""
    try:
        with open(txt, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(_FINGERPRINT):
                    return line.split("：", 1)[1].strip()
    except OSError:
        return None
    return ""


def _status(result: ReadResult | UnreadableFile, status: str | None) -> str:
    if isinstance(result, UnreadableFile) and result.code in NOT_READ:
        return f"未导入（{result.title}）"
    if isinstance(result, UnreadableFile):
        return "已隔离（文件无法读取，整个文件未导入）"
    if status == "blocked":
        return "未通过质量校验（文件已读取，但暂不用于筛查，请核对后重新报送）"
    if status in ("already_ingested", "duplicate"):
        return "重复文件（同样内容的文件此前已接收，本次未重复导入）"
    if result.rejected.height:
        return "部分接收（部分行被拒收，见“拒收明细”）"
    return "已接收"


def _validation_lines(validation: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for o in getattr(validation, "outcomes", None) or []:
        if getattr(o, "success", True):
            continue
        level = "阻断" if getattr(o, "blocking", False) else "警告"
        out.append((level, str(getattr(o, "description_zh", "") or getattr(o, "observed", ""))))
    return out


def write_clerk_report(
    home: Path,
    result_or_failure: ReadResult | UnreadableFile,
    *,
    feed: str | None = None,
    file_name: str | None = None,
    file_hash: str | None = None,
    validation: Any = None,
    status: str | None = None,
    duplicates: pl.DataFrame | int | None = None,
    received_at: _dt.datetime | None = None,
    **_: Any,
) -> Path:
    """Write the receipt (XLSX + TXT) for one file; return the XLSX path.

    ``duplicates``: rows of this file whose events were already received (a frame with ``source_row``, as returned
    by the loader) or just their number. ``validation``: the quality suite's result (failed checks are listed).
    ``status``: the loader's status (``loaded`` | ``blocked`` | ``already_ingested``).
    """
    r = result_or_failure
    feed = feed or getattr(r, "feed", None) or "unknown"
    file_name = file_name or getattr(r, "file_name", None) or "file"
    file_hash = file_hash or getattr(r, "file_hash", None) or ""
    xlsx_path, txt_path = report_paths(home, feed, file_name, file_hash)
    xlsx_path.parent.mkdir(parents=True, exist_ok=True)

    dup_rows = duplicates if isinstance(duplicates, pl.DataFrame) else None
    n_dup = dup_rows.height if dup_rows is not None else int(duplicates or 0)
    label = getattr(r, "label", "") or FEED_LABELS.get(feed, feed)
    summary: list[tuple[str, str]] = [
        ("文件名", file_name),
        ("数据类别", f"{label}（{feed}）"),
        ("处理结果", _status(r, status)),
    ]
    if file_hash:
        summary.append((_FINGERPRINT, file_hash[:16]))
    if received_at is not None:
        summary.append(("接收时间", received_at.strftime("%Y-%m-%d %H:%M")))
    notes: list[str] = []
    checks = _validation_lines(validation)
    if isinstance(r, UnreadableFile):
        summary += [("未导入原因" if r.code in NOT_READ else "隔离原因", f"{r.title}：{r.reason}")]
    else:
        fmt = {"csv": "CSV文本", "xlsx": "Excel工作簿"}.get(r.file_format, r.file_format)
        if r.encoding:
            fmt += f"，编码 {r.encoding.upper()}"
        if r.sheet:
            fmt += f"，工作表“{r.sheet}”"
        skipped_total = sum(r.skipped.values())
        summary += [
            ("文件格式", fmt),
            ("表头所在行", f"第{r.header_row}行"),
            ("文件总行数", str(r.rows_in_file)),
            (
                "已接收行数",
                str(r.rows.height) + (f"（其中{n_dup}行与此前已接收的记录重复，未重复计入）" if n_dup else ""),
            ),
            ("拒收行数", str(r.rejected.height)),
            (
                "跳过行数",
                f"{skipped_total}（" + "，".join(f"{SKIP_LABELS[k]}{v}行" for k, v in r.skipped.items()) + "）",
            ),
            (
                "核对",
                f"已接收{r.rows.height} + 拒收{r.rejected.height} + 跳过{skipped_total} = 文件总行数{r.rows_in_file}",
            ),
        ]
        if r.warnings.height:
            summary.append(("已接收但有值被置空", f"{r.warnings.height}行（见“已接收但有修正”）"))
        notes = list(r.notes)

    _write_xlsx(xlsx_path, r, summary, notes, checks, dup_rows)
    _write_txt(txt_path, r, summary, notes, checks)
    return xlsx_path


def _atomic(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_xlsx(
    path: Path,
    r: Any,
    summary: list[tuple[str, str]],
    notes: list[str],
    checks: list[tuple[str, str]],
    dup_rows: pl.DataFrame | None,
) -> None:
    import xlsxwriter

    def write(tmp: str) -> None:
        wb = xlsxwriter.Workbook(
            tmp, {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        )
        wb.set_properties({"title": "数据接收回执", "created": _dt.datetime(2000, 1, 1)})
        title = wb.add_format({"bold": True, "font_size": 14})
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        key = wb.add_format({"bold": True, "valign": "top"})
        status_fmt = wb.add_format(
            {
                "bold": True,
                "font_color": "#C00000"
                if isinstance(r, UnreadableFile) or (not isinstance(r, UnreadableFile) and r.rejected.height)
                else "#006100",
                "text_wrap": True,
            }
        )

        ws = wb.add_worksheet("回执")
        ws.set_column(0, 0, 26)
        ws.set_column(1, 1, 90)
        ws.write_string(0, 0, "数据接收回执", title)
        row = 2
        for k, v in summary:
            ws.write_string(row, 0, k, key)
            ws.write_string(row, 1, safe_text(v), status_fmt if k == "处理结果" else wrap)
            row += 1
        if checks:
            row += 1
            ws.write_string(row, 0, "质量校验未通过的项目", key)
            row += 1
            for level, text in checks:
                ws.write_string(row, 0, level)
                ws.write_string(row, 1, safe_text(text), wrap)
                row += 1
        if notes:
            row += 1
            ws.write_string(row, 0, "系统已做的处理", key)
            row += 1
            for n in notes:
                ws.write_string(row, 1, safe_text(n), wrap)
                row += 1

        def table(name: str, headers: list[str], widths: list[int], rows: list[tuple]) -> None:
            sh = wb.add_worksheet(name)
            for j, (h, w) in enumerate(zip(headers, widths)):
                sh.write_string(0, j, h, head)
                sh.set_column(j, j, w)
            for i, rec in enumerate(rows, start=1):
                for j, v in enumerate(rec):
                    if isinstance(v, int):
                        sh.write_number(i, j, v)
                    else:
                        sh.write_string(i, j, safe_text(v), wrap)
            sh.freeze_panes(1, 0)
            sh.autofilter(0, 0, max(1, len(rows)), len(headers) - 1)

        if not isinstance(r, UnreadableFile):
            table(
                "拒收明细",
                ["行号", "字段", "原因"],
                [8, 24, 90],
                [
                    (int(a), b or "", c)
                    for a, b, c in r.rejected.sort("source_row").select("source_row", "field", "reason").iter_rows()
                ],
            )
            if r.warnings.height:
                table(
                    "已接收但有修正",
                    ["行号", "字段", "说明"],
                    [8, 24, 90],
                    [(int(a), b or "", c) for a, b, c in r.warnings.sort("source_row").iter_rows()],
                )
            table(
                "跳过的行",
                ["行号", "类型", "内容摘要"],
                [8, 16, 70],
                [(int(a), SKIP_LABELS.get(b, b), c or "") for a, b, c in r.skipped_rows.sort("source_row").iter_rows()],
            )
            if r.count_rows.height:
                table("计数明细", ["事项", "行号"], [60, 100], _count_lines(r.count_rows))
            if dup_rows is not None and dup_rows.height:
                table(
                    "重复记录",
                    ["行号", "说明"],
                    [8, 90],
                    [
                        (int(a), "该记录与此前已接收的同一事件重复（同一人、同一日期等），未重复计入")
                        for a in dup_rows.sort("source_row")["source_row"].to_list()
                    ],
                )
            table(
                "列对应",
                ["文件中的列名", "识别为"],
                [30, 30],
                [(h, FIELD_LABELS.get(f, f) if f else "（未使用）") for h, f in r.columns],
            )
        wb.close()

    _atomic(path, write)


def _count_lines(count_rows: pl.DataFrame, width: int = 2000) -> list[tuple[str, str]]:
    """(item, rows) lines of the 计数明细 sheet: every row behind every count, as runs ("3—5、9、12"), about ``width``
    characters to a cell, continued on the next line: a large file's scattered rows stay a few hundred cells."""
    run = (
        pl.when(pl.col("first_row") == pl.col("last_row"))
        .then(pl.col("first_row").cast(pl.String))
        .otherwise(pl.col("first_row").cast(pl.String) + "—" + pl.col("last_row").cast(pl.String))
    )
    chunks = (
        count_rows.with_columns(run.alias("run"), pl.int_range(pl.len()).alias("_i"))
        .with_columns((pl.col("run").str.len_chars() + 1).cum_sum().over("item").floordiv(width).alias("_chunk"))
        .group_by("item", "_chunk", maintain_order=True)
        .agg(pl.col("run").str.join("、"), pl.col("_i").min())
        .sort("_i")
    )
    first = pl.col("_chunk") == pl.col("_chunk").min().over("item")
    return chunks.select(pl.when(first).then("item").otherwise(pl.lit("（续上行）")), "run").rows()


def _write_txt(
    path: Path, r: Any, summary: list[tuple[str, str]], notes: list[str], checks: list[tuple[str, str]]
) -> None:
    lines = ["数据接收回执", ""] + [f"{k}：{v}" for k, v in summary]
    if checks:
        lines += ["", "质量校验未通过的项目："] + [f"  [{lvl}] {t}" for lvl, t in checks]
    if notes:
        lines += ["", "系统已做的处理："] + [f"  - {n}" for n in notes]
    if not isinstance(r, UnreadableFile) and r.rejected.height:
        lines += ["", "拒收明细（行号 / 字段 / 原因）："]
        rej = r.rejected.sort("source_row")
        for a, b, c in rej.head(500).select("source_row", "field", "reason").iter_rows():
            lines.append(f"  第{a}行  {b or ''}  {c}")
        if rej.height > 500:
            lines.append(f"  ……共{rej.height}行，完整列表见同名xlsx文件")
    text = "\n".join(lines) + "\n"

    def write(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    _atomic(path, write)
