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
        # the readers' name is already normalised (sources.read): only the key folding is left to do
        frame = frame.with_columns(names.name_key_expr(pl.col("name"), normalised=True).alias("name_key"))
    return frame


#: How many files are prepared ahead of the one being loaded. Preparing is two pipelined steps in their own
#: threads: reading (Polars / fastexcel: native code that releases the GIL) and validating (Great Expectations:
#: Python). Loading (DuckDB, which releases the GIL too), the clerk report and the outcome stay on the caller's
#: thread, in landing order, one transaction per file. With 2 (one file reading, one validating) the three steps
#: overlap on two cores; memory stays bounded at about three files' frames. 0 = no threads (all in order, inline).
PIPELINE_DEPTH = int(os.environ.get("FANGPIN_INGEST_PIPELINE", "2"))


@dataclass
class _Prepared:
    result: object  # ReadResult, or the UnreadableFile that sends the file to quarantine
    validation: FeedValidation | None = None


def ingest_feed(home: DataHome, feed: str, con, reference_date: dt.date | None = None) -> FeedOutcome:
    """Ingest every new file in ``landing/<feed>/``. ``con`` is an open read-write warehouse connection.

    Files are archived, read, validated and loaded in landing order, each load in its own transaction; while one file
    is loaded, the next ones (archived first) are already being validated and read in worker threads.
    """
    outcome = FeedOutcome(feed)
    seen = load.known_hashes(con)
    dropped = landing.scan(home.root, [feed])
    if not dropped:
        return outcome
    depth = max(PIPELINE_DEPTH, 0)
    readers = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"read-{feed}") if depth else None
    checkers = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"validate-{feed}") if depth else None
    queue: deque = deque()  # (archived, Future[_Prepared] or None = already ingested), in landing order
    files = iter(dropped)
    warmed = False

    def fill() -> None:
        nonlocal warmed
        while len(queue) < max(depth, 1):
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
            if readers is None:
                queue.append(
                    (archived, _done(_validate_one(home, feed, _read_one(home, feed, archived), reference_date)))
                )
            else:
                read_job = readers.submit(_read_one, home, feed, archived)
                queue.append((archived, checkers.submit(_validate_one, home, feed, read_job, reference_date)))

    try:
        fill()
        while queue:
            archived, job = queue.popleft()
            fill()  # keep the pipeline full before working on this file
            if job is None:
                outcome.files.append(FileOutcome(feed, archived.file_name, archived.file_hash, "already_ingested"))
                continue
            outcome.files.append(_ingest_one(home, feed, archived, con, reference_date, job.result()))
    finally:
        for _, job in queue:
            if job is not None:
                job.cancel()
        for pool in (checkers, readers):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
    return outcome


def _done(value) -> Future:
    f: Future = Future()
    f.set_result(value)
    return f


def _read_one(home: DataHome, feed: str, archived):
    """Read + name keys: a ReadResult, or the UnreadableFile that sends the file to quarantine."""
    try:
        result = read.read_file(
            archived.archived_path, feed, file_name=archived.file_name, file_hash=archived.file_hash, home=home.root
        )
    except read.UnreadableFile as exc:
        return exc
    result.rows = _with_keys(result.rows)
    return result


def _validate_one(home: DataHome, feed: str, result, reference_date) -> _Prepared:
    """The feed's Great Expectations suite on one file's accepted rows (``result`` may be a Future of the read)."""
    if isinstance(result, Future):
        result = result.result()
    if isinstance(result, read.UnreadableFile):
        return _Prepared(result)
    table = getattr(result, "table", "dept_record" if feed != "registry" else "registry_person")
    validation = validate_frame(
        result.rows, "village" if table == "village" else feed, reference_date=reference_date, home=home.root
    )
    return _Prepared(result, validation)


def _ingest_one(
    home: DataHome, feed: str, archived, con, reference_date, prepared: _Prepared | None = None
) -> FileOutcome:
    if prepared is None:
        prepared = _validate_one(home, feed, _read_one(home, feed, archived), reference_date)
    result, validation = prepared.result, prepared.validation
    if isinstance(result, read.UnreadableFile):
        exc = result
        qpath = archive_mod.quarantine(home.root, archived, exc.reason)
        load.record_unreadable(
            con,
            feed=feed,
            file_name=archived.file_name,
            file_hash=archived.file_hash,
            archived_path=str(qpath),
            reason=exc.reason,
        )
        rpath = report.write_clerk_report(
            home.root, exc, feed=feed, file_name=archived.file_name, file_hash=archived.file_hash
        )
        log.warning("quarantined %s/%s: %s", feed, archived.file_name, exc.code)
        return FileOutcome(
            feed, archived.file_name, archived.file_hash, "quarantined", reason=exc.reason, report_path=str(rpath)
        )

    table = getattr(result, "table", "dept_record" if feed != "registry" else "registry_person")
    rows = result.rows
    status, reason = "loaded", None
    if not validation.success:
        status = "blocked"
        failed = [o.description_zh for o in validation.outcomes if o.blocking and not o.success]
        reason = "；".join(failed)
    skipped = sum(result.skipped.values())
    lo = load.load_file(
        con,
        table=table,
        feed=feed,
        file_name=archived.file_name,
        file_hash=archived.file_hash,
        archived_path=str(archived.archived_path),
        rows=rows,
        rejected=result.rejected,
        rows_in_file=result.rows_in_file,
        rows_skipped=skipped,
        status=status,
        reason=reason,
    )
    if lo.source_file != archived.file_name:
        result.notes.append(
            f"此前已收到一个同名但内容不同的文件，本文件的记录在系统中以“{lo.source_file}”标识（文件名后加内容编号），"
            "以免与前一个文件的行号混淆"
        )
    rpath = report.write_clerk_report(
        home.root,
        result,
        feed=feed,
        file_name=archived.file_name,
        file_hash=archived.file_hash,
        validation=validation,
        status=status,
        duplicates=lo.duplicate_rows,
    )
    return FileOutcome(
        feed,
        archived.file_name,
        archived.file_hash,
        status,
        rows_in_file=result.rows_in_file,
        rows_accepted=result.rows.height,
        rows_rejected=result.rejected.height,
        rows_skipped=skipped,
        rows_duplicate_event=lo.rows_duplicate_event,
        reason=reason,
        validation=validation,
        report_path=str(rpath),
    )
