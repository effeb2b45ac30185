"""One full round, in this process, stage by stage, with wall time, CPU time and peak RSS per stage.

    python bench/round_stages.py --home DIR [--round 2026Q4] [--pushed-on 2026-10-09] [--json out.json]

Calls the functions the Dagster assets call, in the order the asset graph runs them (assets/ingest.py,
assets/screening.py), on a data home whose landing folders are full and whose pipeline state is empty (bench/run.py
resets it). Stages:

* ``ingest``   — every feed's landing folder: archive, read + normalise, validate, load, clerk report (one connection
  per feed, as the ingest assets open one). Files are read (and their quality checks measured) in reader processes,
  in parallel: their wall and CPU seconds and their largest resident memory are reported by ingest_feed and added as
  ``ingest.read`` (wall summed over files), ``reader_cpu_s`` and ``reader_peak_rss_mb``; the ingest stage's CPU
  seconds include the readers'. ``validate`` / ``load`` / ``report`` / ``archive`` are the parent's sums.
* ``link``     — warehouse.linkage.link_records
* ``flag``     — warehouse.rounds.start_round + warehouse.rules.screen
* ``systemic`` — assets.publishing.publish_systemic (the systemic-risk watch and its workbooks; issue 16)
* ``publish``  — assets.publishing.publish_round (with the watch's summary section) + warehouse.rounds.finish_round

The process imports (Polars, DuckDB, the project; not Dagster) are timed as ``startup``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

T_PROCESS = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import Recorder, emit, loadavg  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", required=True, type=Path)
    ap.add_argument("--round", default="2026Q4")
    ap.add_argument("--pushed-on", default="2026-10-09")
    ap.add_argument(
        "--memory-limit", default="", help="DuckDB memory_limit (e.g. 12GB); default DuckDB's own (80%% of RAM)"
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

    rec = Recorder()
    load0 = loadavg()
    t_round = time.perf_counter()
    with rec.stage("startup"):
        import datetime as dt

        import assets.ingestion as ingestion
        import assets.publishing as publish
        from fangpin.domain.rounds import parse_round
        from fangpin.home import DataHome
        from warehouse import engine, rounds, rules, systemic
        from warehouse.linkage import link_records
    home = DataHome.at(args.home).ensure()
    os.environ["FANGPIN_HOME"] = str(home.root)  # as the command line: the home's divisions table applies
    info = parse_round(args.round)
    kind = info.default_kind
    pushed_on = dt.date.fromisoformat(args.pushed_on)
    feeds = ("registry", "medical", "disaster", "civil_affairs", "employment", "property")  # assets.ingest.INGEST_FEEDS
    mem = args.memory_limit or None

    # sub-stage timers around the functions ingest_feed calls (wrapping, not changing them)
    def timed(module, name: str, stage: str) -> None:
        fn = getattr(module, name)

        def wrapper(*a, **k):
            with rec.stage(stage):
                return fn(*a, **k)

        setattr(module, name, wrapper)

    # linkage steps (peak memory per step; wall per step is also in LinkStats.steps)
    from warehouse.linkage import blocking as lk_blocking
    from warehouse.linkage import compare as lk_compare
    from warehouse.linkage import decide as lk_decide
    from warehouse.linkage import keys as lk_keys

    timed(lk_keys, "prepare", "link.keys")
    timed(lk_blocking, "id_pairs", "link.id_pairs")
    timed(lk_blocking, "rule_pairs", "link.blocking")
    timed(lk_compare, "compare", "link.compare")
    timed(lk_decide, "decide_id", "link.decide")
    timed(lk_decide, "decide_fuzzy", "link.decide")

    counts: dict = {}
    steps: dict[str, float] = {}
    reader_peak = 0
    with rec.stage("ingest") as ingest_stage:
        for feed in feeds:
            with engine.connect(home.warehouse_path, memory_limit=mem) as con:
                out = ingestion.ingest_feed(home, feed, con)
            counts[feed] = {s: out.count(s) for s in ("loaded", "blocked", "quarantined", "already_ingested")}
            counts[feed]["rows_loaded"] = out.rows_loaded
            counts[feed]["rows_in_files"] = sum(f.rows_in_file for f in out.files)
            for k, v in out.timings.items():
                steps[k] = steps.get(k, 0.0) + v
            reader_peak = max(reader_peak, out.reader_peak_rss)
    ingest_stage.cpu_s += steps.get("read_cpu", 0.0)  # the reader processes' CPU
    ingest_stage.extra["steps_s"] = {k: round(v, 2) for k, v in steps.items() if k != "read_cpu"}
    ingest_stage.extra["reader_cpu_s"] = round(steps.get("read_cpu", 0.0), 2)
    ingest_stage.extra["reader_peak_rss_mb"] = round(reader_peak / 2**20, 1)
    with rec.stage("link") as st:
        with engine.connect(home.warehouse_path, memory_limit=mem) as con:
            stats = link_records(con, home=home.root)
        st.extra["steps_s"] = {k: round(v, 2) for k, v in stats.steps.items()}
        st.extra["methods"] = stats.methods
        st.extra["records"], st.extra["persons"] = stats.records, stats.persons
        st.extra["block_pairs"], st.extra["compared_pairs"] = stats.block_pairs, stats.compared_pairs
    with rec.stage("flag") as st:
        with engine.connect(home.warehouse_path, memory_limit=mem) as con:
            rounds.start_round(con, info.round_id, kind, info.reference_date)
            s = rules.screen(con, info.round_id, kind, info.reference_date, pushed_on, home=home.root)
        st.extra["suspects"] = s.suspects
        st.extra["households"] = s.households
    with rec.stage("systemic") as st:
        with engine.connect(home.warehouse_path, memory_limit=mem) as con:
            watch, written = publish.publish_systemic(con, home.root, info.round_id, info.reference_date)
        st.extra["flags"], st.extra["areas"] = watch.flags, written["areas"]
        st.extra["survey_households"] = watch.survey_households
    with rec.stage("publish") as st:
        with engine.connect(home.warehouse_path, memory_limit=mem) as con:
            res = publish.publish_round(con, home.root, info.round_id, systemic=systemic.summary(con, info.round_id))
            rounds.finish_round(con, info.round_id)
        st.extra["files"] = len(res.get("files", []))
    wall = time.perf_counter() - t_round
    rec.close()
    with engine.connect(home.warehouse_path, read_only=True) as con:
        sizes = dict(
            con.sql(
                "SELECT 'registry_person', count(*) FROM registry_person UNION ALL SELECT 'dept_record', count(*) FROM dept_record "
                "UNION ALL SELECT 'households', count(DISTINCT household_id) FROM registry_person "
                "UNION ALL SELECT 'files', count(*) FROM ingested_file UNION ALL SELECT 'rejected_row', count(*) FROM rejected_row"
            ).fetchall()
        )
    result = {
        "round_wall_s": round(wall, 3),
        "process_wall_s": round(time.perf_counter() - T_PROCESS, 3),
        "load_start": load0,
        "load_end": loadavg(),
        **rec.as_dict(),
        "counts": counts,
        "sizes": sizes,
        "warehouse_mb": round(home.warehouse_path.stat().st_size / 2**20, 1),
    }
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
