"""Loading accepted rows into the warehouse, one dropped file per transaction (SQL: ``warehouse/sql/load.sql``).

Idempotence: a file is identified by its content hash. Loading deletes whatever an earlier, interrupted attempt may
have left for that hash before inserting, and records the file in ``ingested_file`` in the same transaction, so a
crash between archive and load followed by a rerun leaves no duplicates.

Versions: a department that re-sends a corrected extract under the same file name sends a new version. When the new
version loads, every earlier loaded version of that name is superseded (``ingested_file.superseded_by``): their
department rows stay, marked ``superseded`` (the evidence never counts them, so an event in both versions counts
once), their registry persons are replaced. The new version's rows carry ``<name>#<hash8>`` as ``source_file`` so that
no two rows share a record key (:meth:`FileHistory.stored_name`).

The frames come in as Polars frames (zero-copy views of the reader processes' Arrow files) and go into DuckDB in bulk
through the step runner: attached as relations (read in place, no staging copy) for one ``INSERT … SELECT``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from warehouse.runner import Handle, Runner, runner_for
from warehouse.steps import Sql


@dataclass
class LoadOutcome:
    rows_loaded: int
    rows_duplicate_event: int
    duplicate_rows: pl.DataFrame  # source_row, event_key of events already received in another file
    source_file: str = ""  # the name the file's rows carry (see FileHistory.stored_name)
    superseded: list[str] | None = None  # hashes of the earlier versions this file superseded


@dataclass(frozen=True)
class KnownFile:
    file_name: str
    status: str  # loaded | blocked | quarantined (or "reading": seen in this run)
    reason_code: str | None
    dropped_at: dt.datetime | None


def _wh(con) -> Runner:
    return runner_for(con)


def known_files(con: Handle) -> dict[str, KnownFile]:
    """Every file taken in so far, by content hash."""
    return {
        h: KnownFile(name, status, code, dropped)
        for h, name, status, code, dropped in _wh(con).rows("core/load.known_files")
    }


def known_hashes(con: Handle) -> set[str]:
    return set(known_files(con))


@dataclass(frozen=True)
class FileHistory:
    """What ``ingested_file`` holds of one incoming file: an earlier attempt of the same bytes, and the loaded
    versions of the same name in the same feed (step ``core/load.history``: one query, where three were one each)."""

    attempted: bool
    namesakes_loaded: bool  # another version of this name has rows stored
    earlier: list[str]  # those versions not yet superseded

    @classmethod
    def of(cls, wh: Runner, feed: str, file_name: str, file_hash: str) -> FileHistory:
        rows = wh.rows("core/load.history", feed=feed, file_name=file_name, file_hash=file_hash)
        others = [(h, superseded_by) for h, status, superseded_by in rows if h != file_hash and status == "loaded"]
        return cls(
            attempted=any(h == file_hash for h, _, _ in rows),
            namesakes_loaded=bool(others),
            earlier=sorted(h for h, superseded_by in others if superseded_by is None),
        )

    def stored_name(self, file_name: str, file_hash: str) -> str:
        """The ``source_file`` this file's rows are stored under.

        A record is identified by (source, source_file, source_row) everywhere downstream (``link``, review lists,
        evidence). A department that re-sends a corrected extract under the same file name would make two different
        rows share that key, so the second and later versions of a name carry the start of their content hash:
        ``医保结算数据.csv#1a2b3c4d``. A file whose earlier namesake was blocked or quarantined (no rows stored) keeps
        its name.
        """
        return f"{file_name}#{file_hash[:8]}" if self.namesakes_loaded else file_name


def _forget(wh: Runner, file_hash: str, history: FileHistory) -> None:
    """Remove what an earlier attempt stored for this file; nothing to do (and nothing scanned) for a new file."""
    if history.attempted:
        wh.run("core/load.forget", file_hash=file_hash)


def _columns(wh: Runner, table: str, frame: pl.DataFrame, skip: tuple[str, ...] = ()) -> Sql:
    """The frame's columns the table has (the table's types decide: DuckDB casts on insert), as ``r.<col>``."""
    have = set(frame.columns)
    cols = [c for c in wh.columns(table) if c in have and c not in skip]
    return Sql(", ".join(f"r.{c}" for c in cols))


def load_file(
    con: Handle,
    *,
    table: str,
    feed: str,
    file_name: str,
    file_hash: str,
    archived_path: str,
    rows: pl.DataFrame,
    rejected: pl.DataFrame,
    rows_in_file: int,
    rows_skipped: int,
    status: str = "loaded",
    reason: str | None = None,
    dropped_at: dt.datetime | None = None,
) -> LoadOutcome:
    """Load one file's accepted rows (unless ``status`` says it is blocked) and its rejects, atomically."""
    wh = _wh(con)
    dup = pl.DataFrame(schema={"source_row": pl.Int64, "event_key": pl.String})
    superseded: list[str] = []
    with wh.transaction():
        history = FileHistory.of(wh, feed, file_name, file_hash)
        stored = history.stored_name(file_name, file_hash)
        if stored != file_name:
            if "source_file" in rows.columns:
                rows = rows.with_columns(pl.lit(stored, dtype=pl.String).alias("source_file"))
            if "source_file" in rejected.columns:
                rejected = rejected.with_columns(pl.lit(stored, dtype=pl.String).alias("source_file"))
        _forget(wh, file_hash, history)
        loaded = 0
        if status == "loaded":
            superseded = history.earlier
            if superseded:
                wh.run("core/load.supersede", hashes=superseded, file_hash=file_hash)
        if status == "loaded" and rows.height:
            with wh.attached("_load_rows", rows):
                if table == "dept_record":
                    cols = _columns(wh, table, rows, skip=("duplicate_event", "superseded"))
                    wh.run("core/load.dept_insert", columns=cols)
                    dup = wh.frame("core/load.duplicate_rows", file_hash=file_hash)
                else:
                    if table == "registry_person":
                        lo, hi = rows.select(
                            pl.col("household_id").min().alias("lo"), pl.col("household_id").max().alias("hi")
                        ).row(0)
                        if lo is not None:
                            wh.run("core/load.registry_replace", lo=lo, hi=hi)
                    elif table == "village":
                        wh.run("core/load.village_replace")
                    wh.run("core/load.insert", table=table, columns=_columns(wh, table, rows))
            loaded = rows.height
        if rejected.height:
            with wh.attached("_load_rejected", rejected):
                wh.run(
                    "core/load.rejected_insert",
                    file_hash=file_hash,
                    columns=_columns(wh, "rejected_row", rejected, skip=("file_hash",)),
                )
        wh.run(
            "core/load.record_file",
            file_hash=file_hash,
            feed=feed,
            file_name=file_name,
            archived_path=archived_path,
            status=status,
            rows_in_file=rows_in_file,
            rows_accepted=loaded,
            rows_rejected=rejected.height,
            rows_skipped=rows_skipped,
            rows_duplicate_event=dup.height,
            reason=reason,
            reason_code=None,
            dropped_at=dropped_at,
        )
    return LoadOutcome(loaded, dup.height, dup, stored, superseded)


def record_unreadable(
    con: Handle,
    *,
    feed: str,
    file_name: str,
    file_hash: str,
    archived_path: str,
    reason: str,
    reason_code: str | None = None,
    dropped_at: dt.datetime | None = None,
) -> None:
    """A file that could not be read at all: one ``rejected_row`` with a null row number, and its ``ingested_file`` entry."""
    wh = _wh(con)
    with wh.transaction():
        _forget(wh, file_hash, FileHistory.of(wh, feed, file_name, file_hash))
        wh.run(
            "core/load.record_unreadable",
            feed=feed,
            file_name=file_name,
            file_hash=file_hash,
            archived_path=archived_path,
            reason=reason,
            reason_code=reason_code,
            dropped_at=dropped_at,
        )
