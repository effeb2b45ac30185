"""Published round outputs (SPEC §7, §9): Parquet contract, county workbooks that hold only their households,
inert formula text, sanitised file names, department task lists and returns, an offline summary."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from test_rules_support import PUSHED, REF, City, D

from assets.publishing import publish_round
from fangpin.reports.safe import FORMULA_PREFIXES, child_path, safe_filename, safe_text
from fangpin.settings import PACKAGED
from warehouse.engine import connect
from warehouse.rules import screen

EVIL = '=HYPERLINK("http://x","点击")'


def build_city() -> City:
    city = City()
    # 融水 (450225): two suspects, one with a formula for a name in the registry
    m = city.household("RS-1", village_code="450225101201", income=9500)
    city.medical(m[0], D(2026, 3, 5), 15000.0)
    m = city.household("RS-2", village_code="450225102201", income=9500, names=[EVIL, "+1+1", "@SUM(A1)"])
    city.medical(m[1], D(2026, 4, 5), 16000.0)
    # 三江 (450226): one suspect, and the resettlement community where RELOC lives
    city.village("450226100301", "古宜安置小区", site=True)
    m = city.household("SJ-1", village_code="450226100201", income=9000)
    city.disaster("SJ-1", D(2026, 6, 1), 9000.0, damage="严重损坏")
    # relocated from 融水 to the 三江 community, hukou not moved: both workbooks, labelled
    m = city.household(
        "RELOC",
        village_code="450225101202",
        income=9500,
        relocated="是",
        resettlement_site="古宜安置小区",
        hukou_moved="否",
    )
    city.medical(m[0], D(2026, 5, 5), 15000.0)
    # 柳城 (450222): a monitored household with a new medical risk → 医保/卫健 task lists
    m = city.household(
        "LC-1", village_code="450222100201", income=12000, monitoring_category="边缘易致贫户", risk_eliminated="否"
    )
    city.medical(m[0], D(2026, 5, 5), 9000.0)
    # 柳江 (450206): no suspect at all — still gets its (empty) workbook
    city.household("LJ-1", village_code="450206100201", income=20000)
    # department rows nobody matches, one named like a formula
    city.medical(
        None, D(2026, 3, 1), 500.0, match="unmatched", name=EVIL, source_file="医保2026年3月.xlsx", source_row=9
    )
    city.employment(None, D(2026, 3, 1), match="unmatched", name="-张三", source_file="人社.csv", source_row=4)
    city.employment(None, D(2026, 3, 1), match="review", name="李四", source_file="人社.csv", source_row=5)
    return city


@pytest.fixture()
def published(tmp_path):
    home = tmp_path / "home"
    city = build_city()
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        con.execute(
            "INSERT INTO rejected_row VALUES ('medical', '医保2026年3月.xlsx', 12, '证件号码', '证件号码校验位错误', 'h'),"
            " ('medical', '../坏文件.xlsx', NULL, NULL, '文件无法读取', 'h2')"
        )
        screen(con, "2026Q4", "full", REF, PUSHED, home=home)
        result = publish_round(con, home, "2026Q4")
    return home / "out" / "2026Q4", result


def _sheet_rows(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    header_idx = next(i for i, r in enumerate(rows) if r and r[0] in ("序号", "排查顺序", "规则代码"))
    header = rows[header_idx]
    return [dict(zip(header, r)) for r in rows[header_idx + 1 :] if any(v is not None for v in r)]


# ------------------------------------------------------------------------------------------ contract


def test_parquet_contract(published):
    out, result = published
    s = pl.read_parquet(out / "suspects.parquet")
    for col in (
        "round_id",
        "household_id",
        "county_code",
        "township_code",
        "village_code",
        "household_type",
        "monitoring_category",
        "suspect_category",
        "risk_types",
        "base_per_capita_income",
        "adjusted_per_capita_income",
        "monitoring_line",
        "priority_score",
        "pushed_on",
        "verify_by",
        "evidence",
    ):
        assert col in s.columns, col
    assert s.schema["risk_types"] == pl.List(pl.String)
    assert s.schema["pushed_on"] == pl.Date and s.schema["verify_by"] == pl.Date
    fields = {f.name for f in s.schema["evidence"].inner.fields}
    assert {"source", "source_file", "source_row", "summary"} <= fields
    assert s.filter(pl.col("evidence").list.len() == 0).height == 0
    assert set(s["household_id"]) == {"RS-1", "RS-2", "SJ-1", "RELOC", "LC-1"}
    links = pl.read_parquet(out / "links.parquet")
    assert {"source", "source_file", "source_row", "id_number", "household_id", "match_method", "match_score"} <= set(
        links.columns
    )
    rejected = pl.read_parquet(out / "rejected.parquet")
    assert {"source", "source_file", "source_row", "reason"} <= set(rejected.columns) and rejected.height == 2
    assert result["counts"]["suspects"] == 5
    assert all(Path(f).exists() for f in result["files"])


def test_one_workbook_per_county_with_the_required_layout(published):
    out, _ = published
    names = sorted(p.name for p in out.glob("疑似风险户清单_*.xlsx"))
    assert names == sorted(
        [
            "疑似风险户清单_融水苗族自治县.xlsx",
            "疑似风险户清单_三江侗族自治县.xlsx",
            "疑似风险户清单_柳城县.xlsx",
            "疑似风险户清单_柳江区.xlsx",
        ]
    )
    wb = openpyxl.load_workbook(out / "疑似风险户清单_融水苗族自治县.xlsx")
    assert wb.sheetnames[:2] == ["疑似风险户清单", "易地搬迁分流"]
    ws = wb["疑似风险户清单"]
    assert ws.freeze_panes is not None and ws.auto_filter.ref
    header = next(r for r in ws.iter_rows(values_only=True) if r and r[0] == "序号")
    for col in (
        "乡(镇)",
        "行政村",
        "户编号",
        "户主姓名",
        "户类型",
        "监测对象类别",
        "疑似类别",
        "风险类型",
        "基础人均收入",
        "调整后人均收入",
        "监测线",
        "优先级",
        "证据",
        "推送日期",
        "核实截止日期",
        "核实结果",
        "核实日期",
        "核实人",
    ):
        assert col in header, col
    from openpyxl.utils import get_column_letter

    assert ws.column_dimensions[get_column_letter(header.index("证据") + 1)].width > 30  # evidence column is wide
    rows = _sheet_rows(ws)
    scores = [r["优先级"] for r in rows]
    assert scores == sorted(scores, reverse=True)  # priority order
    assert all(r["核实截止日期"].date() == D(2026, 10, 15) for r in rows)
    ev = next(r for r in rows if r["户编号"] == "RS-1")["证据"]
    assert ev.startswith("【医保局｜medical_2026.xlsx 第") and "个人自付 15,000.00元" in ev
    assert all(r["核实结果"] is None for r in rows)
    empty = openpyxl.load_workbook(out / "疑似风险户清单_柳江区.xlsx")["疑似风险户清单"]
    assert _sheet_rows(empty) == [] and any("本县本轮没有疑似风险户" in str(c.value) for c in empty["A"])


def test_county_workbooks_hold_only_their_households_and_labelled_routed_ones(published):
    out, _ = published
    s = pl.read_parquet(out / "suspects.parquet")
    by_id = {r["household_id"]: r for r in s.to_dicts()}
    by_name = {"融水苗族自治县": "450225", "三江侗族自治县": "450226", "柳城县": "450222", "柳江区": "450206"}
    seen_reloc = set()
    for path in out.glob("疑似风险户清单_*.xlsx"):
        code = by_name[path.stem.split("_", 1)[1]]
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in _sheet_rows(ws):
                hid = row.get("户编号")
                if hid is None:
                    continue
                h = by_id[hid]
                if h["county_code"] == code:
                    continue
                # another county's household: only a relocated one routed here, and labelled
                assert h["double_routed"] and code in (h["live_county_code"], h["hukou_county_code"]), (path.name, hid)
                assert ws.title in ("疑似风险户清单", "易地搬迁分流", "安置点横向比较")
                if ws.title != "安置点横向比较":
                    assert row["分流标签"] in ("安置地", "户籍地分流"), row
                seen_reloc.add((code, ws.title))
    assert ("450226", "疑似风险户清单") in seen_reloc and ("450226", "易地搬迁分流") in seen_reloc
    rs = _sheet_rows(openpyxl.load_workbook(out / "疑似风险户清单_融水苗族自治县.xlsx")["易地搬迁分流"])
    assert [r["分流标签"] for r in rs if r["户编号"] == "RELOC"] == ["户籍地分流"]
    assert "双帮扶人" in rs[0]["认定与帮扶分工"]


def test_formula_text_from_inputs_is_inert_everywhere(published):
    out, _ = published
    found = []
    for path in out.glob("*.xlsx"):
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(FORMULA_PREFIXES), (path.name, cell.coordinate, cell.value)
                        if "HYPERLINK" in cell.value:
                            found.append((path.name, cell.value))
    # the department file's name and the registry head's name both arrive as visible, inert text
    unmatched = _sheet_rows(openpyxl.load_workbook(out / "未匹配记录_医保局.xlsx")["仅供参考（非本市农村人员）"])
    assert (
        unmatched[0]["姓名"] == "'" + EVIL
        and unmatched[0]["来源文件"] == "医保2026年3月.xlsx"
        and unmatched[0]["行号"] == 9
    )
    head = next(
        r
        for r in _sheet_rows(openpyxl.load_workbook(out / "疑似风险户清单_融水苗族自治县.xlsx")["疑似风险户清单"])
        if r["户编号"] == "RS-2"
    )
    assert head["户主姓名"] == "'" + EVIL
    assert any(name.startswith("未匹配记录_医保局") for name, _ in found)
    hr = _sheet_rows(openpyxl.load_workbook(out / "未匹配记录_人社局.xlsx")["仅供参考（非本市农村人员）"])
    assert [r["姓名"] for r in hr] == ["'-张三"]  # the review record is not returned as unmatched


def test_department_task_lists_and_returns(published):
    out, result = published
    med = _sheet_rows(openpyxl.load_workbook(out / "行业部门任务清单_医保局.xlsx")["行业部门任务清单"])
    assert [r["户编号"] for r in med] == ["LC-1"] and med[0]["本部门相关风险"] == "因病"
    assert "个人自付" in med[0]["证据"]
    assert [
        r["户编号"]
        for r in _sheet_rows(openpyxl.load_workbook(out / "行业部门任务清单_卫健委.xlsx")["行业部门任务清单"])
    ] == ["LC-1"]
    assert _sheet_rows(openpyxl.load_workbook(out / "行业部门任务清单_应急管理局.xlsx")["行业部门任务清单"]) == []
    assert not (out / "行业部门任务清单_财产检索.xlsx").exists()
    rej = _sheet_rows(openpyxl.load_workbook(out / "未匹配记录_医保局.xlsx")["拒收记录"])
    assert {r["行号"] for r in rej} == {"第12行", "整个文件"}
    assert result["counts"]["task_lists"]["医保局"] == 1


def test_summary_opens_offline_with_charts(published):
    out, _ = published
    html = (out / "汇总_2026Q4.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 5
    lowered = html.lower()
    for bad in ("<script", "<link", "src=", "href=", "url(", "http://", "https://", "@import"):
        assert bad not in lowered, bad
    assert "融水苗族自治县" in html and "监测户新增风险" in html
    assert "各市疑似风险户数" not in html, "one prefecture: no chart of prefectures"
    with zipfile.ZipFile(out / "汇总_2026Q4.xlsx") as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) >= 4


def test_file_names_are_sanitised(tmp_path):
    assert safe_filename("../../etc/passwd").endswith("etc_passwd") and "/" not in safe_filename("../../etc/passwd")
    for raw in ("a/b", "a\\b", "..", "../x", "x/../y", "C:\\x", "con", "\x00bad", " . "):
        name = safe_filename(raw)
        assert "/" not in name and "\\" not in name and ".." not in name and name.strip(" .") == name and name
        assert child_path(tmp_path, raw).parent == tmp_path
    # a county name from the registry and a department name from a home's routing.yaml cannot escape out/<round>/
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    routing = yaml.safe_load((PACKAGED / "routing.yaml").read_text(encoding="utf-8"))
    routing["departments"]["medical_insurance"]["name"] = "../../医保局"
    (home / "config" / "routing.yaml").write_text(yaml.safe_dump(routing, allow_unicode=True), encoding="utf-8")
    city = City()
    m = city.household("Z1", village_code="459999100201", income=9500)  # a county code not in the reference
    for p in city.persons:
        p["county"] = "../../../逃逸县"
    city.medical(m[0], D(2026, 3, 5), 15000.0)
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED, home=home)
        result = publish_round(con, home, "2026Q4")
        with pytest.raises(ValueError):
            publish_round(con, home, "../2026Q4")
    out = home / "out" / "2026Q4"
    for f in result["files"]:
        assert Path(f).parent == out
    assert sorted(p.name for p in tmp_path.rglob("*.xlsx") if p.parent != out) == []
    escaped = [p.name for p in out.glob("疑似风险户清单_*逃逸县.xlsx")]
    assert len(escaped) == 1 and ".." not in escaped[0]


def test_safe_text():
    assert safe_text(EVIL) == "'" + EVIL
    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_text(prefix + "x") == "'" + prefix + "x"
    assert safe_text("张三") == "张三" and safe_text(12.5) == 12.5 and safe_text(None) is None


def test_republishing_is_stable_and_removes_stale_outputs(tmp_path):
    home = tmp_path / "home"
    city = build_city()
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED, home=home)
        first = publish_round(con, home, "2026Q4")
        out = home / "out" / "2026Q4"
        (out / "行业部门任务清单_已撤销部门.xlsx").write_bytes(b"old")
        (out / "核实结果回执.xlsx").write_bytes(b"someone else's file")
        before = pl.read_parquet(out / "suspects.parquet")
        second = publish_round(con, home, "2026Q4")
    assert [Path(f).name for f in first["files"]] == [Path(f).name for f in second["files"]]
    assert pl.read_parquet(out / "suspects.parquet").equals(before)
    assert not (out / "行业部门任务清单_已撤销部门.xlsx").exists()
    assert (out / "核实结果回执.xlsx").exists()
    assert not any(p.name.startswith(".") for p in (home / "out").iterdir())


def test_priority_round_workbooks_list_targets_and_ranked_households(tmp_path):
    home = tmp_path / "home"
    city = City()
    deep = city.village("450225102202", "深山村", deep=True)
    m = city.household("PD-1", village_code=deep, income=9500)
    city.medical(m[0], D(2026, 3, 5), 15000.0)
    city.household("PD-2", village_code=deep, income=10000)
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        screen(con, "2026Q3", "priority", D(2026, 7, 1), D(2026, 7, 6), home=home)
        publish_round(con, home, "2026Q3")
    out = home / "out" / "2026Q3"
    wb = openpyxl.load_workbook(out / "重点区域排查_融水苗族自治县.xlsx")
    assert wb.sheetnames == ["重点排查村", "重点排查户"]
    targets = _sheet_rows(wb["重点排查村"])
    assert targets[0]["行政村"] == "深山村" and "原深度贫困村" in targets[0]["列为重点区域的原因"]
    ranked = _sheet_rows(wb["重点排查户"])
    assert [r["户编号"] for r in ranked] == ["PD-1", "PD-2"] and ranked[0]["所在重点村"] == "深山村"
    assert wb["重点排查户"].freeze_panes is not None and wb["重点排查户"].auto_filter.ref
    # the same in Parquet, and nothing of it in the suspect list workbook
    pt = pl.read_parquet(out / "priority_targets.parquet")
    assert pt["village_code"].to_list() == [deep] and pt["reasons"].to_list() == [["原深度贫困村"]]
    ph = pl.read_parquet(out / "priority_households.parquet")
    assert ph.sort("screening_rank")["household_id"].to_list() == ["PD-1", "PD-2"]
    assert set(ph["target_county_code"]) == {"450225"}
    assert "重点排查村" not in openpyxl.load_workbook(out / "疑似风险户清单_融水苗族自治县.xlsx").sheetnames


def test_calendar_fallback_is_stated_in_the_workbook(tmp_path):
    home = tmp_path / "home"
    city = City()
    m = city.household("FB", income=9500)
    city.medical(m[0], D(2026, 12, 5), 15000.0)
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        stats = screen(con, "2027Q1", "full", D(2027, 1, 1), D(2027, 1, 4), home=home)
        publish_round(con, home, "2027Q1")
    assert stats.calendar_fallback and stats.verify_by == D(2027, 1, 11)
    rows = _sheet_rows(
        openpyxl.load_workbook(home / "out" / "2027Q1" / "疑似风险户清单_融水苗族自治县.xlsx")["疑似风险户清单"]
    )
    assert "仅周末" in rows[0]["截止日期说明"]
    assert "仅周末" in (home / "out" / "2027Q1" / "汇总_2027Q1.html").read_text(encoding="utf-8")


def test_formula_name_in_a_dropped_department_file_arrives_as_inert_text(tmp_path):
    """The whole path for a clerk's file: CSV in landing/medical → reader → warehouse → 未匹配记录 workbook."""
    import datetime as dt

    from assets.ingestion import ingest_feed
    from fangpin.home import DataHome

    dh = DataHome.at(tmp_path / "home").ensure()
    rows = [
        "姓名,身份证号,参保地,结算日期,医疗机构,医疗总费用,个人自付,就诊类型",
        '"=HYPERLINK(""http://x"",""点击"")",,三防镇,2026-03-05,融水县人民医院,3000,1200,住院',
        "@张三,,三防镇,2026/3/6,融水县人民医院,2000,800,住院",
        "李四,,和睦镇,2026年3月7日,融水县人民医院,2500,900,门诊慢特病",
    ]
    (dh.landing_for("medical") / "医保2026年3月.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with connect(dh.warehouse_path) as con:
        ingest_feed(dh, "medical", con, reference_date=dt.date(2026, 10, 1))
        # nobody in the registry: every record is returned to the clerk as unmatched
        con.execute(
            "INSERT INTO link SELECT source, source_file, source_row, NULL, NULL, 'unmatched', 0.0, "
            "'户籍系统中找不到此人', 0 FROM dept_record"
        )
        screen(con, "2026Q4", "full", REF, PUSHED, home=dh.root)
        publish_round(con, dh.root, "2026Q4")
    wb = openpyxl.load_workbook(dh.root / "out" / "2026Q4" / "未匹配记录_医保局.xlsx")
    cells = {r["行号"]: r for sheet in ("需核对更正", "仅供参考（非本市农村人员）") for r in _sheet_rows(wb[sheet])}
    assert cells[2]["姓名"] == "'" + EVIL and cells[3]["姓名"] == "'@张三" and cells[4]["姓名"] == "李四"
    assert cells[2]["来源文件"] == "医保2026年3月.csv"
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"


# ------------------------------------------------------------------------------------------ county reruns, 双帮扶人


def _sha(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_county_publication_replaces_only_that_countys_files_and_rows(tmp_path):
    home = tmp_path / "home"
    city = build_city()
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED, home=home)
        publish_round(con, home, "2026Q4")
        out = home / "out" / "2026Q4"
        rs = out / "疑似风险户清单_融水苗族自治县.xlsx"
        others = {
            p.name: (_sha(p), p.stat().st_mtime_ns)
            for p in out.glob("*.xlsx")
            if p.name.startswith(("疑似风险户清单_", "未匹配记录_")) and p != rs
        }
        frozen = {n: (_sha(out / n), (out / n).stat().st_mtime_ns) for n in ("links.parquet", "rejected.parquet")}
        before = pl.read_parquet(out / "suspects.parquet")
        rs_before = _sha(rs)
        screen(con, "2026Q4", "full", REF, D(2026, 10, 12), home=home, counties=["450225"])
        result = publish_round(con, home, "2026Q4", counties=["450225"])
    assert {p.name: (_sha(p), p.stat().st_mtime_ns) for p in out.glob("*.xlsx") if p.name in others} == others
    assert {n: (_sha(out / n), (out / n).stat().st_mtime_ns) for n in frozen} == frozen
    assert _sha(rs) != rs_before
    assert sorted(Path(f).name for f in result["files"] if Path(f).name.startswith("疑似风险户清单_")) == [rs.name]
    after = pl.read_parquet(out / "suspects.parquet")
    assert (
        after.filter(pl.col("county_code") != "450225")
        .sort("household_id")
        .equals(before.filter(pl.col("county_code") != "450225").sort("household_id"))
    )
    assert set(after.filter(pl.col("county_code") == "450225")["pushed_on"]) == {D(2026, 10, 12)}
    assert after["household_id"].sort().to_list() == before["household_id"].sort().to_list()
    scores = after["priority_score"].to_list()
    assert scores == sorted(scores, reverse=True)
    # the summary and the task lists are regenerated from the round's tables
    assert "融水苗族自治县" in (out / "汇总_2026Q4.html").read_text(encoding="utf-8")


def test_the_first_publication_of_a_round_writes_the_round_wide_files_whatever_its_counties(tmp_path):
    home = tmp_path / "home"
    with connect(tmp_path / "w.duckdb") as con:
        build_city().flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED, home=home, counties=["450226"])
        publish_round(con, home, "2026Q4", counties=["450226"])
    out = home / "out" / "2026Q4"
    assert (out / "links.parquet").exists() and (out / "rejected.parquet").exists()
    assert sorted(p.name for p in out.glob("疑似风险户清单_*.xlsx")) == ["疑似风险户清单_三江侗族自治县.xlsx"]
    assert set(pl.read_parquet(out / "suspects.parquet")["county_code"]) == {"450226"}


def test_the_routing_sheet_names_both_helpers(tmp_path):
    home = tmp_path / "home"
    with connect(tmp_path / "w.duckdb") as con:
        build_city().flush(con)
        con.execute("""CREATE TABLE feedback_record (source VARCHAR, source_file VARCHAR, source_row BIGINT,
                       household_id VARCHAR, helper_name VARCHAR, helper_date DATE, reporting_county_code VARCHAR)""")
        con.execute("""INSERT INTO feedback_record VALUES
            ('feedback', '融水回执.xlsx', 4, 'RELOC', '韦建国', DATE '2026-10-20', '450225'),
            ('feedback', '三江回执.xlsx', 7, 'RELOC', '旧联系人', DATE '2026-10-16', '450226'),
            ('feedback', '三江回执2.xlsx', 3, 'RELOC', '覃丽', DATE '2026-10-22', '450226')""")
        screen(con, "2026Q4", "full", REF, PUSHED, home=home)
        publish_round(con, home, "2026Q4")
    out = home / "out" / "2026Q4"
    for book, label in (("融水苗族自治县", "户籍地分流"), ("三江侗族自治县", "安置地")):
        rows = [
            r
            for r in _sheet_rows(openpyxl.load_workbook(out / f"疑似风险户清单_{book}.xlsx")["易地搬迁分流"])
            if r["户编号"] == "RELOC"
        ]
        assert len(rows) == 1 and rows[0]["分流标签"] == label
        assert rows[0]["户籍地帮扶联系人"] == "韦建国" and rows[0]["安置社区帮扶联系人"] == "覃丽"
        assert rows[0]["安置点（安置社区）"] == "古宜安置小区" and rows[0]["户籍地县(市、区)"] == "融水苗族自治县"


def test_table_body_cells_keep_their_types_formats_and_stay_inert(tmp_path):
    """The table body is rendered to XML by fangpin.reports.xlsx, not cell by cell through xlsxwriter: a county
    clerk must still see numbers as numbers, dates as dates, 是/否 for flags, and formula-looking text inert."""
    from fangpin.reports.xlsx import Book, Col

    cols = [
        Col("序号", "seq", 6, "int"),
        Col("金额", "amt", 10, "money"),
        Col("日期", "d", 10, "date"),
        Col("说明", "t", 20, "wrap"),
        Col("核实结果", "v", 10),
    ]
    rows = [
        {"seq": 1, "amt": 12.5, "d": dt.date(2026, 3, 5), "t": '=HYPERLINK("http://x")', "v": None},
        {"seq": 2, "amt": "不详", "d": dt.datetime(2026, 3, 5, 12, 0), "t": "a&b<c> 中文 ", "v": True},
        {"seq": 3, "amt": float("nan"), "d": "2026-03-05", "t": ["甲", None, "乙"], "v": False},
        {"seq": 4, "amt": None, "d": None, "t": "x" * 40_000, "v": ""},
    ]
    path = tmp_path / "t.xlsx"
    with Book(path) as book:
        book.table("表", cols, rows, title="标题", notes=["说明行"], fill_keys=("v",))
    ws = openpyxl.load_workbook(path).active
    assert [c.value for c in ws[3]] == ["序号", "金额", "日期", "说明", "核实结果"]
    body = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert body[0] == [1, 12.5, dt.datetime(2026, 3, 5), '\'=HYPERLINK("http://x")', None]
    assert body[1] == [2, "不详", dt.datetime(2026, 3, 5, 12, 0), "a&b<c> 中文 ", "是"]
    assert body[2] == [3, None, "2026-03-05", "甲、乙", "否"]
    assert body[3][:3] == [4, None, None] and len(body[3][3]) == 32767 and body[3][4] is None
    assert (
        ws["B4"].number_format == "#,##0.00"
        and ws["C4"].number_format == "yyyy-mm-dd"
        and ws["A4"].number_format == "0"
    )
    assert all(ws.cell(row=r, column=5).fill.fgColor.rgb == "FFFFF2CC" for r in range(4, 8)), (
        "the column to fill in is shaded"
    )
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref == "A3:E7"


def test_a_table_longer_than_a_sheet_continues_on_further_sheets_with_every_row_once(tmp_path, monkeypatch):
    """Excel's sheets hold 1,048,576 rows; a province's 未匹配记录 of one department can come near that. Past the limit
    the sheet's XML would not open, so the table continues on sheets of the same title, notes and header."""
    from fangpin.reports import xlsx
    from fangpin.reports.xlsx import Book, Col

    monkeypatch.setattr(xlsx, "SHEET_ROWS", 12)  # title + note + continuation note + header + 8 rows a sheet
    cols = [Col("序号", "seq", 6, "int"), Col("姓名", "name", 10)]
    frame = pl.DataFrame({"seq": list(range(1, 21)), "name": [f"人{i}" for i in range(1, 21)]})
    path = tmp_path / "long.xlsx"
    with Book(path) as book:
        book.table("未匹配记录", cols, frame, title="标题", notes=["说明"])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["未匹配记录", "未匹配记录（续2）", "未匹配记录（续3）"]
    seen = []
    for ws in wb.worksheets:
        assert ws.max_row <= 12 and [c.value for c in ws[4]] == ["序号", "姓名"]
        assert "分 3 张工作表" in ws["A3"].value
        seen += [r[0] for r in ws.iter_rows(min_row=5, values_only=True)]
    assert seen == list(range(1, 21))
    # a body written past the limit by any other way is refused, never a workbook that does not open
    monkeypatch.setattr(xlsx, "SHEET_ROWS", 3)
    with pytest.raises(ValueError, match="exceeds"), Book(tmp_path / "x.xlsx") as book:
        sheet = book.wb.add_worksheet("x", worksheet_class=xlsx._TableSheet)
        sheet.add_rows(0, cols, [book.fmt["int"], book.fmt["text"]], frame)


# ------------------------------------------------------------------------------------------ 未匹配记录: ours or not


def _unmatched_city():
    """A registry household in 融水 和睦镇 and department records nobody matched: six of registry people whose record
    is wrong, five of people outside the city's rural registry."""
    from fangpin.domain.idnumber import birth_date, make_id, sex

    city = City()
    ids = city.household("UM", village_code="450225101201", names=["韦小明", "韦大山", "韦丽"], income=30000)
    for p in city.persons:
        p["birth_date"], p["sex"] = birth_date(p["id_number"]), sex(p["id_number"])
    xiaoming, dashan, li = ids
    other_seq = make_id(dashan[:6], birth_date(dashan), (int(dashan[14:17]) + 2) % 1000)  # valid, same sex
    wrong_check = xiaoming[:17] + ("0" if xiaoming[17] != "0" else "1")

    def record(row, name, id_raw, status, *, id_number=None, candidate=None, township="和睦镇"):
        city.medical(None, D(2026, 3, 1), 800.0, match="unmatched", name=name, source_file="医保.xlsx", source_row=row)
        city.records[-1].update(
            id_raw=id_raw,
            id_status=status,
            id_number=id_number,
            id_candidate=candidate or id_number,
            birth_date=birth_date(id_number or candidate) if (id_number or candidate) else None,
            sex=sex(id_number or candidate) if (id_number or candidate) else None,
            township=township,
        )

    record(2, "韦小明", wrong_check, "bad_checksum", candidate=wrong_check)
    record(3, "韦小明", "4.50225E+17", "mangled")
    record(4, "韦晓明", None, "missing")  # no ID, a homophone of a registry person of 和睦镇
    record(5, "韦大山", other_seq, "valid", id_number=other_seq)  # a mistyped ID that is still valid
    record(6, "张三", li, "valid", id_number=li)  # the registry holds this ID under another name
    record(7, "侯伟兵", "522633197901129457", "valid", id_number="522633197901129457", township="贵州省从江县")
    record(8, "杨娟兰", "450202198609029625", "valid", id_number="450202198609029625", township="柳州市城中区")
    record(9, "李四", None, "missing", township="南宁市青秀区")
    record(10, "赵六", None, "missing")  # 和睦镇, but nobody of that name there
    record(11, "韦芳", None, "missing")  # one character from 韦丽, not a homophone: any 韦 namesake would be "near"
    record(12, "韦莉", None, "missing")  # a homophone of 韦丽 (li)
    return city, xiaoming


def test_unmatched_records_are_split_into_ours_with_the_fix_and_outsiders(tmp_path):
    from warehouse.publish import department_returns

    city, xiaoming = _unmatched_city()
    home = tmp_path / "home"
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        unmatched, _ = department_returns(con, ["medical"])
        screen(con, "2026Q4", "full", REF, PUSHED, home=home)
        publish_round(con, home, "2026Q4")
    by_row = {r["source_row"]: r for r in unmatched.to_dicts()}
    assert {row: r["class"] for row, r in by_row.items()} == {
        **dict.fromkeys((2, 3, 4, 5, 6, 12), "fix"),
        **dict.fromkeys((7, 8, 9, 10, 11), "ref"),
    }
    assert f"第18位应为“{xiaoming[17]}”" in by_row[2]["fix"]
    assert "Excel" in by_row[3]["basis"] and "文本格式" in by_row[3]["fix"]
    assert "和睦镇" in by_row[4]["basis"] and "补填证件号码" in by_row[4]["fix"]
    assert "出生日期" in by_row[5]["basis"] and "姓名不同" in by_row[6]["basis"]
    assert "贵州省" in by_row[7]["basis"] and "柳州市城中区" in by_row[8]["basis"]
    assert "不在本市农村地区" in by_row[9]["basis"] and by_row[10]["fix"] is None
    # the workbook: one sheet each, both with 来源文件 and 行号, the fix on every row to correct
    wb = openpyxl.load_workbook(home / "out" / "2026Q4" / "未匹配记录_医保局.xlsx")
    assert wb.sheetnames == ["需核对更正", "仅供参考（非本市农村人员）", "拒收记录"]
    fix = _sheet_rows(wb["需核对更正"])
    ref = _sheet_rows(wb["仅供参考（非本市农村人员）"])
    assert sorted(r["行号"] for r in fix) == [2, 3, 4, 5, 6, 12] and sorted(r["行号"] for r in ref) == [7, 8, 9, 10, 11]
    assert all(r["来源文件"] == "医保.xlsx" and r["更正方法"] for r in fix)
    assert all(r["来源文件"] == "医保.xlsx" and r["判断依据"] for r in ref)


def test_demo_city_unmatched_outsiders_are_for_reference_and_registry_people_to_correct(screened_demo, tmp_path):
    """Ground truth of the demo city: every unmatched outsider with a usable ID lands in 仅供参考, and one in 需核对更正
    has a broken ID or a registry namesake in its township (its department cannot tell it apart); and had linkage left the registry
    people it matched with a broken ID or name (repaired, fuzzy, review) unmatched, every one would be in 需核对更正."""
    import duckdb
    from conftest import DEMO_ROUND

    from warehouse.publish import department_returns

    truth = pl.read_parquet(screened_demo / "truth" / "records.parquet").select(
        "source",
        "source_file",
        "source_row",
        (pl.col("true_id_number").is_null()).alias("outsider"),
        "id_usable",
        # what makes an outsider's record look like a registry person's to its department: an ID that is written
        # but broken (Excel, a wrong check character), or no ID and a registry namesake in the township it names
        ((pl.col("id_written").is_not_null() & ~pl.col("id_usable")) | (pl.col("outsider_kind") == "no_id_common_name"))
        .fill_null(False)
        .alias("looks_local"),
    )
    out = screened_demo / "out" / DEMO_ROUND
    published = []
    for path in out.glob("未匹配记录_*.xlsx"):
        wb = openpyxl.load_workbook(path, read_only=True)
        for sheet, klass in (("需核对更正", "fix"), ("仅供参考（非本市农村人员）", "ref")):
            published += [(r["来源文件"], r["行号"], klass) for r in _sheet_rows(wb[sheet])]
    got = pl.DataFrame(published, schema=["source_file", "source_row", "class"], orient="row").join(
        truth.unique(["source_file", "source_row"]), on=["source_file", "source_row"], how="left"
    )
    assert got.height > 500 and got["outsider"].null_count() == 0
    # an outsider with a usable ID is for reference; one in 需核对更正 has a record that gives its department a reason
    # to check it (the department cannot tell it from a registry person's broken record either)
    assert got.filter(pl.col("outsider") & pl.col("id_usable")).height > 500
    assert got.filter(pl.col("outsider") & pl.col("id_usable") & (pl.col("class") != "ref")).height == 0
    assert got.filter(pl.col("outsider") & (pl.col("class") == "fix") & ~pl.col("looks_local")).height == 0
    assert got.filter(~pl.col("outsider") & (pl.col("class") != "fix")).height == 0

    db = tmp_path / "flip.duckdb"
    shutil.copy(screened_demo / "warehouse" / "fangpin.duckdb", db)
    con = duckdb.connect(str(db))
    try:
        flipped = con.execute(
            "UPDATE link SET match_method = 'unmatched' WHERE match_method IN ('id_repaired', 'fuzzy', 'review') "
            "RETURNING source, source_file, source_row"
        )
        flipped = pl.DataFrame(
            flipped.fetchall(), schema=["source", "source_file", "source_row"], orient="row", infer_schema_length=None
        )
        unmatched, _ = department_returns(con, ["medical", "employment", "civil_affairs", "disaster"])
    finally:
        con.close()
    j = unmatched.join(truth, on=["source", "source_file", "source_row"], how="left")
    flipped_people = flipped.join(truth, on=["source", "source_file", "source_row"]).filter(~pl.col("outsider"))
    assert flipped_people.height > 1000
    assert flipped_people.join(j, on=["source", "source_file", "source_row"], how="anti").height == 0
    assert j.filter(~pl.col("outsider") & (pl.col("class") != "fix")).height == 0
    assert j.filter(pl.col("outsider") & pl.col("id_usable") & (pl.col("class") != "ref")).height == 0
    assert j.filter(pl.col("outsider") & (pl.col("class") == "fix") & ~pl.col("looks_local")).height == 0


# ------------------------------------------------------------------------------------------ printing and filling in


def _validations(ws) -> dict[str, object]:
    """header → the data validation on that column's body cells."""
    from openpyxl.utils import column_index_from_string

    header_row = next(r for r in ws.iter_rows() if r[0].value in ("序号", "排查顺序"))
    headers = {c.column: c.value for c in header_row}
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            assert rng.min_row == header_row[0].row + 1, "validation starts on the first data row"
            out[headers[rng.min_col]] = dv
            assert column_index_from_string(rng.coord.split(":")[0].rstrip("0123456789")) == rng.min_col
    return out


def test_every_sheet_prints_landscape_one_page_wide_with_the_header_on_every_page(published):
    out, _ = published
    for path in out.glob("*.xlsx"):
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            where = (path.name, ws.title)
            assert ws.page_setup.orientation == "landscape", where
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1), (
                where
            )  # 1 = default
            assert ws.page_setup.fitToHeight == 0, where  # as many pages tall as needed
            assert "&P" in (ws.oddFooter.center.text or ""), where
            if ws.title != "汇总" and not path.name.startswith("汇总"):
                header = next(r[0].row for r in ws.iter_rows() if r[0].value in ("序号", "排查顺序"))
                assert ws.print_title_rows == f"${header}:${header}", where
    # wrapped text gets the rows it needs: the evidence of a household with several records is several lines tall
    ws = openpyxl.load_workbook(out / "疑似风险户清单_融水苗族自治县.xlsx")["疑似风险户清单"]
    rows = list(ws.iter_rows())
    head = next(i for i, r in enumerate(rows) if r[0].value == "序号")
    col = [c.value for c in rows[head]].index("证据")
    for r in rows[head + 1 :]:
        lines = str(r[col].value).count("\n") + 1
        assert ws.row_dimensions[r[0].row].height >= 15 * lines, (r[0].row, lines)
    # the printout leaves out the screen-only columns (they stay in the workbook)
    header = [c.value for c in rows[head]]
    assert ws.print_area and "核实截止日期" in header and header.index("核实人") < header.index("核实截止日期")


def test_fill_in_columns_offer_what_the_feedback_reader_accepts(tmp_path):
    """A county that fills the suspect list only from its dropdowns gets every row accepted."""
    from fangpin.domain import verification
    from fangpin.home import DataHome
    from warehouse.followup import apply_followup, ingest_feedback
    from warehouse.followup import reader as fb_reader

    assert fb_reader.RESULTS == verification.RESULTS and fb_reader.CATEGORIES == verification.CATEGORIES
    assert fb_reader.DECISIONS == verification.DECISIONS and fb_reader.DATE_RANGE == verification.DATE_RANGE
    assert fb_reader.NAMESAKE_RESULTS == verification.NAMESAKE_RESULTS
    dh = DataHome.at(tmp_path / "home").ensure()
    with connect(dh.warehouse_path) as con:
        build_city().flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED, home=dh.root)
        apply_followup(con, "2026Q4", PUSHED)  # records the pushes, as the suspects asset does
        publish_round(con, dh.root, "2026Q4")
    src = dh.root / "out" / "2026Q4" / "疑似风险户清单_融水苗族自治县.xlsx"
    wb = openpyxl.load_workbook(src)
    ws = wb["疑似风险户清单"]
    dv = _validations(ws)
    offered = {h: v.formula1.strip('"').split(",") for h, v in dv.items() if v.type == "list"}
    assert offered == {
        "核实结果": list(verification.RESULTS),
        "认定类别": list(verification.CATEGORIES),
        "同名记录核实（是本户/不是本户）": list(verification.NAMESAKE_RESULTS),
    }
    assert dv["核实日期"].type == "date" and dv["核实人"].type is None  # any text, with an input message
    assert all(v.prompt and v.promptTitle for v in dv.values())
    header_row = next(r for r in ws.iter_rows() if r[0].value == "序号")
    col = {c.value: c.column for c in header_row}
    n = 0
    for i, row in enumerate(ws.iter_rows(min_row=header_row[0].row + 1)):
        result = offered["核实结果"][i % 3]
        ws.cell(row[0].row, col["核实结果"], result)
        if result == "纳入监测":
            ws.cell(row[0].row, col["认定类别"], offered["认定类别"][i % 3])
        ws.cell(row[0].row, col["核实日期"], dt.datetime(2026, 10, 14))
        ws.cell(row[0].row, col["核实人"], "覃核实")
        n += 1
    wb.save(dh.landing_for("feedback") / src.name)
    with connect(dh.warehouse_path) as con:
        f = ingest_feedback(dh, con).files[0]
    assert f.status == "loaded" and f.rows_rejected == 0 and f.rows_accepted == n >= 3
    assert sum(f.results.values()) == n


def test_task_lists_give_the_deadline_and_explain_the_priority(published):
    from fangpin.domain.workdays import add_working_days

    out, _ = published
    ws = openpyxl.load_workbook(out / "行业部门任务清单_医保局.xlsx")["行业部门任务清单"]
    rows = _sheet_rows(ws)
    assert rows and all(r["落实截止日期"].date() == add_working_days(PUSHED, 10)[0] for r in rows)
    notes = [str(r[0].value) for r in ws.iter_rows(max_row=5) if r[0].value]
    assert any(n.startswith("优先级（0—100分") and "45%" in n for n in notes)
    empty = openpyxl.load_workbook(out / "行业部门任务清单_应急管理局.xlsx")["行业部门任务清单"]
    assert any(str(c.value).startswith("本表没有记录：本轮没有监测户出现涉及本部门的新增风险") for c in empty["A"])


def test_review_list_shows_the_score_as_a_percentage_and_why(tmp_path):
    home = tmp_path / "home"
    city = build_city()
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        con.execute("UPDATE dept_record SET id_raw = '4.50225E+17', id_status = 'mangled' WHERE source_row = 5")
        con.execute("UPDATE link SET reason = '同村同名多人，无证件号码区分' WHERE match_method = 'review'")
        con.execute(
            "INSERT INTO link_candidate SELECT l.source, l.source_file, l.source_row, k, p.id_number, p.household_id, "
            "p.name, p.county_code, p.township_code, p.village_code, 0.5, '姓名一致；同村' FROM link l, "
            "(SELECT 1 AS k UNION ALL SELECT 2) r, (SELECT * FROM registry_person WHERE household_id = 'RS-1' "
            "LIMIT 1) p WHERE l.match_method = 'review'"
        )
        screen(con, "2026Q4", "full", REF, PUSHED, home=home)
        publish_round(con, home, "2026Q4")
    ws = openpyxl.load_workbook(home / "out" / "2026Q4" / "待核实匹配清单_融水苗族自治县.xlsx").active
    rows = _sheet_rows(ws)
    assert [r["匹配度"] for r in rows] == [0.5, 0.5]
    head = next(r for r in ws.iter_rows() if r[0].value == "序号")
    score = next(c.column for c in head if c.value == "匹配度")
    assert ws.cell(head[0].row + 1, score).number_format == "0%"
    assert all("与另外1名候选人条件相同" in r["匹配度依据"] for r in rows)
    assert "4.50225E+17" in rows[0]["待核实原因"] and "Excel" in rows[0]["待核实原因"]
    verified = _validations(ws)["核实结果（填写正确的候选序号，或“均不是”）"]
    assert verified.formula1.strip('"').split(",") == ["1", "2", "均不是"]


def test_county_data_quality_workbook_speaks_to_county_staff_only(tmp_path):
    """规则说明 of 户籍数据质量核查: Chinese, no developer references (files, SPEC, notes, GitHub paths)."""
    import re

    from assets.publishing import publish_registry_quality

    home = tmp_path / "home"
    with connect(tmp_path / "w.duckdb") as con:
        build_city().flush(con)
        out = publish_registry_quality(con, home, D(2026, 10, 9))
    book = next(p for p in out["files"] if p.name.startswith("户籍数据质量核查_融水"))
    wb = openpyxl.load_workbook(book)
    texts = [
        str(c.value)
        for name in ("汇总", "规则说明")
        for row in wb[name].iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]
    rules_rows = _sheet_rows(wb["规则说明"])
    assert len(rules_rows) >= 20 and all(r["依据"] for r in rules_rows)
    for t in texts:
        assert not re.search(r"[A-Za-z]{3,}|§|\.py|\.ya?ml|[A-Za-z0-9_]/[A-Za-z]", t), t  # R10, GB are fine


def test_workbooks_written_by_worker_processes_are_the_bytes_written_in_process(tmp_path):
    outs = []
    with connect(tmp_path / "w.duckdb") as con:
        build_city().flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED, home=tmp_path / "a")
        for name, workers in (("a", 1), ("b", 2)):
            result = publish_round(con, tmp_path / name, "2026Q4", workers=workers)
            outs.append({Path(f).name: Path(f).read_bytes() for f in result["files"] if str(f).endswith(".xlsx")})
    assert len(outs[0]) >= 15 and outs[0].keys() == outs[1].keys()
    assert [n for n in outs[0] if outs[0][n] != outs[1][n]] == []


def _exit_in_a_worker(n: int) -> int:
    import multiprocessing
    import os

    if multiprocessing.parent_process() is not None:
        os._exit(3)  # a worker killed (out of memory, say)
    return n * 2


def test_a_broken_worker_pool_falls_back_to_writing_in_process():
    from fangpin.reports.parallel import run_jobs

    assert run_jobs([(_exit_in_a_worker, (i,)) for i in range(3)], workers=2) == [0, 2, 4]


def _fail_writing(name: str) -> str:
    from fangpin.reports.publish import _Stage

    with _Stage(name):
        raise ValueError("磁盘已满")
    return name


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_workbook_names_its_file_wherever_it_was_written(workers):
    from fangpin.reports.parallel import run_jobs
    from fangpin.reports.publish import PublishError

    with pytest.raises(PublishError) as err:
        run_jobs([(_fail_writing, ("疑似风险户清单_融水苗族自治县.xlsx",)), (len, ("ab",))], workers)
    assert err.value.file == "疑似风险户清单_融水苗族自治县.xlsx" and "磁盘已满" in str(err.value)


def test_row_heights_are_the_same_from_a_frame_and_from_dicts(tmp_path):
    """Frames get their row heights from Polars, dict rows from Python: the same arithmetic, the same workbook."""
    from fangpin.reports.xlsx import Book, Col

    cols = [Col("序号", "seq", 5, "int"), Col("证据", "t", 12, "wrap"), Col("风险类型", "l", 8, "wrap")]
    rows = [
        {
            "seq": 1,
            "t": "【医保局｜医保结算数据.csv 第339行】杨萍：2025年10月12日 住院\n第二行",
            "l": ["因病", None, "因灾"],
        },
        {"seq": 2, "t": None, "l": []},
        {"seq": 3, "t": "中文" * 40, "l": ["缺劳动力"] * 6},
        {"seq": 4, "t": "短", "l": None},
    ]
    books = []
    for name, data in (("dicts.xlsx", rows), ("frame.xlsx", pl.DataFrame(rows))):
        with Book(tmp_path / name) as book:
            book.table("表", cols, data, title="标题")
        ws = openpyxl.load_workbook(tmp_path / name).active
        books.append([ws.row_dimensions[r].height for r in range(3, 7)])
    assert books[0] == books[1] and books[0][1] is None and books[0][0] > 30 and books[0][2] > books[0][0]


def test_reports_only_present():
    """fangpin/reports takes frames: it imports no warehouse code and holds no SQL (issue 13, item 4)."""
    import re

    root = Path(__file__).resolve().parents[1] / "fangpin" / "reports"
    for path in root.glob("*.py"):
        code = "\n".join(
            line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")
        )
        assert not re.search(r"^\s*(from|import)\s+(warehouse|duckdb)\b", code, re.M), path.name
        assert not re.search(r"\b(SELECT|INSERT|CREATE|DELETE)\s+[A-Z*(]", code), path.name


def test_systemic_rows_do_not_follow_the_last_bits_of_a_p_value():
    """A township and its only flagged village with the same counts: their p-values differ in the last bits of a
    parallel sum (DuckDB and Spark, or two reruns), and the summary must list them in the same order either way."""
    from fangpin.reports.summary import systemic_rows

    def flags(p_town: float, p_village: float) -> pl.DataFrame:
        base = dict(county="融水苗族自治县", township="三防镇", signal_name="住院", count=7, rate=0.07,
                    baseline_rate=0.01, ratio=7.0, households_near_line=3, kind="rate", signal="inpatient")  # fmt: skip
        return pl.DataFrame(
            [
                base | dict(area_level="township", area_code="450225105", area_name="三防镇", p_value=p_town),
                base | dict(area_level="village", area_code="450225105201", area_name="甲寨村", p_value=p_village),
                base | dict(area_level="township", area_code="450225100", area_name="融水镇", p_value=0.02),
            ]
        )

    one = systemic_rows(flags(0.0012345678901, 0.0012345678900))
    other = systemic_rows(flags(0.0012345678900, 0.0012345678901))
    assert one == other
    assert [r[3] for r in one] == ["三防镇", "甲寨村", "融水镇"]
