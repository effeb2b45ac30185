"""Planted systemic-risk surges (规模性、系统性风险; issue 16): in the round's last quarter (the three months before the
reference date), one area per kind gets a cluster of department events that the systemic-risk watch
(warehouse/systemic) must flag, and a few households close to the monitoring line that its survey list must hold.

Kinds (``KINDS``; one area each, in different counties where the city has them, each in a township of its own: a
city made small with ``--scale`` that runs out of townships plants fewer):

- ``outbreak`` (a township): many persons with a hospital bill of an ordinary size — medical_claims, medical_oop;
- ``landslide`` (a village, 地质灾害 of the last disaster episode): many households with a damaged house and a minor
  loss — disaster_houses, disaster_loss;
- ``factory`` (a village): up to two workers of many households back home from a closed factory — job_loss;
- ``aid_wave`` (a village): many households granted 临时救助 — new_aid;
- ``shock`` (a village): many households pushed below the line by disaster losses at once — below_line.

Every planted case keeps to the generator's rule of being clearly away from every threshold, so the ground truth
of the risk rules (truth.py) is unambiguous: outbreak bills and landslide losses are far below the medical and
disaster thresholds (no signal); factory and aid-wave households carry a signal with incomes well above the line and
rigid spending well below the hardship share (not at risk); shock households are planted at risk (their planned
category is checked against the truth like every scenario). Households that get surge events or are planted near
the line carry the scenario ``surge`` / ``surge_near_line`` (no background events: their figures are exactly the
planted ones), except outbreak patients, whose bills are harmless with any background bills they get.

Near-line households (``NEAR_LINE`` per area): not monitored, no signal, last year's income − this window's
spending between 1.08 and 1.14 × the line (inside the watch's survey margin, outside every ±5 % reading); in the
outbreak, landslide and aid-wave areas two of them also carry the surge's event.

Ground truth: ``surges.parquet`` (one row per surge: kind, area, quarter, signals it must raise) and
``surge_households.parquet`` (surge, household, role affected | near_line, whether it carries the event).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from fangpin.synth import events as E
from fangpin.synth import vocab
from fangpin.synth.population import EPOCH, City

#: kind → (area level, signals the watch must raise, share of the area's units hit, Chinese name)
KINDS: dict[str, dict] = {
    "outbreak": dict(level="township", signals=("medical_claims", "medical_oop"), share=0.3, name="就诊人数激增"),
    "landslide": dict(
        level="village", signals=("disaster_houses", "disaster_loss"), share=0.4, name="地质灾害房屋受损"
    ),
    "factory": dict(level="village", signals=("job_loss",), share=0.6, name="工厂停产务工人员返乡"),
    "aid_wave": dict(level="village", signals=("new_aid",), share=0.3, name="临时救助集中新增"),
    "shock": dict(level="village", signals=("below_line",), share=0.3, name="灾损致多户跌破监测线"),
}
MIN_UNITS = 10  # at least this many persons / households per surge
NEAR_LINE = 4
NEAR_LINE_BAND = (1.08, 1.14)
MIN_VILLAGE_HOUSEHOLDS = 30
LANDSLIDE_EPISODE = 4  # win.episodes()[4]: 地质灾害 in the round's last quarter


@dataclass
class Planted:
    city: City
    events: dict[str, list[dict]]
    surges: pl.DataFrame
    households: pl.DataFrame


def quarter_label(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


class _Surges:
    def __init__(self, rng: np.random.Generator, city: City, rules: E.Rules, win: E.Window):
        self.rng, self.city, self.rules, self.win = rng, city, rules, win
        hh, p = city.households, city.persons
        self.n_hh = len(hh)
        self.size = hh["household_size"].to_numpy()
        self.offset = np.cumsum(self.size) - self.size
        self.base = hh["base_per_capita_income"].to_numpy().copy()
        self.scenario = hh["scenario"].to_numpy().astype(object).copy()
        self.category = hh["planned_category"].to_numpy().astype(object).copy()
        self.htype = hh["htype_code"].to_numpy()
        self.mcat = hh["mcat_code"].to_numpy()
        self.village = hh["village_code"].to_numpy()
        self.township = hh["township_code"].to_numpy()
        self.p_hh = p["hh_idx"].to_numpy()
        self.p_age = p["age"].to_numpy()
        self.p_labour = p["labour_code"].to_numpy()
        self.free = (self.scenario == "") & ~hh["relocated"].to_numpy()
        self.events: dict[str, list[dict]] = {f: [] for f in E.FEEDS}
        self.rows: list[dict] = []
        self.members: list[dict] = []
        # the round's last quarter, kept 12 days inside the window's end (planted evidence never sits on an edge)
        self.q_lo, self.q_hi = win.ref - 85, win.ref - 12

    # ------------------------------------------------------------------ areas
    def choose_areas(self) -> dict[str, str]:
        v = self.city.villages
        counts = (
            pl.DataFrame({"village_code": self.village, "free": self.free & (self.mcat == 0)})
            .group_by("village_code")
            .agg(households=pl.len(), free=pl.col("free").sum())
        )
        cand = (
            v.join(counts, on="village_code")
            .filter(~pl.col("resettlement_community") & (pl.col("households") >= MIN_VILLAGE_HOUSEHOLDS))
            .filter(pl.col("free") >= 0.8 * pl.col("households"))
        )
        counties = cand["county_code"].unique().sort().to_list()
        self.rng.shuffle(counties)
        chosen: dict[str, str] = {}
        used_towns: set[str] = set()
        order = ["outbreak", "landslide", "factory", "aid_wave", "shock"]
        for i, kind in enumerate(order):
            county = counties[i % len(counties)]
            pool = cand.filter((pl.col("county_code") == county) & ~pl.col("township_code").is_in(list(used_towns)))
            if pool.is_empty():
                pool = cand.filter(~pl.col("township_code").is_in(list(used_towns)))
            if pool.is_empty():  # a small city (--scale) has too few townships for one surge each: fewer surges
                continue
            if kind == "outbreak":  # the township with most households of its county
                towns = (
                    pool.group_by("township_code")
                    .agg(pl.col("households").sum())
                    .sort(["households", "township_code"], descending=[True, False])
                )
                code = towns["township_code"][0]
                used_towns.add(code)
            else:
                row = pool.sort("village_code")[int(self.rng.integers(0, pool.height))]
                code = row["village_code"][0]
                used_towns.add(row["township_code"][0])
            chosen[kind] = code
        return chosen

    def _households_of(self, kind: str, code: str) -> np.ndarray:
        where = self.township if KINDS[kind]["level"] == "township" else self.village
        return np.flatnonzero(where == code)

    def _pick(self, hs: np.ndarray, k: int, ok: np.ndarray) -> np.ndarray:
        pool = hs[ok[hs]]
        return np.sort(self.rng.choice(pool, size=min(k, len(pool)), replace=False))

    def _pick_near(self, hs: np.ndarray, ok: np.ndarray | None = None) -> np.ndarray:
        """The area's near-line households (free, not monitored), taken out of the pool at once."""
        ok = self.free & (self.mcat == 0) & (True if ok is None else ok)
        near = self._pick(hs, NEAR_LINE, ok)
        self.free[near] = False
        return near

    def _dates(self, n: int) -> np.ndarray:
        return self.rng.integers(self.q_lo, self.q_hi + 1, n)

    def _mark(self, hs: np.ndarray, scenario: str) -> None:
        self.scenario[hs] = scenario
        self.free[hs] = False

    def _near_line(self, sid: str, hs: np.ndarray, spending: np.ndarray | None = None) -> None:
        """Set last year's income so that income − spending (per person) lies in the near-line band."""
        spend = np.zeros(len(hs)) if spending is None else spending
        lo, hi = NEAR_LINE_BAND
        self.base[hs] = np.round(self.rules.line * E._u(self.rng, lo, hi, len(hs)) + spend / self.size[hs], 2)
        self._mark(hs, "surge_near_line")
        for h, s in zip(hs, spend):
            self.members.append({"surge_id": sid, "hh_idx": int(h), "role": "near_line", "carries": bool(s > 0)})

    def _affected(self, sid: str, hs: np.ndarray, mark: bool = True) -> None:
        if mark:
            self._mark(hs, "surge")
        self.members += [{"surge_id": sid, "hh_idx": int(h), "role": "affected", "carries": True} for h in hs]

    # ------------------------------------------------------------------ kinds
    def outbreak(self, sid: str, hs: np.ndarray) -> int:
        """A bill of 1,200–2,800 yuan (a stay or an outpatient visit) for ``share`` of the township's persons, in
        households without a planted scenario: with at most three background bills of ≤ 2,100 a person stays below
        every medical threshold (9,100 < 0.95 × 9,900; one stay < 0.95 × 6,000)."""
        persons = np.flatnonzero(np.isin(self.p_hh, hs[self.free[hs]]))
        n = max(MIN_UNITS, int(round(KINDS["outbreak"]["share"] * np.isin(self.p_hh, hs).sum())))
        near = self._pick_near(hs, self.size >= 2)
        persons = persons[~np.isin(self.p_hh[persons], near)]
        pid = np.sort(self.rng.choice(persons, size=min(n, len(persons)), replace=False))
        near_pid = self.offset[near[:2]]  # two near-line households: their head has a bill too
        oop = E._u(self.rng, 1200, 2800, len(pid) + len(near_pid))
        self._bills(np.concatenate([pid, near_pid]), oop)
        spend = np.zeros(len(near))
        spend[:2] = oop[len(pid) :]
        self._near_line(sid, near, spend)
        self._affected(sid, np.unique(self.p_hh[pid]), mark=False)
        return len(pid) + len(near_pid)

    def _bills(self, pid: np.ndarray, oop: np.ndarray) -> None:
        n = len(pid)
        hh = self.p_hh[pid]
        visit = (self.rng.random(n) >= 0.4).astype(np.int64)  # 40 % 住院 (stays far below the stay thresholds)
        ev = E._medical_amounts(self.rng, oop, visit, np.zeros(n, bool))
        ev.update(
            pid=pid,
            hh_idx=hh,
            date=self._dates(n),
            visit_type=vocab.lut(E.VISITS, visit),
            institution=E._institutions(self.rng, self.city, hh, big=False),
            diagnosis=vocab.lut(vocab.DIAGNOSES_MINOR, self.rng.integers(0, len(vocab.DIAGNOSES_MINOR), n)),
            planted=np.zeros(n, bool),
            force_dup=np.zeros(n, bool),
        )
        self.events["medical"].append(ev)

    def _disaster(self, hs: np.ndarray, loss: np.ndarray, damage: np.ndarray) -> None:
        n = len(hs)
        _, lo, hi, _ = self.win.episodes()[LANDSLIDE_EPISODE]
        self.events["disaster"].append(
            dict(
                pid=self.offset[hs],
                hh_idx=hs,
                date=self.rng.integers(max(lo, self.q_lo), min(hi, self.q_hi) + 1, n),
                disaster_type=vocab.lut(
                    vocab.DISASTER_TYPES, np.full(n, vocab.DISASTER_TYPES.index(self.win.episodes()[4][0]))
                ),
                house_damage=vocab.lut(E.DAMAGES, damage),
                loss_c=np.round(loss * 100).astype(np.int64),
                episode=np.full(n, LANDSLIDE_EPISODE, dtype=np.int64),
                planted=np.zeros(n, bool),
                force_dup=np.zeros(n, bool),
            )
        )

    def landslide(self, sid: str, hs: np.ndarray) -> int:
        """Damaged houses (一般损坏) and minor losses, below the disaster threshold (no signal)."""
        near = self._pick_near(hs)
        n = max(MIN_UNITS, int(round(KINDS["landslide"]["share"] * len(hs))))
        hit = self._pick(hs, n, self.free)
        cap = 0.8 * self.rules.disaster_loss
        loss = E._u(self.rng, 0.3 * cap, cap, len(hit) + 2)
        damage = np.where(self.rng.random(len(hit) + 2) < 0.85, 2, 3)  # 一般损坏, else 无
        self._disaster(np.concatenate([hit, near[:2]]), loss, damage)
        spend = np.zeros(len(near))
        spend[:2] = loss[len(hit) :]
        self._near_line(sid, near, spend)
        self._affected(sid, hit)
        return len(hit) + 2

    def factory(self, sid: str, hs: np.ndarray) -> int:
        """Up to two workers (18–55, able to work) of many households back home; incomes keep them well above the line
        and their lost wages well below the hardship share."""
        able = (self.p_age >= 18) & (self.p_age <= 55) & (self.p_labour <= 2)
        has_worker = np.bincount(self.p_hh, weights=able, minlength=self.n_hh) >= 1
        near = self._pick_near(hs)
        n = max(MIN_UNITS, int(round(KINDS["factory"]["share"] * len(hs))))
        hit = self._pick(hs, n, self.free & (self.mcat == 0) & has_worker)
        workers = np.flatnonzero(able & np.isin(self.p_hh, hit))
        first, second = E._first_per_group(self.p_hh[workers], self.rng.random(len(workers)), 2)
        pid = np.sort(np.concatenate([workers[first], workers[second]]))
        m = np.round(E._u(self.rng, 2600, 4500, len(pid)), -2)
        lost = np.bincount(self.p_hh[pid], weights=self.rules.wage_months * m, minlength=self.n_hh)[hit]
        size = self.size[hit]
        floor = np.maximum.reduce([self.base[hit], 1.3 * self.rules.line + lost / size, lost / (0.38 * size)])
        self.base[hit] = np.round(floor * E._u(self.rng, 1.0, 1.1, len(hit)), 2)
        self.events["employment"].append(
            dict(
                pid=pid,
                hh_idx=self.p_hh[pid],
                date=self._dates(len(pid)),
                event=vocab.lut(E.EMP_EVENTS, self.rng.integers(0, 3, len(pid))),
                workplace=E._workplaces(self.rng, len(pid)),
                prev_income_c=np.round(m * 100).astype(np.int64),
                planted=np.zeros(len(pid), bool),
                force_dup=np.zeros(len(pid), bool),
            )
        )
        self._near_line(sid, near)
        self._affected(sid, hit)
        return len(pid)

    def aid_wave(self, sid: str, hs: np.ndarray) -> int:
        """临时救助 (新增) for many households that are not monitored, with incomes well above the line."""
        near = self._pick_near(hs)
        n = max(MIN_UNITS, int(round(KINDS["aid_wave"]["share"] * len(hs))))
        hit = self._pick(hs, n, self.free & (self.mcat == 0))
        self.base[hit] = np.round(np.maximum(self.base[hit], self.rules.line * E._u(self.rng, 1.3, 1.6, len(hit))), 2)
        heads = np.concatenate([hit, near[:2]])
        k = len(heads)
        self.events["civil_affairs"].append(
            dict(
                pid=self.offset[heads],
                hh_idx=heads,
                date=self._dates(k),
                aid_type=vocab.lut(E.AIDS, np.full(k, 2)),
                status=vocab.lut(E.STATUSES, np.zeros(k, dtype=np.int64)),
                amount_c=E._aid_amounts(self.rng, np.full(k, 2)),
                planted=np.zeros(k, bool),
                force_dup=np.zeros(k, bool),
            )
        )
        self._near_line(sid, near)
        for row in self.members[-len(near) :][:2]:
            row["carries"] = True  # aid is no spending: their income stays in the band, the record is theirs
        self._affected(sid, hit)
        return k

    def shock(self, sid: str, hs: np.ndarray) -> int:
        """Disaster losses above the threshold push many households below the line at once (planted at risk)."""
        near = self._pick_near(hs)
        n = max(MIN_UNITS, int(round(KINDS["shock"]["share"] * len(hs))))
        hit = self._pick(hs, n, self.free & (self.mcat == 0))
        L = self.rules.line
        loss = E._u(self.rng, 1.3 * self.rules.disaster_loss, 3.0 * self.rules.disaster_loss, len(hit))
        # at least 0.3 × line per person, so that income − loss lies well below the line (as events.Planter's "below")
        loss = np.maximum(loss, 0.3 * L * self.size[hit] * E._u(self.rng, 1.05, 1.4, len(hit)))
        per = loss / self.size[hit]
        lo = np.maximum(1.08 * L, 0.2 * L + per)
        hi = np.maximum(lo, np.minimum(1.5 * L, 0.85 * L + per))
        self.base[hit] = np.round(E._u(self.rng, lo, hi, len(hit)), 2)
        self.category[hit] = np.where(self.htype[hit] == 1, "脱贫不稳定户", "边缘易致贫户")
        self._disaster(hit, loss, np.where(self.rng.random(len(hit)) < 0.7, 2, 3))
        self._near_line(sid, near)
        self._affected(sid, hit)
        return len(hit)

    # ------------------------------------------------------------------ results
    def plant(self) -> None:
        areas = self.choose_areas()
        q0 = EPOCH + dt.timedelta(days=int(self.win.ref) - 1)
        start = dt.date(q0.year, 3 * ((q0.month - 1) // 3) + 1, 1)
        end = EPOCH + dt.timedelta(days=int(self.win.ref))
        towns = dict(self.city.villages.select("township_code", "township").unique("township_code").iter_rows())
        vill = self.city.villages.select("village_code", "village", "township_code", "county_code")
        for i, (kind, code) in enumerate(areas.items(), start=1):
            sid = f"S{i}"
            spec = KINDS[kind]
            hs = self._households_of(kind, code)
            events = getattr(self, kind)(sid, hs)
            if spec["level"] == "township":
                name, town, county = towns[code], code, code[:6]
            else:
                row = vill.filter(pl.col("village_code") == code).row(0, named=True)
                name, town, county = row["village"], row["township_code"], row["county_code"]
            self.rows.append(
                {
                    "surge_id": sid,
                    "kind": kind,
                    "name": spec["name"],
                    "area_level": spec["level"],
                    "area_code": code,
                    "area_name": name,
                    "township_code": town,
                    "county_code": county,
                    "quarter": quarter_label(start),
                    "start_date": start,
                    "end_date": end - dt.timedelta(days=1),
                    "signals": list(spec["signals"]),
                    "affected_households": sum(
                        1 for m in self.members if m["surge_id"] == sid and m["role"] == "affected"
                    ),
                    "events": int(events),
                }
            )

    def result(self) -> Planted:
        from fangpin.synth.population import with_household_text

        c = self.city
        hh = c.households.with_columns(
            base_per_capita_income=pl.Series(self.base),
            scenario=pl.Series(self.scenario.tolist(), dtype=pl.String),
            planned_category=pl.Series(self.category.tolist(), dtype=pl.String),
        )
        ids = hh["household_id"]
        members = pl.DataFrame(
            self.members, schema={"surge_id": pl.String, "hh_idx": pl.Int64, "role": pl.String, "carries": pl.Boolean}
        )
        members = members.with_columns(
            household_id=ids.gather(members["hh_idx"]),
            village_code=hh["village_code"].gather(members["hh_idx"]),
        ).select("surge_id", "household_id", "village_code", "role", "carries")
        surges = pl.DataFrame(self.rows).with_columns(pl.col("signals").cast(pl.List(pl.String)))
        city = City(c.villages, with_household_text(hh), c.persons, c.outsiders, c.ref_date)
        return Planted(city, self.events, surges, members.unique(["surge_id", "household_id", "role"], keep="first"))


def plant(rng: np.random.Generator, city: City, rules: E.Rules, win: E.Window) -> Planted:
    """Plant one surge of each kind (see the module docstring); returns the changed city, the surge events (batches
    per feed, like ``events.background``) and the truth frames."""
    s = _Surges(rng, city, rules, win)
    s.plant()
    return s.result()


SURGE_SCHEMA = {
    "surge_id": pl.String,
    "kind": pl.String,
    "name": pl.String,
    "area_level": pl.String,
    "area_code": pl.String,
    "area_name": pl.String,
    "township_code": pl.String,
    "county_code": pl.String,
    "quarter": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "signals": pl.List(pl.String),
    "affected_households": pl.Int64,
    "events": pl.Int64,
}
MEMBER_SCHEMA = {
    "surge_id": pl.String,
    "household_id": pl.String,
    "village_code": pl.String,
    "role": pl.String,
    "carries": pl.Boolean,
}


def write_truth(truth_dir, planted: Planted | None, truth: pl.DataFrame) -> None:
    """``surges.parquet`` and ``surge_households.parquet`` (empty when no surge was planted); a near-line
    household's row carries its true adjusted income (from the truth of the rules)."""
    if planted is None:
        pl.DataFrame(schema=SURGE_SCHEMA).write_parquet(truth_dir / "surges.parquet")
        pl.DataFrame(schema=MEMBER_SCHEMA | {"adjusted_per_capita_income": pl.Float64}).write_parquet(
            truth_dir / "surge_households.parquet"
        )
        return
    planted.surges.select(list(SURGE_SCHEMA)).cast(SURGE_SCHEMA).write_parquet(truth_dir / "surges.parquet")
    ids = planted.city.households.select("hh_idx", "household_id")
    adjusted = truth.join(ids, on="hh_idx").select("household_id", "adjusted_per_capita_income")
    planted.households.join(adjusted, on="household_id", how="left").write_parquet(
        truth_dir / "surge_households.parquet"
    )
