"""The divisions a home serves: Liuzhou's by default, a home's own table (another prefecture, a province) when it
has one, and a malformed table refused before a round starts."""

from __future__ import annotations

import os

import pytest

from assets.rounds import county_key, resolve_county  # imported here: its partitions are read at import
from fangpin import settings
from fangpin.cli import main
from fangpin.domain import divisions
from warehouse import rules

#: Liuzhou's 融水 plus one county of a second prefecture (梧州's code, a made-up county)
TABLE = """county_code,county_name,township_code,township_name
450225,融水苗族自治县,450225100,融水镇
450425,峤峥苗族自治县,450425100,盛嘉镇
450425,峤峥苗族自治县,450425201,祥瑞乡
"""


def _home_with(table: str, tmp_path, monkeypatch):
    """A data home with ``table`` as its divisions, made the home in force."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "divisions.csv").write_text(table, encoding="utf-8")
    monkeypatch.setenv("FANGPIN_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def province_home(tmp_path, monkeypatch):
    return _home_with(TABLE, tmp_path, monkeypatch)


def test_without_a_table_of_its_own_a_home_serves_liuzhou(tmp_path, monkeypatch):
    monkeypatch.setenv("FANGPIN_HOME", str(tmp_path))
    assert divisions.table_path() == divisions.REFERENCE
    assert divisions.city_codes() == ("4502",)
    assert len(divisions.counties()) == 10 and divisions.counties()["450225"] == "融水苗族自治县"


def test_a_homes_table_replaces_the_packaged_divisions(province_home):
    assert divisions.counties() == {"450225": "融水苗族自治县", "450425": "峤峥苗族自治县"}
    assert divisions.city_codes() == ("4502", "4504")
    # an ID issued in the second prefecture's county is one of ours, read with its city's name
    assert {"450425", "450400", "450401"} <= divisions.valid_address_codes()
    assert divisions.region_names()["450425"] == "梧州市峤峥苗族自治县"
    assert divisions.region_names()["450225"] == "柳州市融水苗族自治县"
    # the rules take the county as one of the round's (a county re-run is possible), an unknown one is refused
    assert rules.county_scope(["450425"]) == ["450425"]
    with pytest.raises(ValueError, match="450223"):
        rules.county_scope(["450223"])
    # the synthetic city is still made of Liuzhou's real townships, whatever the home
    assert len(divisions.reference_townships()) == 118


def test_a_changed_table_is_read_again(province_home):
    assert "450426" not in divisions.counties()
    path = province_home / "config" / "divisions.csv"
    path.write_text(TABLE + "450426,嵘崖侗族自治县,450426100,嵘崖镇\n", encoding="utf-8")

    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert divisions.counties()["450426"] == "嵘崖侗族自治县"


@pytest.mark.parametrize(
    "line, expected",
    [
        ("450425,峤峥苗族自治县,450426300,某乡", "第 5 行: 县级代码须为 6 位数字、乡镇代码须为以县级代码开头"),
        ("4504,峤峥苗族自治县,450400300,某乡", "第 5 行"),
        ("450425,,450425300,某乡", "第 5 行: 县名和乡镇名不能为空"),
        # a township twice, or a county under two names: which one the lists would carry is not for us to guess
        ("450425,峤峥苗族自治县,450425100,另一镇", "第 5 行: 乡镇代码 450425100 与第 3 行重复"),
        ("450425,峤峥县,450425300,某乡", "第 5 行: 县级代码 450425 的县名“峤峥县”与第 3 行的“峤峥苗族自治县”不一致"),
    ],
)
def test_a_malformed_table_stops_the_round_before_it_starts_naming_the_row(
    tmp_path, monkeypatch, capsys, line, expected
):
    monkeypatch.setenv("FANGPIN_HOME", str(tmp_path))  # the command sets it: undone after the test
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "divisions.csv").write_text(TABLE + line + "\n", encoding="utf-8")
    assert main(["screen", "--round", "2026Q4", "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "区划表" in err and "divisions.csv" in err and expected in err
    assert not (tmp_path / "warehouse" / "fangpin.duckdb").exists()


def test_a_table_without_its_columns_is_refused(tmp_path, monkeypatch):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "divisions.csv").write_text("code,name\n450425,某县\n", encoding="utf-8")
    monkeypatch.setenv("FANGPIN_HOME", str(tmp_path))
    with pytest.raises(divisions.DivisionsError, match="缺少列 county_code, county_name, township_code"):
        divisions.counties()


def test_a_province_line_serves_every_city_without_one_of_its_own(tmp_path):
    (tmp_path / "config").mkdir()
    packaged = (settings.PACKAGED / "rules.yaml").read_text(encoding="utf-8")
    (tmp_path / "config" / "rules.yaml").write_text(packaged.replace('\n  "4502":\n', '\n  "45":\n'), "utf-8")
    assert settings.rules_for("450425", 2026, tmp_path)["region"] == "45"
    assert settings.rules_for("4502", 2026, tmp_path)["monitoring_line"] == 9000
    # the packaged file keeps 柳州's own line, and a code of another province finds none
    assert settings.rules_for("450225", 2026)["region"] == "4502"
    with pytest.raises(
        settings.ConfigError,
        match=r"regions\.520101\.2026, regions\.5201\.2026, regions\.52\.2026\); add regions\.5201\.2026\.monitoring_line",
    ):
        settings.rules_for("520101", 2026, tmp_path)


#: two counties of two prefectures with one name (as 山西's several 城区), and one with a name of its own
SHARED = """county_code,county_name,township_code,township_name
450231,城区,450231001,东街街道
450431,城区,450431001,西街街道
450225,融水苗族自治县,450225100,融水镇
"""


@pytest.fixture
def shared_name_home(tmp_path, monkeypatch):
    return _home_with(SHARED, tmp_path, monkeypatch)


def test_counties_sharing_a_name_are_told_apart_in_file_names_and_read_back(shared_name_home):
    # the published files of the two 城区 never replace each other; a county with a name of its own keeps it
    assert divisions.county_label("450231") == "城区_450231"
    assert divisions.county_label("450431") == "城区_450431"
    assert divisions.county_label("450225") == "融水苗族自治县"
    # a code outside the divisions carrying a served county's name gets its code too
    assert divisions.county_label("450299", "城区") == "城区_450299"
    assert divisions.county_name("450299") == "县别代码450299" and divisions.county_name(None) == "县别不详"
    # a returned file says which county it is from by its code; by the shared name alone it cannot
    assert divisions.county_in_file_name("疑似风险户清单_城区_450431（已核实）.xlsx") == "450431"
    assert divisions.county_in_file_name("疑似风险户清单_城区.xlsx") is None
    assert divisions.county_in_file_name("疑似风险户清单_融水苗族自治县.xlsx") == "450225"
    assert divisions.county_in_file_name("融水反馈.xlsx") == "450225"


def test_a_row_naming_a_shared_county_is_taken_as_the_files_county(shared_name_home):
    from warehouse.followup import feedback

    lookup = feedback._county_lookup()
    assert feedback._row_county(lookup, "城区", "450431") == "450431"
    assert feedback._row_county(lookup, "城 区", None) is None  # which 城区 is not known: not held against the row
    assert feedback._row_county(lookup, "融水县", "450431") == "450225"


def test_the_total_row_is_the_citys_or_the_provinces(province_home, tmp_path, monkeypatch):
    assert divisions.whole_area() == ("合计", "450000")
    monkeypatch.setenv("FANGPIN_HOME", str(tmp_path / "elsewhere"))
    assert divisions.whole_area() == ("全市合计", "450200")


def test_a_county_named_by_a_shared_name_is_asked_for_by_its_code(shared_name_home):
    # `fangpin screen --county 城区` cannot know which: it says so and names both, never picks one
    with pytest.raises(ValueError, match="450231.*450431"):
        resolve_county("城区")
    assert resolve_county("城区_450431") == "450431" and resolve_county("450231") == "450231"
    assert resolve_county("融水") == "450225"
    # partition keys are one per county
    assert county_key("450231") != county_key("450431") and county_key("450225") == "融水苗族自治县"


def test_a_homes_texts_name_the_area_it_serves(province_home, tmp_path, monkeypatch):
    from fangpin.reports import followup, systemic

    # several prefectures: neither 本市/全市 (it is more than a city) nor 本省 (not necessarily the whole province)
    assert divisions.area_word() == "本地区"
    assert followup.funds_cols()[-1].header == "占合计监测人数比例(%)"  # of the 合计 row under it
    assert "（所有地区和信号合并控制错误发现率）" in systemic.method_text()
    monkeypatch.setenv("FANGPIN_HOME", str(tmp_path / "elsewhere"))  # a city's texts are as they were
    assert divisions.area_word() == "本市"
    assert followup.funds_cols()[-1].header == "占全市监测人数比例(%)"
    assert "（全市所有地区和信号合并控制错误发现率）" in systemic.method_text()
