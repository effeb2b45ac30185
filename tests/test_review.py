"""Risk-aware review and suspects pending confirmation (issue 12) on a hand-built township.

融水 和睦镇 has two 王秀英: one in household A1 (village 201, income 9,500 — a 12,000 hospital bill puts it below
the line), one in B1 (village 202, income 30,000 — the same bill changes nothing; she also has an outpatient bill of
her own linked by ID). A third 王秀英 lives in 三江 (C1, income 8,000). Linkage left two medical bills without an ID
for review between them: R1 (a 12,000 stay) and R2 (a 280 outpatient visit).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_followup_support import home_at, warehouse
from test_rules_support import PUSHED, REF, City, D, evidence, suspects

from fangpin.reports.review_lists import prepare
from warehouse import review
from warehouse.followup import apply_followup, ingest_feedback
from warehouse.publish import review_rows
from warehouse.review import lists
from warehouse.rules import screen, thresholds
from warehouse.rules.evaluate import material_under, scenarios

V_A, V_B = "450225101201", "450225101202"  # 融水 和睦镇
V_C = "450226100201"  # 三江 古宜镇
R2_ROUND, R2_REF, R2_PUSHED = "2027Q1", D(2027, 1, 1), D(2027, 1, 8)


def township() -> tuple[City, dict]:
    city = City()
    a = city.household("A1", village_code=V_A, income=9500, names=["王秀英", "李建国", "李小明"])
    b = city.household("B1", village_code=V_B, income=30000, names=["王秀英", "张伟", "张小红"])
    c = city.household("C1", village_code=V_C, income=8000, names=["王秀英", "杨光", "杨小花"])
    city.medical(b[0], D(2026, 2, 1), 300.0, visit_type="门诊", institution="融水县人民医院")  # B's own, by ID
    r1 = city.medical(a[0], D(2026, 3, 5), 12000.0, source_file="医保结算_2026年一季度.csv")
    city.ambiguous(r1, (a[0], 0.4), (b[0], 0.4), (c[0], 0.2))
    r2 = city.medical(a[0], D(2026, 4, 9), 280.0, visit_type="门诊", source_file="医保结算_2026年一季度.csv")
    city.ambiguous(r2, (a[0], 0.45), (b[0], 0.45))
    return city, {"a": a, "b": b, "c": c, "r1": r1, "r2": r2}


def _key(rec) -> str:
    return "|".join(str(x) for x in rec)


# ------------------------------------------------------------------------------------------ the round


@pytest.fixture
def screened(tmp_path):
    from warehouse.engine import connect

    city, t = township()
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        stats = screen(con, "2026Q4", "full", REF, PUSHED)
        yield con, stats, t


def test_a_record_that_would_flag_a_candidate_puts_it_on_the_list_as_pending(screened):
    con, stats, t = screened
    s = suspects(con, "2026Q4")
    assert "B1" not in s  # the same bill would change nothing for B1
    a = s["A1"]
    assert a["pending_namesake"] is True
    assert (a["suspect_category"], a["risk_types"]) == ("边缘易致贫户", ["因病"])
    assert a["pending_records"] == [_key(t["r1"])]
    # what to check: the record, what it would change, the namesake in the same county by name and village
    check = a["pending_check"]
    assert check.startswith("同名待确认：【医保｜医保结算_2026年一季度.csv 第")
    assert "若确认为本户，将新增风险类型“因病”并列为疑似风险户（边缘易致贫户）" in check
    assert "同县另有候选人员：王秀英（和睦镇村202）" in check and "是本户" in check
    # ... the 三江 namesake is counted, never named or placed
    assert "另有1名外县（区）人员同名或相近" in check and "古宜镇" not in check and "C1" not in check
    ev = evidence(con, "A1", "2026Q4")
    (bill,) = [e for e in ev if (e["source"], e["source_file"], e["source_row"]) == t["r1"]]
    assert bill["match_method"] == "review" and bill["summary"].startswith("（同名待确认）王秀英：")
    assert bill["risk_type"] == "因病"
    # the 三江 王秀英's household is pending in its own county, naming nobody of 融水
    assert s["C1"]["pending_namesake"] is True and "和睦镇" not in s["C1"]["pending_check"]
    assert "另有2名外县（区）人员同名或相近" in s["C1"]["pending_check"]
    assert (stats.review_records, stats.review_material, stats.pending_namesake) == (2, 1, 2)


@pytest.mark.parametrize(
    "c1_candidate",
    [(0.02, "姓名一致；同乡镇"), (0.15, "姓名一致；同乡镇"), (0.3, "姓名一致；同县（区）")],
    ids=["improbable", "another-candidate-far-likelier", "only-the-district-agrees"],
)
def test_a_candidate_linkage_could_never_link_is_not_at_stake(tmp_path, c1_candidate):
    from warehouse.engine import connect

    city, t = township()
    city.candidates[:] = [c for c in city.candidates if c["source_row"] != t["r1"][2]]
    city.ambiguous(t["r1"], (t["a"][0], 0.45), (t["b"][0], 0.45), (t["c"][0], *c1_candidate))
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED)
        s = suspects(con, "2026Q4")
        impact = con.sql("SELECT changed, material FROM review_impact WHERE household_id = 'C1'").fetchall()
        # the replay of other thresholds (evaluate --replay) decides every scenario as the round did, for each reason
        cfg = thresholds("4502", REF.year)
        replayed = scenarios(con, "2026Q4").with_columns(
            again=material_under(cfg["review_min_candidate_posterior"], cfg["review_min_candidate_ratio"])
        )
    assert "C1" not in s and s["A1"]["pending_namesake"]
    assert impact == [(True, False)]  # the bill would flag C1, but C1 is most probably not the person
    assert replayed.height == 5 and replayed["again"].to_list() == replayed["material"].to_list()


def test_county_review_lists_hold_only_material_records_most_urgent_first_own_candidates_only(screened):
    con, _, t = screened
    rows = prepare(review_rows(con, "2026Q4")).to_dicts()
    records = {(r["source"], r["source_file"], r["source_row"]) for r in rows}
    assert records == {t["r1"]}  # R2 changes nobody's result: not pushed to the villages
    rongshui = [r for r in rows if r["county_code"] == "450225"]
    assert [(r["rank"], r["cand_household"]) for r in rongshui] == [(1, "A1"), (2, "B1")]
    assert rongshui[0]["change_text"] == (
        "若确认为该候选人，将新增风险类型“因病”并列为疑似风险户（边缘易致贫户）（该户已按“同名待确认”列入本县疑似风险户清单）"
    )
    assert rongshui[1]["change_text"] == "若确认为该候选人，不影响该户筛查结果"
    sanjiang = [r for r in rows if r["county_code"] == "450226"]
    assert [r["cand_household"] for r in sanjiang] == ["C1"]
    # R2 is listed for its department instead
    dept = lists.department_rows(con, "2026Q4", ["medical"])
    assert [(r["source_file"], r["source_row"]) for r in dept.to_dicts()] == [t["r2"][1:]]


def test_without_a_screened_round_every_review_record_goes_to_a_county(screened):
    con, _, t = screened
    rows = prepare(review_rows(con, "2025Q4")).to_dicts()  # a round that screened nothing
    assert {(r["source"], r["source_file"], r["source_row"]) for r in rows} == {t["r1"], t["r2"]}
    assert lists.department_rows(con, "2025Q4", ["medical"]).height == 0


# ------------------------------------------------------------------------------------------ feedback closes it


def _published(tmp_path):
    """A data home whose round 2026Q4 was screened, pushed and published."""
    from assets.publishing import publish_round

    home = home_at(tmp_path)
    city, t = township()
    with warehouse(home) as con:
        city.flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED)
        apply_followup(con, "2026Q4", PUSHED)
        publish_round(con, home.root, "2026Q4")
    return home, t


def _fill(path: Path, sheet: str, key: str, values: dict, out: Path) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    header_row = next(r for r in range(1, 10) if key in [c.value for c in ws[r]])
    col = {c.value: i + 1 for i, c in enumerate(ws[header_row])}
    for r in range(header_row + 1, ws.max_row + 1):
        for (match_col, match_value), cells in values.items():
            if ws.cell(r, col[match_col]).value == match_value:
                for name, value in cells.items():
                    ws.cell(r, next(v for k, v in col.items() if k.startswith(name)), value)
    wb.save(out)


def _answer_suspect_list(home, hid: str, verify_result: str, namesake: str | None) -> None:
    name = "疑似风险户清单_融水苗族自治县.xlsx"
    cells = {"核实结果": verify_result, "核实日期": dt.datetime(2026, 10, 13), "核实人": "村委核实组"}
    if namesake:
        cells["同名记录核实"] = namesake
    _fill(
        home.out / "2026Q4" / name,
        "疑似风险户清单",
        "户编号",
        {("户编号", hid): cells},
        home.landing_for("feedback") / name,
    )


def _answer_review_list(home, hid: str, answer: str) -> None:
    """The 融水 待核实匹配清单 returned with ``answer`` in the 核实结果 of candidate ``hid``'s row."""
    name = "待核实匹配清单_融水苗族自治县.xlsx"
    _fill(
        home.out / "2026Q4" / name,
        "待核实匹配",
        "候选序号",
        {("户编号", hid): {"核实结果": answer}},
        home.landing_for("feedback") / name,
    )


def _next_round(con):
    screen(con, R2_ROUND, "full", R2_REF, R2_PUSHED)
    return suspects(con, R2_ROUND)


def test_the_published_lists_mark_pending_households_and_hold_the_immaterial_record_for_its_department(tmp_path):
    home, t = _published(tmp_path)
    out = pl.read_parquet(home.out / "2026Q4" / "suspects.parquet")
    pending = dict(out.select("household_id", "pending_namesake").iter_rows())
    assert pending == {"A1": True, "C1": True}
    wb = openpyxl.load_workbook(home.out / "2026Q4" / "疑似风险户清单_融水苗族自治县.xlsx", read_only=True)
    rows = list(wb["疑似风险户清单"].iter_rows(values_only=True))
    header = next(r for r in rows if "户编号" in r)
    row = dict(zip(header, next(r for r in rows if "A1" in r), strict=True))
    assert "同名待确认" in row["备注"] and row["同名待确认（入户核实要点）"].startswith("同名待确认：")
    assert "同名记录核实（是本户/不是本户）" in header
    # the record that changes nobody's result went to its department, not to a village
    names = sorted(f.name for f in (home.out / "2026Q4").glob("*匹配清单_*.xlsx")) + sorted(
        f.name for f in (home.out / "2026Q4").glob("同名待定记录_*.xlsx")
    )
    assert names == [
        "待核实匹配清单_三江侗族自治县.xlsx",
        "待核实匹配清单_融水苗族自治县.xlsx",
        "同名待定记录_医保局.xlsx",
    ]
    held = list(
        openpyxl.load_workbook(home.out / "2026Q4" / "同名待定记录_医保局.xlsx").active.iter_rows(values_only=True)
    )
    header = next(r for r in held if r[0] == "序号")
    rows = [dict(zip(header, r, strict=True)) for r in held[held.index(header) + 1 :]]
    assert [(r["来源文件"], r["行号"]) for r in rows] == [(t["r2"][1], t["r2"][2])]


def test_a_confirmed_pending_link_becomes_evidence_and_is_no_longer_pending(tmp_path):
    home, t = _published(tmp_path)
    _answer_suspect_list(home, "A1", "纳入监测", "是本户")
    with warehouse(home) as con:
        out = ingest_feedback(home, con)
        assert out.files[0].status == "loaded" and out.files[0].decisions == 1
        link = con.sql(
            "SELECT match_method, household_id, id_number, reason FROM link "
            "WHERE source = ? AND source_file = ? AND source_row = ?",
            params=list(t["r1"]),
        ).fetchall()[0]
        assert link[:3] == ("fuzzy", "A1", t["a"][0]) and link[3].startswith("经县级核实确认为本人（疑似风险户清单")
        s = _next_round(con)
        assert s["A1"]["pending_namesake"] is False and s["A1"]["risk_types"] == ["因病"]
        bill = next(e for e in evidence(con, "A1", R2_ROUND) if e["source_row"] == t["r1"][2])
        assert bill["match_method"] == "fuzzy" and not bill["summary"].startswith("（同名待确认）")
        # the record is the A1 王秀英's: nobody else is asked about it again
        assert "C1" not in s
        asked = con.sql(
            "SELECT count(*) FROM review_impact WHERE round_id = ? AND source_row = ?", params=[R2_ROUND, t["r1"][2]]
        ).fetchall()[0][0]
        assert asked == 0


def test_a_denied_pending_link_is_not_asked_again_and_is_not_evidence(tmp_path):
    home, t = _published(tmp_path)
    _answer_suspect_list(home, "A1", "不纳入", "不是本户")
    with warehouse(home) as con:
        out = ingest_feedback(home, con)
        assert out.files[0].decisions == 1
        s = _next_round(con)
        assert "A1" not in s  # the bill is not A1's evidence
        asked = con.sql(
            "SELECT household_id FROM review_impact WHERE round_id = ? AND source_row = ? ORDER BY household_id",
            params=[R2_ROUND, t["r1"][2]],
        ).fetchall()
        assert asked == [("B1",), ("C1",)]  # ... A1 is never asked about it again; the others still are
        assert s["C1"]["pending_namesake"] is True


def test_without_the_namesake_column_the_verification_result_of_a_pending_household_decides(tmp_path):
    home, t = _published(tmp_path)
    _answer_suspect_list(home, "A1", "纳入监测", None)
    with warehouse(home) as con:
        ingest_feedback(home, con)
        decided = con.sql("SELECT household_id, decision, origin FROM link_decision").fetchall()
    assert decided == [("A1", "confirmed", "suspect_list")]


def test_a_returned_review_list_decides_the_record_and_a_resent_copy(tmp_path):
    home, t = _published(tmp_path)
    _answer_review_list(home, "A1", "1")
    with warehouse(home) as con:
        out = ingest_feedback(home, con)
        f = out.files[0]
        assert f.status == "loaded" and f.results == {"确认": 1, "否认": 1} and f.rows_rejected == 0
        decided = sorted(con.sql("SELECT household_id, decision FROM link_decision").fetchall())
        assert decided == [("A1", "confirmed"), ("B1", "denied")]  # the 三江 candidate was not on this list
        assert con.sql("SELECT household_id FROM link WHERE source_row = ?", params=[t["r1"][2]]).fetchall() == [
            ("A1",)
        ]
        # the same bill re-sent in another extract (another file, same content), left for review again: decided
        con.execute(
            "INSERT INTO dept_record SELECT * REPLACE ('医保结算_补报.csv' AS source_file, 7 AS source_row, "
            "'h_resent' AS file_hash, 'medical:resent:7' AS event_key) "
            "FROM dept_record WHERE source_file = ? AND source_row = ?",
            [t["r1"][1], t["r1"][2]],
        )
        con.execute("INSERT INTO link VALUES ('medical', '医保结算_补报.csv', 7, NULL, NULL, 'review', 0.0, '同名', 2)")
        review.apply_decisions(con)
        assert con.sql(
            "SELECT match_method, household_id FROM link WHERE source_file = '医保结算_补报.csv'"
        ).fetchall() == [("fuzzy", "A1")]


def test_a_review_list_answer_that_names_no_listed_candidate_is_rejected(tmp_path):
    home, t = _published(tmp_path)
    _answer_review_list(home, "A1", "3")  # candidate 3 lives in 三江: not on this county's list
    with warehouse(home) as con:
        f = ingest_feedback(home, con).files[0]
        assert f.rows_rejected == 1 and f.decisions == 0
        (reason,) = con.sql("SELECT reason FROM rejected_row WHERE source = 'feedback'").fetchall()[0]
        assert "候选序号3不在本表该记录的候选人员中" in reason
        assert con.sql("SELECT count(*) FROM link_decision").fetchall()[0][0] == 0
