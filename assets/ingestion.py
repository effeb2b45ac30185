"""One feed's landing folder → archive → read → validate → warehouse, with a clerk report per file.

Plain Python (no Dagster) so that the asset, the folder sensor's runs and the tests share one path.
Every file ends in exactly one place: loaded, blocked (validation failed; kept out of screening), quarantined
(unreadable), or skipped as already ingested (same bytes).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import polars as pl

from fangpin.domain import names
from fangpin.home import DataHome
from quality import gx_runner
from quality.suites import FeedValidation, validate_frame
from sources import archive as archive_mod
from sources import landing, read, report
from warehouse import load

log = logging.getLogger("fangpin.ingest")


@dataclass
class FileOutcome:
    feed: str
    file_name: str
    file_hash: str
    status: str  # loaded | blocked | quarantined | already_ingested
    rows_in_file: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    rows_duplicate_event: int = 0
    reason: str | None = None
    validation: FeedValidation | None = None
    report_path: str | None = None


@dataclass
class FeedOutcome:
    feed: str
    files: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_accepted - f.rows_duplicate_event for f in self.files if f.status == "loaded")


def _with_keys(frame: pl.DataFrame) -> pl.DataFrame:
    if "name" in frame.columns:
        frame = frame.with_columns(names.name_key_expr(pl.col("name")).alias("name_key"))
    return frame


#: Files read ahead (in worker threads) while the current one is validated, loaded and reported. Reading is Polars
#: and fastexcel (native code that releases the GIL), validation is Great Expectations (Python), loading is DuckDB
#: (releases the GIL): overlapping them uses both cores. One file ahead bounds the memory to about two files' frames.
READ_AHEAD = int(os.environ.get("FANGPIN_READ_AHEAD", "1"))


def ingest_feed(home: DataHome, feed: str, con, reference_date: dt.date | None = None) -> FeedOutcome:
    """Ingest every new file in ``landing/<feed>/``. ``con`` is an open read-write warehouse connection.

    Files are archived, read, validated and loaded in landing order, each in its own transaction; while one file is
    validated and loaded, the next one (archived first) is already being read in a worker thread.
    """
    outcome = FeedOutcome(feed)
    seen = load.known_hashes(con)
    dropped = landing.scan(home.root, [feed])
    if not dropped:
        return outcome
    pool = ThreadPoolExecutor(max_workers=max(1, READ_AHEAD), thread_name_prefix=f"read-{feed}") if READ_AHEAD > 0 else None
    # slots: (archived, future or None); None = already ingested (same bytes)
    queue: deque = deque()
    files = iter(dropped)
    warmed = False

    def fill() -> None:
        nonlocal warmed
        while len(queue) < max(READ_AHEAD, 1):
            nxt = next(files, None)
            if nxt is None:
                return
            # Archive first: whatever happens next, the clerk's bytes are safe and never modified.
            archived = archive_mod.archive(home.root, nxt)
            if archived.file_hash in seen:
                queue.append((archived, None))
                continue
            seen.add(archived.file_hash)
            if not warmed:
                gx_runner.warm_up_in_background()  # the GX import (seconds) overlaps the first read
                warmed = True
            job = pool.submit(_read_one, home, feed, archived) if pool else _done(_read_one(home, feed, archived))
            queue.append((archived, job))

    try:
        fill()
        while queue:
            archived, job = queue.popleft()
            fill()  # start reading the next file before working on this one
            if job is None:
                outcome.files.append(FileOutcome(feed, archived.file_name, archived.file_hash, "already_ingested"))
                continue
            outcome.files.append(_ingest_one(home, feed, archived, con, reference_date, job.result()))
    finally:
        if pool:
            for _, job in queue:
                if job is not None:
                    job.cancel()
            pool.shutdown(wait=True)
    return outcome


def _done(value) -> Future:
    f: Future = Future()
    f.set_result(value)
    return f


def _read_one(home: DataHome, feed: str, archived):
    """Read + name keys (worker thread): a ReadResult, or the UnreadableFile that sends the file to quarantine."""
    try:
        result = read.read_file(archived.archived_path, feed, file_name=archived.file_name, file_hash=archived.file_hash, home=home.root)
    except read.UnreadableFile as exc:
        return exc
    result.rows = _with_keys(result.rows)
    return result


def _ingest_one(home: DataHome, feed: str, archived, con, reference_date, result=None) -> FileOutcome:
    if result is None:
        result = _read_one(home, feed, archived)
    if isinstance(result, read.UnreadableFile):
        exc = result
        qpath = archive_mod.quarantine(home.root, archived, exc.reason)
        load.record_unreadable(con, feed=feed, file_name=archived.file_name, file_hash=archived.file_hash, archived_path=str(qpath), reason=exc.reason)
        rpath = report.write_clerk_report(home.root, exc, feed=feed, file_name=archived.file_name, file_hash=archived.file_hash)
        log.warning("quarantined %s/%s: %s", feed, archived.file_name, exc.code)
        return FileOutcome(feed, archived.file_name, archived.file_hash, "quarantined", reason=exc.reason, report_path=str(rpath))

    table = getattr(result, "table", "dept_record" if feed != "registry" else "registry_person")
    rows = result.rows
    validation = validate_frame(rows, "village" if table == "village" else feed, reference_date=reference_date, home=home.root)
    status, reason = "loaded", None
    if not validation.success:
        status = "blocked"
        failed = [o.description_zh for o in validation.outcomes if o.blocking and not o.success]
        reason = "；".join(failed)
    skipped = sum(result.skipped.values())
    lo = load.load_file(
        con, table=table, feed=feed, file_name=archived.file_name, file_hash=archived.file_hash,
        archived_path=str(archived.archived_path), rows=rows, rejected=result.rejected,
        rows_in_file=result.rows_in_file, rows_skipped=skipped, status=status, reason=reason,
    )
    rpath = report.write_clerk_report(
        home.root, result, feed=feed, file_name=archived.file_name, file_hash=archived.file_hash,
        validation=validation, status=status, duplicates=lo.duplicate_rows,
    )
    return FileOutcome(
        feed, archived.file_name, archived.file_hash, status,
        rows_in_file=result.rows_in_file, rows_accepted=result.rows.height, rows_rejected=result.rejected.height,
        rows_skipped=skipped, rows_duplicate_event=lo.rows_duplicate_event, reason=reason,
        validation=validation, report_path=str(rpath),
    )
