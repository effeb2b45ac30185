"""Resident ID numbers (GB 11643-1999) — scalar helpers and the same logic as Polars expressions.

Status values (column ``id_status``), ordered from usable to unusable:
- ``valid``        18 characters, plausible address and birth date, correct MOD 11-2 check character;
- ``converted15``  a legacy 15-digit number converted to 18 (insert ``19``, append the check character);
- ``bad_checksum`` 18 characters with a plausible address and birth date but a wrong check character
                   (a mistyped or transposed digit: repairable only with corroboration, see linkage);
- ``bad_date``     18 characters whose birth date is impossible;
- ``bad_area``     18 characters whose province part is not a Chinese province code;
- ``bad_length``   other lengths, letters in the wrong place;
- ``mangled``      a spreadsheet turned it into a number (``4.50222E+17``, trailing ``.0``, 17 digits = lost ``X``):
                   unusable, never a near match;
- ``missing``      empty.
Only ``valid`` and ``converted15`` yield ``id_number``. :func:`classify` works on one value, :func:`add_id_columns`
on a Polars frame; a test keeps them in agreement.
"""

from __future__ import annotations

import datetime as _dt
import re

import polars as pl

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
USABLE = ("valid", "converted15")

_FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {"Ｘ": "X", "ｘ": "X", "x": "X", "\u3000": ""}
_MANGLED = re.compile(r"^\d(\.\d+)?[eE][+]?\d+$|\.0+$")


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def clean(raw: object) -> str:
    """Strip blanks, fold full-width digits and X, upper-case x. Keeps everything else for diagnosis."""
    if raw is None:
        return ""
    s = str(raw)
    for k, v in _FULLWIDTH.items():
        s = s.replace(k, v)
    s = "".join(s.split()).replace("'", "").replace("`", "")
    return s.upper()


def _plausible_date(s: str) -> bool:
    try:
        d = _dt.date(int(s[0:4]), int(s[4:6]), int(s[6:8]))
    except ValueError:
        return False
    return _dt.date(1880, 1, 1) <= d <= _dt.date.today()


def classify(raw: object) -> tuple[str, str | None]:
    """Return (status, normalised 18-char id or None). Scalar twin of :func:`add_id_columns`."""
    s = clean(raw)
    if not s:
        return "missing", None
    if _MANGLED.search(s) or (len(s) == 17 and s.isdigit()):
        return "mangled", None
    if len(s) in (20, 22) and s[:17].isdigit():
        s = s[:18]  # 残疾人证: 18-digit ID + category + grade (+ reissue)
    if len(s) == 15 and s.isdigit():
        body = s[:6] + "19" + s[6:]
        if s[:2] not in PROVINCES or not _plausible_date(body[6:14]):
            return "bad_length", None
        return "converted15", body + check_char(body)
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        return "bad_length", None
    if s[:2] not in PROVINCES:
        return "bad_area", None
    if not _plausible_date(s[6:14]):
        return "bad_date", None
    if check_char(s[:17]) != s[17]:
        return "bad_checksum", None
    return "valid", s


def is_valid(raw: object) -> bool:
    return classify(raw)[0] == "valid"


def birth_date(id18: str) -> _dt.date | None:
    try:
        return _dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except (ValueError, TypeError):
        return None


def sex(id18: str) -> str:
    """'男' for an odd sequence digit, '女' for even."""
    return "男" if int(id18[16]) % 2 == 1 else "女"


def make_id(area6: str, birth: _dt.date, seq3: int) -> str:
    first17 = f"{area6}{birth:%Y%m%d}{seq3:03d}"
    return first17 + check_char(first17)


def to_15(id18: str) -> str:
    return id18[:6] + id18[8:17]


# ---------------------------------------------------------------------------------------------- Polars


def _clean_expr(col: pl.Expr) -> pl.Expr:
    e = col.cast(pl.String).fill_null("")
    e = e.str.replace_many(list(_FULLWIDTH.keys()), list(_FULLWIDTH.values()))
    e = e.str.replace_all(r"[\s'`]", "")
    return e.str.to_uppercase()


def _date_ok(digits8: pl.Expr) -> pl.Expr:
    d = digits8.str.to_date("%Y%m%d", strict=False)
    return d.is_not_null() & (d >= _dt.date(1880, 1, 1)) & (d <= _dt.date.today())


def _check_expr(first17: pl.Expr) -> pl.Expr:
    total = pl.sum_horizontal([first17.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(WEIGHTS)])
    return pl.lit(CHECK_CHARS).str.slice(total % 11, 1)


def add_id_columns(df: pl.DataFrame, column: str, prefix: str = "id") -> pl.DataFrame:
    """Vectorised classification of the raw ID strings in ``column`` (the frame twin of :func:`classify`).

    Adds ``{prefix}_clean`` (cleaned text), ``{prefix}_status``, ``{prefix}_number`` (usable 18-char or null),
    ``{prefix}_candidate`` (18-char text even when the check fails, for repair; null when mangled/missing/bad length),
    ``{prefix}_birth_date`` and ``{prefix}_sex`` (from the candidate when its date part is plausible).

    Computed in stages: intermediate values are materialised between steps. As one nested expression (the candidate
    repeated inside every later test) Polars spends about a second per output column *planning* it, whatever the
    row count; staged it costs milliseconds plus the per-row work.
    """
    p = prefix
    df = df.with_columns(_clean_expr(pl.col(column)).alias("__c0"))
    c = pl.col("__c0")
    # 残疾人证 numbers (20/22 characters): their first 18 are the ID
    df = df.with_columns(
        pl.when(c.str.contains(r"^\d{17}[\dX]\d{2}(\d{2})?$")).then(c.str.slice(0, 18)).otherwise(c).alias("__s")
    )
    s = pl.col("__s")
    df = df.with_columns(s.alias(f"{p}_clean"))
    df = df.with_columns(
        s.str.contains(r"^\d{15}$").alias("__is15"),
        (s.str.slice(0, 6) + pl.lit("19") + s.str.slice(6, 9)).alias("__body15"),
        (s.str.contains(r"^\d(\.\d+)?E\+?\d+$|\.0+$") | s.str.contains(r"^\d{17}$")).alias("__mangled"),
    )
    body15 = pl.col("__body15")
    df = df.with_columns(
        pl.when(pl.col("__is15"))
        .then(body15 + _check_expr(body15))
        .when(s.str.contains(r"^\d{17}[\dX]$"))
        .then(s)
        .otherwise(None)
        .alias("__cand")
    )
    cand = pl.col("__cand")
    df = df.with_columns(
        cand.str.slice(0, 2).is_in(sorted(PROVINCES)).alias("__prov_ok"),
        _date_ok(cand.str.slice(6, 8)).alias("__date_ok"),
        (_check_expr(cand.str.slice(0, 17)) == cand.str.slice(17, 1)).alias("__check_ok"),
    )
    prov_ok, date_ok, check_ok, is15 = pl.col("__prov_ok"), pl.col("__date_ok"), pl.col("__check_ok"), pl.col("__is15")
    df = df.with_columns(
        pl.when(s == "")
        .then(pl.lit("missing"))
        .when(pl.col("__mangled"))
        .then(pl.lit("mangled"))
        .when(cand.is_null())
        .then(pl.lit("bad_length"))
        .when(is15 & ~(prov_ok & date_ok))
        .then(pl.lit("bad_length"))
        .when(is15)
        .then(pl.lit("converted15"))
        .when(~prov_ok)
        .then(pl.lit("bad_area"))
        .when(~date_ok)
        .then(pl.lit("bad_date"))
        .when(~check_ok)
        .then(pl.lit("bad_checksum"))
        .otherwise(pl.lit("valid"))
        .alias(f"{p}_status")
    )
    status = pl.col(f"{p}_status")
    df = df.with_columns(
        pl.when(status.is_in(list(USABLE))).then(cand).otherwise(None).alias(f"{p}_number"),
        pl.when(status.is_in(["missing", "mangled", "bad_length"])).then(None).otherwise(cand).alias(f"{p}_candidate"),
    )
    cand_out = pl.col(f"{p}_candidate")
    df = df.with_columns(
        pl.when(date_ok & cand_out.is_not_null())
        .then(cand.str.slice(6, 8).str.to_date("%Y%m%d", strict=False))
        .alias(f"{p}_birth_date"),
        pl.when(cand_out.is_not_null())
        .then(
            pl.when(cand.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1)
            .then(pl.lit("男"))
            .otherwise(pl.lit("女"))
        )
        .alias(f"{p}_sex"),
    )
    return df.drop("__c0", "__s", "__is15", "__body15", "__mangled", "__cand", "__prov_ok", "__date_ok", "__check_ok")
