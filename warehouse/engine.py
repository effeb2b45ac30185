"""The embedded engine: one DuckDB file per data home.

DuckDB allows a single writer process; keep connections short (open, work, close) and never leave a result
unfetched (STACK.md). A cluster engine would replace this module behind the Dagster ``Warehouse`` resource.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import duckdb

SQL_DIR = Path(__file__).parent / "sql"


def sql_text(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


@contextlib.contextmanager
def connect(path: Path | str, read_only: bool = False, memory_limit: str | None = None, threads: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(path)
    memory_limit = memory_limit or os.environ.get("FANGPIN_MEMORY_LIMIT") or None
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        if memory_limit:
            con.execute(f"SET memory_limit = '{memory_limit}'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET temp_directory = '{path.parent / 'spill'}'")
        if not read_only:
            con.execute(sql_text("schema.sql"))
        yield con
    finally:
        con.close()
