"""Closing the loop, part A (SPEC §8): county feedback, monitoring history, deadlines, risk-elimination candidates,
the fund-allocation factor. Plain DuckDB SQL + Polars over the warehouse; no Dagster (assets/followup.py wraps it).

Public API (docs/FOLLOWUP.md has the interpretation choices and the column contracts):

- :func:`ensure_tables` — ``feedback_record``, ``household_event`` (append-only history), ``followup_suppressed``
  and the views ``household_state``, ``monitoring_roster`` (read by the official forms), ``followup_registry_household``.
- :func:`ingest_feedback` ``(home, con)`` — landing/feedback/ → archive → read → validate against the pushes → load.
- :func:`apply_followup` ``(con, round_id, pushed_on)`` — after ``rules.screen``, before publishing: re-push
  suppression, 新证据 summaries, the round's push history.
- :func:`deadline_items` / :func:`overdue` / :func:`compliance` / :func:`approval_batches` ``(con, as_of)`` — the work
  plan's time limits in Chinese working days.
- :func:`elimination_review` / :func:`elimination_candidates` ``(con, as_of)`` — SPEC §8 / domain-notes §1.
- :func:`funds_factor` ``(con)`` — monitored persons per county and their share (资金使用精准).
"""

from __future__ import annotations

from warehouse.followup._base import backfill_pushes, deadlines_config, ensure_tables
from warehouse.followup.deadlines import approval_batches, compliance, deadline_items, overdue
from warehouse.followup.elimination import elimination_candidates, elimination_review, funds_factor
from warehouse.followup.feedback import FeedbackOutcome, ingest_feedback, validate_against_pushes
from warehouse.followup.reader import FEEDBACK_COLUMNS, read_feedback_file
from warehouse.followup.state import FollowupStats, apply_followup

__all__ = [
    "ensure_tables",
    "backfill_pushes",
    "deadlines_config",
    "ingest_feedback",
    "validate_against_pushes",
    "FeedbackOutcome",
    "read_feedback_file",
    "FEEDBACK_COLUMNS",
    "apply_followup",
    "FollowupStats",
    "deadline_items",
    "overdue",
    "compliance",
    "approval_batches",
    "elimination_review",
    "elimination_candidates",
    "funds_factor",
]
