"""Builds the fault corpus: small real-world faulty department drops, one file per fault.

    .venv/bin/python tests/fault_corpus/build.py      # rewrites tests/fault_corpus/files/

The files are committed (the tests read the committed bytes, not this script's output); this script documents how each
was made and regenerates them deterministically. Expected outcomes are hand-written in ``expectations.yaml``.
ID numbers are synthetic (valid checksums, Liuzhou county codes); names are common, not real people.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import random
import struct
from pathlib import Path

import xlsxwriter

from fangpin.domain.idnumber import make_id

OUT = Path(__file__).resolve().parent / "files"
CREATED = dt.datetime(2026, 4, 1, 9, 0, 0)

# Synthetic people: (name, id) — ids valid, Liuzhou county codes (450225 融水, 450222 柳城, 450223 鹿寨, 450226 三江)
P = [
    ("张三", make_id("450225", dt.date(1980, 5, 6), 123)),
    ("李四", make_id("450222", dt.date(1975, 1, 2), 456)),
    ("王五", make_id("450223", dt.date(1962, 11, 30), 17)),
    ("赵六", make_id("450226", dt.date(1990, 7, 15), 302)),
    ("韦秀英", make_id("450225", dt.date(1958, 3, 9), 88)),
    ("覃建华", make_id("450222", dt.date(1969, 12, 1), 211)),
    ("杨·阿妹", make_id("450226", dt.date(1985, 2, 28), 64)),
    ("吴国强", make_id("450223", dt.date(1972, 8, 18), 999)),
]
X_ID = next(
    make_id("450225", dt.date(1966, 6, 6), s)
    for s in range(1, 999)
    if make_id("450225", dt.date(1966, 6, 6), s).endswith("X")
)


def _w(rel: str, data: bytes) -> None:
    p = OUT / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def _csv(rows: list[list[object]], sep: str = ",", eol: str = "\n") -> str:
    out = []
    for r in rows:
        cells = []
        for v in r:
            s = "" if v is None else str(v)
            if sep in s or '"' in s or "\n" in s:
                s = '"' + s.replace('"', '""') + '"'
            cells.append(s)
        out.append(sep.join(cells))
    return eol.join(out) + eol


def _xlsx(build) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"created": CREATED, "author": "fangpin fault corpus"})
    build(wb)
    wb.close()
    return buf.getvalue()


MED_HEAD = [
    "姓名",
    "身份证号",
    "参保地",
    "结算日期",
    "医疗机构",
    "医疗总费用",
    "统筹支付",
    "大病保险支付",
    "医疗救助支付",
    "个人自付",
    "就诊类型",
]


def build() -> None:
    # 01 GBK CSV with title row, blank row, 合计 row and a 制表人 footer; header aliases of another export
    rows = [
        ["柳州市医疗保障局 2026年第一季度住院结算明细"],
        [],
        [
            "序号",
            "参保人姓名",
            "公民身份号码",
            "参保人所属乡镇",
            "出院日期",
            "医疗机构名称",
            "医疗总费用（元）",
            "基本医保支付",
            "个人负担（元）",
            "医疗类别",
        ],
        [1, P[0][0], P[0][1], "三防镇", "2026-01-12", "融水苗族自治县人民医院", "12,000.00", "8000", "4000", "住院"],
        [2, P[1][0], P[1][1], "大埔镇", "2026-02-03", "柳城县人民医院", "3500", "2500", "1000", "门诊特殊慢性病"],
        [3, P[2][0], P[2][1], "雒容镇", "2026-02-20", "鹿寨县人民医院", "800", "600", "200", "住院"],
        [4, P[3][0], P[3][1], "古宜镇", "2026-03-28", "三江侗族自治县人民医院", "25000", "15000", "10000", "住院"],
        ["合计", "", "", "", "", "", "41,300.00", "26100", "15200", ""],
        ["制表人：韦某某    审核人：覃某某"],
    ]
    _w("medical/01_gbk_title_total.csv", _csv(rows).encode("gbk"))

    # 02 UTF-8 with BOM, CRLF line ends, trailing empty column
    rows = [MED_HEAD + [""]] + [
        [
            P[i][0],
            P[i][1],
            "三防镇",
            f"2026-03-{i + 1:02d}",
            "融水苗族自治县人民医院",
            1000 + i,
            600,
            100,
            50,
            250 + i,
            "住院",
            "",
        ]
        for i in range(5)
    ]
    _w("medical/02_utf8_bom_crlf.csv", codecs.BOM_UTF8 + _csv(rows, eol="\r\n").encode("utf-8"))

    # 03 GB18030-only characters in names (䶮, 𠮷 are not in GBK)
    rows = [
        MED_HEAD,
        ["刘䶮", P[4][1], "三防镇", "2026-03-01", "融水苗族自治县人民医院", 500, 300, 0, 0, 200, "住院"],
        ["𠮷祥", P[5][1], "大埔镇", "2026-03-02", "柳城县人民医院", 600, 300, 0, 0, 300, "住院"],
        [P[6][0], P[6][1], "古宜镇", "2026-03-03", "三江侗族自治县人民医院", 700, 300, 0, 0, 400, "住院"],
    ]
    _w("medical/03_gb18030_rare_names.csv", _csv(rows).encode("gb18030"))

    # 04 mojibake: UTF-8 bytes opened as GBK and saved again as UTF-8
    rows = [MED_HEAD] + [
        [P[i][0], P[i][1], "三防镇", "2026-03-01", "融水苗族自治县人民医院", 100, 50, 0, 0, 50, "住院"]
        for i in range(3)
    ]
    _w("medical/04_mojibake.csv", _csv(rows).encode("utf-8").decode("gbk", errors="replace").encode("utf-8"))

    # 05 XLSX: merged title, a date line, header with full-width units, 小计 per township, blank rows, 合计, date cells
    def b05(wb):
        ws = wb.add_worksheet("结算明细")
        bold = wb.add_format({"bold": True})
        datef = wb.add_format({"num_format": "yyyy-mm-dd"})
        ws.merge_range(0, 0, 0, 7, "柳州市医保局 住院费用结算明细表", bold)
        ws.write(1, 0, "统计时间：2026年1月1日至2026年3月31日")
        ws.write_row(
            2,
            0,
            [
                "姓名",
                "身份证号码",
                "乡镇",
                "结算日期",
                "医疗机构",
                "医疗总费用（元）",
                "统筹支付（元）",
                "个人自付（元）",
            ],
            bold,
        )
        r = 3
        for grp in ([0, 4], [1, 5]):
            sub = 0.0
            for i in grp:
                ws.write_string(r, 0, P[i][0])
                ws.write_string(r, 1, P[i][1])
                ws.write_string(r, 2, "三防镇" if i in (0, 4) else "大埔镇")
                ws.write_datetime(r, 3, dt.datetime(2026, 2, 10 + i), datef)
                ws.write_string(r, 4, "融水苗族自治县人民医院")
                ws.write_number(r, 5, 3000 + i)
                ws.write_number(r, 6, 2000)
                ws.write_number(r, 7, 1000 + i)
                sub += 1000 + i
                r += 1
            ws.write_string(r, 0, "小 计")
            ws.write_number(r, 7, sub)
            r += 1
            r += 1  # blank row
        ws.write_string(r, 0, "合计")
        ws.write_formula(r, 7, "=H6+H10", None, 2009)

    _w("medical/05_title_subtotals.xlsx", _xlsx(b05))

    # 06 XLSX: ID numbers as number cells and other spreadsheet damage
    def b06(wb):
        ws = wb.add_worksheet("Sheet1")
        ws.write_row(0, 0, ["姓名", "身份证号", "结算日期", "医疗机构", "个人自付"])
        cases = [
            (P[0][0], ("num", int(P[0][1]))),  # number cell: digits beyond 15 lost → mangled
            (P[1][0], ("str", "4.50222E+17")),  # text copied from a number cell → mangled
            (P[2][0], ("str", P[2][1] + ".0")),  # trailing .0 → mangled
            (P[3][0], ("str", f'="{P[3][1]}"')),  # Excel ="…" text trick → valid
            (P[4][0], ("str", "".join(chr(0xFF10 + int(c)) for c in P[4][1]))),  # full-width digits → valid
            (P[5][0], ("str", P[5][1][:6] + P[5][1][8:17])),  # 15-digit legacy number → converted15
            ("韦秀兰", ("str", X_ID.lower())),  # lower-case x → valid
            (P[7][0], ("str", P[7][1][:17])),  # 17 digits: the X was lost → mangled
        ]
        for r, (name, (kind, val)) in enumerate(cases, start=1):
            ws.write_string(r, 0, name)
            if kind == "num":
                ws.write_number(r, 1, val)
            else:
                ws.write_string(r, 1, val)
            ws.write_string(r, 2, "2026-03-10")
            ws.write_string(r, 3, "柳州市工人医院")
            ws.write_number(r, 4, 100 * r)

    _w("medical/06_numeric_ids.xlsx", _xlsx(b06))

    # 07 CSV: mixed date and amount formats; faulty rows
    rows = [
        ["姓名", "身份证号", "所属乡镇", "结算日期", "医疗机构", "医疗总费用", "个人自付"],
        [P[0][0], P[0][1], "三防镇", "2026-03-05", "A医院", "1,234.50", "1234.5元"],  # 2
        [P[1][0], P[1][1], "三防镇", "2026/3/5", "A医院", "￥2000", "５００"],  # 3
        [P[2][0], P[2][1], "三防镇", "2026.3.5", "A医院", "1.2万", "3000.00"],  # 4
        [P[3][0], P[3][1], "三防镇", "2026年3月5日", "A医院", "100", " 50 "],  # 5
        [P[4][0], P[4][1], "三防镇", "20260305", "A医院", "100", "50"],  # 6
        [P[5][0], P[5][1], "三防镇", "46086", "A医院", "100", "50"],  # 7 Excel serial
        [P[6][0], P[6][1], "三防镇", "2026-03-05 14:30:00", "A医院", "100", "50"],  # 8
        [P[7][0], P[7][1], "三防镇", "2026-13-45", "A医院", "100", "50"],  # 9 reject
        ["蓝桂芳", "", "三防镇", "2026-03-06", "A医院", "100", "abc"],  # 10 reject
        ["黄伟", "", "三防镇", "2026-03-06", "A医院", "100", "-20"],  # 11 reject
        ["", "", "三防镇", "2026-03-06", "A医院", "100", "20"],  # 12 reject
        ["莫小燕", "", "三防镇", "3/5/2026", "A医院", "100", "20"],  # 13 reject (ambiguous)
        ["潘志明", "", "三防镇", "", "A医院", "100", "20"],  # 14 reject (no date)
        ["石美玲", "", "三防镇", "1999-12-31", "A医院", "100", "20"],
    ]  # 15 reject (out of range)
    _w("medical/07_messy_values.csv", _csv(rows).encode("utf-8"))

    # 08 truncated XLSX (copy interrupted)
    def b08(wb):
        ws = wb.add_worksheet("明细")
        ws.write_row(0, 0, MED_HEAD)
        for r in range(1, 300):
            ws.write_row(
                r,
                0,
                [P[r % 8][0], P[r % 8][1], "三防镇", "2026-03-01", "融水苗族自治县人民医院", 100, 50, 0, 0, 50, "住院"],
            )

    full = _xlsx(b08)
    _w("medical/08_truncated.xlsx", full[: int(len(full) * 0.6)])

    # 09 password-protected XLSX: an OLE compound file holding EncryptionInfo / EncryptedPackage streams
    _w("medical/09_password.xlsx", _fake_encrypted_ooxml())

    # 10 binary garbage with an .xlsx name
    rnd = random.Random(20260401)
    _w("medical/10_garbage.xlsx", bytes(rnd.randrange(256) for _ in range(4096)))

    # 11 empty file
    _w("medical/11_empty.csv", b"")

    # 12 header only
    _w("medical/12_header_only.csv", _csv([MED_HEAD]).encode("utf-8"))

    # 13 no recognisable header (a meeting notice saved as CSV)
    _w(
        "medical/13_no_header.csv",
        "关于召开2026年第一季度防返贫监测工作会议的通知\n各县（区）医保局：\n定于4月8日上午9时召开会议，请准时参加。\n".encode(
            "gbk"
        ),
    )

    # 14 civil affairs extract dropped into the medical folder
    rows = [
        ["姓名", "身份证号码", "所属乡镇", "救助类型", "批准日期", "救助金额", "状态"],
        [P[0][0], P[0][1], "三防镇", "农村低保", "2026-02-01", 450, "新增"],
    ]
    _w("medical/14_civil_affairs_in_medical.csv", _csv(rows).encode("utf-8"))

    # 15 medical extract without any out-of-pocket column
    rows = [
        ["姓名", "身份证号", "参保地", "结算日期", "医疗机构", "医疗总费用", "统筹支付"],
        [P[0][0], P[0][1], "三防镇", "2026-03-01", "A医院", 1000, 800],
    ]
    _w("medical/15_missing_out_of_pocket.csv", _csv(rows).encode("utf-8"))

    # 16 formula-looking names (kept as text; neutralising outputs is the writers' job)
    rows = [
        MED_HEAD,
        ['=HYPERLINK("http://x","点击")', P[0][1], "三防镇", "2026-03-01", "A医院", 100, 50, 0, 0, 50, "住院"],
        ["+86张三", P[1][1], "三防镇", "2026-03-01", "A医院", 100, 50, 0, 0, 50, "住院"],
        ["@李四", P[2][1], "三防镇", "2026-03-01", "A医院", 100, 50, 0, 0, 50, "住院"],
        ["-王五", P[3][1], "三防镇", "2026-03-01", "A医院", 100, 50, 0, 0, 50, "住院"],
    ]
    _w("medical/16_formula_names.csv", _csv(rows).encode("utf-8"))

    # 17 Excel "Unicode text": UTF-16 LE with BOM, tab separated; damage synonyms
    rows = [
        [
            "户主姓名",
            "身份证号",
            "县(市、区)",
            "乡(镇)",
            "行政村",
            "灾害类型",
            "受灾日期",
            "房屋受损情况",
            "直接经济损失（元）",
        ],
        [P[0][0], "", "融水苗族自治县", "三防镇", "三防村", "暴雨洪涝", "2026-06-20", "全倒", "35000"],
        [P[4][0], "", "融水苗族自治县", "三防镇", "三防村", "洪涝", "2026-06-20", "严重受损", "12,000"],
        [P[5][0], P[5][1], "柳城县", "大埔镇", "大埔村", "滑坡", "2026-06-21", "一般损坏", "3000"],
    ]
    _w("disaster/17_unicode_text.txt", codecs.BOM_UTF16_LE + _csv(rows, sep="\t", eol="\r\n").encode("utf-16-le"))

    # 18 XLSX with the loss in 万元 (ten-thousand yuan)
    def b18(wb):
        ws = wb.add_worksheet("受灾户")
        ws.write_row(0, 0, ["户主", "县区", "乡镇", "村", "灾种", "受灾时间", "房屋受损程度", "直接经济损失（万元）"])
        ws.write_row(1, 0, [P[3][0], "三江侗族自治县", "古宜镇", "古宜村", "风雹", "2026年5月3日", "倒塌", 3.5])
        ws.write_row(2, 0, [P[6][0], "三江侗族自治县", "古宜镇", "古宜村", "风雹", "2026年5月3日", "无", 0.2])

    _w("disaster/18_wanyuan.xlsx", _xlsx(b18))

    # 19 semicolon-separated employment extract with event synonyms
    rows = [
        ["姓名", "公民身份号码", "户籍地", "事件类型", "登记日期", "原就业地", "原月收入"],
        [P[1][0], P[1][1], "广西柳州市柳城县大埔镇大埔村", "返乡回流", "2026-02-15", "广东省东莞市", "4,500"],
        [P[2][0], P[2][1], "广西柳州市鹿寨县雒容镇某某村", "失业", "2026-03-01", "柳州市", "3800元"],
    ]
    _w("employment/19_semicolon.csv", _csv(rows, sep=";").encode("utf-8"))

    # 20/21 two extracts with overlapping periods: the same 3 events in different formats
    ev = [(P[i], dt.date(2026, 3, 10 + i), f"医院{i}", 1000.5 + i) for i in range(6)]
    rows = [["姓名", "身份证号", "结算日期", "医疗机构", "个人自付"]] + [
        [p[0], p[1], f"{d.year}/{d.month}/{d.day}", inst, f"{oop:,.2f}"] for p, d, inst, oop in ev[:4]
    ]
    _w("medical/20_extract_jan_mar.csv", _csv(rows).encode("gbk"))

    def b21(wb):
        ws = wb.add_worksheet("明细")
        datef = wb.add_format({"num_format": "yyyy年m月d日"})
        ws.write_row(0, 0, ["参保人姓名", "证件号码", "出院日期", "定点医疗机构", "个人负担"])
        for r, (p, d, inst, oop) in enumerate(ev[1:], start=1):
            ws.write_string(r, 0, p[0])
            ws.write_string(r, 1, p[1])
            ws.write_datetime(r, 2, dt.datetime(d.year, d.month, d.day), datef)
            ws.write_string(r, 3, inst)
            ws.write_number(r, 4, oop)

    _w("medical/21_extract_mar_may.xlsx", _xlsx(b21))

    # 22 a web page saved with an .xls name (common "Excel export" of older systems)
    _w(
        "medical/22_html_disguised.xls",
        (
            "<html><head><meta charset='utf-8'></head><body><table><tr><td>姓名</td><td>身份证号</td></tr>"
            f"<tr><td>{P[0][0]}</td><td>{P[0][1]}</td></tr></table></body></html>"
        ).encode(),
    )

    # 23 two exports concatenated: first UTF-8, second GBK (with its own header line)
    part1 = _csv([MED_HEAD, [P[0][0], P[0][1], "三防镇", "2026-03-01", "A医院", 100, 50, 0, 0, 50, "住院"]]).encode(
        "utf-8"
    )
    part2 = _csv(
        [
            MED_HEAD,
            [P[1][0], P[1][1], "大埔镇", "2026-03-02", "B医院", 200, 50, 0, 0, 150, "住院"],
            [P[2][0], P[2][1], "雒容镇", "2026-03-03", "C医院", 300, 50, 0, 0, 250, "住院"],
        ]
    ).encode("gbk")
    _w("medical/23_mixed_encoding.csv", part1 + part2)

    # 24 a UTF-8 file with one damaged byte in one name
    good = _csv(
        [MED_HEAD] + [[P[i][0], P[i][1], "三防镇", "2026-03-01", "A医院", 100, 50, 0, 0, 50, "住院"] for i in range(4)]
    ).encode("utf-8")
    pos = good.index(P[2][0].encode("utf-8")) + 1
    _w("medical/24_damaged_utf8_line.csv", good[:pos] + b"\xff" + good[pos + 1 :])

    # 25 XLSX with a two-row header (a merged group header above the money columns)
    def b25(wb):
        ws = wb.add_worksheet("明细")
        center = wb.add_format({"align": "center", "bold": True})
        for c, h in enumerate(["姓名", "身份证号", "结算日期"]):
            ws.merge_range(0, c, 1, c, h, center)
        ws.merge_range(0, 3, 0, 5, "医疗费用（元）", center)
        ws.write_row(1, 3, ["总费用", "统筹支付", "个人自付"], center)
        for r in range(3):
            ws.write_row(2 + r, 0, [P[r][0], P[r][1], "2026-03-0%d" % (r + 1), 1000 + r, 600, 400 + r])

    _w("medical/25_two_row_header.xlsx", _xlsx(b25))

    # 26 CSV with a line break inside a quoted cell (diagnosis)
    rows = [
        ["姓名", "身份证号", "结算日期", "个人自付", "诊断"],
        [P[0][0], P[0][1], "2026-03-01", 100, "高血压\n2型糖尿病"],
        [P[1][0], P[1][1], "2026-03-02", 200, "肺炎"],
    ]
    _w("medical/26_multiline_cell.csv", _csv(rows).encode("utf-8"))

    # 27 XLSX whose first sheet is an instructions page
    def b27(wb):
        ws = wb.add_worksheet("填表说明")
        ws.write(0, 0, "填表说明：1. 每人每次结算一行；2. 金额单位为元。")
        ws2 = wb.add_worksheet("明细")
        ws2.write_row(0, 0, ["姓名", "身份证号", "结算日期", "个人自付"])
        ws2.write_row(1, 0, [P[0][0], P[0][1], "2026-03-01", 100])
        ws2.write_row(2, 0, [P[1][0], P[1][1], "2026-03-02", 200])

    _w("medical/27_instructions_sheet.xlsx", _xlsx(b27))

    # 28 registry persons: no 性别/出生日期/家庭人口数 columns; a damaged village code; a code-less household
    def b28(wb):
        ws = wb.add_worksheet("家庭成员")
        ws.write_row(
            0,
            0,
            [
                "户编号",
                "县(市、区)",
                "乡(镇)",
                "行政村",
                "行政村代码",
                "姓名",
                "证件号码",
                "与户主关系",
                "户类型",
                "监测对象类别",
                "风险是否已消除",
                "识别监测时间",
                "劳动技能",
                "健康状况",
                "人均纯收入（元）",
                "是否易地搬迁户",
            ],
        )
        data = [
            [
                "4502250001",
                "融水苗族自治县",
                "三防镇",
                "三防村",
                "450225105201",
                P[0][0],
                P[0][1],
                "户主",
                "脱贫户",
                "",
                "",
                "",
                "普通劳动力",
                "健康",
                "8,500",
                "否",
            ],
            [
                "4502250001",
                "融水苗族自治县",
                "三防镇",
                "三防村",
                "4.50225E+11",
                P[4][0],
                P[4][1],
                "配偶",
                "脱贫户",
                "",
                "",
                "",
                "弱劳动力或半劳动力",
                "长期慢性病",
                "8500",
                "否",
            ],
            [
                "4502250001",
                "融水苗族自治县",
                "三防镇",
                "三防村",
                "450225105201",
                "张小明",
                "",
                "之子",
                "脱贫户",
                "",
                "",
                "",
                "无劳动力",
                "健康",
                "8500",
                "否",
            ],
            [
                "4502220002",
                "柳城县",
                "大埔镇",
                "大埔村",
                "450222100201",
                P[1][0],
                P[1][1],
                "户主",
                "一般农户",
                "边缘易致贫户",
                "否",
                "2025年6月",
                "普通劳动力",
                "患有大病",
                "不详",
                "Y",
            ],
            [
                "",
                "柳城县",
                "大埔镇",
                "大埔村",
                "450222100201",
                P[5][0],
                P[5][1],
                "户主",
                "一般农户",
                "",
                "",
                "",
                "普通劳动力",
                "健康",
                "12000",
                "N",
            ],
            [
                "4502220003",
                "柳城县",
                "大埔镇",
                "大埔村",
                "",
                P[7][0],
                P[7][1],
                "户主",
                "一般农户",
                "",
                "",
                "",
                "普通劳动力",
                "健康",
                "9000",
                "否",
            ],
        ]
        for r, row in enumerate(data, start=1):
            ws.write_row(r, 0, row)

    _w("registry/28_persons.xlsx", _xlsx(b28))

    # 29 village table (file name contains 行政村)
    rows = [
        ["行政村代码", "行政村", "乡(镇)", "县(市、区)", "是否原深度贫困村", "是否易地搬迁安置社区"],
        ["450225105201", "三防村", "三防镇", "融水苗族自治县", "是", "否"],
        ["450222100201", "大埔村", "大埔镇", "柳城县", "否", "√"],
        ["45022210020", "错码村", "大埔镇", "柳城县", "否", "否"],
    ]
    _w("registry/29_行政村表.csv", _csv(rows).encode("utf-8"))

    # 30 civil affairs: an unquoted thousands comma shifts the columns of one row; status synonyms
    text = (
        "姓名,身份证号码,所属乡镇,救助类型,批准日期,救助金额,状态\n"
        f"{P[0][0]},{P[0][1]},三防镇,低保,2026-02-01,450,新批\n"
        f"{P[1][0]},{P[1][1]},大埔镇,临时救助,2026-02-03,1,200,新增\n"
        f"{P[2][0]},{P[2][1]},雒容镇,特困供养,2026-02-05,800,续发\n"
    )
    _w("civil_affairs/30_unquoted_comma.csv", text.encode("utf-8"))

    # 31 GBK bytes read as Western (Latin-1) text and saved again as UTF-8: "姓名" → "ÐÕÃû"
    rows = [MED_HEAD] + [
        [P[i][0], P[i][1], "三防镇", "2026-03-01", "A医院", 100, 50, 0, 0, 50, "住院"] for i in range(2)
    ]
    _w("medical/31_latin1_mojibake.csv", _csv(rows).encode("gbk").decode("latin-1").encode("utf-8"))

    # 32 Chinese lost to question marks (exported through an encoding without Chinese)
    _w("medical/32_question_marks.csv", _csv(rows).encode("ascii", errors="replace"))


def _fake_encrypted_ooxml() -> bytes:
    """A compound file (CFB v3) whose directory names the streams of an encrypted OOXML package."""
    header = bytearray(512)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)  # minor, major v3, byte order, sector 512, mini 64
    struct.pack_into("<IIIIIIII", header, 44, 1, 1, 0, 0x1000, 2, 1, 0xFFFFFFFE, 0)
    struct.pack_into("<I", header, 76, 0)  # first FAT sector = 0
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, 0xFFFFFFFF)
    fat = bytearray(b"\xff" * 512)
    struct.pack_into("<III", fat, 0, 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFE)
    directory = bytearray()
    for name, typ in (("Root Entry", 5), ("EncryptionInfo", 2), ("EncryptedPackage", 2), ("\x06DataSpaces", 1)):
        e = bytearray(128)
        enc = name.encode("utf-16-le") + b"\x00\x00"
        e[0 : len(enc)] = enc
        struct.pack_into("<HBB", e, 64, len(enc), typ, 1)
        struct.pack_into("<III", e, 68, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        directory += e
    payload = random.Random(9).randbytes(1024)
    return bytes(header) + bytes(fat) + bytes(directory) + payload


if __name__ == "__main__":
    build()
    print(f"wrote {sum(1 for p in OUT.rglob('*') if p.is_file())} files under {OUT}")
