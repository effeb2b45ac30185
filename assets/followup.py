"""Closing the loop, part A (SPEC §8): county feedback ingestion, monitoring state, follow-up outputs.

Assets (thin wrappers over ``warehouse.followup`` and ``fangpin.reports.followup``):

- ``feedback_records`` (group ingest) — new files of ``landing/feedback/``: archived, read, validated against what
  was pushed, loaded into ``feedback_record`` and the history ``household_event``; a clerk receipt per file.
  Asset check ``feedback_validation`` (WARN): quarantined files or rows rejected against the pushes.
- ``monitoring_state`` (group followup) — after the round is published: records the pushes of published rounds that
  have no history yet, (re)creates the views ``household_state`` / ``monitoring_roster``; metadata = roster counts.
- ``followup_outputs`` (group followup) — ``out/followup/<as_of>/``: overdue lists, compliance table, risk-elimination
  candidates, fund-allocation factor. ``as_of`` is run config (empty → today).
- ``approval_batch`` (group followup, unpartitioned) — the monthly 县级审定 batch of a month: the month comes from
  the run tag ``fangpin/approval_month`` (set by the lead's ``monthly_approval`` schedule), else config ``month``,
  else the previous month; files in ``out/followup/approval/<YYYY-MM>/``.

Re-push suppression is not an asset: ``warehouse.followup.apply_followup(wh, round_id, pushed_on)`` is called inside
the ``suspects`` asset right after ``rules.screen`` (docs/FOLLOWUP.md, "Wiring").

``run_followup(home, as_of)`` does the same as the three assets without Dagster (scripts, a CLI command, tests).

No ``from __future__ import annotations`` here: Dagster inspects the context and config annotations at runtime.
"""

import datetime as dt
from pathlib import Path

import dagster as dg

from assets.ingest import _metadata as _ingest_metadata
from assets.publishing import write_approval_batch, write_followup
from assets.resources import Warehouse
from fangpin.home import DataHome
from warehouse.followup import backfill_pushes, ensure_tables, ingest_feedback
from warehouse.followup.feedback import FeedbackOutcome


class FollowupConfig(dg.Config):
    """Which day the follow-up outputs describe. Empty → today (a UI launch needs no config)."""

    as_of: str = ""  # ISO date, e.g. 2027-01-20

    def resolve(self, today: dt.date | None = None) -> dt.date:
        if not self.as_of:
            return today or dt.date.today()
        try:
            return dt.date.fromisoformat(self.as_of)
        except ValueError:
            raise dg.Failure(f"as_of {self.as_of!r} is not an ISO date (e.g. 2027-01-20)") from None


def _feedback_check(outcome: FeedbackOutcome) -> dg.AssetCheckResult:
    bad = [
        {"file": f.file_name, "status": f.status, "reason": f.reason or ""}
        for f in outcome.files
        if f.status == "quarantined"
    ]
    rejected = [{"file": f.file_name, "rows_rejected": f.rows_rejected} for f in outcome.files if f.rows_rejected]
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey("feedback_records"),
        check_name="feedback_validation",
        passed=not bad and not rejected,
        # the other counties' results and the round go on: a warning for the analyst, the clerk report says what to fix
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "quarantined_files": dg.MetadataValue.json(bad),
            "files_with_rejected_rows": dg.MetadataValue.json(rejected),
        },
    )


@dg.asset(
    name="feedback_records",
    group_name="ingest",
    description="县乡核实结果：landing/feedback/ 中新文件的归档、读取、与推送情况核对（未推送的户、其他县的户、核实日期早于推送日期即拒收）与入库，形成每户的监测历史。",
    check_specs=[
        dg.AssetCheckSpec(
            "feedback_validation",
            asset="feedback_records",
            description="quarantined feedback files and rows rejected against what was pushed",
        )
    ],
    pool="warehouse",
    kinds={"duckdb", "polars"},
)
def feedback_records(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    home = warehouse.data_home()
    with warehouse.session() as wh:
        outcome = ingest_feedback(home, wh)
    for f in outcome.files:
        if f.status != "already_ingested":
            context.log.info(
                f"feedback/{f.file_name}: {f.status} rows={f.rows_in_file} accepted={f.rows_accepted} "
                f"rejected={f.rows_rejected} events={f.events}"
            )
    meta = _ingest_metadata(outcome)
    meta["results"] = dg.MetadataValue.json({f.file_name: f.results for f in outcome.files if f.results})
    meta["events_added"] = dg.MetadataValue.int(sum(f.events for f in outcome.files))
    return dg.MaterializeResult(metadata=meta, check_results=[_feedback_check(outcome)])


@dg.asset(
    group_name="followup",
    deps=[feedback_records, dg.AssetKey("round_outputs")],
    description="每户监测状态（推送→核实→纳入/不纳入→帮扶责任人→帮扶措施→走访→风险消除）与防止返贫监测对象名册（视图 monitoring_roster）。",
    pool="warehouse",
    kinds={"duckdb"},
)
def monitoring_state(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.session() as wh:
        ensure_tables(wh)
        added = backfill_pushes(wh)
        roster = dict(wh.rows("followup/status.roster"))
        stages = dict(wh.rows("followup/status.stages"))
        events = dict(wh.rows("followup/status.events"))
    return dg.MaterializeResult(
        metadata={
            "pushes_backfilled": dg.MetadataValue.int(added),
            "roster": dg.MetadataValue.json(roster),
            "stages": dg.MetadataValue.json(stages),
            "events": dg.MetadataValue.json(events),
        }
    )


@dg.asset(
    group_name="followup",
    deps=[monitoring_state],
    description="out/followup/<日期>/：各县逾期事项清单、督查合规表、风险消除候选户、资金分配因素（监测对象人数及占比）。",
    pool="warehouse",
    kinds={"excel", "parquet"},
)
def followup_outputs(
    context: dg.AssetExecutionContext, config: FollowupConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    as_of = config.resolve()
    home = warehouse.data_home()
    with warehouse.session() as wh:
        result = write_followup(wh, home.root, as_of)
    counts = result["counts"]
    return dg.MaterializeResult(
        metadata={
            "as_of": as_of.isoformat(),
            "out_dir": dg.MetadataValue.path(str(result["folder"])),
            "overdue": dg.MetadataValue.int(int(counts.get("overdue", 0))),
            "overdue_by_county": dg.MetadataValue.json(counts.get("overdue_by_county", {})),
            "candidates_by_county": dg.MetadataValue.json(counts.get("candidates_by_county", {})),
            "monitored_persons": dg.MetadataValue.int(int(counts.get("monitored_persons", 0))),
            "files": dg.MetadataValue.json([str(p) for p in result["files"]]),
        }
    )


class ApprovalConfig(dg.Config):
    """Which month's batch. Empty → the run tag ``fangpin/approval_month``, else the previous month."""

    month: str = ""  # YYYY-MM


def _previous_month(day: dt.date) -> str:
    first = day.replace(day=1) - dt.timedelta(days=1)
    return f"{first:%Y-%m}"


@dg.asset(
    group_name="followup",
    deps=[feedback_records],
    description="每月县级审定批次：各县上月核实纳入监测、待县级审定的户（工作方案（二）：县级原则上每月办理一次）。",
    pool="warehouse",
    kinds={"excel", "parquet"},
)
def approval_batch(
    context: dg.AssetExecutionContext, config: ApprovalConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    month = config.month or context.run.tags.get("fangpin/approval_month") or _previous_month(dt.date.today())
    home = warehouse.data_home()
    with warehouse.session() as wh:
        try:
            result = write_approval_batch(wh, home.root, month)
        except ValueError as exc:
            raise dg.Failure(f"县级审定批次的月份无效 / invalid approval month: {exc}") from None
    return dg.MaterializeResult(
        metadata={
            "month": month,
            "out_dir": dg.MetadataValue.path(str(result["folder"])),
            "households_by_county": dg.MetadataValue.json(result["counts"]),
            "households": dg.MetadataValue.int(sum(result["counts"].values())),
        }
    )


followup_assets = [feedback_records, monitoring_state, followup_outputs, approval_batch]


def run_followup(home: str | Path | None, as_of: dt.date | None = None) -> dict:
    """Without Dagster: ingest new feedback, record pushes, write ``out/followup/<as_of>/``. Returns the outputs'
    {"folder", "files", "counts", "feedback"}."""
    from assets.resources import resources_for

    data_home = DataHome.at(home).ensure()
    as_of = as_of or dt.date.today()
    with resources_for(home=str(data_home.root))["warehouse"].session() as wh:
        outcome = ingest_feedback(data_home, wh)
        backfill_pushes(wh)
        result = write_followup(wh, data_home.root, as_of)
    result["feedback"] = outcome
    return result
