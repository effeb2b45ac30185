"""County feedback: landing/feedback/ → archive → read → validate against what was pushed → warehouse + history.

``ingest_feedback(home, con)`` handles every new file in ``<home>/landing/feedback/`` the way department drops are
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


def _county_lookup() -> dict[str, str]:
    """County name variants (full, short, code) → current county code."""
    out: dict[str, str] = {}
    for code, name in divisions.counties().items():
        out[code] = code
        out[name] = code
        short = divisions.short_name(name)
        out[short] = code
        out[short + "县"] = code
        out[short + "区"] = code
    for old, new in divisions.HISTORIC_COUNTY_CODES.items():
        out[old] = new
    out["柳江县"] = "450206"
    return out


def county_of_file(file_name: str) -> str | None:
    """The county a returned file comes from, when its name names exactly one (疑似风险户清单_融水苗族自治县.xlsx)."""
    found = set()
    for code, name in divisions.counties().items():
        short = divisions.short_name(name)
        if name in file_name or (len(short) >= 2 and short in file_name):
            found.add(code)
    return found.pop() if len(found) == 1 else None


# ------------------------------------------------------------------------------------------------ validation


def validate_against_pushes(
    con, rows: pl.DataFrame, file_name: str, file_hash: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted rows + county_code, reporting_county_code, round_id, matched_pushed_on; rejected rows)."""
    lookup = _county_lookup()
    names = sorted({c for c in rows["county"].drop_nulls().unique().to_list()}) if rows.height else []
    county_map = pl.DataFrame(
        {"county": names, "row_county_code": [lookup.get("".join(n.split())) for n in names]},
        schema={"county": pl.String, "row_county_code": pl.String},
    )
    file_county = county_of_file(file_name)
    data = rows.with_columns(pl.int_range(0, rows.height, dtype=pl.Int64).alias("_i"))
    con.register("_fb_in", data.to_arrow())
    con.register("_fb_cmap", county_map.to_arrow())
    try:
        checked = con.sql(
            """
            WITH r AS (SELECT i.*, m.row_county_code FROM _fb_in i LEFT JOIN _fb_cmap m USING (county)),
            p AS (SELECT household_id, round_id, event_date AS pushed_on, recipients, category, risk_types
                  FROM household_event WHERE event_type = 'suspected'),
            pa AS (SELECT household_id, min(pushed_on) AS first_push, list_distinct(flatten(list(recipients))) AS recipients
                   FROM p GROUP BY household_id),
            m AS (
                SELECT r._i, p.round_id, p.pushed_on, p.category AS push_category, p.risk_types AS push_risk_types,
                       row_number() OVER (PARTITION BY r._i ORDER BY
                           (r.pushed_on IS NOT NULL AND p.pushed_on = r.pushed_on) DESC,
                           (r.verify_date IS NULL OR p.pushed_on <= r.verify_date) DESC,
                           p.pushed_on DESC, p.round_id DESC) AS k
                FROM r JOIN p USING (household_id)
            ),
            dup AS (
                SELECT _i, first_value(source_row) OVER w AS first_row, first_value(verify_result) OVER w AS first_result
                FROM r WHERE verify_result IS NOT NULL
                WINDOW w AS (PARTITION BY household_id ORDER BY source_row)
            )
            SELECT r.*, reg.county_code AS registry_county_code, reg.monitoring_category AS registry_category,
                   reg.risk_eliminated AS registry_eliminated, pa.first_push, pa.recipients,
                   m.round_id AS matched_round, m.pushed_on AS matched_pushed_on, m.push_category, m.push_risk_types,
                   dup.first_row, dup.first_result,
                   reg.household_id IS NOT NULL AS in_registry
            FROM r
            LEFT JOIN followup_registry_household reg USING (household_id)
            LEFT JOIN pa USING (household_id)
            LEFT JOIN (SELECT * FROM m WHERE k = 1) m USING (_i)
            LEFT JOIN dup USING (_i)
            ORDER BY r._i
            """
        ).pl()
    finally:
        con.unregister("_fb_in")
        con.unregister("_fb_cmap")

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

EVENTS_SQL = """
INSERT INTO household_event (household_id, event_type, event_date, round_id, details, source, source_file, source_row,
                             file_hash, county_code, category, risk_types, helper_name, measure, included_on)
WITH r AS (SELECT * FROM _fb_rows),
x AS (
    SELECT household_id,
           CASE verify_result WHEN '纳入监测' THEN 'verified_included' WHEN '不纳入' THEN 'verified_rejected' ELSE 'pending' END
               AS event_type,
           verify_date AS event_date, round_id,
           '核实结果：' || verify_result || CASE WHEN verify_result = '纳入监测' THEN coalesce('（' || _event_category || '）', '') ELSE '' END
               || coalesce('，核实人 ' || verifier, '')
               || coalesce('；' || note, '') AS details,
           source_row, county_code,
           CASE WHEN verify_result = '纳入监测' THEN _event_category END AS category,
           CASE WHEN verify_result = '纳入监测' THEN _event_risk_types END AS risk_types,
           NULL::VARCHAR AS helper_name, NULL::VARCHAR AS measure,
           CASE WHEN verify_result = '纳入监测' THEN included_on END AS included_on
    FROM r WHERE verify_result IS NOT NULL
    UNION ALL
    SELECT household_id, 'helper_assigned', helper_date, round_id,
           '帮扶责任人：' || helper_name || CASE WHEN helper_date IS NULL THEN '（安排日期未填）' ELSE '' END,
           source_row, county_code, NULL, NULL, helper_name, NULL, NULL
    FROM r WHERE helper_name IS NOT NULL
    UNION ALL
    SELECT household_id, 'measure', measure_date, round_id,
           '帮扶措施：' || m || CASE WHEN measure_date IS NULL THEN '（落实日期未填）' ELSE '' END,
           source_row, county_code, NULL, NULL, NULL, m, NULL
    FROM (SELECT *, unnest(measures) AS m FROM r WHERE len(measures) > 0)
    UNION ALL
    SELECT household_id, 'visit', v, round_id, '入户走访', source_row, county_code, NULL, NULL, NULL, NULL, NULL
    FROM (SELECT *, unnest(visit_dates) AS v FROM r WHERE len(visit_dates) > 0)
    UNION ALL
    SELECT household_id, 'approved', county_approved_on, round_id, '县级审定', source_row, county_code, NULL, NULL, NULL, NULL, NULL
    FROM r WHERE county_approved_on IS NOT NULL
    UNION ALL
    SELECT household_id, 'eliminated', eliminated_on, round_id, '风险消除', source_row, county_code, NULL, NULL, NULL, NULL, NULL
    FROM r WHERE eliminated_on IS NOT NULL
)
SELECT x.household_id, x.event_type, x.event_date, x.round_id, x.details, 'feedback', ?, x.source_row, ?, x.county_code,
       x.category, x.risk_types, x.helper_name, x.measure, x.included_on
FROM x
WHERE NOT EXISTS (
    SELECT 1 FROM household_event e
    WHERE e.household_id = x.household_id AND e.event_type = x.event_type
      AND e.event_date IS NOT DISTINCT FROM x.event_date
      AND coalesce(e.helper_name, '') = coalesce(x.helper_name, '') AND coalesce(e.measure, '') = coalesce(x.measure, '')
)
QUALIFY row_number() OVER (PARTITION BY x.household_id, x.event_type, x.event_date, x.helper_name, x.measure
                           ORDER BY x.source_row) = 1
"""


def _load_file(
    con,
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
    """One file atomically: its earlier rows (a rerun) deleted, ``body()`` inserting its own rows, the rejected rows,
    the ``ingested_file`` entry. Returns what ``body`` returns."""
    con.execute("BEGIN TRANSACTION")
    try:
        for t in ("feedback_record", "household_event", "rejected_row", "ingested_file", "link_decision"):
            con.execute(f"DELETE FROM {t} WHERE file_hash = ?", [file_hash])
        out = body()
        if rejected.height:
            con.register("_fb_rej", rejected.to_arrow())
            con.execute(
                "INSERT INTO rejected_row (source, source_file, source_row, field, reason, file_hash) "
                "SELECT source, source_file, source_row, field, reason, file_hash FROM _fb_rej"
            )
            con.unregister("_fb_rej")
        con.execute(
            "INSERT INTO ingested_file (file_hash, feed, file_name, archived_path, status, rows_in_file, rows_accepted,"
            " rows_rejected, rows_skipped, rows_duplicate_event, reason) VALUES (?,?,?,?, 'loaded', ?,?,?,?, 0, NULL)",
            [file_hash, FEED, file_name, archived_path, rows_in_file, rows_accepted, rejected.height, rows_skipped],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return out


def load_feedback(
    con,
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

    def body() -> tuple[int, int]:
        con.register("_fb_rows", rows.to_arrow())
        try:
            col_list = ", ".join(cols)
            con.execute(f"INSERT INTO feedback_record ({col_list}) SELECT {col_list} FROM _fb_rows")
            before = con.sql("SELECT count(*) FROM household_event").fetchall()[0][0]
            con.execute(EVENTS_SQL, [file_name, file_hash])
            events = con.sql("SELECT count(*) FROM household_event").fetchall()[0][0] - before
        finally:
            con.unregister("_fb_rows")
        return int(events), review.record_suspect_list(con, file_hash)

    return _load_file(
        con,
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


def ingest_feedback(home, con) -> FeedbackOutcome:
    """Ingest every new file of ``<home>/landing/feedback/``. ``home`` is a ``fangpin.home.DataHome``."""
    from sources import archive as archive_mod
    from sources import landing, report
    from sources.errors import UnreadableFile
    from warehouse import load

    ensure_tables(con)
    review.ensure_tables(con)
    backfill_pushes(con)
    outcome = FeedbackOutcome()
    seen = load.known_hashes(con)
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
                con,
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
            outcome.files.append(_ingest_review_list(home, con, archived, result))
            continue
        accepted, rejected_push = validate_against_pushes(con, result.rows, archived.file_name, archived.file_hash)
        rejected = pl.concat([result.rejected.cast(REJECTED_SCHEMA), rejected_push], how="vertical")
        skipped = sum(result.skipped.values())
        events, decisions = load_feedback(
            con,
            file_name=archived.file_name,
            file_hash=archived.file_hash,
            archived_path=str(archived.archived_path),
            accepted=accepted,
            rejected=rejected,
            rows_in_file=result.rows_in_file,
            rows_skipped=skipped,
        )
        applied = review.apply_decisions(con)  # a confirmed 同名待确认 record is evidence from now on
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


def _ingest_review_list(home, con, archived, result) -> FeedbackFile:
    """A returned 待核实匹配清单: its rows checked against the records and candidates (warehouse.review), the
    decisions stored and applied, a clerk receipt."""
    import datetime as dt

    from sources import report

    file_county = county_of_file(archived.file_name)
    decisions, rejected_rec, n_ok = review.review_list_decisions(
        con, result.rows, archived.file_name, archived.file_hash, file_county, dt.date.today()
    )
    rejected = pl.concat([result.rejected.cast(REJECTED_SCHEMA), rejected_rec], how="vertical")
    skipped = sum(result.skipped.values())
    _load_file(
        con,
        file_name=archived.file_name,
        file_hash=archived.file_hash,
        archived_path=str(archived.archived_path),
        rejected=rejected,
        rows_in_file=result.rows_in_file,
        rows_accepted=n_ok,
        rows_skipped=skipped,
        body=lambda: review.record_review_list(con, decisions),
    )
    applied = review.apply_decisions(con)
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
