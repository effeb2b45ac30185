"""Staged, fast twin of :func:`fangpin.domain.idnumber.id_exprs` (same statuses, same outputs).

``id_exprs`` builds one expression tree in which the candidate ID is repeated inside every later test; Polars 2
plans that for seconds and evaluates it slowly (≈ 4.5 s fixed + 20 s per 100k rows, measured). Computing the same
values as successive ``with_columns`` stages takes milliseconds. Used by linkage when the loader left ID columns empty.
"""

from __future__ import annotations

import datetime as _dt

import polars as pl

from fangpin.domain.idnumber import _FULLWIDTH, CHECK_CHARS, PROVINCES, USABLE, WEIGHTS


def _check(col: str) -> pl.Expr:
    total = pl.sum_horizontal([pl.col(col).str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(WEIGHTS)])
    return pl.lit(CHECK_CHARS).str.slice(total % 11, 1)


def id_columns(df: pl.DataFrame, column: str, prefix: str = "id") -> pl.DataFrame:
    """Adds ``{prefix}_status, _number, _candidate, _birth_date, _sex`` like ``id_exprs`` does."""
    today = _dt.date.today()
    s = pl.col(column).cast(pl.String).fill_null("")
    s = s.str.replace_many(list(_FULLWIDTH.keys()), list(_FULLWIDTH.values())).str.replace_all(r"[\s'`]", "").str.to_uppercase()
    out = df.with_columns(s.alias("_s"))
    out = out.with_columns(
        pl.when(pl.col("_s").str.contains(r"^\d{17}[\dX]\d{2}(\d{2})?$")).then(pl.col("_s").str.slice(0, 18))
        .otherwise(pl.col("_s")).alias("_s")
    )
    out = out.with_columns(
        pl.col("_s").str.contains(r"^\d{15}$").alias("_is15"),
        (pl.col("_s").str.contains(r"^\d(\.\d+)?E\+?\d+$|\.0+$") | pl.col("_s").str.contains(r"^\d{17}$")).alias("_mangled"),
        (pl.col("_s").str.slice(0, 6) + pl.lit("19") + pl.col("_s").str.slice(6, 9)).alias("_b15"),
    )
    out = out.with_columns(_check("_b15").alias("_c15"))
    out = out.with_columns(
        pl.when(pl.col("_is15")).then(pl.col("_b15") + pl.col("_c15"))
        .when(pl.col("_s").str.contains(r"^\d{17}[\dX]$")).then(pl.col("_s")).otherwise(None).alias("_cand")
    )
    d = pl.col("_cand").str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    out = out.with_columns(
        pl.col("_cand").str.slice(0, 2).is_in(sorted(PROVINCES)).alias("_prov"),
        (d.is_not_null() & (d >= _dt.date(1880, 1, 1)) & (d <= today)).alias("_date_ok"),
        d.alias("_d"),
        (_check("_cand") == pl.col("_cand").str.slice(17, 1)).alias("_chk"),
    )
    status = (
        pl.when(pl.col("_s") == "").then(pl.lit("missing"))
        .when(pl.col("_mangled")).then(pl.lit("mangled"))
        .when(pl.col("_cand").is_null()).then(pl.lit("bad_length"))
        .when(pl.col("_is15") & ~(pl.col("_prov") & pl.col("_date_ok"))).then(pl.lit("bad_length"))
        .when(pl.col("_is15")).then(pl.lit("converted15"))
        .when(~pl.col("_prov")).then(pl.lit("bad_area"))
        .when(~pl.col("_date_ok")).then(pl.lit("bad_date"))
        .when(~pl.col("_chk")).then(pl.lit("bad_checksum"))
        .otherwise(pl.lit("valid"))
    )
    out = out.with_columns(status.alias(f"{prefix}_status"))
    st = pl.col(f"{prefix}_status")
    out = out.with_columns(
        pl.when(st.is_in(list(USABLE))).then(pl.col("_cand")).alias(f"{prefix}_number"),
        pl.when(~st.is_in(["missing", "mangled", "bad_length"])).then(pl.col("_cand")).alias(f"{prefix}_candidate"),
    )
    cand = pl.col(f"{prefix}_candidate")
    out = out.with_columns(
        pl.when(pl.col("_date_ok") & cand.is_not_null()).then(pl.col("_d")).alias(f"{prefix}_birth_date"),
        pl.when(cand.is_not_null()).then(
            pl.when(cand.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1).then(pl.lit("男")).otherwise(pl.lit("女"))
        ).alias(f"{prefix}_sex"),
    )
    return out.drop("_s", "_is15", "_mangled", "_b15", "_c15", "_cand", "_prov", "_date_ok", "_d", "_chk")
