"""Step 2 — blocking: which (record, person) pairs are compared at all.

ID pairs come from sql/04_id_pairs.sql (exact ID; one-digit repair variants). Records left without an ID decision
keep their unconfirmed repairs and the persons their other records link to by ID (sql/08_blocking.sql, rule
``other_records``), and get candidates from the configured rules (``blocking.rules`` in linkage.yaml): equality joins in SQL, so the work
grows with the block sizes, not with records × persons. As in Splink, a pair is credited to the first rule that
produces it; ``fallback`` rules only run for records no earlier rule reached, and skip blocks larger than
``max_block`` persons.
"""

from __future__ import annotations

from typing import Any

from warehouse.runner import Runner
from warehouse.steps import Sql

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


def id_pairs(wh: Runner) -> dict[str, int]:
    wh.run("linkage/04_id_pairs.pairs")
    wh.run("linkage/04_id_pairs.to_compare")
    rows = wh.rows("linkage/04_id_pairs.counts")
    out = {"id": 0, "id_repair": 0}
    out.update({r: n for r, n in rows})
    return out


def rule_pairs(wh: Runner, cfg: dict[str, Any]) -> dict[str, int]:
    """Fill lk_pair_fz for the records in lk_todo; returns new candidate pairs per rule."""
    wh.run("linkage/08_blocking.seed")
    counts: dict[str, int] = {"other_records": wh.scalar("linkage/08_blocking.count_rule", rule="other_records")}
    for rule in cfg["blocking"]["rules"]:
        name, on = str(rule["name"]), list(rule["keys"])
        bad = [c for c in on if c not in KEYS]
        if bad:
            raise ValueError(f"linkage.yaml: blocking rule {name!r} uses unknown column(s) {bad}; allowed: {KEYS}")
        rec_where = [f"{c} IS NOT NULL" for c in on]
        if rule.get("fallback"):
            rec_where.append("rid NOT IN (SELECT rid FROM lk_pair_fz)")
        records = rule.get("records", "all")
        if records == "no_locality":
            rec_where.append("loc_level IS NULL")
        elif records != "all":
            raise ValueError(
                f"linkage.yaml: blocking rule {name!r}: records must be all or no_locality, not {records!r}"
            )
        persons = Sql("lk_person")
        if rule.get("max_block"):
            cols = ", ".join(on)
            on_s = " AND ".join(f"s.{c} = q.{c}" for c in on)
            persons = Sql(
                f"(SELECT q.* FROM lk_person q SEMI JOIN (SELECT {cols} FROM lk_person GROUP BY {cols} "
                f"HAVING count(*) <= {int(rule['max_block'])}) s ON {on_s})"
            )
        before = wh.scalar("linkage/08_blocking.count")
        wh.run(
            "linkage/08_blocking.rule",
            rule=name,
            cond=Sql(" AND ".join(f"r.{c} = p.{c}" for c in on)),
            rec_where=Sql(" AND ".join(rec_where)),
            persons=persons,
        )
        counts[name] = wh.scalar("linkage/08_blocking.count") - before
    return counts
