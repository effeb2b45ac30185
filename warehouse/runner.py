"""The step runner: the only place that executes SQL against the warehouse.

A :class:`Runner` executes named steps (:mod:`warehouse.steps`) on one engine and moves data in and out as Arrow:

    wh.run("rules/30_screen", round_id="2026Q4")        # statements, no result
    df = wh.frame("publish/queries.suspects", round_id=r)   # a SELECT step as a Polars frame
    n = wh.export("publish/round.links", path)          # a SELECT step streamed to a Parquet file
    wh.put("lk_names", frame)                           # a Polars/Arrow frame becomes a temp relation
    with wh.transaction(): ...                          # all or nothing

:class:`DuckDBRunner` runs on an open DuckDB connection (the embedded engine, :mod:`warehouse.engine`). Another
engine implements the same methods; code above the warehouse never sees a connection. During the migration of
older modules, :func:`runner_for` wraps a raw connection they were handed.

Every step's wall time is added up in :attr:`Runner.timings` (step name → seconds) for the benchmarks.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse import steps

Data = pl.DataFrame | pa.Table


class Runner:
    """Engine-neutral interface; see the module docstring. Subclasses implement the engine-specific methods."""

    dialect = "duckdb"

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    # --- what subclasses implement -------------------------------------------------------------------------------
    def _execute(self, sql: str) -> None:
        raise NotImplementedError

    def _arrow(self, sql: str) -> pa.Table:
        raise NotImplementedError

    def _export(self, sql: str, path: str) -> int:
        raise NotImplementedError

    def put(self, name: str, data: Data, *, temp: bool = True) -> None:
        """Make ``data`` the relation ``name`` (replacing it): a temp relation, or a stored table when not ``temp``."""
        raise NotImplementedError

    def drop(self, *names: str) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def attached(self, name: str, data: Data) -> Iterator[None]:
        """``data`` readable as the relation ``name`` inside the block only (bulk loads: an engine that can read the
        frame in place does so, without the copy ``put`` makes)."""
        self.put(name, data)
        try:
            yield
        finally:
            self.drop(name)

    def columns(self, table: str) -> list[str]:
        raise NotImplementedError

    def session(self) -> contextlib.AbstractContextManager[Runner]:
        """A second session of the same warehouse: it sees the stored tables, but has its own temp relations (gone
        when the block ends). Data moves between the two sessions with ``arrow`` / ``put``."""
        raise NotImplementedError(f"a second session is not available on {self.dialect}")

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def map_arrow(self, source: str, fn: Callable[[pa.RecordBatch], pa.RecordBatch], target: str) -> None:
        """``target`` = ``fn`` applied to the batches of relation ``source`` (vectorised Python work, no per-row calls)."""
        raise NotImplementedError

    # --- shared --------------------------------------------------------------------------------------------------
    def sql(self, step: str, **params: object) -> str:
        return steps.render(step, params, self.dialect)

    @contextlib.contextmanager
    def _timed(self, step: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = self.timings.get(step, 0.0) + time.perf_counter() - t0

    def run(self, step: str, **params: object) -> None:
        """Execute every statement of ``step``."""
        sql = self.sql(step, **params)
        with self._timed(step):
            self._execute(sql)

    def arrow(self, step: str, **params: object) -> pa.Table:
        """The result of a SELECT step as an Arrow table."""
        sql = self.sql(step, **params)
        with self._timed(step):
            return self._arrow(sql)

    def export(self, step: str, path: os.PathLike | str, **params: object) -> int:
        """Write the result of a SELECT step, in its order, to the Parquet file ``path`` without holding it whole in
        this process (a province's links are millions of rows: more than a Spark driver may collect); returns the
        number of rows written."""
        sql = self.sql(step, **params)
        with self._timed(step):
            return self._export(sql, os.fspath(path))

    def frame(self, step: str, **params: object) -> pl.DataFrame:
        """The result of a SELECT step as a Polars frame."""
        out = pl.from_arrow(self.arrow(step, **params))
        assert isinstance(out, pl.DataFrame)
        return out

    def rows(self, step: str, **params: object) -> list[tuple]:
        return self.frame(step, **params).rows()

    def scalar(self, step: str, **params: object) -> Any:
        rows = self.rows(step, **params)
        return rows[0][0] if rows else None

    def exists(self, table: str) -> bool:
        return bool(self.columns(table))

    def temporary(self, prefix: str) -> list[tuple[str, str]]:
        """The session's temporary relations whose names start with ``prefix``: (name, "TABLE" | "VIEW")."""
        return [(n, k) for n, k in self.rows("core/queries.temporary") if n.startswith(prefix)]

    def count(self, table: str) -> int:
        """Rows of relation ``table``."""
        return int(self.scalar("core/queries.count", table=table))

    def schema(self, table: str) -> pa.Schema:
        """The Arrow schema of relation ``table`` (column names and types, engine-neutral)."""
        return self.arrow("core/queries.empty", table=table).schema


class DuckDBRunner(Runner):
    """The embedded engine: steps run on one open DuckDB connection."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        super().__init__()
        self.con = con

    def _execute(self, sql: str) -> None:
        self.con.execute(sql)

    def _arrow(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def _export(self, sql: str, path: str) -> int:
        self.con.sql(sql).write_parquet(path, compression="zstd")
        return pq.ParquetFile(path).metadata.num_rows

    def put(self, name: str, data: Data, *, temp: bool = True) -> None:
        name = steps.identifier(name)
        table = data.to_arrow() if isinstance(data, pl.DataFrame) else data
        view = f"_put_{name.replace('.', '_')}"
        self.con.register(view, table)
        try:
            kind = "TEMP TABLE" if temp else "TABLE"
            self.con.execute(f"CREATE OR REPLACE {kind} {name} AS SELECT * FROM {view}")
        finally:
            self.con.unregister(view)

    def drop(self, *names: str) -> None:
        for name in names:
            name = steps.identifier(name)
            try:
                self.con.execute(f"DROP TABLE IF EXISTS {name}")
            except duckdb.CatalogException:  # the name is a view's (DuckDB's DROP TABLE refuses those)
                self.con.execute(f"DROP VIEW {name}")

    @contextlib.contextmanager
    def attached(self, name: str, data: Data) -> Iterator[None]:
        # the newest Arrow layout keeps Polars' string views: no copy (the default converts every string column)
        table = data.to_arrow(compat_level=pl.CompatLevel.newest()) if isinstance(data, pl.DataFrame) else data
        name = steps.identifier(name)
        self.con.register(name, table)  # read in place by the statements of the block (no copy)
        try:
            yield
        finally:
            self.con.unregister(name)

    def columns(self, table: str) -> list[str]:
        rows = self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        return [r[0] for r in rows]

    @contextlib.contextmanager
    def session(self) -> Iterator[Runner]:
        cursor = self.con.cursor()  # DuckDB TEMP tables belong to a connection; a cursor is a new one
        try:
            yield DuckDBRunner(cursor)
        finally:
            cursor.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def map_arrow(self, source: str, fn: Callable[[pa.RecordBatch], pa.RecordBatch], target: str) -> None:
        reader = self.con.sql(f"SELECT * FROM {steps.identifier(source)}").to_arrow_reader(batch_size=1 << 17)
        out = [fn(b) for b in reader]
        if not out:  # the result's schema comes from fn on an empty batch
            out = [fn(pa.RecordBatch.from_pylist([], schema=reader.schema))]
        self.put(target, pa.Table.from_batches(out))


#: what a warehouse function accepts: a runner, or a raw DuckDB connection it wraps (tests, benchmarks)
Handle = Runner | duckdb.DuckDBPyConnection


def runner_for(con_or_runner: Handle) -> Runner:
    """A runner for what a caller handed over: a runner as is, a raw DuckDB connection wrapped (tests, benchmarks)."""
    if isinstance(con_or_runner, Runner):
        return con_or_runner
    return DuckDBRunner(con_or_runner)
