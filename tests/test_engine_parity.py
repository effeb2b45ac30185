"""Step-level parity: the same steps over the same tables give the same rows on DuckDB and on Spark (issue 13).

Each test builds its inputs on DuckDB with the real code, copies the tables the steps read to a Spark warehouse
(``copy_tables``), runs the migrated module on both engines and compares every row and value of the tables it
writes (``assert_same_tables``: sorted rows, floats to 1e-9, wall-clock columns left out). A step whose Spark
translation diverges fails here, naming the table and the first differing rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_followup_support import V_RONGSHUI, City, D, event, home_at, warehouse

from warehouse import forms, registry_checks, rounds, rules
from warehouse.followup import apply_followup, deadline_items, elimination_review, funds_factor
from warehouse.runner import Runner

#: columns filled with the time of the write (never equal across two runs)
WALL_CLOCK = {"recorded_at", "ingested_at", "started_at", "finished_at"}


def _value(v):
    if isinstance(v, float):
        return round(v, 9)
    if isinstance(v, decimal.Decimal):
        return round(float(v), 9)
    if isinstance(v, (list, tuple)):
        return tuple(_value(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _value(x)) for k, x in v.items()))
    return v


def table_rows(wh: Runner, table: str) -> tuple[list[str], list[tuple]]:
    frame = wh.frame("core/queries.all", table=table)
    frame = frame.drop([c for c in frame.columns if c in WALL_CLOCK])
    return frame.columns, sorted((tuple(_value(v) for v in row) for row in frame.rows()), key=repr)


def assert_same_tables(duck: Runner, spark: Runner, tables: list[str]) -> None:
    for table in tables:
        d_cols, d_rows = table_rows(duck, table)
        s_cols, s_rows = table_rows(spark, table)
        assert d_cols == s_cols, f"{table}: columns differ"
        only_d = [r for r in d_rows if r not in s_rows]
        only_s = [r for r in s_rows if r not in d_rows]
        assert d_rows == s_rows, f"{table}: DuckDB only {only_d[:3]}, Spark only {only_s[:3]}"


def copy_tables(duck: Runner, spark: Runner, tables: list[str]) -> None:
    """The stored tables of a DuckDB warehouse, written as they are into the Spark warehouse."""
    for table in tables:
        spark.put(table, duck.arrow("core/queries.all", table=table), temp=False)


HH = [f"45022510120100{i:02d}" for i in range(6)]
R1 = ("R1", D(2026, 10, 1), D(2026, 10, 9))
R2 = ("R2", D(2027, 1, 1), D(2027, 1, 8))
INPUTS = [
    "registry_person",
    "village",
    "dept_record",
    "link",
    "round",
    "suspect",
    "suspect_evidence",
    "priority_target",
    "priority_household",
    "relocation_followup",
    "household_event",
    "feedback_record",
    "followup_suppressed",
]


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    """A hand-built city screened twice on DuckDB with decisions in between (as in test_followup_state), stopped
    after R2's rules and before R2's follow-up: the input of apply_followup."""
    home = home_at(tmp_path_factory.mktemp("parity"))
    city = City()
    heads = []
    for hid in HH:
        heads.append(city.household(hid, village_code=V_RONGSHUI, income=12000.0)[0])
        city.medical(heads[-1], D(2026, 5, 10), 20000.0, source_file="医保结算_2026年5月.csv")
    registry = list(city.persons)
    with warehouse(home) as con:
        city.flush(con)
        rounds.start_round(con, "R1", "full", R1[1])
        rules.screen(con, "R1", "full", R1[1], R1[2])
        apply_followup(con, "R1", R1[2])
        rounds.finish_round(con, "R1")
        event(con, HH[0], "verified_rejected", D(2026, 10, 13), round_id="R1")
        event(con, HH[1], "verified_rejected", D(2026, 10, 13), round_id="R1")
        event(con, HH[2], "verified_included", D(2026, 10, 14), round_id="R1", category="边缘易致贫户")
        event(con, HH[3], "pending", D(2026, 10, 15), round_id="R1")
        event(con, HH[4], "verified_included", D(2026, 10, 12), round_id="R1")
        event(con, HH[4], "eliminated", D(2026, 11, 1))
        city.persons = registry
        for i in (1, 4):
            city.medical(heads[i], D(2026, 11, 15), 23456.0, source_file="医保结算补充_2026年11月.csv")
        city.persons = []
        city.flush(con)
        rounds.start_round(con, "R2", "full", R2[1])
        rules.screen(con, "R2", "full", R2[1], R2[2])
    return home


@contextlib.contextmanager
def both_engines(screened, tmp_path, spark_warehouse, tables: list[str]):
    """(DuckDB runner, Spark runner): a copy of the screened warehouse, and ``tables`` of it written into Spark."""
    import shutil

    from warehouse import engine

    duck_home = home_at(tmp_path / "duck")
    shutil.copy(screened.warehouse_path, duck_home.warehouse_path)
    with engine.session(duck_home.warehouse_path) as duck, spark_warehouse(tmp_path / "spark").session() as spark:
        from warehouse.followup import ensure_tables

        ensure_tables(spark)
        copy_tables(duck, spark, tables)
        yield duck, spark


@pytest.fixture
def engines(screened, tmp_path, spark_warehouse):
    """(DuckDB runner, Spark runner) over the same tables: the follow-up steps' inputs."""
    with both_engines(screened, tmp_path, spark_warehouse, INPUTS) as pair:
        yield pair


def test_follow_up_steps_same_on_both_engines(engines):
    """Re-push suppression of R2 (every decision kind: suppressed, re-pushed with new evidence, reflagged after an
    elimination, still open, pending, first push), then the views, the round table and the elimination review."""
    duck, spark = engines
    d_stats, s_stats = apply_followup(duck, "R2", R2[2]), apply_followup(spark, "R2", R2[2])
    assert d_stats == s_stats
    assert set(d_stats.actions) == {"suppress", "repush", "reflag", "open"} and d_stats.pushes_recorded == 4
    assert_same_tables(
        duck, spark, ["suspect", "suspect_evidence", "household_event", "followup_suppressed", "priority_household"]
    )
    for wh in (duck, spark):
        rounds.finish_round(wh, "R2")
        rounds.start_round(wh, "R3", "incremental", dt.date(2027, 2, 1))
    assert rounds.last_finished(duck)[0] == rounds.last_finished(spark)[0] == "R2"
    assert_same_tables(duck, spark, ["round", "household_state", "monitoring_roster", "followup_registry_household"])
    as_of = D(2027, 4, 20)
    review = elimination_review(duck, as_of)
    assert review.height and review.rows() == elimination_review(spark, as_of).rows()
    assert funds_factor(duck).rows() == funds_factor(spark).rows()
    items = deadline_items(duck, as_of)  # working-day macros inlined on Spark
    assert items.height and sorted(items.rows(), key=repr) == sorted(deadline_items(spark, as_of).rows(), key=repr)
    # the official forms' tables and the registry consistency checks
    assert forms.build_forms(duck, as_of) == forms.build_forms(spark, as_of)
    assert_same_tables(
        duck, spark, ["_form_roster", "_form_member", "_form_wall", "_form_archive", "_form_archive_village"]
    )
    d_checks, s_checks = registry_checks.run_checks(duck, as_of), registry_checks.run_checks(spark, as_of)
    assert d_checks.findings.height and d_checks.findings.rows() == s_checks.findings.rows()
    assert d_checks.villages.rows() == s_checks.villages.rows() and d_checks.notes == s_checks.notes
    # the comparison is strict: one changed value on one engine fails it, naming the table
    changed = spark.frame("core/queries.all", table="followup_suppressed").with_columns(reason=pl.lit("改动"))
    spark.put("followup_suppressed", changed, temp=False)
    with pytest.raises(AssertionError, match="followup_suppressed"):
        assert_same_tables(duck, spark, ["followup_suppressed"])


def _name_keys(batch):
    """Vectorised Python over one Arrow batch (what linkage runs through map_arrow): the registry names' keys."""
    import pyarrow as pa

    from fangpin.domain.names import name_key_expr

    frame = pl.from_arrow(pa.Table.from_batches([batch]))
    out = frame.select("household_id", "name", name_key_expr(pl.col("name")).alias("key"))
    return (
        out.to_arrow().to_batches()[0] if out.height else pa.RecordBatch.from_pylist([], schema=out.to_arrow().schema)
    )


def test_map_arrow_same_on_both_engines(screened, tmp_path, spark_warehouse):
    """map_arrow: DuckDB over its Arrow reader, Spark through mapInArrow on the executors; the same rows."""
    from pyspark import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Spark's workers cannot import a test module
    with both_engines(screened, tmp_path, spark_warehouse, ["registry_person"]) as (duck, spark):
        for wh in (duck, spark):
            wh.map_arrow("registry_person", _name_keys, "_keys")
        d, s = (sorted(wh.frame("core/queries.all", table="_keys").rows()) for wh in (duck, spark))
        assert d == s and len(d) == duck.count("registry_person") and all(k for _, _, k in d)


def test_county_feedback_same_on_both_engines(tmp_path, spark_warehouse):
    """County feedback (followup/feedback.sql): the same returned file checked against the same push history and loaded
    on both engines gives the same accepted records, rejections with their reasons, and history events."""
    from test_followup_feedback import FB_HEADER, H_LATE, H_NEVER, H_OK, H_OTHER, H_RELOC, _city
    from test_followup_support import RONGSHUI, SANJIANG, push, write_csv

    from warehouse import engine
    from warehouse.followup import ensure_tables, ingest_feedback

    rows = [
        [
            H_OK,
            "融水苗族自治县",
            "纳入监测",
            "2026-10-14",
            "",
            "因病",
            "韦建国",
            "健康帮扶；就业帮扶",
            "2026-10-20",
            "2026-10-15、2026/11/3",
            "",
        ],
        [H_NEVER, "融水县", "不纳入", "2026-10-14", "", "", "", "", "", "", ""],  # never pushed
        [H_OTHER, "三江侗族自治县", "不纳入", "2026-10-14", "", "", "", "", "", "", ""],  # not pushed to 三江
        [H_LATE, "融水", "不纳入", "2026-10-05", "", "", "", "", "", "", ""],  # verified before the push
        [H_RELOC, "三江侗族自治县", "待核实", "2026-10-12", "", "", "", "", "", "", ""],  # relocated: its 三江 row
        [
            H_OK,
            "融水苗族自治县",
            "",
            "",
            "",
            "",
            "韦建国",
            "健康帮扶",
            "2026-10-20",
            "2026-10-15",
            "",
        ],  # repeated facts
    ]
    duck_home, spark_home = home_at(tmp_path / "duck"), home_at(tmp_path / "spark")
    for home in (duck_home, spark_home):
        write_csv(home.landing_for("feedback") / "核实结果汇总.csv", FB_HEADER, rows)
    tables = ["feedback_record", "household_event", "rejected_row"]
    with warehouse(duck_home) as con:
        _city().flush(con)
        for hid in (H_OK, H_LATE, H_OTHER):
            push(con, hid, D(2026, 10, 9))
        push(con, H_RELOC, D(2026, 10, 9), county=SANJIANG, recipients=[SANJIANG, RONGSHUI])
    with engine.session(duck_home.warehouse_path) as duck, spark_warehouse(spark_home.root).session() as spark:
        ensure_tables(spark)
        copy_tables(duck, spark, ["registry_person", "village", "household_event"])
        d_out, s_out = ingest_feedback(duck_home, duck), ingest_feedback(spark_home, spark)
        assert [(f.status, f.rows_accepted, f.rows_rejected, f.events) for f in d_out.files] == [
            (f.status, f.rows_accepted, f.rows_rejected, f.events) for f in s_out.files
        ]
        assert d_out.files[0].rows_rejected == 3 and d_out.files[0].events > 5
        assert_same_tables(duck, spark, tables)
        info = [
            wh.frame("core/queries.all", table="ingested_file").drop("archived_path", *WALL_CLOCK, strict=False)
            for wh in (duck, spark)
        ]
        assert info[0].rows() == info[1].rows()
