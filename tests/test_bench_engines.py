"""The pieces of ``make bench ENGINE=spark`` (bench/engines.py), cheaply: the Spark event log's sums per step, the
per-step times taken from a Dagster run, the output comparator, the process-tree sampler and the fresh homes. The
bench itself (two whole rounds, one on Spark) is minutes long and is run by hand (BENCHMARKS.md)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import _spark_events as se
import engines
from _measure import run_tree

from tests.conftest import TINY_ROUND

MB = 2**20


def _task(finish_ms: int, run_ms: int, write: int = 0, local: int = 0, remote: int = 0, failed: bool = False) -> dict:
    return {
        "Event": "SparkListenerTaskEnd",
        "Stage ID": 0,
        "Task Info": {"Launch Time": finish_ms - run_ms, "Finish Time": finish_ms, "Failed": failed, "Killed": False},
        "Task Metrics": {
            "Executor Run Time": run_ms,
            "Executor CPU Time": run_ms * 500_000,  # ns: half the run time
            "Peak Execution Memory": 3 * MB,
            "Disk Bytes Spilled": MB if failed else 0,
            "Shuffle Read Metrics": {"Remote Bytes Read": remote, "Local Bytes Read": local},
            "Shuffle Write Metrics": {"Shuffle Bytes Written": write},
            "Input Metrics": {"Bytes Read": 2 * MB, "Records Read": 10},
        },
    }


def _job(job: int, start_ms: int, end_ms: int) -> list[dict]:
    return [
        {"Event": "SparkListenerJobStart", "Job ID": job, "Submission Time": start_ms, "Stage IDs": [job]},
        {"Event": "SparkListenerJobEnd", "Job ID": job, "Completion Time": end_ms, "Job Result": {}},
    ]


def test_event_log_sums_per_step():
    steps = {"registry": (100.0, 110.0), "links": (110.0, 120.0)}
    evs = [
        {"Event": "SparkListenerApplicationStart"},
        *_job(0, 101_000, 103_000),
        _task(102_000, 800, write=4 * MB),
        _task(103_000, 900, local=MB, remote=MB),
        *_job(1, 111_000, 115_000),
        *_job(2, 112_000, 116_000),  # overlaps job 1 (a broadcast job of the same query): 5 s inside jobs, not 8
        _task(114_000, 2000, write=MB, failed=True),
        *_job(3, 130_000, 130_500),  # after every step
        _task(130_400, 100),
    ]
    out = se.summarise(evs, steps)
    reg, links, outside, total = out["steps"]["registry"], out["steps"]["links"], out["steps"][se.OUTSIDE], out["total"]
    assert (reg["jobs"], reg["tasks"], reg["job_s"], reg["task_s"]) == (1, 2, 2.0, 1.7)
    assert (reg["shuffle_write_mb"], reg["shuffle_read_mb"], reg["input_mb"]) == (4.0, 2.0, 4.0)
    assert (links["jobs"], links["job_s"], links["failed_tasks"], links["spill_disk_mb"]) == (2, 5.0, 1, 1.0)
    assert (outside["jobs"], outside["tasks"]) == (1, 1)
    assert (total["jobs"], total["tasks"], total["job_s"], total["shuffle_write_mb"]) == (4, 4, 7.5, 5.0)
    assert total["task_cpu_s"] == round(total["task_s"] / 2, 3) and total["peak_task_memory_mb"] == 3.0


def test_event_log_read_from_a_file_or_a_rolled_directory(tmp_path):
    import json

    lines = [json.dumps(e) for e in (*_job(0, 1_000, 2_000), _task(1_500, 400, write=MB))]
    (tmp_path / "local-1").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rolled = tmp_path / "eventlog_v2_local-2"
    rolled.mkdir()
    (rolled / "events_2_local-2").write_text(lines[2] + "\n", encoding="utf-8")
    (rolled / "events_1_local-2").write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    for path in (tmp_path / "local-1", rolled):
        assert se.summarise(se.events(path))["total"]["shuffle_write_mb"] == 1.0
    assert [e["Event"] for e in se.events(rolled)][0] == "SparkListenerJobStart"  # in the files' order


def test_submit_args_turn_the_event_log_on_after_the_callers_own(tmp_path):
    args = se.submit_args(tmp_path, {"spark.driver.memory": "6g"}, base="--driver-java-options -Dx=1 pyspark-shell")
    assert args.startswith("--driver-java-options -Dx=1 --conf spark.eventLog.enabled=true")
    assert f"spark.eventLog.dir={tmp_path.as_uri()}" in args and "spark.eventLog.compress=false" in args
    assert args.endswith("--conf spark.driver.memory=6g pyspark-shell") and args.count("pyspark-shell") == 1


def test_step_times_and_comparison_of_a_screened_home(screened_tiny, tmp_path):
    info, steps = engines.step_times(screened_tiny)
    assert info["engine"] == "duckdb" and info["status"] == "SUCCESS"
    assert {"registry", "links", "suspects", "systemic_risk", "round_outputs"} <= set(steps)
    starts = [s for s, _ in steps.values()]
    assert starts == sorted(starts) and all(e >= s for s, e in steps.values())
    assert sum(e - s for s, e in steps.values()) <= info["run_wall_s"] + 0.01  # in process: one step at a time

    out = screened_tiny / "out" / TINY_ROUND
    same = engines.compare(out, out)
    assert same["identical"] and all(same["parquet"].values())
    assert same["workbooks"]["compared"] == same["workbooks"]["identical"] > 0

    other = tmp_path / "other"
    shutil.copytree(out, other)
    df = pl.read_parquet(other / "links.parquet")
    col = next(c for c, t in df.schema.items() if t.is_numeric() and df[c][0] is not None)
    df.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.col(col) + 1).otherwise(pl.col(col))).write_parquet(
        other / "links.parquet"
    )
    next(other.glob("*.xlsx")).unlink()
    changed = engines.compare(out, other)
    assert not changed["identical"] and changed["parquet"] == {**same["parquet"], "links.parquet": False}
    assert len(changed["workbooks"]["differ"]) == 1


def test_fresh_home_links_the_landing_files_and_leaves_the_state_out(screened_tiny, tmp_path):
    home = engines.fresh_home(screened_tiny, tmp_path / "copy")
    assert not any((home / d).exists() for d in engines.STATE)
    src = sorted(p for p in (screened_tiny / "landing").rglob("*") if p.is_file())
    dst = sorted(p for p in (home / "landing").rglob("*") if p.is_file())
    assert src and [p.relative_to(screened_tiny) for p in src] == [p.relative_to(home) for p in dst]
    assert (home / "truth").is_dir() and src[0].stat().st_ino == dst[0].stat().st_ino


def test_run_tree_counts_the_children_memory_and_cpu(tmp_path):
    (tmp_path / "hold.py").write_text("import time\nx = b'x' * (200 * 2**20)\ntime.sleep(2)\n", encoding="utf-8")
    child = f"{sys.executable} {tmp_path / 'hold.py'}"
    r = run_tree(["bash", "-c", f"{child} & {child}; wait"], interval=0.05, log_path=tmp_path / "log")
    assert r["returncode"] == 0 and r["processes"] >= 3, r
    assert r["peak_tree_rss_mb"] >= 400, r  # two children at once (the rusage sees one process)
    assert r["peak_tree_pss_mb"] >= 400 and r["cpu_s"] > 0, r


def test_report_tables():
    spark_steps = se.summarise([*_job(0, 101_000, 103_000), _task(102_000, 800, write=4 * MB)], {"links": (100, 110)})
    rnd = {"returncode": 0, "wall_s": 12.0, "cpu_s": 20.0, "peak_tree_pss_mb": 2048, "peak_tree_rss_mb": 3072}
    result = {
        "scale": 0.02,
        "started": "20261205T000000Z",
        "machine": {"git": "abc1234", "cores": 2},
        "counts": {"households": 7000, "records": 26000},
        "landing": {"mb": 4.2},
        "load_start": (1.0, 1.0, 1.0),
        "load_end": (2.0, 2.0, 2.0),
        "engines": {
            "spark_master": "local[2]",
            "spark_conf": [],
            "rounds": {
                "duckdb": {**rnd, "peak_java_rss_mb": 0, "steps": {"registry": 1.5, "links": 2.0}},
                "spark": {**rnd, "peak_java_rss_mb": 1536, "steps": {"links": 10.0}, "spark": spark_steps},
            },
            "compare": {"identical": True, "parquet": {"links.parquet": True}, "workbooks": None},
        },
    }
    md = engines.markdown(result)
    assert "| duckdb | 12.0 | 20.0 | 2.00 / 3.00 | 1.5 | 2.0 | — | yes |" in md
    assert "| spark | 12.0 | 20.0 | 2.00 / 3.00; 1.50 | — | 10.0 | 4.0 / 0.0 | yes |" in md
    assert "| links | 10.0 | 1 | 1 | 0.8 | 0.4 | 8.0 | 4.0 / 0.0 | 0.0 | 3 |" in md


def test_sizing_fits_fixed_and_proportional_costs():
    import spark_sizing

    def run(n, task_s, driver_s, jvm_gb):  # one step "links" with 100 jobs
        return {"n": n, "jvm_gb": jvm_gb, "shuffle_mb": 50.0 * n, "steps": {"links": (100, task_s, driver_s)}}

    # task-seconds 10 + 40·N, driver 5 + 2·N, JVM 1 GB + 3 GB per M rows: measured at N = 0.1 and N = 1
    runs = [run(1.0, 50.0, 7.0, 4.0), run(0.1, 14.0, 5.2, 1.3)]
    e = spark_sizing.estimate(runs, target_n=10.0, executors=4, cores=2, latency=0.1, skew=1.0)
    (s,) = e["steps"]
    assert (round(s["task_s_fixed"], 6), round(s["task_s_per_m"], 6)) == (10.0, 40.0)
    assert [round(x, 6) for x in s["driver_s"]] == [5.0, 2.0]
    assert round(e["wall_s"], 6) == round(25.0 + 100 * 0.1 + 410.0 / 8, 6)
    assert (round(e["gb_per_m"], 6), round(e["executor_gb"], 6), round(e["shuffle_gb"] * 1024, 6)) == (3.0, 8.8, 500.0)


def test_the_city_bench_states_the_bound_the_cpu_seconds_set():
    """bench/run.py's report: a round whose CPU seconds over the cores exceed a target cannot meet it by overlapping
    its work better — the report says so from `fangpin screen`'s whole process tree, and not without that run."""
    import run

    stage = {"wall_s": 10.0, "cpu_s": 18.0, "peak_rss_mb": 512.0, "load_start": 1.0, "load_end": 2.0}
    best = {
        "round_wall_s": 50.0,
        "process_peak_rss_mb": 1024.0,
        "load_start": [1.0],
        "load_end": [2.0],
        "stages": {name: dict(stage) for name in run.STAGES},
    }
    result = {
        "scale": 1,
        "started": "20261207T000000Z",
        "machine": {"cores": 2},
        "load_start": [1.0],
        "load_end": [2.0],
        "memory_limit": "(engine default)",
        "counts": {"households": 350_000, "persons": 1_315_367, "records": 1_381_052},
        "landing": {"files": 1, "by_format": {}, "mb": 1.0},
        "generate": {},
        "stages_runs": [best],
        "stages_best": best,
        "dagster": {"wall_s": 60.0, "cpu_s": 127.4, "peak_rss_mb": 2048.0, "load_start": [1.0], "load_end": [2.0]},
    }
    bound = [line for line in run.markdown(result).splitlines() if line.startswith("Lower bound")]
    assert bound == [
        "Lower bound from the CPU seconds of `fangpin screen` on 2 cores (the same work perfectly overlapped): "
        "**63.7 s** — below it only fewer CPU seconds help."
    ]
    del result["dagster"]
    assert not [line for line in run.markdown(result).splitlines() if line.startswith("Lower bound")]
