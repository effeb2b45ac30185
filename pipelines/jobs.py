"""Jobs. Pipeline jobs run in process: DuckDB has a single writer and a process per step costs more than it saves
on 2 cores (STACK.md).

- ``screening_round`` — a screening round: ingest → link → screen → publish. Partitioned county × quarter (the
  screening assets are): a schedule, sensor, backfill or ``fangpin screen`` runs a quarter × all counties as ONE run
  (partition-range tags); one partition reruns one county. A launch must name its partitions.
- ``ingest`` — ingest new files only (what ``fangpin ingest`` does).
- ``followup`` — county feedback, monitoring state, deadlines, forms (what ``fangpin followup`` does).
- ``monthly_approval`` — each county's approval batch of the previous month (县级审定, 原则上每月办理一次), present
  when the code location has an asset ``approval_batch`` (built with its schedule, ``pipelines.schedules``).
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

#: the code location's name (workspace.yaml ``location_name``; ``dg dev`` names it after the project, the same)
CODE_LOCATION = "fangpin"
#: asset groups of a screening round (the follow-up / forms groups have their own jobs and schedules)
ROUND_GROUPS = ("ingest", "linkage", "screening", "publish")
APPROVAL_ASSET = "approval_batch"

screening_round_job = dg.define_asset_job(
    name="screening_round",
    selection=dg.AssetSelection.groups(*ROUND_GROUPS),
    executor_def=dg.in_process_executor,
    description="一轮排查：各部门数据入库 → 匹配 → 风险筛查 → 发布清单。分区 = 县 × 季度（如 融水苗族自治县|2026Q4）：一个季度的全部县为一轮（一次运行），单个县为该县重跑。",
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


def repository_tags() -> dict[str, str]:
    """The tag that files a run under this code location's jobs in the UI. A run the webserver or daemon launches
    carries it (``DagsterRun.tags_for_storage``); a run started in process (``fangpin screen``) has no remote origin,
    so the command line adds it — the job's run history in the UI filters on it."""
    from dagster._core.definitions.repository_definition import SINGLETON_REPOSITORY_NAME
    from dagster._core.storage.tags import REPOSITORY_LABEL_TAG

    return {REPOSITORY_LABEL_TAG: f"{SINGLETON_REPOSITORY_NAME}@{CODE_LOCATION}"}


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
