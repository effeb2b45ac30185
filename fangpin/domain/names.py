"""Chinese personal names: normalisation (SPEC §5). Linkage keys and similarity build on this module.

``normalise`` / ``normalise_expr`` give the display form used everywhere: NFKC, no blanks, the middle dot of minority
names unified to '·'. Traditional→simplified folding and pinyin keys are added for matching.
"""

from __future__ import annotations

import unicodedata

import polars as pl

#: Characters people type for the middle dot of minority names (杨·阿妹 / 杨•阿妹 / 杨.阿妹 / 杨。阿妹 / 杨・阿妹).
DOTS = ("·", "•", ".", "．", "・", "‧", "∙", "。", "•", "⋅")


def normalise(name: object) -> str:
    if name is None:
        return ""
    s = unicodedata.normalize("NFKC", str(name))
    s = "".join(s.split())
    for d in DOTS:
        s = s.replace(d, "·")
    return s.strip("·")


def normalise_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised :func:`normalise` (NFKC via Polars' unicode normalisation)."""
    e = col.cast(pl.String).str.normalize("NFKC").str.replace_all(r"\s+", "")
    e = e.str.replace_all("[" + "".join(DOTS).replace(".", r"\.") + "]", "·")
    return e.str.strip_chars("·")


# ---------------------------------------------------------------------------------------------- matching keys
#
# ``name_key`` is the form names are compared on: the normalised name without the minority-name dot, with traditional
# characters folded to simplified ones character by character (OpenCC's TSCharacters table; a character that is
# its own simplified form stays as it is, so 乾/於 as surnames are kept). Character-level folding keeps the key
# consistent: the same character always folds the same way, whatever its neighbours.

import functools as _functools  # noqa: E402
from collections.abc import Iterable, Sequence  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

#: Compound surnames (复姓) that occur in the registry data; the rest take the first character as surname.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 令狐 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 东方 独孤 南宫 西门 轩辕 端木 百里 呼延 申屠 闻人 万俟 澹台 公冶 太史 钟离".split()
)

#: Surname readings that differ from the character's everyday reading (姓氏读音). 覃 is common in Guangxi.
SURNAME_PINYIN = {
    "覃": "qin",
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "盖": "ge",
    "乐": "yue",
    "缪": "miao",
    "翟": "zhai",
    "瞿": "qu",
    "召": "shao",
    "藏": "zang",
    "隗": "wei",
    "柏": "bai",
    "秘": "bi",
    "员": "yun",
    "种": "chong",
    "祭": "zhai",
    "繁": "po",
    "任": "ren",
    "燕": "yan",
    "纪": "ji",
    "阚": "kan",
    "尉": "yu",
    "宿": "su",
    "卜": "bu",
    "薄": "bo",
    "褚": "chu",
    "莘": "shen",
    "颉": "xie",
    "相": "xiang",
    "佴": "nai",
    "黑": "he",
    "都": "du",
    "沈": "shen",
    "石": "shi",
    "重": "chong",
    "长": "chang",
    "万": "wan",
    "尉迟": "yu chi",
    "万俟": "mo qi",
    "长孙": "zhang sun",
    "单于": "chan yu",
    "乜": "nie",
    "句": "gou",
    "能": "nai",
    "贲": "ben",
    "费": "fei",
    "华": "hua",
    "舍": "she",
    "冼": "xian",
    "蓝": "lan",
    "蒙": "meng",
    "莫": "mo",
    "韦": "wei",
    "廖": "liao",
    "粟": "su",
    "龙": "long",
    "那": "na",
}

_OPENCC_DIR = None


def _opencc_dictionary() -> _Path:
    import opencc  # opencc-python-reimplemented ships OpenCC's dictionaries

    return _Path(opencc.__file__).resolve().parent / "dictionary"


def _dict_lines(name: str) -> list[tuple[str, list[str]]]:
    path = _opencc_dictionary() / name
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and len(parts[0]) == 1:
            out.append((parts[0], parts[1].split()))
    return out


@_functools.lru_cache(maxsize=1)
def t2s_chars() -> dict[str, str]:
    """Traditional (and variant) character → simplified character, one character each.

    OpenCC's TSCharacters first; then STCharacters read backwards (峯→峰, 悅→悦, 羣→群, which TSCharacters lacks);
    then the Taiwan/Hong Kong variant tables. A character that is itself a simplified form is never folded away.
    """
    st = _dict_lines("STCharacters.txt")
    simplified = {s for s, _ in st}
    out: dict[str, str] = {}
    for src, cands in _dict_lines("TSCharacters.txt"):
        if cands and src not in cands and len(cands[0]) == 1:
            out[src] = cands[0]
    for simp, trads in st:
        for t in trads:
            if len(t) == 1 and t != simp and t not in simplified and t not in out:
                out[t] = simp
    for fname in ("TWVariantsRev.txt", "HKVariantsRev.txt"):
        for src, cands in _dict_lines(fname):
            if cands and src not in simplified and src not in out and len(cands[0]) == 1 and cands[0] != src:
                out[src] = out.get(cands[0], cands[0])
    return {k: v for k, v in out.items() if k != v}


def fold(text: str) -> str:
    """Traditional → simplified, character by character."""
    table = t2s_chars()
    return "".join(table.get(ch, ch) for ch in text)


def name_key(name: object) -> str:
    """The comparison key of a name: normalised, dots removed, traditional folded to simplified."""
    return fold(normalise(name).replace("·", ""))


def written_key_expr(col: pl.Expr) -> pl.Expr:
    """The name as written, for telling exact-character agreement from agreement after folding: normalised, without
    the minority-name dot, characters NOT folded (陳曉明 stays 陳曉明). Empty names give null."""
    e = normalise_expr(col).str.replace_all("·", "", literal=True)
    return pl.when(e.str.len_chars() > 0).then(e)


def name_key_expr(col: pl.Expr, normalised: bool = False) -> pl.Expr:
    """Vectorised :func:`name_key` (what the loader stores in ``name_key``). Empty names give null.

    ``normalised=True``: the column already holds :func:`normalise_expr` output (the readers' ``name``); normalising
    is idempotent, so the NFKC pass is skipped."""
    table = t2s_chars()
    e = (col.cast(pl.String) if normalised else normalise_expr(col)).str.replace_all("·", "", literal=True)
    e = e.str.replace_many(list(table.keys()), list(table.values()))
    return pl.when(e.str.len_chars() > 0).then(e)


def split_surname(key: str) -> tuple[str, str]:
    """(surname, given name) of a name key; compound surnames are recognised."""
    if len(key) >= 3 and key[:2] in COMPOUND_SURNAMES:
        return key[:2], key[2:]
    return key[:1], key[1:]


@_functools.cache
def char_readings(ch: str) -> tuple[str, ...]:
    """Toneless pinyin readings of one character, most common first (cached per character)."""
    from pypinyin import Style, pinyin

    if not ("\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f" or "\uf900" <= ch <= "\ufaff"):
        return (ch.lower(),)
    r = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    readings = tuple(dict.fromkeys(x for x in (r[0] if r else []) if x))
    return readings or (ch,)


def surname_pinyin(surname: str) -> str:
    if surname in SURNAME_PINYIN:
        return SURNAME_PINYIN[surname]
    return " ".join(char_readings(c)[0] for c in surname)


def pinyin_of(key: str) -> tuple[str, str]:
    """(primary, alternative) toneless pinyin of a name key, syllables separated by spaces.

    Primary: the surname's surname reading, then each given-name character's most common reading.
    Alternative: the same with the second reading of every polyphonic given-name character (王小乐 → wang xiao yue),
    so that a homophone written with either reading still compares equal.
    """
    if not key:
        return "", ""
    sur, given = split_surname(key)
    sp = surname_pinyin(sur)
    prim = [sp]
    alt = [sp]
    for ch in given:
        r = char_readings(ch)
        prim.append(r[0])
        alt.append(r[1] if len(r) > 1 else r[0])
    return " ".join(prim), " ".join(alt)


def name_table(keys: Iterable[str | None]) -> pl.DataFrame:
    """Lookup table over DISTINCT name keys: name_key, surname, given, py, py_alt, surname_py, n_chars.

    Vectorised: readings are looked up once per distinct character (and once per distinct surname), then the
    names are assembled with Polars (explode → map → join). Join the table back to persons/records in SQL.
    """
    if isinstance(keys, pl.Series):
        uniq = keys.drop_nulls().filter(keys.drop_nulls() != "").unique()
    else:
        uniq = pl.Series("name_key", [k for k in set(keys) if k], dtype=pl.String)
    df = pl.DataFrame({"name_key": uniq.cast(pl.String)})
    key = pl.col("name_key")
    two = key.str.slice(0, 2)
    df = df.with_columns(
        pl.when((key.str.len_chars() >= 3) & two.is_in(sorted(COMPOUND_SURNAMES)))
        .then(two)
        .otherwise(key.str.slice(0, 1))
        .alias("surname")
    )
    df = df.with_columns(key.str.slice(pl.col("surname").str.len_chars()).alias("given"))
    smap = {s: surname_pinyin(s) for s in df.get_column("surname").unique().to_list()}
    df = df.with_columns(pl.col("surname").replace_strict(smap, return_dtype=pl.String).alias("surname_py"))
    # given names are a few characters: one column per position (no explode / group-by / join back)
    width = int(df.select(pl.col("given").str.len_chars().max()).item() or 0)
    pos = [pl.col("given").str.slice(i, 1) for i in range(width)]
    uc = df.select(pl.concat_list(pos).alias("ch")).explode("ch").get_column("ch").unique().to_list() if width else []
    uc = [c for c in uc if c]
    prim = {c: char_readings(c)[0] for c in uc}
    alt = {c: (char_readings(c)[1] if len(char_readings(c)) > 1 else char_readings(c)[0]) for c in uc}

    def spelled(table: dict[str, str]) -> pl.Expr:
        parts = [pl.when(p != "").then(p.replace_strict(table, default=None, return_dtype=pl.String)) for p in pos]
        return pl.concat_str(parts, separator=" ", ignore_nulls=True) if parts else pl.lit("", dtype=pl.String)

    df = df.with_columns(spelled(prim).alias("gp"), spelled(alt).alias("ga"))
    sp = pl.col("surname_py")
    df = df.with_columns(
        pl.when(pl.col("gp").is_null() | (pl.col("gp") == ""))
        .then(sp)
        .otherwise(sp + pl.lit(" ") + pl.col("gp"))
        .alias("py"),
        pl.when(pl.col("ga").is_null() | (pl.col("ga") == ""))
        .then(sp)
        .otherwise(sp + pl.lit(" ") + pl.col("ga"))
        .alias("py_alt"),
    )
    return df.select(
        "name_key",
        "surname",
        "given",
        "py",
        "py_alt",
        "surname_py",
        key.str.len_chars().alias("n_chars"),
    ).sort("name_key")


# ---------------------------------------------------------------------------------------------- similarity


def _syllable_codes(py: Sequence[str], codebook: dict[str, str]) -> list[str]:
    out = []
    for s in py:
        chars = []
        for syl in (s or "").split(" "):
            if not syl:
                continue
            c = codebook.get(syl)
            if c is None:
                c = codebook[syl] = chr(0xE000 + len(codebook))  # private-use area: one code point per syllable
            chars.append(c)
        out.append("".join(chars))
    return out


def similarity_arrays(
    key_a: Sequence[str],
    key_b: Sequence[str],
    py_a: Sequence[str],
    py_b: Sequence[str],
    alt_a: Sequence[str],
    alt_b: Sequence[str],
) -> dict[str, object]:
    """Element-wise similarities of name pairs (vectorised with rapidfuzz.process.cpdist).

    Returns numpy arrays: ``char_sim`` (normalised Indel similarity on characters), ``syl_sim`` (same on pinyin
    syllables, best of primary/alternative readings: 1.0 = homophones), ``letter_sim`` (Jaro-Winkler on the
    pinyin letters: near-homophones such as ming/min).
    """
    import numpy as np
    from rapidfuzz.distance import Indel, JaroWinkler
    from rapidfuzz.process import cpdist

    n = len(key_a)
    if n == 0:
        z = np.zeros(0)
        return {"char_sim": z, "syl_sim": z, "letter_sim": z}
    char_sim = cpdist(list(key_a), list(key_b), scorer=Indel.normalized_similarity, workers=-1)
    book: dict[str, str] = {}
    pa, pb = _syllable_codes(py_a, book), _syllable_codes(py_b, book)
    aa, ab = _syllable_codes(alt_a, book), _syllable_codes(alt_b, book)
    syl = cpdist(pa, pb, scorer=Indel.normalized_similarity, workers=-1)
    syl = np.maximum(syl, cpdist(pa, ab, scorer=Indel.normalized_similarity, workers=-1))
    syl = np.maximum(syl, cpdist(aa, pb, scorer=Indel.normalized_similarity, workers=-1))
    la = [(p or "").replace(" ", "") for p in py_a]
    lb = [(p or "").replace(" ", "") for p in py_b]
    letter = cpdist(la, lb, scorer=JaroWinkler.normalized_similarity, workers=-1)
    return {
        "char_sim": np.asarray(char_sim, dtype=float),
        "syl_sim": np.asarray(syl, dtype=float),
        "letter_sim": np.asarray(letter, dtype=float),
    }


def name_similarity(a: str, b: str) -> float:
    """Scalar convenience: max of character and pinyin-syllable similarity of two names (0..1)."""
    ka, kb = name_key(a), name_key(b)
    if not ka or not kb:
        return 0.0
    pa, aa = pinyin_of(ka)
    pb, ab = pinyin_of(kb)
    s = similarity_arrays([ka], [kb], [pa], [pb], [aa], [ab])
    return float(max(s["char_sim"][0], s["syl_sim"][0]))
