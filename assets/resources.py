"""Dagster resources: where the data home is, and the warehouse engine behind it.

Resources per deployment, as in Dagster's ``project_fully_featured``: :func:`resources_for` picks the ``warehouse``
resource by ``FANGPIN_ENGINE`` —

- ``duckdb`` (default): :class:`DuckDBWarehouse`, the embedded file under the data home, nothing to start;
- ``spark``: :class:`SparkWarehouse`, Parquet under ``<home>/warehouse/spark`` (or ``$FANGPIN_SPARK_WAREHOUSE``, an
  object-store URL) run by Spark through dagster-pyspark's ``LazyPySparkResource``: ``local[*]`` unless
  ``$FANGPIN_SPARK_MASTER`` names a cluster master (``spark://…``, ``yarn``) or a Spark Connect URL (``sc://…``).
  Needs ``pip install -e '.[spark]'`` and Java 17.

Assets ask for ``warehouse: Warehouse`` and get a step runner (:mod:`warehouse.runner`) from ``warehouse.session()``;
they never see the engine. ``FangpinHome`` is only the data home (folders, the writer lease), no SQL.
"""

import contextlib
import os
from collections.abc import Iterator

import dagster as dg

from fangpin import lock
from fangpin.home import DataHome
from warehouse import engine
from warehouse.runner import Runner

ENGINES = ("duckdb", "spark")


class _HoldsWriterLease:
    """For the resources of a data home: a run that uses one holds the home's writer lease (fangpin.lock) from start
    to end — one writer per home, whether the run comes from ``fangpin`` (which already holds it), the UI, a schedule
    or a sensor. Re-entrant: a run using both resources takes it once."""

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        with lock.run_lease(self.data_home().root, context.run, context.instance, context.log):
            yield self


class FangpinHome(_HoldsWriterLease, dg.ConfigurableResource):
    """The data home (SPEC §3). Empty ``home`` → ``$FANGPIN_HOME`` → ``./var``."""

    home: str = ""

    def data_home(self) -> DataHome:
        return DataHome.at(self.home or os.environ.get("FANGPIN_HOME") or None).ensure()


class Warehouse(_HoldsWriterLease, dg.ConfigurableResource):
    """The engine that runs the warehouse's SQL steps. ``session()`` yields a :class:`warehouse.runner.Runner`."""

    home: str = ""
    memory_limit: str = ""  # e.g. "4GB"; DuckDB spills to <home>/warehouse/spill beyond it

    def data_home(self) -> DataHome:
        return DataHome.at(self.home or os.environ.get("FANGPIN_HOME") or None).ensure()

    @contextlib.contextmanager
    def session(self, read_only: bool = False) -> Iterator[Runner]:
        raise NotImplementedError
        yield  # pragma: no cover

    def exists(self) -> bool:
        """Whether anything was stored yet (a read-only session needs a warehouse to read)."""
        raise NotImplementedError


class DuckDBWarehouse(Warehouse):
    """Embedded DuckDB: one file per data home (``<home>/warehouse/fangpin.duckdb``), a connection per session."""

    @contextlib.contextmanager
    def session(self, read_only: bool = False) -> Iterator[Runner]:
        with engine.session(
            self.data_home().warehouse_path, read_only=read_only, memory_limit=self.memory_limit or None
        ) as runner:
            yield runner

    def exists(self) -> bool:
        return self.data_home().warehouse_path.exists()


class SparkWarehouse(Warehouse):
    """Spark over Parquet (:mod:`warehouse.spark`): the session is started on first use, once per process."""

    master: str = ""  # empty → $FANGPIN_SPARK_MASTER → local[*]
    root: str = ""  # empty → $FANGPIN_SPARK_WAREHOUSE → <home>/warehouse/spark
    spark_config: dict[str, str] = {}  # extra Spark settings (spark.executor.memory, …) over warehouse.spark's

    def exists(self) -> bool:
        from warehouse.spark import Store

        return Store(self.store_root()).has_manifest()

    def store_root(self) -> str:
        return (
            self.root or os.environ.get("FANGPIN_SPARK_WAREHOUSE") or str(self.data_home().root / "warehouse" / "spark")
        )

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        with super().yield_for_execution(context) as resource:
            # the home's one writer from here on: what a killed round left in the store goes before anything is written
            from warehouse.spark import Store

            store = Store(self.store_root())
            removed = store.sweep(store.load())
            if removed and context.log is not None:
                context.log.warning(
                    f"removed {len(removed)} leftovers of an interrupted write from the Spark warehouse"
                )
            yield resource

    @contextlib.contextmanager
    def session(self, read_only: bool = False) -> Iterator[Runner]:
        from dagster_pyspark import LazyPySparkResource

        from warehouse.spark import SparkRunner, Store, spark_config

        conf = {**spark_config(self.master, self.data_home().root, self.memory_limit), **self.spark_config}
        spark = LazyPySparkResource(spark_config=conf).spark_session
        with contextlib.suppress(Exception):  # own temporary views per session (Spark Connect has no newSession)
            spark = spark.newSession()
        runner = SparkRunner(spark, Store(self.store_root()), read_only=read_only)
        if not read_only:
            runner.run("core/schema")
        try:
            yield runner
        finally:
            runner.close()


def engine_name(name: str | None = None) -> str:
    """The engine of this deployment: ``name``, else ``$FANGPIN_ENGINE``, else ``duckdb``."""
    chosen = (name or os.environ.get("FANGPIN_ENGINE") or "duckdb").strip().lower()
    if chosen not in ENGINES:
        raise ValueError(f"FANGPIN_ENGINE={chosen!r} is not one of {', '.join(ENGINES)}")
    return chosen


def resources_for(home: str = "", engine: str | None = None, memory_limit: str = "") -> dict[str, object]:
    """The resources of one deployment: the data home and the warehouse engine chosen by ``engine``."""
    chosen = engine_name(engine)
    if chosen == "spark":
        warehouse: Warehouse = SparkWarehouse(home=home, memory_limit=memory_limit)
    else:
        warehouse = DuckDBWarehouse(home=home, memory_limit=memory_limit)
    return {"fangpin": FangpinHome(home=home), "warehouse": warehouse}
