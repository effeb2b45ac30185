"""Chinese-aware record linkage: department records → registry persons and households (SPEC §3, §5).

    from warehouse.linkage import link_records, LinkStats
    stats = link_records(con, home)

Reads ``registry_person`` (+ ``village``) and ``dept_record``; rewrites ``link`` (one row per department record)
and ``link_candidate`` (the candidates of records sent to review). The steps follow Splink's shape, each a
readable SQL step in ``sql/`` or a small function:

1. keys       (keys.py, sql/01–03)  name keys and pinyin over distinct names, ID evidence, locality parsing
2. ID         (blocking.py, sql/04; compare.py, sql/05; decide.py, sql/06)  exact ID, one-digit repairs
3. estimate   (estimate.py, sql/07)  m, priors, in/out and activity evidence from this round's exact-ID links
4. blocking   (blocking.py, sql/08)  the person's other records, configured blocking rules
5. compare    (compare.py, sql/05)   comparison levels and Fellegi–Sunter weights with term frequencies
6. decide     (decide.py, sql/09–10) fuzzy / review / unmatched with a score and a reason
7. write      (sql/11)
Thresholds and configured weights: fangpin/config/linkage.yaml (per data home overridable).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fangpin import settings
from warehouse.runner import Handle, Runner, runner_for
from warehouse.steps import identifier

from . import blocking, compare, decide, estimate, keys
from .estimate import Parameter

METHODS = ("id_exact", "id_repaired", "fuzzy", "review", "unmatched")


@dataclass
class LinkStats:
    records: int = 0
    persons: int = 0
    methods: dict[str, int] = field(default_factory=dict)  # match_method → records
    per_source: dict[str, dict[str, int]] = field(default_factory=dict)  # source → match_method → records
    block_pairs: dict[str, int] = field(default_factory=dict)  # blocking rule → candidate pairs
    compared_pairs: int = 0
    parameters: list[Parameter] = field(default_factory=list)  # estimated this round (configured = the prior)
    steps: dict[str, float] = field(default_factory=dict)  # step → seconds
    cpu_steps: dict[str, float] = field(default_factory=dict)  # step → CPU seconds of the process (all threads)
    elapsed_s: float = 0.0
    cpu_s: float = 0.0

    def summary(self) -> str:
        lines = [f"linkage: {self.records} records against {self.persons} persons in {self.elapsed_s:.1f} s"]
        lines.append("  methods: " + ", ".join(f"{m}={self.methods.get(m, 0)}" for m in METHODS))
        for src, m in sorted(self.per_source.items()):
            lines.append(f"  {src}: " + ", ".join(f"{k}={m.get(k, 0)}" for k in METHODS))
        lines.append(
            "  candidate pairs per blocking rule: " + ", ".join(f"{k}={v}" for k, v in self.block_pairs.items())
        )
        if self.parameters:
            lines.append("  estimated parameters (configured value, observations):")
            lines += [f"    {line}" for line in parameter_lines(self.parameters)]
        lines.append("  steps (s): " + ", ".join(f"{k}={v:.2f}" for k, v in self.steps.items()))
        lines.append(
            f"  CPU s: {self.cpu_s:.1f} (" + ", ".join(f"{k}={v:.2f}" for k, v in self.cpu_steps.items()) + ")"
        )
        return "\n".join(lines)


def parameter_lines(parameters: list[Parameter]) -> list[str]:
    out = []
    for p in parameters:
        cfg = "" if p.configured is None else f" ({p.configured:.4g}, n={p.observations})"
        out.append(f"{p.name} = {p.value:.4g}{cfg}")
    return out


def load_config(home: Path | None = None) -> dict[str, Any]:
    return settings.load("linkage", home)


def link_records(con: Handle, home: Path | None = None) -> LinkStats:
    """Link every dept_record to a registry person / household and (re)write the ``link`` table. Idempotent.

    Call it on a connection in autocommit mode: the rewrite of ``link`` / ``link_candidate`` is one transaction of
    its own. Working tables are connection-local temp tables (``lk_*``), dropped at the end.
    """
    cfg = load_config(home)
    stats = LinkStats()
    t0, c0 = time.perf_counter(), time.process_time()
    last = [t0, c0]

    def lap(step: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        stats.steps[step] = now - last[0]
        stats.cpu_steps[step] = cpu - last[1]
        last[:] = [now, cpu]

    wh = runner_for(con)
    wh.run("linkage/11_write_link.settings")
    counts = keys.prepare(wh, cfg)
    stats.records, stats.persons = counts["records"], counts["persons"]
    estimate.empty_tables(wh)
    lap("keys")

    values = compare.params(cfg)
    stats.block_pairs.update(blocking.id_pairs(wh))
    n_id = compare.compare(wh, values, "lk_pair_id", "lk_cmp_id")
    decide.decide_id(wh, cfg)
    lap("id")

    values, stats.parameters = estimate.estimate(wh, cfg, values, compare.compare)
    lap("estimate")

    decide.todo(wh)
    stats.block_pairs.update(blocking.rule_pairs(wh, cfg))
    lap("blocking")
    n_fz = compare.compare(wh, values, "lk_pair_fz", "lk_cmp_fz")
    stats.compared_pairs = n_id + n_fz
    lap("compare")
    decide.decide_fuzzy(wh, cfg)
    decide.review_candidates(wh)
    lap("decide")

    with wh.transaction():
        wh.run("linkage/11_write_link.write")
    lap("write")

    for src, method, n in wh.rows("linkage/11_write_link.methods"):
        stats.per_source.setdefault(src, {})[method] = n
        stats.methods[method] = stats.methods.get(method, 0) + n
    _drop_temp(wh)
    stats.elapsed_s = time.perf_counter() - t0
    stats.cpu_s = time.process_time() - c0
    return stats


def _drop_temp(wh: Runner) -> None:
    for name, kind in wh.temporary("lk_"):
        wh.run("linkage/11_write_link.drop_" + ("view" if kind == "VIEW" else "table"), name=identifier(name))


__all__ = ["link_records", "LinkStats", "METHODS", "Parameter", "load_config", "parameter_lines"]
