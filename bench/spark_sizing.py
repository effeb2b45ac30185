"""A Spark cluster's size for a target scale, worked out from measured Spark rounds (BENCHMARKS.md, "Issue 13: Spark
sizing (method)").

    python bench/spark_sizing.py bench/results/A-engines.json [B-engines.json …] --target-scale 10 \\
        --executors 8 --cores 4 [--job-latency 0.15] [--skew 1.5] [--base-gb 1.0]

Input: JSONs of ``make bench ENGINE=spark`` (their Spark round). Size N = department rows in millions (the
manifest's ``records``). Per Dagster step s, from the event log: J jobs, T task-seconds (executor run time summed over
tasks: what the cores did), D driver seconds (step wall − time inside jobs: planning, Python, frames through the
driver, the manifest). With two or more scales, T and D are fitted as a + b·N through the smallest and the largest
scale (b clipped at 0); with one, T is taken as proportional to N and D as fixed. Then at the target size N*:

    wall_s(N*) ≈ D_s(N*) + J_s · L + T_s(N*) / (E · C) · k

L = job latency on the cluster (scheduling, task launch; ``--job-latency``), E executors of C cores, k the skew and
straggler factor. Memory per executor ≈ base + ρ · N* / E, with ρ the JVM's measured GB per million rows (peak JVM
RSS, largest minus smallest scale over the difference in N; one scale: peak / N) and base the JVM without data
(``--base-gb``, else the smallest scale's peak). Shuffle at N* = measured shuffle write per million rows × N*.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _fit(points: list[tuple[float, float]], proportional: bool) -> tuple[float, float]:
    """(a, b) of y = a + b·N through the smallest and largest N; one point: (0, y/N) or (y, 0)."""
    pts = sorted(points)
    (n0, y0), (n1, y1) = pts[0], pts[-1]
    if n1 == n0:
        return (0.0, y1 / n1) if proportional else (y1, 0.0)
    b = max((y1 - y0) / (n1 - n0), 0.0)
    return y1 - b * n1, b


def measured(result: dict) -> dict:
    """One bench JSON's Spark round as {n, jvm_gb, shuffle_mb, steps: {step: (jobs, task_s, driver_s)}}."""
    sp = result["engines"]["rounds"]["spark"]
    ev = sp["spark"]
    steps = {}
    for key, wall in sp["steps"].items():
        s = ev["steps"].get(key, {"jobs": 0, "task_s": 0.0, "job_s": 0.0})
        steps[key] = (s["jobs"], s["task_s"], wall - s["job_s"])
    return {
        "n": result["counts"]["records"] / 1e6,
        "jvm_gb": sp["peak_java_rss_mb"] / 1024,
        "shuffle_mb": ev["total"]["shuffle_write_mb"],
        "steps": steps,
    }


def estimate(runs: list[dict], target_n: float, executors: int, cores: int, latency: float, skew: float, base_gb=None):
    runs = sorted(runs, key=lambda r: r["n"])
    rows, total = [], 0.0
    for key in runs[-1]["steps"]:
        have = [r for r in runs if key in r["steps"]]
        jobs = have[-1]["steps"][key][0]
        ta, tb = _fit([(r["n"], r["steps"][key][1]) for r in have], proportional=True)
        da, db = _fit([(r["n"], r["steps"][key][2]) for r in have], proportional=False)
        wall = (da + db * target_n) + jobs * latency + (ta + tb * target_n) / (executors * cores) * skew
        total += wall
        rows.append(
            {"step": key, "jobs": jobs, "task_s_per_m": tb, "task_s_fixed": ta, "driver_s": (da, db), "wall_s": wall}
        )
    lo, hi = runs[0], runs[-1]
    rho = (hi["jvm_gb"] - lo["jvm_gb"]) / (hi["n"] - lo["n"]) if hi["n"] > lo["n"] else hi["jvm_gb"] / hi["n"]
    base = lo["jvm_gb"] if base_gb is None else base_gb
    return {
        "steps": rows,
        "wall_s": total,
        "gb_per_m": max(rho, 0.0),
        "executor_gb": base + max(rho, 0.0) * target_n / executors,
        "shuffle_gb": hi["shuffle_mb"] / hi["n"] * target_n / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="+", type=Path)
    ap.add_argument("--target-scale", type=float, default=10.0, help="in cities (10 = a province)")
    ap.add_argument("--executors", type=int, default=8)
    ap.add_argument("--cores", type=int, default=4)
    ap.add_argument("--job-latency", type=float, default=0.15, help="seconds per Spark job on the cluster")
    ap.add_argument("--skew", type=float, default=1.5)
    ap.add_argument("--base-gb", type=float)
    args = ap.parse_args(argv)
    results = [json.loads(p.read_text(encoding="utf-8")) for p in args.results]
    runs = [measured(r) for r in results]
    per_city = max(r["counts"]["records"] / r["scale"] for r in results) / 1e6  # rows of one city, in millions
    target_n = per_city * args.target_scale
    e = estimate(runs, target_n, args.executors, args.cores, args.job_latency, args.skew, args.base_gb)
    sizes = ", ".join(f"{r['n']:.3f}" for r in sorted(runs, key=lambda r: r["n"]))
    print(
        f"measured at N = {sizes} M rows; "
        f"target ×{args.target_scale:g} = {target_n:.1f} M rows on {args.executors} executors × {args.cores} cores, "
        f"job latency {args.job_latency} s, skew {args.skew}"
    )
    print("\n| step | jobs | driver s (a + b·N) | task s per M rows | estimated wall s |\n|---|---:|---:|---:|---:|")
    for s in e["steps"]:
        a, b = s["driver_s"]
        print(f"| {s['step']} | {s['jobs']} | {a:.1f} + {b:.2f}·N | {s['task_s_per_m']:.1f} | {s['wall_s']:.1f} |")
    print(f"| **round** | | | | **{e['wall_s']:.0f}** |")
    print(
        f"\nmemory: {e['gb_per_m']:.2f} GB of JVM per M rows → ≈ {e['executor_gb']:.1f} GB per executor; "
        f"shuffle ≈ {e['shuffle_gb']:.1f} GB written"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
