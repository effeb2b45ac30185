"""Value normalisation, ID columns, header matching and text decoding of the department-drop readers."""

from __future__ import annotations

import codecs
import datetime as dt
import random

import polars as pl
import pytest

from fangpin.domain import idnumber
from sources import normalise as nz
from sources.decode import decode_text, mojibake_reason, sniff
from sources.errors import UnreadableFile
from sources.ids import add_id_columns
from sources.spec import header_key, load_config


def _apply(kind, values):
    return nz.parse(kind, pl.Series(values, dtype=pl.String)).to_list()


def test_dates():
    d = dt.date(2026, 3, 5)
    ok = [
        "2026-03-05",
        "2026/3/5",
        "2026.3.5",
        "2026年3月5日",
        "2026 年 3 月 5 日",
        "20260305",
        "46086",
        "46086.75",
        "2026-03-05 00:00:00",
        "2026-3-5T10:00",
        "２０２６－０３－０５",
        "2026/03/05 8:30",
    ]
    assert _apply("date", ok) == [d] * len(ok)
    bad = ["2026-13-45", "2026-02-30", "3/5/2026", "26-3-5", "abc", "2026-03", "19999", "80001", None]
    assert _apply("date", bad) == [None] * len(bad)


def test_amounts():
    vals = [
        "1,234.50",
        "1234.5元",
        "￥1234",
        "¥ 1,234",
        "１２３４．５",
        "1.2万",
        "(12.50)",
        "-5",
        "RMB100",
        "100.00元整",
        "0",
        " 7 ",
        "abc",
        "1,2",
        "12,34.5",
        "1e5",
        "inf",
        None,
    ]
    assert _apply("amount", vals) == [
        1234.5,
        1234.5,
        1234.0,
        1234.0,
        1234.5,
        12000.0,
        -12.5,
        -5.0,
        100.0,
        100.0,
        0.0,
        7.0,
        None,
        None,
        None,
        None,
        None,
        None,
    ]


def test_ints_months_bools_sex_codes():
    assert _apply("int", ["3", "3.0", "３人", "2.5", "x"]) == [3, 3, 3, None, None]
    assert _apply("month", ["202403", "2024-03", "2024年3月", "2024/3", "2024-03-15", "45366", "202413", "x"]) == [
        "202403"
    ] * 6 + [None, None]
    assert _apply("bool", ["是", "否", "Y", "n", "1", "0", "√", "×", "也许"]) == [
        True,
        False,
        True,
        False,
        True,
        False,
        True,
        False,
        None,
    ]
    assert _apply("yesno", ["Y", "否", "不清楚"]) == ["是", "否", "不清楚"]
    assert _apply("sex", ["男", "女性", "1", "2", "?"]) == ["男", "女", "男", "女", None]
    assert _apply("code", ["450225105201.0", " 4502 2510 5201", "'450225105201", "４５０２"]) == [
        "450225105201",
        "450225105201",
        "450225105201",
        "4502",
    ]


def test_clean_cell():
    tokens = load_config().null_tokens
    df = nz.run(
        pl.DataFrame({"s": ["  a ", "\u3000", "NULL", "-", "/", '="0123"', "无", None]}),
        [nz.clean_cell_plan("s", "out", tokens)],
    )
    out = df["out"].to_list()
    assert out == ["a", None, None, None, None, "0123", "无", None]


def _id_cases() -> list[str | None]:
    rnd = random.Random(5)
    cases: list[str | None] = [
        None,
        "",
        "4.50222E+17",
        "450222199001011234.0",
        "45022219900101123",
        "45022219900101123X01",
    ]
    for _ in range(300):
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rnd.randrange(30000))
        good = idnumber.make_id(rnd.choice(["450225", "450222", "110101", "990101"]), birth, rnd.randrange(1000))
        kind = rnd.randrange(6)
        if kind == 0:
            cases.append(good)
        elif kind == 1:
            cases.append(good[:17] + str((int(good[17]) + 1) % 10) if good[17].isdigit() else good[:17] + "0")
        elif kind == 2:
            cases.append(idnumber.to_15(good))
        elif kind == 3:
            cases.append(good[:6] + "19991340" + good[14:])
        elif kind == 4:
            cases.append(" ".join([good[:6], good[6:14], good[14:]]).lower())
        else:
            cases.append(good + "11")  # 残疾人证
    return cases


def test_staged_id_columns_match_the_domain_rules():
    """add_id_columns (frame) agrees with; check it against the scalar idnumber.classify."""
    cases = _id_cases()
    df = add_id_columns(pl.DataFrame({"raw": cases}, schema={"raw": pl.String}), "raw")
    for raw, status, number, cand, birth, sex in df.select(
        "raw", "id_status", "id_number", "id_candidate", "id_birth_date", "id_sex"
    ).iter_rows():
        exp_status, exp_number = idnumber.classify(raw)
        assert (status, number) == (exp_status, exp_number), raw
        if number:
            assert cand == number and birth == idnumber.birth_date(number) and sex == idnumber.sex(number)
        if status in ("missing", "mangled", "bad_length"):
            assert cand is None and birth is None and sex is None


def test_header_matching_tolerates_widths_spaces_and_units():
    spec = load_config().feeds["disaster"]
    for h in (
        "直接经济损失（元）",
        "直接经济损失(元)",
        " 直接经济损失 ",
        "*直接经济损失（万元）",
        "直接经济损失【元】",
    ):
        assert spec.match(h)[0] == "direct_loss", h
    assert spec.match("户主姓名")[0] == "name"
    assert spec.match("备注")[0] is None
    assert header_key("县（市、区）") == "县(市、区)"
    reg = load_config().feeds["registry"]
    assert reg.match("县（市、区）")[0] == "county" and reg.match("乡(镇)")[0] == "township"


def test_every_feed_has_the_spec_minimum_aliases():
    cfg = load_config()
    minimum = {
        "registry": {
            "户编号",
            "县(市、区)",
            "乡(镇)",
            "行政村",
            "行政村代码",
            "姓名",
            "证件号码",
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "性别",
            "出生日期",
            "与户主关系",
            "户类型",
            "监测对象类别",
            "风险是否已消除",
            "识别监测时间",
            "消除监测时间",
            "劳动技能",
            "健康状况",
            "在校生状况",
            "享受低保政策情况",
            "享受特困供养政策情况",
            "人均纯收入（元）",
            "家庭年人均纯收入",
            "家庭人口数",
            "是否易地搬迁户",
            "安置点",
            "安置社区",
            "户籍是否迁出",
            "是否危房户",
            "是否解决安全饮用水",
        },
        "medical": {
            "姓名",
            "患者姓名",
            "参保人姓名",
            "参保地",
            "所属乡镇",
            "参保人所属乡镇",
            "结算日期",
            "出院日期",
            "医疗机构",
            "医疗总费用",
            "统筹支付",
            "基本医保支付",
            "大病保险支付",
            "医疗救助支付",
            "个人自付",
            "合规自付",
            "个人负担",
        },
        "disaster": {"户主姓名", "姓名", "受灾日期", "直接经济损失（元）"},
        "civil_affairs": {"所属乡镇", "批准日期", "审批日期", "救助金额"},
        "employment": {"户籍地", "登记日期", "原就业地", "原月收入"},
    }
    for feed, headers in minimum.items():
        spec = cfg.feeds[feed]
        for h in headers:
            assert spec.match(h)[0] is not None, (feed, h)
    assert cfg.feeds["registry_village"].match("是否原深度贫困村")[0] == "former_deep_poverty"


def test_decoding():
    text = "姓名,身份证号\n张三,1\n"
    assert decode_text(text.encode("utf-8")).encoding == "utf-8"
    assert decode_text(codecs.BOM_UTF8 + text.encode("utf-8")).encoding == "utf-8-sig"
    assert decode_text(text.encode("gbk")).encoding == "gbk"
    assert decode_text("姓名\n刘䶮\n".encode("gb18030")).encoding == "gb18030"
    assert decode_text(codecs.BOM_UTF16_LE + text.encode("utf-16-le")).text == text
    assert decode_text(text.encode("gbk")).text == text
    with pytest.raises(UnreadableFile) as e:
        decode_text(bytes(range(256)) * 20)
    assert e.value.code == "binary"


def test_sniff():
    assert sniff(b"") == "empty" and sniff(b"  \r\n") == "empty"
    assert sniff(b"<html><table>") == "html"
    assert sniff(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 100) == "ole"
    assert sniff(b"a,b\n1,2\n") == "text"


def test_mojibake_fingerprints():
    assert mojibake_reason("姓名,身份证号,结算日期") is None
    assert mojibake_reason("姓名,身份证号".encode().decode("gbk", "replace"))
    assert mojibake_reason("姓名,身份证号".encode("gbk").decode("latin-1"))
    assert mojibake_reason("锟斤拷锟斤拷,abc")
    assert mojibake_reason("??,????,???")
