"""Publish-ready tables (SPEC §7): the warehouse side of every publication.

The queries behind each output are named SQL steps in ``warehouse/publish/sql`` (``round.sql``, ``returns.sql``,
``summary.sql``; the review lists' in ``warehouse/review/sql/lists.sql``), run through the step runner; the functions here return Polars frames that
``fangpin.reports`` presents (it runs no SQL). The Chinese evidence text of the workbooks (【部门｜文件 第N行】 and the
rules' summary of each record) and the reasons and fixes of the unmatched records are built here, in SQL, once.

- :func:`round_tables` — everything a round publishes: suspects, links, rejected rows, the rows of each county's
  workbook, relocation follow-ups and helpers, priority targets, department task lists (with their deadline),
  the departments' unmatched records (classified: 需核对更正 / 仅供参考) and rejects, the review rows and each
  department's undecided records that change nobody's result (同名待定记录), the summary.
- :func:`review_rows` — the county review lists' rows (待核实匹配清单).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from fangpin.domain import departments, divisions, names
from fangpin.domain.workdays import add_working_days
from warehouse.review import lists
from warehouse.runner import Runner, runner_for
from warehouse.steps import Sql

#: county list ``${counties}`` when the whole round is published (an IN list cannot be empty)
_NO_COUNTY = [""]


def _scope_params(scope: list[str] | None) -> dict:
    return {"all_counties": scope is None, "counties": scope or _NO_COUNTY}


def _labels(wh: Runner, routing: dict) -> dict[str, str]:
    labels = departments.feed_labels(routing)
    wh.put("pub_feed_label", pl.DataFrame({"source": list(labels), "label": list(labels.values())}))
    types = departments.risk_types_of(routing)
    names = {key: str(d.get("name", key)) for key, d in (routing.get("departments") or {}).items()}
    pairs = [(names.get(k, k), t) for k, ts in types.items() for t in ts]
    schema = {"dept": pl.String, "risk_type": pl.String}
    wh.put("pub_dept_type", pl.DataFrame([list(p) for p in pairs], schema=schema, orient="row"))
    return labels


def task_deadlines(pushed: pl.Series, working_days: int) -> pl.Series:
    """落实截止日期 of a task list row: ``working_days`` Chinese working days after the push."""
    cache = {d: add_working_days(d, working_days)[0] for d in pushed.drop_nulls().unique().to_list()}
    return pushed.replace_strict(cache, default=None, return_dtype=pl.Date)


def round_tables(
    wh,
    round_id: str,
    *,
    routing: dict,
    stage: Path,
    scope: list[str] | None = None,
    returns: bool = True,
    task_working_days: int = 10,
) -> dict:
    """The frames of one publication. ``scope`` (county codes, historic ones included) limits the county rows to a
    county rerun; ``returns`` adds what describes department data (links, rejected rows, unmatched records, review
    rows), which full publications write. The two tables as long as the department data (links, rejected rows) are
    exported by the engine to Parquet files in the private folder ``stage`` and returned as lazy frames over them
    (read while they are written out; the caller removes ``stage``)."""
    wh = runner_for(wh)
    wh.run("rules/tables")  # a round published before any screening still finds its tables
    labels = _labels(wh, routing)
    params = {"round_id": round_id, **_scope_params(scope)}
    kind, n_targets = wh.rows("publish/round.kind", round_id=round_id)[0]
    priority = kind == "priority" or n_targets > 0
    task_categories = list(routing.get("task_list_categories") or ["监测户新增风险"])
    out: dict = {"round_id": round_id, "kind": kind, "priority": priority, "scope": scope, "labels": labels}
    try:
        wh.run("publish/round.evidence", round_id=round_id)
        wh.run("publish/round.heads")
        out["suspects"] = wh.frame("publish/round.suspects", **params)
        out["counties"] = wh.frame("publish/round.counties")
        out["routed"] = wh.frame("publish/round.routed", **params)
        out["followups"] = wh.frame("publish/round.followups", round_id=round_id)
        out["helpers"] = _helpers(wh)
        if priority:  # every county's targets: a county's workbook names the target villages of its households
            whole = {"round_id": round_id, **_scope_params(None)}
            out["targets"] = wh.frame("publish/round.targets", **whole)
            out["priority_households"] = wh.frame("publish/round.priority_households", **whole)
        tasks = wh.frame("publish/round.tasks", round_id=round_id, task_categories=task_categories)
        out["tasks"] = tasks.with_columns(task_by=task_deadlines(tasks["pushed_on"], task_working_days))
        out["task_working_days"] = task_working_days
        if returns:
            for key in ("links", "rejected"):
                path = Path(stage) / f"{key}.parquet"
                wh.export(f"publish/round.{key}", path)
                out[key] = pl.scan_parquet(path)
            owners = departments.feed_owners(routing, [r[0] for r in wh.rows("publish/returns.feeds")])
            out["owners"] = owners
            out["unmatched"], out["rejects"] = department_returns(wh, [f for fs in owners.values() for f in fs])
            out["review"] = review_rows(wh, round_id)
            out["review_held"] = {d: lists.department_rows(wh, round_id, fs) for d, fs in owners.items()}
        out["summary"] = summary_tables(wh, round_id)
    finally:
        wh.run("publish/round.drop")
        wh.drop("pub_feed_label", "pub_dept_type")
    return out


def _helpers(wh: Runner) -> pl.DataFrame:
    cols = set(wh.columns("feedback_record"))
    if not {"household_id", "reporting_county_code", "helper_name"} <= cols:
        return pl.DataFrame(schema={"household_id": pl.String, "county_code": pl.String, "helper_name": pl.String})
    order = ["helper_date DESC NULLS LAST"] if "helper_date" in cols else []
    return wh.frame(
        "publish/round.helpers", helper_order=Sql(", ".join(order + ["source_file DESC", "source_row DESC"]))
    )


def department_returns(wh, feeds: Iterable[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(unmatched records of ``feeds``, classified with basis and fix; their rejected rows)."""
    wh = runner_for(wh)
    feeds = sorted(set(feeds))
    if not feeds:
        feeds = [""]
    regions = divisions.region_names()
    wh.put("pub_region", pl.DataFrame({"code": list(regions), "name": list(regions.values())}))
    try:
        wh.run("publish/returns.unmatched_records", feeds=feeds)
        wh.put("pub_homophone", homophones(wh.frame("publish/returns.name_pairs")))
        unmatched = wh.frame("publish/returns.unmatched", city_codes=divisions.city_codes(), here=divisions.area_word())
    finally:
        wh.run("publish/returns.unmatched_drop")
        wh.drop("pub_region")
    return unmatched, wh.frame("publish/returns.rejects", feeds=feeds)


def homophones(pairs: pl.DataFrame) -> pl.DataFrame:
    """The (record_key, person_key) pairs whose names read the same in pinyin (either reading of a polyphonic
    character): a name typed by pinyin with the wrong character."""
    table = names.name_table(pl.concat([pairs["record_key"], pairs["person_key"]])).select("name_key", "py", "py_alt")
    joined = pairs.join(table.rename(lambda c: f"r_{c}"), left_on="record_key", right_on="r_name_key").join(
        table.rename(lambda c: f"p_{c}"), left_on="person_key", right_on="p_name_key"
    )
    same = (
        (pl.col("r_py") == pl.col("p_py"))
        | (pl.col("r_py") == pl.col("p_py_alt"))
        | (pl.col("r_py_alt") == pl.col("p_py"))
        | (pl.col("r_py_alt") == pl.col("p_py_alt"))
    )
    return joined.filter(same).select("record_key", "person_key")


def review_rows(wh, round_id: str | None = None) -> pl.DataFrame:
    """The county review lists' rows: (county, record, candidate), most urgent first — the material records of round
    ``round_id`` with what each candidate would change (:func:`warehouse.review.lists.county_rows`)."""
    return lists.county_rows(wh, round_id)


def summary_tables(wh, round_id: str) -> dict[str, pl.DataFrame]:
    """The round summary's figures, one frame per table or chart (``publish/summary.*``)."""
    wh = runner_for(wh)
    per_round = ("info", "by_category", "by_risk_type", "by_county")
    out = {name: wh.frame(f"publish/summary.{name}", round_id=round_id) for name in per_round}
    out |= {name: wh.frame(f"publish/summary.{name}") for name in ("matching", "quality", "reasons")}
    return out
