"""Loading accepted rows into the warehouse, one dropped file per transaction.

Idempotence: a file is identified by its content hash. Loading deletes whatever an earlier, interrupted attempt may
have left for that hash before inserting, and records the file in ``ingested_file`` in the same transaction, so a
crash between archive and load followed by a rerun leaves no duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl


@dataclass
class LoadOutcome:
    rows_loaded: int
    rows_duplicate_event: int
    duplicate_rows: pl.DataFrame  # source_row, event_key of events already received in another file
    source_file: str = ""  # the name the file's rows carry (see stored_file_name)


def stored_file_name(con: duckdb.DuckDBPyConnection, feed: str, file_name: str, file_hash: str) -> str:
    """The ``source_file`` this file's rows are stored under.

    A record is identified by (source, source_file, source_row) everywhere downstream (``link``, review lists,
    evidence). A department that re-sends a corrected extract under the same file name would make two different
    rows share that key, so the second and later versions of a name carry the start of their content hash:
    ``医保结算数据.csv#1a2b3c4d``. A file whose earlier namesake was blocked or quarantined (no rows stored) keeps its name.
    """
    taken = con.sql(
        "SELECT count(*) FROM ingested_file WHERE feed = ? AND file_name = ? AND file_hash <> ? AND status = 'loaded'",
        params=[feed, file_name, file_hash],
    ).fetchall()[0][0]
    return f"{file_name}#{file_hash[:8]}" if taken else file_name


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        r[0]
        for r in con.sql(
            f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position"
        ).fetchall()
    ]


def _lit(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def known_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.sql("SELECT file_hash FROM ingested_file").fetchall()}


def _project(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Keep the columns the table has; the table's types decide (DuckDB casts on insert)."""
    cols = [c for c in table_columns(con, table) if c in frame.columns]
    return frame.select(cols)


def load_file(
    con: duckdb.DuckDBPyConnection,
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
) -> LoadOutcome:
    """Load one file's accepted rows (unless ``status`` says it is blocked) and its rejects, atomically."""
    dup = pl.DataFrame(schema={"source_row": pl.Int64, "event_key": pl.String})
    con.execute("BEGIN TRANSACTION")
    try:
        stored = stored_file_name(con, feed, file_name, file_hash)
        if stored != file_name:
            rows = (
                rows.with_columns(pl.lit(stored, dtype=pl.String).alias("source_file"))
                if "source_file" in rows.columns
                else rows
            )
            rejected = (
                rejected.with_columns(pl.lit(stored, dtype=pl.String).alias("source_file"))
                if "source_file" in rejected.columns
                else rejected
            )
        for t in ("registry_person", "dept_record", "village", "rejected_row"):
            con.execute(f"DELETE FROM {t} WHERE file_hash = ?", [file_hash])
        con.execute("DELETE FROM ingested_file WHERE file_hash = ?", [file_hash])
        loaded = 0
        if status == "loaded" and rows.height:
            data = rows
            if table == "dept_record" and "event_key" in data.columns:
                # The same event arriving twice (overlapping extracts, or twice in one file) is counted once: the
                # first file wins. Later copies stay accounted for (and linked) but carry duplicate_event = true.
                # Decided on the incoming frame (earlier row of this file with the key) plus one semi-join against
                # the keys already stored, then inserted in one statement (no staging table, no UPDATE pass).
                keys = data.select("source", "event_key").filter(pl.col("event_key").is_not_null()).unique()  # noqa: F841 (read by DuckDB by name)
                seen = con.sql(
                    "SELECT DISTINCT d.source, d.event_key, true AS _stored FROM dept_record d SEMI JOIN keys k "
                    "ON d.source = k.source AND d.event_key = k.event_key WHERE NOT d.duplicate_event"
                ).pl()
                earlier_in_file = pl.col("source_row") > pl.col("source_row").min().over("event_key")
                if seen.height:
                    data = data.join(seen, on=["source", "event_key"], how="left", maintain_order="left")
                else:
                    data = data.with_columns(pl.lit(None, dtype=pl.Boolean).alias("_stored"))
                data = data.with_columns(
                    (pl.col("event_key").is_not_null() & (earlier_in_file | pl.col("_stored").fill_null(False)))
                    .fill_null(False)
                    .alias("duplicate_event")
                ).drop("_stored")
                dup = data.filter(pl.col("duplicate_event")).select("source_row", "event_key").sort("source_row")
            elif table == "registry_person":
                # A registry export is a full snapshot of its households: newer rows replace the older ones.
                ids = data.select("household_id").unique()
                lo, hi = ids.select(
                    pl.col("household_id").min().alias("lo"), pl.col("household_id").max().alias("hi")
                ).row(0)
                # The range test adds nothing logically (every id of the file is in it) but lets DuckDB skip, by the
                # row groups' min/max, the households of other exports (other counties / parts): without it every
                # registry file probes the whole registry, which grows with the number of files (quadratic at
                # province scale). Literals, not parameters, so that the filter reaches the scan.
                if lo is not None:
                    con.execute(
                        f"DELETE FROM registry_person WHERE household_id BETWEEN {_lit(lo)} AND {_lit(hi)} "
                        "AND household_id IN (SELECT household_id FROM ids)"
                    )
            elif table == "village":
                codes = data.select("village_code").unique()  # noqa: F841 (read by DuckDB by name)
                con.execute("DELETE FROM village WHERE village_code IN (SELECT village_code FROM codes)")
            if data is not None:
                data = _project(con, table, data)
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM data")
                loaded = data.height
        if rejected.height:
            rej = _project(con, "rejected_row", rejected.with_columns(pl.lit(file_hash).alias("file_hash")))  # noqa: F841 (read by DuckDB by name)
            con.execute("INSERT INTO rejected_row BY NAME SELECT * FROM rej")
        con.execute(
            "INSERT INTO ingested_file (file_hash, feed, file_name, archived_path, status, rows_in_file, rows_accepted,"
            " rows_rejected, rows_skipped, rows_duplicate_event, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                file_hash,
                feed,
                file_name,
                archived_path,
                status,
                rows_in_file,
                loaded,
                rejected.height,
                rows_skipped,
                dup.height,
                reason,
            ],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return LoadOutcome(loaded, dup.height, dup, stored)


def record_unreadable(
    con: duckdb.DuckDBPyConnection, *, feed: str, file_name: str, file_hash: str, archived_path: str, reason: str
) -> None:
    """A file that could not be read at all: one ``rejected_row`` with a null row number, and its ``ingested_file`` entry."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM rejected_row WHERE file_hash = ?", [file_hash])
        con.execute("DELETE FROM ingested_file WHERE file_hash = ?", [file_hash])
        con.execute(
            "INSERT INTO rejected_row (source, source_file, source_row, field, reason, file_hash) VALUES (?,?,NULL,NULL,?,?)",
            [feed, file_name, reason, file_hash],
        )
        con.execute(
            "INSERT INTO ingested_file (file_hash, feed, file_name, archived_path, status, reason) VALUES (?,?,?,?, 'quarantined', ?)",
            [file_hash, feed, file_name, archived_path, reason],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
