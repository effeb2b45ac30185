"""The same round on both engines in one bench run (issue 13): ``make bench ENGINE=spark SCALE=…``.

bench/run.py generates (or reuses) the city, then :func:`run` screens it twice, each time with ``fangpin screen`` in a
new process on a fresh copy of the home (landing files hard-linked, no pipeline state): once on DuckDB (skipped with
``--spark-only``) and once with ``FANGPIN_ENGINE=spark`` on ``--spark-master`` (``$FANGPIN_SPARK_MASTER``, else
``local[2]``). Per round: wall and CPU seconds and the peak memory of the whole process tree — the JVM and Spark's
Python workers included (bench/_measure.py ``run_tree``) —, every Dagster step's wall time (the run's step stats in
the copy's Dagster instance: the same start/end events the UI shows), and on Spark the event log's jobs, task-seconds,
shuffle, spill and peak task memory per step (bench/_spark_events.py). Then the two rounds' suspects, links, rejected
and systemic_risk Parquet (sorted, every value) and workbooks (every cell) are compared with the comparator of
tests/test_engine_round_parity.py.

The copies live in ``<home>.engines/{duckdb,spark}`` (``--work``) and are removed at the end unless ``--keep-state``;
the Spark event log is kept with the bench's logs. ``--resume`` screens a kept copy again instead of a fresh one: its
landing files are already archived, so the round's ingest steps find nothing new and the figures are those of linkage
through publication on the feeds ingested before (a province round that did not finish, without its hour of ingest).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for p in (str(BENCH), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

import _spark_events as spark_events  # noqa: E402
from _measure import run_tree  # noqa: E402

#: what a fresh home leaves out of the bench home (run.py's STATE, and the writer lock and run records)
STATE = ("warehouse", "archive", "quarantine", "reports", "out", "dagster", "state")


def fresh_home(src: Path, dst: Path) -> Path:
    """A new data home at ``dst`` with ``src``'s landing files (hard links where the file system allows: the round
    reads them and never writes them), ground truth and configuration, and none of its pipeline state."""
    if dst.exists():
        shutil.rmtree(dst)

    def link(s, d):
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(
        src, dst, ignore=lambda d, names: [n for n in names if Path(d) == src and n in STATE], copy_function=link
    )
    return dst


def step_times(home: Path) -> tuple[dict, dict[str, tuple[float, float]]]:
    """The last ``screening_round`` run of ``home``'s Dagster instance: (run id, engine tag, status, run wall) and
    every step's (start, end) in epoch seconds, in the order the steps started."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        (run,) = instance.get_runs(filters=dg.RunsFilter(job_name="screening_round"), limit=1)
        stats = instance.get_run_stats(run.run_id)
        steps = {
            s.step_key: (s.start_time, s.end_time)
            for s in sorted(instance.get_run_step_stats(run.run_id), key=lambda s: s.start_time or 0)
            if s.start_time and s.end_time
        }
    info = {
        "run_id": run.run_id,
        "engine": run.tags.get("fangpin/engine"),
        "status": str(run.status.value),
        "run_wall_s": round((stats.end_time or 0) - (stats.start_time or 0), 3),
    }
    return info, steps


def compare(a: Path, b: Path, workbooks: bool = True) -> dict:
    """Two rounds' outputs (``out/<round>``): per Parquet file and over the workbooks, same rows and values?"""
    from tests.test_engine_round_parity import PARQUET, parquet_rows, workbook_cells

    t0 = time.perf_counter()
    files = {}
    for name in (*PARQUET, "systemic_risk.parquet"):
        files[name] = (a / name).is_file() and (b / name).is_file() and parquet_rows(a / name) == parquet_rows(b / name)
    result = {"parquet": files, "identical": all(files[n] for n in PARQUET)}
    if workbooks:
        names = sorted(p.name for p in a.glob("*.xlsx"))
        same = [n for n in names if (b / n).is_file() and workbook_cells(a / n) == workbook_cells(b / n)]
        result["workbooks"] = {
            "compared": len(names),
            "identical": len(same),
            "differ": sorted(set(names) - set(same)),
            "only_in_second": sorted({p.name for p in b.glob("*.xlsx")} - set(names)),
        }
    result["compare_s"] = round(time.perf_counter() - t0, 1)
    return result


def round_on(engine: str, src: Path, work: Path, args, env: dict, logs: Path) -> dict:
    """``fangpin screen`` of the round on ``engine`` in a fresh copy of ``src``: measurements, steps, Spark events."""
    from run import fangpin_bin, log

    kept = work / engine
    resume = args.resume and (kept / "warehouse").is_dir()
    home = kept if resume else fresh_home(src, kept)
    env = dict(env, FANGPIN_ENGINE=engine)
    events = work / "spark-events"
    if engine == "spark":
        env["FANGPIN_SPARK_MASTER"] = args.spark_master
        shutil.rmtree(events, ignore_errors=True)
        events.mkdir(parents=True)
        conf = dict(kv.split("=", 1) for kv in args.spark_conf)
        env["PYSPARK_SUBMIT_ARGS"] = spark_events.submit_args(events, conf, os.environ.get("PYSPARK_SUBMIT_ARGS", ""))
        env["FANGPIN_SPARK_CONF"] = " ".join(args.spark_conf)  # session settings beat spark-submit's (LOCAL_CONF)
    where = f"{' ' + args.spark_master if engine == 'spark' else ''} (fangpin screen, {home}{', resumed' if resume else ''})"
    log(f"round on {engine}{where} …")
    cmd = [fangpin_bin(), "screen", "--round", args.round, "--home", str(home), "--pushed-on", args.pushed_on]
    r = run_tree(cmd, env=env, log_path=logs / f"screen-{engine}.log")
    r["home"], r["resumed"] = str(home), resume
    if r["returncode"]:
        print((logs / f"screen-{engine}.log").read_text(encoding="utf-8")[-4000:], file=sys.stderr)
    try:
        r["run"], steps = step_times(home)
    except Exception as exc:  # a round that failed before Dagster stored anything
        r["run"], steps = {"error": repr(exc)[:500]}, {}
    r["steps"] = {k: round(e - s, 3) for k, (s, e) in steps.items()}
    r["step_spans"] = steps  # epoch seconds: the event log can be attributed again from the JSON
    if engine == "spark" and (path := spark_events.find_log(events)):
        r["spark"] = spark_events.summarise(spark_events.events(path), steps)
        shutil.copy2(path, logs / "spark-eventlog.json")
    log(
        f"  {engine}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} CPU s, peak tree {r['peak_tree_pss_mb'] / 1024:.2f} GB"
        + (f", shuffle {r['spark']['total']['shuffle_write_mb']:.1f} MB" if "spark" in r else "")
    )
    return r


def run(args, home: Path, env: dict, logs: Path) -> dict:
    """Both rounds (or the Spark one), compared; ``result["engines"]`` of the bench's JSON."""
    from run import log

    work = (args.work or home.with_name(home.name + ".engines")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    out: dict = {"work": str(work), "spark_master": args.spark_master, "spark_conf": args.spark_conf, "rounds": {}}
    for engine in ("spark",) if args.spark_only else ("duckdb", "spark"):
        out["rounds"][engine] = round_on(engine, home, work, args, env, logs)
    rounds = out["rounds"]
    if len(rounds) == 2 and all(r["returncode"] == 0 for r in rounds.values()):
        log("comparing the two rounds' outputs …")
        out["compare"] = compare(*(work / e / "out" / args.round for e in ("duckdb", "spark")), not args.skip_workbooks)
        log(f"  identical: {'yes' if out['compare']['identical'] else 'no'} ({out['compare']['compare_s']} s)")
    if not args.keep_state:
        for engine in rounds:
            shutil.rmtree(work / engine, ignore_errors=True)
    return out


# ------------------------------------------------------------------------------------------------- report


def _gb(mb: float) -> str:
    return f"{mb / 1024:.2f}"


def markdown(r: dict) -> str:
    """Tables for BENCHMARKS.md: the rounds side by side, then Spark per step."""
    e = r["engines"]
    rounds, cmp_ = e["rounds"], e.get("compare")
    steps = list(dict.fromkeys(k for x in rounds.values() for k in x["steps"]))
    c = r.get("counts", {})
    same = "—" if not cmp_ else ("yes" if cmp_["identical"] else "**no**")
    lines = [
        f"## Engines ×{r['scale']:g} — {r['started']} (commit {r['machine'].get('git', '?')}"
        f"{', modified' if r['machine'].get('git_dirty') else ''})",
        "",
        f"{c.get('households', '?'):,} households, {c.get('records', '?'):,} department rows, {r['landing']['mb']:,} MB of "
        f"landing files; {r['machine'].get('cores')} cores, load {r['load_start'][0]:.1f} → {r['load_end'][0]:.1f}; "
        f"Spark master `{e['spark_master']}`{', ' + ' '.join(e['spark_conf']) if e['spark_conf'] else ''}.",
        "",
        "| engine | wall s | CPU s | peak GB (tree PSS / RSS; JVM) | "
        + " | ".join(steps)
        + " | shuffle write / read MB | outputs identical |",
        "|---|---:|---:|---|" + "---:|" * len(steps) + "---:|---|",
    ]
    for name, x in rounds.items():
        sp = x.get("spark", {}).get("total")
        shuffle = f"{sp['shuffle_write_mb']:.1f} / {sp['shuffle_read_mb']:.1f}" if sp else "—"
        lines.append(
            f"| {name}{'' if x['returncode'] == 0 else ' (failed)'} | {x['wall_s']:.1f} | {x['cpu_s']:.1f} | "
            f"{_gb(x['peak_tree_pss_mb'])} / {_gb(x['peak_tree_rss_mb'])}"
            + (f"; {_gb(x['peak_java_rss_mb'])}" if x["peak_java_rss_mb"] else "")
            + " | "
            + " | ".join(f"{x['steps'][s]:.1f}" if s in x["steps"] else "—" for s in steps)
            + f" | {shuffle} | {same} |"
        )
    if cmp_:
        diff = [n for n, ok in cmp_["parquet"].items() if not ok]
        wb = cmp_.get("workbooks")
        lines += [
            "",
            f"Outputs: suspects, links, rejected Parquet {'identical' if cmp_['identical'] else 'DIFFER'} (sorted, every "
            f"value){'; differ: ' + ', '.join(diff) if diff else '; systemic_risk too'}"
            + (f"; workbooks {wb['identical']} of {wb['compared']} identical (every cell)" if wb else "")
            + (f" — differ: {', '.join(wb['differ'])}" if wb and wb["differ"] else "")
            + ".",
        ]
    sp = rounds.get("spark", {}).get("spark")
    if sp:
        lines += [
            "",
            "Spark per step (event log; task s = executor run time summed over tasks, driver s = step wall − time inside "
            "jobs):",
            "",
            "| step | wall s | jobs | tasks | task s | task CPU s | driver s | shuffle write / read MB | spill MB | peak task MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        walls = rounds["spark"]["steps"]
        for key in [*walls, *(k for k in sp["steps"] if k not in walls), "total"]:
            s = sp["total"] if key == "total" else sp["steps"].get(key, spark_events._empty())
            wall = rounds["spark"]["wall_s"] if key == "total" else walls.get(key)
            w, driver = ("", "") if wall is None else (f"{wall:.1f}", f"{wall - s['job_s']:.1f}")
            lines.append(
                f"| {'**whole process**' if key == 'total' else key} | {w} | {s['jobs']} | {s['tasks']} | "
                f"{s['task_s']:.1f} | {s['task_cpu_s']:.1f} | {driver} | {s['shuffle_write_mb']:.1f} / "
                f"{s['shuffle_read_mb']:.1f} | {s['spill_disk_mb']:.1f} | {s['peak_task_memory_mb']:.0f} |"
            )
    return "\n".join(lines) + "\n"
