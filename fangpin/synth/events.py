"""Clean department events: planted risk scenarios and harmless background, before any noise.

One clean event = one thing that happened (a hospital settlement, a damaged house, an aid decision, a job event).
A department *record* is a row in a file; a duplicated event (``duplicate_event``) has two records, one event.

Planted scenarios (``SCENARIOS``) choose households, adjust the registry facts a scenario needs (household type,
monitoring status, labour, 低保 status) and plant events whose amounts are kept clearly away from every threshold
(no household within ±5% of a threshold, the monitoring line or the 50% hardship share), so that the truth does
not depend on tie-breaking. Background events are harmless by construction: small bills (≤ 3 per person, each
below a third of the smaller medical threshold), minor disaster losses (≤ 85% of the disaster threshold, at most
one per household in the window), 续保 renewals of aid the registry shows, 新增 低保边缘, 临时救助 for households
already monitored, 就业 registrations, and job losses older than the window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from fangpin.synth import vocab
from fangpin.synth.population import EPOCH, HEAD, City

FEEDS = ("medical", "disaster", "civil_affairs", "employment")

#: Planted scenarios. ``risk``: planned at-risk; ``rate``: share of households; ``pool``: eligibility;
#: ``comps``: {combination: probability}; combination = "+"-joined components with their mode;
#: ``mon``: monitoring status forced (none / active / eliminated / None = keep); ``htype``: household type forced;
#: ``outcome``: how base income and event dates are set (see :func:`_set_base`).
SCENARIOS: dict[str, dict] = {
    # ---- at risk
    "illness_tuopin": dict(
        risk=True, rate=0.0025, comps={"med:lenient": 1}, mon="none", htype="脱贫户", outcome="below"
    ),
    "illness_general": dict(
        risk=True, rate=0.002, comps={"med:strict": 1}, mon="none", htype="一般农户", outcome="below"
    ),
    "disaster_collapse": dict(risk=True, rate=0.0015, comps={"dis:collapse": 1}, mon="none", outcome="below"),
    "disaster_loss": dict(risk=True, rate=0.001, comps={"dis:loss": 1}, mon="none", outcome="below"),
    "job_loss": dict(risk=True, rate=0.002, pool="labourer", comps={"job": 1}, mon="none", outcome="below"),
    "new_aid": dict(risk=True, rate=0.0015, comps={"civ:new": 1}, mon="none", outcome="below"),
    "severe_hardship": dict(
        risk=True,
        rate=0.001,
        pool="size2",
        comps={"med:strict": 0.5, "dis:collapse": 0.3, "med:strict+dis:collapse": 0.2},
        mon="none",
        outcome="severe",
    ),
    "monitored_new_risk": dict(
        risk=True,
        rate=0.002,
        comps={"med:stay": 0.35, "med:lenient": 0.2, "dis:collapse": 0.2, "job": 0.25},
        mon="active",
        outcome="monitored",
    ),
    "eliminated_again": dict(
        risk=True,
        rate=0.0012,
        comps={"med:strict": 0.3, "dis:collapse": 0.25, "job": 0.25, "civ:new+med:strict": 0.2},
        mon="eliminated",
        outcome="below",
    ),
    "no_labour": dict(
        risk=True,
        rate=0.001,
        pool="small",
        comps={"med:strict": 0.4, "dis:collapse": 0.3, "civ:new": 0.3},
        mon="none",
        labour="none",
        outcome="below",
    ),
    "multi_signal": dict(
        risk=True,
        rate=0.0015,
        pool="labourer2",
        comps={
            "med:strict+dis:collapse": 0.3,
            "med:strict+job": 0.2,
            "dis:loss+civ:new": 0.15,
            "job+civ:new": 0.15,
            "med:strict+dis:loss+job": 0.2,
        },
        mon="none",
        outcome="below",
    ),
    "relocated_risk": dict(
        risk=True, rate=0.0008, pool="relocated", comps={"med:strict": 0.5, "job": 0.5}, mon="none", outcome="below"
    ),
    # ---- not at risk (traps for the rules engine)
    "signal_above_line": dict(
        risk=False,
        rate=0.01,
        comps={"med:strict": 0.4, "dis:loss": 0.2, "dis:collapse": 0.1, "job": 0.3},
        mon="not_active",
        outcome="above",
    ),
    "outside_window": dict(
        risk=False, rate=0.004, comps={"med:strict": 0.4, "dis:collapse": 0.3, "job": 0.3}, outcome="outdated"
    ),
    "medical_below_threshold": dict(
        risk=False, rate=0.002, comps={"med:under": 1}, mon="none", htype="一般农户", outcome="low"
    ),
    "duplicate_trap": dict(
        risk=False, rate=0.0008, comps={"med:duptrap": 1}, mon="none", htype="一般农户", outcome="duptrap"
    ),
    "monitored_aid_no_signal": dict(
        risk=False, rate=0.0008, comps={"civ:new": 1}, mon="active", outcome="monitored_quiet"
    ),
    "aid_not_qualifying": dict(risk=False, rate=0.0015, comps={"civ:edge": 1}, mon="none", outcome="poor"),
    "below_line_no_signal": dict(risk=False, rate=0.001, comps={"": 1}, mon="none", outcome="poor"),
    "no_labour_no_signal": dict(
        risk=False, rate=0.001, pool="small", comps={"": 1}, mon="none", labour="none", outcome="natural"
    ),
}
ASSIGN_ORDER = (
    "relocated_risk",
    "no_labour",
    "no_labour_no_signal",
    "severe_hardship",
    "multi_signal",
    "job_loss",
) + tuple(
    s
    for s in SCENARIOS
    if s not in {"relocated_risk", "no_labour", "no_labour_no_signal", "severe_hardship", "multi_signal", "job_loss"}
)


@dataclass
class Rules:
    line: float
    med_share_lenient: float  # yuan: share × rural disposable income
    med_share_strict: float
    stay_lenient: float
    stay_strict: float
    disaster_loss: float
    wage_months: int
    hardship_share: float
    max_types: int

    @classmethod
    def from_config(cls, r: dict) -> Rules:
        inc = float(r["rural_disposable_income_last_year"])
        return cls(
            line=float(r["monitoring_line"]),
            med_share_lenient=float(r["medical_share_monitored"]) * inc,
            med_share_strict=float(r["medical_share_other"]) * inc,
            stay_lenient=float(r["medical_single_stay_monitored"]),
            stay_strict=float(r["medical_single_stay_other"]),
            disaster_loss=float(r["disaster_loss_threshold"]),
            wage_months=int(r["lost_wage_months"]),
            hardship_share=float(r["severe_hardship_share"]),
            max_types=int(r["max_risk_types"]),
        )


@dataclass
class Window:
    """All dates as days since 1970-01-01."""

    ref: int
    start: int  # ref − 12 months: evidence counts for start ≤ d < ref
    extract_start: int  # ref − 15 months: the oldest extract (entirely outside the window)

    @classmethod
    def for_ref(cls, ref: dt.date) -> Window:
        def minus_months(d: dt.date, m: int) -> dt.date:
            y, mm = divmod(d.year * 12 + d.month - 1 - m, 12)
            return dt.date(y, mm + 1, 1)

        days = lambda d: (d - EPOCH).days  # noqa: E731
        return cls(days(ref), days(minus_months(ref, 12)), days(minus_months(ref, 15)))

    @property
    def inside(self) -> tuple[int, int]:
        return self.start + 10, self.ref - 10

    @property
    def outdated(self) -> tuple[int, int]:
        return self.extract_start + 5, self.start - 25

    @property
    def overlap(self) -> tuple[int, int]:
        """Period of the supplementary extracts that overlap the last quarter's (duplicates live here)."""
        return self.ref - 61, self.ref - 1

    def episodes(self) -> list[tuple[str, int, int, bool]]:
        """Disaster episodes: (type, first day, last day, inside the window), one in each quarter of the extracts
        (the round's quarter Q: Q−4 … Q), so that no quarter holds two and a village's history is even."""
        r, s = self.ref, self.start
        return [
            ("洪涝", self.extract_start + 10, s - 25, False),
            ("旱灾", s + 15, s + 75, True),
            ("风雹", r - 260, r - 200, True),
            ("洪涝", r - 170, r - 110, True),
            ("地质灾害", r - 80, r - 20, True),
        ]


def _u(rng, lo, hi, n):
    return lo + (hi - lo) * rng.random(n)


def _first_per_group(groups: np.ndarray, key: np.ndarray, k: int = 1) -> list[np.ndarray]:
    """Indices of the k smallest keys per group (groups need not be sorted). Returns k arrays (−1 when missing)."""
    order = np.lexsort((key, groups))
    g = groups[order]
    start = np.r_[True, g[1:] != g[:-1]]
    rank = np.arange(len(g)) - np.maximum.accumulate(np.where(start, np.arange(len(g)), 0))
    out = []
    for r in range(k):
        out.append(order[rank == r])
    return out


# =============================================================================================== planting

VISITS = ("住院", "门诊慢特病")
DAMAGES = ("倒塌", "严重损坏", "一般损坏", "无")
AIDS = ("农村低保", "农村特困", "临时救助", "低保边缘")
STATUSES = ("新增", "续保", "停发")
EMP_EVENTS = ("失业登记", "返乡", "务工中断", "就业")
CATEGORIES = (None, "脱贫不稳定户", "边缘易致贫户", "突发严重困难户", "监测户新增风险")
SCENARIO_NAMES = ("",) + tuple(SCENARIOS)


def _month_index(days: int) -> int:
    d = EPOCH + dt.timedelta(days=int(days))
    return d.year * 12 + d.month - 1


class Planter:
    """Chooses the planted households, adjusts their registry facts (as integer codes) and emits their events."""

    def __init__(self, rng: np.random.Generator, city: City, rules: Rules, win: Window, spec: dict):
        self.rng, self.city, self.rules, self.win, self.spec = rng, city, rules, win, spec
        hh, p = city.households, city.persons
        self.n_hh = len(hh)
        self.size = hh["household_size"].to_numpy()
        self.offset = np.cumsum(self.size) - self.size
        self.p_hh = p["hh_idx"].to_numpy()
        self.p_age = p["age"].to_numpy()
        # mutable registry facts (codes; written back by apply())
        self.htype = hh["htype_code"].to_numpy().copy()
        self.mcat = hh["mcat_code"].to_numpy().copy()
        self.elim = hh["elim_code"].to_numpy().copy()
        self.ident = hh["ident_m"].to_numpy().copy()
        self.elim_m = hh["elim_m"].to_numpy().copy()
        self.base = hh["base_per_capita_income"].to_numpy().copy()
        self.dibao_hh = hh["dibao_hh"].to_numpy().copy()
        self.labour = p["labour_code"].to_numpy().copy()
        self.health = p["health_code"].to_numpy().copy()
        self.patient = np.zeros(len(self.health), dtype=bool)  # has a planted large medical bill: stays ill
        self.student = p["student_code"].to_numpy().copy()
        self.dibao = p["dibao_code"].to_numpy().copy()
        self.tekun = p["tekun_code"].to_numpy().copy()
        self.scenario = np.zeros(self.n_hh, dtype=np.int64)
        self.category = np.zeros(self.n_hh, dtype=np.int64)
        self.events: dict[str, list[dict]] = {f: [] for f in FEEDS}

    # ------------------------------------------------------------------ selection
    def _labourer_ok(self) -> np.ndarray:
        return (self.p_age >= 18) & (self.p_age <= 55)

    def assign(self) -> None:
        rng = self.rng
        lab_count = np.bincount(self.p_hh, weights=self._labourer_ok(), minlength=self.n_hh)
        relocated = self.city.households["relocated"].to_numpy()
        pools = {
            None: np.ones(self.n_hh, dtype=bool),
            "labourer": lab_count >= 1,
            "labourer2": (lab_count >= 1) & (self.size >= 2),
            "size2": self.size >= 2,
            "small": self.size <= 3,
            "relocated": relocated,
        }
        free = np.ones(self.n_hh, dtype=bool)
        min_count = self.spec.get("min_scenario", 1)
        for name in ASSIGN_ORDER:
            sc = SCENARIOS[name]
            want = max(min_count, int(round(sc["rate"] * self.n_hh)))
            pool = np.flatnonzero(pools[sc.get("pool")] & free)
            if len(pool) == 0:
                continue
            chosen = np.sort(rng.choice(pool, size=min(want, len(pool)), replace=False))
            free[chosen] = False
            self.scenario[chosen] = SCENARIO_NAMES.index(name)
            self._plant(sc, chosen)

    def _members(self, hs: np.ndarray) -> np.ndarray:
        k = self.size[hs]
        within = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
        return np.repeat(self.offset[hs], k) + within

    # ------------------------------------------------------------------ registry overrides
    def _clear_monitoring(self, hs: np.ndarray) -> None:
        self.mcat[hs], self.elim[hs], self.ident[hs], self.elim_m[hs] = 0, 0, -1, -1

    def _override(self, sc: dict, hs: np.ndarray) -> None:
        rng, n = self.rng, len(hs)
        if sc.get("htype"):
            self.htype[hs] = vocab.HTYPES.index(sc["htype"])
        mon = sc.get("mon")
        rm = _month_index(self.win.ref)
        if mon == "not_active":
            self._clear_monitoring(hs[(self.mcat[hs] != 0) & (self.elim[hs] == 1)])
        elif mon == "none":
            self._clear_monitoring(hs)
        elif mon in ("active", "eliminated"):
            sudden = rng.random(n) < 0.15
            self.mcat[hs] = np.where(sudden, 3, np.where(self.htype[hs] == 1, 1, 2))
            if mon == "active":
                self.ident[hs] = rm - 3 - rng.integers(0, 40, n)
                self.elim[hs], self.elim_m[hs] = 1, -1
            else:
                self.ident[hs] = rm - 12 - rng.integers(0, 40, n)
                self.elim[hs], self.elim_m[hs] = 2, self.ident[hs] + 6 + rng.integers(0, 6, n)
        if sc.get("labour") == "none":
            members = self._members(hs)
            age = self.p_age[members]
            u = rng.random(len(members))
            self.labour[members] = np.where(age < 16, 4, np.where(u < 0.7, 3, 4))
            healthy = (age >= 16) & (self.health[members] == 0)
            self.health[members[healthy]] = np.where(u[healthy] < 0.5, 1, np.where(u[healthy] < 0.8, 3, 2))

    def _pick_labourers(self, hs: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One or two labourers (18–55) per household; returns (pid1, pid2 or −1). Gives them labour capacity."""
        members = self._members(hs)
        m = members[self._labourer_ok()[members]]
        first, second = _first_per_group(self.p_hh[m], self.rng.random(len(m)), 2)
        a1 = np.full(self.n_hh, -1, dtype=np.int64)
        a2 = np.full(self.n_hh, -1, dtype=np.int64)
        a1[self.p_hh[m[first]]] = m[first]
        a2[self.p_hh[m[second]]] = m[second]
        pid1 = a1[hs]
        pid2 = np.where(k == 2, a2[hs], -1)
        chosen = np.concatenate([pid1[pid1 >= 0], pid2[pid2 >= 0]])
        lacks = self.labour[chosen] > 2
        self.labour[chosen[lacks]] = np.where(self.rng.random(int(lacks.sum())) < 0.6, 1, 0)
        sick = chosen[lacks & (self.health[chosen] >= 2) & ~self.patient[chosen]]
        self.health[sick] = 0
        self.student[chosen] = 0
        return pid1, pid2

    def _pick_patient(self, hs: np.ndarray) -> np.ndarray:
        members = self._members(hs)
        age = self.p_age[members]
        w = np.where(age >= 40, 3.0, np.where(age >= 16, 1.5, np.where(age >= 2, 0.5, 1e-9)))
        key = -np.log(self.rng.random(len(members))) / w
        (first,) = _first_per_group(self.p_hh[members], key, 1)
        a = np.full(self.n_hh, -1, dtype=np.int64)
        a[self.p_hh[members[first]]] = members[first]
        return a[hs]

    # ------------------------------------------------------------------ one scenario
    def _plant(self, sc: dict, hs: np.ndarray) -> None:
        rng, R, n = self.rng, self.rules, len(hs)
        self._override(sc, hs)
        combos = list(sc["comps"])
        p = np.array(list(sc["comps"].values()), dtype=float)
        combo = np.array(combos, dtype=object)[rng.choice(len(combos), size=n, p=p / p.sum())]
        # a job component needs a labourer: otherwise fall back to a medical one
        lab_count = np.bincount(self.p_hh, weights=self._labourer_ok(), minlength=self.n_hh)[hs]
        no_lab = (lab_count < 1) & np.array(["job" in c for c in combo])
        fallback = "med:stay" if sc.get("mon") == "active" else "med:strict"
        combo[no_lab] = [c.replace("job", fallback) for c in combo[no_lab]]
        comps = [dict(part.split(":") if ":" in part else (part, "") for part in c.split("+") if part) for c in combo]
        has = {k: np.array([k in c for c in comps], dtype=bool) for k in ("med", "dis", "job", "civ")}
        mode = {k: np.array([c.get(k, "") for c in comps], dtype=object) for k in ("med", "dis", "civ")}

        # raw amounts (yuan)
        med_mode = mode["med"]
        O = np.zeros(n)
        O = np.where(med_mode == "lenient", _u(rng, 1.1 * R.med_share_lenient, 0.9 * R.med_share_strict, n), O)
        O = np.where(med_mode == "strict", _u(rng, 1.1 * R.med_share_strict, 2.5 * R.med_share_strict, n), O)
        O = np.where(
            med_mode == "stay", _u(rng, 1.1 * R.stay_lenient, 0.9 * min(R.stay_strict, R.med_share_lenient), n), O
        )
        O = np.where(med_mode == "under", _u(rng, 1.1 * R.med_share_lenient, 0.9 * R.med_share_strict, n), O)
        loss = np.zeros(n)
        loss = np.where(mode["dis"] == "collapse", _u(rng, 20000, 90000, n), loss)
        loss = np.where(mode["dis"] == "loss", _u(rng, 1.2 * R.disaster_loss, 5 * R.disaster_loss, n), loss)
        two = has["job"] & (rng.random(n) < 0.2) & (lab_count >= 2)
        m1 = np.where(has["job"], np.round(_u(rng, 2600, 6500, n), -2), 0.0)
        m2 = np.where(two, np.round(_u(rng, 2600, 6500, n), -2), 0.0)

        size = self.size[hs].astype(float)
        L = R.line
        outcome = sc["outcome"]
        base = self.base[hs].copy()

        def deduction():
            return O + loss + R.wage_months * (m1 + m2)

        D = deduction()
        if outcome in ("below", "outdated"):
            civ_only = has["civ"] & (D == 0) if outcome == "below" else np.zeros(n, dtype=bool)
            need = 0.25 * L * size
            f = np.where((D > 0) & (D < need), need / np.maximum(D, 1) * _u(rng, 1.05, 1.4, n), 1.0)
            f = np.where(med_mode == "stay", 1.0, f)
            O, loss, m1, m2 = O * f, loss * f, np.round(m1 * f, -1), np.round(m2 * f, -1)
            D = deduction()
            per = D / size
            lo = np.maximum(1.08 * L, 0.2 * L + per)
            hi = np.maximum(lo, np.minimum(1.5 * L, 0.85 * L + per))
            big = per > 1.3 * L
            lo = np.where(big, per + 0.2 * L, lo)
            hi = np.where(big, per + 0.85 * L, hi)
            base = _u(rng, lo, hi, n)
            base = np.where(civ_only, L * _u(rng, 0.5, 0.85, n), base)
        elif outcome == "severe":
            r = _u(rng, 0.56, 0.68, n)
            base = L * _u(rng, 3.4, 4.5, n)
            target = r * base * size
            both = has["med"] & has["dis"]
            O = np.where(both, np.maximum(1.1 * R.med_share_strict, 0.5 * target), np.where(has["med"], target, 0.0))
            loss = np.where(has["dis"], target - O, 0.0)
        elif outcome in ("monitored", "monitored_quiet"):
            close = np.abs(base - D / size - L) < 0.1 * L
            base = np.where(close, base + 0.25 * L, base)
        elif outcome == "above":
            per = D / size
            base = np.maximum.reduce(
                [L * _u(rng, 2.2, 3.5, n), D / (0.38 * size), per + 1.15 * L * _u(rng, 1.0, 1.3, n)]
            )
        elif outcome == "low":
            base = L * _u(rng, 1.1, 1.4, n)
        elif outcome == "duptrap":
            base = L * _u(rng, 1.15, 1.4, n)
        elif outcome == "poor":
            base = L * _u(rng, 0.55, 0.88, n)
        self.base[hs] = np.round(base, 2)

        if sc["risk"]:
            if outcome == "severe":
                self.category[hs] = 3
            elif outcome == "monitored":
                self.category[hs] = 4
            elif outcome == "below":
                self.category[hs] = np.where(self.htype[hs] == 1, 1, 2)

        dated = "out" if outcome == "outdated" else "in"
        if has["med"].any():
            sel = has["med"]
            self._emit_medical(hs[sel], O[sel], med_mode[sel], dated)
        if has["dis"].any():
            sel = has["dis"]
            self._emit_disaster(hs[sel], loss[sel], mode["dis"][sel], dated)
        if has["job"].any():
            sel = has["job"]
            pid1, pid2 = self._pick_labourers(hs[sel], np.where(two[sel], 2, 1))
            self._emit_jobs(pid1, m1[sel], dated)
            if (pid2 >= 0).any():
                self._emit_jobs(pid2[pid2 >= 0], m2[sel][pid2 >= 0], dated)
        if has["civ"].any():
            sel = has["civ"]
            self._emit_civil(hs[sel], mode["civ"][sel], dated)

    # ------------------------------------------------------------------ emitters
    def _emit_medical(self, hs, O, mode, dated) -> None:
        rng = self.rng
        n = len(hs)
        patient = self._pick_patient(hs)
        big = np.isin(mode, ["strict", "lenient", "stay"])
        # the registry shows the patient of a large bill as 患有大病 (a 残疾 patient too: the registry holds one
        # health status, and a household at risk 因病 has an ill member — registry check R31)
        healthy = patient[big & ~np.isin(self.health[patient], [1, 2])]
        self.health[healthy] = 2
        self.patient[patient[big]] = True
        k = np.select(
            [mode == "stay", mode == "under", mode == "duptrap"],
            [1, np.ceil(O / 7000).astype(int), 2],
            default=rng.choice([1, 2, 3], size=n, p=[0.4, 0.35, 0.25]),
        )
        rows = np.repeat(np.arange(n), k)
        if len(rows) == 0:
            return
        shares = np.where(mode[rows] == "under", _u(rng, 0.9, 1.1, len(rows)), rng.gamma(2.5, size=len(rows)))
        tot = np.bincount(rows, weights=shares, minlength=n)
        oop = O[rows] * shares / tot[rows]
        duptrap = mode[rows] == "duptrap"
        oop = np.where(duptrap, _u(rng, 5400, 8000, len(rows)), oop)
        first = np.r_[True, rows[1:] != rows[:-1]]
        visit = np.where(first | (oop > 5000) | (rng.random(len(rows)) < 0.6), 0, 1)
        lo, hi = self.win.inside if dated == "in" else self.win.outdated
        days = rng.integers(lo, hi + 1, len(rows))
        days = np.where(duptrap, rng.integers(self.win.ref - 55, self.win.ref - 12 + 1, len(rows)), days)
        hh = hs[rows]
        ev = _medical_amounts(rng, oop, visit, self._aid_eligible(hh))
        ev.update(
            pid=patient[rows],
            hh_idx=hh,
            date=days,
            visit_type=vocab.lut(VISITS, visit),
            institution=_institutions(rng, self.city, hh, big=True),
            diagnosis=vocab.lut(vocab.DIAGNOSES_MAJOR, rng.integers(0, len(vocab.DIAGNOSES_MAJOR), len(rows))),
            planted=np.ones(len(rows), bool),
            force_dup=duptrap,
        )
        self.events["medical"].append(ev)

    def _aid_eligible(self, hh: np.ndarray) -> np.ndarray:
        return (self.htype[hh] == 1) | (self.mcat[hh] != 0) | self.dibao_hh[hh]

    def _emit_disaster(self, hs, loss, mode, dated) -> None:
        rng = self.rng
        n = len(hs)
        all_eps = self.win.episodes()
        ep_ids = np.array([i for i, e in enumerate(all_eps) if e[3] == (dated == "in")])
        ep = ep_ids[rng.integers(0, len(ep_ids), n)]
        lo = np.array([e[1] for e in all_eps])[ep]
        hi = np.array([e[2] for e in all_eps])[ep]
        dtype = np.array([vocab.DISASTER_TYPES.index(e[0]) for e in all_eps])[ep]
        damage = np.where(mode == "collapse", np.where(rng.random(n) < 0.5, 0, 1), np.where(rng.random(n) < 0.7, 2, 3))
        self.events["disaster"].append(
            dict(
                pid=self.offset[hs],
                hh_idx=hs,
                date=rng.integers(lo, hi + 1),
                disaster_type=vocab.lut(vocab.DISASTER_TYPES, dtype),
                house_damage=vocab.lut(DAMAGES, damage),
                loss_c=np.round(loss * 100).astype(np.int64),
                episode=ep.astype(np.int64),
                planted=np.ones(n, bool),
                force_dup=np.zeros(n, bool),
            )
        )

    def _emit_jobs(self, pids, m, dated) -> None:
        rng = self.rng
        n = len(pids)
        lo, hi = self.win.inside if dated == "in" else self.win.outdated
        self.events["employment"].append(
            dict(
                pid=pids,
                hh_idx=self.p_hh[pids],
                date=rng.integers(lo, hi + 1, n),
                event=vocab.lut(EMP_EVENTS, rng.integers(0, 3, n)),
                workplace=_workplaces(rng, n),
                prev_income_c=np.round(m * 100).astype(np.int64),
                planted=np.ones(n, bool),
                force_dup=np.zeros(n, bool),
            )
        )

    def _emit_civil(self, hs, mode, dated) -> None:
        rng = self.rng
        n = len(hs)
        head = self.offset[hs]
        single_old = (self.size[hs] == 1) & (self.p_age[head] >= 60)
        aid = np.where(
            mode == "edge", 3, np.where(single_old & (rng.random(n) < 0.7), 1, np.where(rng.random(n) < 0.6, 0, 2))
        )
        # newly granted: the registry does not show it yet
        self.dibao[self._members(hs[aid == 0])] = 0
        self.dibao_hh[hs[aid == 0]] = False
        self.tekun[head[aid == 1]] = 0
        self.dibao[head[aid == 1]] = 0
        lo, hi = self.win.inside if dated == "in" else self.win.outdated
        self.events["civil_affairs"].append(
            dict(
                pid=head,
                hh_idx=hs,
                date=rng.integers(lo, hi + 1, n),
                aid_type=vocab.lut(AIDS, aid),
                status=vocab.lut(STATUSES, np.zeros(n, dtype=np.int64)),
                amount_c=_aid_amounts(rng, aid),
                planted=np.ones(n, bool),
                force_dup=np.zeros(n, bool),
            )
        )

    # ------------------------------------------------------------------ results
    def apply(self) -> City:
        from fangpin.synth.population import with_household_text, with_person_text

        c = self.city
        hh = c.households.with_columns(
            htype_code=pl.Series(self.htype),
            mcat_code=pl.Series(self.mcat),
            elim_code=pl.Series(self.elim),
            ident_m=pl.Series(self.ident),
            elim_m=pl.Series(self.elim_m),
            base_per_capita_income=pl.Series(self.base),
            dibao_hh=pl.Series(self.dibao_hh),
            scenario=vocab.lut(SCENARIO_NAMES, self.scenario),
            planned_category=vocab.lut(CATEGORIES, self.category),
        )
        p = c.persons.with_columns(
            labour_code=pl.Series(self.labour),
            health_code=pl.Series(self.health),
            student_code=pl.Series(self.student),
            dibao_code=pl.Series(self.dibao),
            tekun_code=pl.Series(self.tekun),
        )
        return City(c.villages, with_household_text(hh), with_person_text(p), c.outsiders, c.ref_date)


# =============================================================================================== helpers


def _medical_amounts(rng, oop_yuan: np.ndarray, visit: np.ndarray, aid_ok: np.ndarray) -> dict:
    """Integer cents with total = fund + critical + aid + out_of_pocket exactly. visit: 0 住院, 1 门诊慢特病."""
    n = len(oop_yuan)
    oop = np.round(oop_yuan * 100).astype(np.int64)
    share = np.where(visit == 0, _u(rng, 0.18, 0.42, n), _u(rng, 0.2, 0.45, n))
    total = np.round(oop / share).astype(np.int64)
    rest = total - oop
    crit = np.where((visit == 0) & (total > 3_000_000), np.floor(rest * _u(rng, 0.15, 0.3, n)), 0).astype(np.int64)
    aid = np.where(aid_ok, np.floor((rest - crit) * _u(rng, 0.03, 0.1, n)), 0).astype(np.int64)
    fund = total - oop - crit - aid
    return dict(total_c=total, fund_c=fund, crit_c=crit, aid_c=aid, oop_c=oop)


def _institutions(rng, city: City, hh: np.ndarray, big: bool) -> pl.Series:
    n = len(hh)
    county = city.households["county"].gather(hh)
    town = city.households["township"].gather(hh)
    u = rng.random(n)
    county_h = county + vocab.lut(("人民医院", "中医医院"), (rng.random(n) >= 0.75).astype(np.int64))
    town_h = county + town + vocab.lut(("卫生院", "中心卫生院"), (rng.random(n) >= 0.5).astype(np.int64))
    city_h = vocab.lut(vocab.CITY_HOSPITALS, rng.integers(0, len(vocab.CITY_HOSPITALS), n))
    prov_h = vocab.lut(vocab.PROVINCE_HOSPITALS, rng.integers(0, len(vocab.PROVINCE_HOSPITALS), n))
    df = pl.DataFrame({"u": u, "c": county_h, "t": town_h, "y": city_h, "p": prov_h})
    if big:
        e = pl.when(pl.col("u") < 0.5).then("y").when(pl.col("u") < 0.8).then("p").otherwise("c")
    else:
        e = pl.when(pl.col("u") < 0.4).then("t").when(pl.col("u") < 0.85).then("c").otherwise("y")
    return df.select(e.alias("institution")).to_series()


def _workplaces(rng, n: int) -> pl.Series:
    return (
        vocab.lut(vocab.WORK_PLACES, rng.integers(0, len(vocab.WORK_PLACES), n))
        + vocab.lut(vocab.COMPANY_WORDS, rng.integers(0, len(vocab.COMPANY_WORDS), n))
        + vocab.lut(vocab.COMPANY_KINDS, rng.integers(0, len(vocab.COMPANY_KINDS), n))
    )


def _aid_amounts(rng, aid: np.ndarray) -> np.ndarray:
    """aid: codes into AIDS."""
    n = len(aid)
    yuan = np.select(
        [aid == 0, aid == 1, aid == 2],
        [
            np.round(_u(rng, 400, 1500, n), -1),
            np.round(_u(rng, 700, 1000, n), -1),
            np.round(_u(rng, 1000, 6000, n), -2),
        ],
        default=np.round(_u(rng, 200, 600, n), -1),
    )
    return (yuan * 100).astype(np.int64)


# =============================================================================================== background


def background(rng: np.random.Generator, city: City, rules: Rules, win: Window, spec: dict) -> dict[str, list[dict]]:
    """Harmless events of households that carry no planted scenario (see module docstring)."""
    hh, p = city.households, city.persons
    planted = (hh["scenario"] != "").to_numpy()
    p_hh = p["hh_idx"].to_numpy()
    free_p = ~planted[p_hh]
    age = p["age"].to_numpy()
    health = p["health_code"].to_numpy()
    labour = p["labour_code"].to_numpy()
    out: dict[str, list[dict]] = {f: [] for f in FEEDS}
    lo_all, hi_all = win.extract_start, win.ref - 1
    rate = spec.get("event_rate", 1.0)
    size = hh["household_size"].to_numpy()
    head = np.cumsum(size) - size

    # ---- medical: ≤ 3 small bills per person
    lam = (0.36 + 0.012 * np.maximum(age - 30, 0) + 0.5 * (health == 1) + 0.6 * (health == 2)) * 1.25 * rate
    k = np.minimum(rng.poisson(lam), 3) * free_p
    pid = np.repeat(np.arange(len(p)), k)
    n = len(pid)
    chronic = (health[pid] == 1) | (health[pid] == 2)
    visit = np.where(rng.random(n) < np.where(chronic, 0.3, 0.6), 0, 1)
    cap_event = min(rules.med_share_lenient / 3, rules.stay_lenient * 0.35)
    total = np.where(
        visit == 0,
        np.clip(np.exp(rng.normal(np.log(5000), 0.6, n)), 800, 40000),
        np.clip(np.exp(rng.normal(np.log(600), 0.7, n)), 80, 5000),
    )
    oop = np.where(
        visit == 0,
        np.minimum(total * _u(rng, 0.08, 0.25, n), cap_event),
        np.minimum(total * _u(rng, 0.15, 0.4, n), min(800.0, cap_event)),
    )
    hh_of = p_hh[pid]
    aid_ok = ((hh["htype_code"] == 1) | (hh["mcat_code"] != 0) | hh["dibao_hh"]).to_numpy()[hh_of]
    ev = _medical_amounts(rng, oop, visit, aid_ok)
    birth = p["birth_days"].to_numpy()[pid]
    date = rng.integers(lo_all, hi_all + 1, n)
    early = date < birth + 7
    date = np.where(early, rng.integers(np.minimum(np.maximum(lo_all, birth + 7), hi_all), hi_all + 1), date)
    ev.update(
        pid=pid,
        hh_idx=hh_of,
        date=date,
        visit_type=vocab.lut(VISITS, visit),
        institution=_institutions(rng, city, hh_of, big=False),
        diagnosis=vocab.lut(vocab.DIAGNOSES_MINOR, rng.integers(0, len(vocab.DIAGNOSES_MINOR), n)),
        planted=np.zeros(n, bool),
        force_dup=np.zeros(n, bool),
    )
    out["medical"].append(ev)

    # ---- disaster: episodes hit some villages; ≤ 1 minor report per household inside the window
    v_of_hh = hh["village_idx"].to_numpy()
    n_v = len(city.villages)
    frac = spec.get("disaster_village_share", 0.12)
    seen_inside = np.zeros(len(hh), dtype=bool)
    # the same villages (low-lying, on a slope) are hit by every episode, so that each has a disaster history and no
    # quiet village suddenly reports many households: the only clusters are the planted surges (surges.py)
    hit_v = rng.random(n_v) < frac
    if not hit_v.any():
        hit_v[rng.integers(0, n_v)] = True
    share, k = 0.2 * rate, 0  # each episode reports about this share of a hit village's households
    for e_i, (dname, lo, hi, inside) in enumerate(win.episodes()):
        if inside:  # ≤ 1 report per household inside the window: draw among those not reported yet
            p_hit = min(1.0, share / max(1.0 - share * k, share))
            hit = hit_v[v_of_hh] & ~planted & ~seen_inside & (rng.random(len(hh)) < p_hit)
            seen_inside |= hit
            k += 1
        else:
            hit = hit_v[v_of_hh] & ~planted & (rng.random(len(hh)) < share)
        hs = np.flatnonzero(hit)
        n = len(hs)
        loss = np.clip(np.exp(rng.normal(np.log(1500), 0.7, n)), 200, 0.85 * rules.disaster_loss)
        out["disaster"].append(
            dict(
                pid=head[hs],
                hh_idx=hs,
                date=rng.integers(lo, hi + 1, n),
                disaster_type=vocab.lut(vocab.DISASTER_TYPES, np.full(n, vocab.DISASTER_TYPES.index(dname))),
                house_damage=vocab.lut(DAMAGES, np.where(rng.random(n) < 0.4, 2, 3)),
                loss_c=np.round(loss * 100).astype(np.int64),
                episode=np.full(n, e_i, dtype=np.int64),
                planted=np.zeros(n, bool),
                force_dup=np.zeros(n, bool),
            )
        )

    # ---- civil affairs: renewals of aid the registry shows, 低保边缘, 临时救助 for monitored households
    dibao_p = (p["dibao_code"] == 1).to_numpy() & (p["role"] == HEAD).to_numpy() & free_p
    tekun_p = (p["tekun_code"] == 1).to_numpy() & free_p
    recv = np.flatnonzero(dibao_p | tekun_p)
    q_edges = [win.extract_start + int(round(i * (win.ref - win.extract_start) / 5)) for i in range(6)]

    def civil(pids, hs, dates, aid, status, amount=None) -> dict:
        m = len(pids)
        return dict(
            pid=pids,
            hh_idx=hs,
            date=dates,
            aid_type=vocab.lut(AIDS, aid),
            status=vocab.lut(STATUSES, status),
            amount_c=_aid_amounts(rng, aid) if amount is None else amount,
            planted=np.zeros(m, bool),
            force_dup=np.zeros(m, bool),
        )

    # a recipient's monthly amount stays the same from quarter to quarter
    recv_amount = np.zeros(len(p), dtype=np.int64)
    recv_amount[recv] = _aid_amounts(rng, np.where(tekun_p[recv], 1, 0))
    for qi in range(5):
        present = recv[rng.random(len(recv)) < 0.9 * min(rate, 1.0)]
        n = len(present)
        out["civil_affairs"].append(
            civil(
                present,
                p_hh[present],
                rng.integers(q_edges[qi], q_edges[qi + 1], n),
                np.where(tekun_p[present], 1, 0),
                np.where(rng.random(n) < 0.04, 2, 1),
                recv_amount[present],
            )
        )
    # the original grant, before the window (consistent with the registry showing the aid)
    old = recv[rng.random(len(recv)) < 0.08]
    lo, hi = win.outdated
    out["civil_affairs"].append(
        civil(
            old,
            p_hh[old],
            rng.integers(lo, hi + 1, len(old)),
            np.where(tekun_p[old], 1, 0),
            np.zeros(len(old), dtype=np.int64),
        )
    )
    hh_free = np.flatnonzero(~planted)
    mcat = hh["mcat_code"].to_numpy()[hh_free]
    not_mon = (mcat == 0) & ~hh["dibao_hh"].to_numpy()[hh_free]
    edge = hh_free[not_mon & (rng.random(len(hh_free)) < 0.005 * rate)]
    active = (mcat != 0) & (hh["elim_code"].to_numpy()[hh_free] == 1)
    temp = hh_free[active & (rng.random(len(hh_free)) < 0.1)]
    for hs, aid_code in ((edge, 3), (temp, 2)):
        n = len(hs)
        out["civil_affairs"].append(
            civil(head[hs], hs, rng.integers(lo_all, hi_all + 1, n), np.full(n, aid_code), np.zeros(n, dtype=np.int64))
        )

    # ---- employment: 就业 registrations any time; job losses only before the window
    worker = free_p & (labour <= 2) & (age >= 18) & (age < 60)
    w = np.flatnonzero(worker)
    emp = w[rng.random(len(w)) < 0.25 * rate]
    n = len(emp)
    out["employment"].append(
        dict(
            pid=emp,
            hh_idx=p_hh[emp],
            date=rng.integers(lo_all, hi_all + 1, n),
            event=vocab.lut(EMP_EVENTS, np.full(n, 3)),
            workplace=pl.repeat(None, n, dtype=pl.String, eager=True),
            prev_income_c=np.full(n, -1, dtype=np.int64),
            planted=np.zeros(n, bool),
            force_dup=np.zeros(n, bool),
        )
    )
    lost = w[rng.random(len(w)) < 0.02 * rate]  # a quarter's worth (as often as in any other quarter)
    n = len(lost)
    lo, hi = win.outdated
    out["employment"].append(
        dict(
            pid=lost,
            hh_idx=p_hh[lost],
            date=rng.integers(lo, hi + 1, n),
            event=vocab.lut(EMP_EVENTS, rng.integers(0, 3, n)),
            workplace=_workplaces(rng, n),
            prev_income_c=(np.round(_u(rng, 2500, 7000, n), -2) * 100).astype(np.int64),
            planted=np.zeros(n, bool),
            force_dup=np.zeros(n, bool),
        )
    )
    return out


def outsider_events(rng: np.random.Generator, city: City, win: Window, counts: dict[str, int]) -> dict[str, list[dict]]:
    """Records of people who are not in the registry (urban residents, migrants): they must match nobody."""
    o = city.outsiders
    out: dict[str, list[dict]] = {f: [] for f in FEEDS}
    lo, hi = win.extract_start, win.ref - 1
    for feed, n in counts.items():
        oid = rng.integers(0, len(o), n)
        base = dict(
            pid=np.full(n, -1),
            oid=oid,
            hh_idx=np.full(n, -1),
            date=rng.integers(lo, hi + 1, n),
            planted=np.zeros(n, bool),
            force_dup=np.zeros(n, bool),
        )
        if feed == "medical":
            visit = (rng.random(n) < 0.5).astype(np.int64)
            oop = np.where(visit == 0, _u(rng, 300, 30000, n), _u(rng, 30, 800, n))
            base.update(
                _medical_amounts(rng, oop, visit, np.zeros(n, bool)),
                visit_type=vocab.lut(VISITS, visit),
                institution=vocab.lut(vocab.CITY_HOSPITALS, rng.integers(0, len(vocab.CITY_HOSPITALS), n)),
                diagnosis=vocab.lut(vocab.DIAGNOSES_MINOR, rng.integers(0, len(vocab.DIAGNOSES_MINOR), n)),
            )
        elif feed == "disaster":
            eps = win.episodes()
            e_i = rng.integers(0, len(eps), n)
            base["date"] = rng.integers(np.array([e[1] for e in eps])[e_i], np.array([e[2] for e in eps])[e_i] + 1)
            base.update(
                disaster_type=vocab.lut(
                    vocab.DISASTER_TYPES, np.array([vocab.DISASTER_TYPES.index(e[0]) for e in eps])[e_i]
                ),
                house_damage=vocab.lut(DAMAGES, rng.integers(0, 4, n)),
                loss_c=(np.round(_u(rng, 500, 40000, n)) * 100).astype(np.int64),
                episode=e_i.astype(np.int64),
            )
        elif feed == "civil_affairs":
            aid = np.array([0, 2, 3])[rng.integers(0, 3, n)]
            base.update(
                aid_type=vocab.lut(AIDS, aid),
                status=vocab.lut(STATUSES, rng.integers(0, 2, n)),
                amount_c=_aid_amounts(rng, aid),
            )
        else:
            loss = rng.random(n) < 0.6
            base.update(
                event=vocab.lut(EMP_EVENTS, np.where(loss, rng.integers(0, 3, n), 3)),
                workplace=pl.select(pl.when(pl.Series(loss)).then(_workplaces(rng, n))).to_series(),
                prev_income_c=np.where(loss, (np.round(_u(rng, 2500, 8000, n), -2) * 100).astype(np.int64), -1),
            )
        out[feed].append(base)
    return out


def assemble(parts: list[dict[str, list[dict]]], first_id: int = 1) -> dict[str, pl.DataFrame]:
    """Concatenate event batches per feed into frames with a global ``event_id`` (stable order)."""
    frames: dict[str, pl.DataFrame] = {}
    next_id = first_id
    for feed in FEEDS:
        dfs = [
            pl.DataFrame({k: (v.alias(k) if isinstance(v, pl.Series) else v) for k, v in b.items()})
            for part in parts
            for b in part[feed]
            if len(b["pid"])
        ]
        df = pl.concat(dfs, how="diagonal_relaxed")
        if "oid" not in df.columns:
            df = df.with_columns(oid=pl.lit(-1, dtype=pl.Int64))
        df = df.with_columns(
            pl.col("oid").fill_null(-1).cast(pl.Int64),
            pl.col("pid").cast(pl.Int64),
            pl.col("hh_idx").cast(pl.Int64),
            pl.col("date").cast(pl.Int64),
        )
        df = df.sort(["date", "hh_idx", "pid", "oid"], maintain_order=True)
        df = df.with_columns(event_id=pl.int_range(next_id, next_id + len(df), dtype=pl.Int64))
        next_id += len(df)
        frames[feed] = df
    return frames
