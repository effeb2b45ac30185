"""Step 1 — keys: what linkage compares, computed once per run.

* names: a DISTINCT-names lookup (name → name_key, surname, toneless pinyin with surname readings and polyphonic
  alternatives) computed in Python over the unique names only, then joined back in SQL;
* localities: the division names (county / township / village, full and short forms) that record addresses are
  parsed against;
* persons (``lk_person`` + term frequencies) and records (``lk_rec``: ID evidence, resolved locality) — sql/01..03.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from fangpin.domain import divisions, names
from fangpin.domain.idnumber import add_id_columns

from ._sql import run


def _register(con: duckdb.DuckDBPyConnection, table: str, df: pl.DataFrame) -> None:
    con.register("_lk_tmp", df.to_arrow())
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _lk_tmp")
    finally:
        con.unregister("_lk_tmp")


def build_name_tables(con: duckdb.DuckDBPyConnection) -> int:
    """lk_namekey (raw name → key, and the name as written) and lk_names (key → surname, pinyin keys).
    Returns the number of distinct keys."""
    raw = con.sql(
        "SELECT DISTINCT name FROM registry_person WHERE name IS NOT NULL "
        "UNION SELECT DISTINCT name FROM dept_record WHERE name IS NOT NULL"
    ).pl()
    nk = raw.with_columns(
        names.name_key_expr(pl.col("name")).alias("name_key"),
        names.written_key_expr(pl.col("name")).alias("name_plain"),
    )
    _register(con, "lk_namekey", nk)
    table = names.name_table(nk.get_column("name_key"))
    syl = pl.col("py").str.split(" ")
    n_sur = pl.col("surname_py").str.split(" ").list.len()
    table = table.with_columns(
        pl.when(syl.list.len() > n_sur).then(syl.list.get(n_sur, null_on_oob=True)).alias("given1_py"),
        pl.when(syl.list.len() > n_sur).then(syl.list.last()).alias("given_last_py"),
    )
    _register(con, "lk_names", table)
    return table.height


def build_locality_forms(con: duckdb.DuckDBPyConnection) -> None:
    """lk_locform(level, code, parent_code, county_code, form, kind, flen) and lk_area_map(area6, county_code)."""
    has_village = bool(
        con.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'village'").fetchall()[0][0]
    )
    q = """
        SELECT DISTINCT coalesce(county_code, left(village_code, 6)) AS county_code, county,
               coalesce(township_code, left(village_code, 9)) AS township_code, township, village_code, village
        FROM registry_person
    """
    if has_village:
        q += """ UNION SELECT DISTINCT coalesce(county_code, left(village_code, 6)), county,
                        coalesce(township_code, left(village_code, 9)), township, village_code, village FROM village"""
    ref = con.sql(q).pl()
    rows: list[tuple[str, str, str | None, str, str, str]] = []

    def add(level: str, code: str | None, parent: str | None, county: str | None, name: str | None) -> None:
        if not code or not name:
            return
        full = "".join(str(name).split())
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
    _register(con, "lk_locform", df)
    area = {c: c for c in divisions.counties()} | dict(divisions.HISTORIC_COUNTY_CODES)
    codes = set(ref.get_column("county_code").drop_nulls().to_list())
    area |= {c: c for c in codes}
    _register(con, "lk_area_map", pl.DataFrame({"area6": list(area), "county_code": list(area.values())}))


def ensure_id_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Sources for linkage: ``lk_dept_src`` and ``lk_registry_src`` (temp views; the warehouse tables are only read).

    ``_rowid`` (the table's row id) becomes the internal pid / rid: stable for an unchanged table, no sort needed.

    The loader fills id_status / id_number / id_candidate / birth_date / sex. Rows it left empty are classified here
    (vectorised, the loader's own logic) so linkage never depends on that step having run.
    """
    n = con.sql("SELECT count(*) FROM dept_record WHERE id_status IS NULL").fetchall()[0][0]
    if n:
        df = (
            con.sql("SELECT DISTINCT id_raw FROM dept_record WHERE id_status IS NULL")
            .pl()
            .with_columns(pl.col("id_raw").cast(pl.String))
        )
        df = (
            add_id_columns(df, "id_raw")
            .drop("id_clean")
            .select("id_raw", "id_status", "id_number", "id_candidate", "id_birth_date", "id_sex")
        )
        _register(con, "lk_idfix_d", df)
        con.execute("""
            CREATE OR REPLACE TEMP VIEW lk_dept_src AS
            SELECT d.rowid AS _rowid, d.* REPLACE (
                coalesce(d.id_status, f.id_status) AS id_status,
                CASE WHEN d.id_status IS NULL THEN f.id_number ELSE d.id_number END AS id_number,
                CASE WHEN d.id_status IS NULL THEN f.id_candidate ELSE d.id_candidate END AS id_candidate,
                coalesce(d.birth_date, CASE WHEN d.id_status IS NULL THEN f.id_birth_date END) AS birth_date,
                coalesce(d.sex, CASE WHEN d.id_status IS NULL THEN f.id_sex END) AS sex)
            FROM dept_record d LEFT JOIN lk_idfix_d f ON d.id_status IS NULL AND f.id_raw IS NOT DISTINCT FROM d.id_raw
        """)
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW lk_dept_src AS SELECT rowid AS _rowid, * FROM dept_record")
    m = con.sql(
        "SELECT count(*) FROM registry_person WHERE id_status IS NULL AND id_number IS NULL AND id_raw IS NOT NULL"
    ).fetchall()[0][0]
    if m:
        df = (
            con.sql(
                "SELECT DISTINCT id_raw FROM registry_person WHERE id_status IS NULL AND id_number IS NULL AND id_raw IS NOT NULL"
            )
            .pl()
            .with_columns(pl.col("id_raw").cast(pl.String))
        )
        df = add_id_columns(df, "id_raw").drop("id_clean").select("id_raw", "id_status", "id_number")
        _register(con, "lk_idfix_r", df)
        con.execute("""
            CREATE OR REPLACE TEMP VIEW lk_registry_src AS
            SELECT p.rowid AS _rowid, p.* REPLACE (coalesce(p.id_number, f.id_number) AS id_number)
            FROM registry_person p LEFT JOIN lk_idfix_r f ON p.id_number IS NULL AND f.id_raw = p.id_raw
        """)
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW lk_registry_src AS SELECT rowid AS _rowid, * FROM registry_person")


def reference_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The date ages are counted at: the latest event date among the department records (today without any)."""
    d = con.sql("SELECT max(event_date) FROM dept_record WHERE event_date <= current_date").fetchall()[0][0]
    return d or dt.date.today()


def prepare(con: duckdb.DuckDBPyConnection, cfg: dict) -> dict[str, int]:
    ensure_id_columns(con)
    n_names = build_name_tables(con)
    build_locality_forms(con)
    places = [str(x) for x in cfg.get("outside", {}).get("places", [])]
    _register(con, "lk_outside_place", pl.DataFrame({"form": places}, schema={"form": pl.String}))
    run(con, "01_persons", ref_date=reference_date(con))
    run(con, "02_locality")
    run(con, "03_records")
    n_p, n_r = con.sql("SELECT (SELECT count(*) FROM lk_person), (SELECT count(*) FROM lk_rec)").fetchall()[0]
    return {"persons": n_p, "records": n_r, "distinct_names": n_names}
