"""Chinese-aware record linkage: department records → registry persons and households (SPEC §3, §5).

    from warehouse.linkage import link_records, LinkStats
    stats = link_records(con, home)

Reads ``registry_person`` (+ ``village``) and ``dept_record``; rewrites ``link`` (one row per department record)
and ``link_candidate`` (the candidates of records sent to review). The steps follow Splink's shape, each a
readable SQL file in ``sql/`` or a small function:

1. keys       (keys.py, sql/01–03)  name keys and pinyin over distinct names, ID evidence, locality parsing
2. blocking   (blocking.py, sql/04) exact ID, one-digit ID repair variants, configured blocking rules
3. compare    (compare.py, sql/05)  comparison levels and Fellegi–Sunter weights with term frequencies
4. decide     (decide.py, sql/06–07) id_exact / id_repaired / fuzzy / review / unmatched with a score and a reason
5. write      (sql/08)
Thresholds and weights: fangpin/config/linkage.yaml (per data home overridable).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from fangpin import settings

from . import blocking, compare, decide, keys
from ._sql import run

METHODS = ("id_exact", "id_repaired", "fuzzy", "review", "unmatched")


@dataclass
class LinkStats:
    records: int = 0
    persons: int = 0
    methods: dict[str, int] = field(default_factory=dict)  # match_method → records
    per_source: dict[str, dict[str, int]] = field(default_factory=dict)  # source → match_method → records
    block_pairs: dict[str, int] = field(default_factory=dict)  # blocking rule → candidate pairs
    compared_pairs: int = 0
    steps: dict[str, float] = field(default_factory=dict)  # step → seconds
    elapsed_s: float = 0.0

    def summary(self) -> str:
        lines = [f"linkage: {self.records} records against {self.persons} persons in {self.elapsed_s:.1f} s"]
        lines.append("  methods: " + ", ".join(f"{m}={self.methods.get(m, 0)}" for m in METHODS))
        for src, m in sorted(self.per_source.items()):
            lines.append(f"  {src}: " + ", ".join(f"{k}={m.get(k, 0)}" for k in METHODS))
        lines.append(
            "  candidate pairs per blocking rule: " + ", ".join(f"{k}={v}" for k, v in self.block_pairs.items())
        )
        lines.append("  steps (s): " + ", ".join(f"{k}={v:.2f}" for k, v in self.steps.items()))
        return "\n".join(lines)


def load_config(home: Path | None = None) -> dict[str, Any]:
    return settings.load("linkage", home)


def link_records(con: duckdb.DuckDBPyConnection, home: Path | None = None) -> LinkStats:
    """Link every dept_record to a registry person / household and (re)write the ``link`` table. Idempotent.

    Call it on a connection in autocommit mode: the rewrite of ``link`` / ``link_candidate`` is one transaction of
    its own. Working tables are connection-local temp tables (``lk_*``), dropped at the end.
    """
    cfg = load_config(home)
    stats = LinkStats()
    t0 = time.perf_counter()
    last = [t0]

    def lap(step: str) -> None:
        now = time.perf_counter()
        stats.steps[step] = now - last[0]
        last[0] = now

    con.execute("SET enable_progress_bar = false")
    counts = keys.prepare(con)
    stats.records, stats.persons = counts["records"], counts["persons"]
    lap("keys")

    stats.block_pairs.update(blocking.id_pairs(con))
    # single exact-ID pairs need no comparison: only repairs and IDs the registry holds twice are compared
    con.execute("""
        CREATE OR REPLACE TEMP TABLE lk_pair_id AS
        SELECT * FROM lk_pair
        WHERE rule = 'id_repair' OR rid IN (SELECT rid FROM lk_pair WHERE rule = 'id' GROUP BY rid HAVING count(*) > 1)
    """)
    n_id = compare.compare(con, cfg, "lk_pair_id", "lk_cmp_id")
    decide.decide_id(con, cfg)
    lap("id")

    decide.todo(con)
    stats.block_pairs.update(blocking.rule_pairs(con, cfg))
    lap("blocking")
    n_fz = compare.compare(con, cfg, "lk_pair_fz", "lk_cmp_fz")
    stats.compared_pairs = n_id + n_fz
    lap("compare")
    decide.decide_fuzzy(con, cfg)
    decide.review_candidates(con)
    lap("decide")

    _in_transaction(con, lambda: run(con, "08_write_link"))
    lap("write")

    for src, method, n in con.sql(
        "SELECT source, match_method, count(*) FROM link GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        stats.per_source.setdefault(src, {})[method] = n
        stats.methods[method] = stats.methods.get(method, 0) + n
    _drop_temp(con)
    stats.elapsed_s = time.perf_counter() - t0
    return stats


def _in_transaction(con: duckdb.DuckDBPyConnection, work) -> None:
    """Run ``work`` in a transaction of its own (link_records is called in autocommit mode, as the assets do)."""
    con.execute("BEGIN TRANSACTION")
    try:
        work()
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.sql(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_name LIKE 'lk\\_%' ESCAPE '\\' AND table_schema = 'main' AND table_catalog = 'temp'"
    ).fetchall()
    for name, kind in rows:
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS temp.main.{name}")


__all__ = ["link_records", "LinkStats", "METHODS", "load_config"]
