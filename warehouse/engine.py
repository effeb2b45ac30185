"""The embedded engine: one DuckDB file per data home.

DuckDB allows a single writer process; keep connections short (open, work, close) and never leave a result
unfetched (STACK.md). :func:`session` hands out a :class:`warehouse.runner.DuckDBRunner` — what the Dagster
``Warehouse`` resource (``assets/resources.py``) gives the assets when ``FANGPIN_ENGINE`` is ``duckdb`` (the default).

Memory: DuckDB's own default limit is 80% of the machine's RAM, which leaves too little for the rest of a
province-size round (the round's Python side, the reader and workbook processes) on a 24 GB machine. Unless a limit
is given (``memory_limit=``, the ``Warehouse`` resource's ``memory_limit``, or ``FANGPIN_MEMORY_LIMIT``) the engine
uses :data:`DEFAULT_MEMORY_SHARE` of physical RAM; beyond it DuckDB spills to ``<warehouse>/spill`` (BENCHMARKS.md,
"The flag stage at province size": the province's peak is about the limit plus 1.2 GB).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb

from warehouse.runner import DuckDBRunner

#: share of physical RAM DuckDB may use when no limit is configured (50%: 11.8 GB of 23.5 GB). At 40% the province's
#: linkage and rules spilled gigabytes to disk; a city round never reaches the limit
DEFAULT_MEMORY_SHARE = 0.5


def default_memory_limit() -> str | None:
    """``FANGPIN_MEMORY_LIMIT`` if set, else :data:`DEFAULT_MEMORY_SHARE` of physical RAM (e.g. ``'9638MB'``)."""
    env = os.environ.get("FANGPIN_MEMORY_LIMIT")
    if env:
        return env
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return f"{max(1024, int(total * DEFAULT_MEMORY_SHARE / 2**20))}MB"


def locked_by(path: Path | str) -> str | None:
    """Who holds the warehouse file when it cannot even be opened read-only: ``"pid N"``, ``""`` when DuckDB does not
    say, None when it is free (or does not exist)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.IOException as exc:
        found = re.search(r"PID (\d+)", str(exc))
        return f"pid {found.group(1)}" if found else ""
    return None


@contextlib.contextmanager
def connect(
    path: Path | str, read_only: bool = False, memory_limit: str | None = None, threads: int | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(path)
    memory_limit = memory_limit or default_memory_limit()
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        wh = DuckDBRunner(con)
        if memory_limit:
            wh.run("core/session.memory_limit", limit=memory_limit)
        if threads:
            wh.run("core/session.threads", threads=int(threads))
        wh.run("core/session.spill", path=str(path.parent / "spill"))
        if not read_only:
            wh.run("core/session.writer")
            wh.run("core/schema")
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def session(
    path: Path | str, read_only: bool = False, memory_limit: str | None = None, threads: int | None = None
) -> Iterator[DuckDBRunner]:
    """A step runner on the warehouse file (opened for this session, closed after)."""
    with connect(path, read_only=read_only, memory_limit=memory_limit, threads=threads) as con:
        yield DuckDBRunner(con)
