"""Step 1 — keys: what linkage compares, computed once per run.

* names: a DISTINCT-names lookup (name → name_key, surname, toneless pinyin with surname readings and polyphonic
  alternatives) computed in Python over the unique names only, then joined back in SQL;
* localities: the division names (county / township / village, full and short forms) that record addresses are
  parsed against;
* persons (``lk_person`` + term frequencies) and records (``lk_rec``: ID evidence, resolved locality) — sql/01..03.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from fangpin.domain import divisions, names
from fangpin.domain.idnumber import add_id_columns
from warehouse.runner import Runner


def build_name_tables(wh: Runner) -> int:
    """lk_namekey (raw name → key, and the name as written) and lk_names (key → surname, pinyin keys).
    Returns the number of distinct keys."""
    raw = wh.frame("linkage/00_sources.distinct_names")
    nk = raw.with_columns(
        names.name_key_expr(pl.col("name")).alias("name_key"),
        names.written_key_expr(pl.col("name")).alias("name_plain"),
    )
    wh.put("lk_namekey", nk)
    table = names.name_table(nk.get_column("name_key"))
    syl = pl.col("py").str.split(" ")
    n_sur = pl.col("surname_py").str.split(" ").list.len()
    table = table.with_columns(
        pl.when(syl.list.len() > n_sur).then(syl.list.get(n_sur, null_on_oob=True)).alias("given1_py"),
        pl.when(syl.list.len() > n_sur).then(syl.list.last()).alias("given_last_py"),
    )
    wh.put("lk_names", table)
    return table.height


def build_locality_forms(wh: Runner) -> None:
    """lk_locform(level, code, parent_code, county_code, form, kind, flen) and lk_area_map(area6, county_code)."""
    wh.run("linkage/00_sources." + ("registry_and_village_table" if wh.exists("village") else "registry_villages"))
    ref = wh.frame("linkage/00_sources.divisions", villages="lk_villages")
    rows: list[tuple[str, str, str | None, str, str, str]] = []

    def add(level: str, code: str | None, parent: str | None, county: str | None, name: str | None) -> None:
        if not code or not name:
            return
        full = "".join(str(name).split())
        if len(full) < 2:  # no division is named by one character; 02_locality finds names by their first two
            return
        rows.append((level, code, parent, county, full, "full"))
        short = divisions.short_name(full)
        if short and short != full and len(short) >= 2:
            rows.append((level, code, parent, county, short, "short"))

    for r in ref.iter_rows(named=True):  # one row per village: small (hundreds to a few thousand)
        add("county", r["county_code"], None, r["county_code"], r["county"])
        add("township", r["township_code"], r["county_code"], r["county_code"], r["township"])
        add("village", r["village_code"], r["township_code"], r["county_code"], r["village"])
    for t in divisions.townships():  # the real division names, in case the registry spells them differently
        add("county", t.county_code, None, t.county_code, t.county_name)
        add("township", t.code, t.county_code, t.county_code, t.name)
    add("county", "450206", None, "450206", "柳江县")  # became 柳江区 in 2016; addresses still say 柳江县
    df = pl.DataFrame(
        rows, schema=["level", "code", "parent_code", "county_code", "form", "kind"], orient="row"
    ).unique()
    df = df.with_columns(pl.col("form").str.len_chars().cast(pl.Int32).alias("flen"))
    wh.put("lk_locform", df)
    area = {c: c for c in divisions.counties()} | dict(divisions.HISTORIC_COUNTY_CODES)
    codes = set(ref.get_column("county_code").drop_nulls().to_list())
    area |= {c: c for c in codes}
    wh.put("lk_area_map", pl.DataFrame({"area6": list(area), "county_code": list(area.values())}))


def ensure_id_columns(wh: Runner) -> None:
    """Sources for linkage: ``lk_dept_src`` and ``lk_registry_src`` (temp views; the warehouse tables are only read).

    The loader fills id_status / id_number / id_candidate / birth_date / sex. Rows it left empty are classified here
    (vectorised, the loader's own logic) so linkage never depends on that step having run.
    """
    wh.run("linkage/00_sources.dept_order")
    df = wh.frame("linkage/00_sources.unclassified_dept_ids").with_columns(pl.col("id_raw").cast(pl.String))
    if df.height:
        df = add_id_columns(df, "id_raw").select(
            "id_raw", "id_status", "id_number", "id_candidate", "id_birth_date", "id_sex"
        )
        wh.put("lk_idfix_d", df)
        wh.run("linkage/00_sources.dept_view")
    else:
        wh.run("linkage/00_sources.dept_view_plain")
    wh.run("linkage/00_sources.registry_files")
    df = wh.frame("linkage/00_sources.unclassified_registry_ids").with_columns(pl.col("id_raw").cast(pl.String))
    if df.height:
        wh.put("lk_idfix_r", add_id_columns(df, "id_raw").select("id_raw", "id_status", "id_number"))
        wh.run("linkage/00_sources.registry_view")
    else:
        wh.run("linkage/00_sources.registry_view_plain")


def reference_date(wh: Runner) -> dt.date:
    """The date ages are counted at: the latest event date among the department records (today without any)."""
    return wh.scalar("linkage/00_sources.reference_date") or dt.date.today()


def prepare(wh: Runner, cfg: dict) -> dict[str, int]:
    ensure_id_columns(wh)
    n_names = build_name_tables(wh)
    build_locality_forms(wh)
    places = [str(x) for x in cfg.get("outside", {}).get("places", [])]
    wh.put("lk_outside_place", pl.DataFrame({"form": places}, schema={"form": pl.String}))
    wh.run("linkage/01_persons.persons", ref_date=reference_date(wh))
    wh.run("linkage/01_persons.frequencies")
    wh.run("linkage/02_locality")
    wh.run("linkage/03_records.records")
    n_p, n_r = wh.rows("linkage/03_records.counts")[0]
    return {"persons": n_p, "records": n_r, "distinct_names": n_names}
