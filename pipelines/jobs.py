"""Jobs. Pipeline jobs run in process: DuckDB has a single writer and a process per step costs more than it saves
on 2 cores (STACK.md).

- ``screening_round`` — a screening round: ingest → link → screen → publish. Partitioned quarter × county (the
  screening assets are): a schedule, sensor or backfill runs a quarter × all counties as ONE run (partition-range
  tags); one partition reruns one county. A launch must name its partitions.
- ``ingest`` — ingest new files only (what ``fangpin ingest`` does).
- ``monthly_approval`` — each county's approval batch of the previous month (县级审定, 原则上每月办理一次), present
  when the code location has an asset ``approval_batch`` (built with its schedule, ``pipelines.schedules``).
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

#: asset groups of a screening round (the follow-up / forms groups have their own jobs and schedules)
ROUND_GROUPS = ("ingest", "linkage", "screening", "publish")
APPROVAL_ASSET = "approval_batch"

screening_round_job = dg.define_asset_job(
    name="screening_round",
    selection=dg.AssetSelection.groups(*ROUND_GROUPS),
    executor_def=dg.in_process_executor,
    description="一轮排查：各部门数据入库 → 匹配 → 风险筛查 → 发布清单。分区 = 季度 × 县：一个季度的全部县为一轮，单个县为该县重跑。",
)

ingest_job = dg.define_asset_job(
    name="ingest",
    selection=dg.AssetSelection.groups("ingest"),
    executor_def=dg.in_process_executor,
    description="各部门投放文件入库（归档、读取、校验、隔离、回执）。",
)


followup_job = dg.define_asset_job(
    name="followup",
    selection=dg.AssetSelection.assets(
        "feedback_records", "monitoring_state", "followup_outputs", "official_forms", "registry_quality"
    ),
    executor_def=dg.in_process_executor,
    description="闭环跟踪：核实反馈入库 → 监测状态 → 逾期与合规、风险消除候选、资金因素 → 名册、一览表、村级档案清单、户籍数据核查。",
)


def _groups(asset) -> set[str]:
    return set((getattr(asset, "group_names_by_key", None) or {}).values())


def round_assets(assets: Sequence) -> list:
    """The assets a command-line round materialises in one run: those of the round's groups that are unpartitioned or
    partitioned like the round (a differently partitioned asset, e.g. a monthly approval batch, cannot share the run;
    the follow-up group has its own job)."""
    from assets.rounds import round_partitions

    return [
        a
        for a in assets
        if getattr(a, "partitions_def", None) in (None, round_partitions) and _groups(a) <= set(ROUND_GROUPS)
    ]


def followup_assets(assets: Sequence) -> list:
    """The assets ``fangpin followup`` materialises: the follow-up job's selection."""
    names = {"feedback_records", "monitoring_state", "followup_outputs", "official_forms", "registry_quality"}
    return [a for a in assets if {k.to_user_string() for k in a.keys} & names]


def approval_asset(assets: Sequence):
    """The ``approval_batch`` asset definition among ``assets``, or None."""
    for a in assets:
        if any(k.to_user_string() == APPROVAL_ASSET for k in getattr(a, "keys", ())):
            return a
    return None


def monthly_approval_job(partitions_def=None):
    return dg.define_asset_job(
        name="monthly_approval",
        selection=dg.AssetSelection.assets(APPROVAL_ASSET),
        executor_def=dg.in_process_executor,
        partitions_def=partitions_def,
        description="每月县级审定批次：各县上月纳入监测对象的审定材料（工作方案：县级原则上每月办理一次）。",
    )


def jobs_for(assets: Sequence) -> list:
    """The code location's jobs: the round and ingest jobs. (``monthly_approval`` comes with its schedule, see
    ``pipelines.schedules.schedules_for``: Definitions picks up a job its schedule targets.)"""
    return [screening_round_job, ingest_job, followup_job]
