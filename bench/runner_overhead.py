"""What the step runner costs the DuckDB path, measured inside one city round (issue 13: "the DuckDB path is no slower").

    python bench/runner_overhead.py --home CITY_HOME [--work DIR] [--json out.json]

Before the seam every module ran its SQL text on the raw DuckDB connection; now every statement is a named step that
warehouse.steps.render looks up (file sections cached), fills in ({{table}}, ${value}) and hands to the runner, which
executes it on the same connection (results through Arrow, as DuckDB's ``.pl()`` did). What the seam adds on the
DuckDB path is therefore the rendering and the runner's bookkeeping around each step; the SQL DuckDB executes is the
same. This script runs bench/round_stages.py in this process on a fresh copy of ``CITY_HOME`` (landing files hard-
linked, no pipeline state: bench/engines.py ``fresh_home``) with ``warehouse.steps.render`` and the runner's
``_timed`` wrapper counted and timed, and reports their seconds against the round's, from the same run.

The pre-seam code cannot screen today's city (it predates the per-county registry exports and issue 12's linkage),
so a before/after round on the same files is not possible; this is the part of the round the seam added.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (str(Path(__file__).resolve().parent), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", required=True, type=Path, help="a generated city (its landing files are read)")
    ap.add_argument("--work", type=Path, help="where the fresh copy goes (default <home>.runner)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    import round_stages
    from engines import fresh_home

    from warehouse import runner, steps

    work = fresh_home(args.home, args.work or args.home.with_name(args.home.name + ".runner"))
    seen = {"render_calls": 0, "render_s": 0.0, "timed_calls": 0, "timed_overhead_s": 0.0}
    render = steps.render

    def timed_render(name, params, dialect="duckdb"):
        t0 = time.perf_counter()
        try:
            return render(name, params, dialect)
        finally:
            seen["render_calls"] += 1
            seen["render_s"] += time.perf_counter() - t0

    timed = runner.Runner._timed

    @contextlib.contextmanager
    def counted(self, step):
        # the bookkeeping itself: two perf_counter calls and a dict update per step, measured around a no-op
        t0 = time.perf_counter()
        with timed(self, "_probe"):
            pass
        self.timings.pop("_probe", None)
        seen["timed_calls"] += 1
        seen["timed_overhead_s"] += time.perf_counter() - t0
        with timed(self, step):
            yield

    steps.render = timed_render
    runner.Runner._timed = counted
    out = work / "stages.json"
    t0 = time.perf_counter()
    try:
        rc = round_stages.main(["--home", str(work), "--json", str(out)])
    finally:
        steps.render, runner.Runner._timed = render, timed
    wall = time.perf_counter() - t0
    stages = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    shutil.rmtree(work, ignore_errors=True)
    seam = seen["render_s"] + seen["timed_overhead_s"]
    res = {
        "round_wall_s": round(wall, 2),
        "steps_rendered": seen["render_calls"],
        "render_s": round(seen["render_s"], 4),
        "steps_run": seen["timed_calls"],
        "bookkeeping_s": round(seen["timed_overhead_s"], 4),
        "seam_share_of_round": round(seam / wall, 6) if wall else None,
        "round_stages_exit": rc,
        "stages": stages.get("stages", stages),
    }
    print(
        f"round {wall:.1f} s in process; {seen['render_calls']} step renderings took {seen['render_s']:.3f} s and the "
        f"runner's bookkeeping {seen['timed_overhead_s']:.4f} s: {100 * seam / wall:.3f} % of the round"
    )
    if args.json:
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
