"""Publish-ready tables of the monthly follow-up (SPEC §8): the deadline items, compliance, approval batches,
elimination review and fund factors of :mod:`warehouse.followup`, plus the counties and the roster columns the
workbooks list (steps in ``sql/followup.sql``). ``fangpin.reports.followup`` writes them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from warehouse.followup import approval_batches, compliance, deadline_items, elimination_review, funds_factor
from warehouse.runner import runner_for


def followup_tables(wh, as_of: dt.date, home: Path | None = None) -> dict:
    """{items, compliance, batches, review, funds, counties} of ``as_of``."""
    wh = runner_for(wh)
    items = deadline_items(wh, as_of, home)
    counties = wh.frame("publish/followup.counties")["county_code"].to_list()
    return {
        "items": items,
        "compliance": compliance(wh, as_of, home, items=items),
        "batches": approval_batches(wh, as_of, home, items=items),
        "review": elimination_review(wh, as_of, home),
        "funds": funds_factor(wh),
        "counties": sorted(set(counties) | set(items["county_code"].drop_nulls().to_list())),
    }


def approval_batch(wh, batch_label: str, as_of: dt.date, home: Path | None = None) -> pl.DataFrame:
    """The households of one monthly 县级审定 batch (``batch_label``, e.g. 2026年10月批次) with their roster columns."""
    wh = runner_for(wh)
    batch = approval_batches(wh, as_of, home).filter(pl.col("batch") == batch_label)
    return batch.join(wh.frame("publish/followup.roster"), on="household_id", how="left")
