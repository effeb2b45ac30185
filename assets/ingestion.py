"""One feed's landing folder → archive → read → validate → warehouse, with a clerk receipt per file.

Plain Python (no Dagster) so that the asset, the folder sensor's runs and the tests share one path.
Every file ends in exactly one place: loaded, blocked (validation failed; kept out of screening), quarantined
(unreadable, or its reader crashed or hit a limit), or skipped with a receipt (already ingested, an identical copy of
another file, a hidden file or a link); a file still being written is left for the next run.

Who does what:

- the parent (this module, on the caller's thread) scans the landing folder, waits for files to settle, archives each
  file, hands it to a reader process, and then — in landing order, one transaction per file — loads what came back
  into the warehouse (the only writer), writes the clerk's receipt and records the outcome;
- reader processes (:mod:`sources.pool`, as many as the machine has cores) read one file each with
  :func:`prepare_file`: pre-checks, parsing, normalisation, row-level rejects, name keys, and the one pass over the
  accepted rows that measures what the quality suite checks (:func:`quality.suites.measure_frame`). The rows come
  back as Arrow IPC files, not pickled rows;
- a validator thread of the parent lets Great Expectations judge the measured summary of the next file
  (:func:`quality.suites.judge`; GX is imported once, in the parent only) while the current one is loaded.

A reader that crashes, runs out of memory or time quarantines that one file (a receipt says why) and the other files
go on; the file is not read again until it is dropped again (:func:`_retry`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.ipc

from fangpin import settings
from fangpin.domain import names
from fangpin.home import DataHome
from quality import gx_runner
from quality.suites import FeedValidation, Measured, judge, measure_frame
from sources import archive as archive_mod
from sources import landing, pool, read, report
from sources.errors import UnreadableFile
from warehouse import load

log = logging.getLogger("fangpin.ingest")

#: the function reader processes run (see :func:`prepare_file`)
TASK = "assets.ingestion:prepare_file"
#: the frames of a ReadResult that travel back from a reader process as Arrow IPC files
FRAMES = ("rows", "rejected", "warnings", "skipped_rows", "count_rows")
#: codes of a reader process that did not finish: such a file is read again only when it is dropped again
READER_FAILURES = frozenset({"reader_crash", "reader_memory", "reader_timeout", "reader_error"})


@dataclass
class FileOutcome:
    feed: str
    file_name: str
    file_hash: str
    status: str  # loaded | blocked | quarantined | already_ingested | identical_copy | skipped | unsettled
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
    #: seconds per step summed over the files: read (wall, in reader processes, in parallel), read_cpu (their CPU
    #: seconds), validate (measure in the reader + GX's verdict in the parent), load, report, archive; settle (waiting
    #: for young files)
    timings: dict[str, float] = field(default_factory=dict)
    #: the largest resident memory of a reader process that read one of this feed's files (bytes; a process's maximum
    #: so far, so an earlier, larger file of the same process may set it)
    reader_peak_rss: int = 0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_accepted - f.rows_duplicate_event for f in self.files if f.status == "loaded")

    def add_time(self, step: str, seconds: float) -> None:
        self.timings[step] = self.timings.get(step, 0.0) + seconds


# ------------------------------------------------------------------------------------------- the reader process


@dataclass(frozen=True)
class ReadJob:
    feed: str
    file_name: str
    file_hash: str
    archived_path: str
    home: str
    out_dir: str  # where the Arrow files go (the pool's private work folder)
    arrived: dt.date | None = None  # the day the file was dropped: later event dates are rejected
    reference_date: dt.date | None = None  # the round's reference date, for the suite's date window


def _with_keys(frame: pl.DataFrame) -> pl.DataFrame:
    if "name" in frame.columns:
        # the readers' name is already normalised (sources.read): only the key folding is left to do
        frame = frame.with_columns(names.name_key_expr(pl.col("name"), normalised=True).alias("name_key"))
    return frame


def prepare_file(job: ReadJob) -> tuple[read.ReadResult, Measured] | UnreadableFile:
    """Runs in a reader process: read one archived file, add the name keys and measure the quality suite's checks.
    The frames are written as Arrow IPC files next to each other in ``job.out_dir`` and replaced by their paths in the
    returned result (small: counts, notes, the column map); an unreadable file comes back as its
    :class:`UnreadableFile`."""
    try:
        result = read.read_file(
            Path(job.archived_path),
            job.feed,
            file_name=job.file_name,
            file_hash=job.file_hash,
            home=Path(job.home),
            arrived=job.arrived,
        )
    except UnreadableFile as exc:
        return exc
    result.rows = _with_keys(result.rows)
    measured = measure_frame(result.rows, _suite(result), job.reference_date, Path(job.home))
    stem = Path(job.out_dir) / job.file_hash[:16]
    for name in FRAMES:
        path = f"{stem}.{name}.arrow"
        getattr(result, name).write_ipc(path, compression="uncompressed")
        setattr(result, name, path)
    return result, measured


def _suite(result: read.ReadResult) -> str:
    """The quality suite of a read file: its feed's, the village table's for the registry folder's village file."""
    return "village" if result.table == "village" else result.feed


def _take_frames(result: read.ReadResult) -> read.ReadResult:
    """The parent's side of :func:`prepare_file`: the frames back from their Arrow files (memory-mapped), files removed."""
    for name in FRAMES:
        path = getattr(result, name)
        with pa.memory_map(path) as source:
            frame = pl.from_arrow(pa.ipc.open_file(source).read_all())
        setattr(result, name, frame)
        os.unlink(path)
    return result


# ---------------------------------------------------------------------------------------------------- the parent


@dataclass
class _Pending:
    archived: archive_mod.ArchivedFile
    dropped: landing.DroppedFile
    job: Future | None  # Future[_Prepared]; None = nothing to read
    copy_of: str | None = None  # an identical copy of this file (same bytes, another name) was taken in first
    read: Future | None = None  # the reader process's task (cancelled if the run stops early)


@dataclass
class _Prepared:
    result: object  # ReadResult, or the UnreadableFile that sends the file to quarantine
    validation: FeedValidation | None = None
    read_seconds: float = 0.0
    read_cpu_seconds: float = 0.0
    read_peak_rss: int = 0


def ingest_feed(home: DataHome, feed: str, con, reference_date: dt.date | None = None) -> FeedOutcome:
    """Ingest every new file in ``landing/<feed>/``. ``con`` is the open read-write warehouse (a step
    runner, or a DuckDB connection the loader wraps).

    Files are archived, read and validated ahead (reader processes, a validator thread) and loaded in landing order,
    each in its own transaction.
    """
    outcome = FeedOutcome(feed)
    cfg = settings.load("ingest", home.root)
    for skipped in landing.scan_skipped(home.root, [feed]):
        outcome.files.append(_not_read(home, feed, skipped))
    waits = cfg.get("landing") or {}
    t0 = time.perf_counter()
    dropped, changing = landing.settle(
        landing.scan(home.root, [feed]),
        float(waits.get("settle_seconds", 2)),
        float(waits.get("settle_max_wait_seconds", 30)),
    )
    outcome.add_time("settle", time.perf_counter() - t0)
    for f in changing:  # no receipt: the next run reads it
        log.info("not settled yet, left for the next run: %s/%s", feed, f.name)
        outcome.files.append(FileOutcome(feed, f.name, "", "unsettled", reason="文件仍在写入或复制中，下次再读取"))
    if not dropped:
        return outcome
    known = load.known_files(con)
    limits = pool.PoolLimits.from_config(cfg)
    # Files read ahead of the one being loaded: enough that a large file at the head of the line does not leave the
    # other readers idle, bounded in number and in bytes (their rows wait as Arrow files in shared memory).
    depth = 2 * limits.workers + 1
    budget = float((cfg.get("readers") or {}).get("read_ahead_mb", 256)) * 2**20
    files = iter(dropped)
    queue: deque[_Pending] = deque()
    warmed = False

    with pool.shared_pool(TASK, limits) as readers, ThreadPoolExecutor(1, thread_name_prefix="validate") as checker:

        def fill() -> None:
            nonlocal warmed
            while len(queue) < depth and (not queue or sum(i.archived.size for i in queue) < budget):
                nxt = next(files, None)
                if nxt is None:
                    return
                # Archive first: whatever happens next, the clerk's bytes are safe and never modified.
                t0 = time.perf_counter()
                archived = archive_mod.archive(home.root, nxt)
                outcome.add_time("archive", time.perf_counter() - t0)
                seen = known.get(archived.file_hash)
                if seen is not None and not _retry(seen, nxt):
                    copy_of = seen.file_name if seen.file_name != archived.file_name else None
                    queue.append(_Pending(archived, nxt, None, copy_of))
                    continue
                known[archived.file_hash] = load.KnownFile(archived.file_name, "reading", None, None)
                if not warmed:
                    gx_runner.warm_up_in_background()  # the GX import (seconds) overlaps the first reads
                    warmed = True
                job = ReadJob(
                    feed, archived.file_name, archived.file_hash, str(archived.archived_path), str(home.root),
                    str(readers.workdir), _mtime(nxt).date(), reference_date,
                )  # fmt: skip
                read = readers.submit(job, size=archived.size)
                queue.append(_Pending(archived, nxt, checker.submit(_validate, home, read), read=read))

        try:
            fill()
            while queue:
                item = queue.popleft()
                fill()  # keep the readers busy before working on this file
                if item.job is None:
                    outcome.files.append(_not_read_again(home, feed, item))
                    continue
                prepared = item.job.result()
                outcome.add_time("read", prepared.read_seconds)
                outcome.add_time("read_cpu", prepared.read_cpu_seconds)
                outcome.reader_peak_rss = max(outcome.reader_peak_rss, prepared.read_peak_rss)
                if prepared.validation is not None:
                    outcome.add_time("validate", prepared.validation.elapsed_s)
                outcome.files.append(_ingest_one(home, feed, item, con, prepared, outcome))
        finally:
            for item in queue:  # stopped early (an exception): no reader works for nothing
                for fut in (item.read, item.job):
                    if fut is not None:
                        fut.cancel()
    return outcome


def _retry(known: load.KnownFile, dropped: landing.DroppedFile) -> bool:
    """A file whose reader crashed or hit a limit is read again only when it was dropped again (a newer copy of the
    same bytes); every other known file is done."""
    if known.status != "quarantined" or known.reason_code not in READER_FAILURES:
        return False
    return known.dropped_at is None or _mtime(dropped) > known.dropped_at


def _mtime(dropped: landing.DroppedFile) -> dt.datetime:
    return dt.datetime.fromtimestamp(dropped.mtime).replace(microsecond=0)


def _validate(home: DataHome, read_job: Future) -> _Prepared:
    """The validator thread: wait for the reader, take its frames, let GX judge what the reader measured."""
    try:
        done = read_job.result()
    except pool.ReaderFailed as exc:
        return _Prepared(exc, read_peak_rss=exc.peak_rss)
    stats = done.stats
    if isinstance(done.value, UnreadableFile):
        return _Prepared(done.value, None, stats.seconds, stats.cpu_seconds, stats.peak_rss)
    result, measured = done.value
    return _Prepared(_take_frames(result), judge(measured, home.root), stats.seconds, stats.cpu_seconds, stats.peak_rss)


def _ingest_one(
    home: DataHome, feed: str, item: _Pending, con, prepared: _Prepared, outcome: FeedOutcome
) -> FileOutcome:
    archived = item.archived
    result, validation = prepared.result, prepared.validation
    if isinstance(result, pool.ReaderFailed):
        limits = pool.PoolLimits.from_config(settings.load("ingest", home.root))
        result = UnreadableFile(
            result.code, pool.failure_reason(result, limits, archived.size), feed=feed, detail=result.detail
        )
    if isinstance(result, UnreadableFile):
        return _quarantine(home, feed, item, con, result)

    t0 = time.perf_counter()
    table = result.table
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
        rows=result.rows,
        rejected=result.rejected,
        rows_in_file=result.rows_in_file,
        rows_skipped=skipped,
        status=status,
        reason=reason,
        dropped_at=_mtime(item.dropped),
    )
    outcome.add_time("load", time.perf_counter() - t0)
    if lo.source_file != archived.file_name:
        result.notes.append(
            f"此前已收到一个同名但内容不同的文件，本文件的记录在系统中以“{lo.source_file}”标识（文件名后加内容编号），"
            "以免与前一个文件的行号混淆"
        )
    if lo.superseded:
        earlier = "、".join(h[:16] for h in lo.superseded)
        result.notes.append(
            f"本文件是“{archived.file_name}”的新版本，取代了此前收到的同名文件（文件指纹{earlier}）：此前版本的记录保留，"
            "但标记为“已被取代”，不再计入筛查，同一事件不会计算两次"
        )
    t0 = time.perf_counter()
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
    outcome.add_time("report", time.perf_counter() - t0)
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


def _quarantine(home: DataHome, feed: str, item: _Pending, con, exc: UnreadableFile) -> FileOutcome:
    archived = item.archived
    exc.feed, exc.file_name, exc.file_hash = feed, archived.file_name, archived.file_hash
    qpath = archive_mod.quarantine(home.root, archived, exc.reason)
    load.record_unreadable(
        con,
        feed=feed,
        file_name=archived.file_name,
        file_hash=archived.file_hash,
        archived_path=str(qpath),
        reason=exc.reason,
        reason_code=exc.code,
        dropped_at=_mtime(item.dropped),
    )
    rpath = report.write_clerk_report(
        home.root, exc, feed=feed, file_name=archived.file_name, file_hash=archived.file_hash
    )
    log.warning("quarantined %s/%s: %s", feed, archived.file_name, exc.code)
    return FileOutcome(
        feed, archived.file_name, archived.file_hash, "quarantined", reason=exc.reason, report_path=str(rpath)
    )


def _not_read(home: DataHome, feed: str, skipped: landing.SkippedFile) -> FileOutcome:
    """A hidden file or a link in the landing folder: not read; its receipt (written once) says why."""
    if skipped.why == "link":
        exc = UnreadableFile(
            "link",
            "这是一个快捷方式（链接），不是文件本身；为了安全，系统不读取链接指向的内容。请把文件本身复制到文件夹中。",
        )
    else:
        exc = UnreadableFile(
            "hidden_file",
            "文件名以“.”开头，是隐藏文件（通常是系统或软件自动生成的），系统不读取。"
            "如果这是要报送的数据，请去掉文件名开头的“.”后重新放入。",
        )
    path = _receipt_once(home, feed, exc, skipped.name, "")
    return FileOutcome(feed, skipped.name, "", "skipped", reason=exc.reason, report_path=str(path))


def _not_read_again(home: DataHome, feed: str, item: _Pending) -> FileOutcome:
    """Bytes already taken in: under the same name nothing to say; under another name (an identical copy) the copy's
    receipt (written once) names the file whose rows count."""
    archived = item.archived
    if item.copy_of is None:
        return FileOutcome(feed, archived.file_name, archived.file_hash, "already_ingested")
    exc = UnreadableFile(
        "identical_copy",
        f"本文件与“{item.copy_of}”内容完全相同（文件指纹相同），未重复导入：其中的记录只按“{item.copy_of}”计一次"
        "（同样内容的文件以先收到的为准；同时收到的，以文件名排序在前的为准）。如果本文件本应是另一份数据，"
        "请检查是否复制错了文件，重新导出后再放入。",
    )
    path = _receipt_once(home, feed, exc, archived.file_name, archived.file_hash)
    return FileOutcome(
        feed, archived.file_name, archived.file_hash, "identical_copy", reason=exc.reason, report_path=str(path)
    )


def _receipt_once(home: DataHome, feed: str, exc: UnreadableFile, file_name: str, file_hash: str) -> Path:
    xlsx, txt = report.report_paths(home.root, feed, file_name, file_hash)
    if xlsx.exists() and txt.exists():
        return xlsx
    return report.write_clerk_report(home.root, exc, feed=feed, file_name=file_name, file_hash=file_hash)
