"""Reader processes (sources/pool.py): a crash, a memory or time limit fails only its own file; the other files go
on; no process outlives the pool or its parent; Polars in each process keeps to its share of the cores."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sources import pool

CORPUS = Path(__file__).parent / "fault_corpus"
MB = 1 << 20


@pytest.fixture()
def tasks(monkeypatch):
    monkeypatch.syspath_prepend(str(CORPUS))  # reader processes import hostile.task from the parent's sys.path
    return "hostile:task"


def _gone(pid: int, within: float = 5.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # a child of ours that exited but was not reaped yet counts as gone
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return False


def _outcome(fut):
    try:
        return ("ok", fut.result(timeout=60).value)
    except pool.ReaderFailed as exc:
        return (exc.code, exc.detail)


def test_each_failure_costs_only_its_own_task(tasks):
    limits = pool.PoolLimits(workers=2, memory_bytes=300 * MB, timeout_s=3, timeout_per_mb=0, linger_s=0)
    p = pool.ReaderPool(tasks, limits)
    try:
        jobs = [
            ("echo", 1),
            ("abort", None),
            ("echo", 2),
            ("grow", 2000),  # would reach 2 GB: stopped at 300 MB
            ("echo", 3),
            ("sleep", 30),  # stopped after 3 s
            ("allocate", 50 << 30),  # 50 GB at once: refused by the data-segment limit
            ("bug", None),
            ("echo", 4),
        ]
        got = [_outcome(p.submit(j)) for j in jobs]
    finally:
        p.close()
    codes = [g[0] for g in got]
    assert codes == ["ok", "reader_crash", "ok", "reader_memory", "ok", "reader_timeout", "reader_memory",
                     "reader_error", "ok"]  # fmt: skip
    assert [g[1] for g in got if g[0] == "ok"] == [1, 2, 3, 4]
    assert "SIGABRT" in got[1][1]
    assert "ValueError at hostile.py" in got[7][1] and "4502" not in got[7][1], "no cell values in the log"
    assert 300 * MB <= p.stats.peak_rss < 600 * MB, "stopped soon after passing the limit"
    assert p.stats.failed == 5 and p.stats.tasks == 9


def test_processes_are_gone_after_close_and_polars_gets_its_share_of_cores(tasks):
    p = pool.ReaderPool(tasks, pool.PoolLimits(workers=2, memory_bytes=1024 * MB, linger_s=0))
    futs = [p.submit(("threads", None)) for _ in range(4)]
    assert {f.result(timeout=60).value for f in futs} == {str(max(1, pool.cpu_count() // 2))}
    pids = p.pids()
    assert 1 <= len(pids) <= 2
    p.close()
    assert all(_gone(pid) for pid in pids)
    assert not p.workdir.exists(), "the private work folder is removed"


def test_reader_processes_die_with_a_killed_parent_and_its_work_folder_goes(tmp_path, tasks, monkeypatch):
    # a folder of its own: any pool on the machine (another test worker) sweeps the shared one
    monkeypatch.setenv("FANGPIN_READER_DIR", str(tmp_path))
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path[:0] = [{str(CORPUS)!r}, {str(Path(__file__).parents[1])!r}]
        from sources import pool
        p = pool.ReaderPool("hostile:task", pool.PoolLimits(workers=1, memory_bytes=1 << 30, linger_s=0))
        p.submit(("sleep", 60))
        while not p.pids():
            time.sleep(0.05)
        print(p.pids()[0], p.workdir, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pid, workdir = parent.stdout.readline().split()
        time.sleep(0.5)  # the reader is up and busy
        parent.kill()  # SIGKILL: no atexit, no cleanup
        parent.wait()
        assert _gone(int(pid)), "the reader process outlived its killed parent"
        assert Path(workdir).is_dir() and Path(workdir).parent == tmp_path
        pool.ReaderPool(tasks, pool.PoolLimits(workers=1, memory_bytes=1 << 30, linger_s=0)).close()
        assert not Path(workdir).exists(), "the next pool removes the folder a killed parent left"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_shared_pool_lingers_for_the_next_user_then_closes(tasks):
    limits = pool.PoolLimits(workers=1, memory_bytes=1024 * MB, linger_s=0.5)
    with pool.shared_pool(tasks, limits) as first:
        assert first.submit(("echo", "a")).result(timeout=60).value == "a"
        pids = first.pids()
    with pool.shared_pool(tasks, limits) as second:
        assert second is first and second.submit(("echo", "b")).result(timeout=60).value == "b"
        assert second.pids() == pids, "warm processes reused"
    time.sleep(1.5)
    assert not first.alive and all(_gone(pid) for pid in pids)


def test_a_reader_reports_its_own_memory_not_its_parents(tasks):
    ballast = bytearray(500 * MB)  # this process is large when it starts the reader
    ballast[:: 1 << 12] = b"x" * len(ballast[:: 1 << 12])
    p = pool.ReaderPool(tasks, pool.PoolLimits(workers=1, memory_bytes=1024 * MB, linger_s=0))
    try:
        done = p.submit(("echo", 1)).result(timeout=60)
    finally:
        p.close()
    assert done.stats.peak_rss < 300 * MB, "the reader's own peak (a fresh interpreter), not the parent's"
    del ballast
