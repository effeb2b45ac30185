"""County feedback: landing/feedback/ → archive → read → validate against what was pushed → warehouse + history.

``ingest_feedback(home, wh)`` handles every new file in ``<home>/landing/feedback/`` the way department drops are
handled (``assets/ingestion.py``): the bytes are archived first; an unreadable file is quarantined with a Chinese
reason; the same bytes dropped twice are ingested once; each file gets a clerk receipt under
``reports/ingest/feedback/``; every row ends in exactly one place (accepted, rejected with a reason in
``rejected_row`` — hence in ``rejected.parquet`` and the reports — or skipped as a title/header/total/blank row).

Validation against the push history (the 'suspected' events, see :mod:`warehouse.followup.state`), one reason per row:
- 户编号 never pushed in any round → rejected ("户编号…未在任何一轮推送中出现"), unless the household is an existing
  registry monitoring object and the row carries only follow-up (帮扶责任人, 措施, 走访, 审定, 消除) without a 核实结果;
- the row's 县(市、区), or the county named in the file name (疑似风险户清单_<县>.xlsx), is not a county the household was
  pushed to (a relocated household pushed to two counties may be answered by either; the registry county is
  always fine for the row's own county column) → rejected;
- 核实日期 earlier than the household's first push (or than the 推送日期 the row itself shows) → rejected;
- the same household twice in one file with different 核实结果 → the later row is rejected;
- (format checks of the reader: empty/mangled 户编号, unknown 核实结果, a decision without 核实日期, bad dates.)

Loading one file is one transaction: ``feedback_record`` rows, ``rejected_row`` rows, the ``ingested_file`` entry and
the file's ``household_event`` rows (decisions, helper, measures, visits, approval, elimination) — all deleted first
for that file hash, so an interrupted load followed by a rerun leaves no duplicates. An event identical to one an
earlier file already gave (same household, type, date, helper or measure) is not added twice.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import polars as pl

from fangpin.domain import divisions
from sources.read import REJECTED_SCHEMA
from warehouse import review
from warehouse.followup._base import backfill_pushes, ensure_tables
from warehouse.followup.reader import FEED, FEEDBACK_COLUMNS, REVIEW_COLUMNS, REVIEW_TABLE, read_feedback_file
from warehouse.runner import Handle, runner_for
from warehouse.steps import Sql

log = logging.getLogger("fangpin.followup")


@dataclass
class FeedbackFile:
    """One file's outcome (the same attributes as ``assets.ingestion.FileOutcome``)."""

    feed: str
    file_name: str
    file_hash: str
    status: str  # loaded | quarantined | already_ingested
    rows_in_file: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    rows_duplicate_event: int = 0
    rows_without_result: int = 0
    events: int = 0
    decisions: int = 0  # link decisions recorded (同名待确认 households, a returned 待核实匹配清单)
    results: dict = field(default_factory=dict)
    reason: str | None = None
    validation: object = None
    report_path: str | None = None


@dataclass
class FeedbackOutcome:
    feed: str = FEED
    files: list[FeedbackFile] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_accepted for f in self.files if f.status == "loaded")


# ------------------------------------------------------------------------------------------------ county names


def _county_lookup() -> dict[str, set[str]]:
    """County name variants (full, short, code) → the current county codes they may name (several where counties
    share a name: a province's 城区)."""
    out: dict[str, set[str]] = {}
    served = divisions.counties()
    for code, name in served.items():
        short = divisions.short_name(name)
        for variant in (code, name, short, short + "县", short + "区"):
            out.setdefault(variant, set()).add(code)
    for old, new in divisions.HISTORIC_COUNTY_CODES.items():
        if new in served:
            out[old] = {new}
    if "450206" in served:
        out["柳江县"] = {"450206"}
    return out


def _row_county(lookup: dict[str, set[str]], name: str, file_county: str | None) -> str | None:
    """The county a row's 县(市、区) names; for a name several counties share, the file's county when it is one of
    them, else none (the row's county is then not checked; the file's county still is)."""
    codes = lookup.get("".join(name.split()), set())
    if len(codes) == 1:
        return next(iter(codes))
    return file_county if file_county in codes else None


def county_of_file(file_name: str) -> str | None:
    """The county a returned file comes from, when its name names exactly one (疑似风险户清单_融水苗族自治县.xlsx,
    or 疑似风险户清单_城区_140302.xlsx where two counties share a name)."""
    return divisions.county_in_file_name(file_name)


# ------------------------------------------------------------------------------------------------ validation


def validate_against_pushes(
    wh: Handle, rows: pl.DataFrame, file_name: str, file_hash: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted rows + county_code, reporting_county_code, round_id, matched_pushed_on; rejected rows)."""
    lookup = _county_lookup()
    file_county = county_of_file(file_name)
    names = sorted({c for c in rows["county"].drop_nulls().unique().to_list()}) if rows.height else []
    county_map = pl.DataFrame(
        {"county": names, "row_county_code": [_row_county(lookup, n, file_county) for n in names]},
        schema={"county": pl.String, "row_county_code": pl.String},
    )
    data = rows.with_columns(pl.int_range(0, rows.height, dtype=pl.Int64).alias("_i"))
    wh = runner_for(wh)
    with wh.attached("_fb_in", data), wh.attached("_fb_cmap", county_map):
        checked = wh.frame("followup/feedback.checked")

    # One reason per row (the first that applies), as Polars expressions over the joined frame.
    names = divisions.counties()

    def name_of(col: pl.Expr) -> pl.Expr:
        return col.replace_strict(names, default=col, return_dtype=pl.String)

    hid = pl.col("household_id")
    recipients = pl.col("recipients").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    to = recipients.list.eval(
        pl.element().replace_strict(names, default=pl.element(), return_dtype=pl.String)
    ).list.join("、")
    pushed = pl.col("first_push").is_not_null()
    registry_monitored = pl.col("registry_category").is_not_null()
    row_county, reg_county = pl.col("row_county_code"), pl.col("registry_county_code")
    fc = pl.lit(file_county, dtype=pl.String)
    fc_name = pl.lit(names.get(file_county, file_county) if file_county else None, dtype=pl.String)
    vdate = pl.col("verify_date")
    ymd = lambda c: c.dt.strftime("%Y-%m-%d")  # noqa: E731
    rules: list[tuple[pl.Expr, str, pl.Expr]] = [
        (
            ~pushed & registry_monitored & pl.col("verify_result").is_not_null(),
            "户编号",
            pl.format(
                "户编号“{}”是已有监测对象，未在任何一轮推送中出现，不应填写核实结果（帮扶责任人、帮扶措施、走访等跟踪信息可照常报送，但请清空“核实结果”）",
                hid,
            ),
        ),
        (
            ~pushed & ~registry_monitored & pl.col("in_registry"),
            "户编号",
            pl.format("户编号“{}”未在任何一轮推送中出现，请核对户编号（只能反馈系统推送的疑似风险户）", hid),
        ),
        (
            ~pushed & ~registry_monitored,
            "户编号",
            pl.format("户编号“{}”未在任何一轮推送中出现，户籍系统中也没有此户，请核对户编号", hid),
        ),
        (
            row_county.is_not_null() & ~recipients.list.contains(row_county) & (row_county != reg_county.fill_null("")),
            "县(市、区)",
            pl.format(
                "县(市、区)填写为“{}”，但户编号“{}”推送给了{}核实，不属于{}，请核对户编号或县别",
                pl.col("county"),
                hid,
                to,
                name_of(row_county),
            ),
        ),
        (
            fc.is_not_null() & pushed & ~recipients.list.contains(fc),
            "户编号",
            pl.format(
                "文件名表明由{}反馈，但户编号“{}”推送给了{}核实，不属于{}的核实范围，请核对户编号",
                fc_name,
                hid,
                to,
                fc_name,
            ),
        ),
        (
            fc.is_not_null() & ~pushed & (reg_county.fill_null("") != fc),
            "户编号",
            pl.format(
                "文件名表明由{}反馈，但户编号“{}”是{}的监测对象，请核对户编号", fc_name, hid, name_of(reg_county)
            ),
        ),
        (
            vdate.is_not_null() & pushed & (vdate < pl.col("first_push")),
            "核实日期",
            pl.format(
                "核实日期（{}）早于该户的推送日期（{}），不可能在推送前完成核实，请核对日期或户编号",
                ymd(vdate),
                ymd(pl.col("first_push")),
            ),
        ),
        (
            vdate.is_not_null() & pl.col("pushed_on").is_not_null() & (vdate < pl.col("pushed_on")),
            "核实日期",
            pl.format("核实日期（{}）早于本行的推送日期（{}），请核对", ymd(vdate), ymd(pl.col("pushed_on"))),
        ),
        (
            pl.col("first_row").is_not_null()
            & (pl.col("first_row") != pl.col("source_row"))
            & (pl.col("first_result") != pl.col("verify_result")),
            "核实结果",
            pl.format(
                "同一文件第{}行已填写该户的核实结果“{}”，本行为“{}”，前后不一致；请只保留正确的一行",
                pl.col("first_row"),
                pl.col("first_result"),
                pl.col("verify_result"),
            ),
        ),
    ]
    fld = reason = None
    for cond, field_label, text in reversed(rules):  # the first matching rule wins
        cond = cond.fill_null(False)
        fld = (
            pl.when(cond).then(pl.lit(field_label)).otherwise(fld if fld is not None else pl.lit(None, dtype=pl.String))
        )
        reason = pl.when(cond).then(text).otherwise(reason if reason is not None else pl.lit(None, dtype=pl.String))
    checked = checked.with_columns(fld.alias("_fld"), reason.alias("_reason"))
    rejected = (
        checked.filter(pl.col("_reason").is_not_null())
        .select(
            pl.lit(FEED).alias("source"),
            pl.lit(file_name).alias("source_file"),
            pl.col("source_row"),
            pl.col("_fld").alias("field"),
            pl.col("_reason").alias("reason"),
            pl.lit(file_hash).alias("file_hash"),
        )
        .cast(REJECTED_SCHEMA)
    )
    official = ["脱贫不稳定户", "边缘易致贫户", "突发严重困难户"]
    accepted = checked.filter(pl.col("_reason").is_null()).with_columns(
        pl.coalesce(pl.col("registry_county_code"), pl.col("recipients").list.first()).alias("county_code"),
        pl.coalesce(pl.col("row_county_code"), pl.lit(file_county, dtype=pl.String)).alias("reporting_county_code"),
        pl.col("matched_round").alias("round_id"),
        # category of an inclusion: the county's, else the pushed category when it is an official one
        pl.coalesce(
            pl.col("category"),
            pl.when(pl.col("suggested_category").is_in(official)).then(pl.col("suggested_category")),
            pl.when(pl.col("push_category").is_in(official)).then(pl.col("push_category")),
        ).alias("_event_category"),
        pl.when(pl.col("risk_types").list.len() > 0)
        .then(pl.col("risk_types"))
        .otherwise(pl.col("push_risk_types"))
        .alias("_event_risk_types"),
    )
    return accepted, rejected


# ------------------------------------------------------------------------------------------------ loading


def _load_file(
    wh: Handle,
    *,
    file_name: str,
    file_hash: str,
    archived_path: str,
    rejected: pl.DataFrame,
    rows_in_file: int,
    rows_accepted: int,
    rows_skipped: int,
    body,
):
    """One file atomically: its earlier rows (a rerun) deleted, ``body(wh)`` inserting its own rows, the rejected
    rows, the ``ingested_file`` entry. Returns what ``body`` returns."""
    wh = runner_for(wh)
    with wh.transaction():
        wh.run("followup/feedback.forget", file_hash=file_hash)
        wh.run("review/decisions.forget_file", file_hash=file_hash)
        out = body(wh)
        if rejected.height:
            with wh.attached("_fb_rej", rejected):
                wh.run("followup/feedback.rejected")
        wh.run(
            "followup/feedback.record_file",
            file_hash=file_hash,
            feed=FEED,
            file_name=file_name,
            archived_path=archived_path,
            rows_in_file=rows_in_file,
            rows_accepted=rows_accepted,
            rows_rejected=rejected.height,
            rows_skipped=rows_skipped,
        )
    return out


def load_feedback(
    wh: Handle,
    *,
    file_name: str,
    file_hash: str,
    archived_path: str,
    accepted: pl.DataFrame,
    rejected: pl.DataFrame,
    rows_in_file: int,
    rows_skipped: int,
) -> tuple[int, int]:
    """Load one validated returned list atomically; returns (events added to the history, link decisions recorded
    for its 同名待确认 households, warehouse.review)."""
    cols = list(FEEDBACK_COLUMNS) + ["county_code", "reporting_county_code", "round_id", "matched_pushed_on"]
    rows = accepted.select(cols + ["_event_category", "_event_risk_types"])

    def body(wh) -> tuple[int, int]:
        with wh.attached("_fb_rows", rows):
            wh.run("followup/feedback.records", columns=Sql(", ".join(cols)))
            before = wh.count("household_event")
            wh.run("followup/feedback.events", file_name=file_name, file_hash=file_hash)
            events = wh.count("household_event") - before
        return int(events), review.record_suspect_list(wh, file_hash)

    return _load_file(
        wh,
        file_name=file_name,
        file_hash=file_hash,
        archived_path=archived_path,
        rejected=rejected,
        rows_in_file=rows_in_file,
        rows_accepted=accepted.height,
        rows_skipped=rows_skipped,
        body=body,
    )


# ------------------------------------------------------------------------------------------------ ingestion


def ingest_feedback(home, wh: Handle) -> FeedbackOutcome:
    """Ingest every new file of ``<home>/landing/feedback/``. ``home`` is a ``fangpin.home.DataHome``."""
    from sources import archive as archive_mod
    from sources import landing, report
    from sources.errors import UnreadableFile
    from warehouse import load

    wh = runner_for(wh)
    ensure_tables(wh)
    review.ensure_tables(wh)
    backfill_pushes(wh)
    outcome = FeedbackOutcome()
    seen = load.known_hashes(wh)
    for dropped in landing.scan(home.root, [FEED]):
        archived = archive_mod.archive(home.root, dropped)  # the county's bytes are safe before anything reads them
        if archived.file_hash in seen:
            outcome.files.append(FeedbackFile(FEED, archived.file_name, archived.file_hash, "already_ingested"))
            continue
        seen.add(archived.file_hash)
        try:
            result = read_feedback_file(archived.archived_path, archived.file_name, archived.file_hash, home=home.root)
        except UnreadableFile as exc:
            qpath = archive_mod.quarantine(home.root, archived, exc.reason)
            load.record_unreadable(
                wh,
                feed=FEED,
                file_name=archived.file_name,
                file_hash=archived.file_hash,
                archived_path=str(qpath),
                reason=exc.reason,
            )
            rpath = report.write_clerk_report(
                home.root, exc, feed=FEED, file_name=archived.file_name, file_hash=archived.file_hash
            )
            log.warning("quarantined feedback/%s: %s", archived.file_name, exc.code)
            outcome.files.append(
                FeedbackFile(
                    FEED,
                    archived.file_name,
                    archived.file_hash,
                    "quarantined",
                    reason=exc.reason,
                    report_path=str(rpath),
                )
            )
            continue
        if result.table == REVIEW_TABLE:
            outcome.files.append(_ingest_review_list(home, wh, archived, result))
            continue
        accepted, rejected_push = validate_against_pushes(wh, result.rows, archived.file_name, archived.file_hash)
        rejected = pl.concat([result.rejected.cast(REJECTED_SCHEMA), rejected_push], how="vertical")
        skipped = sum(result.skipped.values())
        events, decisions = load_feedback(
            wh,
            file_name=archived.file_name,
            file_hash=archived.file_hash,
            archived_path=str(archived.archived_path),
            accepted=accepted,
            rejected=rejected,
            rows_in_file=result.rows_in_file,
            rows_skipped=skipped,
        )
        applied = review.apply_decisions(wh)  # a confirmed 同名待确认 record is evidence from now on
        shown = dataclasses.replace(result, rows=accepted.select(list(FEEDBACK_COLUMNS)), rejected=rejected)
        shown.check_accounting()
        if decisions:
            shown.notes.append(_decisions_note(decisions, applied))
        if rejected_push.height:
            shown.notes.append(
                f"{rejected_push.height}行与推送情况不符（未推送的户、其他县的户或核实日期早于推送日期），已拒收，见“拒收明细”"
            )
        rpath = report.write_clerk_report(
            home.root, shown, feed=FEED, file_name=archived.file_name, file_hash=archived.file_hash, status="loaded"
        )
        results = dict(accepted.group_by("verify_result").len().drop_nulls().iter_rows()) if accepted.height else {}
        outcome.files.append(
            FeedbackFile(
                FEED,
                archived.file_name,
                archived.file_hash,
                "loaded",
                rows_in_file=result.rows_in_file,
                rows_accepted=accepted.height,
                rows_rejected=rejected.height,
                rows_skipped=skipped,
                rows_without_result=accepted.filter(pl.col("verify_result").is_null()).height,
                events=events,
                decisions=decisions,
                results=results,
                report_path=str(rpath),
            )
        )
    return outcome


def _decisions_note(decisions: int, applied: review.AppliedDecisions) -> str:
    return (
        f"同名记录核实：记录{decisions}项确认或否认结果（今后不再询问这些记录）；"
        f"全部核实结果现已确认{applied.confirmed}条记录归属，排除{applied.denied}个候选人员"
    )


def _ingest_review_list(home, wh, archived, result) -> FeedbackFile:
    """A returned 待核实匹配清单: its rows checked against the records and candidates (warehouse.review), the
    decisions stored and applied, a clerk receipt."""
    import datetime as dt

    from sources import report

    file_county = county_of_file(archived.file_name)
    decisions, rejected_rec, n_ok = review.review_list_decisions(
        wh, result.rows, archived.file_name, archived.file_hash, file_county, dt.date.today()
    )
    rejected = pl.concat([result.rejected.cast(REJECTED_SCHEMA), rejected_rec], how="vertical")
    skipped = sum(result.skipped.values())
    _load_file(
        wh,
        file_name=archived.file_name,
        file_hash=archived.file_hash,
        archived_path=str(archived.archived_path),
        rejected=rejected,
        rows_in_file=result.rows_in_file,
        rows_accepted=n_ok,
        rows_skipped=skipped,
        body=lambda wh: review.record_review_list(wh, decisions),
    )
    applied = review.apply_decisions(wh)
    accepted = result.rows.join(rejected_rec.select("source_row"), on="source_row", how="anti")
    shown = dataclasses.replace(result, rows=accepted.select(list(REVIEW_COLUMNS)), rejected=rejected)
    shown.check_accounting()
    shown.notes.append(_decisions_note(decisions.height, applied))
    if rejected_rec.height:
        shown.notes.append(
            f"{rejected_rec.height}行与待核实记录不符（记录或候选人员对不上、答案冲突），已拒收，见“拒收明细”"
        )
    rpath = report.write_clerk_report(
        home.root, shown, feed=FEED, file_name=archived.file_name, file_hash=archived.file_hash, status="loaded"
    )
    counts = dict(decisions.group_by("decision").len().iter_rows()) if decisions.height else {}
    return FeedbackFile(
        FEED,
        archived.file_name,
        archived.file_hash,
        "loaded",
        rows_in_file=result.rows_in_file,
        rows_accepted=n_ok,
        rows_rejected=rejected.height,
        rows_skipped=skipped,
        rows_without_result=accepted.filter(pl.col("answer").is_null()).height,
        decisions=decisions.height,
        results={"确认": counts.get("confirmed", 0), "否认": counts.get("denied", 0)},
        report_path=str(rpath),
    )
