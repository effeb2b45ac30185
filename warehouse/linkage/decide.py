"""Step 4 — decisions: id_exact / id_repaired (sql/06), then fuzzy / review / unmatched (sql/09), and the candidate
list kept for review records (sql/10 → link_candidate)."""

from __future__ import annotations

from typing import Any

from fangpin.domain import divisions
from warehouse.runner import Runner
from warehouse.steps import Sql

NAME_RANK = {"exact": 3, "folded": 3, "homophone": 2, "near": 1}


def decide_id(wh: Runner, cfg: dict[str, Any]) -> None:
    rep = cfg["repair"]
    levels = [str(x) for x in rep.get("name_levels", ["exact", "homophone"])]
    if "exact" in levels and "folded" not in levels:
        levels.append("folded")  # the same name in traditional characters is the same name
    wh.run(
        "linkage/06_decide_id",
        score_15=float(rep["score_15"]),
        score_birth_confirmed=float(rep["score_birth_confirmed"]),
        score_locality_confirmed=float(rep["score_locality_confirmed"]),
        repair_name_levels=levels,
    )


def todo(wh: Runner) -> None:
    """lk_todo: records with no ID decision that have something to compare (a name)."""
    wh.run("linkage/08_blocking.todo")


def decide_fuzzy(wh: Runner, cfg: dict[str, Any]) -> None:
    d = cfg["decide"]
    min_level = str(d.get("min_name_level", "near"))
    if min_level not in NAME_RANK:
        raise ValueError(f"linkage.yaml: decide.min_name_level must be one of {list(NAME_RANK)}, not {min_level!r}")
    wh.run("linkage/09_decide_fuzzy.groups")
    wh.run(
        "linkage/09_decide_fuzzy.record_evidence",
        prior=float(cfg["prior_in_registry"]),
        household_prior=float(cfg["household_prior_in_registry"]),
    )
    wh.run("linkage/09_decide_fuzzy.posterior")
    wh.run(
        "linkage/09_decide_fuzzy.decide",
        accept=float(d["accept"]),
        review=float(d["review"]),
        namesake_ratio=float(d["namesake_ratio"]),
        min_name_rank=NAME_RANK[min_level],
        here=divisions.area_word(),
    )


#: what a county's reviewer reads for each candidate (link_candidate.detail)
_DETAIL = Sql("""concat_ws('；',
        CASE name_level WHEN 'exact' THEN '姓名一致' WHEN 'folded' THEN '姓名一致（繁简不同）' WHEN 'homophone' THEN '姓名同音'
                        WHEN 'near' THEN '姓名相近' ELSE '姓名不同' END,
        CASE birth_level WHEN 'exact' THEN '出生日期一致' WHEN 'near' THEN '出生日期相近' WHEN 'differ' THEN '出生日期不同' END,
        CASE loc_agree WHEN 'village' THEN '同村' WHEN 'township' THEN '同乡镇' WHEN 'county' THEN '同县（区）' WHEN 'differ' THEN '地址不同' END,
        CASE sib_level WHEN 'claim' THEN '同一业务另有带证件号码的记录' WHEN 'same' THEN '本部门同名记录的证件号码属于此人' END)""")


def review_candidates(wh: Runner, top: int = 3) -> None:
    """lk_review_cand(rid, rank, pid, score, detail): the best candidates of every record sent to review."""
    wh.run("linkage/10_review.candidates", top=int(top), detail=_DETAIL)
