"""What a Spark application did, from its event log (``spark.eventLog.enabled``), per Dagster step of the round.

Why the event log and not the UI's REST API (``:4040/api/v1/…/stages``): the project's local sessions run with the UI
off (``warehouse.spark.LOCAL_CONF``), the REST API has to be polled before the application ends (a round's last job
ends a moment before the process), and it answers for one application on one port. The event log is written by the
driver as the jobs run, is complete when the process ends, and needs no change to the product: the bench turns it on
for its own child through ``PYSPARK_SUBMIT_ARGS`` (:func:`submit_args`) — tests and deployments are untouched. It is
written uncompressed and unrolled (Spark 4 defaults to zstd and rolling files) so that plain ``json`` reads it.

Counted from ``SparkListenerTaskEnd`` (every task attempt, failed ones included: their work was done) and the job
start/end events: jobs, the time inside at least one job (``job_s``; the rest of a step's wall is the driver's own
work: planning, Python, pyarrow writes, the manifest), tasks, executor run time (task-seconds: what the cores did), executor CPU time, shuffle bytes
written and read (local + remote), bytes spilled to disk, input bytes, and the largest peak execution memory of one
task. Each task belongs to the step whose [start, end] holds its finish time, each job to the step holding its
submission; what falls outside every step is ``(outside steps)``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Iterator
from pathlib import Path

OUTSIDE = "(outside steps)"


def submit_args(event_dir: Path, conf: dict[str, str] | None = None, base: str = "") -> str:
    """``PYSPARK_SUBMIT_ARGS`` turning the event log on (into ``event_dir``) plus ``conf``, after ``base`` (the
    caller's own value, without its trailing ``pyspark-shell``)."""
    settings = {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": event_dir.resolve().as_uri(),
        "spark.eventLog.compress": "false",
        "spark.eventLog.rolling.enabled": "false",
        **(conf or {}),
    }
    own = " ".join(f"--conf {shlex.quote(f'{k}={v}')}" for k, v in settings.items())
    base = base.strip().removesuffix("pyspark-shell").strip()
    return " ".join(x for x in (base, own, "pyspark-shell") if x)


def events(path: Path) -> Iterator[dict]:
    """The events of one log: a file, or a directory of ``events_*`` files (a rolled log), in order."""
    files = sorted(path.glob("events_*"), key=lambda p: int(p.name.split("_")[1])) if path.is_dir() else [path]
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def _empty() -> dict:
    return dict.fromkeys(
        ("jobs", "tasks", "failed_tasks", "job_s", "task_s", "task_cpu_s", "shuffle_write_mb", "shuffle_read_mb")
        + ("spill_disk_mb", "input_mb", "peak_task_memory_mb"),
        0,
    )


def _step_of(t_ms: float, steps: list[tuple[str, float, float]]) -> str:
    t = t_ms / 1000
    for key, start, end in steps:
        if start <= t <= end:
            return key
    return OUTSIDE


def summarise(evs: Iterable[dict], steps: dict[str, tuple[float, float]] | None = None) -> dict:
    """Totals of the application and per step: ``steps`` maps a step key to its (start, end) in epoch seconds.
    Returns ``{"total": {...}, "steps": {key: {...}}}`` with the counters of :func:`_empty` (MB are 2**20 bytes)."""
    spans = sorted(((k, s, e) for k, (s, e) in (steps or {}).items()), key=lambda x: x[1])
    total, per, started = _empty(), {}, {}
    job_step: dict[int, str] = {}
    spans_of: dict[str, list[tuple[float, float]]] = {}
    mb = 2**20

    def add(key: str, field: str, value: float, peak: bool = False) -> None:
        for d in (total, per.setdefault(key, _empty())):
            d[field] = max(d[field], value) if peak else d[field] + value

    for ev in evs:
        kind = ev.get("Event")
        if kind == "SparkListenerJobStart":
            started[ev["Job ID"]] = ev["Submission Time"]
            job_step[ev["Job ID"]] = key = _step_of(ev["Submission Time"], spans)
            add(key, "jobs", 1)
        elif kind == "SparkListenerJobEnd" and ev["Job ID"] in started:
            spans_of.setdefault(job_step[ev["Job ID"]], []).append((started[ev["Job ID"]], ev["Completion Time"]))
        elif kind == "SparkListenerTaskEnd":
            info, m = ev.get("Task Info", {}), ev.get("Task Metrics") or {}
            key = _step_of(info.get("Finish Time", 0), spans)
            add(key, "tasks", 1)
            add(key, "failed_tasks", int(bool(info.get("Failed") or info.get("Killed"))))
            add(key, "task_s", m.get("Executor Run Time", 0) / 1000)
            add(key, "task_cpu_s", m.get("Executor CPU Time", 0) / 1e9)
            w, r = m.get("Shuffle Write Metrics", {}), m.get("Shuffle Read Metrics", {})
            add(key, "shuffle_write_mb", w.get("Shuffle Bytes Written", 0) / mb)
            add(key, "shuffle_read_mb", (r.get("Remote Bytes Read", 0) + r.get("Local Bytes Read", 0)) / mb)
            add(key, "spill_disk_mb", m.get("Disk Bytes Spilled", 0) / mb)
            add(key, "input_mb", m.get("Input Metrics", {}).get("Bytes Read", 0) / mb)
            add(key, "peak_task_memory_mb", m.get("Peak Execution Memory", 0) / mb, peak=True)
    for key, intervals in spans_of.items():
        per[key]["job_s"] = union_s(intervals)
    total["job_s"] = union_s([i for v in spans_of.values() for i in v])
    return {"total": _rounded(total), "steps": {k: _rounded(v) for k, v in per.items()}}


def union_s(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one of the (start, end) intervals in epoch ms: jobs submitted from several
    threads at once overlap, and their durations' sum would exceed the wall time."""
    busy, end = 0.0, float("-inf")
    for s, e in sorted(intervals):
        if e > end:
            busy += e - max(s, end)
            end = e
    return busy / 1000


def _rounded(d: dict) -> dict:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}


def find_log(event_dir: Path) -> Path | None:
    """The application's log in ``event_dir`` (the newest, if several; a finished local log has no suffix)."""
    logs = [p for p in event_dir.iterdir() if not p.name.startswith(".") and not p.name.endswith(".crc")]
    return max(logs, key=lambda p: p.stat().st_mtime) if logs else None
