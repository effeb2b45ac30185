"""The registry (system of record) as the national monitoring system exports it: clean, canonical headers, one file per
county (XLSX for a city or province), and the village table (a file whose name contains 行政村)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from fangpin.domain import divisions
from fangpin.synth.population import City
from fangpin.synth.writer import Col, ext, write_table

#: Registry headers, in file order (SPEC §4.1 canonical names).
REGISTRY_HEADERS = [
    ("户编号", "household_id"),
    ("县(市、区)", "county"),
    ("乡(镇)", "township"),
    ("行政村", "village"),
    ("行政村代码", "village_code"),
    ("姓名", "name"),
    ("证件号码", "id_number"),
    ("性别", "sex"),
    ("出生日期", "birth"),
    ("与户主关系", "relation"),
    ("户类型", "household_type"),
    ("监测对象类别", "monitoring_category"),
    ("风险是否已消除", "risk_eliminated"),
    ("识别监测时间", "identified_month"),
    ("消除监测时间", "eliminated_month"),
    ("劳动技能", "labour"),
    ("健康状况", "health"),
    ("在校生状况", "student"),
    ("享受低保政策情况", "dibao"),
    ("享受特困供养政策情况", "tekun"),
    ("人均纯收入（元）", "base_per_capita_income"),
    ("家庭人口数", "household_size"),
    ("是否易地搬迁户", "relocated_text"),
    ("安置社区", "resettlement_site"),
    ("户籍是否迁出", "hukou_moved"),
    ("是否危房户", "unsafe_housing"),
    ("是否解决安全饮用水", "safe_water"),
]
NUMERIC = {"base_per_capita_income", "household_size"}
VILLAGE_HEADERS = [
    ("行政村代码", "village_code"),
    ("行政村", "village"),
    ("乡(镇)", "township"),
    ("县(市、区)", "county"),
    ("是否原深度贫困村", "deep"),
    ("是否易地搬迁安置社区", "res"),
]


def registry_frame(city: City) -> pl.DataFrame:
    hh = city.households.select(
        "hh_idx",
        "household_id",
        "county_code",
        "county",
        "township_code",
        "township",
        "village",
        "village_code",
        "household_type",
        "monitoring_category",
        "risk_eliminated",
        "identified_month",
        "eliminated_month",
        "base_per_capita_income",
        "household_size",
        "resettlement_site",
        "hukou_moved",
        "unsafe_housing",
        "safe_water",
        relocated_text=pl.when(pl.col("relocated")).then(pl.lit("是")).otherwise(pl.lit("否")),
    )
    return (
        city.persons.join(hh, on="hh_idx", how="left")
        .with_columns(
            birth=pl.col("birth_days").cast(pl.Int32).cast(pl.Date).dt.strftime("%Y-%m-%d"),
        )
        .sort("hh_idx", "person_no")
    )


#: registry files written at the same time (XLSX: Polars renders, zlib compresses; both release the GIL)
WRITERS = 2


def registry_format(i: int, formats: str, size: str) -> str:
    """File format of the i-th county export. The national system exports the registry per county as XLSX: a city
    or province gets exactly that (issue 17); tiny and demo cities mix XLSX and CSV so that ingestion meets both;
    ``formats`` csv / xlsx forces one format everywhere."""
    if formats in ("csv", "xlsx"):
        return "csv_bom" if formats == "csv" and i % 3 == 2 else ("csv_utf8" if formats == "csv" else "xlsx")
    if size in ("tiny", "demo"):
        return ("xlsx", "csv_utf8", "csv_bom")[i % 3]
    return "xlsx"


def write_registry(folder: Path, city: City, formats: str, size: str, suffix: str = "") -> list[dict]:
    """One person-level export per county (see :func:`registry_format`), with a title row when XLSX."""
    folder.mkdir(parents=True, exist_ok=True)
    reg = registry_frame(city)
    counties = reg.select("county_code", "county").unique(maintain_order=True).sort("county_code").rows()

    def one(i: int, code: str, cname: str) -> dict:
        fmt = registry_format(i, formats, size)
        part = reg.filter(pl.col("county_code") == code)
        name = f"防止返贫监测对象信息_{cname}{suffix}.{ext(fmt)}"
        titles = [f"防止返贫监测对象信息（柳州市{cname}）"] if fmt == "xlsx" else []
        cents = (pl.col("base_per_capita_income") * 100).round(0).cast(pl.Int64)
        text = part.select(
            [
                (cents // 100).cast(pl.String) + "." + (cents % 100).cast(pl.String).str.zfill(2)
                if f == "base_per_capita_income"
                else pl.col(f).cast(pl.String)
                for _, f in REGISTRY_HEADERS
            ]
        )
        cols = [
            Col(h, text.to_series(j), part[f].cast(pl.Float64).to_numpy() if (f in NUMERIC and fmt == "xlsx") else None)
            for j, (h, f) in enumerate(REGISTRY_HEADERS)
        ]
        info = write_table(folder / name, fmt, titles, cols, None)
        info.update(feed="registry", county_code=code)
        return info

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return list(pool.map(lambda c: one(*c), [(i, code, cname) for i, (code, cname) in enumerate(counties)]))


def write_village_table(folder: Path, villages: pl.DataFrame, formats: str) -> dict:
    """The village table: a file whose name contains 行政村."""
    v = villages.with_columns(
        deep=pl.when("former_deep_poverty").then(pl.lit("是")).otherwise(pl.lit("否")),
        res=pl.when("resettlement_community").then(pl.lit("是")).otherwise(pl.lit("否")),
    ).sort("village_code")
    fmt = "csv_utf8" if formats == "csv" else "xlsx"
    cities = sorted(set(v["village_code"].str.slice(0, 4).to_list()))
    area = divisions.city_name(cities[0]) if len(cities) == 1 else divisions.PROVINCE_NAME  # whose villages
    name = f"（自定义）行政村信息_{area}.{ext(fmt)}"
    cols = [Col(h, v[f].cast(pl.String)) for h, f in VILLAGE_HEADERS]
    info = write_table(folder / name, fmt, [f"行政村信息（{area}）"] if fmt == "xlsx" else [], cols, None)
    info.update(feed="registry", village_table=True)
    return info
