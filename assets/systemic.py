"""The systemic-risk watch as an asset (规模性、系统性风险研判; issue 16).

``systemic_risk`` (group screening, partitioned quarter × county like the round, single-run backfills): after the
round is screened (``suspects``: its suspects are not put on the survey lists again), look at the round's quarter
across the whole city (``warehouse.systemic.analyse``: every area is tested against its county and all tests share
one false-discovery control, so a county rerun still reads the whole city), store the round's flags, history and
survey lists, and publish ``out/<round_id>/systemic_risk.parquet`` (the whole round) and the
``规模性风险预警_<县>.xlsx`` of the run's counties (both: ``assets.publishing.publish_systemic``). ``round_outputs``
depends on it: the round summary shows the flagged areas against their history.

Metadata: counts only (tests, flags per signal, level and county, survey households, the dispersion used) — no
household, name or ID. Asset check ``flagged_share`` (WARN): more than ``MAX_FLAGGED_SHARE`` of the villages flagged
in one quarter is more likely a feed problem (an extract loaded twice under different names, a changed date column)
than a city-wide shock; the analyst should look before the lists go out.

No ``from __future__ import annotations`` here: Dagster inspects the context and config annotations at runtime.
"""

import dagster as dg

from assets.publishing import publish_systemic
from assets.resources import Warehouse
from assets.rounds import RoundConfig, round_partitions, run_partition_keys, scopes_for
from fangpin.domain import divisions
from fangpin.settings import ConfigError

#: share of villages flagged in a quarter above which the check warns: a quiet synthetic city flags under 1 %, the demo
#: city with its five planted surges (one a whole township) 5.6 % of its 143 villages
MAX_FLAGGED_SHARE = 0.10


@dg.asset(
    group_name="screening",
    deps=[dg.AssetKey("suspects")],
    description="规模性、系统性风险研判：各村、乡镇本季度医疗自付、受灾、失业返乡、新增救助、新跌破监测线每千人发生率"
    "与本地区历史及本县其他地区比较，显著升高的列为预警区域，并列出区域内接近监测线或有相关记录的农户（专项调查名单）。"
    "输出 systemic_risk.parquet 和各县规模性风险预警工作簿。",
    check_specs=[
        dg.AssetCheckSpec(
            "flagged_share",
            asset="systemic_risk",
            description=f"no more than {MAX_FLAGGED_SHARE:.0%} of the villages flagged in the round's quarter",
        )
    ],
    partitions_def=round_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
    kinds={"duckdb", "parquet", "excel"},
)
def systemic_risk(context: dg.AssetExecutionContext, config: RoundConfig, warehouse: Warehouse):
    scopes = scopes_for(run_partition_keys(context), config)
    home = warehouse.data_home()
    results = []
    for scope in scopes:
        with warehouse.session() as wh:
            try:
                stats, written = publish_systemic(
                    wh, home.root, scope.round_id, scope.info.reference_date, counties=scope.counties
                )
            except ConfigError as exc:
                raise dg.Failure(
                    description=f"规模性风险研判配置有误 / systemic-risk configuration: {exc}",
                    metadata={"round_id": scope.round_id},
                ) from None
        context.log.info(
            f"systemic risk {scope.round_id} ({stats.quarter}): {stats.flags} flags in {written['areas']} areas, "
            f"{stats.survey_households} households on survey lists"
        )
        results.append((scope, stats, written))
    yield dg.MaterializeResult(metadata=_metadata(results))
    share = max((s.flagged_villages / s.villages if s.villages else 0.0) for _, s, _ in results)
    yield dg.AssetCheckResult(
        check_name="flagged_share",
        passed=share <= MAX_FLAGGED_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "flagged_village_share": dg.MetadataValue.float(round(share, 4)),
            "flagged_villages": dg.MetadataValue.int(sum(s.flagged_villages for _, s, _ in results)),
            "villages": dg.MetadataValue.int(max(s.villages for _, s, _ in results)),
        },
    )


def _metadata(results) -> dict:
    meta: dict = {
        "round_id": ", ".join(s.round_id for s, _, _ in results),
        "quarter": ", ".join(st.quarter for _, st, _ in results),
        "tests": dg.MetadataValue.int(sum(st.tests for _, st, _ in results)),
        "flags": dg.MetadataValue.int(sum(st.flags for _, st, _ in results)),
        "flagged_areas": dg.MetadataValue.int(sum(w["areas"] for _, _, w in results)),
        "flagged_villages": dg.MetadataValue.int(sum(st.flagged_villages for _, st, _ in results)),
        "villages": dg.MetadataValue.int(max(st.villages for _, st, _ in results)),
        "survey_households": dg.MetadataValue.int(sum(st.survey_households for _, st, _ in results)),
    }
    rows = []
    for scope, st, written in results:
        for signal, n in st.flags_by_signal.items():
            rows.append(f"| {scope.round_id} | {signal} | {n} |")
        meta[f"{scope.round_id}_flags_by_level"] = dg.MetadataValue.json(st.flags_by_level)
        meta[f"{scope.round_id}_flags_by_county"] = dg.MetadataValue.json(
            {divisions.county_label(c): n for c, n in st.flags_by_county.items()}
        )
        meta[f"{scope.round_id}_history_quarters"] = dg.MetadataValue.json(st.history_quarters)
        meta[f"{scope.round_id}_dispersion"] = dg.MetadataValue.json(st.dispersion)
        meta[f"{scope.round_id}_not_tested"] = dg.MetadataValue.json(st.not_tested)
        meta[f"{scope.round_id}_files"] = dg.MetadataValue.int(len(written["files"]))
    meta["flags_by_signal"] = dg.MetadataValue.md(
        "\n".join(["| round | signal | flags |", "|---|---|---|", *rows]) if rows else "（无预警 / no flags）"
    )
    return meta
