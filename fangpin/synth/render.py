"""Vectorised text forms of IDs, names, dates and amounts as clerks' systems and spreadsheets produce them."""

from __future__ import annotations

import numpy as np
import polars as pl

from fangpin.synth import vocab

FULLWIDTH = {str(i): chr(0xFF10 + i) for i in range(10)} | {"X": "Ｘ"}
EXCEL_EPOCH_DAYS = -25569  # 1899-12-30 as days since 1970-01-01


# ---------------------------------------------------------------------------------------------- ID numbers

ID_NOISES = ("clean", "fullwidth", "missing", "id_15", "id_typo", "id_transposed", "id_mangled")


def _matrix(ids: pl.Series) -> np.ndarray:
    if len(ids) == 0:
        return np.zeros((0, 18), dtype=np.uint8)
    joined = ids.str.join("").item()
    return np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 18).copy()


def _text(m: np.ndarray) -> pl.Series:
    width = m.shape[1]
    if len(m) == 0:
        return pl.Series([], dtype=pl.String)
    return pl.Series(np.ascontiguousarray(m).view(f"S{width}").ravel()).cast(pl.String)


def id_forms(rng: np.random.Generator, ids: pl.Series, noise: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """Raw ID text per record and, for spreadsheet-mangled IDs, the number an XLSX cell would hold (else NaN).

    ids: valid 18-character IDs; noise: codes into :data:`ID_NOISES`.
    """
    m = _matrix(ids)
    # one mistyped digit (never the same digit; MOD 11-2 detects every single substitution)
    t = np.flatnonzero(noise == ID_NOISES.index("id_typo"))
    pos = rng.integers(0, 17, len(t))
    m[t, pos] = 48 + (m[t, pos] - 48 + rng.integers(1, 10, len(t))) % 10
    # two adjacent, different digits swapped (inside the birth date / sequence part)
    t = np.flatnonzero(noise == ID_NOISES.index("id_transposed"))
    if len(t):
        differs = m[t, 6:16] != m[t, 7:17]
        pos = 6 + (rng.random(differs.shape) * differs).argmax(axis=1)
        a, b = m[t, pos].copy(), m[t, pos + 1].copy()
        m[t, pos], m[t, pos + 1] = b, a
    base = _text(m)
    t15 = _text(m[:, list(range(6)) + list(range(8, 17))])
    lost_x = _text(m[:, :17])  # a spreadsheet drops the X
    v = ((m[:, :7].astype(np.int64) - 48) * 10 ** np.arange(6, -1, -1)).sum(axis=1)
    mant = pl.Series((v + 5) // 10).cast(pl.String)
    has_x = m[:, 17] == ord("X")
    first15 = ((m[:, :15].astype(np.int64) - 48) * 10 ** np.arange(14, -1, -1, dtype=np.int64)).sum(axis=1)
    mangled = noise == ID_NOISES.index("id_mangled")
    number = np.where(mangled & ~has_x, first15.astype(np.float64) * 1000.0, np.nan)
    df = pl.DataFrame({"k": noise, "b": base, "t15": t15, "lx": lost_x, "m": mant, "x": has_x})
    tail = pl.col("m").str.slice(1).str.strip_chars_end("0")
    sci = (
        pl.col("m").str.slice(0, 1)
        + pl.when(tail != "").then(pl.lit(".") + tail).otherwise(pl.lit(""))
        + pl.lit("E+17")
    )
    k = pl.col("k")
    text = (
        pl.when(k == ID_NOISES.index("missing"))
        .then(pl.lit(""))
        .when(k == ID_NOISES.index("id_15"))
        .then(pl.col("t15"))
        .when((k == ID_NOISES.index("id_mangled")) & pl.col("x"))
        .then(pl.col("lx"))
        .when(k == ID_NOISES.index("id_mangled"))
        .then(sci)
        .when(k == ID_NOISES.index("fullwidth"))
        .then(pl.col("b").str.replace_many(list(FULLWIDTH), list(FULLWIDTH.values())))
        .otherwise(pl.col("b"))
    )
    return df.select(text.alias("id_text")).to_series(), number


# ---------------------------------------------------------------------------------------------- names

DOT_FORMS = ("", "·", "•", ".", "．")


def name_noise(
    rng: np.random.Generator,
    g1: np.ndarray,
    g2: np.ndarray,
    dot: np.ndarray,
    p_homophone: np.ndarray | float,
    p_traditional: np.ndarray | float,
    p_dot: float,
) -> dict[str, np.ndarray]:
    """Decide the name noise of each record: homophone-substituted given characters, dot form, traditional flag."""
    _, _, alt = vocab.given_pool()
    alt = np.array(alt)
    n = len(g1)
    can2 = (g2 >= 0) & (alt[np.maximum(g2, 0)] >= 0)
    can1 = alt[g1] >= 0
    hom = (rng.random(n) < p_homophone) & (can2 | can1) & ~dot
    use2 = hom & can2 & ((rng.random(n) < 0.6) | ~can1)
    use1 = hom & ~use2
    dvar = dot & (rng.random(n) < p_dot)
    return {
        "g1": np.where(use1, alt[g1], g1),
        "g2": np.where(use2, alt[np.maximum(g2, 0)], g2),
        "homophone": hom,
        "sep": np.where(dot, np.where(dvar, 2 + rng.integers(0, 3, n), 1), 0),
        "minority_dot": dvar,
        "traditional": rng.random(n) < p_traditional,
    }


def name_text(sur: np.ndarray, d: dict[str, np.ndarray]) -> tuple[pl.Series, np.ndarray]:
    """Render decided names; the traditional flag only sticks where a character has a traditional form."""
    from fangpin.synth.population import render_names

    name = render_names(sur, d["g1"], d["g2"], vocab.lut(DOT_FORMS, d["sep"]))
    tmap = vocab.traditional_map()
    trad_name = name.str.replace_many(list(tmap), list(tmap.values()))
    trad = d["traditional"] & (trad_name != name).to_numpy()
    out = pl.select(pl.when(pl.Series(trad)).then(trad_name).otherwise(name)).to_series()
    return out, trad


# ---------------------------------------------------------------------------------------------- dates, amounts


def date_text(days: pl.Expr, style: str) -> pl.Expr:
    d = days.cast(pl.Int32).cast(pl.Date)
    if style == "iso":
        return d.dt.strftime("%Y-%m-%d")
    if style == "slash":
        return d.dt.strftime("%Y/%-m/%-d")
    if style == "chinese":
        return d.dt.strftime("%Y年%-m月%-d日")
    if style in ("serial", "datecell"):
        return (days - EXCEL_EPOCH_DAYS).cast(pl.String)
    raise ValueError(style)


def amount_text(cents: pl.Expr, style: str) -> pl.Expr:
    yuan = cents // 100
    frac = cents % 100
    plain = (
        pl.when(frac == 0)
        .then(yuan.cast(pl.String))
        .when(frac % 10 == 0)
        .then(yuan.cast(pl.String) + pl.lit(".") + (frac // 10).cast(pl.String))
        .otherwise(yuan.cast(pl.String) + pl.lit(".") + frac.cast(pl.String).str.zfill(2))
    )
    if style == "plain":
        out = plain
    elif style == "yuan":
        out = plain + pl.lit("元")
    elif style == "comma":
        mil, tho, one = yuan // 1_000_000, (yuan // 1000) % 1000, yuan % 1000
        grouped = (
            pl.when(mil > 0)
            .then(
                mil.cast(pl.String)
                + pl.lit(",")
                + tho.cast(pl.String).str.zfill(3)
                + pl.lit(",")
                + one.cast(pl.String).str.zfill(3)
            )
            .when(tho > 0)
            .then(tho.cast(pl.String) + pl.lit(",") + one.cast(pl.String).str.zfill(3))
            .otherwise(one.cast(pl.String))
        )
        out = grouped + pl.lit(".") + frac.cast(pl.String).str.zfill(2)
    else:
        raise ValueError(style)
    return pl.when(cents.is_null() | (cents < 0)).then(pl.lit("")).otherwise(out)
