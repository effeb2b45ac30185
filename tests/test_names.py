"""Chinese names: normalisation, traditional→simplified folding, pinyin keys, similarity (SPEC §5)."""

from __future__ import annotations

import polars as pl
import pytest

from fangpin.domain.names import (
    fold,
    name_key,
    name_key_expr,
    name_similarity,
    name_table,
    normalise,
    normalise_expr,
    pinyin_of,
    similarity_arrays,
    split_surname,
)


def test_normalise_unchanged():
    assert normalise(" 王 小明 ") == "王小明"
    assert normalise("杨•阿妹") == "杨·阿妹" and normalise("杨.阿妹") == "杨·阿妹" and normalise(None) == ""
    out = pl.DataFrame({"n": ["杨．阿妹", "Ｗａｎｇ 明"]}).select(normalise_expr(pl.col("n"))).to_series().to_list()
    assert out == ["杨·阿妹", "Wang明"]


@pytest.mark.parametrize(
    "raw,key",
    [
        ("陳曉明", "陈晓明"),
        ("黃麗華", "黄丽华"),
        ("鍾 偉", "钟伟"),
        ("杨·阿妹", "杨阿妹"),
        ("杨 阿妹", "杨阿妹"),
        ("杨．阿妹", "杨阿妹"),
        ("峯", "峰"),
        ("悅", "悦"),
        ("羣", "群"),
        ("王小明", "王小明"),
    ],
)
def test_name_key(raw, key):
    assert name_key(raw) == key


def test_name_key_expr_matches_scalar():
    names = ["陳曉明", " 杨·阿妹", "劉德華", "王小明", "覃 建華", None, ""]
    got = pl.DataFrame({"n": names}).select(name_key_expr(pl.col("n"))).to_series().to_list()
    assert got == [name_key(n) or None for n in names]


def test_every_traditional_name_character_of_the_generator_folds_back():
    from fangpin.synth import vocab

    assert {s: fold(t) for s, t in vocab.traditional_map().items()} == {s: s for s in vocab.traditional_map()}


def test_surnames_and_their_readings():
    assert split_surname("欧阳娜娜") == ("欧阳", "娜娜")
    assert split_surname("王小明") == ("王", "小明")
    assert pinyin_of("覃建华")[0] == "qin jian hua"  # 覃 as a surname is qin, not tan
    assert pinyin_of("单雄")[0] == "shan xiong"
    assert pinyin_of("曾小乐") == ("zeng xiao le", "zeng xiao yue")  # polyphonic given name: both readings kept


def test_homophones_of_the_generator_are_homophones():
    from fangpin.synth import vocab

    pairs = []
    for group in vocab.HOMOPHONE_GROUPS:
        members = list(dict.fromkeys(group))
        pairs += [("王" + a + "明", "王" + b + "明") for a in members for b in members if a != b]
    a, b = zip(*pairs)
    ka, kb = [name_key(x) for x in a], [name_key(x) for x in b]
    pa, pb = [pinyin_of(k) for k in ka], [pinyin_of(k) for k in kb]
    s = similarity_arrays(ka, kb, [p[0] for p in pa], [p[0] for p in pb], [p[1] for p in pa], [p[1] for p in pb])
    assert (s["syl_sim"] == 1.0).all()


def test_similarity():
    assert name_similarity("王小明", "王晓明") == 1.0  # homophone
    assert name_similarity("陳曉明", "陈晓明") == 1.0  # traditional
    assert name_similarity("王小明", "李四") == 0.0
    assert 0.6 < name_similarity("王小明", "王小敏") < 1.0
    assert name_similarity("", "王小明") == 0.0


def test_name_table_over_distinct_keys():
    t = name_table(["王小明", "王小明", "欧阳娜娜", None])
    assert t.height == 2
    row = t.filter(pl.col("name_key") == "欧阳娜娜").to_dicts()[0]
    assert row["surname"] == "欧阳" and row["surname_py"] == "ou yang" and row["n_chars"] == 4
