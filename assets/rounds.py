"""Round parameters shared by the screening and publishing assets: the partitions (quarter × county) and the run
config, and how a run's partition keys and config become the rounds it screens.

Partitions (docs/DECISIONS.md, "Rounds and partitions"): ``round_partitions`` = quarter × county. The quarter is a
``TimeWindowPartitionsDefinition`` on the quarter starts (key ``2026-10-01`` = round ``2026Q4``, whose reference date
is that day), from 2025Q1 to the quarter after the current one (``end_offset=2``: a Q4 round runs in October, while
its window is still open, and the next quarter's round can be prepared ahead). The county is one of the 10
county-level units of 柳州市. A run over several partitions is ONE run (``BackfillPolicy.single_run``): the asset gets
all keys and screens each quarter once, for all its counties together.

Every run of the screening assets names its partitions: Dagster cannot run partitioned assets without a partition
(a launchpad launch confirmed without one fails with a message saying to choose a partition). The run config adds
what partitions cannot say: the kind, the push date and an ad-hoc round id of the partition's quarter.

No ``from __future__ import annotations`` here: Dagster inspects the config annotations at runtime.
"""

import datetime as dt
import warnings
from dataclasses import dataclass

import dagster as dg

from fangpin.domain import divisions
from fangpin.domain.rounds import RoundInfo, parse_round

# BackfillPolicy.single_run() is "beta" in Dagster 1.13 (it works: tests/test_rounds_partitions.py); the warning is
# for us, not for the analyst reading the command line's output.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=r".*backfill_policy.*")

QUARTER_CRON = "0 0 1 1,4,7,10 *"
FIRST_QUARTER = "2025-01-01"
TIMEZONE = "Asia/Shanghai"
COUNTY_CODES = tuple(sorted(divisions.counties()))

quarter_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule=QUARTER_CRON,
    start=FIRST_QUARTER,
    fmt="%Y-%m-%d",
    timezone=TIMEZONE,
    end_offset=2,
)
county_partitions = dg.StaticPartitionsDefinition(list(COUNTY_CODES))
round_partitions = dg.MultiPartitionsDefinition({"quarter": quarter_partitions, "county": county_partitions})


def quarter_key(round_id: str) -> str:
    """'2026Q4' (or an ad-hoc id such as '20261115-medical') → '2026-10-01', the quarter partition it falls in."""
    return parse_round(round_id).reference_date.isoformat()


def quarter_round_id(key: str) -> str:
    """'2026-10-01' → '2026Q4'."""
    d = dt.date.fromisoformat(key)
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def partition_key(round_id: str, county: str) -> dg.MultiPartitionKey:
    """The partition of one county in the quarter of a round: ('2026Q4', '450225') → '450225|2026-10-01'."""
    return dg.MultiPartitionKey({"quarter": quarter_key(round_id), "county": county})


def has_quarter(key: str, current_time: dt.datetime | None = None) -> bool:
    """Whether a quarter key is a partition now (quarters before FIRST_QUARTER or after the current one are not)."""
    return key in quarter_partitions.get_partition_keys(current_time=current_time)


def resolve_county(value: str) -> str:
    """A county code or name (全称 or short: 融水苗族自治县 / 融水) → its current 6-digit code; ValueError otherwise."""
    v = (value or "").strip()
    current = divisions.counties()
    if v in current:
        return v
    if v in divisions.HISTORIC_COUNTY_CODES:
        return divisions.HISTORIC_COUNTY_CODES[v]
    for code, name in current.items():
        if v and (v == name or v == divisions.short_name(name)):
            return code
    valid = ", ".join(f"{k} {n}" for k, n in sorted(current.items()))
    raise ValueError(f"unknown county {value!r}; use a code or a name: {valid}")


class RoundConfig(dg.Config):
    """Round settings beyond the partitions (quarter × county). Empty values take sensible defaults, so a launch
    with partitions needs no config. ``round_id`` may name an ad-hoc round of the partition's quarter (e.g.
    ``20261115-medical``), which then replaces the quarterly id. ``resolve()`` without partitions: the current
    quarter."""

    round_id: str = ""  # empty → the partition's quarter (2026-10-01 → 2026Q4); or an ad-hoc id of that quarter
    kind: str = ""  # full | priority | incremental; empty → Q2/Q4 full, Q1/Q3 priority, ad-hoc incremental
    pushed_on: str = ""  # ISO date the lists are pushed; empty → today

    def resolve(self, today: dt.date | None = None) -> tuple[RoundInfo, str, dt.date]:
        today = today or dt.date.today()
        round_id = self.round_id or f"{today.year}Q{(today.month - 1) // 3 + 1}"
        return _resolve(round_id, self.kind, self.pushed_on, today)


def _resolve(round_id: str, kind: str, pushed_on: str, today: dt.date) -> tuple[RoundInfo, str, dt.date]:
    try:
        info = parse_round(round_id)
    except ValueError as exc:
        raise dg.Failure(
            description=f"轮次编号无效 / invalid round id: {exc}", metadata={"config": "round_id"}
        ) from None
    kind = kind or info.default_kind
    if kind not in ("full", "priority", "incremental"):
        raise dg.Failure(
            description=f"轮次类型无效 / unknown round kind {kind!r}: use full, priority or incremental",
            metadata={"config": "kind"},
        )
    try:
        pushed = dt.date.fromisoformat(pushed_on) if pushed_on else today
    except ValueError:
        raise dg.Failure(
            description=f"推送日期无效 / pushed_on {pushed_on!r} is not an ISO date (e.g. 2026-10-09)",
            metadata={"config": "pushed_on"},
        ) from None
    return info, kind, pushed


@dataclass(frozen=True)
class RoundScope:
    """One round to screen and publish in a run: for ``counties`` (current codes), or all (``None``)."""

    info: RoundInfo
    kind: str
    pushed_on: dt.date
    counties: tuple[str, ...] | None
    partition_keys: tuple[str, ...] = ()  # the run's partition keys of this round (empty: unpartitioned run)

    @property
    def round_id(self) -> str:
        return self.info.round_id

    @property
    def county_list(self) -> list[str] | None:
        return list(self.counties) if self.counties is not None else None

    def describe(self) -> str:
        where = "全部县" if self.counties is None else "、".join(divisions.counties().get(c, c) for c in self.counties)
        return f"{self.round_id}（{self.kind}，{where}）"


def _counties_or_all(codes) -> tuple[str, ...] | None:
    chosen = tuple(sorted(set(codes)))
    return None if not chosen or set(chosen) == set(COUNTY_CODES) else chosen


def scopes_for(partition_keys: list[str] | None, config: RoundConfig, today: dt.date | None = None) -> list[RoundScope]:
    """The rounds a run screens: one per quarter of its partition keys, each for all its counties at once.
    No partitions, or a config that contradicts them, is a ``dg.Failure`` that says what to change."""
    today = today or dt.date.today()
    if not partition_keys:
        raise dg.Failure(
            description="请选择分区（季度 × 县）再运行：例如 2026-10-01 × 全部县为 2026Q4 整轮，单个县为该县重跑 / choose "
            "partitions (quarter × county) for a screening run: a quarter × all counties is the round "
            "(one run), one county reruns that county. Command line: fangpin screen --round 2026Q4 [--county CODE]",
            metadata={"config": "partition"},
        )
    by_quarter: dict[str, list[str]] = {}
    keys_by_quarter: dict[str, list[str]] = {}
    for key in partition_keys:
        dims = round_partitions.get_partition_key_from_str(str(key)).keys_by_dimension
        by_quarter.setdefault(dims["quarter"], []).append(dims["county"])
        keys_by_quarter.setdefault(dims["quarter"], []).append(str(key))
    if config.round_id and len(by_quarter) > 1:
        raise dg.Failure(
            description=f"轮次编号 {config.round_id} 只能用于一个季度，本次运行含 {len(by_quarter)} 个季度 / "
            "a round id in config applies to one quarter: launch one run per quarter",
            metadata={"config": "round_id", "quarters": sorted(by_quarter)},
        )
    scopes = []
    for q in sorted(by_quarter):
        round_id = config.round_id or quarter_round_id(q)
        info, kind, pushed = _resolve(round_id, config.kind, config.pushed_on, today)
        if info.reference_date.isoformat() != q:
            raise dg.Failure(
                description=f"轮次 {round_id} 的基准日 {info.reference_date} 不在分区季度 {q} / round {round_id} "
                f"(reference date {info.reference_date}) does not belong to the partition's quarter {q}",
                metadata={"config": "round_id", "quarter": q},
            )
        scopes.append(
            RoundScope(info, kind, pushed, _counties_or_all(by_quarter[q]), tuple(sorted(keys_by_quarter[q])))
        )
    return scopes


def run_partition_keys(context) -> list[str] | None:
    """The run's partition keys (one key, a range, or none)."""
    if context.has_partition_key or context.has_partition_key_range:
        return [str(k) for k in context.partition_keys]
    return None
