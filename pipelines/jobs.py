"""Jobs. Pipeline jobs run in process: DuckDB has a single writer and a process per step costs more than it saves
on 2 cores (STACK.md)."""

from __future__ import annotations

import dagster as dg

screening_round_job = dg.define_asset_job(
    name="screening_round",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="一轮完整排查：各部门数据入库 → 匹配 → 风险筛查 → 发布清单。",
)

ingest_job = dg.define_asset_job(
    name="ingest",
    selection=dg.AssetSelection.groups("ingest"),
    executor_def=dg.in_process_executor,
    description="各部门投放文件入库（归档、读取、校验、隔离、回执）。",
)
