"""Step 3 — comparisons: name similarities (vectorised rapidfuzz over the DISTINCT name pairs among the candidates)
and the scored comparison vectors of sql/05_compare.sql."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from fangpin.domain.names import similarity_arrays
from warehouse.runner import Runner


def _similarities(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Name similarities of one Arrow batch of distinct name pairs (rapidfuzz, vectorised over the batch)."""
    col = {name: batch.column(name).to_pylist() for name in ("a", "b", "pa", "pb", "aa", "ab")}
    sims = similarity_arrays(col["a"], col["b"], *[[v or "" for v in col[k]] for k in ("pa", "pb", "aa", "ab")])
    return pa.RecordBatch.from_arrays(
        [
            batch.column("a"),
            batch.column("b"),
            pa.array(sims["char_sim"], pa.float64()),
            pa.array(sims["syl_sim"], pa.float64()),
            pa.array(sims["letter_sim"], pa.float64()),
        ],
        names=["a", "b", "char_sim", "syl_sim", "letter_sim"],
    )


def name_similarities(wh: Runner, pairs: str) -> None:
    """lk_namesim(a, b, char_sim, syl_sim, letter_sim) for the distinct (record key, person key) pairs in ``pairs``.

    Batch by batch (rapidfuzz wants Python strings; a batch at a time keeps their memory bounded at province size)."""
    wh.run("linkage/05_compare.name_pairs", pairs=pairs)
    wh.map_arrow("lk_namepair", _similarities, "lk_namesim")


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
        "birth_m_differ_id": float(b["m_differ_id"]),
        "sex_m_agree": float(sx["m_agree"]),
        "sex_m_differ": float(sx["m_differ"]),
        "area_m_agree": float(area["m_agree"]),
        "area_m_differ": float(area["m_differ"]),
        "area_m_differ_kept": float(area["m_differ_kept"]),
        "area_u_agree": float(area["u_agree"]),
        "id_conflict_weight": float(cfg["id_conflict"]["weight"]),
        "id_far_weight": float(cfg["id_conflict"]["far_weight"]),
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


def compare(wh: Runner, values: dict[str, object], pairs: str, out: str) -> int:
    """Score every pair of table ``pairs`` into table ``out`` (one row per pair, levels and log2 weights)."""
    name_similarities(wh, pairs)
    wh.run("linkage/05_compare.score", pairs=pairs, out=out, **values)
    return wh.scalar("linkage/05_compare.count", table=out)
