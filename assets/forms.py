"""Follow-up assets (SPEC §8): the official forms and the registry's own data quality.

Both read the warehouse (registry, village table, ``monitoring_roster`` when part A has built it, property links)
and write under ``<home>/out/``; neither changes a warehouse table (their work tables are TEMP). They share the
``warehouse`` pool with the other assets (DuckDB has a single writer).

No `from __future__ import annotations` here: Dagster inspects the context and config annotations at runtime.
"""

import datetime as dt

import dagster as dg

from assets.publishing import publish_forms, publish_registry_quality
from assets.resources import Warehouse
from fangpin.reports.forms import scan_public_workbook


class FormsConfig(dg.Config):
    """Snapshot date of the forms and checks. Empty → today."""

    as_of: str = ""  # ISO date, e.g. 2026-10-09

    def resolve(self, today: dt.date | None = None) -> dt.date:
        if not self.as_of:
            return today or dt.date.today()
        try:
            return dt.date.fromisoformat(self.as_of)
        except ValueError as exc:
            raise dg.Failure(f"as_of {self.as_of!r} is not an ISO date (YYYY-MM-DD)") from exc


#: the registry, and part A's ``monitoring_state`` (it (re)creates the ``monitoring_roster`` view the forms read)
FOLLOWUP_DEPS = [dg.AssetKey("registry"), dg.AssetKey("monitoring_state")]


@dg.asset(
    group_name="followup",
    deps=FOLLOWUP_DEPS,
    description="out/forms/<日期>/<县>/：防止返贫监测和帮扶对象名册（内部）、防贫监测对象帮扶情况一览表（上墙公示，已脱敏）、村级档案清单。",
    check_specs=[
        dg.AssetCheckSpec(
            "wall_table_masked",
            asset="official_forms",
            description="上墙一览表不含证件号码、电话、银行账号、健康信息和金额（发布前逐格扫描）",
        )
    ],
    pool="warehouse",
    kinds={"duckdb", "excel"},
)
def official_forms(
    context: dg.AssetExecutionContext, config: FormsConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    as_of = config.resolve()
    home = warehouse.data_home()
    with warehouse.session() as wh:
        result = publish_forms(wh, home.root, as_of)  # raises PrivacyError (nothing published) on a leak
    walls = [p for p in result["files"] if p.name.startswith("防贫监测对象帮扶情况一览表")]
    leaks = [f for p in walls for f in scan_public_workbook(p)]
    return dg.MaterializeResult(
        metadata={
            "as_of": str(as_of),
            "out_dir": dg.MetadataValue.path(str(result["dir"])),
            "roster_source": result["roster_source"],
            "files": dg.MetadataValue.int(len(result["files"])),
            "counts": dg.MetadataValue.json({k: v for k, v in result["counts"].items()}),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="wall_table_masked",
                passed=not leaks,
                metadata={
                    "wall_workbooks": dg.MetadataValue.int(len(walls)),
                    "cells_masked_before_writing": dg.MetadataValue.int(result["counts"].get("wall_cells_masked", 0)),
                    "findings": dg.MetadataValue.json([f"{f.file} {f.where}: {f.kind}" for f in leaks[:50]]),
                },
            )
        ],
    )


@dg.asset(
    group_name="followup",
    deps=FOLLOWUP_DEPS,
    description="out/registry_checks/<日期>/：户籍数据一致性核查（国家系统校验规则），各县《户籍数据质量核查》工作簿与 registry_checks.parquet。",
    check_specs=[
        dg.AssetCheckSpec(
            "no_registry_errors", asset="registry_quality", description="户籍数据没有“错误”级别的问题（“提醒”不计）"
        )
    ],
    pool="warehouse",
    kinds={"duckdb", "excel", "parquet"},
)
def registry_quality(
    context: dg.AssetExecutionContext, config: FormsConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    as_of = config.resolve()
    home = warehouse.data_home()
    with warehouse.session() as wh:
        result = publish_registry_quality(wh, home.root, as_of)
    counts = result["counts"]
    for note in result["notes"]:
        context.log.warning(note)
    return dg.MaterializeResult(
        metadata={
            "as_of": str(as_of),
            "out_dir": dg.MetadataValue.path(str(result["dir"])),
            "roster_source": result["roster_source"],
            "findings": dg.MetadataValue.int(counts["findings"]),
            "errors": dg.MetadataValue.int(counts["errors"]),
            "reminders": dg.MetadataValue.int(counts["reminders"]),
            "households_flagged": dg.MetadataValue.int(counts["households_flagged"]),
            "by_rule": dg.MetadataValue.json(counts["by_rule"]),
            "by_county": dg.MetadataValue.json(counts["by_county"]),
            "rules_not_run": dg.MetadataValue.json(counts["rules_not_run"]),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="no_registry_errors",
                passed=counts["errors"] == 0,
                # the registry is the county's to correct; the round goes on
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "errors": dg.MetadataValue.int(counts["errors"]),
                    "by_rule": dg.MetadataValue.json({k: v for k, v in counts["by_rule"].items() if v}),
                },
            )
        ],
    )


followup_assets = [official_forms, registry_quality]
