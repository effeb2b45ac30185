"""Registry consistency rules (warehouse/registry_checks): one hand-built case per rule, a clean household no rule
objects to, the rule catalogue, the roster-dependent rules, and the per-county workbook + Parquet report."""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_forms_support import AS_OF, D, clean_members, create_monitoring_roster, household, ident, insert_registry

from assets.publishing import publish_registry_quality
from warehouse.engine import connect
from warehouse.registry_checks import DEFAULT_PARAMS, catalogue, drop_temps, rules, run_checks


def _with(members: list[dict], index: int, **changes) -> list[dict]:
    out = [dict(m) for m in members]
    out[index].update(changes)
    return out


def _bad_rows(code: str) -> tuple[list[dict], list[dict] | None]:
    """(registry rows of household BAD that breaks ``code``, monitoring_roster rows or None)."""
    m = clean_members()
    if code == "R01":
        return household("BAD", _with(m, 0, relation="之父")), None
    if code == "R02":
        return household("BAD", household_size=5), None
    if code == "R03":
        rows = household("BAD")
        rows[2]["household_type"] = "脱贫户"
        return rows, None
    if code == "R04":
        other = household(
            "OTHER",
            clean_members("蓝"),
            monitoring_category=None,
            risk_eliminated=None,
            identified_month=None,
            income=15000.0,
        )
        return household(
            "BAD", _with(m, 1, id_number=other[1]["id_number"], id_raw=other[1]["id_number"])
        ) + other, None
    if code == "R05":
        bad = m[1]["id_number"][:17] + ("0" if m[1]["id_number"][17] != "0" else "1")
        return household("BAD", _with(m, 1, id_number=None, id_raw=bad, id_status="bad_checksum")), None
    if code == "R06":
        return household("BAD", _with(m, 0, birth_date=D(1986, 6, 1))), None
    if code == "R07":
        return household("BAD", _with(m, 0, sex="女")), None
    if code == "R08":  # a 之子 whose (female) ID and sex agree: only the relation is wrong
        return household("BAD", _with(m, 2, sex="女", id_number=(i := ident(D(2016, 3, 3), "女")), id_raw=i)), None
    if code == "R09":
        return household("BAD", _with(m, 1, sex="男", id_number=(i := ident(D(1988, 7, 2), "男")), id_raw=i)), None
    if code == "R10":
        return household("BAD", _with(m, 2, labour="普通劳动力")), None
    if code == "R11":
        return household("BAD", _with(m, 1, labour="弱劳动力或半劳动力")), None
    if code == "R12":
        return household("BAD", identified_month=None), None
    if code == "R13":
        return household("BAD", risk_eliminated=None), None
    if code == "R14":
        return household("BAD", risk_eliminated="是", eliminated_month=None, income=12000.0), None
    if code == "R15":
        return household(
            "BAD", risk_eliminated="是", identified_month="202503", eliminated_month="202501", income=12000.0
        ), None
    if code == "R16":
        return household(
            "BAD", risk_eliminated="是", identified_month="202501", eliminated_month="202503", income=12000.0
        ), None
    if code == "R17":
        none = [dict(x, labour="丧失劳动力") for x in m[:2]] + [m[2]]
        return household("BAD", none, risk_eliminated="是", eliminated_month="202601", income=12000.0), None
    if code == "R18":
        return household("BAD", identified_month="202601", income=25000.0), None
    if code == "R19":
        return household(
            "BAD",
            household_type="脱贫户",
            monitoring_category=None,
            risk_eliminated=None,
            identified_month=None,
            income=5000.0,
        ), None
    if code == "R20":
        return household("BAD", risk_eliminated="是", eliminated_month="202601", income=5000.0), None
    if code == "R21":
        return household(
            "BAD", monitoring_category=None, risk_eliminated=None, identified_month="202401", income=15000.0
        ), None
    if code == "R31":
        return household("BAD"), [
            {"household_id": "BAD", "status": "monitored", "risk_types": ["因病"], "measures": ["健康帮扶"]}
        ]
    if code == "R32":
        ill = _with(m, 0, health="患有大病", labour="弱劳动力或半劳动力")
        return household("BAD", ill), [
            {"household_id": "BAD", "status": "monitored", "risk_types": ["因病"], "measures": ["产业帮扶：养牛"]}
        ]
    if code == "R33":
        return household("BAD"), [
            {"household_id": "BAD", "status": "monitored", "risk_types": ["因残"], "measures": ["综合保障"]}
        ]
    if code == "R34":
        return household("BAD"), [
            {"household_id": "BAD", "status": "monitored", "risk_types": ["缺劳动力"], "measures": []}
        ]
    if code == "R35":
        none = [dict(x, labour="丧失劳动力") for x in m[:2]] + [m[2]]
        return household("BAD", none), [
            {"household_id": "BAD", "status": "monitored", "risk_types": ["因务工就业不稳"], "measures": ["就业帮扶"]}
        ]
    raise AssertionError(f"no test case for rule {code}")


def _run(tmp_path, rows: list[dict], roster: list[dict] | None = None):
    with connect(tmp_path / "w.duckdb") as con:
        insert_registry(con, rows)
        if roster is not None:
            create_monitoring_roster(con, roster)
        try:
            return run_checks(con, AS_OF)
        finally:
            drop_temps(con)


ALL_CODES = [r.code for r in rules()]


@pytest.mark.parametrize("code", ALL_CODES)
def test_rule_flags_its_case_and_spares_a_clean_household(tmp_path, code):
    bad, roster = _bad_rows(code)
    ok = household("OK", clean_members("陆"))
    if roster is not None:  # the clean household is on the roster too, with consistent risks and measures
        roster = roster + [
            {"household_id": "OK", "status": "monitored", "risk_types": ["因务工就业不稳"], "measures": ["就业帮扶"]}
        ]
    result = _run(tmp_path, bad + ok, roster)
    f = result.findings
    hit = f.filter((pl.col("code") == code) & (pl.col("household_id") == "BAD"))
    assert hit.height >= 1, (
        f"{code} did not flag its case; findings: {f.select('code', 'household_id', 'detail').to_dicts()}"
    )
    row = hit.row(0, named=True)
    rule = next(r for r in rules() if r.code == code)
    assert row["severity"] == rule.severity and row["title"] == rule.title
    assert row["village_code"] == "450225101201" and row["county_code"] == "450225"
    assert row["source_file"] == "防止返贫监测对象信息.xlsx" and row["source_row"] >= 3
    assert row["detail"], "every finding explains itself"
    assert f.filter(pl.col("household_id") == "OK").height == 0, f.filter(pl.col("household_id") == "OK").to_dicts()


def test_clean_households_raise_nothing(tmp_path):
    rows = household("A") + household(
        "B",
        clean_members("李"),
        household_type="脱贫户",
        monitoring_category=None,
        risk_eliminated=None,
        identified_month=None,
        income=15000.0,
    )
    roster = [
        {
            "household_id": "A",
            "status": "monitored",
            "risk_types": ["因务工就业不稳", "因自然灾害"],
            "measures": ["就业帮扶"],
        }
    ]
    result = _run(tmp_path, rows, roster)
    assert result.findings.height == 0, result.findings.to_dicts()
    assert result.rules["ran"].all()


def test_catalogue_is_complete_and_well_formed():
    cat = catalogue()
    assert cat["code"].n_unique() == cat.height == len(rules()) >= 20
    assert set(cat["severity"]) <= {"错误", "提醒"} and set(cat["level"]) <= {"户", "人"}
    for r in rules():
        assert r.title and r.description and r.basis, r.code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.description), f"{r.code}: description must be Chinese"
    assert set(DEFAULT_PARAMS) == {
        "child_age",
        "working_age_max",
        "min_months_before_elimination",
        "identification_income_max",
        "able_share_max",
    }


def test_roster_rules_do_not_run_without_monitoring_roster(tmp_path):
    rows, _ = _bad_rows("R31")
    result = _run(tmp_path, rows)
    assert result.roster_source == "registry"
    not_run = result.rules.filter(~pl.col("ran"))
    assert (
        set(not_run["code"]) == {r.code for r in rules() if r.needs == "roster"} == {"R31", "R32", "R33", "R34", "R35"}
    )
    assert all("帮扶台账" in t for t in not_run["not_run_reason"])


def test_illness_with_ill_member_and_health_measure_is_consistent(tmp_path):
    ill = _with(clean_members(), 1, health="长期慢性病", labour="弱劳动力或半劳动力")
    roster = [
        {
            "household_id": "H",
            "status": "monitored",
            "risk_types": ["因病"],
            "measures": ["健康帮扶：城乡居民基本医疗保险个人缴费补贴"],
        }
    ]
    result = _run(tmp_path, household("H", ill), roster)
    assert result.findings.height == 0, result.findings.to_dicts()


def test_edges_of_age_and_elimination_rules(tmp_path):
    # 16 on the day: no longer a child; eliminated exactly 6 months after identification: fine
    m = _with(
        clean_members(),
        2,
        birth_date=D(2010, 10, 9),
        labour="普通劳动力",
        id_number=(i := ident(D(2010, 10, 9), "男")),
        id_raw=i,
        student="非在校生",
    )
    rows = household(
        "EDGE", m, risk_eliminated="是", identified_month="202501", eliminated_month="202507", income=12000.0
    )
    m2 = _with(
        clean_members("黄"),
        2,
        birth_date=D(2010, 10, 10),
        labour="普通劳动力",
        id_number=(j := ident(D(2010, 10, 10), "男")),
        id_raw=j,
    )
    rows += household("CHILD", m2)
    result = _run(tmp_path, rows)
    assert result.findings.filter(pl.col("household_id") == "EDGE").height == 0, result.findings.to_dicts()
    assert result.findings.filter(pl.col("household_id") == "CHILD")["code"].to_list() == ["R10"]


def test_missing_monitoring_line_is_reported_not_defaulted(tmp_path):
    rows = household(
        "X",
        household_type="脱贫户",
        monitoring_category=None,
        risk_eliminated=None,
        identified_month=None,
        income=100.0,
        village_code="999999100201",
    )
    with connect(tmp_path / "w.duckdb") as con:
        insert_registry(con, rows)
        result = run_checks(con, AS_OF)
    assert any("999999" in n and "监测线" in n for n in result.notes)
    assert "R19" not in set(result.findings["code"])


def test_report_per_county_workbook_and_parquet(tmp_path):
    home = tmp_path / "home"
    r10, _ = _bad_rows("R10")
    r19, _ = _bad_rows("R19")
    for r in r19:
        r["household_id"] = "BAD19"
    rows = r10 + r19 + household("SJ", clean_members("杨"), village_code="450226100201", household_size=4)
    with connect(tmp_path / "w.duckdb") as con:
        insert_registry(con, rows)
        out = publish_registry_quality(con, home, AS_OF)
        leftovers = con.sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '\\_rc\\_%' ESCAPE '\\'"
        ).fetchall()[0][0]
    assert leftovers == 0
    folder = home / "out" / "registry_checks" / "2026-10-09"
    assert out["dir"] == folder
    pq = pl.read_parquet(folder / "registry_checks.parquet")
    assert {
        "as_of",
        "code",
        "severity",
        "title",
        "county_code",
        "township_code",
        "village_code",
        "household_id",
        "id_number",
        "name",
        "source_file",
        "source_row",
        "detail",
    } <= set(pq.columns)
    assert sorted(set(zip(pq["household_id"], pq["code"]))) == [("BAD", "R10"), ("BAD19", "R19"), ("SJ", "R02")]
    assert out["counts"]["errors"] == 2 and out["counts"]["reminders"] == 1
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["registry_checks.parquet", "户籍数据质量核查_融水苗族自治县.xlsx", "户籍数据质量核查_三江侗族自治县.xlsx"]
    )

    wb = openpyxl.load_workbook(folder / "户籍数据质量核查_融水苗族自治县.xlsx")
    assert wb.sheetnames == ["汇总", "规则说明", "问题明细"]
    summary = list(wb["汇总"].iter_rows(values_only=True))
    header_i = next(i for i, r in enumerate(summary) if r[0] == "序号")
    header = summary[header_i]
    rows_ = [dict(zip(header, r)) for r in summary[header_i + 1 :] if r[0] is not None]
    assert len(rows_) == 1 and rows_[0]["行政村代码"] == "450225101201"
    assert rows_[0]["户数"] == 2 and rows_[0]["错误（条）"] == 1 and rows_[0]["提醒（条）"] == 1
    r10_col = next(h for h in header if h and h.startswith("R10 "))
    assert rows_[0][r10_col] == 1
    assert wb["汇总"].freeze_panes and wb["汇总"].auto_filter.ref
    detail = list(wb["问题明细"].iter_rows(values_only=True))
    dh = next(i for i, r in enumerate(detail) if r[0] == "序号")
    drows = [dict(zip(detail[dh], r)) for r in detail[dh + 1 :] if r[0] is not None]
    assert {d["户编号"] for d in drows} == {"BAD", "BAD19"}  # only this county's households
    assert all(d["文件名"] and d["行号"] for d in drows)
    rules_sheet = [r for r in wb["规则说明"].iter_rows(values_only=True)]
    assert any(r[0] == "R31" and "未执行" in (r[-1] or "") for r in rules_sheet)

    # a rerun for the same date replaces the set
    with connect(tmp_path / "w.duckdb") as con:
        con.execute("DELETE FROM registry_person WHERE household_id = 'SJ'")
        publish_registry_quality(con, home, AS_OF)
    assert sorted(p.name for p in folder.iterdir()) == [
        "registry_checks.parquet",
        "户籍数据质量核查_融水苗族自治县.xlsx",
    ]
