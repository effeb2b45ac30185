"""Linkage, risk screening and publishing assets.

No `from __future__ import annotations` here: Dagster inspects the context and config annotations at runtime.
"""


import time

import dagster as dg

from assets.ingest import INGEST_FEEDS, asset_name
from assets.resources import FangpinHome
from assets.rounds import RoundConfig
from fangpin.reports.publish import publish_round
from warehouse import rounds, rules
from warehouse.linkage import link_records


@dg.asset(
    group_name="linkage",
    deps=[dg.AssetKey(asset_name(f)) for f in INGEST_FEEDS],
    description="每条部门记录与户籍人员/户的匹配结果（证件号码精确、修复、模糊、待复核、未匹配）。",
    pool="warehouse",
    kinds={"duckdb"},
)
def links(context: dg.AssetExecutionContext, fangpin: FangpinHome) -> dg.MaterializeResult:
    with fangpin.warehouse() as con:
        stats = link_records(con, home=fangpin.data_home().root)
        rates = con.sql(
            "SELECT source, count(*) AS n, avg(CASE WHEN match_method IN ('id_exact','id_repaired','fuzzy') THEN 1 ELSE 0 END) AS rate "
            "FROM link GROUP BY source ORDER BY source"
        ).fetchall()
    meta = {f"match_rate_{s}": dg.MetadataValue.float(round(float(r), 4)) for s, _, r in rates}
    meta["records"] = dg.MetadataValue.int(sum(n for _, n, _ in rates))
    meta["stats"] = dg.MetadataValue.json(_jsonable(stats))
    return dg.MaterializeResult(metadata=meta)


@dg.asset(
    group_name="screening",
    deps=[links],
    description="按监测线和风险规则筛出的疑似风险户（含证据、风险类型、疑似类别、核实截止日期）。",
    pool="warehouse",
    kinds={"duckdb"},
)
def suspects(context: dg.AssetExecutionContext, config: RoundConfig, fangpin: FangpinHome) -> dg.MaterializeResult:
    info, kind, pushed_on = config.resolve()
    started = time.time()
    with fangpin.warehouse() as con:
        rounds.start_round(con, info.round_id, kind, info.reference_date)
        stats = rules.screen(con, info.round_id, kind, info.reference_date, pushed_on, home=fangpin.data_home().root)
        by_county = con.sql(
            "SELECT county_code, count(*) FROM suspect WHERE round_id = ? GROUP BY 1 ORDER BY 1", params=[info.round_id]
        ).fetchall()
    return dg.MaterializeResult(
        metadata={
            "round_id": info.round_id,
            "kind": kind,
            "reference_date": str(info.reference_date),
            "suspects": dg.MetadataValue.int(sum(n for _, n in by_county)),
            "suspects_by_county": dg.MetadataValue.json({c: n for c, n in by_county}),
            "stats": dg.MetadataValue.json(_jsonable(stats)),
            "seconds": round(time.time() - started, 2),
        }
    )


@dg.asset(
    group_name="publish",
    deps=[suspects],
    description="out/<round_id>/：SPEC §7 的 Parquet 文件、各县疑似风险户清单、部门任务清单、未匹配记录和本轮汇总。",
    pool="warehouse",
    kinds={"parquet", "excel"},
)
def round_outputs(context: dg.AssetExecutionContext, config: RoundConfig, fangpin: FangpinHome) -> dg.MaterializeResult:
    info, _, _ = config.resolve()
    home = fangpin.data_home()
    with fangpin.warehouse() as con:
        result = publish_round(con, home.root, info.round_id)
        rounds.finish_round(con, info.round_id)
    out_dir = home.round_dir(info.round_id)
    return dg.MaterializeResult(
        metadata={
            "round_id": info.round_id,
            "out_dir": dg.MetadataValue.path(str(out_dir)),
            "files": dg.MetadataValue.json([str(p) for p in result.get("files", [])]),
            "counts": dg.MetadataValue.json(_jsonable(result.get("counts", {}))),
        }
    )


def _jsonable(obj):
    """Stats objects (dataclasses, dicts) as plain JSON for asset metadata."""
    import dataclasses
    import datetime as dt

    if dataclasses.is_dataclass(obj):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    if isinstance(obj, (int, float, str, bool)) or obj is None:
        return obj
    return str(obj)
