"""The Dagster instance of a data home: ``<home>/dagster/`` with its ``dagster.yaml`` (runs, event log, schedules).

One helper for every way in — ``fangpin screen`` / ``fangpin ingest`` and ``dagster dev`` / ``make ui`` on the same
home — so the UI and the command line see the same runs and obey the same settings. No Dagster import at module
level: the file is plain YAML, written once (an analyst may edit it afterwards; an existing file is never
overwritten). :func:`run_progress` reads a run's steps from the run storage for ``fangpin status`` during a round.
"""

from __future__ import annotations

import os
from pathlib import Path

DAGSTER_YAML = """\
# Dagster instance settings for this data home (written by fangpin; edit freely, it is not overwritten).
telemetry:
  enabled: false
nux:
  # The UI's first-visit pop-up (a newsletter sign-up for Dagster's community) means nothing to a bureau analyst.
  enabled: false
concurrency:
  pools:
    # Every asset that writes the DuckDB warehouse is in pool "warehouse": DuckDB allows one writer process,
    # so runs that write it wait for each other instead of failing on the file lock.
    default_limit: 1
    granularity: run
run_retries:
  # A run whose worker crashed (killed, out of memory) is retried once. A run that failed on bad data or a missing
  # threshold is not: the failure names the file or rule to fix, and a retry would fail the same way.
  enabled: true
  max_retries: 1
  retry_on_asset_or_op_failure: false
run_monitoring:
  # With the daemon running: a launched run whose worker never started is failed after 3 minutes. A worker killed
  # once started is not seen by Dagster with the default run launcher (nor are in-process `fangpin` runs): the next
  # writer of the home marks such runs failed (fangpin.lock).
  enabled: true
  start_timeout_seconds: 180
  max_resume_run_attempts: 0
"""


def ensure_instance(home: str | os.PathLike, set_env: bool = False) -> Path:
    """Create ``<home>/dagster/dagster.yaml`` if it is missing; return its path. ``set_env`` also points
    ``DAGSTER_HOME`` and ``FANGPIN_HOME`` of this process at the home (what the command line does)."""
    root = Path(home).expanduser().resolve()
    dagster_home = root / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    cfg = dagster_home / "dagster.yaml"
    if not cfg.exists():
        tmp = cfg.with_suffix(".yaml.tmp")
        tmp.write_text(DAGSTER_YAML, encoding="utf-8")
        os.replace(tmp, cfg)
    if set_env:
        os.environ["DAGSTER_HOME"] = str(dagster_home)
        os.environ["FANGPIN_HOME"] = str(root)
    return cfg


def run_progress(home: str | os.PathLike, run_id: str) -> str | None:
    """One line on a run's progress from the home's Dagster run storage (readable while the run writes it):
    its status, steps finished, and the step under way. None when the storage cannot tell."""
    import dagster as dg

    dagster_home = Path(home).expanduser().resolve() / "dagster"
    try:
        instance = dg.DagsterInstance.from_config(str(dagster_home))
        run = instance.get_run_by_id(run_id)
        stats = instance.get_run_step_stats(run_id) if run is not None else []
    except Exception:  # a busy or older storage costs only the progress line, never the status command
        return None
    if run is None:
        return None
    done = [s.step_key for s in stats if s.status is not None and s.end_time is not None]
    going = [s.step_key for s in stats if s.end_time is None]
    line = f"Dagster 运行 {run_id[:8]} {run.status.value}，已完成 {len(done)} 步"
    if going:
        line += f"，正在进行：{'、'.join(going)}"
    elif done:
        line += f"（最近完成：{done[-1]}）"
    return line
