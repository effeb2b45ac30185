"""Replaying a round's review with other thresholds (``python -m warehouse.rules.evaluate --replay``): the round's
own thresholds must give back the round's own county lists, 同名待确认 households and screening figures, or the
replay's figures for other thresholds mean nothing."""

from __future__ import annotations

from tests.conftest import DEMO_ROUND
from warehouse.rules import thresholds
from warehouse.rules.evaluate import evaluate, main, replay_thresholds


def test_the_rounds_own_thresholds_replay_to_the_rounds_own_lists(screened_demo, capsys):
    cfg = thresholds("4502", 2026, screened_demo)
    own_pair = (cfg["review_min_candidate_posterior"], cfg["review_min_candidate_ratio"])
    res = evaluate(screened_demo, DEMO_ROUND)
    assert res["county_list_records"] > 0 and res["pending_namesake"] > 0, "the demo city has namesakes at stake"

    grid = [own_pair, (own_pair[0] / 2, 0.3), (0.0, 0.0)]
    own, looser, none = replay_thresholds(screened_demo, DEMO_ROUND, grid).rows(named=True)
    assert (own["county_list_records"], own["pending_namesake"]) == (
        res["county_list_records"],
        res["pending_namesake"],
    )
    assert (own["missed"], own["recall"], own["precision"]) == (res["missed"], res["recall"], res["precision"])
    # lower thresholds put more at stake, never less; with none, every changed scenario a link could have made is
    for lo, hi in ((looser, own), (none, looser)):
        assert lo["county_list_records"] >= hi["county_list_records"]
        assert lo["pending_namesake"] >= hi["pending_namesake"] and lo["missed"] <= hi["missed"]

    assert main(["--home", str(screened_demo), "--round", DEMO_ROUND, "--replay", "0.1:0.5,0:0"]) == 0
    printed = capsys.readouterr().out
    assert "review thresholds replayed" in printed and "pending_namesake" in printed
