"""The one loader of named SQL steps.

Every set-based transform is a named step in a ``.sql`` file next to the package that owns it, the way Splink's
linker keeps its SQL readable step by step:

    linkage/05_compare          → warehouse/linkage/sql/05_compare.sql
    rules/30_screen             → warehouse/rules/sql/30_screen.sql
    core/schema                 → warehouse/sql/schema.sql
    publish/queries.suspects    → the section ``-- step: suspects`` of warehouse/publish/sql/queries.sql

A file is one step, or several: a line ``-- step: <name>`` starts a section (text before the first marker is a
comment shared by the file). Steps are written in DuckDB's SQL, in a portable subset where that costs nothing. For
another engine (``dialect="spark"``) the loader takes the step from the twin file ``<stem>.spark.sql`` when one exists
(side by side with the DuckDB original) and has that step (a twin of a sectioned file holds only the sections that
need one), else transpiles the DuckDB step with sqlglot.

Parameters, substituted before execution:

- ``${name}`` → a SQL literal: str, int, float, bool, date, datetime, None, or a list/tuple of those (comma-separated,
  for ``IN (${codes})``). Values never become SQL text unquoted.
- ``{{name}}`` → an identifier (a table or column name, validated) or a :class:`Sql` fragment that code built on
  purpose (a generated column list). Plain strings that are not identifiers are refused.

A missing parameter is an error naming the step and the parameter; so is an unknown step.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).parent
DIALECTS = ("duckdb", "spark")
_SECTION = re.compile(r"^--\s*step:\s*([A-Za-z0-9_]+)\s*$", re.MULTILINE)
_PARAM = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")


class StepError(Exception):
    """A step that does not exist, or a parameter that is missing or cannot go into SQL."""


@dataclass(frozen=True)
class Sql:
    """A SQL fragment built by code on purpose (e.g. a generated column list), substituted as is for ``{{name}}``."""

    text: str

    def __str__(self) -> str:
        return self.text


def step_path(name: str, dialect: str = "duckdb") -> tuple[Path, str | None]:
    """(file, section) of a step name; the dialect twin's file when it exists and has the section."""
    pkg, _, rest = name.rpartition("/")
    if not pkg or not rest:
        raise StepError(f"step name {name!r} is not '<package>/<file>[.<section>]'")
    stem, _, section = rest.partition(".")
    folder = ROOT / "sql" if pkg == "core" else ROOT / pkg / "sql"
    base = folder / f"{stem}.sql"
    if dialect != "duckdb":
        twin = folder / f"{stem}.{dialect}.sql"
        if twin.exists() and (section or None) in _sections(twin):
            return twin, section or None
    if not base.exists():
        raise StepError(f"no SQL step {name!r} (looked for {base.relative_to(ROOT.parent)})")
    return base, section or None


@functools.cache
def _sections(path: Path) -> dict[str | None, str]:
    text = path.read_text(encoding="utf-8")
    marks = list(_SECTION.finditer(text))
    if not marks:
        return {None: text}
    out: dict[str | None, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out[m.group(1)] = text[m.end() : end]
    return out


def template(name: str, dialect: str = "duckdb") -> tuple[str, bool]:
    """The step's text before parameters, and whether it is already in ``dialect`` (a twin file or DuckDB)."""
    path, section = step_path(name, dialect)
    parts = _sections(path)
    if section not in parts:
        have = ", ".join(sorted(p for p in parts if p)) or "no sections"
        raise StepError(f"step {name!r}: {path.name} has no section {section!r} ({have})")
    native = dialect == "duckdb" or path.name.endswith(f".{dialect}.sql")
    return parts[section], native


def literal(value: object) -> str:
    """A Python value as a SQL literal (the same text in DuckDB and Spark SQL)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        if value != value or value in (float("inf"), float("-inf")):
            raise StepError(f"cannot put {value!r} into SQL")
        return repr(float(value))
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        if not items:
            raise StepError("an empty list cannot go into SQL (IN () is not valid): handle the empty case in code")
        return ", ".join(literal(v) for v in items)
    raise StepError(f"cannot put {value!r} ({type(value).__name__}) into SQL")


def identifier(value: object) -> str:
    if isinstance(value, Sql):
        return value.text
    if isinstance(value, str) and _IDENT.match(value):
        return value
    raise StepError(f"{value!r} is not an identifier (use steps.Sql for a fragment built by code)")


def substitute(name: str, text: str, params: dict[str, object]) -> str:
    """``text`` (of step ``name``) with its ``${}`` / ``{{}}`` parameters substituted."""

    def sub(m: re.Match) -> str:
        key = m.group(1) or m.group(2)
        if key not in params:
            raise StepError(f"step {name!r} needs parameter {key!r}")
        try:
            return literal(params[key]) if m.group(1) else identifier(params[key])
        except StepError as exc:
            raise StepError(f"step {name!r}, parameter {key!r}: {exc}") from None

    return _PARAM.sub(sub, text)


def render(name: str, params: dict[str, object], dialect: str = "duckdb") -> str:
    """The executable text of step ``name`` with its parameters substituted, in ``dialect``."""
    text, native = template(name, dialect)
    sql = substitute(name, text, params)
    if not native:
        sql = transpile(sql, dialect)
    return sql


def _try_strptime(value, fmt):
    """DuckDB's try_strptime (NULL when the text does not parse) → Spark's try_to_timestamp, format translated."""
    import sqlglot
    from sqlglot import exp

    spark = exp.StrToTime(this=value.copy(), format=fmt.copy()).sql(dialect="spark")
    return sqlglot.parse_one("TRY_" + spark, read="spark")


def _list_fn(template: str):
    def build(*args):
        import sqlglot

        return sqlglot.parse_one(template.format(*(to_spark(a) for a in args)), read="spark")

    return build


def _hash(*args):
    """DuckDB's 64-bit hash() → Spark's xxhash64 (Spark's hash() has 32 bits: at a city's millions of keys, hundreds
    of collisions). xxhash64 skips NULL arguments, so hash(x, NULL) would equal hash(NULL, x): each argument is
    preceded by whether it is NULL. The values differ from DuckDB's: keys for equality only (never an output or an
    order)."""
    from sqlglot import exp

    marked = [e for a in args for e in (exp.Is(this=a.copy(), expression=exp.Null()), a.copy())]
    return exp.Anonymous(this="XXHASH64", expressions=marked)


#: DuckDB's unsigned integer types → the Spark type that holds their values (Spark has no unsigned types)
_UNSIGNED = {"UTINYINT": "SMALLINT", "USMALLINT": "INT", "UINT": "BIGINT", "UBIGINT": "BIGINT"}


#: DuckDB functions sqlglot passes through by name, and their Spark equivalents (same result on the same input)
_SPARK_FUNCTIONS = {
    "TRY_STRPTIME": _try_strptime,
    "LIST_SUM": _list_fn("AGGREGATE(FILTER({0}, x -> x IS NOT NULL), CAST(0 AS DOUBLE), (acc, x) -> acc + x)"),
    "LIST_BOOL_OR": _list_fn("EXISTS({0}, x -> x)"),
    "LIST_SLICE": _list_fn("SLICE({0}, {1}, ({2}) - ({1}) + 1)"),
    "HASH": _hash,
}


def _sorted_list(node, where=None):
    from sqlglot import exp

    def collect(what):
        agg = exp.ArrayAgg(this=what)
        return exp.Filter(this=agg, expression=where.copy()) if where is not None else agg

    order = node.this
    value = order.this
    distinct = isinstance(value, exp.Distinct)
    inner = value.expressions[0] if distinct else value
    keys = order.expressions
    agg = collect(value.copy())
    if len(keys) == 1 and keys[0].this == inner:
        out = exp.Anonymous(this="ARRAY_SORT", expressions=[agg])
        return exp.Anonymous(this="REVERSE", expressions=[out]) if keys[0].args.get("desc") else out
    if distinct:
        raise StepError(f"cannot translate {node.sql(dialect='duckdb')} to Spark: write a .spark.sql twin")
    # ascending keys, NULLs last as in DuckDB: a struct sorts a NULL field first, so each key is preceded by "is null"
    fields = [
        f
        for i, k in enumerate(keys)
        for f in (
            exp.alias_(exp.Is(this=k.this.copy(), expression=exp.Null()), f"n{i}"),
            exp.alias_(k.this.copy(), f"k{i}"),
        )
    ] + [exp.alias_(inner.copy(), "v")]
    structs = collect(exp.Struct(expressions=fields))
    if any(k.args.get("desc") for k in keys):
        # a descending key: a comparator, key by key (NULLs last either way, as DuckDB orders by default)
        import sqlglot

        cases = []
        for i, k in enumerate(keys):
            lt, gt = ("1", "-1") if k.args.get("desc") else ("-1", "1")
            cases.append(
                f"WHEN a.n{i} AND NOT b.n{i} THEN 1 WHEN NOT a.n{i} AND b.n{i} THEN -1 "
                f"WHEN a.k{i} < b.k{i} THEN {lt} WHEN a.k{i} > b.k{i} THEN {gt}"
            )
        body = sqlglot.parse_one(f"CASE {' '.join(cases)} ELSE 0 END", read="spark")
        cmp = exp.Lambda(this=body, expressions=[exp.to_identifier("a"), exp.to_identifier("b")])
        sort = exp.Anonymous(this="ARRAY_SORT", expressions=[structs, cmp])
    else:
        sort = exp.Anonymous(this="ARRAY_SORT", expressions=[structs])
    lam = exp.Lambda(
        this=exp.Dot(this=exp.to_identifier("e"), expression=exp.to_identifier("v")),
        expressions=[exp.to_identifier("e")],
    )
    return exp.Transform(this=sort, expression=lam)


def _joined(node, where=None):
    """``string_agg(x, sep ORDER BY …) [FILTER (WHERE …)]`` → ``array_join`` of the sorted list; NULL when no
    value is joined (DuckDB's string_agg of nothing is NULL, array_join of an empty list '')."""
    from sqlglot import exp

    sep = node.args.get("separator") or exp.Literal.string(",")
    values = _sorted_list(exp.ArrayAgg(this=node.this), where)
    present = exp.Anonymous(
        this="FILTER",
        expressions=[
            values.copy(),
            exp.Lambda(
                this=exp.Not(this=exp.Is(this=exp.column("x"), expression=exp.Null())),
                expressions=[exp.to_identifier("x")],
            ),
        ],
    )
    empty = exp.EQ(this=exp.Anonymous(this="SIZE", expressions=[present]), expression=exp.Literal.number(0))
    joined = exp.Anonymous(this="ARRAY_JOIN", expressions=[values, sep])
    return exp.Case(ifs=[exp.If(this=empty, true=exp.Null())], default=joined)


@functools.lru_cache(maxsize=512)
def transpile(sql: str, dialect: str) -> str:
    """DuckDB SQL → ``dialect`` with sqlglot (statements separated by ``;``)."""
    import sqlglot

    trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    if dialect == "spark":
        return ";\n".join(to_spark(t) for t in trees) + ";"
    return ";\n".join(t.sql(dialect=dialect) for t in trees) + ";"


def to_spark(node) -> str:
    """A parsed DuckDB expression as Spark SQL: sqlglot's generator, after the rewrites where DuckDB and Spark
    differ in meaning rather than spelling (see :func:`_spark_rewrite`)."""
    return node.copy().transform(_spark_rewrite).sql(dialect="spark")


def _spark_rewrite(node):
    """DuckDB constructs whose Spark spelling sqlglot gets wrong or whose meaning differs:

    - ``date_diff('month'|'year'|'quarter', a, b)`` counts unit boundaries crossed (DuckDB), Spark's DATEDIFF counts
      whole units: the boundary count is spelled out with year() and month();
    - ``x SIMILAR TO p`` (a whole-string match) → ``x RLIKE '^(?:p)$'``;
    - ``regexp_split_to_array`` → ``split`` (a regular expression in both);
    - a row ``(a, b)`` as the ordering key of arg_max/arg_min → ``struct(a, b)``;
    - ``\\p{Han}`` in a regular expression (RE2) → ``\\p{IsHan}`` (Java);
    - ``hash(…)`` (64 bits) → ``xxhash64`` with NULLs marked; unsigned integer types → signed ones (UBIGINT → BIGINT:
      a hash key, whatever its sign);
    - ``list[i]`` with a computed index (DuckDB counts from 1, Spark's ``a[i]`` from 0 — sqlglot shifts constant
      indexes only) → ``try_element_at(list, i)`` (from 1, NULL out of range as in DuckDB);
    - ``list_has_any(a, b)`` → ``arrays_overlap(a, b)``;
    - ``quantile_cont(x, p)`` → ``percentile(x, p)`` (both exact and interpolated);
    - ``format('{:,.2f}', x)`` (DuckDB's fmt: thousands separators, 2 decimals) → ``format_number(x, 2)``;
    - ``WITH x AS MATERIALIZED (…)`` (a DuckDB hint; Spark reuses the CTE's exchanges itself) → ``WITH x AS (…)``;
    - ``list(x ORDER BY …)`` (sqlglot drops the ORDER BY for Spark) → ``array_sort(collect_list(x))`` when ordered by
      the value itself, else the values sorted by a struct of the keys: ``transform(array_sort(collect_list(
      struct(k1 IS NULL, k1, …, x))), e -> e.v)``; ``string_agg(x, sep ORDER BY …)`` → ``array_join`` of that list
      (Spark's LISTAGG … WITHIN GROUP fails with DISTINCT), NULL when nothing is joined, FILTER kept;
    """
    from sqlglot import exp

    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg) and isinstance(node.this.this, exp.Order):
        return _sorted_list(node.this, node.expression)
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        return _sorted_list(node)
    if (
        isinstance(node, exp.Filter)
        and isinstance(node.this, exp.GroupConcat)
        and isinstance(node.this.this, exp.Order)
    ):
        return _joined(node.this, node.expression)
    if isinstance(node, exp.GroupConcat) and isinstance(node.this, exp.Order):
        return _joined(node)

    if isinstance(node, exp.DateDiff):
        unit = (node.text("unit") or "DAY").upper()
        if unit in ("MONTH", "YEAR", "QUARTER"):
            a, b = node.expression, node.this

            def months(d):
                return exp.Add(
                    this=exp.Mul(this=exp.Year(this=d.copy()), expression=exp.Literal.number(12)),
                    expression=exp.Month(this=d.copy()),
                )

            diff = exp.Sub(this=months(b), expression=exp.Paren(this=months(a)))
            if unit == "YEAR":
                diff = exp.Sub(this=exp.Year(this=b.copy()), expression=exp.Year(this=a.copy()))
            if unit == "QUARTER":
                q = exp.Sub(this=exp.Quarter(this=b.copy()), expression=exp.Quarter(this=a.copy()))
                y = exp.Sub(this=exp.Year(this=b.copy()), expression=exp.Year(this=a.copy()))
                diff = exp.Add(this=exp.Mul(this=exp.Paren(this=y), expression=exp.Literal.number(4)), expression=q)
            return exp.Paren(this=diff)
    if (
        isinstance(node, exp.Bracket)
        and len(node.expressions) == 1
        and not isinstance(node.expressions[0], (exp.Literal, exp.Slice))
    ):
        index = exp.Cast(this=node.expressions[0], to=exp.DataType.build("INT"))  # Spark wants an INT (lists only)
        return exp.Anonymous(this="TRY_ELEMENT_AT", expressions=[node.this, index])
    if isinstance(node, exp.ArrayOverlaps):  # list_has_any(a, b): sqlglot writes Postgres' a && b
        return exp.Anonymous(this="ARRAYS_OVERLAP", expressions=[node.this, node.expression])
    if isinstance(node, exp.PercentileCont) and node.expression is not None and not isinstance(node.this, exp.Order):
        # DuckDB's quantile_cont(x, p): exact, interpolated — Spark's percentile(x, p)
        return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])
    if isinstance(node, exp.Format) and isinstance(node.this, exp.Literal) and len(node.expressions) == 1:
        grouped = re.fullmatch(r"\{:,\.(\d)f\}", node.this.this)
        if grouped:  # DuckDB's fmt '{:,.2f}' = Spark's format_number(x, 2): '1,234.50', NULL stays NULL
            value = exp.Cast(this=node.expressions[0].copy(), to=exp.DataType.build("DOUBLE"))
            return exp.Anonymous(this="FORMAT_NUMBER", expressions=[value, exp.Literal.number(grouped.group(1))])
    if isinstance(node, exp.DataType) and node.this.name in _UNSIGNED:
        return exp.DataType.build(_UNSIGNED[node.this.name])
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
    if isinstance(node, exp.SimilarTo) and isinstance(node.expression, exp.Literal):
        return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{node.expression.this})$"))
    if isinstance(node, exp.Anonymous) and node.name.upper() == "REGEXP_SPLIT_TO_ARRAY":
        return exp.RegexpSplit(this=node.expressions[0], expression=node.expressions[1])
    if isinstance(node, (exp.RegexpReplace, exp.RegexpLike, exp.RegexpExtract, exp.RegexpSplit, exp.RegexpILike)):
        pattern = node.args.get("expression")
        if isinstance(pattern, exp.Literal) and "\\p{Han}" in pattern.this:  # RE2's script class, Java's IsHan
            node.set("expression", exp.Literal.string(pattern.this.replace("\\p{Han}", "\\p{IsHan}")))
    if isinstance(node, exp.Anonymous) and node.name.upper() in _SPARK_FUNCTIONS:
        return _SPARK_FUNCTIONS[node.name.upper()](*node.expressions)
    if isinstance(node, (exp.ArgMax, exp.ArgMin)) and isinstance(node.expression, exp.Tuple):
        node.set("expression", exp.Struct(expressions=node.expression.expressions))
    return node


def statements(sql: str, dialect: str = "duckdb") -> list[str]:
    """Split a step's text into statements (engines that run one statement per call)."""
    import sqlglot

    return [s.sql(dialect=dialect) for s in sqlglot.parse(sql, read=dialect) if s is not None]
