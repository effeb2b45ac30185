"""Dagster resources: where the data home is, and the warehouse engine behind it.

Per-deployment choice (project_fully_featured style): locally the embedded DuckDB file under the data home;
a cluster deployment would provide another ``Warehouse`` implementation with the same ``connect``.
"""

import contextlib
import os
from collections.abc import Iterator

import dagster as dg
import duckdb

from fangpin.home import DataHome
from warehouse import engine


class FangpinHome(dg.ConfigurableResource):
    """The data home (SPEC §3). Empty ``home`` → ``$FANGPIN_HOME`` → ``./var``."""

    home: str = ""
    memory_limit: str = ""  # e.g. "4GB"; DuckDB spills to <home>/warehouse/spill beyond it

    def data_home(self) -> DataHome:
        return DataHome.at(self.home or os.environ.get("FANGPIN_HOME") or None).ensure()

    @contextlib.contextmanager
    def warehouse(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with engine.connect(
            self.data_home().warehouse_path, read_only=read_only, memory_limit=self.memory_limit or None
        ) as con:
            yield con
