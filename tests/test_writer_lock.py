"""One writer per data home (issue 14 item 5): a second writer waits with a message naming the holder or exits with
one clear line; `fangpin status` works during a round; a run killed mid-way is marked failed, not STARTED forever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.resources import FangpinHome, Warehouse, resources_for
from fangpin import lock
from fangpin.cli import EXIT_BUSY, main

REPO = Path(__file__).resolve().parents[1]


def _child(code: str, home: Path, **env_extra: str) -> subprocess.Popen:
    env = {**os.environ, "FANGPIN_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), **env_extra}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"child ended early: {proc.stderr.read()[-3000:]}")
        if time.monotonic() > end:
            raise AssertionError(f"child did not get ready within {timeout} s")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=30)


HOLD_LEASE = """
    import os, time
    from pathlib import Path
    from fangpin import lock
    home = Path(os.environ["FANGPIN_HOME"])
    with lock.writer(home, "fangpin screen --round 2026Q4 --home " + str(home)):
        (home / "ready").write_text("x")
        time.sleep(float(os.environ.get("HOLD_SECONDS", "60")))
"""


def test_a_second_writer_exits_with_one_line_naming_the_holder(tmp_path, capsys):
    holder = _child(HOLD_LEASE, tmp_path)
    try:
        _wait_for(tmp_path / "ready", holder)
        code = main(["ingest", "--home", str(tmp_path), "--wait", "0"])
        out, err = capsys.readouterr()
        assert code == EXIT_BUSY
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert "fangpin screen --round 2026Q4" in lines[0] and f"pid {holder.pid}" in lines[0], lines[0]
        assert " 起" in lines[0] and "Traceback" not in err
        # the waiting writer touched nothing: the holder's warehouse and runs are its own
        assert not (tmp_path / "warehouse" / "fangpin.duckdb").exists()
    finally:
        _stop(holder)


def test_a_second_writer_waits_with_a_message_then_runs(tmp_path, capsys):
    holder = _child(HOLD_LEASE, tmp_path)
    try:
        _wait_for(tmp_path / "ready", holder)
        got = []
        t0 = time.monotonic()
        with pytest.raises(lock.HomeBusy) as busy:
            lock.acquire(tmp_path, "second", wait=1.0, on_wait=got.append)
        assert time.monotonic() - t0 >= 1.0
        assert len(got) == 1 and got[0].pid == holder.pid  # told once, naming the holder
        assert busy.value.holder.pid == holder.pid and "等待 1 秒后" in str(busy.value)
    finally:
        _stop(holder)
    # the holder is gone (here: killed) — the lease is free at once, without a stale-lock cleanup
    with lock.writer(tmp_path, "third", wait=0) as me:
        assert me.pid == os.getpid()
        assert lock.current_holder(tmp_path).command == "third"
    assert lock.current_holder(tmp_path) is None


def test_the_waiting_command_prints_who_it_waits_for_and_proceeds(tmp_path, capsys):
    holder = _child(HOLD_LEASE, tmp_path, HOLD_SECONDS="2")
    try:
        _wait_for(tmp_path / "ready", holder)
        code = main(["ingest", "--home", str(tmp_path), "--wait", "60"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "等待其结束" in err and f"pid {holder.pid}" in err, err
        assert out.startswith("入库："), out  # the command ran after the wait
    finally:
        _stop(holder)


#: a round in a child process: holds the lease as `fangpin screen` does, then a Dagster run (Warehouse resource)
#: whose asset keeps the warehouse open read-write — DuckDB then refuses every other process, even read-only
ROUND_CHILD = """
    import os, time
    from pathlib import Path
    import dagster as dg
    import polars as pl
    from assets.resources import DuckDBWarehouse, Warehouse
    from fangpin import lock
    from pipelines.instance import ensure_instance

    home = Path(os.environ["FANGPIN_HOME"])
    ensure_instance(home, set_env=True)

    @dg.asset
    def first_step(warehouse: Warehouse):
        return 1

    @dg.asset
    def long_step(first_step, warehouse: Warehouse):
        with warehouse.session() as wh:
            wh.put("t", pl.DataFrame({"x": [1]}), temp=False)
            (home / "ready").write_text("x")
            time.sleep(120)

    with lock.writer(home, "fangpin screen --round 2026Q4"):
        dg.materialize([first_step, long_step], resources={"warehouse": DuckDBWarehouse(home=str(home))},
                       instance=dg.DagsterInstance.get())
"""


def test_status_during_a_round_and_a_killed_run_marked_failed(tmp_path, capsys):
    child = _child(ROUND_CHILD, tmp_path)
    try:
        _wait_for(tmp_path / "ready", child)
        # status while the round writes: who, since when, which step — no traceback, no DuckDB lock error
        assert main(["status", "--home", str(tmp_path)]) == 0
        out, err = capsys.readouterr()
        assert err == "" and "Traceback" not in out
        assert f"正在运行：fangpin screen --round 2026Q4（pid {child.pid}" in out, out
        assert "STARTED，已完成 1 步，正在进行：long_step" in out, out
        run_id = lock.current_holder(tmp_path).run_id
        assert run_id and run_id[:8] in out
        # kill it mid-way, as an operator's kill -9 or the OOM killer would
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        _stop(child)
    instance = dg.DagsterInstance.from_config(str(tmp_path / "dagster"))
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED  # what Dagster alone leaves
    assert main(["status", "--home", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"Dagster 运行 {run_id[:8]}" in out and "未正常结束" in out, out
    assert "正在运行" not in out  # the dead process is not a holder
    # the next writer marks it failed, and runs normally
    assert main(["ingest", "--home", str(tmp_path), "--wait", "0"]) == 0
    run = instance.get_run_by_id(run_id)
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert lock.dead_runs(tmp_path) == []
    failure = [
        e
        for e in instance.all_logs(run_id)
        if e.dagster_event is not None and e.dagster_event.event_type_value == "PIPELINE_FAILURE"
    ]
    assert failure and "killed or crashed" in (failure[-1].dagster_event.message or failure[-1].user_message)


def test_a_run_using_either_resource_of_the_home_holds_the_lease(tmp_path):
    """Assets may ask for the data home (``fangpin``) or the step runner (``warehouse``): either makes the run the
    home's writer, once, for the whole run."""

    seen = {}

    @dg.asset
    def via_warehouse(context, warehouse: Warehouse):
        seen["warehouse"] = lock.current_holder(tmp_path)
        return context.run_id

    @dg.asset
    def via_home(via_warehouse, fangpin: FangpinHome):
        seen["fangpin"] = lock.current_holder(tmp_path)

    resources = resources_for(home=str(tmp_path))
    with dg.instance_for_test() as instance:
        result = dg.materialize([via_warehouse], resources={"warehouse": resources["warehouse"]}, instance=instance)
        assert result.success
        assert seen["warehouse"].run_id == result.run_id and seen["warehouse"].pid == os.getpid()
        result = dg.materialize([via_warehouse, via_home], resources=resources, instance=instance)
        assert result.success and seen["fangpin"].run_id == result.run_id
    assert lock.current_holder(tmp_path) is None
    assert not list((tmp_path / "state" / "runs").glob("*.json"))
