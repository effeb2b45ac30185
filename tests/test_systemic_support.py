"""A hand-built warehouse for the systemic-risk tests, generated with numpy (thousands of households, quarters of
history): registry persons in villages of two counties, and background department events drawn as Poisson counts
per person and quarter at the same rate everywhere (so every area is quiet), plus planted surges.

``Town(...).flush(con)`` inserts registry_person, village, dept_record and link rows (every record linked by its ID,
``id_exact``) into a warehouse created by ``warehouse.engine.connect``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

REF = dt.date(2026, 10, 1)  # round 2026Q4 looks at 2026Q3
COUNTIES = ("450225", "450226")
#: background events per person (medical, job loss) or household (disaster, aid) and quarter
RATES = {"medical": 0.04, "disaster_severe": 0.002, "disaster_minor": 0.01, "job_loss": 0.006, "new_aid": 0.004}


def quarter_bounds(q_index: int, ref: dt.date = REF) -> tuple[dt.date, dt.date]:
    """[start, end) of the quarter ``q_index`` quarters before the round's quarter (0 = the round's quarter)."""

    def back(months: int) -> dt.date:
        y, m = divmod(ref.year * 12 + ref.month - 1 - months, 12)
        return dt.date(y, m + 1, 1)

    return back(3 * (q_index + 1)), back(3 * q_index)


@dataclass
class Town:
    seed: int = 1
    townships_per_county: int = 4
    villages_per_township: int = 10
    households_per_village: int = 60
    quarters: int = 9  # quarters of department data: the round's and 8 before it
    income: float = 20000.0
    rates: dict = field(default_factory=lambda: dict(RATES))
    small_villages: int = 0  # extra villages of 8 households each (noisy small areas)
    village_effect: float | None = None  # gamma shape of a lasting per-village rate multiplier (areas differ)
    quarter_noise: float | None = None  # gamma shape of a per-village-and-quarter multiplier (overdispersion)
    season: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)  # rate factor of q_index % 4 (0 = Jul–Sep)
    _events: list[pl.DataFrame] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        rows = []
        for c in COUNTIES:
            for t in range(self.townships_per_county):
                for v in range(self.villages_per_township):
                    rows.append((c, f"{c}{100 + t:03d}", f"{c}{100 + t:03d}{200 + v:03d}", self.households_per_village))
                    if v == 0 and t == 0 and self.small_villages:
                        for s in range(self.small_villages):
                            rows.append((c, f"{c}{100 + t:03d}", f"{c}{100 + t:03d}{900 + s:03d}", 8))
        hh = []
        for county, township, village, n in rows:
            for i in range(n):
                hh.append((f"{village}-{i:03d}", county, township, village))
        self.households = pl.DataFrame(
            hh, schema=["household_id", "county_code", "township_code", "village_code"], orient="row"
        ).with_columns(
            income=pl.lit(self.income),
            size=pl.lit(3, dtype=pl.Int32),
        )
        self.villages = sorted({r[2] for r in rows if r[3] == self.households_per_village})
        self.small = sorted({r[2] for r in rows if r[3] != self.households_per_village})
        self.overrides: dict[str, float] = {}

    # ------------------------------------------------------------------ registry
    def set_income(self, household_ids, income: float) -> None:
        for h in household_ids:
            self.overrides[h] = income

    def persons(self) -> pl.DataFrame:
        hh = self.households.with_columns(
            income=pl.col("household_id").replace_strict(
                self.overrides, default=pl.col("income"), return_dtype=pl.Float64
            )
        )
        p = hh.join(pl.DataFrame({"member": [0, 1, 2]}), how="cross").with_columns(
            id_number=pl.col("household_id") + "-" + pl.col("member").cast(pl.String),
            relation=pl.when(pl.col("member") == 0).then(pl.lit("户主")).otherwise(pl.lit("之子")),
        )
        return p.select(
            "household_id",
            pl.lit("某县").alias("county"),
            pl.lit("某镇").alias("township"),
            ("村" + pl.col("village_code").str.slice(9)).alias("village"),
            "village_code",
            "county_code",
            "township_code",
            ("成员" + pl.col("id_number")).alias("name"),
            pl.col("id_number").alias("id_raw"),
            pl.lit("valid").alias("id_status"),
            "id_number",
            "relation",
            pl.lit("一般农户").alias("household_type"),
            pl.lit(None, dtype=pl.String).alias("monitoring_category"),
            pl.lit("普通劳动力").alias("labour"),
            pl.col("income").alias("per_capita_net_income"),
            pl.col("size").alias("household_size"),
            pl.lit("监测对象信息.xlsx").alias("source_file"),
            pl.lit("reg").alias("file_hash"),
        )

    def members(self, village_code: str | None = None, township_code: str | None = None) -> pl.DataFrame:
        hh = self.households
        if village_code:
            hh = hh.filter(pl.col("village_code") == village_code)
        if township_code:
            hh = hh.filter(pl.col("township_code") == township_code)
        return hh.join(pl.DataFrame({"member": [0, 1, 2]}), how="cross").with_columns(
            id_number=pl.col("household_id") + "-" + pl.col("member").cast(pl.String)
        )

    # ------------------------------------------------------------------ events
    def _dates(self, q_index: int, n: int) -> list[dt.date]:
        start, end = quarter_bounds(q_index)
        days = self.rng.integers(0, (end - start).days, n)
        return [start + dt.timedelta(days=int(d)) for d in days]

    def add(self, source: str, ids: pl.DataFrame, q_index: int, **fields) -> None:
        """One record per row of ``ids`` (columns household_id, id_number) in quarter ``q_index``."""
        if ids.is_empty():
            return
        frame = ids.select("household_id", "id_number").with_columns(
            source=pl.lit(source), event_date=pl.Series(self._dates(q_index, ids.height), dtype=pl.Date)
        )
        for k, v in fields.items():
            frame = frame.with_columns(pl.Series(k, v) if isinstance(v, (list, np.ndarray)) else pl.lit(v).alias(k))
        self._events.append(frame)

    def _multiplier(self, shape: float | None, n: int) -> np.ndarray:
        return np.ones(n) if shape is None else self.rng.gamma(shape, 1.0 / shape, n)

    def background(self) -> None:
        """Quiet history: every quarter, every area, the same rates — times a lasting village effect, a village ×
        quarter noise and a season when those are set (still no surge: nothing stands out of its own history)."""
        persons = self.members()
        households = persons.filter(pl.col("member") == 0)
        villages = {v: i for i, v in enumerate(self.villages + self.small)}
        lasting = self._multiplier(self.village_effect, len(villages))
        for q in range(self.quarters):
            noise = self._multiplier(self.quarter_noise, len(villages))
            factor = lasting * noise * self.season[q % 4]
            for what, pool in (
                ("medical", persons),
                ("job_loss", persons),
                ("disaster_severe", households),
                ("disaster_minor", households),
                ("new_aid", households),
            ):
                idx = pool["village_code"].replace_strict(villages, return_dtype=pl.Int64).to_numpy()
                hit = pool.filter(pl.Series(self.rng.random(pool.height) < self.rates[what] * factor[idx]))
                self.plant(what, hit, q, background=True)

    def plant(
        self, what: str, ids: pl.DataFrame, q_index: int, *, background: bool = False, amount: float | None = None
    ) -> None:
        n = ids.height
        if what == "medical":
            oop = amount if amount is not None else self.rng.gamma(2.0, 400.0, n)
            self.add("medical", ids, q_index, out_of_pocket=oop, visit_type="住院", total_cost=3000.0)
        elif what == "job_loss":
            self.add("employment", ids, q_index, event="返乡", previous_monthly_income=amount or 3000.0)
        elif what == "disaster_severe":
            loss = amount if amount is not None else self.rng.gamma(2.0, 4000.0, n)
            self.add("disaster", ids, q_index, house_damage="严重损坏", direct_loss=loss, disaster_type="洪涝")
        elif what == "disaster_minor":
            loss = amount if amount is not None else self.rng.gamma(2.0, 500.0, n)
            self.add("disaster", ids, q_index, house_damage="无", direct_loss=loss, disaster_type="风雹")
        elif what == "new_aid":
            self.add("civil_affairs", ids, q_index, aid_type="临时救助", status="新增", amount=amount or 1000.0)
        else:
            raise ValueError(what)

    # ------------------------------------------------------------------ write
    def flush(self, con) -> None:
        persons = (
            self.persons().with_row_index("source_row", offset=3).with_columns(pl.col("source_row").cast(pl.Int64))
        )
        con.register("_p", persons.to_arrow())
        con.execute("INSERT INTO registry_person BY NAME SELECT * FROM _p")
        villages = pl.DataFrame({"village_code": self.villages + self.small}).with_columns(
            village=("村" + pl.col("village_code").str.slice(9)),
            township=("镇" + pl.col("village_code").str.slice(6, 3)),
            county=pl.lit("某县"),
            township_code=pl.col("village_code").str.slice(0, 9),
            county_code=pl.col("village_code").str.slice(0, 6),
        )
        con.register("_v", villages.to_arrow())
        con.execute("INSERT INTO village BY NAME SELECT * FROM _v")
        if self._events:
            ev = pl.concat(self._events, how="diagonal_relaxed").with_row_index("source_row", offset=2)
            ev = ev.with_columns(
                pl.col("source_row").cast(pl.Int64),
                source_file=pl.col("source") + ".csv",
                file_hash=pl.col("source"),
                event_key=pl.col("source") + ":" + pl.col("source_row").cast(pl.String),
                id_raw=pl.col("id_number"),
                id_status=pl.lit("valid"),
                name=pl.lit("某人"),
            )
            rec = ev.drop("household_id")
            con.register("_r", rec.to_arrow())
            con.execute("INSERT INTO dept_record BY NAME SELECT * FROM _r")
            links = ev.select(
                "source",
                "source_file",
                "source_row",
                "id_number",
                "household_id",
                pl.lit("id_exact").alias("match_method"),
                pl.lit(1.0).alias("match_score"),
            )
            con.register("_l", links.to_arrow())
            con.execute("INSERT INTO link BY NAME SELECT * FROM _l")
            for name in ("_r", "_l"):
                con.unregister(name)
        con.unregister("_p")
        con.unregister("_v")
        self._events = []


def test_town_writes_history_for_every_quarter(tmp_path):
    from warehouse.engine import connect

    town = Town(townships_per_county=1, villages_per_township=2, households_per_village=10, quarters=3)
    town.background()
    town.plant("medical", town.members(village_code=town.villages[0]).head(4), 0)
    with connect(tmp_path / "w.duckdb") as con:
        town.flush(con)
        assert con.sql("SELECT count(*) FROM registry_person").fetchall()[0][0] == 2 * 2 * 10 * 3
        quarters = con.sql("SELECT count(DISTINCT date_trunc('quarter', event_date)) FROM dept_record").fetchall()[0][0]
        assert quarters == 3
        unlinked = con.sql(
            "SELECT count(*) FROM dept_record d ANTI JOIN link l USING (source, source_file, source_row)"
        ).fetchall()[0][0]
        assert unlinked == 0
