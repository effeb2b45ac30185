"""Running the linkage SQL steps (``sql/*.sql``) with parameters, in the form the warehouse step runner uses.

    run(con, "05_compare", pairs=Ident("lk_pair_id"), out=Ident("lk_cmp_id"), near_char_sim=0.6)
    run(con, "07_decide_fuzzy.group")   # one step of a file that holds several (``-- step: group`` lines)

``${name}`` becomes a SQL literal (str, int, float, bool, date, None, list → comma-separated literals); ``{{name}}`` an
identifier (``Ident``, validated) or a fragment of SQL built by code (``Sql``). Nothing else in the text is touched.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).parent / "sql"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_LITERAL = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FRAGMENT = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_STEP = re.compile(r"^-- step: *([A-Za-z0-9_]+) *$", re.M)


class Ident(str):
    """A table or column name put into SQL as it is (validated: letters, digits, underscore, one optional dot)."""

    def __new__(cls, name: str) -> Ident:
        if not _IDENT.match(name):
            raise ValueError(f"not an SQL identifier: {name!r}")
        return super().__new__(cls, name)


class Sql(str):
    """A fragment of SQL built by code from validated parts (e.g. a join condition over configured key columns)."""


@functools.cache
def _steps(file: str) -> dict[str, str]:
    text = (SQL_DIR / f"{file}.sql").read_text(encoding="utf-8")
    marks = list(_STEP.finditer(text))
    if not marks:
        return {"": text}
    return {
        m.group(1): text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        for i, m in enumerate(marks)
    }


def sql_text(name: str, **params: object) -> str:
    """The text of step ``name`` (``file`` for the whole file, ``file.step`` for one step) with parameters filled."""
    file, _, step = name.partition(".")
    steps = _steps(file)
    text = steps[step] if step else "\n".join(steps.values())
    used = set()

    def literal(m: re.Match) -> str:
        used.add(m.group(1))
        return _literal(params[m.group(1)])

    def fragment(m: re.Match) -> str:
        used.add(m.group(1))
        v = params[m.group(1)]
        if not isinstance(v, (Ident, Sql)):
            raise TypeError(f"{name}: {{{{{m.group(1)}}}}} needs an Ident or Sql, not {type(v).__name__}")
        return str(v)

    try:
        text = _FRAGMENT.sub(fragment, _LITERAL.sub(literal, text))
    except KeyError as e:
        raise KeyError(f"SQL step {name}: no value for parameter {e}") from None
    return text


def _literal(v: object) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, int):
            return str(v)
        text = repr(float(v))  # 0.85e0: a DOUBLE, not a DECIMAL (whose arithmetic would round)
        return text if "e" in text or not text[-1].isdigit() else text + "e0"
    if isinstance(v, (list, tuple)):
        return ", ".join(_literal(x) for x in v)
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return f"DATE '{v.isoformat()}'"
    raise TypeError(f"cannot put {v!r} into SQL")


def run(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> None:
    con.execute(sql_text(name, **params))


def scalar(con: duckdb.DuckDBPyConnection, name: str, **params: object):
    """The single value a SELECT step returns."""
    return con.sql(sql_text(name, **params)).fetchall()[0][0]
