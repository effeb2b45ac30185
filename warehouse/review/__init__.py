"""Risk-aware review (issue 12): the lists about records linkage left for review, and the decisions counties return.

- :mod:`warehouse.review.lists` — rows of the county review lists (待核实匹配清单: material records only) and of the
  departments' lists of the others (同名待定记录).
- :mod:`warehouse.review.decisions` — ``link_decision``: remembered confirmations and denials, recorded from the
  returned lists and applied to ``link`` / ``link_candidate`` after every linkage run (:func:`apply_decisions`).

What a record would change is computed by the rules (``warehouse.rules.counterfactual``, table ``review_impact``).
"""

from __future__ import annotations

from warehouse.review.decisions import (
    AppliedDecisions,
    apply_decisions,
    ensure_tables,
    record_review_list,
    record_suspect_list,
    review_list_decisions,
)

__all__ = [
    "AppliedDecisions",
    "apply_decisions",
    "ensure_tables",
    "record_review_list",
    "record_suspect_list",
    "review_list_decisions",
]
