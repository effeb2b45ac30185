"""The flag stage (warehouse.rules.screen) of two versions of the code, alternately, in the same minutes.

    python bench/screen_ab.py --home DIR --old REV [--new DIR] [--repeat 2] [--round 2026Q4] [--pushed-on 2026-10-09]

``--old`` is a git revision, checked out into a temporary worktree; ``--new`` is a checkout (default: this one).
Each run screens a private copy of ``<home>/warehouse/fangpin.duckdb`` (the home's links and department records as
they are; the home itself is not written), in a new process, and reports its wall and CPU seconds. The last copy of
each version is compared table by table (suspect, suspect_evidence, review_impact, relocation_followup,
priority_target; EXCEPT ALL both ways): a speed change must leave the rows as they were. The machine moves by up to a
third between runs minutes apart, so the versions alternate and the ratio is the figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("suspect", "suspect_evidence", "review_impact", "relocation_followup", "priority_target")

_CHILD = """
import datetime as dt, json, os, shutil, sys, time
code, home, db, round_id, pushed_on = sys.argv[1:6]
sys.path.insert(0, code)
os.environ["FANGPIN_HOME"] = home
shutil.copy(os.path.join(home, "warehouse", "fangpin.duckdb"), db)
from fangpin.domain.rounds import parse_round
from warehouse import engine, rounds, rules
info = parse_round(round_id)
with engine.connect(db) as con:
    rounds.start_round(con, info.round_id, info.default_kind, info.reference_date)
    t, c = time.perf_counter(), time.process_time()
    st = rules.screen(con, info.round_id, info.default_kind, info.reference_date, dt.date.fromisoformat(pushed_on),
                      home=home)
    print(json.dumps({"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                      "suspects": st.suspects, "evidence_rows": st.evidence_rows}))
"""


def _screen(code: Path, home: Path, db: Path, round_id: str, pushed_on: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(code), str(home), str(db), round_id, pushed_on],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _differences(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    import duckdb

    con = duckdb.connect(str(a), read_only=True)
    con.execute(f"ATTACH '{b}' AS other (READ_ONLY)")
    out = {}
    for t in TABLES:
        cols = ", ".join(r[0] for r in con.sql(f"DESCRIBE {t}").fetchall() if r[0] != "created_at")
        only_a = con.sql(f"SELECT count(*) FROM (SELECT {cols} FROM {t} EXCEPT ALL SELECT {cols} FROM other.{t})")
        only_b = con.sql(f"SELECT count(*) FROM (SELECT {cols} FROM other.{t} EXCEPT ALL SELECT {cols} FROM {t})")
        out[t] = (only_a.fetchall()[0][0], only_b.fetchall()[0][0])
    con.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", required=True, type=Path)
    ap.add_argument("--old", required=True, help="git revision of the old version")
    ap.add_argument("--new", type=Path, default=ROOT, help="checkout of the new version (default: this one)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--round", default="2026Q4")
    ap.add_argument("--pushed-on", default="2026-10-09")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="screen_ab_") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old), args.old], check=True)
        try:
            dbs = {"old": Path(tmp) / "old.duckdb", "new": Path(tmp) / "new.duckdb"}
            for i in range(args.repeat):
                for name, code in (("old", old), ("new", args.new.resolve())):
                    r = _screen(code, args.home.resolve(), dbs[name], args.round, args.pushed_on)
                    print(
                        f"{name} run {i + 1}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} CPU s, "
                        f"{r['suspects']} suspects, {r['evidence_rows']} evidence rows",
                        flush=True,
                    )
            diff = _differences(dbs["old"], dbs["new"])
            for t, (a, b) in diff.items():
                print(f"{t}: {a} rows only in old, {b} only in new")
            return 0 if all(a == b == 0 for a, b in diff.values()) else 1
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)


if __name__ == "__main__":
    raise SystemExit(main())
