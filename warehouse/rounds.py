"""The ``round`` table: which rounds ran, of what kind, and whether they finished (steps in ``sql/rounds.sql``)."""

from __future__ import annotations

import datetime as dt

from warehouse.runner import runner_for


def start_round(wh, round_id: str, kind: str, reference_date: dt.date) -> None:
    runner_for(wh).run("core/rounds.start", round_id=round_id, kind=kind, reference_date=reference_date)


def finish_round(wh, round_id: str) -> None:
    runner_for(wh).run("core/rounds.finish", round_id=round_id)


def last_finished(wh, before_round: str | None = None) -> tuple[str, dt.datetime] | None:
    """The most recent published round other than ``before_round`` (incremental rounds screen what came after it)."""
    rows = runner_for(wh).rows("core/rounds.last_finished", before_round=before_round)
    return (rows[0][0], rows[0][1]) if rows else None
