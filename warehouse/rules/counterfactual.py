"""Risk-aware review: screen every candidate household of every ambiguous record with the record attached.

A record linkage could not decide (``link.match_method = 'review'``, candidates in ``link_candidate``) matters to
the round only if attaching it to one of its candidates would change that household's screening result (suspect
category, or risk types). :func:`screen_review_records` finds out for all of them at once, set-based:

1. ``rules/35_counterfactual.pairs`` — one scenario per (record, candidate household), ``_cf_pair``;
2. a second session of the warehouse (``Runner.session``: its own TEMP relations) receives the scenario households (the candidate's
   registry rows under a scenario id), their members, and a link relation holding each candidate household's own
   evidence links plus the attached record; the round's thresholds and parameters are copied over;
3. the round's own steps ``rules/20_evidence`` and ``rules/30_screen`` run there unchanged, so the counterfactual
   can never drift from the rules;
4. there too, ``rules/36_impact`` compares each scenario with the household's real result (``_cf_impact``) and marks
   the households only an ambiguous record would flag (同名待确认, ``_cf_pending``); these two and the scenarios of the
   同名待确认 households come back, and the round's session gives those households their scenario's screening, so
   the round lists them with the record as evidence.

A candidate the linker finds improbable (posterior below ``review_min_candidate_posterior``: most often the record
belongs to somebody outside the registry; or below ``review_min_candidate_ratio`` of the record's best candidate's) is screened and its change shown, but it is not at stake: it neither sends
the record to a county nor marks the household. Several ambiguous records of one household are judged one at a time (each against the household's confirmed
evidence); a 同名待确认 household is shown with its most urgent scenario and lists every record that would flag it.
"""

from __future__ import annotations

from warehouse.runner import Runner

#: the step slot of the counterfactual in warehouse.rules.STEPS
COUNTERFACTUAL = "35_counterfactual"
#: match methods whose records are evidence (SPEC §5: review and unmatched never are)
EVIDENCE_METHODS = ("id_exact", "id_repaired", "fuzzy")

_HANDED_OVER = ("_r", "_p", "_newfiles", "_cf_pair")
_RESULTS = ("_cf_impact", "_cf_pending")
_SHOWN = (("_scr", "_cf_scr"), ("_sig", "_cf_sig"), ("_med_person", "_cf_med"))


def screen_review_records(wh: Runner, min_posterior: float, min_ratio: float = 0.0) -> None:
    """Run the counterfactual for the round whose working relations are in ``wh``'s session (after 30_screen).

    A candidate whose linkage posterior is below ``min_posterior`` (rules.yaml ``review_min_candidate_posterior``),
    or below ``min_ratio`` times the record's best candidate's (``review_min_candidate_ratio``), is screened but not
    at stake."""
    wh.run("rules/35_counterfactual.pairs")
    with wh.session() as scenario:  # its relations go with it
        scenario.put("_hh", wh.arrow("rules/35_counterfactual.households"))
        scenario.put("_person", wh.arrow("rules/35_counterfactual.persons"))
        scenario.put("_cf_links", wh.arrow("rules/35_counterfactual.links", evidence_methods=EVIDENCE_METHODS))
        scenario.put("_cf_base", wh.arrow("rules/35_counterfactual.base"))
        for name in _HANDED_OVER:
            scenario.put(name, wh.arrow("rules/35_counterfactual.relation", relation=name))
        scenario.run("rules/20_evidence.linked", links="_cf_links", evidence_methods=(*EVIDENCE_METHODS, "review"))
        scenario.run("rules/20_evidence.signals")
        scenario.run("rules/30_screen")
        scenario.run("rules/36_impact.impact", min_posterior=min_posterior, min_ratio=min_ratio)
        scenario.run("rules/36_impact.pending")
        results = {name: scenario.arrow("rules/35_counterfactual.relation", relation=name) for name in _RESULTS}
        results |= {ours: scenario.arrow("rules/35_counterfactual.shown", relation=theirs) for theirs, ours in _SHOWN}
        for step, seconds in scenario.timings.items():  # the benchmarks see the scenario session's steps too
            wh.timings[f"scenario:{step}"] = wh.timings.get(f"scenario:{step}", 0.0) + seconds
    for name, table in results.items():
        wh.put(name, table)
    wh.run("rules/36_impact.patch")
