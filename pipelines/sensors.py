"""Folder sensors: one per landing folder, launching ingestion of that feed when new files have settled.

A department feed's drop launches ONE run per tick for all its settled files: ingest the feed, link, and an
incremental round ``<YYYYMMDD>-<feed>`` over all counties (``pipelines.schedules.incremental_round_request``).
A registry drop only ingests (a new registry snapshot is screened by the next round).

A file is picked up only when its size and modification time are unchanged since the previous tick (ticks are at
least ``TICK_SECONDS`` apart) and — when ``landing.settle_seconds`` of ``ingest.yaml`` is longer than a tick — it has
not been modified for that long, so a file still being written (or copied over a slow share) waits. Temporary names (``~$…``, ``.part``, ``.tmp``, lock files) never start a run; hidden files and links
do not either (the next run writes their receipts). The cursor remembers, per file name, the last (size, mtime) seen
and whether that version was already requested.
"""

import datetime as dt
import json
import os
import time
from pathlib import Path

import dagster as dg

from assets.ingest import INGEST_FEEDS, asset_name
from fangpin import lock, settings
from fangpin.home import DataHome, apply_umask
from pipelines.jobs import ingest_job, screening_round_job
from pipelines.schedules import TIMEZONE, incremental_round_request
from sources.landing import is_candidate

#: the sensors' minimum interval: a file unchanged across two ticks was unchanged at least this long
TICK_SECONDS = 30


def settled_files(
    folder: Path, cursor: dict, settle_seconds: float = 0.0, now: float | None = None
) -> tuple[list[tuple[str, int, float]], dict]:
    """Pure tick logic: return (files ready to ingest, new cursor). Cursor: {name: [size, mtime, requested]}."""
    new_cursor: dict = {}
    ready: list[tuple[str, int, float]] = []
    if not folder.is_dir():
        return ready, new_cursor
    now = time.time() if now is None else now
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not is_candidate(Path(entry.path)):
            continue
        st = entry.stat()
        size, mtime = st.st_size, st.st_mtime
        prev = cursor.get(entry.name)
        if prev and prev[0] == size and prev[1] == mtime and now - mtime >= settle_seconds:
            requested = bool(prev[2])
            if not requested:
                ready.append((entry.name, size, mtime))
            new_cursor[entry.name] = [size, mtime, True]
        else:
            new_cursor[entry.name] = [size, mtime, False]  # new or still changing: look again next tick
    return ready, new_cursor


def build_folder_sensor(feed: str) -> dg.SensorDefinition:
    rounds = feed not in ("registry", "feedback")  # a registry export or a county's answer does not start a round

    @dg.sensor(
        name=f"landing_{feed}",
        job=screening_round_job if rounds else ingest_job,
        minimum_interval_seconds=TICK_SECONDS,
        # Off until an analyst switches it on: an incremental round publishes county lists, and on a home whose
        # landing folders already hold files the empty cursor sees them all as new (docs/DECISIONS.md).
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            f"监听 landing/{feed}/ 新投放的文件：入库、匹配，并运行一次增量筛查（全部县）。"
            if rounds
            else f"监听 landing/{feed}/ 新投放的文件并入库。"
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        apply_umask()  # a tick may run in a process that never loaded the definitions module
        home = DataHome.at(None)
        _fail_dead_runs(context, home)
        cursor = json.loads(context.cursor) if context.cursor else {}
        waits = settings.load("ingest", home.root).get("landing") or {}
        settle = float(waits.get("settle_seconds", 2))
        ready, new_cursor = settled_files(home.landing_for(feed), cursor, settle if settle > TICK_SECONDS else 0.0)
        if rounds:
            now = dt.datetime.now(dt.UTC).astimezone(_tz())
            requests = [incremental_round_request(feed, ready, now, dg.AssetKey(asset_name(feed)))] if ready else []
        else:
            requests = [
                dg.RunRequest(
                    run_key=f"{feed}:{name}:{size}:{mtime}",
                    asset_selection=[dg.AssetKey(asset_name(feed))],
                    tags={"fangpin/feed": feed, "fangpin/file": name},
                )
                for name, size, mtime in ready
            ]
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(new_cursor, sort_keys=True))

    return _sensor


def _fail_dead_runs(context: dg.SensorEvaluationContext, home: DataHome) -> None:
    """A run killed mid-way stays STARTED and, with run-granularity pools, holds the queue of every later warehouse
    run: each tick marks such runs failed (fangpin.lock; safe without the writer lease, a dead process cannot
    resume). A tick built without an instance (tests) has nothing to mark."""
    if context.instance_ref is None:
        return
    for run_id in lock.fail_dead_runs(context.instance, home.root):
        context.log.warning(f"run {run_id} was left unfinished by a killed process: marked failed")


def _tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(TIMEZONE)


folder_sensors = [build_folder_sensor(f) for f in (*INGEST_FEEDS, "feedback")]
