"""Round partitions for schedules, sensors, backfills and the command line (docs/DECISIONS.md, "Rounds and partitions").

The partitions themselves are defined next to the assets that use them (``assets.rounds``: quarter × county); this
module turns "round R for counties C" into what launches ONE run: a single partition key (one county) or a
partition-key range (several counties, several quarters) as run tags — the same tags a single-run backfill uses.

A range over a multi-dimensional partitioning is a box: every quarter from the first to the last × every county
from the first to the last (in code order). So a range is only used for all counties or for one county.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from assets.rounds import (  # noqa: F401  (re-exported: the one place pipelines and the CLI import them from)
    COUNTY_CODES,
    FIRST_QUARTER,
    TIMEZONE,
    county_code,
    county_key,
    county_partitions,
    has_quarter,
    partition_key,
    quarter_key,
    quarter_partitions,
    quarter_round_id,
    resolve_county,
    round_partitions,
)

try:  # the tag names Dagster uses for a single-run backfill over a partition range
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
except ImportError:  # pragma: no cover - the names have been stable since 1.2
    ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
    ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def range_tags(first: dg.MultiPartitionKey | str, last: dg.MultiPartitionKey | str) -> dict[str, str]:
    return {ASSET_PARTITION_RANGE_START_TAG: str(first), ASSET_PARTITION_RANGE_END_TAG: str(last)}


def round_partition_tags(round_ids: list[str] | str, county: str | None = None) -> dict[str, str]:
    """Tags for ONE run over the quarters of ``round_ids`` (contiguous) × all counties, or × one county (code)."""
    ids = [round_ids] if isinstance(round_ids, str) else list(round_ids)
    quarters = sorted({quarter_key(r) for r in ids})
    names = county_partitions.get_partition_keys()
    lo, hi = (county_key(county),) * 2 if county else (names[0], names[-1])
    return range_tags(
        dg.MultiPartitionKey({"quarter": quarters[0], "county": lo}),
        dg.MultiPartitionKey({"quarter": quarters[-1], "county": hi}),
    )


def backfill_tags(first_round: str, last_round: str) -> dict[str, str]:
    """A backfill over several quarters, all counties, as one run: e.g. ('2026Q3', '2026Q4')."""
    return round_partition_tags([first_round, last_round])


def keys_in_tags(tags: dict[str, str]) -> list[str]:
    """The partition keys a range in ``tags`` covers (for checks and tests)."""
    return [
        str(k)
        for k in round_partitions.get_partition_keys_in_range(
            dg.PartitionKeyRange(tags[ASSET_PARTITION_RANGE_START_TAG], tags[ASSET_PARTITION_RANGE_END_TAG])
        )
    ]


def quarter_of(day: dt.date) -> str:
    """The quarter partition key of a day: 2026-11-29 → '2026Q4'."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"
