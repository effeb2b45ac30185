"""The official forms of the work plan (附件 1–3; SPEC §8), as Chinese workbooks per county / township / village.

``publish_forms(tables, home, as_of)`` writes the form tables of :func:`warehouse.publish.forms.form_tables` (this
module runs no SQL), under ``<home>/out/forms/<as_of YYYY-MM-DD>/<县>/``:

- ``防止返贫监测和帮扶对象名册_<县>.xlsx`` — the roster (附件 3, 桌上有账), INTERNAL: sheet 监测对象名册 (one row per
  household, 乡镇/行政村 filters, the head's full registered ID number, risk types 1–5, helper, measures, last visit,
  elimination) and sheet 家庭成员 (one row per member with full ID; no health column);
- ``防贫监测对象帮扶情况一览表_<县>_<乡镇>.xlsx`` — the village wall table (附件 2, 墙上有表), PUBLIC, one sheet per
  village, masked in SQL (``warehouse/forms/sql/40_wall.sql``) and scanned again here before anything is published
  (:func:`scan_public_workbook`): a finding stops the publication and names file, sheet and cell (never the value);
- ``村级档案清单_<县>_<乡镇>.xlsx`` — the archive checklist (附件 1): one sheet per village with one row per roster
  household and one column per document (its state as far as the system knows) plus a hint and blank columns for
  the staff; a last sheet 村级材料 lists each village's own documents.

All sheets: title, frozen header, filters, widths; printed landscape on A4, one page wide, header row repeated.
Files are written to a scratch folder and the whole ``<as_of>`` folder is swapped in at the end, so a rerun for the
same date replaces the set and a failed run leaves the previous set untouched. Cell text goes through
``fangpin.reports.xlsx`` (formula text neutralised); folder and file names through ``safe_filename``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import openpyxl
import polars as pl

from fangpin.domain import divisions
from fangpin.reports import fills
from fangpin.reports.safe import child_path, safe_filename
from fangpin.reports.xlsx import Book, Col

ROSTER_TITLE = "防止返贫监测和帮扶对象名册"
WALL_TITLE = "防贫监测对象帮扶情况一览表"
ARCHIVE_TITLE = "村级档案清单"
SOURCE_LABELS = {"registry": "户籍系统", "feedback": "核实反馈", "roster": "帮扶台账"}
WALL_NOTE = "依照公示规定，本表不列身份证件号码、联系电话、银行账号及健康状况等个人信息。"
ROSTER_NOTE = "内部工作台账（桌上有账）：含完整证件号码，仅供县、乡、村经办人员使用，不得张贴公示或外传。"

ROSTER_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("县(市、区)", "county_name", 12),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 12),
    Col("户编号", "household_id", 18),
    Col("户主姓名", "head_name", 10),
    Col("户主证件号码", "head_id", 20),
    Col("家庭人口数", "household_size", 7, "int"),
    Col("户类型", "household_type", 9),
    Col("监测对象类别", "category", 13),
    *[Col(f"致贫/返贫风险{i}", f"risk_{i}", 11) for i in range(1, 6)],
    Col("识别监测时间", "identified_month", 10),
    Col("帮扶责任人", "helper_name", 10),
    Col("帮扶措施", "measures_text", 30, "wrap"),
    Col("最近走访日期", "last_visit", 11, "date"),
    Col("风险是否已消除", "eliminated_flag", 8),
    Col("消除监测时间", "eliminated_month", 10),
    Col("数据来源", "source_label", 9),
    Col("备注", "remark", 14),
]
MEMBER_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 12),
    Col("户编号", "household_id", 18),
    Col("成员序号", "member_no", 6, "int"),
    Col("姓名", "name", 10),
    Col("证件号码", "id_number", 20),
    Col("性别", "sex", 5),
    Col("出生日期", "birth_date", 11, "date"),
    Col("与户主关系", "relation", 9),
    Col("劳动技能", "labour", 13),
    Col("在校生状况", "student", 11),
    Col("享受低保政策情况", "dibao", 10),
    Col("享受特困供养政策情况", "tekun", 10),
]
WALL_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("户主姓名", "head_name", 11),
    Col("家庭人口数", "household_size", 8, "int"),
    Col("监测对象类别", "category", 14),
    Col("风险类型", "risk_text", 22, "wrap"),
    Col("识别监测时间", "identified_text", 12),
    Col("帮扶责任人", "helper_name", 12),
    Col("帮扶措施", "measure_text", 34, "wrap"),
    Col("风险消除情况", "elimination_text", 18),
]
ARCHIVE_DOCS = (
    "农户申请书及承诺授权书",
    "入户核实记录",
    "财产检索记录",
    "行政村民主评议记录",
    "乡镇审核及公示记录",
    "县级审定文件",
    "帮扶计划（含帮扶责任人）",
    "帮扶措施台账",
    "走访记录（每季度）",
    "风险消除材料（五步程序）",
)
ARCHIVE_COLS = [
    Col("序号", "seq", 5, "int"),
    Col("户主姓名", "head_name", 9),
    Col("户编号", "household_id", 17),
    Col("识别监测时间", "identified_month", 8),
    Col("监测状态", "status_text", 7),
    *[Col(name, f"d{i}", 8) for i, name in enumerate(ARCHIVE_DOCS, start=1)],
    Col("系统提示", "hint", 36, "wrap"),
    Col("核对人（填写）", "fill_checker", 9, fill=fills.CHECKER),
    Col("核对日期（填写）", "fill_date", 10, fill=fills.CHECK_DATE),
    Col("备注（填写）", "fill_note", 14, fill=fills.NOTE),
]
ARCHIVE_VILLAGE_COLS = [
    Col("序号", "seq", 5, "int"),
    Col("行政村", "village", 12),
    Col("监测对象户数", "households", 8, "int"),
    Col("档案材料", "doc_name", 34, "wrap"),
    Col("状态", "state", 8),
    Col("系统掌握情况", "detail", 36, "wrap"),
    Col("是否齐全（填写）", "fill_complete", 10, fill=fills.COMPLETE),
    Col("核对人（填写）", "fill_checker", 9, fill=fills.CHECKER),
    Col("备注（填写）", "fill_note", 14, fill=fills.NOTE),
]
ARCHIVE_LEGEND = (
    "状态：已有记录＝系统有相应记录；应存档＝应有原件，系统无法判断；待补＝系统未见或已逾期；不适用＝无需此材料。"
    "黄色列由村级经办人员核对后填写。"
)


class PrivacyError(RuntimeError):
    """A public workbook would show something the publicity rules forbid; nothing was published."""


# ---------------------------------------------------------------------------------------------- privacy scan

#: What must never appear on a public form (domain-notes §1; SPEC §8). Applied after joining digits that are only
#: separated by blanks or dashes ("138 1234 5678").
PUBLIC_FORBIDDEN: dict[str, re.Pattern] = {
    "证件号码或银行账号（15位以上数字）": re.compile(r"\d{15,}|\d{14}[\dXx]|\d{17}[Xx]"),
    "手机号码": re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),
    "固定电话": re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"),
    "七位以上数字（电话、账号等）": re.compile(r"\d{7,}"),
    "金额": re.compile(r"\d\s*(元|万元|块)|[￥¥]\s*\d"),
    "健康信息": re.compile(
        r"病|残疾|残障|伤残|癌|瘤|诊|医|住院|门诊|透析|手术|药|康复|护理|慢性|患|因残|失能|瘫|盲|聋|哑|智障|精神"
    ),
}
_DIGIT_GAP = re.compile(r"(?<=\d)[\s\-－ ]+(?=\d)")


@dataclass(frozen=True)
class ScanFinding:
    file: str
    where: str  # sheet!cell, or the workbook part
    kind: str  # a key of PUBLIC_FORBIDDEN


#: Checked everywhere (also titles, notes, sheet names, document parts); the health words only in data cells, since
#: titles and sheet names are made of division names (a village may be called 百药村).
_EVERYWHERE = tuple(k for k in PUBLIC_FORBIDDEN if k != "健康信息")
MASKED = "（已隐去）"


#: Digits written as Chinese numerals (小写 一二三…, 大写 壹贰叁…, 〇/○/零 for 0, 幺 as read out in phone numbers):
#: "赵六一三八一二三四五六七八" is a phone number too. Only the digit-run kinds read them — "三元村" is a village,
#: not an amount.
_NUMERALS = str.maketrans(
    {
        **dict.fromkeys("〇○零", "0"),
        **{c: str(i) for i, c in enumerate("一二三四五六七八九", start=1)},
        **{c: str(i) for i, c in enumerate("壹贰叁肆伍陆柒捌玖", start=1)},
        **{"幺": "1", "貳": "2", "參": "3", "陸": "6"},
    }
)
_DIGIT_RUN_KINDS = frozenset(k for k in PUBLIC_FORBIDDEN if k not in ("金额", "健康信息"))


def forbidden_kinds(text: str, kinds: tuple[str, ...] | None = None) -> list[str]:
    """Which kinds of ``PUBLIC_FORBIDDEN`` a text shows (digits separated by blanks or dashes are joined first;
    for the digit-run kinds, Chinese numerals count as digits)."""
    t = _DIGIT_GAP.sub("", text)
    n = _DIGIT_GAP.sub("", text.translate(_NUMERALS))
    return [
        k
        for k in (kinds or tuple(PUBLIC_FORBIDDEN))
        if PUBLIC_FORBIDDEN[k].search(t) or (k in _DIGIT_RUN_KINDS and PUBLIC_FORBIDDEN[k].search(n))
    ]


def scan_public_workbook(path: Path) -> list[ScanFinding]:
    """Every cell value, sheet name, header/footer and document property of a public workbook, checked against
    ``PUBLIC_FORBIDDEN``. Returns where and what kind (not the value: no personal data in logs, SPEC §9)."""
    path = Path(path)
    found: list[ScanFinding] = []
    wb = openpyxl.load_workbook(path, read_only=False)
    try:
        for n_ws, ws in enumerate(wb.worksheets, start=1):
            sheet = f"第{n_ws}个工作表"  # not the title: it may itself be what leaks
            for k in forbidden_kinds(ws.title, _EVERYWHERE):
                found.append(ScanFinding(path.name, f"{sheet}的名称", k))
            in_data = False
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value is None or isinstance(cell.value, (dt.date, dt.datetime)):
                        continue
                    if isinstance(cell.value, (int, float)) and abs(cell.value) < 1000:
                        continue  # 序号, 家庭人口数
                    kinds = None if in_data else _EVERYWHERE
                    for k in forbidden_kinds(str(cell.value), kinds):
                        found.append(ScanFinding(path.name, f"{sheet}!{cell.coordinate}", k))
                if row and row[0].value == "序号":
                    in_data = True  # the rows below the header are data
    finally:
        wb.close()
    # the raw parts as well: shared strings, headers/footers, defined names, document properties
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if not name.endswith(".xml"):
                continue
            xml = zf.read(name).decode("utf-8", errors="replace")
            texts = re.findall(
                r"<(?:[a-zA-Z]+:)?(?:oddHeader|oddFooter|evenHeader|evenFooter|title|subject|creator|"
                r"keywords|description|definedName|Company|Manager|t)(?:\s[^>]*)?>([^<]*)<",
                xml,
            )
            for text in texts:
                for k in forbidden_kinds(unescape(text), _EVERYWHERE):
                    found.append(ScanFinding(path.name, name, k))
    return found


def _premask(rows: list[dict], keys: tuple[str, ...]) -> int:
    """Blank out (``MASKED``) any wall text cell that still shows a forbidden pattern after the SQL masking — e.g. a
    helper recorded as "王医生" or a name with a note in it. Returns how many cells were masked."""
    n = 0
    for r in rows:
        for k in keys:
            v = r.get(k)
            if isinstance(v, str) and forbidden_kinds(v):
                r[k] = MASKED
                n += 1
    return n


# ---------------------------------------------------------------------------------------------- helpers


_SHEET_BAD = re.compile(r"[\[\]:*?/\\'\x00-\x1f]")


def _sheet_name(name: str | None, used: set[str], fallback: str) -> str:
    base = _SHEET_BAD.sub("_", (name or "").strip()) or fallback
    base = base[:31]
    cand, i = base, 2
    while cand.lower() in used or cand.lower() == "history":
        suffix = f"({i})"
        cand = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(cand.lower())
    return cand


def _month(d: dt.date | None) -> str | None:
    return f"{d:%Y%m}" if d else None


def _dicts(frame: pl.DataFrame | None) -> list[dict]:
    return frame.to_dicts() if frame is not None else []


def _group(rows: list[dict], *keys: str) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    return out


def _numbered(rows: list[dict]) -> list[dict]:
    for i, r in enumerate(rows, start=1):
        r["seq"] = i
    return rows


# ---------------------------------------------------------------------------------------------- publish


def publish_forms(tables: dict, home: Path, as_of: dt.date) -> dict:
    """Write the three forms for every county on the roster from ``tables`` (roster, members, wall, archive,
    archive_village, roster_source, counts); returns {"dir", "files", "counts", "roster_source"}."""
    if not isinstance(as_of, dt.date):
        raise TypeError("as_of must be a date")
    home = Path(home)
    stamp = f"{as_of:%Y-%m-%d}"
    root = home / "out" / "forms"
    final_dir = root / stamp
    scratch = root / f".{stamp}.partial"
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    try:
        files, counts, public = _write_all(tables, scratch, as_of)
        findings = [f for p in public for f in scan_public_workbook(p)]
        if findings:
            where = "；".join(f"{f.file} {f.where}：{f.kind}" for f in findings[:20])
            where = re.sub(r"\d[\d\s\-]{5,}\d", "＊", where)  # a file name made from a leaking division name
            raise PrivacyError(f"公示表含有不得公开的信息，未发布（共{len(findings)}处）：{where}")
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    old = root / f".{stamp}.old"
    if old.exists():
        shutil.rmtree(old)
    if final_dir.exists():
        os.replace(final_dir, old)
    os.replace(scratch, final_dir)
    shutil.rmtree(old, ignore_errors=True)
    rel = [f.relative_to(scratch) for f in files]
    counts.update({k.lstrip("_"): v for k, v in tables["counts"].items()})
    return {
        "dir": final_dir,
        "files": [final_dir / r for r in rel],
        "counts": counts,
        "roster_source": tables["roster_source"],
        "scanned_public_files": len(public),
    }


def _write_all(tables: dict, folder: Path, as_of: dt.date) -> tuple[list[Path], dict, list[Path]]:
    roster = _dicts(tables.get("roster"))
    members = _dicts(tables.get("members"))
    wall = _dicts(tables.get("wall"))
    archive = _dicts(tables.get("archive"))
    archive_v = _dicts(tables.get("archive_village"))
    files: list[Path] = []
    public: list[Path] = []
    counts: dict = {"counties": 0, "wall_villages": 0, "archive_villages": 0, "wall_cells_masked": 0}
    roster_by_county = _group(roster, "county_code")
    members_by_county = _group(members, "county_code")
    wall_by_county = _group(wall, "county_code")
    archive_by_county = _group(archive, "county_code")
    archive_v_by_county = _group(archive_v, "county_code")
    for key in sorted(roster_by_county):  # _group's keys are tuples: (county_code,)
        rows = roster_by_county[key]
        (code,) = key
        carried = next((r["county"] for r in rows if r.get("county")), None)
        cname = divisions.county_name(code, carried)
        # one folder per county is what is handed to that county: never two counties in one
        cdir = child_path(folder, safe_filename(divisions.county_label(code, carried)))
        cdir.mkdir(exist_ok=True)
        counts["counties"] += 1
        files.append(_write_roster(cdir, cname, rows, members_by_county.get(key, []), as_of))
        for (_tcode,), trows in sorted(
            _group(wall_by_county.get(key, []), "township_code").items(), key=lambda kv: kv[0][0] or ""
        ):
            path = _write_wall(cdir, cname, trows, as_of, counts)
            files.append(path)
            public.append(path)
            counts["wall_villages"] += len({r["village_code"] for r in trows})
        village_docs = _group(archive_v_by_county.get(key, []), "township_code")
        for (tcode,), trows in sorted(
            _group(archive_by_county.get(key, []), "township_code").items(), key=lambda kv: kv[0][0] or ""
        ):
            files.append(_write_archive(cdir, cname, trows, village_docs.get((tcode,), []), as_of))
            counts["archive_villages"] += len({r["village_code"] for r in trows})
    return files, counts, public


def _write_roster(folder: Path, county: str, rows: list[dict], members: list[dict], as_of: dt.date) -> Path:
    out = []
    for r in rows:
        risks = list(r.get("risk_types") or [])[:5]
        item = dict(r)
        item.update({f"risk_{i + 1}": v for i, v in enumerate(risks)})
        item["county_name"] = county
        item["identified_month"] = _month(r.get("identified_on"))
        item["eliminated_month"] = _month(r.get("eliminated_on"))
        item["eliminated_flag"] = "是" if r.get("status") == "eliminated" else "否"
        item["measures_text"] = "；".join(m for m in (r.get("measures") or []) if m) or None
        item["source_label"] = SOURCE_LABELS.get(r.get("source") or "", r.get("source"))
        item["remark"] = None if r.get("in_registry") else "户籍系统无此户"
        out.append(item)
    sources = sorted({SOURCE_LABELS.get(r.get("source") or "", r.get("source") or "") for r in rows})
    path = child_path(folder, safe_filename(f"{ROSTER_TITLE}_{county}.xlsx"))
    with Book(path) as book:
        notes = [f"截至{as_of:%Y年%m月%d日}；数据来源：{'、'.join(sources)}；共{len(out)}户。", ROSTER_NOTE]
        book.table(
            "监测对象名册",
            ROSTER_COLS,
            _numbered(out),
            title=f"{ROSTER_TITLE}（{county}）",
            notes=notes,
            empty="本县名册上没有监测对象。",
        )
        book.table(
            "家庭成员",
            MEMBER_COLS,
            _numbered([dict(m) for m in members]),
            title=f"{ROSTER_TITLE}（{county}）— 家庭成员",
            notes=[ROSTER_NOTE],
            empty="户籍系统中没有名册上各户的家庭成员记录。",
        )
    return path


WALL_TEXT_KEYS = (
    "head_name",
    "category",
    "risk_text",
    "identified_text",
    "helper_name",
    "measure_text",
    "elimination_text",
)


def _write_wall(folder: Path, county: str, rows: list[dict], as_of: dt.date, counts: dict) -> Path:
    township = (
        next((r["township"] for r in rows if r.get("township")), None)
        or f"乡镇代码{rows[0].get('township_code') or '不详'}"
    )
    path = child_path(folder, safe_filename(f"{WALL_TITLE}_{county}_{township}.xlsx"))
    used: set[str] = set()
    with Book(path) as book:
        for (vcode,), vrows in _group(rows, "village_code").items():
            village = next((r["village"] for r in vrows if r.get("village")), None) or f"村代码{vcode or '不详'}"
            notes = [f"{county}{township}{village}　　更新日期：{as_of:%Y年%m月%d日}　　共{len(vrows)}户", WALL_NOTE]
            data = _numbered([dict(r) for r in vrows])
            counts["wall_cells_masked"] = counts.get("wall_cells_masked", 0) + _premask(data, WALL_TEXT_KEYS)
            book.table(
                _sheet_name(village, used, "行政村"), WALL_COLS, data, title=f"{village}{WALL_TITLE}", notes=notes
            )
    return path


def _write_archive(folder: Path, county: str, rows: list[dict], village_rows: list[dict], as_of: dt.date) -> Path:
    first = rows[0] if rows else village_rows[0]
    township = (
        next((r["township"] for r in rows + village_rows if r.get("township")), None)
        or f"乡镇代码{first.get('township_code') or '不详'}"
    )
    path = child_path(folder, safe_filename(f"{ARCHIVE_TITLE}_{county}_{township}.xlsx"))
    used: set[str] = {"村级材料"}
    with Book(path) as book:
        for (vcode,), vrows in _group(rows, "village_code").items():
            village = next((r["village"] for r in vrows if r.get("village")), None) or f"村代码{vcode or '不详'}"
            notes = [
                f"{county}{township}{village}　　截至{as_of:%Y年%m月%d日}　　监测对象{len(vrows)}户",
                ARCHIVE_LEGEND,
            ]
            book.table(
                _sheet_name(village, used, "行政村"),
                ARCHIVE_COLS,
                _numbered([dict(r) for r in vrows]),
                title=f"{village}防贫动态监测和帮扶工作{ARCHIVE_TITLE}（户档）",
                notes=notes,
            )
        notes = [f"{county}{township}　　截至{as_of:%Y年%m月%d日}", ARCHIVE_LEGEND]
        book.table(
            "村级材料",
            ARCHIVE_VILLAGE_COLS,
            _numbered([dict(r) for r in village_rows]),
            title=f"{township}各行政村防贫动态监测和帮扶工作{ARCHIVE_TITLE}（村级材料）",
            notes=notes,
            empty="本乡镇没有村级材料记录。",
        )
    return path
