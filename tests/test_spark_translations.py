"""The DuckDB constructs the Spark runner translates or interprets (warehouse/steps.py's rewrites, warehouse/spark.py's
statements), each run as a step on both engines over the same small table: the same rows (issue 13, the whole round
on Spark). A translation that changes a value fails here, naming the step.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from warehouse import engine

D = dt.date

ROWS = pl.DataFrame(
    {
        "g": ["a", "a", "a", "b", "b", "c"],
        "k": [2, 1, None, 5, 5, 1],
        "s": ["x", "y", "z", None, "w", "v"],
        "v": ["v1", "v2", "v3", "v4", None, "v6"],
        "x": [1234.5, -1234567.125, 0.005, None, 12.0, 7.25],
        "d": [D(1990, 1, 2), D(1990, 2, 1), None, D(1985, 12, 31), D(1985, 12, 13), D(2000, 1, 1)],
        "l": [["p", "q"], ["r"], [], None, ["q"], ["s", "t"]],
    }
)

#: step → DuckDB SQL over table ``t`` (the columns of ROWS); every result is compared row by row
QUERIES = {
    # list(x ORDER BY …) with a descending key: a comparator on Spark, NULLs last as in DuckDB
    "list_desc": "SELECT g, list(v ORDER BY k DESC, s) AS vs FROM t GROUP BY g",
    "list_asc": "SELECT g, list(s ORDER BY k, v) AS vs FROM t GROUP BY g",
    # string_agg ordered, with a FILTER that leaves nothing for some groups (NULL, not '')
    "string_agg_filter": "SELECT g, string_agg(v, ',' ORDER BY k NULLS LAST, s) FILTER (WHERE k >= 2) AS j "
    "FROM t GROUP BY g",
    "string_agg": "SELECT g, string_agg(s, '；' ORDER BY s) AS j FROM t GROUP BY g",
    "quantile": "SELECT g, quantile_cont(x, 0.9) AS q FROM t WHERE x IS NOT NULL GROUP BY g",
    "money": "SELECT g, s, format('{:,.2f}', x) AS m FROM t",
    "overlap": "SELECT g, s, list_has_any(l, ['q', 's']) AS o FROM t WHERE l IS NOT NULL",
    # a computed list index counts from 1 (Spark's a[i] from 0), NULL beyond the end
    "index": "SELECT g, s, l[k] AS e, [10, 20, 30][k + 1] AS f FROM t WHERE l IS NOT NULL",
    # hash(): engine-specific values, but equal arguments give equal keys and NULLs keep their place
    "hash": "SELECT count(DISTINCT hash(g, s)) AS n, count(DISTINCT hash(s, g)) AS m, "
    "hash('a', NULL) = hash(NULL, 'a') AS swapped, count(CAST(hash(g) AS UBIGINT)) AS typed FROM t",
    "materialized": "WITH m AS MATERIALIZED (SELECT g, count(*) AS n FROM t GROUP BY g) SELECT * FROM m",
    # Damerau–Levenshtein distance 1 of two dates, as linkage spells it (05_compare.score)
    "birth_near": "SELECT a.s AS sa, b.s AS sb, "
    "levenshtein(strftime(a.d, '%Y%m%d'), strftime(b.d, '%Y%m%d')) = 1 "
    "OR list_contains(list_transform(range(1, 8), lambda i: substr(strftime(a.d, '%Y%m%d'), 1, i - 1) "
    "|| substr(strftime(a.d, '%Y%m%d'), i + 1, 1) || substr(strftime(a.d, '%Y%m%d'), i, 1) "
    "|| substr(strftime(a.d, '%Y%m%d'), i + 2)), strftime(b.d, '%Y%m%d')) AS near "
    "FROM t a CROSS JOIN t b WHERE a.d <> b.d",
}


@pytest.fixture
def both(tmp_path, spark_warehouse):
    with (
        engine.session(tmp_path / "w.duckdb") as duck,
        spark_warehouse(tmp_path / "spark").session() as spark,
    ):
        for wh in (duck, spark):
            wh.put("t", ROWS)
        yield duck, spark


def _rows(wh, step):
    return sorted(wh.frame(step).rows(), key=repr)


def test_translated_constructs_give_duckdbs_rows(both, step_dir):
    duck, spark = both
    (step_dir / "q.sql").write_text("".join(f"-- step: {k}\n{q};\n" for k, q in QUERIES.items()), encoding="utf-8")
    for name in QUERIES:
        assert _rows(duck, f"t/q.{name}") == _rows(spark, f"t/q.{name}"), name
    # and they say what they should (the comparison above could pass on two wrong answers)
    assert dict(duck.rows("t/q.string_agg_filter")) == {"a": "v1", "b": "v4", "c": None}
    assert dict(duck.rows("t/q.list_desc"))["a"] == ["v1", "v2", "v3"]
    assert sorted(duck.rows("t/q.money"), key=repr)[0] == ("a", "x", "1,234.50")
    assert duck.rows("t/q.hash")[0] == (6, 6, False, 6)


def test_dml_the_spark_runner_interprets(both, step_dir):
    duck, spark = both
    (step_dir / "dml.sql").write_text(
        "-- step: create\n"
        "CREATE OR REPLACE TEMP TABLE u (a VARCHAR, b BIGINT, c UBIGINT, n VARCHAR DEFAULT 'dflt');\n"
        "-- step: by_name\n"
        "INSERT INTO u BY NAME SELECT 7 AS b, 'x' AS a;\n"
        "-- step: positional\n"
        "INSERT INTO u SELECT 'y', NULL, NULL, NULL;  -- unnamed values, a trailing comment\n"
        "-- step: replace\n"
        "INSERT INTO u BY NAME SELECT t.* EXCLUDE (a), 'z' AS a FROM (SELECT 'q' AS a, 9 AS b) t;\n"
        "-- step: all\n"
        "SELECT a, b, c, n FROM u;\n",
        encoding="utf-8",
    )
    for wh in (duck, spark):
        for step in ("create", "by_name", "positional", "replace"):
            wh.run(f"t/dml.{step}")
    assert (
        _rows(duck, "t/dml.all")
        == _rows(spark, "t/dml.all")
        == [
            ("x", 7, None, "dflt"),
            ("y", None, None, None),
            ("z", 9, None, "dflt"),
        ]
    )


def test_temporary_relations_and_a_second_session(both):
    duck, spark = both
    for wh in (duck, spark):  # the session's temporary relations, not the stored ones
        wh.put("stored", pl.DataFrame({"a": [1, 2]}), temp=False)
        wh.put("tmp_one", pl.DataFrame({"a": [1]}))
        assert wh.temporary("t") == [("t", "TABLE"), ("tmp_one", "TABLE")]
        assert wh.temporary("stored") == []
    with spark.session() as other:
        assert other.count("stored") == 2  # the stored tables, as the first session sees them
        assert not other.exists("t")  # not the first session's temporary table
        other.put("t", pl.DataFrame({"b": [1]}))
        assert other.columns("t") == ["b"]
    assert spark.columns("t") == list(ROWS.columns)


def test_stored_table_dml_rewrites_only_when_rows_change(both, step_dir):
    """Ingest runs a DELETE per table per file ("forget what an earlier attempt left"); on Spark a stored table is
    rewritten whole, so a statement that matches nothing must leave its parts alone — else each registry file
    rewrites the whole registry (a province: 108 exports of ≈ 13 M rows). Inserts append parts, merged past
    MAX_PARTS. Both engines end with the same rows."""
    from warehouse.spark import MAX_PARTS

    duck, spark = both
    (step_dir / "s.sql").write_text(
        "-- step: create\nCREATE TABLE IF NOT EXISTS st (f VARCHAR, r BIGINT, flag BOOLEAN DEFAULT false);\n"
        "-- step: add\nINSERT INTO st (f, r) VALUES (${f}, 0), (${f}, 1), (${f}, 2);\n"
        "-- step: forget\nDELETE FROM st WHERE f = ${f};\n"
        "-- step: mark\nUPDATE st SET flag = true WHERE f = ${f};\n"
        "-- step: all\nSELECT f, r, flag FROM st;\n",
        encoding="utf-8",
    )
    parts = lambda: list(spark.catalog.tables["st"].parts)  # noqa: E731
    for wh in (duck, spark):
        wh.run("t/s.create")
        wh.run("t/s.add", f="a")
        wh.run("t/s.add", f="b")
    before = parts()
    for wh in (duck, spark):
        wh.run("t/s.forget", f="never-loaded")
        wh.run("t/s.mark", f="never-loaded")
    assert parts() == before  # matched nothing: not rewritten
    for wh in (duck, spark):
        wh.run("t/s.forget", f="a")
        wh.run("t/s.mark", f="b")
    assert parts() != before and len(parts()) == 1
    for i in range(MAX_PARTS + 1):
        for wh in (duck, spark):
            wh.run("t/s.add", f=f"n{i}")
    assert len(parts()) <= MAX_PARTS
    got = _rows(duck, "t/s.all")
    assert got == _rows(spark, "t/s.all")
    assert len(got) == 3 * (MAX_PARTS + 2) and ("b", 0, True) in got and not any(f == "a" for f, _, _ in got)


def test_a_step_exported_to_parquet_keeps_its_rows_and_order(both, step_dir, tmp_path):
    """Publication writes links.parquet through ``export``: the engine writes the file (a province's links outgrow
    what a Spark driver may collect), every row once, in the step's order; an empty result is still a file."""
    import pyarrow.parquet as pq

    duck, spark = both
    (step_dir / "e.sql").write_text(
        "-- step: sorted\nSELECT g, k, s FROM t ORDER BY k DESC NULLS LAST, s;\n"
        "-- step: none\nSELECT g, k FROM t WHERE k > 100;\n"
        "-- step: big\nSELECT n FROM big ORDER BY n DESC;\n",
        encoding="utf-8",
    )
    want = [("b", 5, "w"), ("b", 5, None), ("a", 2, "x"), ("c", 1, "v"), ("a", 1, "y"), ("a", None, "z")]
    for label, wh in (("duck", duck), ("spark", spark)):
        path = tmp_path / f"{label}.parquet"
        assert wh.export("t/e.sorted", path) == 6
        assert pl.read_parquet(path).rows() == want, label
        empty = tmp_path / f"{label}-none.parquet"
        assert wh.export("t/e.none", empty) == 0
        assert pq.read_schema(empty).names == ["g", "k"], label
    # a result of several ranges (parts) comes back in order
    spark.spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
    try:
        for wh in (duck, spark):
            wh.put("big", pl.DataFrame({"n": range(20_000)}).sample(fraction=1.0, shuffle=True, seed=1))
            assert wh.export("t/e.big", tmp_path / "big.parquet") == 20_000
            assert pl.read_parquet(tmp_path / "big.parquet")["n"].to_list() == list(range(19_999, -1, -1))
    finally:
        spark.spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "true")
    assert not list((tmp_path / "spark").rglob("_export/*"))  # Spark's parts are gone
