"""Closing the loop on the tiny synthetic city: two rounds with county feedback in between (issue, part A).

Round 1 (2026Q4, pushed 2026-10-09) is the session's ``screened_tiny`` round, run through ``fangpin screen``; this
module works on a copy of that data home. Between the rounds a county returns its 疑似风险户清单 workbook with
核实结果 filled in (one 纳入监测, two 不纳入, one row dated before the push) plus a follow-up sheet (帮扶责任人,
措施, 走访), and 医保 sends a new extract with a fresh big bill for one of the rejected households. Round 2 (2027Q1,
full, pushed 2027-01-08) is then run with the round functions (ingest → link → screen → apply_followup → publish).
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_followup_support import write_csv

from fangpin.home import DataHome

R1, R2 = "2026Q4", "2027Q1"
PUSH2 = dt.date(2027, 1, 8)
AS_OF = dt.date(2027, 1, 20)
OFFICIAL = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")


def _copy_home(src: Path, dst: Path) -> DataHome:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("dagster", "spill"))
    return DataHome.at(dst).ensure()


def _pick(con) -> dict[str, str]:
    """Households pushed in round 1 that the rules flag again in round 2 (so only a decision can keep them out)."""
    from warehouse import rules

    rules.screen(con, R2, "full", dt.date(2027, 1, 1), PUSH2)
    both = con.sql(f"""
        SELECT a.household_id, a.county FROM suspect a JOIN suspect b USING (household_id)
        WHERE a.round_id = '{R1}' AND b.round_id = '{R2}' AND list_contains({list(OFFICIAL)}, a.suspect_category)
          AND NOT coalesce(a.double_routed, false)
        ORDER BY a.county_code, a.household_id
    """).fetchall()
    assert len(both) >= 3, f"the tiny city needs 3 households flagged in both rounds, found {both}"
    return {"included": both[0][0], "rejected": both[1][0], "rejected_new": both[2][0]}


def _fill_workbooks(home: DataHome, con, picks: dict[str, str]) -> dict[str, int]:
    """Fill 核实结果 in the round-1 county workbooks and drop them into landing/feedback/. Returns the row number of
    the deliberately wrong row (核实日期 before the push) per file name."""
    result = {
        picks["included"]: ("纳入监测", dt.datetime(2026, 10, 14)),
        picks["rejected"]: ("不纳入", dt.datetime(2026, 10, 13)),
        picks["rejected_new"]: ("不纳入", dt.datetime(2026, 10, 13)),
    }
    bad_rows = {}
    for path in sorted((home.out / R1).glob("疑似风险户清单_*.xlsx")):
        wb = openpyxl.load_workbook(path)
        ws = wb["疑似风险户清单"]
        header_row = next(r for r in range(1, 10) if "户编号" in [c.value for c in ws[r]])
        col = {c.value: i + 1 for i, c in enumerate(ws[header_row])}
        rows = [(r, ws.cell(r, col["户编号"]).value) for r in range(header_row + 1, ws.max_row + 1)]
        touched = any(hid in result for _, hid in rows)
        for r, hid in rows:
            if hid in result:
                ws.cell(r, col["核实结果"], result[hid][0])
                ws.cell(r, col["核实日期"], result[hid][1])
                ws.cell(r, col["核实人"], "村委核实组")
            elif touched and hid and path.name not in bad_rows:  # any other household of a returned workbook
                ws.cell(r, col["核实结果"], "不纳入")
                ws.cell(r, col["核实日期"], dt.datetime(2026, 10, 1))  # before the push of 2026-10-09
                bad_rows[path.name] = r
        if touched:
            wb.save(home.landing_for("feedback") / path.name)
    # the follow-up sheet of the included household
    write_csv(
        home.landing_for("feedback") / "帮扶台账_2026年11月.csv",
        ["户编号", "纳入日期", "帮扶责任人", "帮扶责任人安排日期", "帮扶措施", "措施日期", "走访日期"],
        [[picks["included"], "2026-10-16", "韦建国", "2026-10-19", "健康帮扶、就业帮扶", "2026-10-28", "2026-11-03"]],
    )
    return bad_rows


def _new_bill(home: DataHome, con, hid: str) -> None:
    name, idn = con.sql(
        "SELECT name, id_number FROM registry_person WHERE household_id = ? AND id_number IS NOT NULL "
        "ORDER BY relation = '户主' DESC LIMIT 1",
        params=[hid],
    ).fetchall()[0]
    write_csv(
        home.landing_for("medical") / "医保结算补充数据_2026年11月.csv",
        ["姓名", "身份证号", "结算日期", "医疗机构", "医疗总费用", "统筹支付", "个人自付", "就诊类型"],
        [[name, idn, "2026-11-15", "柳州市人民医院", "70368.00", "46912.00", "23456.00", "住院"]],
    )


@pytest.fixture(scope="module")
def two_rounds(screened_tiny, tmp_path_factory):
    from assets.ingestion import ingest_feed
    from assets.publishing import publish_round, write_followup
    from warehouse import engine, rounds, rules
    from warehouse.followup import apply_followup, ingest_feedback
    from warehouse.linkage import link_records

    home = _copy_home(screened_tiny, tmp_path_factory.mktemp("followup") / "home")
    with engine.connect(home.warehouse_path) as con:
        picks = _pick(con)
        bad_rows = _fill_workbooks(home, con, picks)
        _new_bill(home, con, picks["rejected_new"])
        feedback = ingest_feedback(home, con)
        ingest_feed(home, "medical", con)
        link_records(con, home=home.root)
        rounds.start_round(con, R2, "full", dt.date(2027, 1, 1))
        rules.screen(con, R2, "full", dt.date(2027, 1, 1), PUSH2, home=home.root)
        stats = apply_followup(con, R2, PUSH2)
        publish_round(con, home.root, R2)
        rounds.finish_round(con, R2)
        outputs = write_followup(con, home.root, AS_OF)
        roster = con.sql("SELECT * FROM monitoring_roster").pl()
        history = con.sql("SELECT * FROM household_event ORDER BY household_id, event_date, event_type").pl()
    return dict(
        home=home,
        picks=picks,
        bad_rows=bad_rows,
        feedback=feedback,
        stats=stats,
        outputs=outputs,
        roster=roster,
        history=history,
        suspects=pl.read_parquet(home.out / R2 / "suspects.parquet"),
    )


def test_included_household_leaves_the_suspect_list_and_enters_the_roster(two_rounds):
    hid = two_rounds["picks"]["included"]
    assert hid not in two_rounds["suspects"]["household_id"].to_list()
    r = two_rounds["roster"].filter(pl.col("household_id") == hid).to_dicts()
    assert len(r) == 1
    r = r[0]
    assert (r["status"], r["source"], r["identified_on"], r["helper_name"]) == (
        "monitored",
        "feedback",
        dt.date(2026, 10, 16),
        "韦建国",
    )
    assert r["measures"] == ["健康帮扶", "就业帮扶"] and r["last_visit"] == dt.date(2026, 11, 3)
    assert r["category"] in OFFICIAL and r["household_size"] >= 1
    kinds = two_rounds["history"].filter(pl.col("household_id") == hid)["event_type"].to_list()
    assert kinds == ["suspected", "verified_included", "helper_assigned", "measure", "measure", "visit"]


def test_rejected_household_is_not_pushed_again_without_new_evidence(two_rounds):
    hid = two_rounds["picks"]["rejected"]
    assert hid not in two_rounds["suspects"]["household_id"].to_list()
    assert two_rounds["stats"].suppressed.get("verified_rejected", 0) >= 1
    assert two_rounds["stats"].suppressed.get("verified_included", 0) >= 1


def test_rejected_household_with_a_new_bill_is_pushed_again_and_the_push_says_what_is_new(two_rounds):
    hid = two_rounds["picks"]["rejected_new"]
    row = two_rounds["suspects"].filter(pl.col("household_id") == hid).to_dicts()
    assert len(row) == 1
    summary = row[0]["new_evidence_summary"]
    assert (
        summary.startswith("新证据：【医保｜医保结算补充数据_2026年11月.csv 第2行】")
        and "个人自付 23,456.00元" in summary
    )
    assert row[0]["reason_summary"].startswith("【再次推送】2026年10月13日核实为不纳入监测")
    # the county reads it in its workbook (情况说明 column)
    county = row[0]["county"]
    wb = openpyxl.load_workbook(two_rounds["home"].out / R2 / f"疑似风险户清单_{county}.xlsx", read_only=True)
    texts = [c for r in wb["疑似风险户清单"].iter_rows(values_only=True) for c in r if isinstance(c, str)]
    assert any(t.startswith("【再次推送】2026年10月13日核实为不纳入监测") for t in texts)


def test_feedback_rows_are_accounted_for_and_wrong_rows_reach_the_rejection_lists(two_rounds):
    files = [f for f in two_rounds["feedback"].files if f.status == "loaded"]
    assert files and all(f.rows_accepted + f.rows_rejected + f.rows_skipped == f.rows_in_file for f in files)
    rejected = pl.read_parquet(two_rounds["home"].out / R2 / "rejected.parquet").filter(pl.col("source") == "feedback")
    expected = {(name, row) for name, row in two_rounds["bad_rows"].items()}
    got = {(r["source_file"], r["source_row"]) for r in rejected.to_dicts()}
    assert expected and expected <= got
    assert rejected["reason"].str.contains("早于该户的推送日期").all()


def test_followup_outputs_for_the_monthly_supervision(two_rounds):
    out = two_rounds["outputs"]
    folder = two_rounds["home"].out / "followup" / AS_OF.isoformat()
    assert out["folder"] == folder
    names = {p.name for p in folder.iterdir()}
    counties = {
        p.name.removeprefix("疑似风险户清单_") for p in (two_rounds["home"].out / R1).glob("疑似风险户清单_*.xlsx")
    }
    assert {f"逾期事项_{c}" for c in counties} <= names and {f"风险消除候选_{c}" for c in counties} <= names
    assert {
        "督查合规表.xlsx",
        "资金分配因素.xlsx",
        "deadline_items.parquet",
        "compliance.parquet",
        "funds.parquet",
    } <= names
    items = pl.read_parquet(folder / "deadline_items.parquet")
    inc = two_rounds["picks"]["included"]
    mine = {r["item_type"]: r["status"] for r in items.filter(pl.col("household_id") == inc).to_dicts()}
    assert mine["verify"] == "on_time" and mine["decision"] == "on_time" and mine["helper"] == "on_time"
    assert mine["measures"] == "on_time" and mine["approval"] == "overdue"  # no 县级审定 by the end of November
    funds = pl.read_parquet(folder / "funds.parquet")
    monitored = two_rounds["roster"].filter(pl.col("status") == "monitored")
    assert int(funds["persons"].sum()) == int(monitored["household_size"].sum())
    assert abs(float(funds["share"].sum()) - 1.0) < 1e-9
    wb = openpyxl.load_workbook(folder / "督查合规表.xlsx", read_only=True)
    assert wb.sheetnames == ["合规率", "明细"]


def test_followup_assets_materialise_in_dagster(two_rounds, tmp_path):
    import dagster as dg

    from assets.followup import followup_assets
    from assets.resources import resources_for

    home = _copy_home(two_rounds["home"].root, tmp_path / "home")
    write_csv(
        home.landing_for("feedback") / "走访补报.csv",
        ["户编号", "走访日期"],
        [[two_rounds["picks"]["included"], "2027-01-12"]],
    )
    # the month of the 县级审定 batch arrives as the run tag the lead's monthly_approval schedule sets
    result = dg.materialize(
        followup_assets,
        resources=resources_for(home=str(home.root)),
        run_config={"ops": {"followup_outputs": {"config": {"as_of": "2027-01-20"}}}},
        tags={"fangpin/approval_month": "2026-10"},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=True,
    )
    assert result.success
    meta = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert meta["feedback_records"]["events_added"].value == 1
    assert meta["monitoring_state"]["roster"].value.get("feedback:monitored", 0) >= 1
    assert (home.out / "followup" / "2027-01-20" / "督查合规表.xlsx").exists()
    assert meta["approval_batch"]["month"].value == "2026-10" and meta["approval_batch"]["households"].value == 1
    batch = pl.read_parquet(home.out / "followup" / "approval" / "2026-10" / "approval_batch.parquet")
    assert batch["household_id"].to_list() == [two_rounds["picks"]["included"]]
    assert batch["approval_status"].to_list()[0] in ("待审定", "逾期未审定")  # state on the day the test runs
    assert list((home.out / "followup" / "approval" / "2026-10").glob("县级审定批次_2026-10_*.xlsx"))


def test_fangpin_screen_runs_round_two_with_the_followup_step(two_rounds, screened_tiny, tmp_path):
    """Through the CLI: the round applies the follow-up (no re-push without new evidence); `fangpin followup` then
    writes the supervision outputs and the official forms."""
    from fangpin.cli import main

    home = _copy_home(screened_tiny, tmp_path / "home")
    for p in two_rounds["home"].landing_for("feedback").iterdir():
        shutil.copy(p, home.landing_for("feedback") / p.name)
    for p in two_rounds["home"].landing_for("medical").glob("医保结算补充数据_*"):
        shutil.copy(p, home.landing_for("medical") / p.name)
    assert (
        main(["screen", "--round", R2, "--kind", "full", "--home", str(home.root), "--pushed-on", PUSH2.isoformat()])
        == 0
    )
    got = set(pl.read_parquet(home.out / R2 / "suspects.parquet")["household_id"].to_list())
    picks = two_rounds["picks"]
    assert picks["included"] not in got and picks["rejected"] not in got and picks["rejected_new"] in got
    as_of = PUSH2.isoformat()
    assert main(["followup", "--as-of", as_of, "--home", str(home.root)]) == 0
    assert (home.out / "followup" / as_of / "督查合规表.xlsx").exists()
    assert list((home.out / "forms" / as_of).rglob("*.xlsx"))
    assert list((home.out / "registry_checks" / as_of).glob("*.parquet"))
