"""One writer per data home: the command line and Dagster runs alike.

DuckDB lets one process hold the warehouse file (not even a read-only open gets past a writer), and a round also
writes the archive, the outputs and the receipts. So every process that writes a home first takes its *writer
lease*: an exclusive ``flock`` on ``<home>/state/writer.lock``. The operating system drops the lock when the process
ends, however it ends, so a killed writer never blocks the next one. Next to it, ``writer.json`` says who holds the
lease (command, pid, since when, the Dagster run): a second writer names the holder while it waits, and
``fangpin status`` reports a round in progress without touching the warehouse.

Dagster runs register themselves in ``<home>/state/runs/<run_id>.json`` for as long as their process works on the
home. A record whose process is gone belongs to a run that was killed mid-way: the next writer marks that run failed
in the Dagster run storage (``pipelines.instance.fail_dead_runs``; Dagster's own run monitoring cannot tell, since
neither in-process ``materialize`` runs nor the default run launcher report a dead worker).

Within one process the lease is re-entrant (the command line takes it, then the run it starts takes it again).
No Dagster or DuckDB import here: ``fangpin status`` reads this cheaply.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

STATE_DIR = "state"


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a home's writer lease."""

    pid: int
    command: str
    since: str  # local time, ISO seconds
    host: str
    pid_started: int | None = None  # the process's start time (clock ticks since boot): tells a reused pid apart
    run_id: str | None = None
    job: str | None = None

    def describe(self) -> str:
        """``fangpin screen --round 2026Q4（pid 4242，2026-10-09 10:02:03 起，Dagster 运行 1a2b3c4d）``"""
        extra = f"，Dagster 运行 {self.run_id[:8]}" if self.run_id else ""
        host = f"，主机 {self.host}" if self.host != socket.gethostname() else ""
        return f"{self.command}（pid {self.pid}，{self.since} 起{host}{extra}）"

    def alive(self) -> bool:
        return process_alive(self.pid, self.pid_started, self.host)


class HomeBusy(RuntimeError):
    """Another process holds the home's writer lease. The message is one line naming it."""

    def __init__(self, home: Path, holder: Holder | None, waited: float):
        self.home, self.holder, self.waited = home, holder, waited
        who = holder.describe() if holder else "另一个进程（未留下说明）"
        after = f"等待 {waited:.0f} 秒后" if waited >= 1 else ""
        super().__init__(f"{after}数据目录 {home} 仍被占用：{who}正在写入")


def _state(home: Path) -> Path:
    return Path(home) / STATE_DIR


def _proc_start(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (Linux), None where /proc cannot tell."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has ended; only its parent has not collected it yet
        return -1
    return int(fields[19])


def process_alive(pid: int, started: int | None = None, host: str | None = None) -> bool:
    """Whether process ``pid`` (started at ``started``) still runs. A process on another host cannot be checked: it
    counts as alive."""
    if host and host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    now = _proc_start(pid)
    if now == -1:
        return False
    return started is None or now is None or now == started


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _read_holder(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(**{k: data.get(k) for k in Holder.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None


def current_holder(home: Path) -> Holder | None:
    """The live holder of ``home``'s writer lease, or None when nobody writes (a note left by a killed writer is
    not a holder)."""
    holder = _read_holder(_state(home) / "writer.json")
    return holder if holder is not None and holder.alive() else None


def me(command: str, run_id: str | None = None, job: str | None = None) -> Holder:
    pid = os.getpid()
    return Holder(
        pid=pid,
        command=command,
        since=dt.datetime.now().isoformat(timespec="seconds").replace("T", " "),
        host=socket.gethostname(),
        pid_started=_proc_start(pid),
        run_id=run_id,
        job=job,
    )


@dataclass
class _Lease:
    fd: int
    holder: Holder
    depth: int = 1


_held: dict[Path, _Lease] = {}
_guard = threading.Lock()


def acquire(
    home: Path,
    command: str,
    wait: float = 0.0,
    on_wait: Callable[[Holder | None], None] | None = None,
    poll: float = 0.25,
) -> Holder:
    """Take ``home``'s writer lease, waiting up to ``wait`` seconds (``on_wait(holder)`` is called once when the
    wait starts). Raises :class:`HomeBusy` naming the holder when it is not free in time. Pair with :func:`release`
    (or use :func:`writer`)."""
    home = Path(home).resolve()
    with _guard:
        lease = _held.get(home)
        if lease is not None:
            lease.depth += 1
            return lease.holder
    path = _state(home) / "writer.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    deadline = time.monotonic() + max(wait, 0.0)
    started = time.monotonic()
    told = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            holder = current_holder(home)
            if time.monotonic() >= deadline:
                raise HomeBusy(home, holder, time.monotonic() - started)
            if not told and on_wait is not None:
                on_wait(holder)
                told = True
            time.sleep(poll)
    except BaseException:
        os.close(fd)
        raise
    holder = me(command)
    _write_json(_state(home) / "writer.json", asdict(holder))
    with _guard:
        _held[home] = _Lease(fd, holder)
    return holder


def release(home: Path) -> None:
    home = Path(home).resolve()
    with _guard:
        lease = _held.get(home)
        if lease is None:
            return
        lease.depth -= 1
        if lease.depth > 0:
            return
        del _held[home]
    with contextlib.suppress(FileNotFoundError):
        (_state(home) / "writer.json").unlink()
    fcntl.flock(lease.fd, fcntl.LOCK_UN)
    os.close(lease.fd)


@contextlib.contextmanager
def writer(
    home: Path, command: str, wait: float = 0.0, on_wait: Callable[[Holder | None], None] | None = None
) -> Iterator[Holder]:
    """``with writer(home, "fangpin screen --round 2026Q4", wait=600, on_wait=tell):`` — see :func:`acquire`."""
    holder = acquire(home, command, wait, on_wait)
    try:
        yield holder
    finally:
        release(home)


def note_run(home: Path, run_id: str, job: str | None) -> None:
    """The lease holder is now working on Dagster run ``run_id``: ``writer.json`` says so (for status and waiters)."""
    home = Path(home).resolve()
    with _guard:
        lease = _held.get(home)
        if lease is None:
            return
        lease.holder = replace(lease.holder, run_id=run_id, job=job)
        holder = lease.holder
    _write_json(_state(home) / "writer.json", asdict(holder))


# ---------------------------------------------------------------------------------------------- runs of this home


def register_run(home: Path, run_id: str, job: str | None = None) -> None:
    """Record that this process works on Dagster run ``run_id`` (removed by :func:`forget_run` when it ends)."""
    _write_json(_state(home) / "runs" / f"{run_id}.json", asdict(me("dagster run", run_id, job)))


def forget_run(home: Path, run_id: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        (_state(home) / "runs" / f"{run_id}.json").unlink()


def dead_runs(home: Path) -> list[Holder]:
    """Runs whose process ended without :func:`forget_run`: killed or crashed mid-way."""
    folder = _state(home) / "runs"
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        rec = _read_holder(path)
        if rec is not None and rec.run_id and not rec.alive():
            found.append(rec)
    return found


# ---------------------------------------------------------------------------------------------- Dagster runs

#: how long a Dagster run waits for the lease before it fails (``FANGPIN_WRITER_WAIT`` seconds)
RUN_WAIT_SECONDS = 3600.0
UNFINISHED = ("STARTING", "STARTED", "CANCELING")


def fail_dead_runs(instance, home: Path) -> list[str]:
    """Mark failed, in ``instance``'s run storage, every run of ``home`` whose process ended mid-way (see
    :func:`dead_runs`); return their ids. Needs no lease: only runs whose process is gone are touched, and a run
    that ended normally is no longer STARTED (its record is removed before its process exits)."""
    failed = []
    for rec in dead_runs(home):
        run = instance.get_run_by_id(rec.run_id)
        if run is not None and run.status.value in UNFINISHED:
            instance.report_run_failed(
                run,
                f"the process running it (pid {rec.pid}, started {rec.since}) ended without finishing — killed or "
                "crashed; marked failed when the next writer took the data home",
            )
            failed.append(rec.run_id)
        forget_run(home, rec.run_id)
    return failed


@contextlib.contextmanager
def run_lease(home: Path, run, instance, log=None, wait: float | None = None) -> Iterator[Holder]:
    """What a Dagster run does while it works on ``home`` (the ``FangpinHome`` or ``Warehouse`` resource): register,
    take the lease (waiting up to ``wait`` / ``FANGPIN_WRITER_WAIT`` / :data:`RUN_WAIT_SECONDS`), fail the runs killed
    before it, and give everything back at the end. In a ``fangpin`` command the lease is already held (re-entrant)."""
    run_id = getattr(run, "run_id", None)
    job = getattr(run, "job_name", None)
    if wait is None:
        wait = float(os.environ.get("FANGPIN_WRITER_WAIT", RUN_WAIT_SECONDS))

    def tell(holder: Holder | None) -> None:
        if log is not None:
            who = holder.describe() if holder else "another process"
            log.info(f"waiting up to {wait:.0f} s for the data home {home}: {who} is writing")

    if run_id:
        register_run(home, run_id, job)
    try:
        holder = acquire(home, f"dagster run of {job}" if job else "dagster run", wait, tell)
        try:
            if run_id:
                note_run(home, run_id, job)
            if instance is not None:
                for dead in fail_dead_runs(instance, home):
                    if log is not None:
                        log.warning(f"run {dead} was left unfinished by a killed process: marked failed")
            yield holder
        finally:
            release(home)
    finally:
        if run_id:
            forget_run(home, run_id)
