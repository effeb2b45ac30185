"""The work plan's time limits (SPEC §8), counted in Chinese working days: ``deadline_items(con, as_of)``.

One row per (household, deadline) — set-based SQL over ``household_event`` and the roster, with a working-day
calendar table (``fangpin.domain.workdays``: statutory holidays and adjusted working weekends, weekends-only
fallback outside the calendar's years, which the ``note`` column then says).

=============  ==========================================  ===============================================  =========
item_type      clock starts                                due                                              counted
=============  ==========================================  ===============================================  =========
verify         a case's first push (the lead)              suspect.verify_by (push + verify_working_days)    working
decision       the same first push                         + deadlines.decision_days (15) calendar days      calendar
helper         inclusion (纳入日期, else 核实日期)           + helper_working_days (5)                         working
measures       helper assigned (else the helper's due)     + measures_working_days (10)                      working
visit          each calendar quarter the household is      quarter end; ≥ visits_per_quarter visits inside   calendar
               monitored and tracked                        the quarter
approval       month M of the 纳入监测 result                 end of month M + county_approval_months (1)       calendar
=============  ==========================================  ===============================================  =========

- A *case* is the run of pushes of a household up to the decision (纳入监测 / 不纳入) that closes it; a push after a
  decision opens a new case (e.g. a rejected household re-pushed with new evidence). Verification is done by any
  dated 核实结果 (also 待核实: the household was visited), the decision only by 纳入监测 / 不纳入.
- helper / measures / approval are tracked for households included through feedback (not for registry monitoring
  objects whose earlier history the system never saw), once per inclusion (again after a 风险消除).
- visits are tracked for every roster household (registry ones too) for the quarters that begin after both its
  identification and the system's first push (the tracking start); a quarter without a visit is missed — a visit in
  a later quarter belongs to that quarter. Quarters end at the elimination.
- status: on_time | late (done after the due date) | overdue (not done, due date passed) | open (not yet due) |
  done_undated (done, but the county gave no date: cannot be shown to be on time, counts against the rate).
  A working-day deadline is passed once a working day after the due date has begun (due Friday → overdue on the
  next working day, which may be an adjusted working Saturday); a calendar deadline the next calendar day.
  ``days_overdue`` is in working days (for late items: how late), ``calendar_days_overdue`` in calendar days.
- Events dated after ``as_of`` are ignored, so the list for a past day can be reproduced.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from fangpin.domain.workdays import FALLBACK_NOTE, is_working_day
from fangpin.settings import load
from warehouse.followup._base import deadlines_config, ensure_tables

ITEM_LABELS = {
    "verify": "入户核实",
    "decision": "作出认定（纳入/不纳入）",
    "helper": "安排帮扶责任人",
    "measures": "落实帮扶措施",
    "visit": "季度入户走访",
    "approval": "县级审定",
}
ITEM_ORDER = ("verify", "decision", "helper", "measures", "visit", "approval")
STATUS_LABELS = {
    "on_time": "按时完成",
    "late": "逾期完成",
    "overdue": "逾期未完成",
    "open": "未到期",
    "done_undated": "已完成（日期不详）",
}
ITEM_COLUMNS = {
    "household_id": pl.String,
    "county_code": pl.String,
    "county": pl.String,
    "township_code": pl.String,
    "township": pl.String,
    "village_code": pl.String,
    "village": pl.String,
    "head_name": pl.String,
    "recipients": pl.List(pl.String),
    "item_type": pl.String,
    "item": pl.String,
    "period": pl.String,
    "rule": pl.String,
    "round_id": pl.String,
    "start_date": pl.Date,
    "due_date": pl.Date,
    "done_date": pl.Date,
    "status": pl.String,
    "days_overdue": pl.Int64,
    "calendar_days_overdue": pl.Int64,
    "deadline_kind": pl.String,
    "note": pl.String,
}
_TEMPS = (
    "_fu_asof",
    "_fu_cal",
    "_fu_wd",
    "_fu_ev",
    "_fu_roster",
    "_fu_reg",
    "_fu_seq",
    "_fu_case0",
    "_fu_case",
    "_fu_incl",
    "_fu_items",
)


def _calendar(con, start: dt.date, end: dt.date) -> None:
    """TEMP ``_fu_cal(date, is_working, fallback, ord)`` with ord = working days up to and including the date, and
    ``_fu_wd(ord, date)`` for working days. add_working_days(d, n) = _fu_wd[ord(d) + n]; working days in (a, b] =
    ord(b) − ord(a) — the conventions of fangpin.domain.workdays."""
    n = (end - start).days + 1
    dates = [start + dt.timedelta(days=i) for i in range(n)]
    flags = [is_working_day(d) for d in dates]  # cached per date; a few hundred to a few thousand calendar days
    frame = pl.DataFrame(
        {"date": dates, "is_working": [f[0] for f in flags], "fallback": [f[1] for f in flags]},
        schema={"date": pl.Date, "is_working": pl.Boolean, "fallback": pl.Boolean},
    )
    frame = frame.with_columns(pl.col("is_working").cast(pl.Int64).cum_sum().alias("ord"))
    con.register("_fu_cal_in", frame.to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE _fu_cal AS SELECT * FROM _fu_cal_in")
    con.unregister("_fu_cal_in")
    con.execute("CREATE OR REPLACE TEMP TABLE _fu_wd AS SELECT ord, date FROM _fu_cal WHERE is_working")


def _bounds(con, as_of: dt.date) -> tuple[dt.date, dt.date]:
    row = con.sql("""SELECT least(min(event_date), min(included_on)) FROM household_event
                     WHERE event_type IN ('suspected', 'verified_included', 'verified_rejected', 'pending')""").fetchall()[
        0
    ]
    lo = row[0] or as_of
    lo = max(min(lo, as_of), as_of - dt.timedelta(days=366 * 10)) - dt.timedelta(days=10)
    return lo, as_of + dt.timedelta(days=200)


def deadline_items(con, as_of: dt.date, home: Path | None = None) -> pl.DataFrame:
    """Every deadline of the work plan known on ``as_of`` (see the module docstring), one row per item."""
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    ensure_tables(con)
    cfg = deadlines_config(home)
    verify_wd = int((load("rules", home).get("defaults") or {}).get("verify_working_days", 5))
    lo, hi = _bounds(con, as_of)
    try:
        _calendar(con, lo, hi)
        con.execute("CREATE OR REPLACE TEMP TABLE _fu_asof AS SELECT ?::DATE AS as_of", [as_of])
        con.execute("""
            CREATE OR REPLACE TEMP MACRO fu_ord(d) AS (SELECT c.ord FROM _fu_cal c WHERE c.date = d);
            CREATE OR REPLACE TEMP MACRO fu_add_wd(d, n) AS (SELECT w.date FROM _fu_wd w WHERE w.ord = fu_ord(d) + n);
            CREATE OR REPLACE TEMP MACRO fu_fb(d) AS (SELECT c.fallback FROM _fu_cal c WHERE c.date = d);
        """)
        con.execute(
            _ITEMS_SQL.format(
                verify_wd=verify_wd,
                decision_days=cfg["decision_days"],
                helper_wd=cfg["helper_working_days"],
                measures_wd=cfg["measures_working_days"],
                visits=cfg["visits_per_quarter"],
                approval_months=cfg["county_approval_months"],
            )
        )
        items = con.sql(
            "SELECT * FROM _fu_items ORDER BY county_code, township_code, village_code, household_id, "
            "due_date, item_type"
        ).pl()
        fb_years = sorted(
            {d.year for d, f in con.sql("SELECT date, fallback FROM _fu_cal WHERE fallback").fetchall() if f}
        )
    finally:
        for t in _TEMPS:
            con.execute(f"DROP TABLE IF EXISTS {t}")
        for m in ("fu_add_wd", "fu_ord", "fu_fb"):
            con.execute(f"DROP MACRO IF EXISTS {m}")
    if items.height and fb_years:
        # the calendar did not know those years: say so next to each working-day deadline that touched them
        touched = (
            pl.col("due_date").dt.year().is_in(fb_years)
            | pl.col("start_date").dt.year().is_in(fb_years)
            | (pl.lit(as_of.year in fb_years) & (pl.col("status") == "overdue"))
        )
        text = FALLBACK_NOTE.format(years="、".join(str(y) for y in fb_years))
        items = items.with_columns(
            pl.when(touched & (pl.col("deadline_kind") == "working")).then(pl.lit(text)).alias("note")
        )
    return items.select([pl.col(c).cast(t) for c, t in ITEM_COLUMNS.items()])


_ITEMS_SQL = """
CREATE OR REPLACE TEMP TABLE _fu_ev AS
SELECT e.* FROM household_event e, _fu_asof a WHERE e.event_date IS NULL OR e.event_date <= a.as_of;

-- the roster and the registry facts once (each view reference would recompute them over the whole registry)
CREATE OR REPLACE TEMP TABLE _fu_roster AS SELECT * FROM monitoring_roster;
CREATE OR REPLACE TEMP TABLE _fu_reg AS
SELECT * FROM followup_registry_household
WHERE household_id IN (SELECT household_id FROM _fu_ev UNION SELECT household_id FROM _fu_roster);

-- pushes and verifications in date order; case_no = decisions before the row (a push on the day of a decision
-- comes first: a decision dated on a push day answers that push)
CREATE OR REPLACE TEMP TABLE _fu_seq AS
SELECT household_id, event_type, event_date, round_id, due_date, included_on, recipients,
       coalesce(sum(CASE WHEN event_type IN ('verified_included', 'verified_rejected') THEN 1 ELSE 0 END) OVER (
           PARTITION BY household_id
           ORDER BY event_date, CASE WHEN event_type = 'suspected' THEN 0 ELSE 1 END, recorded_at, source_row
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS case_no
FROM _fu_ev
WHERE event_date IS NOT NULL AND event_type IN ('suspected', 'verified_included', 'verified_rejected', 'pending');

CREATE OR REPLACE TEMP TABLE _fu_case0 AS
SELECT household_id, case_no, min(event_date) AS start,
       arg_min(due_date, event_date) AS verify_due, arg_min(round_id, event_date) AS round_id,
       list_distinct(flatten(list(recipients))) AS recipients
FROM _fu_seq WHERE event_type = 'suspected' GROUP BY household_id, case_no;

CREATE OR REPLACE TEMP TABLE _fu_case AS
WITH agg AS (
    SELECT c.household_id, c.case_no,
           min(s.event_date) AS verified_on,
           min(s.event_date) FILTER (WHERE s.event_type <> 'pending') AS decided_on,
           arg_min(s.event_type, s.event_date) FILTER (WHERE s.event_type <> 'pending') AS decision,
           arg_min(s.included_on, s.event_date) FILTER (WHERE s.event_type = 'verified_included') AS explicit_included_on
    FROM _fu_case0 c
    LEFT JOIN _fu_seq s ON s.household_id = c.household_id AND s.case_no = c.case_no AND s.event_type <> 'suspected'
                       AND s.event_date >= c.start
    GROUP BY c.household_id, c.case_no
)
SELECT c.*, a.verified_on, a.decided_on, a.decision,
       CASE WHEN a.decision = 'verified_included'
            THEN coalesce(a.explicit_included_on,
                          CASE WHEN ri.included_on >= c.start - INTERVAL 30 DAY THEN ri.included_on END,
                          a.decided_on) END AS included_on
FROM _fu_case0 c
JOIN agg a USING (household_id, case_no)
LEFT JOIN followup_reported_inclusion ri ON ri.household_id = c.household_id;

-- inclusions tracked for helper / measures / approval: through feedback, the first one or the first after a 风险消除
CREATE OR REPLACE TEMP TABLE _fu_incl AS
WITH inc AS (
    SELECT c.*, lag(c.decided_on) OVER (PARTITION BY c.household_id ORDER BY c.decided_on) AS prev_included
    FROM _fu_case c
    LEFT JOIN _fu_reg r USING (household_id)
    WHERE c.decision = 'verified_included'
      AND NOT coalesce(r.monitoring_category IS NOT NULL AND coalesce(r.risk_eliminated, '') <> '是', false)
)
SELECT i.*,
       (SELECT min(e.event_date) FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'helper_assigned'
            AND e.event_date >= i.start) AS helper_on,
       (SELECT count(*) FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'helper_assigned'
            AND e.event_date IS NULL) > 0 AS helper_undated,
       (SELECT min(e.event_date) FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'measure'
            AND e.event_date >= i.start) AS measure_on,
       (SELECT count(*) FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'measure'
            AND e.event_date IS NULL) > 0 AS measure_undated,
       (SELECT min(e.event_date) FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'approved'
            AND e.event_date >= i.start) AS approved_on,
       fu_add_wd(i.included_on, {helper_wd}) AS helper_due
FROM inc i
WHERE i.prev_included IS NULL
   OR EXISTS (SELECT 1 FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'eliminated'
              AND e.event_date > i.prev_included AND e.event_date <= i.decided_on);

CREATE OR REPLACE TEMP TABLE _fu_items AS
WITH raw AS (
    SELECT household_id, recipients, 'verify' AS item_type, NULL::VARCHAR AS period,
           '推送后{verify_wd}个工作日内入户核实' AS rule, round_id, start AS start_date,
           coalesce(verify_due, fu_add_wd(start, {verify_wd})) AS due_date, verified_on AS done_date,
           false AS done_undated, 'working' AS deadline_kind
    FROM _fu_case
    UNION ALL
    SELECT household_id, recipients, 'decision', NULL, '发现风险线索（推送）后{decision_days}天内作出认定', round_id, start,
           CAST(start + INTERVAL {decision_days} DAY AS DATE), decided_on, false, 'calendar'
    FROM _fu_case
    UNION ALL
    SELECT household_id, recipients, 'helper', NULL, '纳入监测后{helper_wd}个工作日内安排帮扶责任人', round_id, included_on,
           helper_due, helper_on, helper_undated, 'working'
    FROM _fu_incl
    UNION ALL
    SELECT household_id, recipients, 'measures', NULL, '安排帮扶责任人后{measures_wd}个工作日内落实帮扶措施', round_id,
           coalesce(helper_on, helper_due), fu_add_wd(coalesce(helper_on, helper_due), {measures_wd}), measure_on,
           measure_undated, 'working'
    FROM _fu_incl
    UNION ALL
    SELECT household_id, recipients, 'approval', strftime(decided_on, '%Y年%m月') || '批次',
           '县级原则上每月审定一次（次月底前）', round_id, decided_on,
           CAST(last_day(CAST(date_trunc('month', decided_on) + INTERVAL {approval_months} MONTH AS DATE)) AS DATE),
           approved_on, false, 'calendar'
    FROM _fu_incl
    UNION ALL
    -- quarterly visits of every roster household, from the tracking start (the system's first push)
    SELECT v.household_id, [v.county_code], 'visit',
           CAST(year(v.q_start) AS VARCHAR) || '年第' || CAST(quarter(v.q_start) AS VARCHAR) || '季度',
           '帮扶人每季度至少入户走访{visits}次', NULL, v.q_start, v.q_end,
           CASE WHEN len(v.dates) >= {visits} THEN list_sort(v.dates)[{visits}] END, false, 'calendar'
    FROM (
        SELECT r.household_id, r.county_code, q.q_start, CAST(q.q_start + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE) AS q_end,
               coalesce((SELECT list(e.event_date) FROM _fu_ev e WHERE e.household_id = r.household_id
                         AND e.event_type = 'visit' AND e.event_date >= q.q_start
                         AND e.event_date < q.q_start + INTERVAL 3 MONTH), CAST([] AS DATE[])) AS dates
        FROM _fu_roster r
        CROSS JOIN (
            SELECT CAST(unnest(generate_series(CAST(date_trunc('quarter', t.ts) AS DATE), CAST(date_trunc('quarter', a.as_of) AS DATE),
                                               INTERVAL 3 MONTH)) AS DATE) AS q_start
            FROM (SELECT min(event_date) AS ts FROM _fu_ev WHERE event_type = 'suspected') t, _fu_asof a
            WHERE t.ts IS NOT NULL
        ) q
        WHERE q.q_start > greatest(coalesce(r.identified_on, DATE '1900-01-01'),
                                   (SELECT min(event_date) FROM _fu_ev WHERE event_type = 'suspected'))
          AND (r.eliminated_on IS NULL OR CAST(q.q_start + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE) < r.eliminated_on)
    ) v
),
lat AS (
    SELECT raw.*, a.as_of,
           CASE WHEN deadline_kind = 'working' THEN fu_ord(done_date) - fu_ord(due_date) ELSE done_date - due_date END AS done_late,
           CASE WHEN deadline_kind = 'working' THEN fu_ord(a.as_of) - fu_ord(due_date) ELSE a.as_of - due_date END AS now_late
    FROM raw, _fu_asof a
),
st AS (
    SELECT lat.*,
           CASE WHEN done_date IS NOT NULL AND done_late <= 0 THEN 'on_time'
                WHEN done_date IS NOT NULL THEN 'late'
                WHEN done_undated THEN 'done_undated'
                WHEN due_date IS NOT NULL AND now_late >= 1 THEN 'overdue'
                ELSE 'open' END AS status
    FROM lat
)
SELECT st.household_id, r.county_code, r.county, r.township_code, r.township, r.village_code, r.village, r.head_name,
       coalesce(st.recipients, [r.county_code]) AS recipients, st.item_type,
       CASE st.item_type WHEN 'verify' THEN '入户核实' WHEN 'decision' THEN '作出认定（纳入/不纳入）'
                         WHEN 'helper' THEN '安排帮扶责任人' WHEN 'measures' THEN '落实帮扶措施'
                         WHEN 'visit' THEN '季度入户走访' WHEN 'approval' THEN '县级审定' END AS item,
       st.period, st.rule, st.round_id, st.start_date, st.due_date, st.done_date, st.status,
       CASE st.status WHEN 'overdue' THEN fu_ord(st.as_of) - fu_ord(st.due_date)
                      WHEN 'late' THEN fu_ord(st.done_date) - fu_ord(st.due_date) ELSE 0 END AS days_overdue,
       CASE st.status WHEN 'overdue' THEN st.as_of - st.due_date
                      WHEN 'late' THEN st.done_date - st.due_date ELSE 0 END AS calendar_days_overdue,
       st.deadline_kind, NULL::VARCHAR AS note
FROM st LEFT JOIN _fu_reg r USING (household_id);
"""


def overdue(con, as_of: dt.date, home: Path | None = None) -> pl.DataFrame:
    """Items not done whose due date has passed on ``as_of``: household, county, what, due date, days overdue
    (working days), most overdue first within each county."""
    items = deadline_items(con, as_of, home)
    return items.filter(pl.col("status") == "overdue").sort(
        ["county_code", "days_overdue", "due_date", "household_id"], descending=[False, True, False, False]
    )


def compliance(con, as_of: dt.date, home: Path | None = None, items: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per county (the household's registry county) and deadline type: items due by ``as_of`` (due), done on
    time, done late, overdue, done without a date, not yet due (open), and the on-time rate = on_time / due."""
    items = deadline_items(con, as_of, home) if items is None else items
    base = items.group_by("county_code", "county", "item_type").agg(
        (pl.col("status") != "open").sum().alias("due"),
        (pl.col("status") == "on_time").sum().alias("on_time"),
        (pl.col("status") == "late").sum().alias("late"),
        (pl.col("status") == "overdue").sum().alias("overdue"),
        (pl.col("status") == "done_undated").sum().alias("done_undated"),
        (pl.col("status") == "open").sum().alias("open"),
    )
    order = pl.DataFrame(
        {
            "item_type": list(ITEM_ORDER),
            "_o": list(range(len(ITEM_ORDER))),
            "item": [ITEM_LABELS[k] for k in ITEM_ORDER],
        }
    )
    return (
        base.join(order, on="item_type", how="left")
        .with_columns(pl.when(pl.col("due") > 0).then(pl.col("on_time") / pl.col("due")).alias("on_time_rate"))
        .sort("county_code", "_o")
        .drop("_o")
        .select(
            "county_code",
            "county",
            "item_type",
            "item",
            "due",
            "on_time",
            "late",
            "overdue",
            "done_undated",
            "open",
            "on_time_rate",
        )
    )


def approval_batches(con, as_of: dt.date, home: Path | None = None, items: pl.DataFrame | None = None) -> pl.DataFrame:
    """The monthly 县级审定 batches: households included (纳入监测) through feedback, by county and month of the
    result, with their approval state on ``as_of`` (已审定 / 待审定 / 逾期未审定)."""
    items = deadline_items(con, as_of, home) if items is None else items
    a = items.filter(pl.col("item_type") == "approval")
    return (
        a.with_columns(
            pl.col("period").alias("batch"),
            pl.col("start_date").alias("proposed_on"),
            pl.col("done_date").alias("approved_on"),
            pl.when(pl.col("done_date").is_not_null())
            .then(pl.lit("已审定"))
            .when(pl.col("status") == "overdue")
            .then(pl.lit("逾期未审定"))
            .otherwise(pl.lit("待审定"))
            .alias("approval_status"),
        )
        .select(
            "county_code",
            "county",
            "batch",
            "household_id",
            "township",
            "village",
            "head_name",
            "proposed_on",
            "due_date",
            "approved_on",
            "approval_status",
            "days_overdue",
        )
        .sort("county_code", "batch", "household_id")
    )
