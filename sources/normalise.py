"""Vectorised value normalisation (Polars expressions only — no per-row Python). SPEC §2, §5.

Each parser is a *plan*: a list of stages, each a list of expressions that read only the input column or columns made
by earlier stages. :func:`run` executes plans stage by stage (one ``with_columns`` per stage for all fields at once)
and drops the helper columns. Staging matters: Polars does not share a sub-expression used in several branches
(e.g. the cleaned text feeding three date patterns), so a single nested expression redoes the cleaning per use.

Input is *cleaned* cell text (see :func:`clean_cell_plan`; null = empty cell); output is the typed value, null when
the text cannot be read. The caller decides what an unreadable value means (a value is *bad* when the cleaned text is
not null but the parsed value is).

- dates: ``2026-03-05``, ``2026/3/5``, ``2026.3.5``, ``2026年3月5日``, ``20260305``, an Excel serial number
  (20000–80000 → 1899-12-30 + n days), a datetime cell (``2026-03-05 00:00:00``); full-width digits fold first.
  Anything else (``3/5/2026``, ``26-3-5``, ``2026-13-45``) is unreadable — never guessed.
- amounts: ``1,234.50``, ``1234.5元``, ``￥1234``, ``¥ 1,234``, full-width digits, ``1.2万`` (× 10,000),
  accounting negatives ``(12.50)``. Thousands separators must be well placed (``1,2`` is unreadable). Blank → null.
- months (YYYYMM): ``202403``, ``2024-03``, ``2024年3月``, a full date, a date cell or an Excel serial.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable

import polars as pl

Plan = list[list[pl.Expr]]

EXCEL_EPOCH = _dt.date(1899, 12, 30)
SERIAL_MIN, SERIAL_MAX = 20000, 80000  # 1954-10-03 … 2119-01-10

_TIME = r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_YMD = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _TIME + r"$"
_YMD8 = r"^(\d{4})(\d{2})(\d{2})$"
_SERIAL = r"^\d{5}(?:\.\d+)?$"
_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)$"
_PLAIN_NUMBER = r"^-?\d+(?:\.\d+)?$"
_YES = ["是", "Y", "y", "YES", "Yes", "yes", "1", "√", "✓", "✔", "TRUE", "True", "true", "是的", "有"]
_NO = ["否", "N", "n", "NO", "No", "no", "0", "×", "✗", "✘", "FALSE", "False", "false", "不是", "无"]
_MALE = ["男", "男性", "1", "M", "m", "male", "Male"]
_FEMALE = ["女", "女性", "2", "F", "f", "female", "Female"]


#: Characters that NFKC changes in practice in these files: ideographic space, full-width ASCII, ￥ and friends.
FULLWIDTH = r"[\u3000\uff01-\uff5e\uffe0-\uffee]"


def fold(s: pl.Expr, nfkc: bool = True, spaces: bool = True) -> pl.Expr:
    """Full-width → half-width (NFKC) and no blanks at all. ``nfkc``/``spaces`` False skip a step the caller knows
    is a no-op for the whole column (NFKC is the costliest string operation here)."""
    if nfkc:
        s = s.str.normalize("NFKC")
    if spaces:
        s = s.str.replace_all(r"\s+", "")
    return s


def clean_text(s: pl.Expr, nfkc: bool = True, spaces: bool = True) -> pl.Expr:
    """Free text: NFKC (full-width letters/digits/brackets fold), inner runs of blanks → one space."""
    if nfkc:
        s = s.str.normalize("NFKC")
    if spaces:
        s = s.str.replace_all(r"\s+", " ").str.strip_chars()
    return s


def clean_code(s: pl.Expr, nfkc: bool = True, spaces: bool = True) -> pl.Expr:
    """Codes (户编号, 行政村代码): NFKC, no blanks, no Excel artefacts (leading apostrophe, trailing '.0')."""
    return fold(s, nfkc, spaces).str.replace_all("['`]", "").str.replace(r"^(\d+)\.0+$", "$1")


# ------------------------------------------------------------------------------------------------------- plans


def clean_cell_plan(src: str, out: str, null_tokens: Iterable[str] = ()) -> Plan:
    """Trim (Unicode blanks too), unwrap Excel's ``="0123"`` text trick, map blanks and null tokens to null."""
    k = pl.col(out)
    tokens = sorted({t.lower() for t in null_tokens})
    # case-insensitive token test as one anchored regex: no lower-cased copy of every cell (most fail at character 1)
    null = (
        (k == "") | k.str.contains("(?i)^(?:" + "|".join(re.escape(t) for t in tokens) + ")$") if tokens else (k == "")
    )
    last = pl.when(null).then(None).otherwise(k)
    return [
        [pl.col(src).cast(pl.String).str.strip_chars().alias(out)],
        # literal tests and a slice, not a regex: this runs on every cell of every file
        [
            pl.when(k.str.starts_with('="') & k.str.ends_with('"') & (k.str.len_bytes() >= 3))
            .then(k.str.slice(2, k.str.len_chars() - 3).str.strip_chars())
            .otherwise(k)
            .alias(out)
        ],
        [last.alias(out)],
    ]


def date_plan(src: str, out: str, nfkc: bool = True, spaces: bool = True, simple: bool = False) -> Plan:
    """``simple``: every value of the column is already ``YYYY-MM-DD`` (checked by the caller)."""
    if simple:
        return [[pl.col(src).str.to_date("%Y-%m-%d", strict=False).alias(out)]]
    f = pl.col(f"{out}__f")
    serial = pl.col(f"{out}__3")
    first = pl.col(src).str.normalize("NFKC").str.strip_chars() if nfkc else pl.col(src).str.strip_chars()
    return [
        [first.alias(f"{out}__f")],
        [
            pl.when(f.str.contains(_YMD))
            .then(f.str.replace(_YMD, "${1}-${2}-${3}").str.to_date("%Y-%m-%d", strict=False))
            .alias(f"{out}__1"),
            pl.when(f.str.contains(_YMD8)).then(f.str.to_date("%Y%m%d", strict=False)).alias(f"{out}__2"),
            pl.when(f.str.contains(_SERIAL)).then(f.cast(pl.Float64, strict=False).floor()).alias(f"{out}__3"),
        ],
        [
            pl.coalesce(
                pl.col(f"{out}__1"),
                pl.col(f"{out}__2"),
                pl.when((serial >= SERIAL_MIN) & (serial <= SERIAL_MAX))
                .then(pl.lit(EXCEL_EPOCH) + pl.duration(days=serial.cast(pl.Int64)))
                .cast(pl.Date),
            ).alias(out)
        ],
    ]


def amount_plan(
    src: str, out: str, scale: float = 1, nfkc: bool = True, spaces: bool = True, simple: bool = False
) -> Plan:
    """Yuan as Float64 (× ``scale``, e.g. 10000 for a 万元 column); negative values stay negative.
    ``simple``: every value of the column is already a plain number like ``-12.5`` (checked by the caller)."""
    if simple:
        v = pl.col(src).cast(pl.Float64, strict=False)
        return [[(v * scale if scale != 1 else v).alias(out)]]
    f, t, t2 = pl.col(f"{out}__f"), pl.col(f"{out}__t"), pl.col(f"{out}__t2")
    v = pl.when(pl.col(f"{out}__ok") & t2.str.contains(_NUMBER)).then(t2.cast(pl.Float64, strict=False))
    v = pl.when(pl.col(f"{out}__wan")).then(v * 10000).otherwise(v)
    v = pl.when(pl.col(f"{out}__paren")).then(-v).otherwise(v)
    return [
        [fold(pl.col(src), nfkc, spaces).alias(f"{out}__f")],  # ￥→¥, １２３→123, ，→,
        [
            f.str.contains(r"^\(.*\)$").alias(f"{out}__paren"),
            f.str.contains(r"万(?:元)?$").alias(f"{out}__wan"),
            f.str.replace(r"^\((.*)\)$", "$1")
            .str.replace(r"^(?:人民币|RMB|rmb|CNY|¥|\$)", "")
            .str.replace(r"^([+-])(?:¥|人民币|RMB)", "$1")
            .str.replace(r"(?:万元|万|元整|元|圆|块|RMB|rmb|CNY)$", "")
            .alias(f"{out}__t"),
        ],
        [
            (~t.str.contains(",", literal=True) | t.str.contains(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")).alias(
                f"{out}__ok"
            ),
            t.str.replace_all(",", "", literal=True).alias(f"{out}__t2"),
        ],
        [(v * scale if scale != 1 else v).alias(out)],
    ]


def int_plan(src: str, out: str, nfkc: bool = True, spaces: bool = True, simple: bool = False) -> Plan:
    f, v = pl.col(f"{out}__f"), pl.col(f"{out}__v")
    return [
        [fold(pl.col(src), nfkc, spaces).str.replace(r"(?:人|口|个)$", "").alias(f"{out}__f")],
        [pl.when(f.str.contains(_NUMBER)).then(f.cast(pl.Float64, strict=False)).alias(f"{out}__v")],
        [pl.when(v.is_not_null() & (v == v.round(0)) & (v.abs() < 2**31)).then(v.cast(pl.Int32)).alias(out)],
    ]


def month_plan(src: str, out: str, nfkc: bool = True, spaces: bool = True, simple: bool = False) -> Plan:
    """'YYYYMM' text; null when unreadable."""
    f, m = pl.col(f"{out}__mf"), pl.col(f"{out}__m")
    dp = date_plan(src, f"{out}__d", nfkc, spaces)
    stages: Plan = [
        [fold(pl.col(src), nfkc, spaces).alias(f"{out}__mf")] + dp[0],
        [
            pl.when(f.str.contains(r"^\d{6}$")).then(f).alias(f"{out}__m1"),
            f.str.replace(r"^(\d{4})[-/.年](\d{1,2})月?$", "${1}-${2}-01")
            .str.to_date("%Y-%m-%d", strict=False)
            .alias(f"{out}__m2"),
        ]
        + dp[1],
        dp[2],
        [
            pl.coalesce(
                pl.col(f"{out}__m1"), pl.col(f"{out}__m2").dt.strftime("%Y%m"), pl.col(f"{out}__d").dt.strftime("%Y%m")
            ).alias(f"{out}__m")
        ],
        [
            pl.when(
                m.str.slice(4, 2).cast(pl.Int32, strict=False).is_between(1, 12)
                & m.str.slice(0, 4).cast(pl.Int32, strict=False).is_between(1950, 2100)
            )
            .then(m)
            .alias(out)
        ],
    ]
    return stages


def bool_plan(src: str, out: str, nfkc: bool = True, spaces: bool = True, simple: bool = False) -> Plan:
    f = pl.col(f"{out}__f")
    return [
        [fold(pl.col(src), nfkc, spaces).alias(f"{out}__f")],
        [pl.when(f.is_in(_YES)).then(True).when(f.is_in(_NO)).then(False).otherwise(None).cast(pl.Boolean).alias(out)],
    ]


def yesno_plan(src: str, out: str, nfkc: bool = True, spaces: bool = True, simple: bool = False) -> Plan:
    """是/否 when recognisable, else the text as written."""
    f = pl.col(f"{out}__f")
    return [
        [fold(pl.col(src), nfkc, spaces).alias(f"{out}__f")],
        [
            pl.when(f.is_in(_YES))
            .then(pl.lit("是"))
            .when(f.is_in(_NO))
            .then(pl.lit("否"))
            .otherwise(pl.col(src))
            .alias(out)
        ],
    ]


def sex_plan(src: str, out: str, nfkc: bool = True, spaces: bool = True, simple: bool = False) -> Plan:
    f = pl.col(f"{out}__f")
    return [
        [fold(pl.col(src), nfkc, spaces).alias(f"{out}__f")],
        [
            pl.when(f.is_in(_MALE))
            .then(pl.lit("男"))
            .when(f.is_in(_FEMALE))
            .then(pl.lit("女"))
            .otherwise(None)
            .alias(out)
        ],
    ]


def code_plan(src: str, out: str, nfkc: bool = True, spaces: bool = True, simple: bool = False) -> Plan:
    return [[clean_code(pl.col(src), nfkc, spaces).alias(out)]]


def text_plan(src: str, out: str, nfkc: bool = True, spaces: bool = True, simple: bool = False) -> Plan:
    return [[clean_text(pl.col(src), nfkc, spaces).alias(out)]]


#: Per type, the regex every non-empty value must match for the cheap path (``simple=True``) of its plan.
SIMPLE = {"date": r"^\d{4}-\d{2}-\d{2}$", "amount": _PLAIN_NUMBER}


PLANS = {
    "date": date_plan,
    "amount": amount_plan,
    "int": int_plan,
    "month": month_plan,
    "bool": bool_plan,
    "yesno": yesno_plan,
    "sex": sex_plan,
    "code": code_plan,
    "text": text_plan,
}


def run(df: pl.DataFrame, plans: Iterable[Plan]) -> pl.DataFrame:
    """Execute plans stage by stage (all plans' stage i in one ``with_columns``); drop helper columns (``…__…``)."""
    plans = list(plans)
    before = set(df.columns)
    depth = max((len(p) for p in plans), default=0)
    for i in range(depth):
        exprs = [e for p in plans if i < len(p) for e in p[i]]
        if exprs:
            df = df.with_columns(exprs)
    helpers = [c for c in df.columns if c not in before and "__" in c]
    return df.drop(helpers)


def parse(kind: str, values: pl.Series, **kw) -> pl.Series:
    """Convenience for one Series (tests, ad-hoc use): ``parse("date", series)``."""
    df = run(pl.DataFrame({"v": values.cast(pl.String)}), [PLANS[kind]("v", "out", **kw)])
    return df["out"]


# ----------------------------------------------------------------------------------------------- value helpers


def map_values(s: pl.Expr, mapping: dict[str, tuple[str, ...]]) -> pl.Expr:
    """Rewrite synonyms to their canonical value (keys of ``mapping``); other values unchanged."""
    old: list[str] = []
    new: list[str] = []
    for canon, syns in mapping.items():
        for syn in syns:
            if syn != canon and syn not in old:
                old.append(syn)
                new.append(canon)
    if not old:
        return s
    return s.replace(old, new)


def date_in_range(d: pl.Expr, lo: _dt.date, hi: _dt.date) -> pl.Expr:
    return (d >= lo) & (d <= hi)


def is_plain_number(s: pl.Expr) -> pl.Expr:
    return s.str.contains(_PLAIN_NUMBER)


def key_text(s: pl.Expr) -> pl.Expr:
    """Already-normalised text as it enters an event key: no blanks, empty for null."""
    return s.cast(pl.String).str.replace_all(" ", "", literal=True).fill_null("")


def key_amount(v: pl.Expr) -> pl.Expr:
    """An amount as it enters an event key: integer fen (cents), empty for null."""
    return (v * 100).round(0).cast(pl.Int64).cast(pl.String).fill_null("")


def key_date(d: pl.Expr) -> pl.Expr:
    return d.dt.strftime("%Y-%m-%d").fill_null("")
