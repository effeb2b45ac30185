"""Resources per deployment (assets/resources.py): FANGPIN_ENGINE picks the warehouse engine."""

import sys

import pytest

from assets.resources import DuckDBWarehouse, SparkWarehouse, resources_for


def test_the_engine_comes_from_fangpin_engine(monkeypatch, tmp_path):
    monkeypatch.delenv("FANGPIN_ENGINE", raising=False)
    assert isinstance(resources_for(home=str(tmp_path))["warehouse"], DuckDBWarehouse)
    monkeypatch.setenv("FANGPIN_ENGINE", "Spark")
    spark = resources_for(home=str(tmp_path))["warehouse"]
    assert isinstance(spark, SparkWarehouse)
    assert spark.store_root() == str(tmp_path / "warehouse" / "spark") and not spark.exists()
    monkeypatch.setenv("FANGPIN_ENGINE", "snowflake")
    with pytest.raises(ValueError, match="'snowflake' is not one of duckdb, spark"):
        resources_for(home=str(tmp_path))


def test_loading_the_spark_deployment_starts_no_spark():
    """The code location loads (UI, sensors) without pyspark or a JVM: Spark starts with the first session."""
    import os
    import subprocess

    code = "import sys, pipelines.definitions as d; print(type(d.defs.resources['warehouse']).__name__, 'pyspark' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "FANGPIN_ENGINE": "spark"}, capture_output=True, text=True
    )
    assert out.stdout.split() == ["SparkWarehouse", "False"], out.stderr[-2000:]


def test_spark_settings_of_a_deployment(monkeypatch, tmp_path):
    from warehouse.spark import spark_config

    monkeypatch.delenv("FANGPIN_SPARK_MASTER", raising=False)
    local = spark_config("", tmp_path, "6GB")
    assert local["spark.master"] == "local[*]" and local["spark.driver.memory"] == "6g"
    assert local["spark.ui.enabled"] == "false" and local["spark.local.dir"].startswith(str(tmp_path))
    monkeypatch.setenv("FANGPIN_SPARK_MASTER", "spark://head:7077")
    cluster = spark_config("", tmp_path)
    assert cluster["spark.master"] == "spark://head:7077" and "spark.ui.enabled" not in cluster
    assert spark_config("sc://connect:15002") == {"spark.remote": "sc://connect:15002"}
    monkeypatch.setenv("FANGPIN_SPARK_MASTER", "local[2]")
    monkeypatch.setenv("FANGPIN_SPARK_CONF", "spark.sql.shuffle.partitions=40  spark.executor.memory=2g")
    tuned = spark_config("", tmp_path)
    assert tuned["spark.sql.shuffle.partitions"] == "40" and tuned["spark.executor.memory"] == "2g"
    monkeypatch.setenv("FANGPIN_SPARK_CONF", "spark.sql.shuffle.partitions")
    with pytest.raises(ValueError, match="key=value"):
        spark_config("", tmp_path)


def test_a_spark_run_first_removes_what_a_killed_round_left_in_the_store(tmp_path):
    """A round killed mid-write (SIGKILL, power) leaves parts no manifest lists and export stages behind; the next
    run, once it holds the writer lease, removes them and nothing the manifest lists — without starting Spark."""
    import dagster as dg
    import pyarrow as pa
    import pyarrow.parquet as pq

    from warehouse.spark import Catalog, Store, Table

    wh = SparkWarehouse(home=str(tmp_path))
    root = tmp_path / "warehouse" / "spark"
    store = Store(str(root))

    def part(rel: str) -> str:
        (root / rel).mkdir(parents=True)
        pq.write_table(pa.table({"x": [1, 2]}), root / rel / "part-00000.parquet")
        return rel

    kept = part("link/aaa")
    store.save(Catalog(tables={"link": Table(schema="x BIGINT", parts=[kept]), "suspect": Table(schema="x BIGINT")}))
    left = [part("link/bbb"), part("suspect/ccc"), part("_export/ddd")]
    (root / "_catalog.json.eee.tmp").write_text("{")
    foreign = part("notes_of_someone/fff")  # not a table of the catalog: not ours to judge

    with dg.build_resources({"warehouse": wh}):
        pass

    assert (root / kept / "part-00000.parquet").exists()
    assert not any((root / p).exists() for p in left) and not (root / "_catalog.json.eee.tmp").exists()
    assert (root / foreign).exists()
    assert store.load().tables["link"].parts == [kept]
    assert store.sweep(store.load()) == []  # a second run finds nothing to remove
