"""Risk rules (SPEC §6) on hand-built warehouses: categories, risk types, cap, property, config errors, window,
renewals, duplicates, evidence provenance, kinds. Thresholds are those of rules.yaml for 4502/2026:
line 9000, last year's rural disposable income 19800 (→ 9900 / 19800 annual medical thresholds), single stay
6000 / 10000, disaster loss 5000, 6 months of lost wages, severe hardship share 50 %.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from test_rules_support import PUSHED, REF, City, D, evidence, suspects

from fangpin.settings import PACKAGED, ConfigError
from warehouse.engine import connect
from warehouse.rules import screen


def run(tmp_path, city: City, *, kind="full", ref=REF, pushed=PUSHED, home=None, round_id="2026Q4", **kw):
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        stats = screen(con, round_id, kind, ref, pushed, home=home, **kw)
        return stats, suspects(con, round_id), {h: evidence(con, h, round_id) for h in suspects(con, round_id)}


def home_with_rules(tmp_path, edit) -> Path:
    cfg = yaml.safe_load((PACKAGED / "rules.yaml").read_text(encoding="utf-8"))
    edit(cfg)
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "rules.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return home


# ------------------------------------------------------------------------------------------ categories


def test_tuopin_household_below_line_after_medical_spending_is_tuopin_unstable(tmp_path):
    city = City()
    m = city.household("T1", household_type="脱贫户", income=9500)
    city.medical(m[1], D(2026, 3, 5), 12000.0)  # one stay > 6000 (脱贫户 threshold)
    _, s, ev = run(tmp_path, city)
    assert s["T1"]["suspect_category"] == "脱贫不稳定户"
    assert s["T1"]["risk_types"] == ["因病"]
    assert s["T1"]["adjusted_per_capita_income"] == pytest.approx((9500 * 3 - 12000) / 3, abs=0.01)
    assert s["T1"]["base_per_capita_income"] == 9500 and s["T1"]["monitoring_line"] == 9000
    assert s["T1"]["verify_by"] == D(2026, 10, 15) and s["T1"]["pushed_on"] == PUSHED


def test_ordinary_household_below_line_is_marginal(tmp_path):
    city = City()
    m = city.household("E1", income=9500)
    city.medical(m[0], D(2026, 3, 5), 10500.0)  # one stay > 10000 (other households)
    _, s, _ = run(tmp_path, city)
    assert s["E1"]["suspect_category"] == "边缘易致贫户"
    assert s["E1"]["adjusted_per_capita_income"] == pytest.approx(6000.0)


def test_sudden_severe_hardship_above_line_with_large_rigid_spending(tmp_path):
    city = City()
    city.household("S1", income=30000)  # annual 90000
    city.disaster("S1", D(2026, 7, 20), 50000.0, damage="倒塌")  # rigid 50000 ≥ 45000, adjusted 13333 ≥ line
    city.household("S2", income=30000)
    city.disaster("S2", D(2026, 7, 20), 40000.0, damage="倒塌")  # rigid 40000 < 45000: a signal, no hardship
    _, s, _ = run(tmp_path, city)
    assert s["S1"]["suspect_category"] == "突发严重困难户"
    assert s["S1"]["risk_types"] == ["因自然灾害", "因安全住房"]
    assert s["S1"]["adjusted_per_capita_income"] > 9000
    assert s["S1"]["rigid_spending"] == 50000
    assert "S2" not in s


def test_monitored_household_with_new_signal_is_new_risk_whatever_its_income(tmp_path):
    city = City()
    m = city.household("M1", monitoring_category="边缘易致贫户", risk_eliminated="否", income=25000)
    city.employment(m[0], D(2026, 5, 1), event="失业登记", monthly=4000.0)
    _, s, ev = run(tmp_path, city)
    assert s["M1"]["suspect_category"] == "监测户新增风险"
    assert s["M1"]["risk_types"] == ["因务工就业不稳"]
    assert s["M1"]["lost_wages"] == 24000
    assert s["M1"]["reflagged_eliminated"] is False
    assert [e["amount"] for e in ev["M1"]] == [24000]


def test_risk_eliminated_household_with_new_signal_is_a_suspect_again_and_marked(tmp_path):
    city = City()
    m = city.household(
        "R1", household_type="脱贫户", monitoring_category="脱贫不稳定户", risk_eliminated="是", income=9200
    )
    city.medical(m[0], D(2026, 2, 1), 7000.0)  # > 6000: monitored thresholds apply to eliminated households too
    _, s, _ = run(tmp_path, city)
    assert s["R1"]["suspect_category"] == "脱贫不稳定户"
    assert s["R1"]["reflagged_eliminated"] is True
    assert "风险已消除" in s["R1"]["reason_summary"]


def test_household_without_signal_is_never_a_suspect_even_below_the_line(tmp_path):
    city = City()
    city.household("P1", income=3000, labour=["丧失劳动力", "无劳动力"])  # registry facts alone are not signals
    m = city.household("P2", income=3000)
    city.medical(m[0], D(2026, 3, 1), 800.0, visit_type="门诊慢特病")  # below every threshold
    stats, s, _ = run(tmp_path, city)
    assert s == {}
    assert stats.households == 2 and stats.suspects == 0


# ------------------------------------------------------------------------------------------ risk types


def test_medical_annual_total_uses_the_stricter_share_for_tuopin_and_monitored(tmp_path):
    city = City()
    for hid, htype in (("A1", "脱贫户"), ("A2", "一般农户")):
        m = city.household(hid, household_type=htype, income=9500)
        for month in (1, 4, 7):  # outpatient bills: 3 × 3500 = 10500 for one person
            city.medical(m[0], D(2026, month, 10), 3500.0, visit_type="门诊慢特病")
    m = city.household("A3", income=9500)
    city.medical(m[0], D(2026, 6, 1), 8000.0)  # one stay 8000: over 6000 but not over 10000 for others
    _, s, _ = run(tmp_path, city)
    assert s["A1"]["risk_types"] == ["因病"]  # 10500 > 50 % of 19800
    assert "A2" not in s  # 10500 < 100 % of 19800, and no stay
    assert "A3" not in s


def test_disaster_loss_threshold_and_house_damage(tmp_path):
    city = City()
    city.household("D1", income=8000)
    city.disaster("D1", D(2026, 6, 1), 5000.0, damage="一般损坏")  # loss ≥ 5000 → 因自然灾害 only
    city.household("D2", income=8000)
    city.disaster("D2", D(2026, 6, 1), 1200.0, damage="严重损坏")  # severe damage → both types
    city.household("D3", income=8000)
    city.disaster("D3", D(2026, 6, 1), 4999.0, damage="无")  # neither
    _, s, ev = run(tmp_path, city)
    assert s["D1"]["risk_types"] == ["因自然灾害"]
    assert s["D2"]["risk_types"] == ["因自然灾害", "因安全住房"]
    assert "D3" not in s
    assert {e["risk_type"] for e in ev["D2"]} == {"因自然灾害", "因安全住房"}


def test_employment_needs_a_member_who_can_work(tmp_path):
    city = City()
    m = city.household("J1", income=8000, labour=["普通劳动力", "无劳动力"])
    city.employment(m[0], D(2026, 4, 1), event="返乡")
    m = city.household("J2", income=8000, labour=["丧失劳动力", "普通劳动力"])
    city.employment(m[0], D(2026, 4, 1), event="失业登记")  # the member has no labour capacity
    m = city.household("J3", income=8000, labour=["弱劳动力或半劳动力", "普通劳动力"])
    city.employment(m[0], D(2026, 4, 1), event="务工中断", monthly=3000)
    m = city.household("J4", income=8000)
    city.employment(m[0], D(2026, 4, 1), event="就业")  # finding a job is not a risk
    _, s, _ = run(tmp_path, city)
    assert s["J1"]["risk_types"] == ["因务工就业不稳"] and s["J1"]["lost_wages"] == 24000
    assert "J2" not in s and "J4" not in s
    assert s["J3"]["lost_wages"] == 18000


def test_civil_affairs_aid_for_households_not_monitored(tmp_path):
    city = City()
    m = city.household("C1", income=8000)
    city.civil(m[0], D(2026, 5, 1), "农村低保", status="新增")
    m = city.household("C2", income=8000)
    city.civil(m[0], D(2026, 5, 1), "临时救助", status=None, amount=2000)
    m = city.household("C3", income=8000, monitoring_category="边缘易致贫户", risk_eliminated="否")
    city.civil(m[0], D(2026, 5, 1), "农村低保", status="新增")  # actively monitored: not a civil signal
    m = city.household("C4", income=8000)
    city.civil(m[0], D(2026, 5, 1), "低保边缘", status="新增")  # not in the rule
    m = city.household("C5", income=8000)
    city.civil(m[0], D(2026, 5, 1), "农村特困", status="新增")
    _, s, ev = run(tmp_path, city)
    assert s["C1"]["risk_types"] == ["其他"] and s["C1"]["suspect_category"] == "边缘易致贫户"
    assert "农村低保" in ev["C1"][0]["summary"]
    assert s["C2"]["risk_types"] == ["其他"] and "临时救助" in ev["C2"][0]["summary"]
    assert "C3" not in s and "C4" not in s
    assert s["C5"]["risk_types"] == ["其他"]


def test_renewal_and_stop_are_not_signals(tmp_path):
    city = City()
    m = city.household("N1", income=8000)
    city.civil(m[0], D(2026, 5, 1), "农村低保", status="续保")
    m = city.household("N2", income=8000)
    city.civil(m[0], D(2026, 5, 1), "农村低保", status="停发")
    m = city.household("N3", income=8000, dibao="农村低保")
    city.civil(m[0], D(2026, 5, 1), "农村低保", status=None)  # no status, registry already shows it
    m = city.household("N4", income=8000)
    city.civil(m[0], D(2026, 5, 1), "农村低保", status=None)  # no status, registry does not show it: new
    _, s, _ = run(tmp_path, city)
    assert set(s) == {"N4"}


def test_no_labour_is_added_to_a_flagged_household_below_the_line(tmp_path):
    city = City()
    m = city.household("L1", income=8000, labour=["丧失劳动力", "无劳动力"])
    city.medical(m[0], D(2026, 3, 1), 11000.0)
    m = city.household("L2", income=30000, labour=["丧失劳动力", "无劳动力"])
    city.disaster("L2", D(2026, 6, 1), 40000.0, damage="倒塌")  # adjusted 10000 ≥ line: no 缺劳动力
    _, s, ev = run(tmp_path, city)
    assert s["L1"]["risk_types"] == ["因病", "缺劳动力"]
    registry_ev = [e for e in ev["L1"] if e["risk_type"] == "缺劳动力"]
    assert registry_ev and registry_ev[0]["source"] == "registry" and registry_ev[0]["source_row"] is not None
    assert "丧失劳动力" in registry_ev[0]["summary"]
    assert s["L2"]["suspect_category"] == "突发严重困难户" and "缺劳动力" not in s["L2"]["risk_types"]


def _five_type_household(city: City, hid: str) -> None:
    m = city.household(hid, income=8000, labour=["丧失劳动力", "无劳动力"])
    city.medical(m[0], D(2026, 3, 1), 12000.0)
    city.disaster(hid, D(2026, 6, 1), 9000.0, damage="倒塌")
    city.civil(m[1], D(2026, 7, 1), "临时救助", status="新增", amount=1500)


def test_all_five_types_in_the_configured_order(tmp_path):
    city = City()
    _five_type_household(city, "F1")
    _, s, ev = run(tmp_path, city)
    assert s["F1"]["risk_types"] == ["因病", "因自然灾害", "因安全住房", "其他", "缺劳动力"]
    assert {e["risk_type"] for e in ev["F1"]} == set(s["F1"]["risk_types"])


def test_risk_types_are_capped(tmp_path):
    home = home_with_rules(tmp_path, lambda c: c["defaults"].update(max_risk_types=3))
    city = City()
    _five_type_household(city, "F2")
    _, s, ev = run(tmp_path, city, home=home)
    assert s["F2"]["risk_types"] == ["因病", "因自然灾害", "因安全住房"]
    # evidence keeps its records; flags cut by the cap are not claimed
    assert {e["risk_type"] for e in ev["F2"]} <= {"因病", "因自然灾害", "因安全住房", None}


def test_the_default_cap_is_five():
    from warehouse.rules import thresholds

    assert thresholds("4502", 2026)["max_risk_types"] == 5


# ------------------------------------------------------------------------------------------ property, priority


def test_property_hit_annotates_and_lowers_priority_but_keeps_the_suspect(tmp_path):
    city = City()
    for hid in ("PR1", "PR2"):
        m = city.household(hid, income=9500)
        city.medical(m[0], D(2026, 3, 5), 15000.0)
    owner = next(p["id_number"] for p in city.persons if p["household_id"] == "PR2")
    city.property(owner, "小型汽车")
    _, s, ev = run(tmp_path, city)
    assert s["PR1"]["property_hit"] is False and s["PR2"]["property_hit"] is True
    assert s["PR2"]["suspect_category"] == s["PR1"]["suspect_category"] == "边缘易致贫户"
    assert s["PR2"]["priority_score"] == pytest.approx(s["PR1"]["priority_score"] * 0.5, abs=0.11)
    hit = [e for e in ev["PR2"] if e["source"] == "property"]
    assert hit and hit[0]["risk_type"] is None and "财产检索命中" in hit[0]["summary"]
    assert "财产检索" in s["PR2"]["reason_summary"]


def test_priority_score_orders_by_need(tmp_path):
    city = City()
    m = city.household("Q1", income=9500)
    city.medical(m[0], D(2026, 3, 5), 25000.0)  # far below the line
    m = city.household("Q2", income=9500)
    city.medical(m[0], D(2026, 3, 5), 10500.0)  # just below
    _, s, _ = run(tmp_path, city)
    assert 0 <= s["Q2"]["priority_score"] < s["Q1"]["priority_score"] <= 100


# ------------------------------------------------------------------------------------------ configuration


def test_missing_monitoring_line_for_the_year_is_an_error_naming_the_key(tmp_path):
    home = home_with_rules(tmp_path, lambda c: c["regions"]["4502"].pop(2027))
    city = City()
    m = city.household("X1", income=5000)
    city.medical(m[0], D(2026, 12, 1), 20000.0)
    with pytest.raises(ConfigError) as err:
        run(tmp_path, city, ref=D(2027, 1, 1), pushed=D(2027, 1, 4), home=home, round_id="2027Q1")
    assert "regions.4502.2027.monitoring_line" in str(err.value)


def test_missing_region_is_an_error_naming_the_key(tmp_path):
    home = home_with_rules(tmp_path, lambda c: None)
    city = City()
    city.household("X2")
    with pytest.raises(ConfigError, match=r"regions\.4503\.2026\.monitoring_line"):
        run(tmp_path, city, home=home, region="4503")


def test_missing_other_threshold_names_its_key(tmp_path):
    def edit(c):
        c["regions"]["4502"][2026].pop("rural_disposable_income_last_year")

    home = home_with_rules(tmp_path, edit)
    city = City()
    city.household("X3")
    with pytest.raises(ConfigError, match=r"regions\.4502\.2026\.rural_disposable_income_last_year"):
        run(tmp_path, city, home=home)


def test_county_entry_overrides_the_city(tmp_path):
    home = home_with_rules(tmp_path, lambda c: c["regions"].update({"450226": {2026: {"monitoring_line": 12000}}}))
    city = City()
    m = city.household("K1", income=11000, village_code="450226100201")
    city.medical(m[0], D(2026, 3, 5), 10500.0)  # adjusted 7500: below both lines
    m = city.household("K2", income=11000)
    city.medical(m[0], D(2026, 3, 5), 10500.0)
    _, s, _ = run(tmp_path, city, home=home)
    assert s["K1"]["monitoring_line"] == 12000 and s["K2"]["monitoring_line"] == 9000


# ------------------------------------------------------------------------------------------ window, duplicates, links


def test_window_edges(tmp_path):
    city = City()
    cases = {
        "W_first_day": D(2025, 10, 1),
        "W_day_before": D(2025, 9, 30),
        "W_last_day": D(2026, 9, 30),
        "W_reference": D(2026, 10, 1),
    }
    for hid, day in cases.items():
        m = city.household(hid, income=9500)
        city.medical(m[0], day, 15000.0)
    _, s, _ = run(tmp_path, city)
    assert set(s) == {"W_first_day", "W_last_day"}


def test_the_same_event_twice_counts_once(tmp_path):
    city = City()
    m = city.household("DU", household_type="脱贫户", income=9500)
    # the same settlement in two overlapping extracts (different files and event keys) …
    city.medical(m[0], D(2026, 3, 5), 6000.0, source_file="医保2026年3月.xlsx", source_row=5)
    city.medical(m[0], D(2026, 3, 5), 6000.0, source_file="医保2026年1-3月.xlsx", source_row=17)
    # … and one arriving twice with the same event key
    city.medical(m[0], D(2026, 6, 9), 5000.0, source_file="医保2026年6月.xlsx", source_row=3, event_key="K-1")
    city.medical(m[0], D(2026, 6, 9), 5000.0, source_file="医保2026年6月补.xlsx", source_row=4, event_key="K-1")
    _, s, ev = run(tmp_path, city)
    assert s["DU"]["medical_out_of_pocket"] == 11000  # not 22000
    assert len([e for e in ev["DU"] if e["source"] == "medical"]) == 2


def test_identical_records_of_two_households_count_in_each_and_name_the_member_as_the_registry_does(tmp_path):
    # the de-duplication is per household: two households hit by the same flood with the same assessed loss are two
    # events (and within one household the same assessment from two files is one)
    city = City()
    for hid in ("FA", "FB"):
        city.household(hid, income=8000)
        city.disaster(hid, D(2026, 6, 1), 6000.0, source_file="灾情6月.xlsx")
    city.disaster("FA", D(2026, 6, 1), 6000.0, source_file="灾情6月补报.xlsx")
    # a clerk's spelling of the member's name (traditional characters): the county list names the member as the
    # registry does
    m = city.household("NM", names=["韦秀兰", "韦志强", "韦小明"], household_type="脱贫户", income=9500)
    city.medical(m[0], D(2026, 3, 5), 12000.0, name="韋秀蘭")
    _, s, ev = run(tmp_path, city)
    assert s["FA"]["disaster_loss"] == 6000 and s["FB"]["disaster_loss"] == 6000
    assert s["FA"]["risk_types"] == s["FB"]["risk_types"] == ["因自然灾害"]
    assert [e["source_file"] for e in ev["FA"] if e["source"] == "disaster"] == ["灾情6月.xlsx"]
    med = next(e for e in ev["NM"] if e["source"] == "medical")
    assert med["member_name"] == "韦秀兰" and med["summary"].startswith("韦秀兰：2026年3月5日 柳州市工人医院 住院")


def test_review_and_unmatched_links_are_not_evidence(tmp_path):
    city = City()
    m = city.household("RV", income=5000)
    city.medical(m[0], D(2026, 3, 5), 30000.0, match="review")
    city.medical(m[0], D(2026, 4, 5), 30000.0, match="unmatched")
    _, s, _ = run(tmp_path, city)
    assert s == {}


def test_repaired_and_fuzzy_links_are_evidence(tmp_path):
    city = City()
    m = city.household("FZ", household_type="脱贫户", income=9500)
    city.medical(m[0], D(2026, 3, 5), 6000.0, match="fuzzy")
    city.medical(m[0], D(2026, 4, 5), 5000.0, match="id_repaired")
    _, s, ev = run(tmp_path, city)
    assert s["FZ"]["medical_out_of_pocket"] == 11000
    assert {e["match_method"] for e in ev["FZ"]} == {"fuzzy", "id_repaired"}


def test_every_flag_carries_its_evidence_with_source_file_row_amount(tmp_path):
    city = City()
    _five_type_household(city, "EV1")
    m = city.household("EV2", monitoring_category="脱贫不稳定户", risk_eliminated="否", household_type="脱贫户")
    city.employment(m[1], D(2026, 8, 1), monthly=3500.0)
    _, s, ev = run(tmp_path, city)
    for hid, row in s.items():
        for t in row["risk_types"]:
            rows = [e for e in ev[hid] if e["risk_type"] == t]
            assert rows, (hid, t)
            for e in rows:
                assert e["source"] and e["source_file"] and e["source_row"] is not None and e["summary"]
                if e["source"] != "registry":
                    assert e["amount"] is not None
    med = next(e for e in ev["EV1"] if e["source"] == "medical")
    assert med["summary"].startswith("EV1成员0：2026年3月1日 柳州市工人医院 住院")
    assert "个人自付 12,000.00元" in med["summary"] and med["amount"] == 12000
    assert med["source_file"] == "medical_2026.xlsx"


def test_rerun_replaces_the_round(tmp_path):
    city = City()
    m = city.household("RR", income=9500)
    city.medical(m[0], D(2026, 3, 5), 15000.0)
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        for _ in range(2):
            screen(con, "2026Q4", "full", REF, PUSHED)
        assert con.sql("SELECT count(*) FROM suspect").fetchall()[0][0] == 1
        assert con.sql("SELECT count(*) FROM suspect_evidence").fetchall()[0][0] == 1
        # another round is kept apart
        screen(con, "2026-11-adhoc", "full", REF, PUSHED)
        assert con.sql("SELECT count(*) FROM suspect").fetchall()[0][0] == 2


# ------------------------------------------------------------------------------------------ kinds


def test_incremental_round_only_pushes_what_new_files_reveal(tmp_path):
    city = City()
    old = city.household("OLD", income=9500)
    city.medical(old[0], D(2026, 3, 5), 15000.0, source_file="医保3月.xlsx", file_hash="h_old")
    new = city.household("NEW", income=9500)
    city.medical(new[0], D(2026, 8, 5), 15000.0, source_file="医保8月.xlsx", file_hash="h_new")
    both = city.household(
        "TOP", household_type="脱贫户", income=9500
    )  # an old bill plus a new one that pushes the year over the line
    city.medical(both[0], D(2026, 2, 1), 6000.0, source_file="医保3月.xlsx", file_hash="h_old")
    city.medical(both[0], D(2026, 8, 1), 5000.0, source_file="医保8月.xlsx", file_hash="h_new")
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        con.execute("UPDATE ingested_file SET ingested_at = TIMESTAMP '2026-07-01 10:00' WHERE file_hash = 'h_old'")
        con.execute("UPDATE ingested_file SET ingested_at = TIMESTAMP '2026-10-20 10:00' WHERE file_hash = 'h_new'")
        con.execute(
            "INSERT INTO round VALUES ('2026Q3', 'priority', DATE '2026-07-01', TIMESTAMP '2026-07-02', TIMESTAMP '2026-07-03', 'published')"
        )
        stats = screen(con, "2026-11-adhoc", "incremental", D(2026, 10, 1), D(2026, 11, 2))
        got = suspects(con, "2026-11-adhoc")
        assert set(got) == {"NEW", "TOP"}
        assert stats.since == dt.datetime(2026, 7, 3)
        top_ev = evidence(con, "TOP", "2026-11-adhoc")
        assert {e["is_new"] for e in top_ev} == {True, False}
        assert (
            "2026年8月1日" in got["TOP"]["new_evidence_summary"]
            and "2026年2月1日" not in got["TOP"]["new_evidence_summary"]
        )
        # an explicit "since" overrides the round table
        screen(con, "2026-11-adhoc2", "incremental", D(2026, 10, 1), D(2026, 11, 2), since=dt.datetime(2026, 1, 1))
        assert set(suspects(con, "2026-11-adhoc2")) == {"NEW", "TOP", "OLD"}


def test_priority_round_targets_villages_with_reasons_and_ranks_households(tmp_path):
    city = City()
    site = city.village("450225102201", "幸福安置社区", site=True)
    deep = city.village("450225102202", "深山村", deep=True)
    plain = city.village("450225102203", "平安村")
    few = city.village("450225102204", "少监测村")
    flood = city.village("450225102205", "河边村")
    other = city.village("450225102206", "普通村")
    # 少监测村: 30 脱贫户, none monitored; 普通村 and 平安村: 30 脱贫户 with 10 monitored each (county median 1/3)
    for v, n_mon in ((few, 0), (other, 10), (plain, 10)):
        for i in range(30):
            city.household(
                f"{v}-{i}",
                village_code=v,
                household_type="脱贫户",
                income=20000,
                labour=["普通劳动力"],
                monitoring_category="脱贫不稳定户" if i < n_mon else None,
                risk_eliminated="否" if i < n_mon else None,
            )
    # households with signals
    for hid, v in (("IN_SITE", site), ("IN_DEEP", deep), ("IN_PLAIN", plain), ("IN_FLOOD", flood)):
        m = city.household(hid, village_code=v, income=9500)
        city.medical(m[0], D(2026, 3, 5), 15000.0)
    city.household("WEAK", village_code=deep, income=10000)  # < 1.2 × line, no signal
    city.household("FLOODED", village_code=flood, income=30000)
    city.disaster("FLOODED", D(2026, 8, 15), 800.0)  # a disaster record within 3 months
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        stats = screen(con, "2026Q3", "priority", D(2026, 10, 1), PUSHED)
        targets = {r["village_code"]: r["reasons"] for r in con.sql("SELECT * FROM priority_target").pl().to_dicts()}
        assert set(targets) == {site, deep, few, flood}
        assert targets[site] == ["易地搬迁安置点"] and targets[deep] == ["原深度贫困村"]
        assert targets[few][0].startswith("脱贫户较多但监测户较少") and "近3个月有灾情记录" in targets[flood][0]
        got = suspects(con, "2026Q3")
        assert set(got) == {"IN_SITE", "IN_DEEP", "IN_FLOOD"}  # IN_PLAIN is outside the target villages
        ranked = (
            con.sql(
                "SELECT household_id, screening_rank, is_suspect, reasons FROM priority_household ORDER BY screening_rank"
            )
            .pl()
            .to_dicts()
        )
        ids = [r["household_id"] for r in ranked]
        assert ids[:3] == sorted(ids[:3], key=lambda h: -got[h]["priority_score"]) and set(ids[:3]) == set(got)
        assert "WEAK" in ids and not next(r for r in ranked if r["household_id"] == "WEAK")["is_suspect"]
        assert stats.priority_targets == 4


def test_relocated_household_is_screened_where_it_lives_and_routed_to_its_hukou_county(tmp_path):
    city = City()
    site = city.village("450226100301", "古宜安置小区", site=True)  # resettlement community in 三江
    m = city.household(
        "RELOC",
        village_code="450225101201",
        income=9500,
        relocated="是",
        resettlement_site="古宜安置小区",
        hukou_moved="否",
    )
    city.medical(m[0], D(2026, 3, 5), 15000.0)
    # a household registered in the community itself whose head's ID says 融水
    m2 = city.household("RELOC2", village_code=site, income=9500, relocated="是", hukou_moved="否", id_area="450225")
    city.medical(m2[0], D(2026, 3, 5), 15000.0)
    _, s, _ = run(tmp_path, city)
    r = s["RELOC"]
    assert r["double_routed"] is True and r["county_code"] == "450225"
    assert r["live_county_code"] == "450226" and r["hukou_county_code"] == "450225" and r["hukou_source"] == "户籍登记"
    r2 = s["RELOC2"]
    assert r2["live_county_code"] == "450226" and r2["hukou_county_code"] == "450225"
    assert r2["hukou_source"] == "身份证号码地址码推断"


def test_relocation_followup_lists_the_lowest_incomes_per_community(tmp_path):
    city = City()
    site = city.village("450226100301", "古宜安置小区", site=True)
    for i in range(12):
        city.household(f"RS{i:02d}", village_code=site, income=15000 + 1000 * i, relocated="是", hukou_moved="是")
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED)
        rows = con.sql(
            "SELECT household_id, rank_in_site, households_in_site FROM relocation_followup ORDER BY rank_in_site"
        ).fetchall()
    assert rows == [("RS00", 1, 12), ("RS01", 2, 12)]  # bottom 10 % of 12, rounded up
