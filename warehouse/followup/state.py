"""Re-push suppression and the push history: ``apply_followup(con, round_id, pushed_on)``.

Runs after ``warehouse.rules.screen`` and before publishing (the publisher reads the round's ``suspect`` rows as
they are left here). For each household of the round it looks at the latest *decision* known before the push date —
a county's 不纳入 (verified_rejected) or 纳入监测 (verified_included), or a 风险消除 (eliminated) — ignoring
decisions about this same round, so a rerun of a round reproduces its list:

=====================  ==========================  ===================================================================
decision               no new evidence             new evidence
=====================  ==========================  ===================================================================
不纳入                  dropped from the round      kept; new_evidence_summary = "新证据：…"; 情况说明 starts with
                                                    【再次推送】 and the date of the earlier decision
纳入监测 (monitored)    dropped (it is on the       kept as 监测户新增风险 (so it goes to the department task lists,
                        roster, see monitoring_      not to re-identification), with the new evidence
                        roster)
风险消除                dropped                     kept and marked reflagged_eliminated (evidence dated after the
                                                    elimination only)
none, pushed before    kept, 情况说明 says since    kept, with "新证据：…" against what earlier pushes showed
(open case / 待核实)     when it is unanswered
=====================  ==========================  ===================================================================

"New evidence" = a department record (source, source_file, source_row) that supports one of this round's flags
(``suspect_evidence.risk_type`` not null; registry facts never count) and was not among the records of the
household's pushes up to the decision date (the pushes' ``evidence_keys``). A record delivered late about an old
event is new information and counts; the same event re-sent in another file does not (the rules keep the first copy).

Dropped households are logged in ``followup_suppressed`` (round, household, decision, date, reason) and, in a
priority round, marked ``is_suspect = false`` in ``priority_household``. Finally every household still in the round
gets its 'suspected' event (the push history), keyed by (household, round): a rerun refreshes it, never deletes it.
Everything after the read-only preparation happens in one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from warehouse.followup._base import ensure_tables
from warehouse.runner import runner_for

_TEMPS = ("_fu_p", "_fu_scope", "_fu_dec", "_fu_prior", "_fu_pending", "_fu_base", "_fu_new", "_fu_act", "_fu_push_src")


@dataclass
class FollowupStats:
    round_id: str
    pushed_on: dt.date | None
    counties: list[str] | None = None  # the county scope processed (None = the whole round)
    suspects_before: int = 0
    suspects_after: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    suppressed: dict[str, int] = field(default_factory=dict)  # decision → households dropped
    pushes_recorded: int = 0


def apply_followup(wh, round_id: str, pushed_on: dt.date | None = None, counties=None) -> FollowupStats:
    """Apply earlier decisions to round ``round_id`` (see the module docstring). ``pushed_on`` defaults to the
    round's push date in ``suspect``. ``counties`` (current county codes, as for ``rules.screen``): a county rerun
    processes only the households of those registry counties; None = the whole round. Applying twice changes
    nothing."""
    from warehouse.rules import county_scope

    wh = runner_for(wh)
    scope = county_scope(counties)
    ensure_tables(wh)
    if isinstance(pushed_on, dt.datetime):
        pushed_on = pushed_on.date()
    every = scope is None
    try:
        wh.put("_fu_scope", pl.DataFrame({"county_code": scope or []}, schema={"county_code": pl.String}))
        found_on, found_n = wh.rows("followup/state.found", round_id=round_id, all_counties=every)[0]
        pushed_on = pushed_on or found_on
        stats = FollowupStats(round_id=round_id, pushed_on=pushed_on, counties=scope, suspects_before=int(found_n))
        if not found_n:
            return stats
        wh.run("followup/state.params", round_id=round_id, pushed_on=pushed_on, all_counties=every)
        wh.run("followup/state.prepare")
        stats.actions = dict(wh.rows("followup/state.actions"))
        stats.suppressed = dict(wh.rows("followup/state.suppressed"))
        before = wh.scalar("followup/push.suspected_events")
        with wh.transaction():
            wh.run("followup/state.write")
            wh.run("followup/push.round")
            wh.run("followup/push.insert")
        stats.pushes_recorded = wh.scalar("followup/push.suspected_events") - before
        stats.suspects_after = int(wh.rows("followup/state.found", round_id=round_id, all_counties=every)[0][1])
    finally:
        wh.drop(*_TEMPS)
    return stats
