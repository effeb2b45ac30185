"""Builders for hand-made warehouses used by the rules and reports tests (plus a smoke test of the builders).

``City`` collects registry persons, villages, department records and links, then ``flush()`` inserts them into a
warehouse created by ``warehouse.engine.connect`` (base schema). Every department record gets a link row; the
default match method is ``id_exact``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import polars as pl

from fangpin.domain.idnumber import make_id

D = dt.date
REF = D(2026, 10, 1)  # 2026Q4
PUSHED = D(2026, 10, 9)

COUNTY_NAMES = {"450225": "融水苗族自治县", "450226": "三江侗族自治县", "450222": "柳城县", "450206": "柳江区"}
TOWNSHIP_NAMES = {
    "450225101": "和睦镇",
    "450225102": "三防镇",
    "450226100": "古宜镇",
    "450222100": "大埔镇",
    "450206100": "拉堡镇",
}


@dataclass
class City:
    persons: list[dict] = field(default_factory=list)
    villages: list[dict] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    candidates: list[dict] = field(default_factory=list)  # link_candidate rows of records sent to review
    _seq: itertools.count = field(default_factory=lambda: itertools.count(11))
    _row: itertools.count = field(default_factory=lambda: itertools.count(3))

    # ------------------------------------------------------------------ registry
    def village(self, code: str, name: str, *, deep: bool = False, site: bool = False) -> str:
        self.villages.append(
            {
                "village_code": code,
                "village": name,
                "township": TOWNSHIP_NAMES.get(code[:9], "某镇"),
                "county": COUNTY_NAMES.get(code[:6], "某县"),
                "township_code": code[:9],
                "county_code": code[:6],
                "former_deep_poverty": deep,
                "resettlement_community": site,
                "source_file": "行政村.xlsx",
                "file_hash": "v",
            }
        )
        return code

    def household(
        self,
        hid: str,
        *,
        village_code: str = "450225101201",
        household_type: str = "一般农户",
        monitoring_category: str | None = None,
        risk_eliminated: str | None = None,
        income: float = 12000.0,
        labour: list[str] = ("普通劳动力", "普通劳动力", "无劳动力"),
        names: list[str] | None = None,
        relocated: str | None = None,
        resettlement_site: str | None = None,
        hukou_moved: str | None = None,
        dibao: str | None = None,
        id_area: str | None = None,
    ) -> list[str]:
        """Add a household; returns the members' ID numbers (the first is the head)."""
        ids = []
        names = names or [f"{hid}成员{i}" for i in range(len(labour))]
        for i, lab in enumerate(labour):
            idn = make_id(id_area or village_code[:6], D(1970 + i * 7, 3, 1 + i), next(self._seq) % 1000)
            ids.append(idn)
            self.persons.append(
                {
                    "household_id": hid,
                    "county": COUNTY_NAMES.get(village_code[:6]),
                    "township": TOWNSHIP_NAMES.get(village_code[:9]),
                    "village": f"村{village_code[-3:]}",
                    "village_code": village_code,
                    "county_code": village_code[:6],
                    "township_code": village_code[:9],
                    "name": names[i],
                    "name_key": names[i],
                    "id_raw": idn,
                    "id_status": "valid",
                    "id_number": idn,
                    "sex": None,
                    "birth_date": None,
                    "relation": "户主" if i == 0 else "之子",
                    "household_type": household_type,
                    "monitoring_category": monitoring_category,
                    "risk_eliminated": risk_eliminated,
                    "labour": lab,
                    "health": "健康",
                    "dibao": dibao,
                    "per_capita_net_income": income,
                    "household_size": len(labour),
                    "relocated": relocated,
                    "resettlement_site": resettlement_site,
                    "hukou_moved": hukou_moved,
                    "source_file": "监测对象信息.xlsx",
                    "source_row": next(self._row),
                    "file_hash": "reg",
                }
            )
        return ids

    # ------------------------------------------------------------------ department records
    def _add(
        self,
        source: str,
        person: str | None,
        household: str | None,
        fields: dict,
        *,
        match: str = "id_exact",
        source_file: str | None = None,
        source_row: int | None = None,
        file_hash: str | None = None,
        event_key: str | None = None,
        name: str | None = None,
    ) -> tuple[str, str, int]:
        source_file = source_file or f"{source}_2026.xlsx"
        source_row = source_row if source_row is not None else next(self._row)
        if household is None and person is not None:
            household = next(p["household_id"] for p in self.persons if p["id_number"] == person)
        if name is None and person is not None:
            name = next(p["name"] for p in self.persons if p["id_number"] == person)
        rec = {
            "source": source,
            "source_file": source_file,
            "source_row": source_row,
            "file_hash": file_hash or f"h_{source_file}",
            "event_key": event_key or f"{source}:{source_file}:{source_row}",
            "name": name,
            "name_key": name,
            "id_raw": person,
            "id_status": "valid" if person else "missing",
            "id_number": person,
            **fields,
        }
        self.records.append(rec)
        linked = match in ("id_exact", "id_repaired", "fuzzy")
        self.links.append(
            {
                "source": source,
                "source_file": source_file,
                "source_row": source_row,
                "id_number": person if linked else None,
                "household_id": household if linked else None,
                "match_method": match,
                "match_score": 1.0 if linked else 0.0,
                "reason": None if linked else "未找到匹配的户籍人员",
                "candidates": 0,
            }
        )
        return source, source_file, source_row

    def medical(
        self,
        person: str,
        day: dt.date,
        oop: float,
        *,
        visit_type: str = "住院",
        institution: str = "柳州市工人医院",
        total: float | None = None,
        **kw,
    ):
        return self._add(
            "medical",
            person,
            None,
            {
                "event_date": day,
                "settle_date": day,
                "institution": institution,
                "visit_type": visit_type,
                "total_cost": total if total is not None else oop * 3,
                "out_of_pocket": oop,
            },
            **kw,
        )

    def disaster(
        self,
        household: str,
        day: dt.date,
        loss: float,
        *,
        damage: str = "一般损坏",
        kind: str = "洪涝",
        person: str | None = None,
        **kw,
    ):
        return self._add(
            "disaster",
            person,
            household,
            {
                "event_date": day,
                "disaster_date": day,
                "disaster_type": kind,
                "house_damage": damage,
                "direct_loss": loss,
            },
            **kw,
        )

    def civil(self, person: str, day: dt.date, aid: str, *, status: str | None = "新增", amount: float = 600.0, **kw):
        return self._add(
            "civil_affairs",
            person,
            None,
            {"event_date": day, "approved_on": day, "aid_type": aid, "status": status, "amount": amount},
            **kw,
        )

    def employment(
        self,
        person: str,
        day: dt.date,
        *,
        event: str = "失业登记",
        monthly: float = 4000.0,
        workplace: str = "广东省东莞市",
        **kw,
    ):
        return self._add(
            "employment",
            person,
            None,
            {"event_date": day, "event": event, "previous_workplace": workplace, "previous_monthly_income": monthly},
            **kw,
        )

    def property(self, person: str, kind: str = "小型汽车", day: dt.date | None = D(2024, 5, 1), **kw):
        return self._add("property", person, None, {"event_date": day, "property_type": kind}, **kw)

    def ambiguous(self, record: tuple[str, str, int], *candidates: tuple) -> None:
        """Linkage left ``record`` (source, source_file, source_row) for review between registry persons, each given
        as (ID number, posterior[, comparison in words]): the review link and the link_candidate rows, ranked in the
        order given (default comparison 姓名一致；同乡镇)."""
        link = next(r for r in self.links if (r["source"], r["source_file"], r["source_row"]) == record)
        link.update(
            match_method="review",
            id_number=None,
            household_id=None,
            match_score=0.0,
            reason="同乡镇同名多人，无证件号码区分",
            candidates=len(candidates),
        )
        rec = next(r for r in self.records if (r["source"], r["source_file"], r["source_row"]) == record)
        rec.update(id_raw=None, id_status="missing", id_number=None)
        for rank, (person, score, *detail) in enumerate(candidates, start=1):
            p = next(x for x in self.persons if x["id_number"] == person)
            self.candidates.append(
                {
                    "source": record[0],
                    "source_file": record[1],
                    "source_row": record[2],
                    "rank": rank,
                    "id_number": person,
                    "household_id": p["household_id"],
                    "name": p["name"],
                    "county_code": p["county_code"],
                    "township_code": p["township_code"],
                    "village_code": p["village_code"],
                    "score": score,
                    "detail": detail[0] if detail else "姓名一致；同乡镇",
                }
            )

    # ------------------------------------------------------------------ write
    def flush(self, con) -> None:
        def insert(table: str, rows: list[dict]) -> None:
            if not rows:
                return
            frame = pl.DataFrame(rows, infer_schema_length=None)  # noqa: F841 (read by DuckDB by name)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")

        insert("registry_person", self.persons)
        insert("village", self.villages)
        insert("dept_record", self.records)
        insert("link", self.links)
        insert("link_candidate", self.candidates)
        files = {(r["file_hash"], r["source"], r["source_file"]) for r in self.records}
        for h, feed, name in sorted(files, key=lambda t: t[0]):
            con.execute(
                "INSERT OR REPLACE INTO ingested_file (file_hash, feed, file_name, status) VALUES (?,?,?, 'loaded')",
                [h, feed, name],
            )
        self.persons, self.villages, self.records, self.links = [], [], [], []


def suspects(con, round_id: str = "2026Q4") -> dict[str, dict]:
    rows = con.sql("SELECT * FROM suspect WHERE round_id = ?", params=[round_id]).pl().to_dicts()
    return {r["household_id"]: r for r in rows}


def evidence(con, household_id: str, round_id: str = "2026Q4") -> list[dict]:
    return (
        con.sql(
            "SELECT * FROM suspect_evidence WHERE round_id = ? AND household_id = ? ORDER BY source, source_row",
            params=[round_id, household_id],
        )
        .pl()
        .to_dicts()
    )


def test_builder_writes_the_base_schema(tmp_path):
    from warehouse.engine import connect

    city = City()
    ids = city.household("H1")
    city.medical(ids[0], D(2026, 3, 5), 100.0)
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        assert con.sql("SELECT count(*) FROM registry_person").fetchall()[0][0] == 3
        assert con.sql("SELECT count(*) FROM link WHERE match_method = 'id_exact'").fetchall()[0][0] == 1
