"""Step 2 — blocking: which (record, person) pairs are compared at all.

ID pairs come from sql/04_id_pairs.sql (exact ID; one-digit repair variants). Records left without an ID decision
get candidates from the configured rules (``blocking.rules`` in linkage.yaml): equality joins in SQL, so the work
grows with the block sizes, not with records × persons. As in Splink, a pair is credited to the first rule that
produces it; ``fallback`` rules only run for records no earlier rule reached, and skip blocks larger than
``max_block`` persons.
"""

from __future__ import annotations

from typing import Any

import duckdb

from ._sql import run

#: columns a rule may block on: they exist on both lk_rec and lk_person
KEYS = (
    "birth_date",
    "prefecture_code",
    "county_code",
    "township_code",
    "village_code",
    "py",
    "name_key",
    "surname_py",
    "given1_py",
    "given_last_py",
    "surname",
    "sex",
)


def id_pairs(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    run(con, "04_id_pairs")
    rows = con.sql("SELECT rule, count(*) FROM lk_pair GROUP BY rule").fetchall()
    out = {"id": 0, "id_repair": 0}
    out.update({r: n for r, n in rows})
    return out


def rule_pairs(con: duckdb.DuckDBPyConnection, cfg: dict[str, Any]) -> dict[str, int]:
    """Fill lk_pair_fz for the records in lk_todo; returns new candidate pairs per rule."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE lk_pair_fz AS
        SELECT p.rid, p.pid, p.rule, p.rkind, p.rpos FROM lk_pair p JOIN lk_todo t USING (rid) WHERE p.rule = 'id_repair'
    """)
    counts: dict[str, int] = {}
    for rule in cfg["blocking"]["rules"]:
        name, on = rule["name"], list(rule["keys"])
        bad = [c for c in on if c not in KEYS]
        if bad:
            raise ValueError(f"linkage.yaml: blocking rule {name!r} uses unknown column(s) {bad}; allowed: {KEYS}")
        cond = " AND ".join(f"r.{c} = p.{c}" for c in on)
        rec_where = " AND ".join(f"{c} IS NOT NULL" for c in on)
        if rule.get("fallback"):
            rec_where += " AND rid NOT IN (SELECT rid FROM lk_pair_fz)"
        records = rule.get("records", "all")
        if records == "no_locality":
            rec_where += " AND loc_level IS NULL"
        elif records != "all":
            raise ValueError(
                f"linkage.yaml: blocking rule {name!r}: records must be all or no_locality, not {records!r}"
            )
        person_src = "lk_person"
        if rule.get("max_block"):
            cols = ", ".join(on)
            on_s = " AND ".join(f"s.{c} = q.{c}" for c in on)
            person_src = (
                f"(SELECT q.* FROM lk_person q SEMI JOIN (SELECT {cols} FROM lk_person GROUP BY ALL "
                f"HAVING count(*) <= {int(rule['max_block'])}) s ON {on_s})"
            )
        before = con.sql("SELECT count(*) FROM lk_pair_fz").fetchall()[0][0]
        con.execute(f"""
            INSERT INTO lk_pair_fz
            WITH r AS (SELECT * FROM lk_todo WHERE {rec_where})
            SELECT x.rid, x.pid, '{name}', NULL, NULL FROM (
                SELECT DISTINCT r.rid, p.pid FROM r JOIN {person_src} p ON {cond}
            ) x
            ANTI JOIN lk_pair_fz e ON e.rid = x.rid AND e.pid = x.pid
        """)
        counts[name] = con.sql("SELECT count(*) FROM lk_pair_fz").fetchall()[0][0] - before
    return counts
