"""Ingest assets: one per landing folder. Each materialisation ingests the folder's new files."""

import dagster as dg

from assets.ingestion import FeedOutcome, ingest_feed
from assets.resources import Warehouse
from fangpin.home import CORE_FEEDS, OPTIONAL_FEEDS

FEED_TITLES = {
    "registry": "防止返贫监测对象信息（户籍人口登记）",
    "medical": "医保局 医疗费用结算",
    "disaster": "应急管理局 受灾户",
    "civil_affairs": "民政局 救助对象",
    "employment": "人社局 就业失业登记",
    "property": "财产检索 命中记录",
}


#: Order of the ingest steps in a run (higher first; the executor runs one step at a time): the registry — the base
#: everything is linked to — then the large medical feed. Large files first also hide the seconds of the Great
#: Expectations import behind their reading, which a feed of small files cannot.
INGEST_PRIORITY = {"registry": 2, "medical": 1}


def asset_name(feed: str) -> str:
    return "registry" if feed == "registry" else f"{feed}_records"


#: outcomes of files that were read in this run
READ = ("loaded", "blocked", "quarantined")


def _metadata(outcome: FeedOutcome) -> dict:
    files = [
        {
            "file": f.file_name,
            "status": f.status,
            "rows": f.rows_in_file,
            "accepted": f.rows_accepted,
            "rejected": f.rows_rejected,
            "skipped": f.rows_skipped,
            "duplicate_events": f.rows_duplicate_event,
        }
        for f in outcome.files
    ]
    return {
        "new_files": dg.MetadataValue.int(sum(1 for f in outcome.files if f.status in READ)),
        "loaded_files": dg.MetadataValue.int(outcome.count("loaded")),
        "blocked_files": dg.MetadataValue.int(outcome.count("blocked")),
        "quarantined_files": dg.MetadataValue.int(outcome.count("quarantined")),
        # not read, each with a receipt: hidden files, links, identical copies of a file already received
        "not_read_files": dg.MetadataValue.int(outcome.count("skipped") + outcome.count("identical_copy")),
        # still being written: the next run reads them
        "unsettled_files": dg.MetadataValue.int(outcome.count("unsettled")),
        "rows_loaded": dg.MetadataValue.int(outcome.rows_loaded),
        "rows_rejected": dg.MetadataValue.int(sum(f.rows_rejected for f in outcome.files)),
        "files": dg.MetadataValue.json(files),
    }


def _check_result(feed: str, outcome: FeedOutcome) -> dg.AssetCheckResult:
    bad = [f for f in outcome.files if f.status in ("blocked", "quarantined")]
    failed = [{"file": f.file_name, "status": f.status, "reason": f.reason or ""} for f in bad]
    expectations = []
    for f in outcome.files:
        if f.validation is None:
            continue
        for o in f.validation.outcomes:
            if not o.success:
                expectations.append(
                    {
                        "file": f.file_name,
                        "expectation": o.name,
                        "blocking": o.blocking,
                        "unexpected": o.unexpected_count,
                        "说明": o.description_zh,
                    }
                )
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(asset_name(feed)),
        check_name="great_expectations",
        passed=not bad,
        # The round continues without the blocked files (they are kept out of the warehouse), so this is a warning
        # for the analyst, not a reason to stop the other feeds.
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "failed_files": dg.MetadataValue.json(failed),
            "failed_expectations": dg.MetadataValue.json(expectations),
            # the same, readable where the UI lists the check's result (JSON and Markdown sit behind a button)
            "未通过的校验项": dg.MetadataValue.int(len(expectations)),
            "校验提示": dg.MetadataValue.text(_expectations_text(expectations)),
        },
    )


def _expectations_text(expectations: list[dict]) -> str:
    if not expectations:
        return "全部校验项通过"
    return "；".join(
        f"{e['file']}：{e['说明'] or e['expectation']}（{'阻断' if e['blocking'] else '提示'}）" for e in expectations
    )


def build_ingest_asset(feed: str) -> dg.AssetsDefinition:
    name = asset_name(feed)

    @dg.asset(
        name=name,
        group_name="ingest",
        description=f"{FEED_TITLES.get(feed, feed)}：landing/{feed}/ 中新文件的归档、读取、校验与入库。",
        check_specs=[
            dg.AssetCheckSpec("great_expectations", asset=name, description="Great Expectations suite per dropped file")
        ],
        pool="warehouse",
        kinds={"duckdb", "polars"},
        op_tags={"dagster/priority": str(INGEST_PRIORITY.get(feed, 0))},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        home = warehouse.data_home()
        with warehouse.session() as wh:
            outcome = ingest_feed(home, feed, wh)
        for f in outcome.files:
            if f.status in READ:
                context.log.info(
                    f"{feed}/{f.file_name}: {f.status} rows={f.rows_in_file} accepted={f.rows_accepted} rejected={f.rows_rejected}"
                )
        return dg.MaterializeResult(metadata=_metadata(outcome), check_results=[_check_result(feed, outcome)])

    return _ingest


INGEST_FEEDS = ("registry",) + CORE_FEEDS + OPTIONAL_FEEDS
ingest_assets = [build_ingest_asset(f) for f in INGEST_FEEDS]
