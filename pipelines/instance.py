"""The Dagster instance of a data home: ``<home>/dagster/`` with its ``dagster.yaml`` (runs, event log, schedules).

One helper for every way in — ``fangpin screen`` / ``fangpin ingest`` and ``dagster dev`` / ``make ui`` on the same
home — so the UI and the command line see the same runs and obey the same settings. No Dagster import here: the
file is plain YAML, written once (an analyst may edit it afterwards; an existing file is never overwritten).
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
