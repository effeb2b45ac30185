"""Step 4b — parameters estimated from this round's data (sql/07_estimate.sql), the configured values as priors.

The exact-ID links are free training labels: a record whose valid ID is a registry person's is a known match, and a
record whose valid ID is nobody's is a known outsider. From them, each round:

* m of the name levels (exact / folded / homophone / near / differ), of the place levels (per level the record
  states) and of "the named head is the household's head" (head-of-household-only feeds): how often each level
  occurs between a record and its true person;
* the share of records written in traditional characters (u of the folded level);
* the person's other records: how often a person's other records in the same feed (same name, same township) or the
  same claim re-sent link to that person by ID (m) — and how often they link to a namesake of that township (u);
* per feed, the share of records whose person is in the registry (the prior), and how the place a record states,
  the frequency of its name and its ID's address code differ between those in the registry and those outside
  (``lk_est_inout``, bits per class: evidence that a record's person is in the registry at all);
* per feed, how often persons of each activity class (age band, health, relief, head of household, able to work)
  appear compared with the average person (``lk_est_activity``, bits per class).

Every estimate is smoothed towards its configured value with ``estimate.pseudo_count`` pseudo-observations, so a
small city keeps (nearly) the configured values and a large one speaks for itself. The estimates are reported as
``Parameter`` rows (value, configured value, observations): counts and probabilities only, no personal data.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from warehouse.runner import Runner

NAME_LEVELS = ("exact", "folded", "homophone", "near", "differ")
LOC_LEVELS = {
    "village": ("village", "township", "county", "differ"),
    "township": ("township", "county", "differ"),
    "county": ("county", "differ"),
}
LOC_PARAM = {"village": "v", "township": "t", "county": "c"}
OTHER_LEVELS = ("claim", "same", "none")


@dataclass
class Parameter:
    name: str  # e.g. name.m_exact, loc.village.township, prior.medical, in_out.medical.loc.county
    value: float
    configured: float | None
    observations: int


def empty_tables(wh: Runner) -> None:
    wh.run("linkage/07_estimate.empty")


def _smooth(counts: dict[str, int], prior: dict[str, float], alpha: float) -> tuple[dict[str, float], int]:
    """Posterior mean of a categorical distribution: counts plus ``alpha`` pseudo-counts spread as ``prior``."""
    total_prior = sum(prior.values()) or 1.0
    n = sum(counts.get(k, 0) for k in prior)
    return {k: (counts.get(k, 0) + alpha * prior[k] / total_prior) / (n + alpha) for k in prior}, n


def _clip(bits: float, cap: float) -> float:
    return max(-cap, min(cap, bits))


def estimate(
    wh: Runner, cfg: dict[str, Any], params: dict[str, object], compare
) -> tuple[dict[str, object], list[Parameter]]:
    """Fill lk_sib / lk_claim / lk_est_*; return the compare parameters with the estimates in, and the report."""
    est = cfg.get("estimate", {})
    alpha = float(est.get("pseudo_count", 200))
    caps = est.get("max_bits", {})
    oth = cfg["others"]
    wh.run("linkage/07_estimate.others", max_claim_records=int(oth["max_claim_records"]))
    if not est.get("enabled", True):
        return _configured_others(params, cfg), []

    n_id = wh.scalar("linkage/07_estimate.n_labels")
    every = max(1, math.ceil(n_id / int(est.get("max_labels", 60_000))))
    wh.run("linkage/07_estimate.labels", label_every=every)
    compare(wh, params, "lk_pair_label", "lk_cmp_label")
    counts: dict[tuple[str, str], int] = {}
    for cmp, level, n in wh.rows("linkage/07_estimate.levels"):
        counts[(cmp, level)] = counts.get((cmp, level), 0) + int(n)

    def of(cmp: str) -> dict[str, int]:
        return {lv: n for (c, lv), n in counts.items() if c == cmp}

    out = dict(params)
    report: list[Parameter] = []

    # names
    nm = cfg["name"]
    prior = {lv: float(nm[f"m_{lv}"]) for lv in NAME_LEVELS}
    m, n = _smooth(of("name"), prior, alpha)
    for lv in NAME_LEVELS:
        out[f"name_m_{lv}"] = m[lv]
        report.append(Parameter(f"name.m_{lv}", m[lv], prior[lv] / sum(prior.values()), n))
    fold = of("folded")
    f_n = sum(fold.values())
    share = (fold.get("folded", 0) + alpha * float(nm["folded_share"])) / (f_n + alpha)
    out["folded_share"] = share
    report.append(Parameter("name.folded_share", share, float(nm["folded_share"]), f_n))

    # places, per level the record states
    for stated, levels in LOC_LEVELS.items():
        prior = {lv: float(cfg["locality"][stated][lv]) for lv in levels}
        m, n = _smooth(of(f"loc_{stated}"), prior, alpha)
        for lv in levels:
            out[f"loc_{LOC_PARAM[stated]}_{lv}"] = m[lv]
            report.append(Parameter(f"loc.{stated}.{lv}", m[lv], prior[lv] / sum(prior.values()), n))

    # head of household (head-only feeds)
    rel = cfg["relation"]
    m, n = _smooth(of("head"), {"head": float(rel["m_head"]), "other": 1 - float(rel["m_head"])}, alpha)
    out["rel_m_head"] = m["head"]
    report.append(Parameter("relation.m_head", m["head"], float(rel["m_head"]), n))

    # the person's other records
    m_prior = {lv: float(oth[f"m_{lv}"]) for lv in ("claim", "same")}
    m_prior["none"] = max(1e-6, 1 - sum(m_prior.values()))
    u_prior = {lv: float(oth[f"u_{lv}"]) for lv in ("claim", "same")}
    u_prior["none"] = max(1e-6, 1 - sum(u_prior.values()))
    m, n_m = _smooth(of("sib_m"), m_prior, alpha)
    u, n_u = _smooth(of("sib_u"), u_prior, alpha)
    cap = float(caps.get("others", 12))
    for lv in OTHER_LEVELS:
        out[f"sib_w_{lv}"] = _clip(math.log2(m[lv] / u[lv]), cap)
        report.append(Parameter(f"others.m_{lv}", m[lv], m_prior[lv], n_m))
        report.append(Parameter(f"others.u_{lv}", u[lv], u_prior[lv], n_u))

    report += _in_out(wh, cfg, alpha, float(est.get("in_out_pseudo_count", 20)), float(caps.get("in_out", 8)))
    if est.get("activity", True):
        report += _activity(wh, float(est.get("activity_pseudo_records", 20)), float(caps.get("activity", 4)))
    return out, report


def _configured_others(params: dict[str, object], cfg: dict[str, Any]) -> dict[str, object]:
    out = dict(params)
    oth = cfg["others"]
    m_none = 1 - float(oth["m_claim"]) - float(oth["m_same"])
    u_none = 1 - float(oth["u_claim"]) - float(oth["u_same"])
    out["sib_w_claim"] = math.log2(float(oth["m_claim"]) / float(oth["u_claim"]))
    out["sib_w_same"] = math.log2(float(oth["m_same"]) / float(oth["u_same"]))
    out["sib_w_none"] = math.log2(m_none / u_none)
    return out


def _in_out(wh: Runner, cfg: dict[str, Any], alpha: float, alpha_class: float, cap: float) -> list[Parameter]:
    """lk_est_prior (share in the registry per feed) and lk_est_inout (bits per feed, factor and class).

    The prior is smoothed with ``alpha``; the class distributions with ``alpha_class`` pseudo-records (the
    outsiders' towards the registry persons': no outsiders seen → no evidence either way). Few outsiders are
    labelled in a feed (a hundred or two in a city's disaster lists), so their smoothing must not drown them."""
    df = wh.frame("linkage/07_estimate.in_out")
    report: list[Parameter] = []
    priors, rows = [], []
    p_cfg = float(cfg["prior_in_registry"])
    for (source,), g in df.group_by("source", maintain_order=True):
        loc = g.filter(pl.col("factor") == "loc")
        n_in = int(loc.filter(pl.col("is_in"))["n"].sum())
        n_all = int(loc["n"].sum())
        prior = (n_in + alpha * p_cfg) / (n_all + alpha)
        priors.append((source, prior))
        report.append(Parameter(f"prior.{source}", prior, p_cfg, n_all))
        for (factor,), f in g.group_by("factor", maintain_order=True):
            ins = {c: int(n) for c, n in f.filter(pl.col("is_in")).select("class", "n").iter_rows()}
            outs = {c: int(n) for c, n in f.filter(~pl.col("is_in")).select("class", "n").iter_rows()}
            classes = sorted(set(ins) | set(outs), key=str)
            uniform = {c: 1.0 for c in classes}
            p_in, k_in = _smooth(ins, uniform, alpha_class)
            p_out, k_out = _smooth(outs, p_in, alpha_class)  # towards p_in: no outsiders seen → no evidence either way
            for c in classes:
                bits = _clip(math.log2(p_in[c] / p_out[c]), cap)
                rows.append((source, factor, c, bits))
                report.append(Parameter(f"in_out.{source}.{factor}.{c}", bits, 0.0, k_in + k_out))
    wh.put("lk_est_prior", pl.DataFrame(priors, schema=["source", "prior"], orient="row"))
    wh.put(
        "lk_est_inout",
        pl.DataFrame(
            rows,
            schema={"source": pl.String, "factor": pl.String, "class": pl.String, "bits": pl.Float64},
            orient="row",
        ),
    )
    return report


def _activity(wh: Runner, prior_records: float, cap: float) -> list[Parameter]:
    """lk_est_activity: bits per feed and activity class = log2(records per person of the class / of everyone).

    Shrunk like a standardised rate: (observed + k) / (expected + k) with k = ``prior_records`` pseudo-records, so a
    class seen in a handful of records says (almost) nothing and a class seen in thousands speaks for itself."""
    df = wh.frame("linkage/07_estimate.activity")
    persons = df.filter(pl.col("source").is_null()).select("act_class", "n_persons")
    recs = df.filter(pl.col("source").is_not_null()).select("source", "act_class", "n_records")
    n_persons = int(persons["n_persons"].sum()) or 1
    report: list[Parameter] = []
    rows = []
    for (source,), g in recs.group_by("source", maintain_order=True):
        n_records = int(g["n_records"].sum())
        mean = n_records / n_persons
        if mean <= 0:
            continue
        j = persons.join(g, on="act_class", how="left").with_columns(pl.col("n_records").fill_null(0))
        ratio = (pl.col("n_records") + prior_records) / (pl.col("n_persons") * mean + prior_records)
        j = j.with_columns(ratio.log(2).clip(-cap, cap).alias("bits"))
        rows.append(j.select(pl.lit(source).alias("source"), pl.col("act_class").cast(pl.Int32), "bits"))
        b = j["bits"]
        report.append(Parameter(f"activity.{source}.classes", float(j.height), None, n_records))
        report.append(Parameter(f"activity.{source}.min_bits", float(b.min()), None, n_records))
        report.append(Parameter(f"activity.{source}.max_bits", float(b.max()), None, n_records))
    if rows:
        wh.put("lk_est_activity", pl.concat(rows))
    return report


def as_dicts(report: list[Parameter]) -> list[dict[str, object]]:
    return [asdict(p) for p in report]
