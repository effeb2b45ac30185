"""Official forms (warehouse/forms, fangpin/reports/forms): the roster from the registry fallback and from a
``monitoring_roster`` table, the archive checklist, the layout of the output folder, and — the issue's "done when" —
the PUBLIC village wall table carries no full ID number, phone, bank account, health detail or medical amount."""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_forms_support import (
    AS_OF,
    VILLAGE,
    D,
    clean_members,
    create_monitoring_roster,
    household,
    insert_registry,
    insert_villages,
    member,
)

from assets.publishing import publish_forms
from fangpin.reports.forms import PrivacyError, scan_public_workbook
from fangpin.reports.xlsx import Book, Col
from warehouse import forms as wf
from warehouse.engine import connect

OUT = Path("out") / "forms" / "2026-10-09"
COUNTY = "融水苗族自治县"


def sheet_rows(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    h = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    return [dict(zip(rows[h], r)) for r in rows[h + 1 :] if r and r[0] is not None]


def registry_city() -> list[dict]:
    """M1 monitored; E1 eliminated 3 months ago; E0 eliminated in 2023; N1 not monitored; S1 monitored in 三江."""
    return (
        household("M1", identified_month="202501")
        + household(
            "E1",
            clean_members("李"),
            risk_eliminated="是",
            identified_month="202409",
            eliminated_month="202607",
            income=12000.0,
        )
        + household(
            "E0",
            clean_members("黄"),
            risk_eliminated="是",
            identified_month="202201",
            eliminated_month="202301",
            income=15000.0,
        )
        + household(
            "N1",
            clean_members("蓝"),
            monitoring_category=None,
            risk_eliminated=None,
            identified_month=None,
            income=20000.0,
        )
        + household("S1", clean_members("杨"), village_code="450226100201", identified_month="202603")
    )


# ------------------------------------------------------------------------------------------ roster: registry fallback


def test_roster_from_registry_fallback(tmp_path):
    home = tmp_path / "home"
    with connect(tmp_path / "w.duckdb") as con:
        rows = registry_city()
        insert_registry(con, rows)
        insert_villages(con, [(VILLAGE, "大坪村")])
        # a property-search hit (vehicle) linked to M1's head
        con.execute(
            "INSERT INTO dept_record (source, source_file, source_row, file_hash, name, id_number, property_type) "
            "VALUES ('property', '财产检索.xlsx', 3, 'p', '韦建国', ?, '小型汽车')",
            [rows[0]["id_number"]],
        )
        con.execute(
            "INSERT INTO link VALUES ('property', '财产检索.xlsx', 3, ?, 'M1', 'id_exact', 1.0, NULL, 1)",
            [rows[0]["id_number"]],
        )
        assert wf.roster_source(con) == "registry"
        out = publish_forms(con, home, AS_OF)
        left = con.sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '\\_form\\_%' ESCAPE '\\' "
            "OR table_name = '_roster_src'"
        ).fetchall()[0][0]
    assert left == 0, "TEMP tables are dropped after publishing"
    assert out["roster_source"] == "registry"
    assert out["dir"] == home / OUT
    names = sorted(str(p.relative_to(home / OUT)) for p in out["files"])
    assert names == sorted(
        [
            f"{COUNTY}/防止返贫监测和帮扶对象名册_{COUNTY}.xlsx",
            f"{COUNTY}/防贫监测对象帮扶情况一览表_{COUNTY}_和睦镇.xlsx",
            f"{COUNTY}/村级档案清单_{COUNTY}_和睦镇.xlsx",
            "三江侗族自治县/防止返贫监测和帮扶对象名册_三江侗族自治县.xlsx",
            "三江侗族自治县/防贫监测对象帮扶情况一览表_三江侗族自治县_古宜镇.xlsx",
            "三江侗族自治县/村级档案清单_三江侗族自治县_古宜镇.xlsx",
        ]
    )

    wb = openpyxl.load_workbook(home / OUT / COUNTY / f"防止返贫监测和帮扶对象名册_{COUNTY}.xlsx")
    assert wb.sheetnames == ["监测对象名册", "家庭成员"]
    ws = wb["监测对象名册"]
    assert ws.freeze_panes and ws.auto_filter.ref
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    roster = {r["户编号"]: r for r in sheet_rows(ws)}
    assert set(roster) == {"M1", "E1", "E0"}  # only this county's monitored households; N1 is not monitored
    m1 = roster["M1"]
    assert m1["识别监测时间"] == "202501" and m1["风险是否已消除"] == "否" and m1["消除监测时间"] is None
    assert m1["户主姓名"] == "韦建国" and m1["家庭人口数"] == 3 and m1["监测对象类别"] == "边缘易致贫户"
    assert re.fullmatch(r"\d{17}[\dX]", m1["户主证件号码"]), "the internal roster keeps the full ID"
    assert m1["数据来源"] == "户籍系统" and m1["行政村"] == "大坪村" and m1["乡(镇)"] == "和睦镇"
    assert roster["E1"]["风险是否已消除"] == "是" and roster["E1"]["消除监测时间"] == "202607"
    members = sheet_rows(wb["家庭成员"])
    assert len(members) == 9 and {m["户编号"] for m in members} == {"M1", "E1", "E0"}
    assert [m["与户主关系"] for m in members if m["户编号"] == "M1"] == ["户主", "配偶", "之子"]
    header = [c.value for c in next(r for r in wb["家庭成员"].iter_rows() if r[0].value == "序号")]
    assert "健康状况" not in header and not any("健康" in (h or "") for h in header)

    wall = openpyxl.load_workbook(home / OUT / COUNTY / f"防贫监测对象帮扶情况一览表_{COUNTY}_和睦镇.xlsx")
    assert wall.sheetnames == ["大坪村"]
    rows = sheet_rows(wall["大坪村"])
    # E0 was eliminated more than 12 months ago: on the roster, not on the wall
    assert [(r["户主姓名"], r["风险消除情况"]) for r in rows] == [
        ("韦建国", "未消除"),
        ("李韦建国", "已消除（2026年07月）"),
    ]
    assert rows[0]["识别监测时间"] == "2025年01月"

    archive = openpyxl.load_workbook(home / OUT / COUNTY / f"村级档案清单_{COUNTY}_和睦镇.xlsx")
    assert archive.sheetnames == ["大坪村", "村级材料"]
    arch = {r["户编号"]: r for r in sheet_rows(archive["大坪村"])}
    assert list(arch) == ["M1", "E0", "E1"]  # monitored first, then by identification
    assert arch["M1"]["财产检索记录"] == "已有记录" and "财产检索命中1条" in arch["M1"]["系统提示"]
    assert arch["E1"]["财产检索记录"] == "应存档"
    assert arch["E1"]["风险消除材料（五步程序）"] == "应存档" and "消除监测时间2026年07月" in arch["E1"]["系统提示"]
    assert arch["M1"]["走访记录（每季度）"] == "待补" and "系统无走访记录" in arch["M1"]["系统提示"]
    assert arch["M1"]["帮扶计划（含帮扶责任人）"] == "待补"  # the registry knows no helper


# ------------------------------------------------------------------------------------------ roster: monitoring_roster


def test_roster_from_monitoring_roster_table(tmp_path):
    home = tmp_path / "home"
    with connect(tmp_path / "w.duckdb") as con:
        insert_registry(
            con,
            registry_city()
            + household(
                "F1",
                clean_members("韦"),
                monitoring_category=None,
                risk_eliminated=None,
                identified_month=None,
                income=7000.0,
            ),
        )
        create_monitoring_roster(
            con,
            [
                {
                    "household_id": "M1",
                    "county_code": "450225",
                    "township_code": "450225101",
                    "village_code": VILLAGE,
                    "head_name": "韦建国",
                    "household_size": 3,
                    "category": "边缘易致贫户",
                    "risk_types": ["因务工就业不稳", "因自然灾害", "因安全住房", "因学", "其他", "缺劳动力"],
                    "identified_on": D(2025, 1, 15),
                    "helper_name": "覃帮扶",
                    "measures": ["就业帮扶：技能培训", "产业帮扶"],
                    "last_visit": D(2026, 10, 2),
                    "status": "monitored",
                    "source": "registry",
                },
                # a household the county added after verification (the registry does not mark it yet)
                {
                    "household_id": "F1",
                    "county_code": "450225",
                    "township_code": "450225101",
                    "village_code": VILLAGE,
                    "household_size": 3,
                    "category": "边缘易致贫户",
                    "risk_types": ["因自然灾害"],
                    "identified_on": D(2026, 9, 20),
                    "helper_name": None,
                    "measures": [],
                    "last_visit": D(2026, 6, 30),
                    "status": "monitored",
                    "source": "feedback",
                },
            ],
        )
        assert wf.roster_source(con) == "monitoring_roster"
        out = publish_forms(con, home, AS_OF)
    assert out["roster_source"] == "monitoring_roster"
    wb = openpyxl.load_workbook(home / OUT / COUNTY / f"防止返贫监测和帮扶对象名册_{COUNTY}.xlsx")
    roster = {r["户编号"]: r for r in sheet_rows(wb["监测对象名册"])}
    # the view decides who is on the roster: E1/E0 are registry-monitored but not in it
    assert set(roster) == {"M1", "F1"}
    m1 = roster["M1"]
    assert [m1[f"致贫/返贫风险{i}"] for i in range(1, 6)] == [
        "因务工就业不稳",
        "因自然灾害",
        "因安全住房",
        "因学",
        "其他",
    ]
    assert m1["帮扶责任人"] == "覃帮扶" and m1["帮扶措施"] == "就业帮扶：技能培训；产业帮扶"
    assert m1["识别监测时间"] == "202501" and m1["最近走访日期"].date() == D(2026, 10, 2)
    f1 = roster["F1"]
    assert f1["数据来源"] == "核实反馈" and f1["户主姓名"] == "韦韦建国", (
        "head name from the registry when the view lacks it"
    )
    assert f1["户类型"] == "一般农户" and re.fullmatch(r"\d{17}[\dX]", f1["户主证件号码"])
    assert not (home / OUT / "三江侗族自治县").exists(), "no roster household in 三江 → no 三江 forms"

    archive = openpyxl.load_workbook(home / OUT / COUNTY / f"村级档案清单_{COUNTY}_和睦镇.xlsx")
    assert archive.sheetnames == ["村201", "村级材料"]
    ws = archive["村201"]
    rows = {r["户编号"]: r for r in sheet_rows(ws)}
    assert list(rows) == ["M1", "F1"]
    m1, f1 = rows["M1"], rows["F1"]
    assert m1["走访记录（每季度）"] == "已有记录" and "本季度已走访（最近2026-10-02）" in m1["系统提示"]
    assert f1["走访记录（每季度）"] == "待补" and "本季度尚无走访（最近2026-06-30）" in f1["系统提示"]
    assert m1["帮扶计划（含帮扶责任人）"] == "已有记录" and "帮扶责任人：覃帮扶" in m1["系统提示"]
    assert f1["帮扶计划（含帮扶责任人）"] == "待补" and "系统无帮扶责任人" in f1["系统提示"]
    assert m1["帮扶措施台账"] == "已有记录" and "已录入2项帮扶措施" in m1["系统提示"]
    assert m1["风险消除材料（五步程序）"] == "不适用" and m1["监测状态"] == "监测中"
    assert f1["农户申请书及承诺授权书"] == "应存档" and f1["识别监测时间"] == "202609"
    assert m1["核对人（填写）"] is None
    assert ws.freeze_panes and ws.auto_filter.ref and ws.page_setup.orientation == "landscape"
    village = sheet_rows(archive["村级材料"])
    assert [(r["档案材料"], r["状态"]) for r in village][-2:] == [
        ("防贫监测对象帮扶情况一览表（上墙）", "已生成"),
        ("防止返贫监测和帮扶对象名册（本村部分）", "已生成"),
    ]
    assert all(r["行政村"] == "村201" and r["监测对象户数"] == 2 for r in village)


def test_roster_view_with_only_the_required_columns(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        insert_registry(con, registry_city())
        con.execute(
            "CREATE VIEW monitoring_roster AS SELECT 'M1' AS household_id, 'monitored' AS status, "
            "'因病、因学' AS risk_types, '健康帮扶，产业帮扶' AS measures"
        )
        built = wf.build_forms(con, AS_OF)
        roster = con.sql(
            "SELECT household_id, county_code, head_name, household_size, category, risk_types, measures, "
            "identified_on FROM _form_roster"
        ).fetchall()
        wall = con.sql("SELECT risk_text, measure_text FROM _form_wall").fetchall()
        wf.drop_temps(con)
    assert built["roster_source"] == "monitoring_roster"
    assert roster == [("M1", "450225", "韦建国", 3, "边缘易致贫户", ["因病", "因学"], ["健康帮扶", "产业帮扶"], None)]
    assert wall == [("因学、其他困难", "产业帮扶、综合帮扶")]


# ------------------------------------------------------------------------------------------ the wall table is masked

ID_RX = re.compile(r"\d{15,}|\d{14}[\dXx]|\d{17}[Xx]")
PHONE_RX = re.compile(r"1[3-9]\d{9}")
HEALTH_WORDS = (
    "大病",
    "慢性病",
    "慢病",
    "残疾",
    "残",
    "病",
    "住院",
    "门诊",
    "诊断",
    "医疗",
    "医保",
    "医院",
    "健康帮扶",
    "透析",
    "肿瘤",
    "癌",
    "尿毒症",
    "白血病",
    "脑出血",
    "心肌梗死",
    "骨折",
    "手术",
    "药",
    "康复",
    "患有",
)
MONEY_RX = re.compile(r"\d+(\.\d+)?\s*(元|万)|[￥¥]")


def leaky_city(con, with_view: bool) -> dict:
    """Registry rows and (optionally) a roster full of things that must not reach a wall."""
    ill = [
        member(
            "王大明",
            "户主",
            "男",
            D(1970, 1, 1),
            health="患有大病",
            labour="丧失劳动力",
            phone="13812345678",
            bank_account="6228480402564890018",
        ),
        member(
            "覃秀英",
            "配偶",
            "女",
            D(1972, 2, 2),
            health="长期慢性病",
            labour="弱劳动力或半劳动力",
            phone="139 1234 5678",
        ),
        member("王小红", "之女", "女", D(2000, 3, 3), health="残疾", labour="无劳动力"),
    ]
    rows = household("ILL", ill, identified_month="202604")
    rows += household(
        "ODD",
        [member("张三13812345678", "户主", "男", D(1980, 1, 1)), member("李四（残疾）", "配偶", "女", D(1981, 1, 1))],
        identified_month="202605",
    )
    insert_registry(con, rows)
    ids = [r["id_number"] for r in rows]
    # a medical record with diagnosis and amounts, linked to the head
    con.execute(
        "INSERT INTO dept_record (source, source_file, source_row, file_hash, name, id_number, settle_date, "
        "institution, total_cost, out_of_pocket, visit_type, diagnosis) VALUES ('medical', '医保.xlsx', 3, 'm', "
        "'王大明', ?, DATE '2026-05-01', '柳州市工人医院', 86000, 23456.78, '住院', '恶性肿瘤（肺癌）')",
        [ids[0]],
    )
    con.execute("INSERT INTO link VALUES ('medical', '医保.xlsx', 3, ?, 'ILL', 'id_exact', 1.0, NULL, 1)", [ids[0]])
    if with_view:
        create_monitoring_roster(
            con,
            [
                {
                    "household_id": "ILL",
                    "status": "monitored",
                    "category": "边缘易致贫户",
                    "risk_types": ["因病", "因残", "因务工就业不稳", "因病致贫（肺癌）"],
                    "identified_on": D(2026, 4, 20),
                    "helper_name": "李帮扶 138-1234-5678（村医）",
                    "measures": [
                        "健康帮扶：医疗救助3200元",
                        "产业帮扶：养牛",
                        "联系电话13912345678",
                        "就业帮扶：技能培训",
                        "残疾人补贴",
                        "家庭医生签约服务",
                        "大病保险报销",
                        "综合保障：低保",
                    ],
                    "last_visit": D(2026, 9, 1),
                    "source": "feedback",
                    "phone": "13812345678",
                    "id_number": ids[0],
                    "bank_account": "6228480402564890018",
                    "health": "患有大病",
                    "diagnosis": "恶性肿瘤（肺癌）",
                    "medical_cost": 23456.78,
                },
                {
                    "household_id": "ODD",
                    "status": "monitored",
                    "category": "突发严重困难户 13812345678",
                    "risk_types": ["因自然灾害"],
                    "identified_on": D(2026, 5, 2),
                    "helper_name": "王医生",
                    "measures": ["住房安全保障：危房改造补助20000元"],
                    "source": "feedback",
                },
            ],
            extra_columns={
                "phone": "VARCHAR",
                "id_number": "VARCHAR",
                "bank_account": "VARCHAR",
                "health": "VARCHAR",
                "diagnosis": "VARCHAR",
                "medical_cost": "DOUBLE",
            },
        )
    return {"ids": ids}


def all_text(path: Path) -> list[tuple[str, str]]:
    """(where, text) for every cell, sheet name and raw XML text node of a workbook."""
    out = []
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        out.append((f"sheet {ws.title}", ws.title))
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    out.append((f"{ws.title}!{c.coordinate}", str(c.value)))
        out.append((f"{ws.title} header/footer", f"{ws.oddHeader.center.text or ''} {ws.oddFooter.center.text or ''}"))
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(".xml"):
                xml = zf.read(name).decode("utf-8")
                out += [(name, t) for t in re.findall(r">([^<>]+)<", xml)]
    return out


@pytest.mark.parametrize("with_view", [False, True], ids=["registry_fallback", "monitoring_roster"])
def test_wall_table_carries_no_id_phone_bank_health_or_amount(tmp_path, with_view):
    home = tmp_path / "home"
    with connect(tmp_path / "w.duckdb") as con:
        planted = leaky_city(con, with_view)
        out = publish_forms(con, home, AS_OF)
    walls = [p for p in out["files"] if p.name.startswith("防贫监测对象帮扶情况一览表")]
    assert len(walls) == 1 and out["scanned_public_files"] == 1
    texts = all_text(walls[0])
    joined = "\n".join(t for _, t in texts)
    for where, text in texts:
        compact = re.sub(r"(?<=\d)[\s\-－]+(?=\d)", "", text)
        assert not ID_RX.search(compact), f"ID-like number at {where}"
        assert not PHONE_RX.search(compact), f"phone number at {where}"
        assert not MONEY_RX.search(text), f"amount at {where}"
        for w in HEALTH_WORDS:
            assert w not in text, f"health word {w!r} at {where}"
    for idn in planted["ids"]:
        assert idn not in joined and idn[-4:] + "\n" not in joined
    assert "6228480402564890018" not in joined and "肺癌" not in joined and "23456" not in joined
    assert scan_public_workbook(walls[0]) == []

    # the wall still says what it must
    rows = sheet_rows(openpyxl.load_workbook(walls[0]).worksheets[0])
    by_head = {r["户主姓名"]: r for r in rows}
    assert set(by_head) == {"王大明", "张三"}
    assert by_head["王大明"]["家庭人口数"] == 3 and by_head["王大明"]["监测对象类别"] == "边缘易致贫户"
    if with_view:
        assert by_head["王大明"]["风险类型"] == "因务工就业不稳、其他困难"
        assert by_head["王大明"]["帮扶措施"] == "产业帮扶、就业帮扶、综合保障、综合帮扶"
        assert by_head["王大明"]["帮扶责任人"] == "李帮扶"
        assert by_head["张三"]["监测对象类别"] == "待核实" and by_head["张三"]["帮扶措施"] == "住房安全保障"
        assert by_head["张三"]["帮扶责任人"] == "（已隐去）", "a helper recorded as 王医生 is blanked, not published"
        assert out["counts"]["wall_cells_masked"] == 1
    else:
        assert by_head["王大明"]["风险类型"] is None and by_head["王大明"]["帮扶措施"] is None
        assert out["counts"]["wall_cells_masked"] == 0
    # the internal roster of the same run does carry the full ID: the test data had IDs to leak
    roster = next(p for p in out["files"] if p.name.startswith("防止返贫监测和帮扶对象名册"))
    assert planted["ids"][0] in "\n".join(t for _, t in all_text(roster))


def test_a_leak_the_masking_cannot_catch_stops_the_publication(tmp_path):
    """The last line of defence: the written wall workbooks are scanned before anything is published."""
    home = tmp_path / "home"
    with connect(tmp_path / "w.duckdb") as con:
        insert_registry(con, household("M1"))
        insert_villages(con, [(VILLAGE, "大坪村")])
        first = publish_forms(con, home, AS_OF)
        con.execute("UPDATE village SET village = '大坪村（联系13812345678）' WHERE village_code = ?", [VILLAGE])
        with pytest.raises(PrivacyError) as err:
            publish_forms(con, home, AS_OF)
        left = con.sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '\\_form\\_%' ESCAPE '\\'"
        ).fetchall()[0][0]
    assert "手机号码" in str(err.value) and "13812345678" not in str(err.value), "says where and what, never the value"
    assert left == 0
    assert sorted(p.name for p in (home / "out" / "forms").iterdir()) == ["2026-10-09"], "no partial folder left"
    assert all(p.exists() for p in first["files"]), "the previous set of forms stays in place"


def test_scanner_finds_what_it_must(tmp_path):
    path = tmp_path / "x.xlsx"
    cols = [Col("序号", "seq", 6, "int"), Col("户主姓名", "name"), Col("说明", "text")]
    rows = [
        {"seq": 1, "name": "甲", "text": "身份证 450225 19860501 1234"},
        {"seq": 2, "name": "乙", "text": "电话139-1234-5678"},
        {"seq": 3, "name": "丙", "text": "住院自付3200元"},
        {"seq": 4, "name": "丁", "text": "产业帮扶"},
        {"seq": 5, "name": "戊", "text": 13812345678},
    ]
    with Book(path) as book:
        book.table("百药村", cols, rows, title="百药村一览表")
    kinds = {(f.where.split("!")[-1][0], f.kind) for f in scan_public_workbook(path)}
    assert ("C", "证件号码或银行账号（15位以上数字）") in kinds
    assert ("C", "手机号码") in kinds
    assert ("C", "金额") in kinds and ("C", "健康信息") in kinds
    assert {f.where.split("!")[0] for f in scan_public_workbook(path) if "!" in f.where} == {"第1个工作表"}
    # table cells are inline strings in the sheet part (fangpin.reports.xlsx), titles are shared strings
    assert any(f.where == "xl/worksheets/sheet1.xml" for f in scan_public_workbook(path)), "raw parts are scanned too"
    found_rows = {int(f.where.split("!")[-1][1:]) for f in scan_public_workbook(path) if "!" in f.where}
    assert found_rows == {3, 4, 5, 7}, "row 6 (产业帮扶) is clean; the title and sheet name 百药村 are division names"


def test_rerun_replaces_the_set_and_names_are_sanitised(tmp_path):
    home = tmp_path / "home"
    with connect(tmp_path / "w.duckdb") as con:
        insert_registry(con, household("M1") + household("M2", clean_members("李"), village_code="450225101202"))
        insert_villages(con, [(VILLAGE, "大坪村"), ("450225101202", "../大坪村")])
        con.execute("UPDATE registry_person SET township = '../和睦镇'")
        con.execute("UPDATE village SET township = '../和睦镇'")
        first = publish_forms(con, home, AS_OF)
        walls = [p for p in first["files"] if p.name.startswith("防贫监测对象帮扶情况一览表")]
        assert len(walls) == 1 and ".." not in walls[0].name and walls[0].name.endswith("_和睦镇.xlsx")
        assert all(p.resolve().is_relative_to((home / OUT).resolve()) for p in first["files"])
        assert openpyxl.load_workbook(walls[0]).sheetnames == ["大坪村", ".._大坪村"]
        con.execute("DELETE FROM registry_person WHERE household_id = 'M2'")
        con.execute(
            "UPDATE registry_person SET monitoring_category = NULL, risk_eliminated = NULL, identified_month = NULL"
        )
        second = publish_forms(con, home, AS_OF)
    assert second["files"] == [] and second["counts"]["form_roster"] == 0
    assert list((home / OUT).iterdir()) == [], "forms of households no longer on the roster are gone"
