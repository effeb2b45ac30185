"""Re-push suppression (apply_followup) with the real rules engine on a hand-built city.

Every household is an ordinary 3-person household (per-capita income 12,000) with one 20,000-yuan hospital bill in
May 2026: a 边缘易致贫户 suspect in round R1 (reference 2026-10-01, pushed 2026-10-09) and, on the same evidence,
again in R2 (reference 2027-01-01, pushed 2027-01-08) — unless a decision in between says otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_followup_support import V_RONGSHUI, City, D, event, home_at, warehouse

from warehouse import rules
from warehouse.followup import apply_followup

HH = {
    k: f"45022510120100{i:02d}"
    for i, k in enumerate(
        [
            "rejected",
            "rejected_new",
            "included",
            "included_new",
            "pending",
            "silent",
            "eliminated_new",
            "eliminated_old",
        ]
    )
}
R1 = ("R1", D(2026, 10, 1), D(2026, 10, 9))
R2 = ("R2", D(2027, 1, 1), D(2027, 1, 8))


def _screen(con, rnd):
    rid, ref, pushed = rnd
    rules.screen(con, rid, "full", ref, pushed)
    return apply_followup(con, rid, pushed)


def _suspects(con, rid):
    rows = con.sql("SELECT * FROM suspect WHERE round_id = ?", params=[rid]).pl().to_dicts()
    return {r["household_id"]: r for r in rows}


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    home = home_at(tmp_path_factory.mktemp("state"))
    city = City()
    heads = {}
    for key, hid in HH.items():
        ids = city.household(hid, village_code=V_RONGSHUI, income=12000.0)
        heads[key] = ids[0]
        city.medical(ids[0], D(2026, 5, 10), 20000.0, source_file="医保结算_2026年5月.csv")
    registry = list(city.persons)
    with warehouse(home) as con:
        city.flush(con)
        s1 = _screen(con, R1)
        r1 = _suspects(con, "R1")
        # county decisions after the R1 push
        event(con, HH["rejected"], "verified_rejected", D(2026, 10, 13), round_id="R1")
        event(con, HH["rejected_new"], "verified_rejected", D(2026, 10, 13), round_id="R1")
        event(con, HH["included"], "verified_included", D(2026, 10, 14), round_id="R1", category="边缘易致贫户")
        event(con, HH["included_new"], "verified_included", D(2026, 10, 14), round_id="R1", category="边缘易致贫户")
        event(con, HH["pending"], "pending", D(2026, 10, 15), round_id="R1")
        for key in ("eliminated_new", "eliminated_old"):
            event(con, HH[key], "verified_included", D(2026, 10, 12), round_id="R1")
            event(con, HH[key], "eliminated", D(2026, 11, 1))
        # new department records: a fresh big bill after the decisions (and one from before the elimination)
        city.persons = registry  # the builder looks names up here; cleared again before the flush
        for key, day in (
            ("rejected_new", D(2026, 11, 15)),
            ("included_new", D(2026, 11, 15)),
            ("eliminated_new", D(2026, 11, 15)),
            ("eliminated_old", D(2026, 10, 20)),
        ):
            city.medical(
                heads[key], day, 23456.0, institution="柳州市人民医院", source_file="医保结算补充_2026年11月.csv"
            )
        city.persons = []
        city.flush(con)
        s2 = _screen(con, R2)
        r2 = _suspects(con, "R2")
        suppressed = {
            r[0]: r
            for r in con.sql(
                "SELECT household_id, decision, reason FROM followup_suppressed WHERE round_id = 'R2'"
            ).fetchall()
        }
        pushes = con.sql(
            "SELECT household_id, round_id FROM household_event WHERE event_type = 'suspected' ORDER BY 1, 2"
        ).fetchall()
        # a rerun of R1 after the decisions reproduces R1 (decisions about R1 do not rewrite R1)
        _screen(con, R1)
        r1_again = _suspects(con, "R1")
        again = apply_followup(con, "R2")  # applying twice changes nothing
        r2_again = _suspects(con, "R2")
    return dict(
        s1=s1,
        s2=s2,
        r1=r1,
        r2=r2,
        suppressed=suppressed,
        pushes=pushes,
        r1_again=r1_again,
        again=again,
        r2_again=r2_again,
    )


def test_round_one_pushes_everyone_and_records_the_pushes(rounds):
    assert set(rounds["r1"]) == set(HH.values())
    assert rounds["s1"].pushes_recorded == len(HH) and rounds["s1"].actions == {"first": len(HH)}


def test_rejected_household_is_not_pushed_again_without_new_evidence(rounds):
    h = HH["rejected"]
    assert h not in rounds["r2"]
    assert rounds["suppressed"][h][1] == "verified_rejected"
    assert "核实为不纳入监测" in rounds["suppressed"][h][2] and "没有新的部门证据" in rounds["suppressed"][h][2]


def test_rejected_household_with_new_evidence_is_pushed_again_saying_what_is_new(rounds):
    s = rounds["r2"][HH["rejected_new"]]
    assert s["suspect_category"] == "边缘易致贫户"
    assert s["new_evidence_summary"].startswith("新证据：【医保｜医保结算补充_2026年11月.csv 第")
    assert "2026年11月15日" in s["new_evidence_summary"] and "23,456" in s["new_evidence_summary"]
    assert "2026年5月10日" not in s["new_evidence_summary"]  # the bill the county already saw is not new
    assert s["reason_summary"].startswith("【再次推送】2026年10月13日核实为不纳入监测（第R1轮推送），此后出现新证据")


def test_included_household_leaves_the_suspect_list(rounds):
    h = HH["included"]
    assert h not in rounds["r2"] and rounds["suppressed"][h][1] == "verified_included"


def test_included_household_with_a_new_signal_goes_to_the_departments_as_new_risk(rounds):
    s = rounds["r2"][HH["included_new"]]
    assert s["suspect_category"] == "监测户新增风险"
    assert s["reason_summary"].startswith("【已纳入监测，新增风险】") and "23,456" in s["new_evidence_summary"]


def test_unanswered_and_pending_households_are_pushed_again_with_a_reminder(rounds):
    silent, pending = rounds["r2"][HH["silent"]], rounds["r2"][HH["pending"]]
    assert silent["reason_summary"].startswith("【再次推送】已于2026年10月9日首次推送（第R1轮），尚未反馈核实结果")
    assert silent["new_evidence_summary"] == "无新证据（与此前推送时相同）"
    assert "上次核实结果为待核实（2026年10月15日）" in pending["reason_summary"]


def test_eliminated_household_is_flagged_again_only_for_evidence_after_the_elimination(rounds):
    s = rounds["r2"][HH["eliminated_new"]]
    assert s["reflagged_eliminated"] and s["reason_summary"].startswith("【风险消除后再次预警】")
    assert HH["eliminated_old"] not in rounds["r2"]
    assert rounds["suppressed"][HH["eliminated_old"]][1] == "eliminated"


def test_push_history_and_reruns(rounds):
    pushes = rounds["pushes"]
    assert sum(1 for _, r in pushes if r == "R1") == len(HH)
    assert {h for h, r in pushes if r == "R2"} == set(rounds["r2"])
    assert set(rounds["r1_again"]) == set(rounds["r1"])  # a rerun of R1 reproduces R1
    assert rounds["again"].actions.get("suppress") is None  # nothing left to suppress
    assert {h: s["reason_summary"] for h, s in rounds["r2_again"].items()} == {
        h: s["reason_summary"] for h, s in rounds["r2"].items()
    }
    assert rounds["s2"].suppressed == {"eliminated": 1, "verified_included": 1, "verified_rejected": 1}


def test_a_county_rerun_only_touches_that_countys_households(tmp_path):
    from test_followup_support import SANJIANG, V_SANJIANG

    home = home_at(tmp_path)
    city = City()
    pairs = {"4502251012010001": V_RONGSHUI, "4502261002010001": V_SANJIANG}
    for hid, village in pairs.items():
        ids = city.household(hid, village_code=village, income=12000.0)
        city.medical(ids[0], D(2026, 5, 10), 20000.0)
    with warehouse(home) as con:
        city.flush(con)
        _screen(con, R1)
        for hid in pairs:
            event(con, hid, "verified_rejected", D(2026, 10, 13), round_id="R1")
        rules.screen(con, "R2", "full", R2[1], R2[2])
        st = apply_followup(con, "R2", R2[2], counties=[SANJIANG])
        assert st.counties == [SANJIANG] and st.suppressed == {"verified_rejected": 1}
        assert set(_suspects(con, "R2")) == {"4502251012010001"}  # 融水 not processed yet
        apply_followup(con, "R2", R2[2])
        assert _suspects(con, "R2") == {}
