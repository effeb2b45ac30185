"""The work plan's calendar (排查发现精准, 县级审定).

Quarterly rounds: full screenings (集中全面排查) in Q2 and Q4, priority-area screenings (重点区域排查) in Q1 and Q3.
A quarterly round runs on the 10th of the quarter's first month at 07:00 (Asia/Shanghai): departments push their
monthly data by the end of the month (domain-notes §3), so the previous quarter's extracts are in by then. The round
id is the quarter the run falls in; its reference date is the first day of that quarter; lists are pushed that day.
The run covers the quarter's partitions × all counties as ONE run (partition-range tags, as a single-run backfill),
tagged like every screening run (``round_tags``: round, kind, county, push date).
A custom schedule rather than ``build_schedule_from_partitioned_job``: that one fires when a partition's window
ENDS (i.e. for the previous quarter), while a round screens the quarter that has just begun.

Both schedules are RUNNING by default: a deployed instance screens every quarter without anyone switching them on
(README, "What runs when"; the folder sensors stay off by default, ``pipelines.sensors``).

Monthly approval: on the 1st of each month at 08:00 the job ``monthly_approval`` prepares each county's approval
batch of the previous month (县级…审定…原则上每月办理一次). It exists when the code location has an asset
``approval_batch`` (``schedules_for``); the month reaches the asset as the tag ``fangpin/approval_month``
(``YYYY-MM``) and, if the asset is month-partitioned, as the partition of that month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import dagster as dg

from pipelines.jobs import approval_asset, monthly_approval_job, screening_round_job
from pipelines.partitions import TIMEZONE, county_key, has_quarter, quarter_key, round_partition_tags

QUARTERLY_CRON = "0 7 10 1,4,7,10 *"
APPROVAL_CRON = "0 8 1 * *"
ROUND_OPS = ("suspects", "systemic_risk", "round_outputs")  # the steps that take the round config


def round_for(day: dt.date) -> tuple[str, str]:
    """(round id, kind) of the quarterly round scheduled on ``day``."""
    quarter = (day.month - 1) // 3 + 1
    return f"{day.year}Q{quarter}", ("full" if quarter in (2, 4) else "priority")


def round_run_config(round_id: str = "", kind: str = "", pushed_on: dt.date | str | None = None) -> dict:
    """Run config of a screening round (``assets.rounds.RoundConfig`` of both round assets)."""
    cfg = {
        "round_id": round_id,
        "kind": kind,
        "pushed_on": pushed_on.isoformat() if isinstance(pushed_on, dt.date) else (pushed_on or ""),
    }
    return {"ops": {op: {"config": dict(cfg)} for op in ROUND_OPS}}


def round_tags(round_id: str, kind: str, pushed_on: dt.date | str, county: str | None = None) -> dict[str, str]:
    """The tags every screening run carries, whoever launches it (schedule, sensor, command line), so the UI's run
    list can be filtered by them: ``fangpin/round=2026Q4``, ``fangpin/kind``, ``fangpin/county`` (a county's name,
    or 全部县) and ``fangpin/pushed-on``."""
    return {
        "fangpin/round": round_id,
        "fangpin/kind": kind,
        "fangpin/county": county_key(county) if county else "全部县",
        "fangpin/pushed-on": pushed_on.isoformat() if isinstance(pushed_on, dt.date) else str(pushed_on),
    }


def round_run_request(
    round_id: str,
    kind: str,
    pushed_on: dt.date,
    *,
    run_key: str | None = None,
    config_round_id: bool = False,
    tags: dict | None = None,
    asset_selection: list[dg.AssetKey] | None = None,
) -> dg.RunRequest:
    """One run over the quarter of ``round_id`` × all counties. ``config_round_id``: put the id into the run config
    too (an ad-hoc round id such as ``20261129-medical`` replaces the quarterly id)."""
    return dg.RunRequest(
        run_key=run_key,
        run_config=round_run_config(round_id if config_round_id else "", kind, pushed_on),
        tags={**round_partition_tags(round_id), **round_tags(round_id, kind, pushed_on), **(tags or {})},
        asset_selection=asset_selection,
    )


@dg.schedule(
    name="quarterly_screening",
    cron_schedule=QUARTERLY_CRON,
    execution_timezone=TIMEZONE,
    job=screening_round_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="每季度排查（每季度首月10日7时）：第二、四季度集中全面排查，第一、三季度重点区域排查；全部县一次运行。",
)
def quarterly_screening(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    day = context.scheduled_execution_time.date()
    round_id, kind = round_for(day)
    if not has_quarter(quarter_key(round_id)):
        # The quarter list is computed when the code location loads (assets.rounds.quarter_keys): a location loaded
        # more than a year ago does not know this quarter yet. Say so in the tick history instead of failing the run.
        return dg.SkipReason(
            f"季度 {quarter_key(round_id)} 不在分区列表中：请在 Deployment 页重新加载代码位置（Reload）"
        )
    return round_run_request(round_id, kind, day, run_key=f"round-{round_id}")


# ------------------------------------------------------------------------------------------------ monthly approval


def approval_month_for(day: dt.date) -> str:
    """The month whose approval batch is prepared on ``day``: the previous month (2027-01-01 → '2026-12')."""
    first = dt.date(day.year, day.month, 1)
    prev = first - dt.timedelta(days=1)
    return f"{prev.year:04d}-{prev.month:02d}"


def _month_partition(partitions_def, month: str) -> tuple[str | None, dict[str, str]]:
    """(partition key, extra tags) of ``month`` for the approval asset's partitioning: none, monthly time windows,
    or monthly × a static dimension (e.g. county: one run over all its keys, as a range)."""
    if partitions_def is None:
        return None, {}
    first = dt.datetime.strptime(month + "-01", "%Y-%m-%d")
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return first.strftime(partitions_def.fmt), {}
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        time_dim = next(
            d for d in partitions_def.partitions_defs if isinstance(d.partitions_def, dg.TimeWindowPartitionsDefinition)
        )
        other = next(d for d in partitions_def.partitions_defs if d is not time_dim)
        keys = other.partitions_def.get_partition_keys()
        tkey = first.strftime(time_dim.partitions_def.fmt)
        from pipelines.partitions import range_tags

        return None, range_tags(
            dg.MultiPartitionKey({time_dim.name: tkey, other.name: keys[0]}),
            dg.MultiPartitionKey({time_dim.name: tkey, other.name: keys[-1]}),
        )
    raise ValueError(
        f"approval_batch: unsupported partitions {partitions_def!r} (use none, monthly, or monthly × county)"
    )


def approval_run_request(day: dt.date, partitions_def=None) -> dg.RunRequest:
    month = approval_month_for(day)
    key, extra = _month_partition(partitions_def, month)
    return dg.RunRequest(
        run_key=f"approval-{month}", partition_key=key, tags={"fangpin/approval_month": month, **extra}
    )


def build_monthly_approval_schedule(job, partitions_def=None) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="monthly_approval",
        cron_schedule=APPROVAL_CRON,
        execution_timezone=TIMEZONE,
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="每月1日8时：准备各县上月的县级审定批次。",
    )
    def _monthly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return approval_run_request(context.scheduled_execution_time.date(), partitions_def)

    return _monthly


def schedules_for(assets: Sequence) -> list[dg.ScheduleDefinition]:
    """The schedules of a code location with these assets: the quarterly rounds, and the monthly approval when an
    ``approval_batch`` asset is present (its job comes with it)."""
    found = [quarterly_screening]
    approval = approval_asset(assets)
    if approval is not None:
        pdef = approval.partitions_def
        found.append(build_monthly_approval_schedule(monthly_approval_job(pdef), pdef))
    return found


schedules = [quarterly_screening]  # without follow-up assets (kept for callers that import the list)


# ------------------------------------------------------------------------------------------------ folder sensors


def incremental_round_id(feed: str, when: dt.datetime) -> str:
    """The ad-hoc round a drop into ``landing/<feed>/`` launches: '<YYYYMMDD>-<feed>' (one per feed and day; a
    second drop the same day reruns it, still covering everything new since the last other published round)."""
    return f"{when:%Y%m%d}-{feed}"


def incremental_round_request(
    feed: str, files: list[tuple[str, int, float]], when: dt.datetime, feed_asset: dg.AssetKey
) -> dg.RunRequest:
    """ONE run for the settled files of one sensor tick: ingest the feed, link, and screen + publish an incremental
    round (kind ``incremental``: only households that the new files reveal) over all counties."""
    import hashlib

    round_id = incremental_round_id(feed, when)
    versions = "|".join(f"{n}:{s}:{m}" for n, s, m in sorted(files))
    digest = hashlib.sha256(versions.encode("utf-8")).hexdigest()[:16]
    return round_run_request(
        round_id,
        "incremental",
        when.date(),
        run_key=f"{feed}:{digest}",
        config_round_id=True,
        tags={"fangpin/feed": feed, "fangpin/files": ", ".join(n for n, _, _ in sorted(files))[:1000]},
        asset_selection=[
            feed_asset,
            dg.AssetKey("links"),
            dg.AssetKey("suspects"),
            dg.AssetKey("systemic_risk"),
            dg.AssetKey("round_outputs"),
        ],
    )
