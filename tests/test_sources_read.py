"""Reader edge cases beyond the fault corpus."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from sources.decode import OLE_MAGIC
from sources.read import UnreadableFile, read_file

CORPUS = Path(__file__).parent / "fault_corpus" / "files"
ID = "450225198005061231"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _code(path: Path, feed: str) -> str:
    with pytest.raises(UnreadableFile) as info:
        read_file(path, feed)
    return info.value.code


def test_legacy_ole_that_is_not_a_workbook(tmp_path):
    assert _code(_write(tmp_path, "old.xls", OLE_MAGIC + b"\0" * 2000), "medical") == "unsupported"


def test_whitespace_only_and_empty_workbook(tmp_path):
    assert _code(_write(tmp_path, "blank.csv", b" \r\n\r\n  \n"), "medical") == "empty"
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.add_worksheet("Sheet1")
    wb.close()
    assert _code(_write(tmp_path, "empty.xlsx", buf.getvalue()), "medical") == "empty"


def test_a_wide_row_far_below_the_header_is_rejected(tmp_path):
    lines = ["姓名,身份证号,结算日期,个人自付"] + [f"张{i},{ID},2026-03-01,{i}" for i in range(60)]
    lines.append(f"李四,{ID},2026-03-02,1,200")  # unquoted thousands comma: one cell too many
    r = read_file(_write(tmp_path, "w.csv", "\n".join(lines).encode()), "medical")
    assert r.rows.height == 60 and r.rejected["source_row"].to_list() == [62]
    assert "列数比表头多" in r.rejected["reason"][0]


def test_registry_file_in_the_medical_folder():
    p = CORPUS / "registry" / "28_persons.xlsx"
    with pytest.raises(UnreadableFile) as info:
        read_file(p, "medical")
    assert info.value.code == "wrong_feed" and info.value.looks_like == "registry"


def test_medical_file_in_the_registry_folder():
    with pytest.raises(UnreadableFile) as info:
        read_file(CORPUS / "medical" / "02_utf8_bom_crlf.csv", "registry")
    assert info.value.code == "wrong_feed" and info.value.looks_like == "medical"


def test_header_search_depth(tmp_path):
    body = "姓名,身份证号,结算日期,个人自付\n张三,%s,2026-03-01,5\n" % ID
    ok = read_file(_write(tmp_path, "a.csv", ("说明\n" * 25 + body).encode()), "medical")
    assert ok.header_row == 26 and ok.skipped["title"] == 25 and ok.rows.height == 1
    assert _code(_write(tmp_path, "b.csv", ("说明\n" * 35 + body).encode()), "medical") == "no_header"


def test_reading_is_deterministic():
    p = CORPUS / "medical" / "07_messy_values.csv"
    a, b = read_file(p, "medical"), read_file(p, "medical")
    assert a.rows.equals(b.rows) and a.rejected.equals(b.rejected) and a.notes == b.notes


def test_unknown_feed(tmp_path):
    assert _code(_write(tmp_path, "x.csv", b"a,b\n"), "nope") == "unknown_feed"


def test_total_and_note_rows_with_spaces(tmp_path):
    text = "姓名,身份证号,结算日期,个人自付\n张三,%s,2026-03-01,5\n合　计,,,5\n本页小计,,,5\n制表人：王某\n" % ID
    r = read_file(_write(tmp_path, "t.csv", text.encode()), "medical")
    assert r.skipped == {"title": 1, "header": 1, "total": 2, "blank": 0} and r.rows.height == 1


def test_rows_frame_has_no_helper_columns():
    r = read_file(CORPUS / "medical" / "05_title_subtotals.xlsx", "medical")
    assert not [c for c in r.rows.columns if c.startswith("_")]
    assert r.rows.schema["source_row"] == pl.Int64 and r.rows.schema["settle_date"] == pl.Date


def test_numeric_id_cells_when_the_table_does_not_start_in_a1(tmp_path):
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("明细")
    ws.write(1, 2, "医保结算明细")  # C2: title; column A and B empty
    ws.write_row(3, 2, ["姓名", "身份证号", "结算日期", "个人自付"])  # header on row 4, from column C
    ws.write_row(4, 2, ["张三", ID, "2026-03-01", 5])
    ws.write_string(5, 2, "李四")
    ws.write_number(5, 3, int(ID))
    ws.write_string(5, 4, "2026-03-02")
    ws.write_number(5, 5, 6)
    wb.close()
    r = read_file(_write(tmp_path, "c.xlsx", buf.getvalue()), "medical")
    assert r.header_row == 4 and r.skipped == {"title": 1, "header": 1, "total": 0, "blank": 2}
    got = dict(zip(r.rows["source_row"], r.rows["id_status"]))
    assert got == {5: "valid", 6: "mangled"}


def _book(sheets: list[tuple[str, str, list[list]]]) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    for name, state, rows in sheets:
        ws = wb.add_worksheet(name)
        if state == "visible":
            ws.activate()  # xlsxwriter does not hide the active sheet (the first one unless told)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                ws.write(r, c + 1, v)  # from column B
        if state == "hidden":
            ws.hide()
        elif state == "veryHidden":
            ws.very_hidden()
    wb.close()
    return buf.getvalue()


def test_hidden_sheets_come_after_the_visible_ones():
    from sources.grid import xlsx_grids

    rows = [["姓名", "身份证号"], ["张三", int(ID)], ["李四", ID]]
    grids = list(xlsx_grids(_book([("旧表", "hidden", rows[:2]), ("明细", "visible", rows)])))
    assert [(g.sheet, g.frame.height) for g in grids] == [("明细", 3), ("旧表", 2)]
    assert grids[0].notes == ["数据取自第2个工作表“明细”（前面的工作表没有可识别的表头）"]
    assert grids[1].notes == ["数据在隐藏的工作表“旧表”中"]
    # the number cell in column B is found in either sheet (absolute column indices, also when read eagerly)
    for g in grids:
        assert g.numeric_probe([1])[1].to_list() == [False, True, False][: g.frame.height]
    grids = list(xlsx_grids(_book([("说明", "visible", []), ("数据", "veryHidden", rows)])))
    assert [(g.sheet, g.notes) for g in grids] == [("数据", ["数据在隐藏的工作表“数据”中"])]
