"""Builders for the forms and registry-check tests: hand-made registry households with consistent ID numbers, sex and
birth dates, an optional ``monitoring_roster`` table, inserted into a warehouse made by ``warehouse.engine.connect``
(base schema). Plus a smoke test of the builders."""

from __future__ import annotations

import datetime as dt
import itertools

import polars as pl

from fangpin.domain.idnumber import make_id

D = dt.date
AS_OF = D(2026, 10, 9)  # 2026Q4; monitoring line 2026 for 4502 = 9000 (rules.yaml)
VILLAGE = "450225101201"  # 融水苗族自治县 和睦镇
COUNTY_NAMES = {"450225": "融水苗族自治县", "450226": "三江侗族自治县", "450222": "柳城县", "450206": "柳江区"}
TOWNSHIP_NAMES = {"450225101": "和睦镇", "450225102": "三防镇", "450226100": "古宜镇", "450222100": "大埔镇"}

_seq = itertools.count(101)


def ident(birth: dt.date, sex: str, area: str = "450225") -> str:
    """A valid 18-digit ID; the sequence parity gives the sex (odd = 男)."""
    n = next(_seq) % 500 * 2
    return make_id(area, birth, n + 1 if sex == "男" else n + 2)


def member(
    name: str,
    relation: str,
    sex: str,
    birth: dt.date,
    *,
    labour: str = "普通劳动力",
    health: str = "健康",
    student: str = "非在校生",
    id_number: str | None = None,
    **kw,
) -> dict:
    idn = id_number or ident(birth, sex)
    return {
        "name": name,
        "relation": relation,
        "sex": sex,
        "birth_date": birth,
        "id_number": idn,
        "id_raw": idn,
        "id_status": "valid",
        "labour": labour,
        "health": health,
        "student": student,
        **kw,
    }


def clean_members(prefix: str = "") -> list[dict]:
    """A household no registry rule objects to: a couple of working age and a 10-year-old son."""
    return [
        member(f"{prefix}韦建国", "户主", "男", D(1986, 5, 1)),
        member(f"{prefix}覃秀英", "配偶", "女", D(1988, 7, 2)),
        member(f"{prefix}韦小明", "之子", "男", D(2016, 3, 3), labour="无劳动力", student="小学四年级"),
    ]


def household(
    hid: str,
    members: list[dict] | None = None,
    *,
    village_code: str = VILLAGE,
    household_type: str = "一般农户",
    monitoring_category: str | None = "边缘易致贫户",
    risk_eliminated: str | None = "否",
    identified_month: str | None = "202501",
    eliminated_month: str | None = None,
    income: float | None = 8000.0,
    household_size: int | None = None,
    village: str | None = None,
    **extra,
) -> list[dict]:
    """Registry rows of one household; household fields repeat on every member row (SPEC §4.1)."""
    members = members if members is not None else clean_members()
    rows = []
    for i, m in enumerate(members):
        row = {
            "household_id": hid,
            "county": COUNTY_NAMES.get(village_code[:6]),
            "township": TOWNSHIP_NAMES.get(village_code[:9]),
            "village": village or f"村{village_code[-3:]}",
            "village_code": village_code,
            "county_code": village_code[:6],
            "township_code": village_code[:9],
            "name_key": m["name"],
            "household_type": household_type,
            "monitoring_category": monitoring_category,
            "risk_eliminated": risk_eliminated,
            "identified_month": identified_month,
            "eliminated_month": eliminated_month,
            "per_capita_net_income": income,
            "household_size": household_size if household_size is not None else len(members),
            "dibao": "未享受",
            "tekun": "未享受",
            "source_file": "防止返贫监测对象信息.xlsx",
            "source_row": 3 + i,
            "file_hash": "reg",
            **extra,
            **m,
        }
        rows.append(row)
    return rows


def insert_registry(con, rows: list[dict]) -> None:
    if not rows:
        return
    for i, r in enumerate(rows):  # row numbers as a person sees them, unique per file
        r["source_row"] = 3 + i
    frame = pl.DataFrame(rows, infer_schema_length=None)
    extra = [c for c in frame.columns if c not in {r[0] for r in con.sql("DESCRIBE registry_person").fetchall()}]
    for c in extra:  # e.g. a phone column: a registry export may carry more than we read
        con.execute(f'ALTER TABLE registry_person ADD COLUMN IF NOT EXISTS "{c}" VARCHAR')
    con.execute("INSERT INTO registry_person BY NAME SELECT * FROM frame")


def insert_villages(con, rows: list[tuple[str, str]]) -> None:
    for code, name in rows:
        con.execute(
            "INSERT OR REPLACE INTO village (village_code, village, township, county, township_code, county_code, "
            "former_deep_poverty, resettlement_community) VALUES (?, ?, ?, ?, ?, ?, false, false)",
            [code, name, TOWNSHIP_NAMES.get(code[:9], "某镇"), COUNTY_NAMES.get(code[:6], "某县"), code[:9], code[:6]],
        )


def create_monitoring_roster(con, rows: list[dict], *, extra_columns: dict[str, str] | None = None) -> None:
    """A ``monitoring_roster`` TABLE standing in for part A's view. ``rows`` give any subset of its columns."""
    cols = {
        "household_id": "VARCHAR",
        "county_code": "VARCHAR",
        "township_code": "VARCHAR",
        "village_code": "VARCHAR",
        "head_name": "VARCHAR",
        "household_size": "INTEGER",
        "category": "VARCHAR",
        "risk_types": "VARCHAR[]",
        "identified_on": "DATE",
        "helper_name": "VARCHAR",
        "measures": "VARCHAR[]",
        "last_visit": "DATE",
        "status": "VARCHAR",
        "source": "VARCHAR",
        **(extra_columns or {}),
    }
    used = [c for c in cols if any(c in r for r in rows)] or ["household_id", "status"]
    con.execute(f"CREATE OR REPLACE TABLE monitoring_roster ({', '.join(f'{c} {cols[c]}' for c in used)})")
    for r in rows:
        con.execute(
            f"INSERT INTO monitoring_roster ({', '.join(used)}) VALUES ({', '.join('?' for _ in used)})",
            [r.get(c) for c in used],
        )


def test_builders_write_the_base_schema(tmp_path):
    from warehouse.engine import connect

    with connect(tmp_path / "w.duckdb") as con:
        insert_registry(con, household("H1") + household("H2", clean_members("李")))
        create_monitoring_roster(con, [{"household_id": "H1", "status": "monitored", "risk_types": ["因病"]}])
        assert con.sql("SELECT count(*), count(DISTINCT household_id) FROM registry_person").fetchall() == [(6, 2)]
        assert con.sql("SELECT risk_types FROM monitoring_roster").fetchall() == [(["因病"],)]
        sexes = con.sql("SELECT sex, CAST(substr(id_number, 17, 1) AS INTEGER) % 2 FROM registry_person").fetchall()
        assert all((s == "男") == (p == 1) for s, p in sexes)
