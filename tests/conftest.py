"""Shared fixtures: a tiny and a demo synthetic city, each screened once per test session through Dagster, and a
helper to work on a copy of a screened home (tests that write must not change the shared one)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

TINY_ROUND = "2026Q4"
PUSHED_ON = "2026-10-09"


@pytest.fixture(scope="session")
def tiny_home(tmp_path_factory) -> Path:
    """A freshly generated tiny city (landing + truth), not yet ingested."""
    from fangpin.synth import generate

    home = tmp_path_factory.mktemp("tiny_city")
    generate(home, size="tiny", seed=7, round_id=TINY_ROUND)
    return home


@pytest.fixture(scope="session")
def screened_tiny(tiny_home) -> Path:
    """The tiny city after one full round run by the CLI (in process, through Dagster)."""
    from fangpin.cli import main

    code = main(["screen", "--round", TINY_ROUND, "--home", str(tiny_home), "--pushed-on", PUSHED_ON])
    assert code == 0, "fangpin screen failed on the tiny city"
    return tiny_home


DEMO_ROUND = "2026Q4"
DEMO_SEED = 11


@pytest.fixture(scope="session")
def screened_demo(tmp_path_factory) -> Path:
    """The demo city (≈ 5,000 households, seed 11) after one full 2026Q4 round run by the CLI. Read-only for tests:
    copy it (``copy_home``) to write."""
    from fangpin.cli import main
    from fangpin.synth import generate

    home = tmp_path_factory.mktemp("demo_city")
    generate(home, size="demo", seed=DEMO_SEED, round_id=DEMO_ROUND)
    code = main(["screen", "--round", DEMO_ROUND, "--home", str(home), "--pushed-on", PUSHED_ON])
    assert code == 0, "fangpin screen failed on the demo city"
    return home


def copy_home(src: Path, dst: Path) -> Path:
    """A copy of a data home without its Dagster instance (the copy gets a fresh one) and DuckDB spill files."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("dagster", "spill"))
    return dst


def pytest_collection_modifyitems(config, items):
    """Every test of the Spark engine runs in one xdist worker (``--dist loadgroup``, what ``make test`` runs): one
    JVM for the whole run instead of one per worker, each paying its start and the JIT's compiling of Spark itself."""
    for item in items:
        if "spark_warehouse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture(scope="session")
def spark_warehouse(tmp_path_factory):
    """One Spark session (``local[2]``) for the whole test run: a function data home → ``SparkWarehouse`` resource.

    Needs the ``spark`` extra and Java 17, which ``make test`` installs (``spark-deps``): without them the Spark
    tests fail, saying what is missing — never a quiet skip."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
        pytest.fail("the Spark engine is not installed: run `make spark-deps` (pip install -e '.[spark]'; Java 17)")
    from dagster_pyspark import LazyPySparkResource

    from assets.resources import SparkWarehouse
    from warehouse.spark import LOCAL_CONF, spark_config

    scratch = tmp_path_factory.mktemp("spark")
    conf = {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2", "spark.driver.memory": "1g"}
    # The tests' JVM is started here, whichever Spark test comes first (a round run by the command line would
    # otherwise start it without this): its JIT compiles after 10× the usual calls. The tests' jobs are tiny and
    # each statement's generated code runs a few times only, so compiling it was ≈ 40 % of the JVM's CPU; a city's
    # round is slower with it (BENCHMARKS.md, "The Spark JVM's compilers"), so the product's LOCAL_CONF has not.
    java = LOCAL_CONF["spark.driver.extraJavaOptions"] + " -XX:CompileThresholdScaling=10"
    conf["spark.driver.extraJavaOptions"] = java
    conf["spark.local.dir"] = str(scratch)
    spark = LazyPySparkResource(spark_config={**spark_config("local[2]", scratch), **conf}).spark_session
    assert java in spark.sparkContext.getConf().get("spark.driver.extraJavaOptions"), "a JVM was started before"

    def make(home) -> SparkWarehouse:
        return SparkWarehouse(home=str(home), master="local[2]", spark_config=conf)

    return make


@pytest.fixture
def step_dir(tmp_path, monkeypatch):
    """A throwaway step package ``t`` under a fake warehouse root (tests of the step loader and its translations)."""
    from warehouse import steps

    root = tmp_path / "warehouse"
    (root / "t" / "sql").mkdir(parents=True)
    monkeypatch.setattr(steps, "ROOT", root)
    steps._sections.cache_clear()
    yield root / "t" / "sql"
    steps._sections.cache_clear()
