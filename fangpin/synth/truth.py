"""Ground truth: an independent implementation of SPEC §6.1–6.3 on the *clean* events (before any noise).

It works on distinct events (``event_id``), never on file rows, so a ``duplicate_event`` copy cannot count twice.
Only events of registry persons count (records of people not in the registry link to nobody).

Interpretation choices (the generator keeps every planted case clearly away from the places where another
reasonable reading would give a different answer, and checks that — see :func:`check_robust`):

* Window: an event counts when ``ref − 12 months ≤ date < ref`` (date = settle_date, disaster_date, approved_on,
  event_date). Planted evidence lies ≥ 10 days inside; events of signal-capable kinds outside the window lie ≥ 25
  days before its start.
* "Monitored" = monitoring_category set and risk_eliminated = 否. A risk-eliminated household is *not monitored*:
  it gets the civil-affairs signal and is suspected again (``suspect_again``); for the medical thresholds it is
  treated as its household type says (脱贫户 → lenient, 一般农户 → strict). Planted values for eliminated 一般农户 pass
  or fail both the lenient and the strict threshold, so either reading of "monitored" gives the same result.
* Medical: per person, the sum of out-of-pocket spending in the window > share × rural disposable income
  (0.5 for 脱贫户 or monitored households, 1.0 otherwise), OR one 住院 record with out-of-pocket > 6000 (脱贫户 or
  monitored) / 10000 (others). 门诊慢特病 records are not stays (the generator keeps them ≤ 5000 anyway).
* Disaster: per event, house 倒塌/严重损坏 or direct loss ≥ threshold (losses of several events are not summed for the
  signal; no household has several in-window disaster events whose sum alone would cross it). 因安全住房 is added
  when an in-window event has 倒塌 or 严重损坏.
* Employment: an in-window 失业登记/返乡/务工中断 of a registry member whose 劳动技能 is 技能劳动力, 普通劳动力 or
  弱劳动力或半劳动力. Lost wages = previous_monthly_income × lost_wage_months, counted once per labourer (the
  largest, if a labourer had several; planted labourers have one).
* Civil affairs: an in-window status 新增 of 农村低保, 农村特困 or 临时救助 for a household that is not monitored
  (never / eliminated). 续保, 停发 and 低保边缘 are never signals.
* Adjusted per-capita income = (base × size − all in-window medical out-of-pocket of members − all in-window
  disaster direct losses of the household − lost wages) / size; rigid spending = the three subtracted sums.
* Category, only for a household with at least one signal: monitored → 监测户新增风险; else adjusted < line →
  脱贫不稳定户 (脱贫户) / 边缘易致贫户 (一般农户); else rigid ≥ share × base × size (annual household income = registry
  per-capita income × size) → 突发严重困难户; else not at risk.
* Risk types (at-risk households only), in this order, at most 5: 因病, 因自然灾害, 因安全住房, 因务工就业不稳,
  其他 (civil affairs), 缺劳动力 (every member 丧失劳动力/无劳动力 and adjusted < line).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from fangpin.synth.events import Rules, Window

JOB_LOSS = ("失业登记", "返乡", "务工中断")
CAPACITY = ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力")
NO_LABOUR = ("丧失劳动力", "无劳动力")
QUALIFYING_AID = ("农村低保", "农村特困", "临时救助")
RISK_ORDER = ("因病", "因自然灾害", "因安全住房", "因务工就业不稳", "其他", "缺劳动力")


@dataclass(frozen=True)
class Variant:
    """Alternative readings and threshold perturbations used to prove that the truth is unambiguous."""

    line: float = 1.0
    med_share: float = 1.0
    stay: float = 1.0
    disaster: float = 1.0
    hardship: float = 1.0
    window_shift: int = 0
    eliminated_lenient: bool = False
    tuopin_stay_strict: bool = False
    disaster_sum: bool = False
    job_sum: bool = False


def compute(
    events: dict[str, pl.DataFrame],
    households: pl.DataFrame,
    persons: pl.DataFrame,
    rules: Rules,
    win: Window,
    v: Variant = Variant(),
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    """Returns (per-household truth, per-feed event flags: event_id, in_window, signal, evidence)."""
    lo, hi = win.start + v.window_shift, win.ref + v.window_shift
    L = rules.line * v.line
    hh = (
        households.select(
            "hh_idx",
            "household_type",
            "monitoring_category",
            "risk_eliminated",
            pl.col("base_per_capita_income").alias("base"),
            pl.col("household_size").alias("size"),
        )
        .with_columns(
            active=(pl.col("monitoring_category") != "") & (pl.col("risk_eliminated") == "否"),
            eliminated=(pl.col("monitoring_category") != "") & (pl.col("risk_eliminated") == "是"),
            tuopin=pl.col("household_type") == "脱贫户",
        )
        .with_columns(
            lenient=pl.col("tuopin") | pl.col("active") | (pl.lit(v.eliminated_lenient) & pl.col("eliminated")),
        )
        .with_columns(
            stay_lenient=pl.col("lenient") & ~(pl.lit(v.tuopin_stay_strict) & pl.col("tuopin") & ~pl.col("active")),
        )
    )
    people = persons.select("pid", "hh_idx", "labour")

    def window(df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(in_window=(pl.col("date") >= lo) & (pl.col("date") < hi) & (pl.col("pid") >= 0))

    flags: dict[str, pl.DataFrame] = {}

    # ---- medical (per person)
    med = window(events["medical"]).join(hh.select("hh_idx", "lenient", "stay_lenient"), on="hh_idx", how="left")
    mw = med.filter("in_window")
    per_person = (
        mw.group_by("pid")
        .agg(
            pl.col("hh_idx").first(),
            oop=pl.col("oop_c").sum() / 100,
            max_stay=pl.when(pl.col("visit_type") == "住院").then(pl.col("oop_c")).otherwise(0).max() / 100,
            lenient=pl.col("lenient").first(),
            stay_lenient=pl.col("stay_lenient").first(),
        )
        .with_columns(
            med_signal=(
                pl.col("oop")
                > pl.when("lenient").then(rules.med_share_lenient).otherwise(rules.med_share_strict) * v.med_share
            )
            | (
                pl.col("max_stay")
                > pl.when("stay_lenient").then(rules.stay_lenient).otherwise(rules.stay_strict) * v.stay
            ),
        )
    )
    med_hh = per_person.group_by("hh_idx").agg(oop=pl.col("oop").sum(), med_signal=pl.col("med_signal").any())
    flags["medical"] = med.join(per_person.select("pid", "med_signal"), on="pid", how="left").select(
        "event_id",
        "in_window",
        signal=pl.col("in_window") & pl.col("med_signal").fill_null(False),
        evidence=pl.col("in_window"),
    )

    # ---- disaster (per household)
    dis = window(events["disaster"]).with_columns(
        severe_house=pl.col("house_damage").is_in(["倒塌", "严重损坏"]),
        big_loss=pl.col("loss_c") >= rules.disaster_loss * v.disaster * 100,
    )
    dw = dis.filter("in_window")
    dis_hh = dw.group_by("hh_idx").agg(
        loss=pl.col("loss_c").sum() / 100,
        housing=pl.col("severe_house").any(),
        dis_signal=(pl.col("severe_house") | pl.col("big_loss")).any(),
    )
    if v.disaster_sum:
        dis_hh = dis_hh.with_columns(
            dis_signal=pl.col("dis_signal") | (pl.col("loss") >= rules.disaster_loss * v.disaster)
        )
    flags["disaster"] = dis.join(dis_hh.select("hh_idx", "dis_signal"), on="hh_idx", how="left").select(
        "event_id",
        "in_window",
        signal=pl.col("in_window")
        & (
            pl.col("severe_house")
            | pl.col("big_loss")
            | (pl.lit(v.disaster_sum) & pl.col("dis_signal").fill_null(False))
        ),
        evidence=pl.col("in_window"),
    )

    # ---- employment (per labourer)
    emp = (
        window(events["employment"])
        .join(people.select("pid", "labour"), on="pid", how="left")
        .with_columns(
            qualifies=pl.col("in_window") & pl.col("event").is_in(JOB_LOSS) & pl.col("labour").is_in(CAPACITY)
        )
    )
    per_lab = (
        emp.filter("qualifies")
        .group_by("pid")
        .agg(
            pl.col("hh_idx").first(),
            wage=(pl.col("prev_income_c").sum() if v.job_sum else pl.col("prev_income_c").max())
            / 100
            * rules.wage_months,
        )
    )
    emp_hh = per_lab.group_by("hh_idx").agg(wages=pl.col("wage").sum(), emp_signal=pl.lit(True))
    flags["employment"] = emp.select("event_id", "in_window", signal="qualifies", evidence="qualifies")

    # ---- civil affairs (per household)
    civ = (
        window(events["civil_affairs"])
        .join(hh.select("hh_idx", "active"), on="hh_idx", how="left")
        .with_columns(
            qualifies=pl.col("in_window")
            & (pl.col("status") == "新增")
            & pl.col("aid_type").is_in(QUALIFYING_AID)
            & ~pl.col("active").fill_null(True)
        )
    )
    civ_hh = civ.filter("qualifies").group_by("hh_idx").agg(civ_signal=pl.lit(True))
    flags["civil_affairs"] = civ.select("event_id", "in_window", signal="qualifies", evidence="qualifies")

    # ---- household
    no_lab = people.group_by("hh_idx").agg(no_labour=pl.col("labour").is_in(NO_LABOUR).all())
    t = (
        hh.join(med_hh, on="hh_idx", how="left")
        .join(dis_hh, on="hh_idx", how="left")
        .join(emp_hh, on="hh_idx", how="left")
        .join(civ_hh, on="hh_idx", how="left")
        .join(no_lab, on="hh_idx", how="left")
        .with_columns(
            pl.col("oop", "loss", "wages").fill_null(0.0),
            pl.col("med_signal", "dis_signal", "emp_signal", "civ_signal", "housing", "no_labour").fill_null(False),
        )
        .with_columns(rigid=pl.col("oop") + pl.col("loss") + pl.col("wages"))
        .with_columns(
            adjusted=(pl.col("base") * pl.col("size") - pl.col("rigid")) / pl.col("size"),
            flagged=pl.col("med_signal") | pl.col("dis_signal") | pl.col("emp_signal") | pl.col("civ_signal"),
        )
        .with_columns(
            category=pl.when(~pl.col("flagged"))
            .then(None)
            .when(pl.col("active"))
            .then(pl.lit("监测户新增风险"))
            .when(pl.col("adjusted") < L)
            .then(pl.when("tuopin").then(pl.lit("脱贫不稳定户")).otherwise(pl.lit("边缘易致贫户")))
            .when(pl.col("rigid") >= rules.hardship_share * v.hardship * pl.col("base") * pl.col("size"))
            .then(pl.lit("突发严重困难户"))
            .otherwise(None),
        )
    )
    types = pl.concat_list(
        [
            pl.when(pl.col("med_signal")).then(pl.lit(["因病"])).otherwise(pl.lit([], dtype=pl.List(pl.String))),
            pl.when(pl.col("dis_signal")).then(pl.lit(["因自然灾害"])).otherwise(pl.lit([], dtype=pl.List(pl.String))),
            pl.when(pl.col("dis_signal") & pl.col("housing"))
            .then(pl.lit(["因安全住房"]))
            .otherwise(pl.lit([], dtype=pl.List(pl.String))),
            pl.when(pl.col("emp_signal"))
            .then(pl.lit(["因务工就业不稳"]))
            .otherwise(pl.lit([], dtype=pl.List(pl.String))),
            pl.when(pl.col("civ_signal")).then(pl.lit(["其他"])).otherwise(pl.lit([], dtype=pl.List(pl.String))),
            pl.when(pl.col("no_labour") & (pl.col("adjusted") < L))
            .then(pl.lit(["缺劳动力"]))
            .otherwise(pl.lit([], dtype=pl.List(pl.String))),
        ]
    )
    signals = pl.concat_list(
        [
            pl.when(pl.col(c)).then(pl.lit([name])).otherwise(pl.lit([], dtype=pl.List(pl.String)))
            for c, name in (
                ("med_signal", "medical"),
                ("dis_signal", "disaster"),
                ("emp_signal", "employment"),
                ("civ_signal", "civil_affairs"),
            )
        ]
    )
    t = (
        t.with_columns(
            at_risk=pl.col("category").is_not_null(),
            expected_risk_types=pl.when(pl.col("category").is_not_null())
            .then(types.list.head(rules.max_types))
            .otherwise(pl.lit([], dtype=pl.List(pl.String))),
            signals=signals,
            suspect_again=pl.col("category").is_not_null() & pl.col("eliminated"),
        )
        .select(
            "hh_idx",
            "at_risk",
            pl.col("category").alias("expected_category"),
            "expected_risk_types",
            "signals",
            "suspect_again",
            pl.col("adjusted").round(2).alias("adjusted_per_capita_income"),
            pl.col("rigid").round(2).alias("rigid_spending"),
        )
        .sort("hh_idx")
    )
    return t, flags


VARIANTS = (
    Variant(line=0.95),
    Variant(line=1.05),
    Variant(med_share=0.95),
    Variant(med_share=1.05),
    Variant(stay=0.95),
    Variant(stay=1.05),
    Variant(disaster=0.95),
    Variant(disaster=1.05),
    Variant(hardship=0.9),
    Variant(hardship=1.1),
    Variant(window_shift=-5),
    Variant(window_shift=5),
    Variant(eliminated_lenient=True),
    Variant(tuopin_stay_strict=True),
    Variant(disaster_sum=True),
    Variant(job_sum=True),
)


def check_robust(
    events, households, persons, rules: Rules, win: Window, base: pl.DataFrame, sample: int | None = None, rng=None
) -> list[str]:
    """Households whose truth changes under ±5% thresholds, ±5 days window edges or another reading of the spec.

    ``sample``: check every planted household plus this many others drawn at random (large cities); None = all.
    """
    if sample is not None and rng is not None:
        planted = households.filter(pl.col("scenario") != "")["hh_idx"].to_numpy()
        others = households.filter(pl.col("scenario") == "")["hh_idx"].to_numpy()
        keep = np.concatenate([planted, rng.choice(others, size=min(sample, len(others)), replace=False)])
        keep_s = pl.Series(keep)
        households = households.filter(pl.col("hh_idx").is_in(keep_s.implode()))
        persons = persons.filter(pl.col("hh_idx").is_in(keep_s.implode()))
        events = {f: e.filter(pl.col("hh_idx").is_in(keep_s.implode())) for f, e in events.items()}
        base = base.filter(pl.col("hh_idx").is_in(keep_s.implode()))
    key = base.select("hh_idx", "at_risk", "expected_category", pl.col("expected_risk_types").list.sort().alias("t"))
    problems = []
    for v in VARIANTS:
        other, _ = compute(events, households, persons, rules, win, v)
        o = other.select(
            "hh_idx",
            pl.col("at_risk").alias("a2"),
            pl.col("expected_category").alias("c2"),
            pl.col("expected_risk_types").list.sort().alias("t2"),
        )
        diff = key.join(o, on="hh_idx").filter(
            (pl.col("at_risk") != pl.col("a2"))
            | (pl.col("expected_category").fill_null("") != pl.col("c2").fill_null(""))
            | (pl.col("t") != pl.col("t2"))
        )
        if len(diff):
            problems.append(f"{v}: {len(diff)} households, e.g. hh_idx {diff['hh_idx'].head(5).to_list()}")
    return problems
