"""Step 4 — decisions: id_exact / id_repaired (sql/06), then fuzzy / review / unmatched (sql/07), and the candidate
list kept for review records (link_candidate)."""

from __future__ import annotations

from typing import Any

import duckdb

from ._sql import run

NAME_RANK = {"exact": 3, "homophone": 2, "near": 1}


def decide_id(con: duckdb.DuckDBPyConnection, cfg: dict[str, Any]) -> None:
    rep = cfg["repair"]
    levels = [str(x) for x in rep.get("name_levels", ["exact", "homophone"])]
    run(
        con,
        "06_decide_id",
        score_15=float(rep["score_15"]),
        score_birth_confirmed=float(rep["score_birth_confirmed"]),
        score_locality_confirmed=float(rep["score_locality_confirmed"]),
        repair_name_levels=levels,
    )


def todo(con: duckdb.DuckDBPyConnection) -> int:
    """lk_todo: records with no ID decision that have something to compare (a name)."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE lk_todo AS
        SELECT r.* FROM lk_rec r ANTI JOIN lk_decision d USING (rid) WHERE r.name_key IS NOT NULL
    """)
    return con.sql("SELECT count(*) FROM lk_todo").fetchall()[0][0]


def decide_fuzzy(con: duckdb.DuckDBPyConnection, cfg: dict[str, Any]) -> None:
    d = cfg["decide"]
    min_level = str(d.get("min_name_level", "near"))
    if min_level not in NAME_RANK:
        raise ValueError(f"linkage.yaml: decide.min_name_level must be one of {list(NAME_RANK)}, not {min_level!r}")
    run(
        con,
        "07_decide_fuzzy",
        accept=float(d["accept"]),
        review=float(d["review"]),
        namesake_ratio=float(d["namesake_ratio"]),
        min_name_rank=NAME_RANK[min_level],
        prior=float(cfg["prior_in_registry"]),
        household_prior=float(cfg["household_prior_in_registry"]),
    )


_DETAIL = """
    concat_ws('；',
        CASE name_level WHEN 'exact' THEN '姓名一致' WHEN 'homophone' THEN '姓名同音' WHEN 'near' THEN '姓名相近' ELSE '姓名不同' END,
        CASE birth_level WHEN 'exact' THEN '出生日期一致' WHEN 'near' THEN '出生日期相近' WHEN 'differ' THEN '出生日期不同' END,
        CASE loc_agree WHEN 'village' THEN '同村' WHEN 'township' THEN '同乡镇' WHEN 'county' THEN '同县（区）' WHEN 'differ' THEN '地址不同' END)
"""


def review_candidates(con: duckdb.DuckDBPyConnection, top: int = 3) -> None:
    """lk_review_cand(rid, rank, pid, score, detail): the best candidates of every record sent to review."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE lk_review_cand AS
        SELECT rid, row_number() OVER (PARTITION BY rid ORDER BY name_rank DESC, w DESC, pid)::INTEGER AS rank,
               pid, 0.5 AS score, {_DETAIL} AS detail
        FROM lk_cmp_id
        WHERE rid IN (SELECT rid FROM lk_decision WHERE match_method = 'review' AND stage IN ('id', 'repair'))
          AND (rule = 'id' OR rid IN (SELECT rid FROM lk_decision WHERE stage = 'repair'))
        QUALIFY rank <= {top}
    """)
    if con.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'lk_group'").fetchall()[0][0]:
        con.execute(f"""
            INSERT INTO lk_review_cand
            SELECT g.rid, g.rk::INTEGER, g.pid, round(g.post, 4), {_DETAIL}
                || CASE WHEN g.head_only THEN '（按户）' ELSE '' END
            FROM lk_group g
            WHERE g.rk <= {top} AND g.rid IN (SELECT rid FROM lk_decision WHERE match_method = 'review' AND stage = 'fuzzy')
        """)
