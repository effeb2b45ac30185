"""The distributed engine: the warehouse's steps on Spark (``FANGPIN_ENGINE=spark``; docs/DECISIONS.md, "Spark").

Storage. Every stored table is a set of Parquet directories under the Spark warehouse root (``<home>/warehouse/spark``
or an object-store URL), listed with its schema in one manifest, ``_catalog.json`` — a snapshot of the whole
warehouse. A session reads the manifest and registers each table as a temporary view over its Parquet parts, so
steps address tables by name as on DuckDB.

Writes. Parquet has no DELETE or UPDATE, and Spark's own Parquet tables have neither: the runner interprets each DML
statement of a step (parsed with sqlglot) as a rewrite of the table — INSERT appends a part; DELETE, UPDATE (also
``UPDATE … FROM``) and ``CREATE OR REPLACE TABLE … AS`` write the table's new content as a new part that replaces
the old ones. A write becomes visible by rewriting the manifest (one file replaced whole), so a reader sees the old
snapshot or the new one, never half of a write. ``transaction()`` holds the manifest back until the block ends:
every table written in it changes together or (on an exception) not at all.

Temporary tables (``CREATE [OR REPLACE] TEMP TABLE … AS``) are checkpointed DataFrames (``localCheckpoint``: computed
once, lineage cut) registered as temporary views of this session; DML on them rewrites the DataFrame. Views
(``CREATE VIEW``) are stored in the manifest as Spark SQL and re-created in every session.

One writer per data home, as with DuckDB (the Dagster ``warehouse`` pool runs one writing step at a time).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from warehouse import steps
from warehouse.runner import Data, Runner

MANIFEST = "_catalog.json"
#: an INSERT appends a part; past this many, the table is rewritten as one (every query opens every part's file, and
#: a province loads ≈ 300 files into a handful of tables)
MAX_PARTS = 16
_ROW_ID = "__fp_rid"

#: Spark settings for small jobs on one machine (tests, a city on a laptop); a cluster overrides them in its config
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.driver.extraJavaOptions": "-XX:+UseParallelGC",
}


def spark_config(master: str = "", home: os.PathLike | str | None = None, memory_limit: str = "") -> dict[str, str]:
    """Spark settings of a deployment: ``master`` (else ``$FANGPIN_SPARK_MASTER``, else ``local[*]``) — a Spark
    Connect URL (``sc://…``) becomes ``spark.remote``; in local mode the small-job settings of :data:`LOCAL_CONF`, the
    driver's memory from ``memory_limit`` (e.g. ``4GB``) and scratch space under ``<home>/warehouse/spark-tmp``.
    ``$FANGPIN_SPARK_CONF`` (``key=value`` pairs, whitespace-separated) goes over all of these: a province on one box
    needs more shuffle partitions than :data:`LOCAL_CONF`'s four, and a session's settings beat ``spark-submit``'s."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers run this interpreter (pyarrow, rapidfuzz)
    master = master or os.environ.get("FANGPIN_SPARK_MASTER") or "local[*]"
    if master.startswith("sc://"):
        return {"spark.remote": master}
    conf = {"spark.master": master, "spark.app.name": "fangpin"}
    if master.startswith("local"):
        conf.update(LOCAL_CONF)
        if memory_limit:
            conf["spark.driver.memory"] = memory_limit.lower().replace("gb", "g").replace("mb", "m")
        if home is not None:
            scratch = os.path.join(str(home), "warehouse", "spark-tmp")
            conf["spark.local.dir"] = scratch
            conf["spark.sql.warehouse.dir"] = os.path.join(scratch, "catalog")
    conf.update(env_conf())
    return conf


def env_conf() -> dict[str, str]:
    """``$FANGPIN_SPARK_CONF`` as settings; a pair without ``=`` is a configuration error, said at session start."""
    pairs = os.environ.get("FANGPIN_SPARK_CONF", "").split()
    bad = [p for p in pairs if "=" not in p]
    if bad:
        raise ValueError(f"FANGPIN_SPARK_CONF: expected key=value pairs, got {' '.join(bad)!r}")
    return dict(p.split("=", 1) for p in pairs)


# ------------------------------------------------------------------------------------------------ the manifest


@dataclass
class Table:
    schema: str  # Spark DDL of the columns: "a STRING, b ARRAY<STRING>"
    parts: list[str] = field(default_factory=list)  # part directories, relative to the root
    defaults: dict[str, str] = field(default_factory=dict)  # column → Spark SQL expression (DEFAULT …)


@dataclass
class Catalog:
    """The stored tables and views of one warehouse root (the manifest's content)."""

    tables: dict[str, Table] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)  # name → Spark SQL, in creation order

    def to_json(self) -> str:
        return json.dumps(
            {
                "tables": {k: vars(v) for k, v in self.tables.items()},
                "views": self.views,
            },
            ensure_ascii=False,
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Catalog:
        raw = json.loads(text)
        return cls(tables={k: Table(**v) for k, v in raw.get("tables", {}).items()}, views=raw.get("views", {}))


class Store:
    """The warehouse root: the manifest and the Parquet parts (a local folder or an object-store URL)."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.fs, self.base = pafs.FileSystem.from_uri(self.root if "://" in self.root else os.path.abspath(self.root))

    def url(self, part: str) -> str:
        return f"{self.root}/{part}"

    def has_manifest(self) -> bool:
        return self.fs.get_file_info(f"{self.base}/{MANIFEST}").type != pafs.FileType.NotFound

    def load(self) -> Catalog:
        path = f"{self.base}/{MANIFEST}"
        if not self.has_manifest():
            return Catalog()
        with self.fs.open_input_stream(path) as f:
            return Catalog.from_json(f.read().decode("utf-8"))

    def save(self, catalog: Catalog) -> None:
        """Replace the manifest whole (written beside it, then moved over it)."""
        self.fs.create_dir(self.base, recursive=True)
        tmp = f"{self.base}/{MANIFEST}.{uuid.uuid4().hex}.tmp"
        with self.fs.open_output_stream(tmp) as f:
            f.write(catalog.to_json().encode("utf-8"))
        self.fs.move(tmp, f"{self.base}/{MANIFEST}")

    def remove(self, parts: list[str]) -> None:
        for part in parts:
            with contextlib.suppress(FileNotFoundError, OSError):
                self.fs.delete_dir(f"{self.base}/{part}")

    def sweep(self, catalog: Catalog) -> list[str]:
        """Remove what an interrupted writer left behind and no manifest lists: parts of the catalog's tables written
        but never published, export stages (``_export/…``) and half-written manifests. Only for the home's one
        writer, before it writes (a part being written by another process would look the same). Returns the paths
        removed, relative to the root. Folders of tables the catalog does not know are left alone."""
        listed = {p for t in catalog.tables.values() for p in t.parts}
        stale: list[str] = []
        for folder in sorted({*catalog.tables, "_export"}):
            found = self.fs.get_file_info(pafs.FileSelector(f"{self.base}/{folder}", allow_not_found=True))
            stale += [f"{folder}/{i.base_name}" for i in found if f"{folder}/{i.base_name}" not in listed]
        top = self.fs.get_file_info(pafs.FileSelector(self.base, allow_not_found=True))
        tmp = [i.base_name for i in top if i.base_name.startswith(f"{MANIFEST}.") and i.base_name.endswith(".tmp")]
        for name in tmp:
            with contextlib.suppress(FileNotFoundError, OSError):
                self.fs.delete_file(f"{self.base}/{name}")
        self.remove(stale)  # every part is a folder (Spark's writes and put()'s alike)
        return sorted(stale + tmp)


# ------------------------------------------------------------------------------------------------ the runner


def _safe_arrow(table: pa.Table) -> pa.Table:
    """Arrow types Spark reads: large and view strings/lists (Polars' defaults) become the plain ones; unsigned
    integers (Polars' lengths and counts are UInt32) the next wider signed ones (a UInt64 beyond Int64 fails the
    cast rather than wrap)."""

    def plain(t: pa.DataType) -> pa.DataType:
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            return pa.string()
        if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
            return pa.binary()
        if pa.types.is_large_list(t) or pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
            return pa.list_(plain(t.value_type))
        if pa.types.is_list(t):
            return pa.list_(plain(t.value_type))
        if pa.types.is_struct(t):
            return pa.struct([pa.field(f.name, plain(f.type)) for f in t])
        if pa.types.is_dictionary(t):
            return plain(t.value_type)
        if pa.types.is_timestamp(t) and t.tz is not None:
            return pa.timestamp("us")
        if pa.types.is_timestamp(t) and t.unit == "ns":
            return pa.timestamp("us")
        if pa.types.is_null(t):
            return pa.string()
        if pa.types.is_unsigned_integer(t):
            return {8: pa.int16(), 16: pa.int32()}.get(t.bit_width, pa.int64())
        return t

    schema = pa.schema([pa.field(f.name, plain(f.type)) for f in table.schema])
    return table if schema == table.schema else table.cast(schema)


def _cause(exc: Exception) -> str:
    """The line of a Spark error that says what went wrong (a Py4J error's first line only names the call)."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip() and not ln.strip().startswith("at ")]
    if not lines:
        return type(exc).__name__
    if lines[0].startswith("An error occurred while calling"):
        causes = [ln for ln in lines[1:] if "Exception" in ln or "Error" in ln]
        return (causes[-1] if causes else lines[0])[:500]
    return lines[0][:500]


@contextlib.contextmanager
def _spark_errors(step: str) -> Iterator[None]:
    """Spark's analysis errors as a StepError naming the step, with Spark's first line (not the whole plan)."""
    try:
        yield
    except steps.StepError:
        raise
    except Exception as exc:
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            raise steps.StepError(f"step {step!r} on Spark: {_cause(exc)}") from None
        raise


def _name(table: exp.Expression) -> str:
    if not isinstance(table, exp.Table):
        raise steps.StepError(f"expected a table name, got {table.sql()}")
    return table.name


class SparkRunner(Runner):
    """Steps on a Spark session; see the module docstring."""

    dialect = "spark"

    def __init__(self, spark, store: Store, read_only: bool = False, catalog: Catalog | None = None) -> None:
        super().__init__()
        self.spark = spark
        self.store = store
        self.read_only = read_only
        self.catalog = copy.deepcopy(catalog) if catalog is not None else store.load()
        self.temps: dict[str, Any] = {}  # temp table name → checkpointed DataFrame
        self.temp_defaults: dict[str, dict[str, str]] = {}  # temp table name → column DEFAULTs (Spark SQL)
        self.macros: dict[str, tuple[list[str], exp.Expression]] = {}  # DuckDB macro → (parameters, body)
        self._tx: Catalog | None = None  # the catalog as it was when the transaction began
        self._new_parts: list[str] = []  # parts written inside the transaction (removed on rollback)
        for name in self.catalog.tables:
            self._register(name)
        self._views_here: set[str] = set()  # stored views registered in this session
        for name, sql in self.catalog.views.items():
            self.spark.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
            self._views_here.add(name)

    # --- reading --------------------------------------------------------------------------------------------------
    def _register(self, name: str) -> None:
        t = self.catalog.tables[name]
        if t.parts:
            df = self.spark.read.schema(t.schema).parquet(*[self.store.url(p) for p in t.parts])
        else:
            df = self.spark.createDataFrame([], t.schema)
        df.createOrReplaceTempView(name)

    def close(self) -> None:
        """Release this session's temporary tables (their checkpointed blocks)."""
        for name, df in list(self.temps.items()):
            self.spark.catalog.dropTempView(name)
            df.unpersist()
        self.temps.clear()

    def _arrow(self, sql: str) -> pa.Table:
        out = None
        for stmt in self._parse(sql):
            out = self._statement(stmt)
        if out is None:
            raise steps.StepError("the step returned no rows (not a SELECT)")
        return out.toArrow()

    def _execute(self, sql: str) -> None:
        for stmt in self._parse(sql):
            self._statement(stmt)

    def run(self, step: str, **params: object) -> None:
        self._steps(step, params)

    def arrow(self, step: str, **params: object) -> pa.Table:
        out = self._steps(step, params)
        if out is None:
            raise steps.StepError(f"step {step!r} returned no rows (not a SELECT)")
        with self._timed(step), _spark_errors(step):
            return out.toArrow()

    def export(self, step: str, path: os.PathLike | str, **params: object) -> int:
        out = self._steps(step, params)
        if out is None:
            raise steps.StepError(f"step {step!r} returned no rows (not a SELECT)")
        with self._timed(step), _spark_errors(step):
            return self._export_frame(out, os.fspath(path))

    def _export_frame(self, df, path: str) -> int:
        """``df`` written by Spark's executors as Parquet parts under the warehouse root, then copied part by part, in
        order (a sorted result's parts are its ranges, numbered in order), into the one file ``path``: no more than a
        row group is ever in this process."""
        from pyspark.sql.pandas.types import to_arrow_schema

        stage = f"_export/{uuid.uuid4().hex}"
        df.write.mode("errorifexists").parquet(self.store.url(stage))
        try:
            found = self.store.fs.get_file_info(pafs.FileSelector(f"{self.store.base}/{stage}"))
            parts = sorted(i.path for i in found if i.path.endswith(".parquet"))
            rows, writer = 0, None
            try:
                for part in parts:
                    with self.store.fs.open_input_file(part) as f:
                        pf = pq.ParquetFile(f)
                        if writer is None:
                            writer = pq.ParquetWriter(path, pf.schema_arrow.remove_metadata(), compression="zstd")
                        for batch in pf.iter_batches(batch_size=1 << 16):
                            writer.write_batch(batch)
                            rows += batch.num_rows
                if writer is None:  # Spark wrote no part: an empty result
                    pq.write_table(to_arrow_schema(df.schema).empty_table(), path, compression="zstd")
            finally:
                if writer is not None:
                    writer.close()
            return rows
        finally:
            self.store.remove([stage])

    def _steps(self, step: str, params: dict):
        """Run the statements of ``step``; the last one's DataFrame (a SELECT) or None."""
        text, read = self._source(step, params)
        out = None
        with self._timed(step), _spark_errors(step):
            for stmt in sqlglot.parse(text, read=read):
                if stmt is not None and not isinstance(stmt, exp.Semicolon):  # a comment after the last ';'
                    out = self._statement(stmt)
        return out

    def _source(self, step: str, params: dict) -> tuple[str, str]:
        text, native = steps.template(step, "spark")
        return steps.substitute(step, text, params), ("spark" if native else "duckdb")

    def _parse(self, sql: str) -> list[exp.Expression]:
        return [s for s in sqlglot.parse(sql, read="spark") if s is not None and not isinstance(s, exp.Semicolon)]

    def _spark_sql(self, node: exp.Expression) -> str:
        return steps.to_spark(node)

    def _query(self, node: exp.Expression):
        """A query (SELECT, UNION, VALUES …) as a DataFrame."""
        if isinstance(node, exp.Values):
            node = exp.select("*").from_(node.copy())
        return self.spark.sql(self._spark_sql(node))

    # --- statements -------------------------------------------------------------------------------------------------
    def _statement(self, stmt: exp.Expression):
        if self.macros:
            stmt = self._expand(stmt)
        if isinstance(stmt, exp.Query):
            return self._query(stmt)
        if isinstance(stmt, exp.Create):
            self._create(stmt)
        elif isinstance(stmt, exp.Insert):
            self._insert(stmt)
        elif isinstance(stmt, exp.Delete):
            self._delete(stmt)
        elif isinstance(stmt, exp.Update):
            self._update(stmt)
        elif isinstance(stmt, exp.Drop):
            for t in stmt.args.get("tables") or [stmt.this]:
                self._drop(_name(t), stmt.args.get("kind", "TABLE").upper(), bool(stmt.args.get("exists")))
        elif isinstance(stmt, exp.Alter):
            self._alter(stmt)
        else:
            raise steps.StepError(f"the Spark runner cannot run: {stmt.sql(dialect='spark')[:200]}")
        return None

    def _expand(self, stmt: exp.Expression) -> exp.Expression:
        """DuckDB macros inlined: each call replaced by the macro's body with the arguments in place of the
        parameters (a subquery body's value taken with max(), as Spark wants correlated scalar subqueries
        aggregated; a DuckDB scalar subquery has one row or fails)."""

        def inline(node: exp.Expression) -> exp.Expression:
            if not isinstance(node, exp.Anonymous) or node.name.lower() not in self.macros:
                return node
            params, body = self.macros[node.name.lower()]
            args = dict(zip(params, node.expressions, strict=True))
            out = body.copy().transform(
                lambda n: args[n.name].copy() if isinstance(n, exp.Column) and not n.table and n.name in args else n
            )
            return self._expand(out)

        return stmt.transform(inline)

    def _macro(self, stmt: exp.Create) -> None:
        udf = stmt.this
        body = stmt.expression
        if isinstance(body, exp.Subquery) and isinstance(body.this, exp.Select):
            select = body.this
            if len(select.expressions) == 1 and not select.find(exp.AggFunc):
                value = select.expressions[0]
                select.set("expressions", [exp.Max(this=value.unalias().copy())])
        name = udf.this.name if isinstance(udf.this, exp.Expression) else udf.name
        self.macros[name.lower()] = ([p.name for p in udf.expressions], body)

    def _create(self, stmt: exp.Create) -> None:
        kind = stmt.args.get("kind", "").upper()
        if kind in ("MACRO", "FUNCTION") and isinstance(stmt.this, exp.UserDefinedFunction):
            self._macro(stmt)
            return
        temp = stmt.find(exp.TemporaryProperty) is not None
        target = stmt.this.this if isinstance(stmt.this, exp.Schema) else stmt.this
        name = _name(target)
        if stmt.args.get("exists") and self.exists(name):
            return
        if kind == "VIEW":
            sql = self._spark_sql(stmt.expression)
            if not temp and self.catalog.views.get(name) == sql and name in self._views_here:
                return  # unchanged and already registered in this session (analysing a view costs seconds)
            self._views_here.add(name)
            self.spark.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
            if not temp:
                self._writable(name)
                cat = self.catalog
                cat.views.pop(name, None)
                cat.views[name] = sql
                self._publish()
            return
        if kind != "TABLE":
            raise steps.StepError(f"the Spark runner cannot create a {kind}: {stmt.sql()[:200]}")
        if stmt.expression is not None:
            df = self._query(stmt.expression)
        else:
            df = self.spark.createDataFrame([], self._ddl(stmt.this))
        if temp:
            self.temp_defaults[name] = self._defaults(stmt.this) if stmt.expression is None else {}
            self._set_temp(name, df)
            return
        self._writable(name)
        if stmt.expression is None:
            self.catalog.tables[name] = Table(schema=self._ddl(stmt.this), defaults=self._defaults(stmt.this))
            self._publish()
            self._register(name)
            return
        self._replace(name, df, schema=df.schema.toDDL())

    def _defaults(self, schema: exp.Schema) -> dict[str, str]:
        out = {}
        for cd in schema.expressions:
            for c in cd.args.get("constraints") or [] if isinstance(cd, exp.ColumnDef) else []:
                if isinstance(c.args.get("kind"), exp.DefaultColumnConstraint):
                    out[cd.name] = steps.to_spark(c.args["kind"].this)
        return out

    def _ddl(self, schema: exp.Schema) -> str:
        cols = []
        for cd in schema.expressions:
            if isinstance(cd, exp.ColumnDef):
                cols.append(f"{cd.name} {steps.to_spark(cd.args['kind'])}")
        return ", ".join(cols)

    def _insert(self, stmt: exp.Insert) -> None:
        target = stmt.this
        columns = None
        if isinstance(target, exp.Schema):
            columns = [c.name for c in target.expressions]
            target = target.this
        name = _name(target)
        if stmt.args.get("alternative") or stmt.args.get("conflict"):
            raise steps.StepError(f"INSERT OR REPLACE / ON CONFLICT into {name}: delete the keys first (portable)")
        df = self._query(stmt.expression)
        if stmt.args.get("by_name"):  # INSERT … BY NAME: the query's columns by their names, in any order
            have = set(self._current(name).columns)
            unknown = [c for c in df.columns if c not in have]
            if unknown:
                raise steps.StepError(f"INSERT INTO {name} BY NAME: no column {', '.join(unknown)} in {name}")
            columns = list(df.columns)
        rows = self._conform(name, df, columns)
        if name in self.temps:
            self._set_temp(name, self.temps[name].unionByName(rows))
            return
        self._writable(name)
        part = self._write(name, rows)
        self.catalog.tables[name].parts.append(part)
        self._publish()
        self._register(name)
        if len(self.catalog.tables[name].parts) > MAX_PARTS:  # one part per file loaded: merged now and then
            self._replace(name, self.spark.table(name))

    def _conform(self, name: str, df, columns: list[str] | None):
        """``df`` with the target's columns in order and types: listed columns by position, the rest their DEFAULT
        (or NULL)."""
        target = self.spark.table(name).schema
        columns = columns or [f.name for f in target.fields][: len(df.columns)]
        if len(columns) != len(df.columns):
            raise steps.StepError(f"INSERT INTO {name}: {len(columns)} columns named, {len(df.columns)} given")
        positional = [f"__fp_c{i}" for i in range(len(df.columns))]  # unnamed values (NULL, NULL) clash by name
        df = df.toDF(*positional)
        given = dict(zip(columns, positional, strict=True))
        if name in self.temps:
            defaults = self.temp_defaults.get(name, {})
        else:
            defaults = self.catalog.tables[name].defaults if name in self.catalog.tables else {}
        exprs = []
        for f in target.fields:
            if f.name in given:
                src = f"`{given[f.name]}`"
            else:
                src = defaults.get(f.name, "NULL")
            exprs.append(f"CAST({src} AS {f.dataType.simpleString()}) AS `{f.name}`")
        return df.selectExpr(*exprs)

    def _with_row_ids(self, name: str) -> str:
        """A view of the table with a row id column, computed once (the ids must not change between two passes)."""
        from pyspark.sql import functions as F

        df = self._current(name)
        view = f"__fp_t_{uuid.uuid4().hex[:8]}"
        df.withColumn(_ROW_ID, F.monotonically_increasing_id()).localCheckpoint().createOrReplaceTempView(view)
        return view

    def _rewrite(self, name: str, matched_sql: str, keep_matched: bool, view: str, columns: list[str]) -> None:
        """New content of ``name``: the rows of ``view`` not matched, plus (UPDATE) the matched rows' new values."""
        cols = ", ".join(f"`{c}`" for c in columns)
        m = self.spark.sql(matched_sql)
        if name not in self.temps and not m.take(1):  # nothing matched: no rewrite (see _touches)
            self.spark.catalog.dropTempView(view)
            return
        m.createOrReplaceTempView(f"{view}_m")
        rest = self.spark.sql(
            f"SELECT {cols} FROM {view} t LEFT ANTI JOIN (SELECT DISTINCT {_ROW_ID} FROM {view}_m) m "
            f"ON t.{_ROW_ID} = m.{_ROW_ID}"
        )
        if keep_matched:
            new = self.spark.sql(
                f"SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {_ROW_ID} ORDER BY {_ROW_ID}) AS __n "
                f"FROM {view}_m) WHERE __n = 1"
            )
            rest = rest.unionByName(new)
        self._store_rewrite(name, rest)
        for v in (view, f"{view}_m"):
            self.spark.catalog.dropTempView(v)

    def _store_rewrite(self, name: str, df) -> None:
        if name in self.temps:
            self._set_temp(name, df)
        else:
            self._writable(name)
            self._replace(name, df)

    def _current(self, name: str):
        return self.temps[name] if name in self.temps else self.spark.table(name)

    def _delete(self, stmt: exp.Delete) -> None:
        table = stmt.this
        name, alias = _name(table), table.alias_or_name
        where = stmt.args.get("where")
        if where is None:
            self._store_rewrite(name, self._current(name).limit(0))
            return
        # one pass: keep the rows the condition does not hold for (Spark plans subqueries inside coalesce too)
        cond = self._spark_sql(where.this)
        self._current(name).createOrReplaceTempView(view := f"__fp_t_{uuid.uuid4().hex[:8]}")
        if self._touches(name, f"{view} AS {alias}", cond):
            kept = self.spark.sql(f"SELECT * FROM {view} AS {alias} WHERE NOT coalesce({cond}, false)")
            self._store_rewrite(name, kept)
        self.spark.catalog.dropTempView(view)

    def _touches(self, name: str, source: str, cond: str) -> bool:
        """Whether a DELETE / UPDATE on stored table ``name`` changes any row. A stored table is rewritten whole, so
        a statement matching nothing (forgetting a file never loaded, replacing households nobody sent before) must
        cost a read, not a rewrite: ingest would otherwise rewrite the registry once per file (quadratic)."""
        if name in self.temps:
            return True
        return bool(self.spark.sql(f"SELECT 1 FROM {source} WHERE coalesce({cond}, false) LIMIT 1").take(1))

    def _update(self, stmt: exp.Update) -> None:
        table = stmt.this
        name, alias = _name(table), table.alias_or_name
        current = self._current(name)
        typed = {f.name: f.dataType.simpleString() for f in current.schema.fields}
        sets = {eq.this.name: self._spark_sql(eq.expression) for eq in stmt.expressions}
        where = stmt.args.get("where")
        cond = self._spark_sql(where.this) if where is not None else "true"
        frm = stmt.args.get("from_") or stmt.args.get("from")
        if frm is None:  # one pass: CASE per column set
            view = f"__fp_t_{uuid.uuid4().hex[:8]}"
            current.createOrReplaceTempView(view)
            if not self._touches(name, f"{view} AS {alias}", cond):
                self.spark.catalog.dropTempView(view)
                return
            cols = [
                f"CASE WHEN coalesce({cond}, false) THEN CAST({sets[c]} AS {typed[c]}) ELSE {alias}.`{c}` END AS `{c}`"
                if c in sets
                else f"{alias}.`{c}`"
                for c in current.columns
            ]
            self._store_rewrite(name, self.spark.sql(f"SELECT {', '.join(cols)} FROM {view} AS {alias}"))
            self.spark.catalog.dropTempView(view)
            return
        view = self._with_row_ids(name)
        select = [f"{alias}.{_ROW_ID}"] + [
            f"CAST({sets[c]} AS {typed[c]}) AS `{c}`" if c in sets else f"{alias}.`{c}` AS `{c}`"
            for c in current.columns
        ]
        src = f"{view} AS {alias}"
        if frm is not None:
            src += ", " + self._spark_sql(frm).removeprefix("FROM ")
        self._rewrite(name, f"SELECT {', '.join(select)} FROM {src} WHERE {cond}", True, view, current.columns)

    def _alter(self, stmt: exp.Alter) -> None:
        name = _name(stmt.this)
        self._writable(name)
        cat = self.catalog
        t = cat.tables[name]
        have = {c.split(" ", 1)[0].strip("`") for c in t.schema.split(", ")}
        added = False
        for action in stmt.args.get("actions") or []:
            if not isinstance(action, exp.ColumnDef):
                raise steps.StepError(f"the Spark runner cannot ALTER: {stmt.sql()[:200]}")
            if action.name not in have:
                t.schema += f", {action.name} {action.args['kind'].sql(dialect='spark')}"
                added = True
        if added:  # the schema's ADD COLUMN IF NOT EXISTS runs at every session: nothing to write when it is there
            self._publish()
            self._register(name)

    def _drop(self, name: str, kind: str, if_exists: bool) -> None:
        if kind in ("MACRO", "FUNCTION"):
            if self.macros.pop(name.lower(), None) is None and not if_exists:
                raise steps.StepError(f"DROP MACRO {name}: no such macro")
            return
        if name in self.temps:
            del self.temps[name]
            self.spark.catalog.dropTempView(name)
            return
        cat = self.catalog
        if kind == "VIEW" and name in cat.views or kind == "TABLE" and name in cat.tables:
            self._writable(name)
            cat = self.catalog
            gone = cat.tables.pop(name).parts if kind == "TABLE" else []
            cat.views.pop(name, None)
            self._publish(removed=gone)
            self.spark.catalog.dropTempView(name)
            return
        if kind == "VIEW" and self.spark.catalog.dropTempView(name):
            return
        if not if_exists:
            raise steps.StepError(f"DROP {kind} {name}: no such {kind.lower()}")

    # --- writing ---------------------------------------------------------------------------------------------------
    def _writable(self, name: str) -> None:
        if self.read_only:
            raise steps.StepError(f"read-only session: cannot change {name}")

    def _set_temp(self, name: str, df) -> None:
        df = df.localCheckpoint()
        self.temps[name] = df
        df.createOrReplaceTempView(name)

    def _new_part(self, name: str) -> str:
        part = f"{name}/{uuid.uuid4().hex}"
        if self._tx is not None:
            self._new_parts.append(part)
        return part

    def _write(self, name: str, df) -> str:
        part = self._new_part(name)
        df.write.mode("errorifexists").parquet(self.store.url(part))
        return part

    def _replace(self, name: str, df, schema: str | None = None) -> None:
        self._use_part(
            name, self._write(name, df), schema or (None if name in self.catalog.tables else df.schema.toDDL())
        )

    def _use_part(self, name: str, part: str, schema: str | None) -> None:
        """``part`` becomes the whole content of table ``name`` (``schema``: its new columns, else as declared)."""
        cat = self.catalog
        old = cat.tables[name].parts if name in cat.tables else []
        if name in cat.tables:
            cat.tables[name].parts = [part]
            if schema:
                cat.tables[name].schema = schema
        else:
            cat.tables[name] = Table(schema=schema or "", parts=[part])
        self._publish(removed=old)
        self._register(name)

    def _publish(self, removed: list[str] | None = None) -> None:
        """Make the catalog's changes durable (outside a transaction), then remove the parts no longer listed."""
        if self._tx is not None:
            self._garbage = getattr(self, "_garbage", []) + list(removed or [])
            return
        self.store.save(self.catalog)
        self.store.remove(list(removed or []))

    # --- the runner interface ---------------------------------------------------------------------------------------
    def put(self, name: str, data: Data, *, temp: bool = True) -> None:
        """A temp relation: the frame as a checkpointed DataFrame. A stored table: the frame written as one Parquet
        part by pyarrow from here (no Spark job), with the declared columns and types when the table exists."""
        from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

        name = steps.identifier(name)
        table = _safe_arrow(data.to_arrow() if isinstance(data, pl.DataFrame) else data)
        if temp:
            if table.num_rows:
                df = self.spark.createDataFrame(table)
            else:  # pyspark cannot convert an empty Arrow table with timestamps
                df = self.spark.createDataFrame([], from_arrow_schema(table.schema))
            self._set_temp(name, df)
            return
        self._writable(name)
        schema = None
        if name in self.catalog.tables:  # the declared columns and types, matched by name
            target = to_arrow_schema(self.spark.table(name).schema)
            cols = [
                table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
                for f in target
            ]
            table = pa.Table.from_arrays(cols, schema=target)
        else:
            schema = from_arrow_schema(table.schema).toDDL()
        part = self._new_part(name)
        self.store.fs.create_dir(f"{self.store.base}/{part}", recursive=True)
        pq.write_table(table, f"{self.store.base}/{part}/part-00000.parquet", filesystem=self.store.fs)
        self._use_part(name, part, schema)

    def drop(self, *names: str) -> None:
        for name in names:
            name = steps.identifier(name)
            if name in self.temps or name in self.catalog.tables:
                self._drop(name, "TABLE", True)
            elif name in self.catalog.views:
                self._drop(name, "VIEW", True)
            else:
                self.spark.catalog.dropTempView(name)

    def temporary(self, prefix: str) -> list[tuple[str, str]]:
        """Temporary tables (checkpointed frames) and views of this session; the stored tables and views, which are
        registered as temporary views too, are not."""
        stored = set(self.catalog.tables) | set(self.catalog.views)
        names = {t.name for t in self.spark.catalog.listTables() if t.isTemporary} - stored
        return sorted((n, "TABLE" if n in self.temps else "VIEW") for n in names if n.startswith(prefix))

    def columns(self, table: str) -> list[str]:
        if not self.spark.catalog.tableExists(table):
            return []
        return self.spark.table(table).columns

    @contextlib.contextmanager
    def session(self) -> Iterator[Runner]:
        """A second session (Spark's ``newSession``: its own temporary views and macros) over the stored tables as
        this one sees them now."""
        other = SparkRunner(self.spark.newSession(), self.store, read_only=self.read_only, catalog=self.catalog)
        try:
            yield other
        finally:
            other.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._tx is not None:  # nested: part of the outer one
            yield
            return
        self._tx = copy.deepcopy(self.catalog)
        self._new_parts, self._garbage = [], []
        try:
            yield
        except BaseException:
            self.catalog, self._tx = self._tx, None
            self.store.remove(self._new_parts)
            for name in self.catalog.tables:
                self._register(name)
            raise
        self._tx = None
        self.store.save(self.catalog)
        self.store.remove(self._garbage)

    def map_arrow(self, source: str, fn: Callable[[pa.RecordBatch], pa.RecordBatch], target: str) -> None:
        from pyspark.sql.pandas.types import from_arrow_schema

        df = self.spark.table(steps.identifier(source))
        empty = df.limit(0).toArrow()
        out_schema = fn(pa.RecordBatch.from_pylist([], schema=empty.schema)).schema
        out_schema = _safe_arrow(out_schema.empty_table()).schema

        def apply(it):
            for b in it:
                if b.num_rows:
                    out = _safe_arrow(pa.Table.from_batches([fn(b)]))
                    yield from out.to_batches()

        self._set_temp(steps.identifier(target), df.mapInArrow(apply, from_arrow_schema(out_schema)))
