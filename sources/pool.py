"""Reader processes: files are read in worker processes, several at a time, each bounded in memory and time.

Why processes (issue 14, 17): a hostile workbook can make a native parser allocate tens of gigabytes and abort the
whole process (SIGABRT cannot be caught), and reading on one core leaves the others idle. A :class:`ReaderPool`
runs a task (``"module:function"``, called with one picklable payload) in up to ``workers`` processes, one payload at
a time per process, and hands back what the task returns — small metadata; the rows themselves travel as Arrow IPC
files the task writes into :attr:`ReaderPool.workdir` (a private folder, in shared memory where the machine has it).

Limits, per process:

- memory: the parent samples each busy process's resident memory every 50 ms and stops it past ``memory_bytes``; the
  process's data-segment limit (``RLIMIT_DATA``) is set to twice that, so a single absurd allocation fails at once
  (a Rust reader then aborts: the process dies, not the parent) instead of pushing the machine into swap;
- time: a task that runs past ``timeout_s + timeout_per_mb × size`` is stopped.

A process that dies, is stopped, or raises MemoryError fails only its own task (:class:`ReaderFailed`, with a code
for the clerk's receipt: ``reader_crash`` | ``reader_memory`` | ``reader_timeout``); a fresh process takes the next
one. A task that raises another exception fails with :class:`ReaderFailed` ``reader_error`` (a bug: the type and the
place are logged, never the message, which may quote personal data).

Processes are started fresh (``python -c`` with a socket pair: what multiprocessing's ``spawn`` does, never ``fork``
after Polars/DuckDB threads have started, but without re-importing the parent's ``__main__`` — under Dagster that
would import Dagster into every reader). They ask the kernel to kill them when the thread that started them — the
pool's dispatcher — goes away (``PR_SET_PDEATHSIG``), and the pool stops them when it closes (also at exit): they
never outlive the run, even if the parent is killed. Each process limits Polars to its share of the cores (set in its
environment, before Polars is imported). :func:`shared_pool` keeps one pool per task for a few seconds after its last user, so the folders
ingested one after another by one run reuse warm processes.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib
import json
import logging
import multiprocessing.connection as mpc
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("fangpin.readers")

_MB = 1 << 20
_POLL = 0.05  # seconds between memory samples of busy processes
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class PoolLimits:
    workers: int
    memory_bytes: int
    timeout_s: float = 120.0
    timeout_per_mb: float = 10.0
    linger_s: float = 10.0

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> PoolLimits:
        c = dict((cfg or {}).get("readers") or {})
        workers = c.get("workers") or cpu_count()
        return cls(
            workers=max(1, int(workers)),
            memory_bytes=int(float(c.get("memory_mb", 3072)) * _MB),
            timeout_s=float(c.get("timeout_seconds", 120)),
            timeout_per_mb=float(c.get("timeout_seconds_per_mb", 10)),
            linger_s=float(c.get("linger_seconds", 10)),
        )

    def timeout_for(self, size_bytes: int) -> float:
        return self.timeout_s + self.timeout_per_mb * size_bytes / _MB


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class ReaderFailed(Exception):
    """A task that did not finish: ``code`` for people, ``detail`` (English, no personal data) for the log."""

    def __init__(self, code: str, detail: str, peak_rss: int = 0):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.peak_rss = peak_rss


@dataclass
class TaskStats:
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss: int = 0  # bytes: the larger of the parent's samples and the process's own maximum so far
    worker_pid: int = 0


@dataclass
class Done:
    value: Any
    stats: TaskStats


# ----------------------------------------------------------------------------------------------- the child side

_BOOT = (
    "import json,os,sys; sys.path[:0]=json.loads(os.environ['FANGPIN_READER_PATH']); "
    "from sources.pool import _child_entry; _child_entry()"
)


def _resolve(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _die_with_parent() -> None:
    """Ask the kernel for SIGKILL when the parent thread that started us exits (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _high_water() -> int:
    """This process's largest resident memory so far (bytes). ``VmHWM``, not ``ru_maxrss``: the latter keeps the
    parent's resident size from before ``exec`` (a reader started by a 700 MB parent would report 700 MB)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _child_entry() -> None:
    """Entry point of a reader process (``_BOOT``): socket, task and limits come in its environment."""
    import resource

    cfg = json.loads(os.environ.pop("FANGPIN_READER_CONFIG"))
    _die_with_parent()
    if os.getppid() != int(cfg["parent"]):  # the parent went away before the request took effect
        os._exit(0)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_DATA, (int(cfg["data_limit"]),) * 2)
    # native crash reports (a Rust abort prints a backtrace) go to a private file the parent reads, not the console
    fd = os.open(cfg["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 2)
    os.close(fd)
    conn = mpc.Connection(int(cfg["fd"]))
    fn = _resolve(cfg["task"])
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] != "run":
            return
        _, tid, payload = msg
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            value = fn(payload)
            kind: tuple = ("ok", tid, value)
        except MemoryError:
            kind = ("failed", tid, "reader_memory", "MemoryError")
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)
            where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
            traceback.print_exc()  # the full report stays in the private stderr file
            kind = ("failed", tid, "reader_error", f"{type(exc).__name__} at {where}")
        stats = TaskStats(time.perf_counter() - t0, time.process_time() - c0, _high_water(), os.getpid())
        conn.send((*kind, stats))
        if kind[2:3] == ("reader_memory",):
            os._exit(3)  # a fresh process takes the next file


# ---------------------------------------------------------------------------------------------- the parent side


@dataclass
class _Task:
    tid: int
    payload: Any
    size: int
    future: Future


@dataclass
class _Worker:
    process: subprocess.Popen
    conn: Any
    stderr: Path
    ready: bool = False
    started: bool = False  # said "ready" once
    task: _Task | None = None
    deadline: float = 0.0
    peak: int = 0
    stopped_for: str | None = None  # reader_memory | reader_timeout when the pool stopped it


@dataclass
class PoolStats:
    tasks: int = 0
    failed: int = 0
    peak_rss: int = 0  # bytes, the largest of any reader process (sampled, and the processes' own maxima)
    workers_started: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _private_dir() -> Path:
    """A new folder for the Arrow files (mode 0700) under ``$FANGPIN_READER_DIR`` if set (a container whose
    /dev/shm is Docker's 64 MB needs a disk folder), else in shared memory where the machine has it. Folders left by
    a parent that was killed (its pid is in the name) are removed first: they hold personal data and take memory."""
    shm = Path("/dev/shm")
    if os.environ.get("FANGPIN_READER_DIR"):
        base = Path(os.environ["FANGPIN_READER_DIR"])
    else:
        base = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
    for old in base.glob("fangpin-readers-*-*"):
        pid = old.name.split("-")[2]
        if pid.isdigit() and not _alive(int(pid)) and old.owner() == _me():
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"fangpin-readers-{os.getpid()}-", dir=base))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _me() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


class ReaderPool:
    """See the module docstring. ``submit`` returns a Future of :class:`Done`, or raising :class:`ReaderFailed`."""

    def __init__(self, task: str, limits: PoolLimits):
        self.task = task
        self.limits = limits
        self.workdir = _private_dir()
        self.stats = PoolStats()
        self._queue: deque[_Task] = deque()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = mpc.Pipe(duplex=False)
        self._closing = False
        self._next = 0
        self._startup_failures = 0
        self._threads = max(1, cpu_count() // max(1, limits.workers))
        self._thread = threading.Thread(target=self._dispatch, name="reader-pool", daemon=True)
        self._thread.start()

    # --- API ------------------------------------------------------------------------------------------------------
    def submit(self, payload: Any, size: int = 0) -> Future:
        """Queue ``payload`` for the task; ``size`` (bytes of the file) scales the time limit."""
        fut: Future = Future()
        with self._lock:
            if self._closing:
                raise RuntimeError("reader pool is closed")
            self._next += 1
            self._queue.append(_Task(self._next, payload, size, fut))
        self._wake()
        return fut

    def close(self) -> None:
        """Stop every process (pending tasks fail) and remove the work folder."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
        self._wake()
        self._thread.join(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return not self._closing and self._thread.is_alive()

    def pids(self) -> list[int]:
        return [w.process.pid for w in list(self._workers)]

    # --- dispatcher thread ----------------------------------------------------------------------------------------
    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send_bytes(b"w")

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair()
        stderr = self.workdir / f"reader-{self.stats.workers_started}.stderr"
        cfg = {
            "fd": theirs.fileno(),
            "task": self.task,
            "data_limit": max(2 * self.limits.memory_bytes, self.limits.memory_bytes + 2048 * _MB),
            "stderr": str(stderr),
            "parent": os.getpid(),
        }
        env = dict(os.environ)
        env.update(
            POLARS_MAX_THREADS=str(self._threads),
            OPENBLAS_NUM_THREADS="1",
            FANGPIN_READER_PATH=json.dumps([p for p in sys.path if p]),
            FANGPIN_READER_CONFIG=json.dumps(cfg),
        )
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT], env=env, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL
            )
        finally:
            theirs.close()
        self.stats.workers_started += 1
        self._workers.append(_Worker(proc, mpc.Connection(ours.detach()), stderr))

    def _dispatch(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._closing:
                        break
                self._assign()
                objs: list[Any] = [self._wake_r] + [w.conn for w in self._workers]
                busy = any(w.task is not None or not w.ready for w in self._workers)
                ready = mpc.wait(objs, timeout=_POLL if busy else None)
                if self._wake_r in ready:
                    while self._wake_r.poll():
                        self._wake_r.recv_bytes()
                for w in list(self._workers):
                    if w.conn in ready and not self._receive(w):
                        self._reap(w)  # end of file on its socket: the process is gone
                self._police()
        finally:
            self._shutdown()

    def _assign(self) -> None:
        with self._lock:
            idle = [w for w in self._workers if w.ready and w.task is None]
            while self._queue and idle:
                self._start_task(idle.pop(), self._queue.popleft())
            starting = sum(1 for w in self._workers if not w.ready)
            missing = min(len(self._queue) - starting, self.limits.workers - len(self._workers))
        for _ in range(max(0, missing)):
            self._spawn()

    def _start_task(self, w: _Worker, task: _Task) -> None:
        if not task.future.set_running_or_notify_cancel():
            return
        w.task, w.peak, w.stopped_for = task, 0, None
        w.deadline = time.monotonic() + self.limits.timeout_for(task.size)
        with contextlib.suppress(OSError, ValueError):
            w.conn.send(("run", task.tid, task.payload))  # if the process is gone, its socket says so next

    def _receive(self, w: _Worker) -> bool:
        """Handle one message; False when the process has gone."""
        try:
            msg = w.conn.recv()
        except (EOFError, OSError):
            return False
        if msg[0] == "ready":
            w.ready = w.started = True
            self._startup_failures = 0
            return True
        task, w.task = w.task, None
        if task is None or msg[1] != task.tid:
            return True
        self.stats.tasks += 1
        stats: TaskStats = msg[-1]
        stats.peak_rss = max(stats.peak_rss, w.peak)
        self.stats.peak_rss = max(self.stats.peak_rss, stats.peak_rss)
        if msg[0] == "ok":
            task.future.set_result(Done(msg[2], stats))
        else:
            if msg[2] == "reader_memory":
                w.ready = False  # it exits after a MemoryError: no new task for it
            self._fail(task, msg[2], msg[3], stats.peak_rss)
        return True

    def _fail(self, task: _Task, code: str, detail: str, peak: int) -> None:
        self.stats.failed += 1
        self.stats.failures.append((code, detail))
        log.warning("reader process failed: %s (%s), peak %.0f MB", code, detail, peak / _MB)
        task.future.set_exception(ReaderFailed(code, detail, peak))

    def _reap(self, w: _Worker) -> None:
        try:
            w.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            w.process.kill()
            w.process.wait()
        with contextlib.suppress(ValueError):
            self._workers.remove(w)
        w.conn.close()
        task, w.task = w.task, None
        if not w.ready and not w.started:
            self._startup_failures += 1
        if task is not None and not task.future.done():
            self.stats.tasks += 1
            self.stats.peak_rss = max(self.stats.peak_rss, w.peak)
            self._fail(task, *self._why(w, task), w.peak)
        if self._startup_failures >= 3:  # the processes cannot start at all: say so instead of retrying forever
            detail = self._stderr_tail(w, 600).strip().splitlines()[-1:] or ["?"]
            with self._lock:
                pending, self._queue = list(self._queue), deque()
            for t in pending:
                if t.future.set_running_or_notify_cancel():
                    t.future.set_exception(ReaderFailed("reader_start", f"reader process does not start: {detail[0]}"))
        with contextlib.suppress(OSError):
            w.stderr.unlink()

    @staticmethod
    def _stderr_tail(w: _Worker, n: int = 4000) -> str:
        try:
            return w.stderr.read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _why(self, w: _Worker, task: _Task) -> tuple[str, str]:
        if w.stopped_for == "reader_memory":
            return "reader_memory", f"resident memory {w.peak / _MB:.0f} MB > {self.limits.memory_bytes / _MB:.0f} MB"
        if w.stopped_for == "reader_timeout":
            return "reader_timeout", f"still running after {self.limits.timeout_for(task.size):.0f} s"
        rc = w.process.returncode
        sig = f"signal {signal.Signals(-rc).name}" if rc is not None and rc < 0 else f"exit code {rc}"
        report = self._stderr_tail(w, 1 << 16)
        if "memory allocation of" in report or "MemoryError" in report or "bad_alloc" in report:
            return "reader_memory", f"{sig}: allocation failed"
        if rc == -signal.SIGKILL:  # killed from outside: most likely the kernel's out-of-memory killer
            return "reader_memory", sig
        return "reader_crash", sig

    def _police(self) -> None:
        now = time.monotonic()
        for w in self._workers:
            if w.task is None or w.stopped_for:
                continue
            rss = _rss(w.process.pid)
            w.peak = max(w.peak, rss)
            if rss > self.limits.memory_bytes:
                w.stopped_for = "reader_memory"
            elif now > w.deadline:
                w.stopped_for = "reader_timeout"
            if w.stopped_for:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(w.process.pid, signal.SIGKILL)

    def _shutdown(self) -> None:
        for w in self._workers:
            with contextlib.suppress(OSError, ValueError):
                w.conn.send(("stop",))
        deadline = time.monotonic() + 2
        for w in self._workers:
            try:
                w.process.wait(timeout=max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                w.process.kill()
                w.process.wait()
            w.conn.close()
            if w.task is not None and not w.task.future.done():
                w.task.future.set_exception(ReaderFailed("reader_crash", "pool closed"))
        with self._lock:
            pending, self._queue = list(self._queue), deque()
        for t in pending:
            if t.future.set_running_or_notify_cancel():
                t.future.set_exception(ReaderFailed("reader_crash", "pool closed"))
        self._workers = []


# ----------------------------------------------------------------------------------------- shared, lingering pools

_SHARED_LOCK = threading.Lock()
_SHARED: dict[tuple[str, PoolLimits], list[Any]] = {}  # key → [pool, users, timer]


@contextlib.contextmanager
def shared_pool(task: str, limits: PoolLimits) -> Iterator[ReaderPool]:
    """A pool for ``task``: the running one if any, else a new one; closed ``linger_s`` after its last user."""
    key = (task, limits)
    with _SHARED_LOCK:
        entry = _SHARED.get(key)
        if entry is None or not entry[0].alive:
            entry = _SHARED[key] = [ReaderPool(task, limits), 0, None]
        entry[1] += 1
        if entry[2] is not None:
            entry[2].cancel()
            entry[2] = None
    try:
        yield entry[0]
    finally:
        with _SHARED_LOCK:
            entry[1] -= 1
            if entry[1] == 0:
                if limits.linger_s > 0:
                    entry[2] = threading.Timer(limits.linger_s, _close_if_unused, args=(key, entry))
                    entry[2].daemon = True
                    entry[2].start()
                else:
                    _close_if_unused(key, entry, locked=True)


def _close_if_unused(key, entry, locked: bool = False) -> None:
    with contextlib.nullcontext() if locked else _SHARED_LOCK:
        if entry[1] or _SHARED.get(key) is not entry:
            return
        del _SHARED[key]
    entry[0].close()


def close_all() -> None:
    """Close every shared pool now (at exit, and for tests)."""
    with _SHARED_LOCK:
        entries = list(_SHARED.values())
        _SHARED.clear()
    for e in entries:
        if e[2] is not None:
            e[2].cancel()
        e[0].close()


atexit.register(close_all)


# ------------------------------------------------------------------------------------------- what the clerk reads


def failure_reason(exc: ReaderFailed, limits: PoolLimits, size: int) -> str:
    """The Chinese sentence for the receipt of a file whose reader did not finish."""
    again = "这个文件不会再被自动重试；修改后（或从原系统重新导出后）重新放入文件夹即可再次读取。"
    if exc.code == "reader_memory":
        return (
            f"读取这个文件需要的内存超过了系统为单个文件设定的上限（{limits.memory_bytes / _MB:,.0f} MB），"
            "为保护其他文件的处理已停止读取。文件可能过大或内容异常（例如大量空白行列、超长的单元格）。"
            "请检查文件，必要时拆分成几个较小的文件。" + again
        )
    if exc.code == "reader_timeout":
        return (
            f"读取这个文件超过了{limits.timeout_for(size):,.0f}秒仍未完成，已停止读取。文件可能过大或内容异常。"
            "请检查文件，必要时拆分成几个较小的文件。" + again
        )
    return "读取这个文件时读取程序意外中断，文件可能已损坏或内容异常（其他文件不受影响）。请从原系统重新导出。" + again
