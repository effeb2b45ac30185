"""Synthetic city generator: registry validity, files ↔ ground truth, scenarios, noise, determinism."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from fangpin import settings
from fangpin.domain import divisions, idnumber
from fangpin.home import DataHome
from fangpin.synth import clear_generated, generate, parse_round, vocab
from fangpin.synth import events as E
from fangpin.synth.feeds import HEADER_VARIANTS, ID_TAG, TOTAL_TEXT

REF = dt.date(2026, 10, 1)
FEEDS = ("medical", "disaster", "civil_affairs", "employment")
ALL_NOISE = {
    "homophone",
    "traditional",
    "minority_dot",
    "fullwidth_id",
    "id_missing",
    "id_15",
    "id_typo",
    "id_transposed",
    "id_mangled",
    "wrong_village",
    "not_in_registry",
    "namesake",
    "head_only",
    "duplicate_event",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, dict]:
    home = tmp_path_factory.mktemp("tiny")
    manifest = generate(home, size="tiny", seed=7)
    return home, manifest


def _truth(home: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(DataHome(home).truth / f"{name}.parquet")


def _read_rows(path: Path, info: dict) -> list[list[str | None]]:
    """All rows of a file as a person sees them (index 0 = sheet row / CSV line 1)."""
    if info["format"] == "xlsx":
        sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string")
        return [list(r) for r in sheet.to_polars().rows()]
    raw = path.read_bytes()
    text = raw.decode({"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gbk"}[info["encoding"]])
    return [row for row in csv.reader(io.StringIO(text))]


# ---------------------------------------------------------------------------------------------- registry


def test_tiny_is_fast_and_small(tiny):
    _, m = tiny
    assert 100 <= m["counts"]["households"] <= 140
    assert m["elapsed_seconds"]["total"] < 5  # ≈0.5 s on an idle machine; generous for shared CI
    assert set(m["counts"]) >= {"households", "persons", "records", "files"}


def test_registry_ids_valid_and_consistent(tiny):
    home, _ = tiny
    p = _truth(home, "persons")
    assert p["id_number"].n_unique() == len(p)
    for pid, sex, birth in p.select("id_number", "sex", "birth_date").iter_rows():
        assert idnumber.classify(pid) == ("valid", pid)
        assert idnumber.sex(pid) == sex
        assert idnumber.birth_date(pid) == birth
    # address code = the county, or the historic 柳江县 code for 柳江 people born before 2016
    area = p.select(a=pl.col("id_number").str.slice(0, 6), c="county_code", y=pl.col("birth_date").dt.year())
    odd = area.filter(pl.col("a") != pl.col("c"))
    assert len(odd) > 0, "the tiny city includes 柳江: some old IDs must carry 450221"
    assert odd.filter((pl.col("a") != "450221") | (pl.col("c") != "450206") | (pl.col("y") >= 2016)).is_empty()


def test_relations_sex_and_ages(tiny):
    home, _ = tiny
    p = _truth(home, "persons").with_columns(age=(pl.lit(REF) - pl.col("birth_date")).dt.total_days() / 365.25)
    for rel, sex in p.select("relation", "sex").iter_rows():
        want = vocab.RELATION_SEX.get(rel)
        assert rel in vocab.RELATION_SEX, rel
        assert want is None or want == sex, (rel, sex)
    heads = p.filter(pl.col("relation") == "户主").select("household_id", head_age="age", head_sex="sex")
    assert len(heads) == p["household_id"].n_unique()
    j = p.join(heads, on="household_id")
    assert j.filter(pl.col("relation") == "户主").select(pl.col("age").is_between(25, 85.01).all()).item()
    sp = j.filter(pl.col("relation") == "配偶")
    assert sp.select(((pl.col("age") - pl.col("head_age")).abs() <= 5.01).all()).item()
    assert sp.select((pl.col("sex") != pl.col("head_sex")).all()).item()
    kids = j.filter(pl.col("relation").is_in(["之子", "之女"]))
    assert kids.select((pl.col("head_age") - pl.col("age")).is_between(19.99, 40.01).all()).item()
    grand = j.filter(pl.col("relation").is_in(["之孙子", "之孙女"]))
    assert grand.select((pl.col("head_age") - pl.col("age")).is_between(38, 62).all()).item()
    parents = j.filter(pl.col("relation").is_in(["之父", "之母"]))
    assert parents.select((pl.col("age") - pl.col("head_age")).is_between(15, 40).all()).item()
    assert p.filter(pl.col("age") < 16).select((pl.col("labour") == "无劳动力").all()).item()


def test_registry_files_match_truth(tiny):
    home, m = tiny
    p = _truth(home, "persons")
    reg = [f for f in m["files"] if f["feed"] == "registry" and not f.get("village_table")]
    assert {f["format"] for f in reg} >= {"xlsx", "csv_utf8"}
    ids = []
    for info in reg:
        rows = _read_rows(DataHome(home).landing_for("registry") / info["file"], info)
        header = rows[info["header_row"] - 1]
        assert "证件号码" in header and "户编号" in header and "人均纯收入（元）" in header
        k = header.index("证件号码")
        data = rows[info["first_data_row"] - 1 :]
        assert len(data) == info["data_rows"]
        ids += [r[k] for r in data]
    assert sorted(ids) == sorted(p["id_number"].to_list())
    village = next(f for f in m["files"] if f.get("village_table"))
    assert "行政村" in village["file"]
    rows = _read_rows(DataHome(home).landing_for("registry") / village["file"], village)
    assert rows[village["header_row"] - 1] == [
        "行政村代码",
        "行政村",
        "乡(镇)",
        "县(市、区)",
        "是否原深度贫困村",
        "是否易地搬迁安置社区",
    ]
    codes = [r[0] for r in rows[village["first_data_row"] - 1 :]]
    assert all(len(c) == 12 and c.isdigit() for c in codes)
    assert set(p["village_code"]) <= set(codes)


def test_namesakes_and_minority_names(tiny):
    home, _ = tiny
    p = _truth(home, "persons")
    dup = (
        p.group_by("village_code", "name").agg(n=pl.len(), hh=pl.col("household_id").n_unique()).filter(pl.col("n") > 1)
    )
    assert len(dup) >= 3 and (dup["hh"] > 1).any()
    assert p["name"].str.contains("·", literal=True).any()


# ---------------------------------------------------------------------------------------------- truth


def test_all_scenarios_categories_and_types_present(tiny):
    home, m = tiny
    h = _truth(home, "households")
    assert set(E.SCENARIOS) <= set(h["scenario"])
    risk = h.filter("at_risk")
    assert set(risk["expected_category"]) == {"脱贫不稳定户", "边缘易致贫户", "突发严重困难户", "监测户新增风险"}
    types = set(risk.select(pl.col("expected_risk_types").explode())["expected_risk_types"])
    assert types == {"因病", "因自然灾害", "因安全住房", "因务工就业不稳", "其他", "缺劳动力"}
    assert risk["suspect_again"].any()
    assert (risk["signals"].list.len() >= 2).any()
    assert (risk["expected_risk_types"].list.len() <= 5).all()
    assert h.filter(~pl.col("at_risk"))["expected_risk_types"].list.len().max() == 0
    assert risk["evidence_exact_ids"].any() and not risk["evidence_exact_ids"].all()
    for name, sc in E.SCENARIOS.items():
        got = h.filter(pl.col("scenario") == name)["at_risk"]
        assert got.to_list() == [sc["risk"]] * len(got), name
    assert m["counts"]["at_risk_households"] == len(risk)


def test_truth_rules_hold_on_households(tiny):
    home, _ = tiny
    h = _truth(home, "households").filter("at_risk")
    line = h["monitoring_line"][0]
    for row in h.iter_rows(named=True):
        cat, adj = row["expected_category"], row["adjusted_per_capita_income"]
        if cat in ("脱贫不稳定户", "边缘易致贫户"):
            assert adj < 0.95 * line
            assert (cat == "脱贫不稳定户") == (row["household_type"] == "脱贫户")
            assert row["monitoring_category"] == "" or row["risk_eliminated"] == "是"
        elif cat == "突发严重困难户":
            assert adj > 1.05 * line
            assert row["rigid_spending"] >= 0.55 * row["base_per_capita_income"] * row["household_size"]
        else:
            assert row["monitoring_category"] != "" and row["risk_eliminated"] == "否"
        assert row["suspect_again"] == (row["risk_eliminated"] == "是")


def test_duplicates_and_outdated_do_not_count(tiny):
    home, _ = tiny
    h = _truth(home, "households")
    r = _truth(home, "records")
    trap = h.filter(pl.col("scenario") == "duplicate_trap")["household_id"]
    dups = r.filter(
        pl.col("true_household_id").is_in(trap.implode()) & pl.col("noise").list.contains("duplicate_event")
    )
    assert len(dups) >= 2
    assert not h.filter(pl.col("scenario").is_in(["duplicate_trap", "outside_window"]))["at_risk"].any()
    # every duplicate copy points to an event that also has its original record
    copies = r.filter(pl.col("is_duplicate"))
    originals = r.filter(~pl.col("is_duplicate"))
    assert set(copies["event_id"]) <= set(originals["event_id"])
    assert (copies["source_file"] != "").all()
    outside = r.filter(~pl.col("in_window") & pl.col("true_id_number").is_not_null())
    assert len(outside) > 0 and not outside["signal"].any()


def test_noise_tags_and_exact_ids(tiny):
    home, m = tiny
    r = _truth(home, "records")
    tags = set(r.select(pl.col("noise").explode().drop_nulls())["noise"])
    assert ALL_NOISE <= tags, ALL_NOISE - tags
    reg = r.filter(pl.col("true_id_number").is_not_null())
    assert 0.6 < reg["id_exact"].mean() < 0.95
    assert r.filter(pl.col("true_id_number").is_null())["noise"].list.contains("not_in_registry").all()
    med = r.filter(pl.col("source") == "medical", pl.col("true_id_number").is_not_null())
    assert med["id_exact"].mean() > 0.75
    dis = r.filter(pl.col("source") == "disaster", pl.col("true_id_number").is_not_null())
    assert dis["noise"].list.contains("id_missing").mean() > 0.4
    assert dis["noise"].list.contains("head_only").all()


def test_records_map_one_to_one_to_file_rows(tiny):
    home, m = tiny
    r = _truth(home, "records")
    dept = [f for f in m["files"] if f["feed"] in FEEDS]
    assert {f["format"] for f in dept} == {"xlsx", "csv_utf8", "csv_bom", "csv_gbk"}
    assert {f["date_style"] for f in dept} >= {"iso", "slash", "chinese", "serial", "datecell"}
    assert {f["amount_style"] for f in dept} == {"plain", "comma", "yuan"}
    assert any(f["total_row"] for f in dept) and any(f["title_rows"] == 2 for f in dept)
    used = {h for f in dept for h in f["headers"]}
    assert {
        "姓名",
        "患者姓名",
        "参保人姓名",
        "个人自付",
        "合规自付",
        "个人负担",
        "身份证号",
        "证件号码",
        "公民身份号码",
    } <= used
    assert len(r) == sum(f["data_rows"] for f in dept)
    for info in dept:
        feed = info["feed"]
        path = DataHome(home).landing_for(feed) / info["file"]
        assert path.exists()
        rows = _read_rows(path, info)
        header = rows[info["header_row"] - 1]
        assert header == info["headers"] if not info["seq_column"] else header == ["序号"] + info["headers"]
        id_col = next(i for i, hd in enumerate(header) if hd in HEADER_VARIANTS[feed]["id_number"])
        name_field = "head_name" if feed == "disaster" else "name"
        name_col = next(i for i, hd in enumerate(header) if hd in HEADER_VARIANTS[feed][name_field])
        data = rows[info["first_data_row"] - 1 :]
        if info["total_row"]:
            assert data[-1][0] == TOTAL_TEXT
            data = data[:-1]
        mine = r.filter(pl.col("source_file") == info["file"]).sort("source_row")
        assert len(data) == len(mine) == info["data_rows"], info["file"]
        assert mine["source_row"].to_list() == list(range(info["first_data_row"], info["first_data_row"] + len(data)))
        for rec in mine.iter_rows(named=True):
            row = rows[rec["source_row"] - 1]
            cell = row[id_col] or ""
            if rec["id_cell"] == "number":
                assert math.isclose(float(cell), float(rec["id_written"]), rel_tol=1e-12)
                assert idnumber.classify(cell)[0] != "valid" or idnumber.classify(cell)[1] != rec["true_id_number"]
            else:
                assert cell == (rec["id_written"] or ""), (info["file"], rec["source_row"])
            assert (row[name_col] or "") == rec["name_written"]
            status, number = idnumber.classify(cell)
            if rec["id_exact"]:
                assert (status, number) == ("valid", rec["true_id_number"])
            else:
                assert number is None or number != rec["true_id_number"] or status == "converted15"


def test_amounts_consistent_in_a_medical_file(tiny):
    home, m = tiny
    info = next(f for f in m["files"] if f["feed"] == "medical" and f["amount_style"] == "comma")
    rows = _read_rows(DataHome(home).landing_for("medical") / info["file"], info)
    header = rows[info["header_row"] - 1]
    col = {h: i for i, h in enumerate(header)}
    total_h = "医疗总费用"
    parts = [
        next(h for h in header if h in HEADER_VARIANTS["medical"][f])
        for f in ("fund_paid", "critical_illness_paid", "medical_aid_paid", "out_of_pocket")
    ]
    data = rows[info["first_data_row"] - 1 :]
    if info["total_row"]:
        data = data[:-1]
    for r in data:
        val = lambda h, r=r: round(float(r[col[h]].replace(",", "")) * 100)  # noqa: E731
        assert val(total_h) == sum(val(h) for h in parts)


# ---------------------------------------------------------------------------------------------- API behaviour


def test_determinism_and_refusal(tmp_path, tiny):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, size="tiny", seed=11)
    generate(b, size="tiny", seed=11)
    generate(c, size="tiny", seed=12)
    fa = sorted(p.relative_to(a / "landing") for p in (a / "landing").rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b / "landing") for p in (b / "landing").rglob("*") if p.is_file())
    assert fa == fb
    for rel in fa:
        assert (a / "landing" / rel).read_bytes() == (b / "landing" / rel).read_bytes(), rel
    for name in ("persons", "households", "records"):
        assert _truth(a, name).equals(_truth(b, name)), name
    assert not _truth(a, "persons").equals(_truth(c, "persons"))
    with pytest.raises(ValueError, match="already holds"):
        generate(a, size="tiny", seed=11)
    clear_generated(a)
    assert not any(p.is_file() for p in (a / "landing").rglob("*"))
    assert not (a / "truth" / "manifest.json").exists()
    generate(a, size="tiny", seed=11, formats="csv")
    formats = {f["format"] for f in json.loads((a / "truth" / "manifest.json").read_text(encoding="utf-8"))["files"]}
    assert "xlsx" not in formats


def test_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, size="huge")
    with pytest.raises(ValueError):
        generate(tmp_path, size="tiny", round_id="2026-10")
    with pytest.raises(ValueError):
        generate(tmp_path, size="tiny", formats="parquet")
    assert parse_round("2026Q4") == dt.date(2026, 10, 1)
    assert parse_round("2027Q1") == dt.date(2027, 1, 1)


def test_homophone_groups_are_homophones():
    from pypinyin import lazy_pinyin

    seen = {}
    for group in vocab.HOMOPHONE_GROUPS:
        members = list(dict.fromkeys(group))
        if len(members) > 1:
            readings = {lazy_pinyin(c)[0] for c in members}
            assert len(readings) == 1, (group, readings)
            for c in members:
                assert c not in seen, f"{c} is in two homophone groups"
                seen[c] = group
    tmap = vocab.traditional_map()
    assert tmap.get("陈") == "陳" and tmap.get("刘") == "劉"
    assert set(ID_TAG.values()) < ALL_NOISE


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    home = tmp_path_factory.mktemp("demo")
    return home, generate(home, size="demo", seed=3)


@pytest.mark.slow
def test_demo_city_covers_all_counties(demo):
    home, m = demo
    h = _truth(home, "households")
    p = _truth(home, "persons")
    assert 4500 <= len(h) <= 5500
    assert h["county_code"].n_unique() == 10
    assert p["id_number"].str.starts_with("450221").sum() > 50
    share = h.group_by("county_code").agg(t=(pl.col("household_type") == "脱贫户").mean())
    t = dict(share.iter_rows())
    assert t["450225"] > 0.25 and t["450206"] < 0.2
    assert m["counts"]["at_risk_households"] >= 60
    assert min(m["scenarios"][s] for s in E.SCENARIOS) >= 4


def test_large_cities_are_generated_in_parts(tmp_path, monkeypatch):
    from fangpin.synth import generator

    monkeypatch.setattr(generator, "PART_MAX_HOUSEHOLDS", 60)
    m = generate(tmp_path, size="tiny", seed=5)
    assert m["parts"] == 2
    p, h, r = _truth(tmp_path, "persons"), _truth(tmp_path, "households"), _truth(tmp_path, "records")
    assert p["id_number"].n_unique() == len(p)
    assert h["household_id"].n_unique() == len(h)
    assert r.filter(~pl.col("is_duplicate"))["event_id"].is_unique().all()
    # namesakes are counted over the whole city, not per part
    counted = p.with_columns(n=pl.len().over("township_code", "name"))
    assert (counted["namesakes_in_township"] == counted["n"] - 1).all()
    # the second part is a prefecture of its own (a province is prefectures of a city's size, not one crowded city):
    # its own county codes and names, townships, villages, and ID address codes
    towns = p.select("county_code", "county", "township_code", "township").unique()
    second = towns.filter(pl.col("county_code").str.starts_with("4504"))
    assert second.height and towns.height > second.height
    assert towns.filter(~pl.col("county_code").str.starts_with("4504"))["county_code"].str.starts_with("4502").all()
    assert towns["township_code"].is_unique().all() and towns["township"].is_unique().all()
    assert (towns["township_code"].str.slice(0, 6) == towns["county_code"]).all()
    assert not set(second["county"]) & {t.county_name for t in divisions.reference_townships()}
    assert p.select("village_code", "township_code").unique()["village_code"].is_unique().all()
    in_second = p.filter(pl.col("county_code").str.starts_with("4504"))
    assert (
        in_second["id_number"].str.starts_with("4504").all() and in_second["household_id"].str.starts_with("4504").all()
    )
    # … and the home is configured for it: its divisions, the province's monitoring line, the prefecture-scoped rule
    config = tmp_path / "config"
    table = pl.read_csv(config / "divisions.csv", infer_schema=False)
    assert set(towns["township_code"]) <= set(table["township_code"])
    assert set(table["county_code"].str.slice(0, 4)) == {"4502", "4504"}
    assert '"45":' in (config / "rules.yaml").read_text(encoding="utf-8")
    assert "keys: [prefecture_code, birth_date, surname_py]" in (config / "linkage.yaml").read_text(encoding="utf-8")
    assert settings.rules_for("450425", 2026, tmp_path)["region"] == "45"
    names = {f["file"] for f in m["files"]}
    assert any("（第2部分）" in n for n in names)
    on_disk = {q.name for q in (tmp_path / "landing").rglob("*") if q.is_file()}
    assert names == on_disk
    assert set(r["source_file"]) <= names
    # a single city generated into the same home later takes the province's configuration away again
    clear_generated(tmp_path)
    monkeypatch.setattr(generator, "PART_MAX_HOUSEHOLDS", 400_000)
    assert generate(tmp_path, size="tiny", seed=5)["parts"] == 1
    assert not any((tmp_path / "config").iterdir())


def test_the_generator_never_replaces_configuration_it_did_not_write(tmp_path, monkeypatch):
    from fangpin.synth import generator

    monkeypatch.setattr(generator, "PART_MAX_HOUSEHOLDS", 60)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "rules.yaml").write_text("# the bureau's own\n", encoding="utf-8")
    with pytest.raises(ValueError, match="rules.yaml not written by the generator"):
        generate(tmp_path, size="tiny", seed=5)
    assert (tmp_path / "config" / "rules.yaml").read_text(encoding="utf-8") == "# the bureau's own\n"


# ---------------------------------------------------------------------------------------------- names at scale


def _township_namesake_share(home: Path) -> float:
    p = _truth(home, "persons")
    return p.select((pl.len().over("township_code", "name") > 1).mean()).item()


@pytest.mark.parametrize("asked, want", [("stress", 0.45), ("0.3", 0.3), (0.05, 0.05)])
def test_namesake_knob_reaches_the_requested_share(tmp_path, asked, want):
    m = generate(tmp_path, size="tiny", seed=5, namesake_share=asked)
    share = _township_namesake_share(tmp_path)
    assert abs(share - want) <= 0.01, (asked, share)
    assert m["names"]["namesake_share"] == round(share, 4) and m["names"]["namesake_target"] == want


def test_namesake_truth_columns_agree_with_the_registry(tiny):
    home, m = tiny
    assert abs(_township_namesake_share(home) - 0.20) <= 0.01, "the default is the realistic level"
    p, r = _truth(home, "persons"), _truth(home, "records")
    counted = p.with_columns(n=pl.len().over("township_code", "name"))
    assert (counted["namesakes_in_township"] == counted["n"] - 1).all()
    reg = r.filter(pl.col("true_id_number").is_not_null()).join(
        p.select("id_number", person=pl.col("namesakes_in_township")), left_on="true_id_number", right_on="id_number"
    )
    assert len(reg) == r["true_id_number"].is_not_null().sum()
    assert (reg["namesakes_in_township"] == reg["person"]).all()
    assert (reg["name_unique_in_township"] == (reg["person"] == 0)).all()
    assert reg["outsider_kind"].is_null().all() and not reg["name_unique_in_township"].all()
    out = r.filter(pl.col("true_id_number").is_null())
    assert out["outsider_kind"].is_not_null().all() and out["name_unique_in_township"].is_null().all()


def test_given_names_follow_their_generation(demo):
    home, _ = demo
    p = _truth(home, "persons").with_columns(year=pl.col("birth_date").dt.year(), given=pl.col("name").str.slice(1))

    def top(cond: pl.Expr, k: int = 5) -> list[str]:
        g = p.filter(cond).group_by("given").len().sort(["len", "given"], descending=[True, False])
        return g.head(k)["given"].to_list()

    woman, man = pl.col("sex") == "女", pl.col("sex") == "男"
    old_w, young_w = top(woman & (pl.col("year") < 1965)), top(woman & (pl.col("year") >= 1995))
    old_m, young_m = top(man & (pl.col("year") < 1965)), top(man & (pl.col("year") >= 1995))
    assert "秀英" in old_w[:2] and not set(old_w) & set(young_w), (old_w, young_w)
    assert not set(old_m) & set(young_m), (old_m, young_m)
    for given, sex, born in (
        ("秀英", woman, pl.col("year") < 1965),
        ("建国", man, pl.col("year").is_between(1950, 1964)),
    ):
        then = p.filter(sex & born).select((pl.col("given") == given).mean()).item()
        later = p.filter(sex & (pl.col("year") >= 1980)).select((pl.col("given") == given).mean()).item()
        assert then > 0.005 and then > 5 * later, (given, then, later)
    # Guangxi surnames: 韦 覃 莫 蓝 among the registry's; Miao and Dong names keep their middle dot
    surnames = set(p["name"].str.slice(0, 1))
    assert {"韦", "覃", "莫", "蓝", "潘", "梁"} <= surnames
    assert p["name"].str.contains("·", literal=True).any()


def test_departments_lack_ids_at_their_own_rates(demo):
    home, m = demo
    r = _truth(home, "records")
    in_file = [idnumber.classify(x)[0] in ("valid", "converted15") for x in r["id_written"].to_list()]
    r = r.with_columns(in_file=pl.Series(in_file))
    # id_usable is what the file shows; only a spreadsheet number may pass the check character by chance
    differ = r.filter(pl.col("in_file") != pl.col("id_usable"))
    assert differ.filter((pl.col("id_cell") != "number") | pl.col("id_usable")).is_empty()
    rate = dict(r.group_by("source").agg((~pl.col("id_usable")).mean()).iter_rows())
    assert rate["medical"] < 0.12 and 0.08 < rate["employment"] < 0.22
    assert 0.18 < rate["civil_affairs"] < 0.35 and rate["disaster"] > 0.55
    assert rate["medical"] < rate["employment"] < rate["civil_affairs"] < rate["disaster"]
    assert m["ids"]["no_usable_id_share"] == {k: round(v, 4) for k, v in sorted(rate.items())}


def test_id_noise_rates_are_spec_configuration(tmp_path, monkeypatch):
    from fangpin.synth import generator
    from fangpin.synth.feeds import ID_NOISE

    rates = {**ID_NOISE, "civil_affairs": {"missing": 1.0}}
    monkeypatch.setitem(generator.SIZES, "tiny", {**generator.SIZES["tiny"], "id_noise": rates})
    generate(tmp_path, size="tiny", seed=5)
    r = _truth(tmp_path, "records")
    civil = r.filter(pl.col("source") == "civil_affairs")
    assert len(civil) and (civil["id_written"].fill_null("") == "").all() and not civil["id_usable"].any()
    assert r.filter(pl.col("source") == "medical")["id_usable"].mean() > 0.8


def test_outsiders_share_common_names_and_come_from_elsewhere(demo):
    home, _ = demo
    r, p = _truth(home, "records"), _truth(home, "persons")
    out = r.filter(pl.col("true_id_number").is_null())
    kinds = set(out["outsider_kind"])
    assert kinds == {"valid_id_elsewhere", "valid_id_city", "no_id_common_name", "no_id_local", "address_elsewhere"}
    assert out["name_written"].is_in(p["name"].implode()).mean() > 0.4  # common names collide
    common = out.filter(pl.col("outsider_kind") == "no_id_common_name")
    assert (common["namesakes_in_township"] >= 1).all() and common["name_written"].is_in(p["name"].implode()).all()
    assert not out["id_written"].is_in(p["id_number"].implode()).any()
    city = set(vocab.SHORT_COUNTY) | {"450221"}
    valid = out.filter(pl.col("outsider_kind").str.starts_with("valid_id"))
    for kind, raw in valid.select("outsider_kind", "id_written").iter_rows():
        status, number = idnumber.classify(raw)
        assert status in ("valid", "converted15") and (number[:6] in city) == (kind == "valid_id_city"), raw
    assert (out.filter(pl.col("outsider_kind") == "address_elsewhere")["namesakes_in_township"].is_null()).all()
    assert set(out["source"]) == set(FEEDS)


def test_a_city_registry_comes_as_one_xlsx_per_county(tmp_path, monkeypatch):
    from fangpin.synth import generator

    monkeypatch.setitem(generator.SIZES, "city", generator.SIZES["tiny"])  # the city rule on a tiny population
    m = generate(tmp_path, size="city", seed=3)
    p = _truth(tmp_path, "persons")
    reg = [f for f in m["files"] if f["feed"] == "registry" and not f.get("village_table")]
    assert sorted(f["county_code"] for f in reg) == sorted(p["county_code"].unique())
    assert {f["format"] for f in reg} == {"xlsx"}
    for info in reg:
        rows = _read_rows(DataHome(tmp_path).landing_for("registry") / info["file"], info)
        k = rows[info["header_row"] - 1].index("证件号码")
        ids = sorted(row[k] for row in rows[info["first_data_row"] - 1 :])
        assert ids == sorted(p.filter(pl.col("county_code") == info["county_code"])["id_number"]), info["file"]


def test_xlsx_writer_cells_read_back_like_xlsxwriter(tmp_path):
    import numpy as np
    import xlsxwriter

    from fangpin.synth.xlsx import write_xlsx

    header = ["姓名", "金额", "证件号码", "日期"]
    texts = [
        pl.Series(["a&b<c>", "王秀英", "", None, "韦·阿妹"] * 30),
        pl.Series(["1", "2.5", "3", "4", "x"] * 30),
        pl.Series(["4.5E+17", "", "450221196501011234", "", ""] * 30),
        pl.Series(["2024-01-01", "2024年1月2日", "", "", ""] * 30),
    ]
    numbers = [
        None,
        np.array([1.0, 2.5, np.nan, 4.0, np.nan] * 30),
        np.array([450221196501011000.0, np.nan, np.nan, np.nan, np.nan] * 30),
        np.array([45000.0, np.nan, np.nan, 45003.0, np.nan] * 30),
    ]
    dates = [False, False, False, True]
    total = [("合计", None), ("", 12.5), ("", None), ("", None)]
    ours = tmp_path / "ours.xlsx"
    write_xlsx(ours, ["标题", "副标题"], header, texts, numbers, dates, total, [10] * 4)
    ref = tmp_path / "ref.xlsx"
    wb = xlsxwriter.Workbook(str(ref))
    ws, date_fmt = wb.add_worksheet(), wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_string(0, 0, "标题")
    ws.write_string(1, 0, "副标题")
    for j, h in enumerate(header):
        ws.write_string(2, j, h)
    for i in range(len(texts[0])):
        for j in range(4):
            num = None if numbers[j] is None else numbers[j][i]
            if num is not None and not math.isnan(num):
                ws.write_number(3 + i, j, num, date_fmt if dates[j] else None)
            elif texts[j][i]:
                ws.write_string(3 + i, j, texts[j][i])
    ws.write_string(3 + len(texts[0]), 0, "合计")
    ws.write_number(3 + len(texts[0]), 1, 12.5)
    wb.close()
    for dtype in ("string", "boolean"):  # the text and the number-cell probe of sources/grid.py
        a, b = (fastexcel.read_excel(f.read_bytes()).load_sheet(0, header_row=None, dtypes=dtype) for f in (ours, ref))
        assert a.to_polars().equals(b.to_polars()), dtype


def test_generate_command_reports_the_namesake_share(tmp_path, capsys):
    from fangpin.cli import main

    assert main(["generate", "--size", "tiny", "--home", str(tmp_path), "--namesake-share", "0.3"]) == 0
    out = capsys.readouterr().out
    share = _township_namesake_share(tmp_path)
    assert f"同名：{share:.1%} 的名册人员在本乡镇有同名同姓者（目标 30.0%" in out
    assert "无可用身份证号的部门记录：" in out and "名册外人员的部门记录：" in out
    assert main(["generate", "--size", "tiny", "--home", str(tmp_path), "--force", "--namesake-share", "many"]) == 2
    assert "--namesake-share" in capsys.readouterr().err
    assert (tmp_path / "truth" / "manifest.json").exists(), "a refused value leaves the city in place"


def test_households_at_risk_from_illness_have_an_ill_member(tiny, demo):
    """The registry shows the patient of a planted large bill as ill (registry check R31 holds on every city)."""
    for home, _ in (tiny, demo):
        h = _truth(home, "households").filter(pl.col("expected_risk_types").list.contains("因病"))
        p = _truth(home, "persons").filter(pl.col("health").is_in(["患有大病", "长期慢性病"]))
        assert len(h) and h["household_id"].is_in(p["household_id"].implode()).all()
