"""Remembered link decisions (issue 12): a county's answer about a record linkage left for review.

Two returned lists decide links, read by :mod:`warehouse.followup.reader` and loaded by
:mod:`warehouse.followup.feedback`:

- the 疑似风险户清单 of a round: for a household listed with pending records (``suspect.pending_records``), the column
  同名记录核实 (是本户 / 不是本户) decides them; without it, the 核实结果 of a 同名待确认 household does — 纳入监测
  confirms (the household was listed only because of the record), 不纳入 denies (:func:`record_suspect_list`);
- the 待核实匹配清单: the right candidate's number confirms that candidate and denies the record's other candidates
  listed to that county; 均不是 denies them all (:func:`review_list_decisions`, :func:`record_review_list`).

Decisions are kept in ``link_decision`` (``review/tables``), keyed by the record — (source, source_file, source_row),
and for a copy re-sent in another file its event key and a hash of its content — and the candidate household.
:func:`apply_decisions` writes them into ``link`` / ``link_candidate`` after every linkage run and after every
feedback file: a confirmed record becomes a link (evidence for the next round), a denied candidate is never asked
about again, a record left with no candidate goes back to its department. Applying twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from sources.read import REJECTED_SCHEMA
from warehouse.runner import runner_for

DECISION_SCHEMA = {
    "source": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int64,
    "household_id": pl.String,
    "id_number": pl.String,
    "decision": pl.String,
    "decided_on": pl.Date,
    "county_code": pl.String,
    "feedback_file": pl.String,
    "feedback_row": pl.Int64,
    "file_hash": pl.String,
}
NONE_OF_THEM = "均不是"


@dataclass
class AppliedDecisions:
    confirmed: int = 0  # records linked by a county's confirmation
    denied: int = 0  # (record, candidate household) pairs excluded


def ensure_tables(con) -> None:
    """link_decision, and the round tables a decision refers to (suspect, review_impact)."""
    from warehouse.rules import ensure_tables as rules_tables

    rules_tables(con)
    runner_for(con).run("review/tables")


def apply_decisions(con) -> AppliedDecisions:
    """Write the remembered decisions into ``link`` / ``link_candidate`` (see the module docstring)."""
    wh = runner_for(con)
    ensure_tables(con)
    if not wh.scalar("review/decisions.any"):
        return AppliedDecisions()
    try:
        wh.run("review/decisions.keys")
        with wh.transaction():
            wh.run("review/decisions.apply")
        confirmed, denied = wh.rows("review/decisions.summary")[0]
    finally:
        wh.run("review/decisions.drop")
    return AppliedDecisions(int(confirmed), int(denied))


def record_suspect_list(con, file_hash: str) -> int:
    """Decisions from the returned 疑似风险户清单 ``file_hash`` (its rows already in ``feedback_record``). Runs inside
    the caller's transaction; returns the decisions recorded."""
    wh = runner_for(con)
    before = wh.scalar("review/decisions.count")
    wh.run("review/decisions.keys")
    wh.run("review/decisions.from_suspect_list", file_hash=file_hash)
    return int(wh.scalar("review/decisions.count") - before)


def review_list_decisions(
    con, rows: pl.DataFrame, file_name: str, file_hash: str, file_county: str | None, loaded_on: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """A returned 待核实匹配清单's rows (reader ``REVIEW_COLUMNS``) → (decisions, rejected rows, rows accepted).

    Each row names a record (文件名, 行号) and one of its candidates (候选序号, 户编号, 证件号码). Rejected, with the
    reason in Chinese: a record the system does not know, a 户编号 that is not one of the record's candidates, a
    candidate of another county than the file's, an answer naming a 候选序号 the file does not list for that
    record, different answers for one record. A record answered k: the candidate of row k confirmed, the other
    candidates in the file denied; 均不是: all of them denied. Unanswered records decide nothing."""
    wh = runner_for(con)
    ensure_tables(con)
    if rows.height == 0:
        return pl.DataFrame(schema=DECISION_SCHEMA), pl.DataFrame(schema=REJECTED_SCHEMA), 0
    wh.put("_rv_rows", rows.with_row_index("_i"))
    try:
        looked = wh.frame("review/decisions.review_rows")
    finally:
        wh.drop("_rv_rows")
    checked = rows.with_row_index("_i").join(looked, on="_i", how="left")
    rec = ["record_file", "record_row"]
    checked = checked.with_columns(
        pl.col("answer").drop_nulls().n_unique().over(rec).alias("_answers"),
        pl.col("answer").drop_nulls().first().over(rec).alias("_answer"),
    )
    answered = pl.col("_answer").is_not_null()
    number = answered & (pl.col("_answer") != NONE_OF_THEM)
    rank_listed = (
        pl.col("rank").cast(pl.String).eq(pl.col("_answer")).fill_null(False).any().over(rec)
    )  # the chosen number is a candidate row of this record in the file
    from fangpin.domain import divisions  # county names for the reasons

    names = divisions.counties()
    fc_name = names.get(file_county or "", file_county or "")
    rules: list[tuple[pl.Expr, str, pl.Expr]] = [
        (
            pl.col("n_sources").fill_null(0) == 0,
            "文件名",
            pl.format(
                "文件名“{}”第{}行的部门记录在系统中找不到，请勿修改清单中的文件名和行号", "record_file", "record_row"
            ),
        ),
        (
            pl.col("n_sources") > 1,
            "文件名",
            pl.format("文件名“{}”第{}行对应多个部门的记录，无法确定，请联系系统管理员", "record_file", "record_row"),
        ),
        (
            ~pl.col("is_candidate").fill_null(False),
            "户编号",
            pl.format(
                "户编号“{}”不是该记录的候选人员，请勿修改清单中的候选人员信息", pl.col("household_id").fill_null("")
            ),
        ),
        (
            pl.lit(file_county is not None) & (pl.col("cand_county").fill_null("") != (file_county or "")),
            "户编号",
            pl.format("文件名表明由{}反馈，但户编号“{}”不属于{}", pl.lit(fc_name), "household_id", pl.lit(fc_name)),
        ),
        (
            pl.col("answer").is_not_null() & (pl.col("_answers") > 1),
            "核实结果",
            pl.lit("同一记录填写了不同的核实结果，请只填写一个候选序号或“均不是”"),
        ),
        (
            pl.col("answer").is_not_null() & number & ~rank_listed,
            "核实结果",
            pl.format("候选序号{}不在本表该记录的候选人员中，请填写表中列出的候选序号或“均不是”", "_answer"),
        ),
    ]
    fld = reason = None
    for cond, label, text in reversed(rules):  # the first rule that applies names the fault
        cond = cond.fill_null(False)
        fld = pl.when(cond).then(pl.lit(label)).otherwise(fld if fld is not None else pl.lit(None, dtype=pl.String))
        reason = pl.when(cond).then(text).otherwise(reason if reason is not None else pl.lit(None, dtype=pl.String))
    checked = checked.with_columns(fld.alias("_fld"), reason.alias("_reason"))
    # a record with a rejected row decides nothing (its answer may rest on the faulty row)
    checked = checked.with_columns(pl.col("_reason").is_not_null().any().over(rec).alias("_record_bad"))
    rejected = checked.filter(pl.col("_reason").is_not_null()).select(
        pl.lit("feedback").alias("source"),
        pl.lit(file_name).alias("source_file"),
        pl.col("source_row"),
        pl.col("_fld").alias("field"),
        pl.col("_reason").alias("reason"),
        pl.lit(file_hash).alias("file_hash"),
    )
    accepted = checked.filter(pl.col("_reason").is_null())
    decisions = accepted.filter(answered & ~pl.col("_record_bad")).select(
        pl.col("record_source").alias("source"),
        pl.col("record_file").alias("source_file"),
        pl.col("record_row").alias("source_row"),
        pl.col("household_id"),
        pl.col("cand_person").alias("id_number"),
        pl.when(pl.col("rank").cast(pl.String) == pl.col("_answer"))
        .then(pl.lit("confirmed"))
        .otherwise(pl.lit("denied"))
        .alias("decision"),
        pl.coalesce(pl.col("verify_date"), pl.lit(loaded_on)).alias("decided_on"),
        pl.col("cand_county").alias("county_code"),
        pl.lit(file_name).alias("feedback_file"),
        pl.col("source_row").alias("feedback_row"),
        pl.lit(file_hash).alias("file_hash"),
    )
    return (
        decisions.cast(DECISION_SCHEMA),  # type: ignore[arg-type]
        rejected.cast(REJECTED_SCHEMA),  # type: ignore[arg-type]
        accepted.height,
    )


def record_review_list(con, decisions: pl.DataFrame) -> int:
    """Store the decisions of a returned 待核实匹配清单 (inside the caller's transaction)."""
    if decisions.height == 0:
        return 0
    wh = runner_for(con)
    wh.put("_rv_decision", decisions)
    try:
        wh.run("review/decisions.keys")
        wh.run("review/decisions.from_review_list")
    finally:
        wh.drop("_rv_decision")
    return decisions.height
