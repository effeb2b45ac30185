"""The ``round`` table: which rounds ran, of what kind, and whether they finished."""

from __future__ import annotations

import datetime as dt

import duckdb


def start_round(con: duckdb.DuckDBPyConnection, round_id: str, kind: str, reference_date: dt.date) -> None:
    con.execute(
        "INSERT OR REPLACE INTO round (round_id, kind, reference_date, started_at, finished_at, status) "
        "VALUES (?, ?, ?, current_timestamp, NULL, 'screening')",
        [round_id, kind, reference_date],
    )


def finish_round(con: duckdb.DuckDBPyConnection, round_id: str) -> None:
    con.execute("UPDATE round SET finished_at = current_timestamp, status = 'published' WHERE round_id = ?", [round_id])


def last_finished(con: duckdb.DuckDBPyConnection, before_round: str | None = None) -> tuple[str, dt.datetime] | None:
    """The most recent published round other than ``before_round`` (incremental rounds screen what came after it)."""
    rows = con.sql(
        "SELECT round_id, finished_at FROM round WHERE status = 'published' AND round_id IS DISTINCT FROM ? "
        "ORDER BY finished_at DESC LIMIT 1",
        params=[before_round],
    ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None
