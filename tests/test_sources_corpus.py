"""The fault corpus (tests/fault_corpus): every real-world faulty drop has its expected outcome, and every row of every
readable file is accounted for: rows_in_file == accepted + rejected + skipped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml

from sources.read import SCHEMAS, ReadResult, UnreadableFile, read_file
from sources.report import write_clerk_report

CORPUS = Path(__file__).parent / "fault_corpus"
EXPECT = yaml.safe_load((CORPUS / "expectations.yaml").read_text(encoding="utf-8"))["files"]


def test_corpus_is_complete():
    on_disk = {p.relative_to(CORPUS / "files").as_posix() for p in (CORPUS / "files").rglob("*") if p.is_file()}
    assert on_disk == set(EXPECT), "every corpus file needs an expectation and vice versa"
    assert len(on_disk) >= 15


def _read(rel: str) -> ReadResult:
    path = CORPUS / "files" / rel
    return read_file(path, rel.split("/")[0], file_name=path.name)


def _value(v):
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


@pytest.mark.parametrize("rel", sorted(EXPECT))
def test_fault_corpus(rel, tmp_path):
    exp = EXPECT[rel]
    if exp["outcome"] == "quarantined":
        with pytest.raises(UnreadableFile) as info:
            _read(rel)
        err = info.value
        assert err.code == exp["code"], err.reason
        assert exp["reason"] in err.reason
        assert err.file_name == Path(rel).name and err.feed == rel.split("/")[0]
        if "looks_like" in exp:
            assert err.looks_like == exp["looks_like"]
        report = write_clerk_report(tmp_path, err)
        assert report.exists() and "已隔离" in report.with_suffix(".txt").read_text(encoding="utf-8")
        return

    r = _read(rel)
    # the invariant: every physical row ends in exactly one place
    assert r.rows_in_file == r.rows.height + r.rejected.height + sum(r.skipped.values())
    assert set(r.skipped) == {"title", "header", "total", "blank"}
    # canonical columns and dtypes, exactly
    assert dict(r.rows.schema) == SCHEMAS[r.table]
    assert r.rejected.columns == ["source", "source_file", "source_row", "field", "reason", "file_hash"]
    assert r.rejected["source_row"].n_unique() == r.rejected.height, "one rejected entry per row"
    assert r.rows["source_file"].unique().to_list() in ([], [Path(rel).name])
    assert r.rows["source_row"].is_unique().all()
    # rows numbers point into the file and never collide across outcomes
    all_rows = (
        r.rows["source_row"].to_list() + r.rejected["source_row"].to_list() + r.skipped_rows["source_row"].to_list()
    )
    assert len(all_rows) == len(set(all_rows))
    assert all(1 <= x for x in all_rows)

    assert (r.rejected.height == 0) == (exp["outcome"] == "accepted")
    for k in ("accepted", "rejected", "rows_in_file", "header_row", "encoding", "sheet", "table"):
        if k in exp:
            got = {"accepted": r.rows.height, "rejected": r.rejected.height}.get(k, getattr(r, k, None))
            assert got == exp[k], f"{k}: {got} != {exp[k]}"
    if "skipped" in exp:
        assert r.skipped == exp["skipped"]
    by_row = {row["source_row"]: row for row in r.rows.iter_rows(named=True)}
    for src_row, cols in (exp.get("rows") or {}).items():
        assert src_row in by_row, f"row {src_row} not accepted"
        for c, v in cols.items():
            assert _value(by_row[src_row][c]) == v, f"row {src_row} {c}: {by_row[src_row][c]!r} != {v!r}"
    for src_row, prefix in (exp.get("name_starts_with") or {}).items():
        assert by_row[src_row]["name"].startswith(prefix)
    rej = {row[0]: row for row in r.rejected.select("source_row", "field", "reason").iter_rows()}
    for src_row, fld, reason in exp.get("rejects") or []:
        assert src_row in rej, f"row {src_row} not rejected"
        assert fld in rej[src_row][1] and reason in rej[src_row][2], rej[src_row]
    warn = {row[0]: row for row in r.warnings.iter_rows()}
    for src_row, fld, reason in exp.get("warnings") or []:
        assert fld in warn[src_row][1] and reason in warn[src_row][2], warn.get(src_row)
    joined = "\n".join(r.notes)
    for n in exp.get("notes") or []:
        assert n in joined, f"note {n!r} missing from:\n{joined}"
    # department rows carry an event key; registry/village rows do not
    if r.table == "dept_record":
        assert r.rows["event_key"].null_count() == 0
    # the clerk's receipt is written and says what happened
    report = write_clerk_report(tmp_path, r)
    txt = report.with_suffix(".txt").read_text(encoding="utf-8")
    assert ("部分接收" in txt) == (exp["outcome"] == "partial")
    assert f"文件总行数{r.rows_in_file}" in txt


def test_overlapping_extracts_share_event_keys():
    """The same 3 events in two extracts of different shape (GBK CSV vs XLSX, other headers, other formats)."""
    a = _read("medical/20_extract_jan_mar.csv")
    b = _read("medical/21_extract_mar_may.xlsx")
    common = set(a.rows["event_key"]) & set(b.rows["event_key"])
    assert len(common) == 3
    assert a.rows["event_key"].is_unique().all() and b.rows["event_key"].is_unique().all()


def test_event_key_without_id_uses_name_and_place():
    r = _read("disaster/17_unicode_text.txt")
    keys = dict(zip(r.rows["source_row"], r.rows["event_key"]))
    assert keys[2] == "disaster|N:张三@三防村|三防村|2026-06-20|洪涝"
    assert keys[4].startswith("disaster|I:45022219691201211X|")


def test_report_workbook_lists_rejects(tmp_path):
    r = _read("medical/07_messy_values.csv")
    path = write_clerk_report(tmp_path, r, duplicates=pl.DataFrame({"source_row": [2], "event_key": ["k"]}))
    assert path.parent == tmp_path / "reports" / "ingest" / "medical"
    import openpyxl

    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == ["回执", "拒收明细"] and "重复记录" in wb.sheetnames
    summary = {row[0]: row[1] for row in wb["回执"].iter_rows(values_only=True) if row[0]}
    assert summary["处理结果"].startswith("部分接收")
    assert "其中1行与此前已接收的记录重复" in summary["已接收行数"]
    rej = list(wb["拒收明细"].iter_rows(min_row=2, values_only=True))
    assert (9, "结算日期", "结算日期“2026-13-45”无法识别为日期") in rej


def test_report_neutralises_formulas(tmp_path):
    r = _read("medical/16_formula_names.csv")
    # a rejected row whose reason quotes the formula-looking text
    bad = r.rejected.vstack(
        pl.DataFrame(
            {
                "source": ["medical"],
                "source_file": ["x"],
                "source_row": [99],
                "field": ["姓名"],
                "reason": ['=HYPERLINK("http://x","点击")'],
                "file_hash": ["h"],
            }
        )
    )
    r.rejected = bad
    path = write_clerk_report(tmp_path, r)
    import openpyxl

    ws = openpyxl.load_workbook(path)["拒收明细"]
    cell = [row for row in ws.iter_rows(min_row=2, values_only=True) if row[0] == 99][0][2]
    assert cell.startswith("'=")
