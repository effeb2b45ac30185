"""Shared helpers of the follow-up package: tables, views, configuration, the push history."""

from __future__ import annotations

from pathlib import Path

from fangpin.settings import ConfigError, config_path, load
from warehouse.runner import runner_for

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


#: what a read-only session (reports, `fangpin status`) needs a writer to have created
RELATIONS = (
    "household_event",
    "feedback_record",
    "followup_suppressed",
    "followup_registry_household",
    "followup_reported_inclusion",
    "household_state",
    "monitoring_roster",
)


def ensure_tables(wh) -> None:
    """Create the follow-up tables and (re)create the views (steps ``followup/tables``, ``followup/views``). Needs the
    base schema and the rules' round tables (``rules/tables``)."""
    wh = runner_for(wh)
    try:
        wh.run("rules/tables")
        wh.run("followup/tables")
        wh.run("followup/views")
    except Exception as exc:
        if "read-only" not in str(exc):
            raise
        # a read-only session can use what a writer created before
        if not all(wh.exists(name) for name in RELATIONS):
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


def backfill_pushes(wh) -> int:
    """Record a 'suspected' event for every household of a *published* round that has none yet (rounds published
    before the follow-up step existed, or published by a job without it). Returns the number of events added."""
    wh = runner_for(wh)
    before = wh.scalar("followup/push.suspected_events")
    wh.run("followup/push.published")
    try:
        wh.run("followup/push.insert")
    finally:
        wh.drop("_fu_push_src")
    return wh.scalar("followup/push.suspected_events") - before
