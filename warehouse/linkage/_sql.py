"""Running the linkage SQL files (``sql/*.sql``) with configuration values substituted (``${name}``)."""

from __future__ import annotations

from pathlib import Path
from string import Template

import duckdb

SQL_DIR = Path(__file__).parent / "sql"


def sql_text(name: str, **params: object) -> str:
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    return Template(text).substitute({k: _literal(v) for k, v in params.items()})


def _literal(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_literal(x) for x in v)
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    raise TypeError(f"cannot put {v!r} into SQL")


def run(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> None:
    con.execute(sql_text(name, **params))
