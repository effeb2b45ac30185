"""Benchmark of a full screening round at city scale (or a multiple of it), with its baselines, in one command.

    make bench [SCALE=1] [HOME_DIR=var/bench-x1] [BENCH_ARGS="--repeat 2"]
    make bench ENGINE=spark [SCALE=1] [BENCH_ARGS="--spark-only --spark-conf spark.driver.memory=6g"]
    python bench/run.py --scale 1 [--home DIR] [--reuse] [--repeat N] [--skip-splink] [--skip-dagster] [--skip-floor]
                        [--memory-limit 8GB] [--keep-state] [--namesake-share realistic|stress|SHARE]

Scale 1 is a Liuzhou-size city (350,000 households, ≈ 1.3 M persons, ≈ 1.4 M department rows in CSV — UTF-8, UTF-8
with BOM, GBK — and XLSX); scale 10 is a province (generated in parts: ``fangpin generate --size province``); any other
scale is ``fangpin generate --size city --scale F``; ``--namesake-share`` chooses the city's namesake level (issue 12:
realistic by default, stress for the stress figures). Steps, each in a fresh process, one after the other:

1. generate the synthetic city into the data home (skipped with ``--reuse`` when the home already holds one of this
   size and scale) — reported, but not part of the round;
2. the round, stage by stage, in process (bench/round_stages.py): ingest (archive, read, validate, load, clerk
   reports), link, flag, systemic, publish — wall time, CPU time and peak RSS per stage and for the whole round; ``--repeat N``
   runs it N times from an empty pipeline state (the landing files stay) and reports every run and the best;
3. the same round end to end through Dagster (``fangpin screen``), for the orchestration overhead: wall + peak RSS;
4. the floor (bench/floor.py): DuckDB alone reading the same landing files, exact-ID join, per-household sums;
5. Splink 5 against our linkage on the same warehouse records (bench/linkage_vs_splink.py), F1 against the ground
   truth (skipped above scale 2 unless ``--splink``; ``--skip-splink`` always skips it).

``--engine spark`` (``make bench ENGINE=spark``) replaces steps 2–5 by bench/engines.py: the round through
``fangpin screen`` on DuckDB and on Spark (``--spark-master``, default ``local[2]``; ``--spark-only`` skips DuckDB),
each on a fresh copy of the home, with per-step times, the process tree's peak memory (JVM included), Spark's
shuffle per step, and whether the two rounds' outputs are identical.

Results: ``bench/results/<UTC time>-x<scale>.json`` and ``.md`` (git-ignored), and a table on stdout. The machine is
described (cores, memory, load average before/after every step): on a shared machine compare CPU seconds too.
Before every round the pipeline state of the home (warehouse, archive, quarantine, reports, out, dagster) is removed;
the landing files and the ground truth stay. ``--keep-state`` leaves the last state in place for inspection.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from _measure import loadavg, run_child, to_json  # noqa: E402

PY = sys.executable
STATE = ("warehouse", "archive", "quarantine", "reports", "out", "dagster")
STAGES = ("ingest", "link", "flag", "systemic", "publish")
SUB = ("read", "validate", "load", "archive", "report")


def machine() -> dict:
    info = {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()
        info["memory_gb"] = round(int(mem[1]) / 2**20, 1)
        model = [ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")]
        info["cpu"] = model[0].split(":", 1)[1].strip() if model else ""
    except OSError:
        pass
    try:
        import duckdb
        import polars

        info["duckdb"], info["polars"] = duckdb.__version__, polars.__version__
    except ImportError:
        pass
    try:
        info["git"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        info["git_dirty"] = bool(
            subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        )
    except OSError:
        pass
    return info


def size_args(scale: float) -> tuple[str, float]:
    if scale >= 10 and abs(scale / 10 - round(scale / 10)) < 1e-9:
        return "province", scale / 10
    return "city", scale


def have_city(home: Path, scale: float, namesake_share: str = "realistic") -> bool:
    from fangpin.synth.names import namesake_target

    size, sub = size_args(scale)
    try:
        m = json.loads((home / "truth" / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        m.get("size") == size
        and abs(float(m.get("scale", 0)) - sub) < 1e-9
        and m.get("names", {}).get("namesake_target") == namesake_target(namesake_share)[1]
        and any((home / "landing" / "registry").glob("*"))
    )


def reset(home: Path) -> None:
    for name in STATE:
        p = home / name
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)


def fangpin_bin() -> str:
    cand = Path(PY).parent / "fangpin"
    return str(cand) if cand.exists() else "fangpin"


def log(msg: str) -> None:
    la = loadavg()
    print(f"[{time.strftime('%H:%M:%S')} load {la[0]:.1f}] {msg}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1 = city (350k households); 0.1; 10 = province")
    ap.add_argument("--home", type=Path, help="data home (default var/bench-x<scale>)")
    ap.add_argument("--reuse", action="store_true", help="keep the generated city if the home has one of this scale")
    ap.add_argument("--repeat", type=int, default=1, help="stage-by-stage rounds to run (best and all are reported)")
    ap.add_argument("--round", default="2026Q4")
    ap.add_argument("--pushed-on", default="2026-10-09")
    ap.add_argument(
        "--memory-limit", default="", help="DuckDB memory_limit for the round (FANGPIN_MEMORY_LIMIT), e.g. 8GB"
    )
    ap.add_argument("--skip-dagster", action="store_true")
    ap.add_argument("--skip-floor", action="store_true")
    ap.add_argument("--skip-splink", action="store_true")
    ap.add_argument("--splink", action="store_true", help="run Splink even above scale 2")
    ap.add_argument(
        "--keep-state", action="store_true", help="leave the last round's warehouse and outputs in the home"
    )
    ap.add_argument(
        "--namesake-share",
        default="realistic",
        help="namesake level of the generated city: realistic (default), stress, or a share (fangpin generate)",
    )
    ap.add_argument("--results", type=Path, default=BENCH / "results")
    ap.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb", help="spark: both engines (engines.py)")
    ap.add_argument("--spark-only", action="store_true", help="with --engine spark: skip the DuckDB round")
    ap.add_argument(
        "--spark-master", default=os.environ.get("FANGPIN_SPARK_MASTER") or "local[2]", help="Spark master of the round"
    )
    ap.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE", help="Spark setting (repeatable)")
    ap.add_argument("--skip-workbooks", action="store_true", help="with --engine spark: compare the Parquet only")
    ap.add_argument("--work", type=Path, help="with --engine spark: where the rounds' homes go (<home>.engines)")
    ap.add_argument(
        "--resume",
        action="store_true",
        help="with --engine spark: screen the copies kept in --work again (their feeds already ingested)",
    )
    args = ap.parse_args(argv)

    scale = args.scale
    home = (args.home or ROOT / "var" / f"bench-x{scale:g}").resolve()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    args.results.mkdir(parents=True, exist_ok=True)
    logs = args.results / f"{stamp}-x{scale:g}.logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GX_ANALYTICS_ENABLED="false", PYTHONUNBUFFERED="1")
    if args.memory_limit:
        env["FANGPIN_MEMORY_LIMIT"] = args.memory_limit
    result: dict = {
        "started": stamp,
        "scale": scale,
        "home": str(home),
        "machine": machine(),
        "load_start": loadavg(),
        "memory_limit": args.memory_limit or "(engine default)",
    }
    free = shutil.disk_usage(home.parent if home.parent.exists() else ROOT).free / 2**30
    result["disk_free_gb"] = round(free, 1)

    # 1. the city
    size, sub = size_args(scale)
    if args.reuse and have_city(home, scale, args.namesake_share):
        log(f"reusing the {size} ×{sub:g} city in {home}")
        result["generate"] = {"reused": True}
    else:
        log(f"generating a {size} ×{sub:g} city into {home} …")
        home.mkdir(parents=True, exist_ok=True)
        reset(home)
        g = run_child(
            [fangpin_bin(), "generate", "--size", size, "--scale", str(sub), "--home", str(home), "--force"]
            + ["--namesake-share", args.namesake_share],
            env=env,
            log_path=logs / "generate.log",
        )
        if g["returncode"]:
            print((logs / "generate.log").read_text(encoding="utf-8")[-3000:], file=sys.stderr)
            return 1
        result["generate"] = g
    manifest = json.loads((home / "truth" / "manifest.json").read_text(encoding="utf-8"))
    result["counts"] = manifest.get("counts", {})
    result["names"] = manifest.get("names", {})
    landing = home / "landing"
    files = [p for p in landing.rglob("*") if p.is_file()]
    result["landing"] = {
        "files": len(files),
        "mb": round(sum(p.stat().st_size for p in files) / 2**20, 1),
        "by_format": {k: sum(1 for p in files if p.suffix.lower() == k) for k in (".csv", ".xlsx")},
    }

    if args.engine == "spark":
        import engines

        result["engines"] = engines.run(args, home, env, logs)
        result["load_end"] = loadavg()
        ok = all(r["returncode"] == 0 for r in result["engines"]["rounds"].values())
        write_results(args, result, stamp, logs, engines.markdown(result))
        return 0 if ok else 1

    # 2. stage by stage
    runs = []
    for i in range(args.repeat):
        reset(home)
        log(f"round {i + 1}/{args.repeat}, stage by stage (bench/round_stages.py) …")
        out = logs / f"stages-{i + 1}.json"
        cmd = [
            PY,
            str(BENCH / "round_stages.py"),
            "--home",
            str(home),
            "--round",
            args.round,
            "--pushed-on",
            args.pushed_on,
            "--json",
            str(out),
        ] + (["--memory-limit", args.memory_limit] if args.memory_limit else [])
        child = run_child(cmd, env=env, log_path=logs / f"stages-{i + 1}.log")
        if child["returncode"]:
            print((logs / f"stages-{i + 1}.log").read_text(encoding="utf-8")[-4000:], file=sys.stderr)
            return 1
        r = json.loads(out.read_text(encoding="utf-8"))
        r["child"] = child
        runs.append(r)
        log(f"  round {r['round_wall_s']:.1f} s, peak RSS {r['process_peak_rss_mb'] / 1024:.2f} GB")
    best = min(runs, key=lambda r: r["round_wall_s"])
    result["stages_runs"] = runs
    result["stages_best"] = best

    # 3. end to end through Dagster
    if not args.skip_dagster:
        reset(home)
        log("round end to end through Dagster (fangpin screen) …")
        d = run_child(
            [fangpin_bin(), "screen", "--round", args.round, "--home", str(home), "--pushed-on", args.pushed_on],
            env=env,
            log_path=logs / "dagster.log",
        )
        if d["returncode"]:
            print((logs / "dagster.log").read_text(encoding="utf-8")[-4000:], file=sys.stderr)
            return 1
        result["dagster"] = d
        log(f"  fangpin screen {d['wall_s']:.1f} s, peak RSS {d['peak_rss_mb'] / 1024:.2f} GB")

    # 4. the floor
    if not args.skip_floor:
        log("floor: DuckDB alone on the landing files (bench/floor.py) …")
        out = logs / "floor.json"
        f = run_child(
            [PY, str(BENCH / "floor.py"), "--home", str(home), "--json", str(out)], env=env, log_path=logs / "floor.log"
        )
        if f["returncode"]:
            print((logs / "floor.log").read_text(encoding="utf-8")[-3000:], file=sys.stderr)
            return 1
        result["floor"] = {**json.loads(out.read_text(encoding="utf-8")), "child": f}
        log(f"  floor {result['floor']['wall_s']:.1f} s")

    # 5. Splink vs ours on the linkage stage (needs the warehouse of a finished round)
    if not args.skip_splink and (scale <= 2 or args.splink):
        if not (home / "warehouse" / "fangpin.duckdb").exists():
            reset(home)
            subprocess.run(
                [PY, str(BENCH / "round_stages.py"), "--home", str(home), "--json", str(logs / "for-splink.json")],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        log("linkage: ours vs Splink 5 on the same records (bench/linkage_vs_splink.py) …")
        out = logs / "linkage.json"
        s = run_child(
            [PY, str(BENCH / "linkage_vs_splink.py"), "--home", str(home), "--json", str(out), "--work", str(home)],
            env=env,
            log_path=logs / "linkage.log",
        )
        if s["returncode"]:
            print((logs / "linkage.log").read_text(encoding="utf-8")[-4000:], file=sys.stderr)
            result["linkage"] = {"error": (logs / "linkage.log").read_text(encoding="utf-8")[-2000:], "child": s}
        else:
            result["linkage"] = {**json.loads(out.read_text(encoding="utf-8")), "child": s}
            log(
                f"  ours {result['linkage']['ours']['wall_s']:.1f} s vs Splink {result['linkage'].get('splink', {}).get('wall_s', float('nan')):.1f} s"
            )
    if not args.keep_state:
        reset(home)
    result["load_end"] = loadavg()
    return write_results(args, result, stamp, logs, markdown(result))


def write_results(args, result: dict, stamp: str, logs: Path, md: str) -> int:
    path = args.results / f"{stamp}-x{args.scale:g}{'-engines' if args.engine == 'spark' else ''}.json"
    path.write_text(to_json(result), encoding="utf-8")
    path.with_suffix(".md").write_text(md, encoding="utf-8")
    print()
    print(md)
    print(f"results: {path} (+ .md; logs in {logs})")
    return 0


# ------------------------------------------------------------------------------------------------- report


def _gb(mb: float | None) -> str:
    return "—" if mb is None else f"{mb / 1024:.2f}"


def markdown(r: dict) -> str:
    m = r["machine"]
    best = r["stages_best"]
    st = best["stages"]
    c = r.get("counts", {})
    lines = [
        f"## Benchmark ×{r['scale']:g} — {r['started']}",
        "",
        f"Machine: {m.get('cores')} cores ({m.get('cpu', '?')}), {m.get('memory_gb', '?')} GB RAM; Python {m.get('python')}, "
        f"DuckDB {m.get('duckdb')}, Polars {m.get('polars')}; commit {m.get('git', '?')}{' (modified)' if m.get('git_dirty') else ''}. "
        f"Load average (1 min) at start {r['load_start'][0]:.1f}, at end {r['load_end'][0]:.1f}. DuckDB memory limit: {r['memory_limit']}.",
        "",
        f"Data: {c.get('households', '?'):,} households, {c.get('persons', '?'):,} persons, {c.get('records', '?'):,} department rows; "
        f"{r['landing']['files']} landing files ({r['landing']['by_format'].get('.csv', 0)} CSV, {r['landing']['by_format'].get('.xlsx', 0)} XLSX), "
        f"{r['landing']['mb']:,} MB."
        + (
            f" Generated in {r['generate']['wall_s']:.0f} s (not counted)."
            if "wall_s" in r.get("generate", {})
            else " (reused)"
        )
        + (
            f" Namesakes: {r['names']['namesake_share']:.1%} of registry persons share their exact name within their "
            f"township ({r['names']['namesake_level']} level)."
            if r.get("names")
            else ""
        ),
        "",
        f"### Round, stage by stage (best of {len(r['stages_runs'])}; every run: "
        + ", ".join(f"{x['round_wall_s']:.1f} s" for x in r["stages_runs"])
        + ")",
        "",
        "| stage | wall s | CPU s | peak RSS GB | load avg (start→end) |",
        "|---|---:|---:|---:|---|",
    ]
    for name in ("startup",) + STAGES:
        if name in st:
            s = st[name]
            lines.append(
                f"| {name} | {s['wall_s']:.1f} | {s['cpu_s']:.1f} | {_gb(s['peak_rss_mb'])} | {s['load_start']:.1f}→{s['load_end']:.1f} |"
            )
    for name in SUB:
        if name in st:
            s = st[name]
            lines.append(
                f"| ↳ {name} (inside ingest, {s['calls']} calls) | {s['wall_s']:.1f} | | {_gb(s['peak_rss_mb'])} | |"
            )
    cpu_total = sum(st[n]["cpu_s"] for n in ("startup",) + STAGES if n in st)
    lines.append(
        f"| **whole round** | **{best['round_wall_s']:.1f}** | {cpu_total:.1f} | **{_gb(best['process_peak_rss_mb'])}** | "
        f"{best['load_start'][0]:.1f}→{best['load_end'][0]:.1f} |"
    )
    if "link" in st and st["link"].get("steps_s"):
        lines += ["", "Linkage steps (s): " + ", ".join(f"{k} {v:.1f}" for k, v in st["link"]["steps_s"].items())]
    lines.append("")
    if "dagster" in r:
        d = r["dagster"]
        cores = m.get("cores") or 1
        lines.append(
            f"End to end through Dagster (`fangpin screen`, new process): **{d['wall_s']:.1f} s** wall, "
            f"{d['cpu_s']:.1f} CPU s, peak RSS {_gb(d['peak_rss_mb'])} GB (load {d['load_start'][0]:.1f}→{d['load_end'][0]:.1f}); "
            f"orchestration + imports overhead vs the in-process round: {d['wall_s'] - best['round_wall_s']:+.1f} s."
        )
        lines.append("")
        # the round is CPU-bound: however its work overlaps, its CPU seconds take at least this long on these cores.
        # Only the `fangpin screen` figure counts every process (wait4 of the whole tree); the in-process stages
        # count the reader processes but not the workbook processes (RUSAGE_SELF)
        lines.append(
            f"Lower bound from the CPU seconds of `fangpin screen` on {cores} cores (the same work perfectly "
            f"overlapped): **{d['cpu_s'] / cores:.1f} s** — below it only fewer CPU seconds help."
        )
        lines.append("")
    if "floor" in r:
        f = r["floor"]
        ratio = best["round_wall_s"] / f["wall_s"] if f["wall_s"] else float("nan")
        lines.append(
            f"Floor (DuckDB alone: read the same files, exact-ID join, per-household sums): **{f['wall_s']:.1f} s** "
            f"(read {f['stages']['read']['wall_s']:.1f} s, join+sum {f['stages']['join_sum']['wall_s']:.1f} s; files: "
            f"{f['files']['duckdb_csv']} UTF-8 CSV by DuckDB, {f['files']['polars_gbk_csv']} GBK CSV by Polars, "
            f"{f['files']['fastexcel_xlsx']} XLSX by fastexcel), peak RSS {_gb(f['process_peak_rss_mb'])} GB. "
            f"**Round / floor = {ratio:.1f}×**."
        )
        lines.append("")
    lk = r.get("linkage")
    if lk and "ours" in lk:
        o = lk["ours"]
        lines += [
            "| linker | wall s | peak RSS GB | precision | recall | F1 | F1, records without a usable ID |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name in ("ours", "splink"):
            if name in lk:
                x = lk[name]
                lines.append(
                    f"| {name} | {x['wall_s']:.1f} | {_gb(x['peak_rss_mb'])} | {x['overall']['precision']:.4f} | "
                    f"{x['overall']['recall']:.4f} | {x['overall']['f1']:.4f} | {x['no_usable_id']['f1']:.4f} |"
                )
        if "splink" in lk:
            lines.append("")
            lines.append(
                f"Linkage: ours / Splink wall = **{o['wall_s'] / lk['splink']['wall_s']:.2f}** "
                f"(Splink takes {lk['splink']['wall_s'] / o['wall_s']:.1f}× as long) on {lk['records']:,} records × {lk['persons']:,} persons."
            )
        lines.append("")
    elif lk:
        lines += ["Linkage comparison failed: see the log.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
