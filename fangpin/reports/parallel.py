"""Workbooks written side by side: each job is a module-level function and its arguments (frames and plain values),
so it can run in a worker process. Writing xlsx is Python work (the GIL rules out threads); processes are started
with ``spawn`` — never ``fork``: the parent holds a DuckDB connection and its threads, which a forked child must
not inherit.

``run_jobs(jobs, workers)``: ``workers <= 1`` runs the jobs here, one after another; otherwise in a process pool.
Results come back in job order; the first failure of a job is raised (the remaining jobs are cancelled). A job
writes the same bytes wherever it runs. A pool that breaks (a worker killed, e.g. by the memory limit, or a main
script that is not import-safe — ``spawn`` imports it in every worker, so it needs ``if __name__ == "__main__"``)
is not a failure of the publication: the jobs are then written here, and the log says so.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

Job = tuple[Callable[..., Any], tuple]
log = logging.getLogger(__name__)


def default_workers() -> int:
    """One worker per core the process may use, ``FANGPIN_PUBLISH_WORKERS`` overriding (1 = no worker processes)."""
    env = os.environ.get("FANGPIN_PUBLISH_WORKERS", "").strip()
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_jobs(jobs: Sequence[Job], workers: int) -> list[Any]:
    if workers <= 1 or len(jobs) <= 1:
        return [fn(*args) for fn, args in jobs]
    try:
        return _in_pool(jobs, workers)
    except BrokenProcessPool as exc:
        log.warning("workbook worker processes failed (%s); writing the %d workbooks in this process", exc, len(jobs))
        return [fn(*args) for fn, args in jobs]


def _in_pool(jobs: Sequence[Job], workers: int) -> list[Any]:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
        futures = [pool.submit(fn, *args) for fn, args in jobs]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:
            f.cancel()
        for f in futures:
            if f in done and f.exception() is not None:
                raise f.exception()
        return [f.result() for f in futures]
