"""Excel pre-checks (sources/xlsx_guard.py): the workbooks of issue 14 are refused before any parser sees them, with
a reason the clerk can act on; ordinary workbooks pass, and the same pass tells the reader which cells are numbers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from sources.errors import UnreadableFile
from sources.read import read_file
from sources.xlsx_guard import ExcelLimits, column_index, column_letters, inspect_xlsx

CORPUS = Path(__file__).parent / "fault_corpus"
_spec = importlib.util.spec_from_file_location("hostile", CORPUS / "hostile.py")
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)


def _refused(data: bytes, limits: ExcelLimits | None = None) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as info:
        inspect_xlsx(data, limits)
    assert info.value.code == "too_large"
    return info.value


def test_column_letters_round_trip():
    assert [column_index(x) for x in ("A", "Z", "AA", "BH", "XFD")] == [0, 25, 26, 59, 16383]
    assert [column_letters(i) for i in (0, 25, 26, 59, 16383)] == ["A", "Z", "AA", "BH", "XFD"]


@pytest.mark.parametrize("dimension", ["auto", None, "A1:D2"], ids=["declared", "no dimension", "dimension that lies"])
def test_one_value_at_xfd100000_is_refused_whatever_the_dimension_says(dimension):
    data = hostile.far_cell("XFD100000", dimension=dimension)
    assert len(data) < 10_000  # 5.7 KB in issue 14; the parser would allocate ≈ 52 GB
    err = _refused(data)
    assert "XFD100000" in err.reason and "100,000行×16,384列" in err.reason and "163,840万个单元格" in err.reason
    assert "删除多余的行和列" in err.reason  # what the clerk can do


def test_bh1048576_is_refused():
    err = _refused(hostile.far_cell("BH1048576"))
    assert "BH1048576" in err.reason and "1,048,576行×60列" in err.reason


def test_far_cell_written_by_a_dotnet_writer_or_with_attributes_reordered_is_refused():
    assert "XFD100000" in _refused(hostile.far_cell("XFD100000", dimension=None, prefix="x:")).reason
    reordered = hostile.header_workbook('<c s="0" t="n" r="XFD100000"><v>1</v></c>')
    assert "XFD100000" in _refused(reordered).reason


def test_shared_string_zip_bomb_is_refused_from_the_zip_directory():
    data = hostile.shared_string_bomb(200)
    assert len(data) < 2_000_000
    err = _refused(data)
    assert "sharedStrings.xml" in err.reason and "压缩了" in err.reason and "重新导出" in err.reason
    # a table that is not compressed so much but has too many entries: counted, not taken from its header
    many = hostile.workbook('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', [f"t{i}" for i in range(3000)])
    assert "3,000条" in _refused(many, ExcelLimits(max_shared_strings=2000)).reason


def test_ordinary_workbook_passes_and_limits_come_from_configuration(tmp_path):
    data = hostile.header_workbook()
    [scan] = inspect_xlsx(data).values()
    assert (scan.name, scan.max_row, scan.max_col <= 25) == ("明细", 2, True)
    path = tmp_path / "医保.xlsx"
    path.write_bytes(data)
    assert read_file(path, "medical").rows.height == 1
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "ingest.yaml").write_text("excel:\n  max_cells: 4\n", encoding="utf-8")
    with pytest.raises(UnreadableFile) as info:
        read_file(path, "medical", home=home)
    assert info.value.code == "too_large" and "4个单元格" in info.value.reason


def test_hostile_workbooks_reach_the_reader_as_quarantine_reasons(tmp_path):
    for ref in ("XFD100000", "BH1048576"):
        path = tmp_path / f"{ref}.xlsx"
        path.write_bytes(hostile.far_cell(ref))
        with pytest.raises(UnreadableFile) as info:
            read_file(path, "medical")
        assert info.value.code == "too_large" and ref in info.value.reason


def test_number_cells_with_16_or_more_digits_are_found_in_the_same_pass():
    cells = '<c r="E2"><v>4.502251980050612E+17</v></c><c r="F2"><v>4502251000010001</v></c><c r="G2"><v>12.5</v></c>'
    [scan] = inspect_xlsx(hostile.header_workbook(cells)).values()
    assert scan.long_numbers == {4: [2], 5: [2]}
