"""County feedback (landing/feedback/): reading, validation against what was pushed, loading, history.

Hand-built warehouses: registry households from ``City``, pushes written as history events. Rows must end in exactly
one place (accepted / rejected with a Chinese reason in rejected_row / skipped) as for department drops.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).parent))
from test_followup_support import (
    RONGSHUI,
    SANJIANG,
    V_RONGSHUI,
    V_SANJIANG,
    City,
    D,
    home_at,
    push,
    warehouse,
    write_csv,
)

from warehouse.followup import ingest_feedback

H_OK, H_LATE, H_OTHER, H_NEVER, H_MON = (
    "4502251012010001",
    "4502251012010002",
    "4502251012010003",
    "4502251012010004",
    "4502251012010005",
)
H_RELOC = "4502261002010009"
FB_HEADER = [
    "户编号",
    "县(市、区)",
    "核实结果",
    "核实日期",
    "监测对象类别",
    "风险类型",
    "帮扶责任人",
    "帮扶措施",
    "措施日期",
    "走访日期",
    "纳入日期",
]


def _city() -> City:
    city = City()
    for hid in (H_OK, H_LATE, H_OTHER, H_NEVER):
        city.household(hid, village_code=V_RONGSHUI)
    city.household(H_MON, village_code=V_RONGSHUI, monitoring_category="边缘易致贫户", risk_eliminated="否")
    city.household(H_RELOC, village_code=V_SANJIANG)
    return city


def _setup(tmp_path):
    home = home_at(tmp_path)
    with warehouse(home) as con:
        _city().flush(con)
        for hid in (H_OK, H_LATE, H_OTHER):
            push(con, hid, D(2026, 10, 9), category="边缘易致贫户")
        # a relocated household living in 三江, hukou in 融水: pushed to both counties
        push(con, H_RELOC, D(2026, 10, 9), county=SANJIANG, recipients=[SANJIANG, RONGSHUI])
    return home


def _rejections(con) -> dict[int, str]:
    return dict(
        con.sql(
            "SELECT source_row, reason FROM rejected_row WHERE source = 'feedback' AND source_row IS NOT NULL"
        ).fetchall()
    )


def test_rows_are_checked_against_what_was_pushed(tmp_path):
    home = _setup(tmp_path)
    rows = [
        [H_OK, "融水苗族自治县", "纳入监测", "2026-10-14", "", "因病、因灾", "", "", "", "", ""],  # line 2: fine
        ["4502999999999999", "融水县", "不纳入", "2026-10-14", "", "", "", "", "", "", ""],  # 3: unknown household
        [H_NEVER, "融水县", "不纳入", "2026-10-14", "", "", "", "", "", "", ""],  # 4: in registry, never pushed
        [H_OTHER, "三江侗族自治县", "不纳入", "2026-10-14", "", "", "", "", "", "", ""],  # 5: not pushed to 三江
        [H_LATE, "融水", "不纳入", "2026-10-05", "", "", "", "", "", "", ""],  # 6: verified before the push
        [H_LATE, "融水", "可能吧", "2026-10-15", "", "", "", "", "", "", ""],  # 7: unknown result
        [H_RELOC, "三江侗族自治县", "待核实", "2026-10-12", "", "", "", "", "", "", ""],  # 8: relocated: its 三江 row
        [H_OTHER, "", "", "", "", "", "", "", "", "", ""],  # 9: not verified yet
    ]
    write_csv(home.landing_for("feedback") / "核实结果汇总.csv", FB_HEADER, rows, encoding="gbk")
    with warehouse(home) as con:
        out = ingest_feedback(home, con)
        f = out.files[0]
        assert f.status == "loaded"
        assert f.rows_in_file == 9 and f.rows_skipped == 1  # the header line
        assert f.rows_accepted + f.rows_rejected + f.rows_skipped == f.rows_in_file
        rej = _rejections(con)
        assert set(rej) == {3, 4, 5, 6, 7}
        assert "未在任何一轮推送中出现" in rej[3] and "户籍系统中也没有此户" in rej[3]
        assert "未在任何一轮推送中出现" in rej[4]
        assert "三江侗族自治县" in rej[5] and "融水苗族自治县" in rej[5]
        assert "早于该户的推送日期（2026-10-09）" in rej[6]
        assert "无法识别" in rej[7] and "纳入监测、不纳入或待核实" in rej[7]
        accepted = con.sql(
            "SELECT source_row, household_id, verify_result, round_id, county_code FROM feedback_record ORDER BY source_row"
        ).fetchall()
        assert [(r[0], r[2]) for r in accepted] == [(2, "纳入监测"), (8, "待核实"), (9, None)]
        assert accepted[0][3] == "2026Q4" and accepted[1][4] == SANJIANG
        events = con.sql(
            "SELECT household_id, event_type, event_date, category, risk_types FROM household_event "
            "WHERE source = 'feedback' ORDER BY household_id"
        ).fetchall()
        assert events == [
            (H_OK, "verified_included", D(2026, 10, 14), "边缘易致贫户", ["因病", "因自然灾害"]),
            (H_RELOC, "pending", D(2026, 10, 12), None, None),
        ]
        info = con.sql(
            "SELECT status, rows_in_file, rows_accepted, rows_rejected, rows_skipped FROM ingested_file WHERE feed = 'feedback'"
        ).fetchall()
        assert info == [("loaded", 9, 3, 5, 1)]
    receipt = Path(f.report_path)
    assert receipt.exists() and receipt.with_suffix(".txt").exists()
    assert "与推送情况不符" in receipt.with_suffix(".txt").read_text(encoding="utf-8")


def test_the_file_name_says_which_county_answers(tmp_path):
    home = _setup(tmp_path)
    rows = [[H_OK, "", "不纳入", "2026-10-13"], [H_RELOC, "", "不纳入", "2026-10-13"]]
    write_csv(
        home.landing_for("feedback") / "疑似风险户清单_三江侗族自治县_核实.csv",
        ["户编号", "备注", "核实结果", "核实日期"],
        rows,
    )
    with warehouse(home) as con:
        ingest_feedback(home, con)
        rej = _rejections(con)
        assert set(rej) == {2}  # H_OK was pushed to 融水 only; the relocated one to both
        assert "文件名表明由三江侗族自治县反馈" in rej[2]
        assert con.sql("SELECT household_id FROM feedback_record").fetchall() == [(H_RELOC,)]


def test_decision_without_date_and_conflicting_rows_are_rejected(tmp_path):
    home = _setup(tmp_path)
    rows = [
        [H_OK, "纳入监测", ""],
        [H_LATE, "不纳入", "2026-10-13"],
        [H_LATE, "纳入监测", "2026-10-14"],
        [H_OTHER, "待核实", ""],
    ]
    write_csv(home.landing_for("feedback") / "fb.csv", ["户编号", "核实结果", "核实日期"], rows)
    with warehouse(home) as con:
        ingest_feedback(home, con)
        rej = _rejections(con)
        assert set(rej) == {2, 4}
        assert "核实日期为空" in rej[2]
        assert "第3行已填写该户的核实结果“不纳入”" in rej[4]
        # 待核实 needs no date
        assert con.sql(
            "SELECT event_type, event_date FROM household_event WHERE household_id = ? AND source = 'feedback'",
            params=[H_OTHER],
        ).fetchall() == [("pending", None)]


def test_same_file_is_ingested_once_and_repeated_facts_are_not_doubled(tmp_path):
    home = _setup(tmp_path)
    header = ["户编号", "核实结果", "核实日期", "帮扶责任人", "帮扶措施", "措施日期", "走访日期"]
    row = [H_OK, "纳入监测", "2026-10-14", "韦建国", "健康帮扶；就业帮扶", "2026-10-20", "2026-10-15、2026/11/3"]
    write_csv(home.landing_for("feedback") / "a.csv", header, [row])
    with warehouse(home) as con:
        ingest_feedback(home, con)
        n1 = con.sql("SELECT count(*) FROM household_event WHERE source = 'feedback'").fetchall()[0][0]
        assert n1 == 6  # decision, helper, 2 measures, 2 visits
        again = ingest_feedback(home, con)
        assert [f.status for f in again.files] == ["already_ingested"]
    # next month the county sends the same facts again plus one new visit, in another file
    write_csv(home.landing_for("feedback") / "b.csv", header, [row[:-1] + ["2026-10-15、2026-12-01"]])
    with warehouse(home) as con:
        ingest_feedback(home, con)
        assert con.sql("SELECT count(*) FROM household_event WHERE source = 'feedback'").fetchall()[0][0] == n1 + 1
        roster = con.sql(
            "SELECT helper_name, measures, last_visit, status, source FROM monitoring_roster WHERE household_id = ?",
            params=[H_OK],
        ).fetchall()
        assert roster == [("韦建国", ["健康帮扶", "就业帮扶"], D(2026, 12, 1), "monitored", "feedback")]


def test_followup_rows_for_existing_monitoring_objects(tmp_path):
    """A registry monitoring object never pushed may get helper / measures / visits, but not a 核实结果."""
    home = _setup(tmp_path)
    header = ["户编号", "核实结果", "核实日期", "帮扶责任人", "走访日期"]
    write_csv(
        home.landing_for("feedback") / "走访记录.csv",
        header,
        [[H_MON, "", "", "覃桂英", "2026-11-02"], [H_MON, "纳入监测", "2026-11-02", "", ""]],
    )
    with warehouse(home) as con:
        ingest_feedback(home, con)
        rej = _rejections(con)
        assert set(rej) == {3} and "已有监测对象" in rej[3]
        assert con.sql(
            "SELECT event_type FROM household_event WHERE household_id = ? ORDER BY event_type", params=[H_MON]
        ).fetchall() == [("helper_assigned",), ("visit",)]


def test_unreadable_and_misplaced_files_are_quarantined_without_blocking_the_others(tmp_path):
    home = _setup(tmp_path)
    folder = home.landing_for("feedback")
    (folder / "空文件.xlsx").write_bytes(b"")
    write_csv(
        folder / "医保结算.csv",
        ["姓名", "身份证号", "结算日期", "个人自付"],
        [["张三", "450225199001011234", "2026-09-01", "100"]],
    )
    write_csv(folder / "ok.csv", ["户编号", "核实结果", "核实日期"], [[H_OK, "不纳入", "2026-10-13"]])
    with warehouse(home) as con:
        out = ingest_feedback(home, con)
        status = {f.file_name: f.status for f in out.files}
        assert status == {"空文件.xlsx": "quarantined", "医保结算.csv": "quarantined", "ok.csv": "loaded"}
        reasons = {f.file_name: f.reason for f in out.files}
        assert "放错了文件夹" in reasons["医保结算.csv"] and "landing/medical/" in reasons["医保结算.csv"]
        whole = con.sql(
            "SELECT source_file FROM rejected_row WHERE source = 'feedback' AND source_row IS NULL ORDER BY 1"
        ).fetchall()
        assert whole == [("医保结算.csv",), ("空文件.xlsx",)]
    assert list((home.root / "quarantine" / "feedback").glob("*.reason.txt"))
    assert (folder / "空文件.xlsx").exists()  # the drop is never modified or deleted


def test_the_returned_suspect_workbook_is_read_as_published(tmp_path):
    """The county fills the yellow columns of the workbook the publisher wrote (title and note rows above the header)."""
    from fangpin.reports.publish import MAIN_COLS, VERIFY_FILL
    from fangpin.reports.xlsx import Book

    home = _setup(tmp_path)
    rows = [
        {
            "seq": i + 1,
            "county_name": "融水苗族自治县",
            "household_id": h,
            "suspect_category": "边缘易致贫户",
            "risk_types": ["因病"],
            "pushed_on": D(2026, 10, 9),
            "verify_by": D(2026, 10, 15),
        }
        for i, h in enumerate((H_OK, H_LATE, H_OTHER))
    ]
    src = tmp_path / "疑似风险户清单_融水苗族自治县.xlsx"
    with Book(src) as book:
        book.table(
            "疑似风险户清单",
            MAIN_COLS,
            rows,
            title="融水苗族自治县 疑似风险户清单",
            notes=["第 2026Q4 轮"],
            fill_keys=VERIFY_FILL,
        )
        book.table("易地搬迁分流", MAIN_COLS[:6], [], title="分流")
    wb = openpyxl.load_workbook(src)
    ws = wb["疑似风险户清单"]
    header = [c.value for c in ws[3]]
    col = {h: i + 1 for i, h in enumerate(header)}
    ws.cell(4, col["核实结果"], "纳入")
    ws.cell(4, col["核实日期"], dt.datetime(2026, 10, 14))  # a date cell
    ws.cell(5, col["核实结果"], "经核实不纳入")
    ws.cell(5, col["核实日期"], "2026年10月13日")
    wb.save(home.landing_for("feedback") / src.name)
    with warehouse(home) as con:
        f = ingest_feedback(home, con).files[0]
        assert (f.rows_in_file, f.rows_accepted, f.rows_rejected, f.rows_skipped) == (6, 3, 0, 3)
        assert f.results == {"纳入监测": 1, "不纳入": 1}
        got = con.sql(
            "SELECT household_id, verify_result, verify_date, category, reporting_county_code FROM feedback_record "
            "ORDER BY source_row"
        ).fetchall()
        assert got[0] == (H_OK, "纳入监测", D(2026, 10, 14), None, RONGSHUI)
        assert got[1][:3] == (H_LATE, "不纳入", D(2026, 10, 13)) and got[2][1] is None
        # the inclusion takes the pushed category (疑似类别) when the county does not name one
        assert con.sql("SELECT category FROM household_event WHERE event_type = 'verified_included'").fetchall() == [
            ("边缘易致贫户",)
        ]


def test_cells_from_the_county_are_neutralised_in_the_receipt(tmp_path):
    home = _setup(tmp_path)
    write_csv(
        home.landing_for("feedback") / "fb.csv",
        ["户编号", "核实结果", "核实日期", "核实说明"],
        [[H_OK, "=cmd|' /C calc'!A0", "2026-10-13", '=HYPERLINK("x")']],
    )
    with warehouse(home) as con:
        f = ingest_feedback(home, con).files[0]
        assert f.rows_rejected == 1
    wb = openpyxl.load_workbook(f.report_path)
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("=cmd" in t for t in texts)  # quoted in the rejection reason…
    assert not any(t.startswith("=") for t in texts)  # …but no cell starts with a formula
