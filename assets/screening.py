"""Linkage, risk screening and publishing assets.

- ``links`` (unpartitioned: the department data is shared by every round and county) — match every department
  record; metadata = match rates per feed and the parameters estimated from this round's exact-ID links; one asset
  check per feed (``match_rate_<feed>``, WARN).
- ``suspects`` → ``round_outputs`` — partitioned by quarter × county (``assets.rounds.round_partitions``),
  single-run backfills: screen the run's rounds (``warehouse.rules.screen``, a county subset when the run does not
  cover all counties of a quarter), then publish them (``assets.publishing.publish_round``: the warehouse's
  publish-ready tables, written by ``fangpin.reports``).

Failures say what broke: a missing threshold names the rules file and key, a failing rule names its SQL file, a
failing output names the file (``dg.Failure`` metadata ``file`` / ``rule``).

No ``from __future__ import annotations`` here: Dagster inspects the context and config annotations at runtime.
"""

import re
import time

import dagster as dg

from assets.ingest import INGEST_FEEDS, asset_name
from assets.publishing import publish_round
from assets.resources import Warehouse
from assets.rounds import RoundConfig, RoundScope, round_partitions, run_partition_keys, scopes_for
from fangpin.domain import divisions
from fangpin.home import CORE_FEEDS, OPTIONAL_FEEDS
from fangpin.reports.publish import PublishError
from fangpin.settings import ConfigError
from warehouse import review, rounds, rules, systemic
from warehouse.followup import apply_followup
from warehouse.linkage import link_records

LINK_FEEDS = CORE_FEEDS + OPTIONAL_FEEDS
#: below this share of a feed's records linked to a registry person the check warns: usually a wrong ID column or
#: a registry export that lacks a county, not the normal share of people outside the registry
MIN_MATCH_RATE = 0.5


@dg.asset(
    group_name="linkage",
    deps=[dg.AssetKey(asset_name(f)) for f in INGEST_FEEDS],
    description="每条部门记录与户籍人员/户的匹配结果（证件号码精确、修复、模糊、待复核、未匹配）。",
    check_specs=[
        dg.AssetCheckSpec(
            f"match_rate_{f}",
            asset="links",
            description=f"share of {f} records linked to a registry person ≥ {MIN_MATCH_RATE:.0%}",
        )
        for f in LINK_FEEDS
    ],
    pool="warehouse",
    kinds={"duckdb"},
)
def links(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.session() as wh:
        stats = link_records(wh, home=warehouse.data_home().root)
        # what counties already decided about records linkage cannot decide (warehouse/review): remembered links
        applied = review.apply_decisions(wh)
        rows = wh.rows("core/screening.match_rates")
    by_feed = {
        s: {"records": n, "linked": k, "review": r, "unmatched": u, "rate": (k / n if n else 0.0)}
        for s, n, k, r, u in rows
    }
    meta = {f"match_rate_{s}": dg.MetadataValue.float(round(v["rate"], 4)) for s, v in by_feed.items()}
    meta["records"] = dg.MetadataValue.int(sum(v["records"] for v in by_feed.values()))
    meta["match_rates"] = dg.MetadataValue.md(
        _table(
            ["feed", "records", "linked", "review", "unmatched", "match rate"],
            [
                [s, v["records"], v["linked"], v["review"], v["unmatched"], f"{v['rate']:.1%}"]
                for s, v in by_feed.items()
            ],
        )
    )
    # what this round's exact-ID links taught linkage (counts and probabilities only: no personal data)
    meta["estimated_parameters"] = dg.MetadataValue.md(
        _table(
            ["parameter", "estimated", "configured", "observations"],
            [
                [p.name, f"{p.value:.4g}", "" if p.configured is None else f"{p.configured:.4g}", p.observations]
                for p in stats.parameters
            ],
        )
    )
    meta["stats"] = dg.MetadataValue.json(_jsonable(stats))
    meta["county_decisions_applied"] = dg.MetadataValue.json({"confirmed": applied.confirmed, "denied": applied.denied})
    checks = []
    for feed in LINK_FEEDS:
        v = by_feed.get(feed)
        checks.append(
            dg.AssetCheckResult(
                asset_key=dg.AssetKey("links"),
                check_name=f"match_rate_{feed}",
                passed=v is None or v["rate"] >= MIN_MATCH_RATE,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "records": dg.MetadataValue.int(v["records"] if v else 0),
                    "match_rate": dg.MetadataValue.float(round(v["rate"], 4) if v else 1.0),
                    "note": "no records of this feed"
                    if v is None
                    else f"{v['unmatched']} unmatched, {v['review']} for review",
                },
            )
        )
    return dg.MaterializeResult(metadata=meta, check_results=checks)


@dg.asset(
    group_name="screening",
    deps=[links, dg.AssetKey("feedback_records")],
    description="按监测线和风险规则筛出的疑似风险户（含证据、风险类型、疑似类别、核实截止日期）。分区 = 季度 × 县："
    "一个季度的全部县为一轮（一次运行），单个县为该县重跑，只替换该县的行。",
    check_specs=[
        dg.AssetCheckSpec(
            "evidence_on_every_suspect",
            asset="suspects",
            blocking=True,
            description="every suspected household of the run carries at least one evidence row "
            "(SPEC §6: evidence on every flag)",
        )
    ],
    partitions_def=round_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
    kinds={"duckdb"},
)
def suspects(context: dg.AssetExecutionContext, config: RoundConfig, warehouse: Warehouse):
    scopes = scopes_for(run_partition_keys(context), config)
    context.log.info("screening " + "; ".join(s.describe() for s in scopes))
    home = warehouse.data_home()
    started = time.time()
    results = []
    with warehouse.session() as wh:
        for scope in scopes:
            stats = _screen(wh, scope, home.root)
            # a household the county already verified is not pushed again without new evidence (docs/FOLLOWUP.md)
            apply_followup(wh, scope.round_id, scope.pushed_on, counties=scope.county_list)
            results.append((scope, stats, _scope_counts(wh, scope)))
        missing = _suspects_without_evidence(wh, scopes)
    yield dg.MaterializeResult(metadata=_suspects_metadata(results, time.time() - started))
    yield dg.AssetCheckResult(
        check_name="evidence_on_every_suspect",
        passed=not missing,
        metadata={
            "households_without_evidence": dg.MetadataValue.json(missing[:20]),
            "count": dg.MetadataValue.int(len(missing)),
        },
    )


@dg.asset(
    group_name="publish",
    deps=[suspects, dg.AssetKey("systemic_risk")],  # the summary shows the round's systemic-risk flags
    description="out/<round_id>/：SPEC §7 的 Parquet 文件、各县疑似风险户清单（含易地搬迁分流、安置点横向比较）、"
    "重点区域排查（第一、三季度）、部门任务清单、未匹配记录和本轮汇总。单个县重跑只改写该县的文件和行。",
    check_specs=[
        dg.AssetCheckSpec(
            "county_lists_published",
            asset="round_outputs",
            description="every county of the run with households has its 疑似风险户清单 workbook in out/<round_id>/",
        )
    ],
    partitions_def=round_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
    kinds={"parquet", "excel"},
)
def round_outputs(context: dg.AssetExecutionContext, config: RoundConfig, warehouse: Warehouse):
    scopes = scopes_for(run_partition_keys(context), config)
    home = warehouse.data_home()
    published = []
    with warehouse.session() as wh:
        for scope in scopes:
            _require_screened(wh, scope)
            published.append((scope, _publish(wh, scope, home.root)))
            rounds.finish_round(wh, scope.round_id)
        absent = _counties_without_workbook(wh, published)
    yield dg.MaterializeResult(metadata=_outputs_metadata(published))
    yield dg.AssetCheckResult(
        check_name="county_lists_published",
        passed=not absent,
        metadata={"counties_without_workbook": dg.MetadataValue.json(absent)},
    )


# ------------------------------------------------------------------------------------------------ stages


def _screen(wh, scope: RoundScope, home) -> rules.ScreenStats:
    rounds.start_round(wh, scope.round_id, scope.kind, scope.info.reference_date)
    try:
        return rules.screen(
            wh,
            scope.round_id,
            scope.kind,
            scope.info.reference_date,
            scope.pushed_on,
            home=home,
            counties=scope.county_list,
        )
    except ConfigError as exc:
        file, key = _config_location(str(exc))
        raise dg.Failure(
            description=f"规则配置不完整，无法筛查 {scope.round_id} / rules configuration incomplete for round "
            f"{scope.round_id}: {exc}",
            metadata={"file": file, "rule": key, "round_id": scope.round_id},
        ) from None
    except rules.RuleStepError as exc:
        raise dg.Failure(
            description=f"风险规则 {exc.path} 执行失败（轮次 {scope.round_id}）/ risk rule {exc.path} failed: {exc.__cause__}",
            metadata={"rule": exc.path, "round_id": scope.round_id},
        ) from None


def _publish(wh, scope: RoundScope, home) -> dict:
    try:
        return publish_round(
            wh, home, scope.round_id, counties=scope.county_list, systemic=systemic.summary(wh, scope.round_id)
        )
    except PublishError as exc:
        raise dg.Failure(
            description=f"发布 {exc.file} 失败（轮次 {scope.round_id}）/ publishing {exc.file} failed: {exc.__cause__}",
            metadata={"file": exc.file, "round_id": scope.round_id},
        ) from None


def _require_screened(wh, scope: RoundScope) -> None:
    if not wh.scalar("core/screening.round_known", round_id=scope.round_id):
        raise dg.Failure(
            description=f"轮次 {scope.round_id} 尚未筛查，请先（或一起）运行 suspects / round {scope.round_id} "
            "has not been screened: materialize suspects for these partitions first (or together)",
            metadata={"round_id": scope.round_id},
        )


def _config_location(message: str) -> tuple[str, str]:
    m = re.match(r"^(?P<file>.+?\.ya?ml): (?P<key>\S+)", message)
    return (m.group("file"), m.group("key")) if m else ("fangpin/config/rules.yaml", "")


def _scope_counts(wh, scope: RoundScope) -> dict[str, int]:
    rows = wh.rows("core/screening.suspects_by_county", **_scope_params(scope))
    return {c: n for c, n in rows}


def _scope_params(scope: RoundScope) -> dict:
    counties = rules.county_scope(scope.county_list)
    # a placeholder list for the whole round (the step ignores it then; IN () is not SQL)
    return {"round_id": scope.round_id, "all_counties": scope.counties is None, "counties": counties or [""]}


def _suspects_without_evidence(wh, scopes: list[RoundScope]) -> list[str]:
    missing = []
    for scope in scopes:
        missing += [r[0] for r in wh.rows("core/screening.without_evidence", **_scope_params(scope))]
    return missing


def _counties_without_workbook(wh, published: list[tuple[RoundScope, dict]]) -> list[str]:
    """Counties of the run with households in the registry (or routed suspects) but no workbook on disk."""
    registry = {r[0] for r in wh.rows("core/screening.registry_counties") if r[0]}
    absent = []
    for scope, result in published:
        files = result["counts"].get("workbook_files", {})
        routed = {r[0] for r in wh.rows("core/screening.routed_counties", round_id=scope.round_id) if r[0]}
        wanted = (
            (registry | routed) if scope.counties is None else {c for c in scope.counties if c in registry | routed}
        )
        absent += [
            f"{scope.round_id}:{c}"
            for c in sorted(wanted)
            if c not in files or not (result["out_dir"] / files[c]).exists()
        ]
    return absent


# ------------------------------------------------------------------------------------------------ metadata


def _suspects_metadata(results: list[tuple[RoundScope, rules.ScreenStats, dict]], seconds: float) -> dict:
    one = len(results) == 1
    meta = {
        "round_id": ", ".join(s.round_id for s, _, _ in results),
        "kind": ", ".join(sorted({s.kind for s, _, _ in results})),
        "counties": "全部县 (all)"
        if all(s.counties is None for s, _, _ in results)
        else ", ".join(sorted({c for s, _, _ in results for c in (s.counties or ())})),
        "suspects": dg.MetadataValue.int(sum(sum(c.values()) for _, _, c in results)),
        "seconds": round(seconds, 2),
    }
    rows = []
    for scope, _stats, by_county in results:
        for code, n in by_county.items():
            rows.append([scope.round_id, code, divisions.county_name(code), n])
    meta["suspects_by_county"] = dg.MetadataValue.md(_table(["round", "county code", "county", "suspects"], rows))
    meta["partitions"] = dg.MetadataValue.int(sum(len(s.partition_keys) for s, _, _ in results))
    if one:  # the round as a whole (all counties' rows, whichever this run rewrote)
        scope, stats, by_county = results[0]
        meta["reference_date"] = str(scope.info.reference_date)
        meta["pushed_on"] = str(scope.pushed_on)
        meta["verify_by"] = str(stats.verify_by)
        meta["suspects_by_county_json"] = dg.MetadataValue.json(
            {divisions.county_label(c): n for c, n in by_county.items()}
        )
        meta["round_suspects"] = dg.MetadataValue.int(stats.suspects)
        meta["round_by_category"] = dg.MetadataValue.json(stats.by_category)
        meta["round_by_risk_type"] = dg.MetadataValue.json(stats.by_risk_type)
        meta["round_priority_targets"] = dg.MetadataValue.int(stats.priority_targets)
        meta["round_relocation_followups"] = dg.MetadataValue.int(stats.relocation_followups)
        # risk-aware review (issue 12): records left for review, those that matter, households 同名待确认
        meta["round_review_records"] = dg.MetadataValue.int(stats.review_records)
        meta["round_review_material"] = dg.MetadataValue.int(stats.review_material)
        meta["round_pending_namesake"] = dg.MetadataValue.int(stats.pending_namesake)
    meta["stats"] = dg.MetadataValue.json([_jsonable(st) for _, st, _ in results])
    return meta


def _outputs_metadata(published: list[tuple[RoundScope, dict]]) -> dict:
    meta: dict = {"round_id": ", ".join(s.round_id for s, _ in published)}
    rows = []
    for scope, result in published:
        out = result["out_dir"]
        prefix = "" if len(published) == 1 else f"{scope.round_id}_"
        meta[f"{prefix}out_dir"] = dg.MetadataValue.path(str(out))
        meta[f"{prefix}summary"] = dg.MetadataValue.path(str(result["summary_html"]))
        meta[f"{prefix}suspects_parquet"] = dg.MetadataValue.path(str(out / "suspects.parquet"))
        if (out / "priority_targets.parquet").exists():
            meta[f"{prefix}priority_targets_parquet"] = dg.MetadataValue.path(str(out / "priority_targets.parquet"))
        counts = result["counts"]
        for code, fname in sorted(counts.get("workbook_files", {}).items()):
            meta[f"{prefix}workbook_{code or 'unknown'}"] = dg.MetadataValue.path(str(out / fname))
            rows.append(
                [
                    scope.round_id,
                    code,
                    divisions.county_name(code),
                    counts.get("county_workbooks", {}).get(_cname(code, fname), ""),
                    fname,
                ]
            )
        meta[f"{prefix}files"] = dg.MetadataValue.int(len(result["files"]))
        meta[f"{prefix}counts"] = dg.MetadataValue.json(
            _jsonable({k: v for k, v in counts.items() if k != "workbook_files"})
        )
    meta["county_workbooks"] = dg.MetadataValue.md(
        _table(["round", "county code", "county", "households", "file"], rows)
    )
    return meta


def _cname(code: str, file_name: str) -> str:
    return file_name.removeprefix("疑似风险户清单_").removesuffix(".xlsx").removesuffix(f"_{code}")


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


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
