"""Step 3 — comparisons: name similarities (vectorised rapidfuzz over the DISTINCT name pairs among the candidates)
and the scored comparison vectors of sql/05_compare.sql."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from fangpin.domain.names import similarity_arrays

from ._sql import Ident, run, sql_text
from .keys import _register

_SLICE = 250_000


def name_similarities(con: duckdb.DuckDBPyConnection, pairs: Ident) -> int:
    """lk_namesim(a, b, char_sim, syl_sim, letter_sim) for the distinct (record key, person key) pairs in ``pairs``."""
    df = con.sql(sql_text("05_compare.name_pairs", pairs=pairs)).pl()
    # In slices: rapidfuzz wants Python strings, and six lists of millions of them (province-size blocks) would
    # hold gigabytes at once; a slice at a time keeps that bounded and costs nothing extra.
    parts = []
    for start in range(0, max(df.height, 1), _SLICE):
        chunk = df.slice(start, _SLICE)
        sims = similarity_arrays(
            chunk.get_column("a").to_list(),
            chunk.get_column("b").to_list(),
            chunk.get_column("pa").fill_null("").to_list(),
            chunk.get_column("pb").fill_null("").to_list(),
            chunk.get_column("aa").fill_null("").to_list(),
            chunk.get_column("ab").fill_null("").to_list(),
        )
        parts.append(
            chunk.select("a", "b").with_columns(
                pl.Series("char_sim", sims["char_sim"], dtype=pl.Float64),
                pl.Series("syl_sim", sims["syl_sim"], dtype=pl.Float64),
                pl.Series("letter_sim", sims["letter_sim"], dtype=pl.Float64),
            )
        )
    out = pl.concat(parts) if len(parts) > 1 else parts[0]
    del df
    _register(con, "lk_namesim", out)
    return out.height


def params(cfg: dict[str, Any]) -> dict[str, object]:
    """The configured comparison parameters (estimate.py replaces the ones this round's data can tell)."""
    nm, b, sx, loc, area, rel = cfg["name"], cfg["birth"], cfg["sex"], cfg["locality"], cfg["id_area"], cfg["relation"]
    out: dict[str, object] = {
        "near_char_sim": float(nm["near_char_sim"]),
        "near_letter_sim": float(nm["near_letter_sim"]),
        "name_m_exact": float(nm["m_exact"]),
        "name_m_folded": float(nm["m_folded"]),
        "name_m_homophone": float(nm["m_homophone"]),
        "name_m_near": float(nm["m_near"]),
        "name_m_differ": float(nm["m_differ"]),
        "folded_share": float(nm["folded_share"]),
        "u_near_given_surname": float(nm["u_near_given_surname"]),
        "min_u": float(nm["min_u"]),
        "birth_m_exact": float(b["m_exact"]),
        "birth_m_near": float(b["m_near"]),
        "birth_u_near": float(b["u_near"]),
        "birth_m_differ": float(b["m_differ"]),
        "sex_m_agree": float(sx["m_agree"]),
        "sex_m_differ": float(sx["m_differ"]),
        "area_m_agree": float(area["m_agree"]),
        "area_m_differ": float(area["m_differ"]),
        "area_u_agree": float(area["u_agree"]),
        "id_conflict_weight": float(cfg["id_conflict"]["weight"]),
        "rel_m_head": float(rel["m_head"]),
        "rel_u_head": float(rel["u_head"]),
        # the person's other records: no evidence until estimate.py has built lk_sib / lk_claim
        "sib_w_claim": 0.0,
        "sib_w_same": 0.0,
        "sib_w_none": 0.0,
    }
    for stated, short in (("village", "v"), ("township", "t"), ("county", "c")):
        for level, m in loc[stated].items():
            out[f"loc_{short}_{level}"] = float(m)
    return out


def compare(con: duckdb.DuckDBPyConnection, values: dict[str, object], pairs: Ident, out: Ident) -> int:
    """Score every pair of table ``pairs`` into table ``out`` (one row per pair, levels and log2 weights)."""
    name_similarities(con, pairs)
    run(con, "05_compare.score", pairs=pairs, out=out, **values)
    return con.sql(f"SELECT count(*) FROM {out}").fetchall()[0][0]
