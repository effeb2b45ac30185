"""Shared helpers of the follow-up package: tables, views, configuration, the push history."""

from __future__ import annotations

from pathlib import Path

from fangpin.settings import ConfigError, config_path, load

SQL_DIR = Path(__file__).parent / "sql"
DEADLINE_KEYS = (
    "decision_days",
    "helper_working_days",
    "measures_working_days",
    "visits_per_quarter",
    "county_approval_months",
    "elimination_min_months",
    "elimination_stable_income_months",
)
EVENT_TYPES = (
    "suspected",
    "verified_included",
    "verified_rejected",
    "pending",
    "helper_assigned",
    "measure",
    "visit",
    "approved",
    "eliminated",
)
DECISION_EVENTS = ("verified_included", "verified_rejected")
RESULT_EVENT = {"纳入监测": "verified_included", "不纳入": "verified_rejected", "待核实": "pending"}


def sql_text(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def ensure_tables(con) -> None:
    """Create the follow-up tables and (re)create the views. Needs the base schema and the rules' round tables."""
    import duckdb

    from warehouse.rules import ensure_tables as ensure_rules

    try:
        ensure_rules(con)
        con.execute(sql_text("tables.sql"))
        con.execute(sql_text("views.sql"))
    except duckdb.Error as exc:
        if "read-only" not in str(exc):
            raise
        # a read-only connection (reports, `fangpin status`) can use what a writer created before
        have = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
        if (
            not {
                "household_event",
                "feedback_record",
                "followup_suppressed",
                "followup_registry_household",
                "followup_reported_inclusion",
                "household_state",
                "monitoring_roster",
            }
            <= have
        ):
            raise


def deadlines_config(home: Path | None = None) -> dict:
    """The ``deadlines:`` section of rules.yaml; a missing key is an error naming it (never a silent default)."""
    cfg = load("rules", home)
    section = cfg.get("deadlines")
    path = config_path("rules", home)
    if not isinstance(section, dict):
        raise ConfigError(
            f"{path}: section 'deadlines' is missing; add it (see fangpin/config/rules.yaml) with "
            f"{', '.join(DEADLINE_KEYS)}"
        )
    out = {}
    for key in DEADLINE_KEYS:
        value = section.get(key)
        if value is None:
            raise ConfigError(f"{path}: deadlines.{key} is not set; add it to the rules configuration")
        try:
            out[key] = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: deadlines.{key} = {value!r} is not a whole number") from None
    return out


def backfill_pushes(con) -> int:
    """Record a 'suspected' event for every household of a *published* round that has none yet (rounds published
    before the follow-up step existed, or published by a job without it). Returns the number of events added."""
    before = con.sql("SELECT count(*) FROM household_event WHERE event_type = 'suspected'").fetchall()[0][0]
    con.execute(PUSH_INSERT.format(where="s.round_id IN (SELECT round_id FROM round WHERE status = 'published')"))
    after = con.sql("SELECT count(*) FROM household_event WHERE event_type = 'suspected'").fetchall()[0][0]
    return after - before


#: Insert the 'suspected' events of suspect rows (``{where}`` selects them) that have none for their round yet.
PUSH_INSERT = """
INSERT INTO household_event (household_id, event_type, event_date, round_id, details, source, county_code, recipients,
                             due_date, category, risk_types, evidence_keys)
WITH s AS (SELECT * FROM suspect s WHERE {where}),
ev AS (
    SELECT round_id, household_id,
           list(DISTINCT source || '|' || coalesce(source_file, '') || '|' || coalesce(CAST(source_row AS VARCHAR), ''))
               FILTER (WHERE source <> 'registry') AS keys
    FROM suspect_evidence WHERE round_id IN (SELECT DISTINCT round_id FROM s) GROUP BY ALL
)
SELECT s.household_id, 'suspected', s.pushed_on, s.round_id,
       '第' || s.round_id || '轮推送（' || coalesce(s.suspect_category, '') || '），核实截止 ' || coalesce(CAST(s.verify_by AS VARCHAR), '—'),
       'round', s.county_code,
       list_distinct(list_filter([s.county_code,
                                  CASE WHEN s.double_routed THEN s.live_county_code END,
                                  CASE WHEN s.double_routed THEN s.hukou_county_code END], lambda x: x IS NOT NULL)),
       s.verify_by, s.suspect_category, s.risk_types, coalesce(ev.keys, CAST([] AS VARCHAR[]))
FROM s LEFT JOIN ev USING (round_id, household_id)
WHERE NOT EXISTS (SELECT 1 FROM household_event e
                  WHERE e.event_type = 'suspected' AND e.household_id = s.household_id AND e.round_id = s.round_id)
"""
