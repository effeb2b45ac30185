"""Wall time and peak memory per stage, inside one process (no dependencies beyond the standard library).

Peak memory is the process's resident set (RSS), which includes DuckDB's buffer pool and Polars/Arrow buffers
(everything lives in this process). Two sources, the larger one wins:

* ``VmHWM`` of ``/proc/self/status`` — the kernel's exact high-water mark. It is reset at the start of every
  top-level stage by writing ``5`` to ``/proc/self/clear_refs`` (Linux ≥ 4.0), so each stage gets its own exact peak.
* a sampling thread reading ``VmRSS`` every ``interval`` seconds, which attributes samples to the innermost open
  stage — this is how nested stages (validation inside ingestion) get a peak of their own.

Also kept per stage: CPU seconds of the process (user + system), so that a stage slowed down by other processes
on a shared machine can be told apart from one that does more work.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import threading
import time
from dataclasses import dataclass, field


def _status_kb(key: str) -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb() -> float:
    return _status_kb("VmRSS:") / 1024


def hwm_mb() -> float:
    return _status_kb("VmHWM:") / 1024


def reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def to_json(obj) -> str:
    """Results as the bench stores them: indented UTF-8 text, dates and paths as strings."""
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


def emit(result, path=None) -> None:
    """A child step's result: to ``path`` (read by bench/run.py) and to stdout (its log)."""
    text = to_json(result)
    if path:
        path.write_text(text, encoding="utf-8")
    print(text)


def loadavg() -> tuple[float, float, float]:
    return os.getloadavg()


@dataclass
class Stage:
    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    calls: int = 0
    start_rss_mb: float = 0.0
    load_start: float = 0.0
    load_end: float = 0.0
    extra: dict = field(default_factory=dict)


class Recorder:
    """``with rec.stage("link"): ...`` — nested stages accumulate (a sub-stage called many times sums up)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.stages: dict[str, Stage] = {}
        self._open: list[Stage] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.process_peak_mb = 0.0
        self.t0 = time.perf_counter()
        self.timeline: list[
            tuple[float, float, str]
        ] = []  # (seconds since start, RSS MB, innermost stage), ≥ 0.5 s apart
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True, name="rss-sampler")
        self._thread.start()

    def _sample(self, interval: float) -> None:
        last = -1.0
        while not self._stop.is_set():
            mb = rss_mb()
            with self._lock:
                self.process_peak_mb = max(self.process_peak_mb, mb)
                for st in self._open:
                    st.peak_rss_mb = max(st.peak_rss_mb, mb)
                now = time.perf_counter() - self.t0
                if now - last >= 0.5:
                    self.timeline.append((round(now, 2), round(mb, 1), self._open[-1].name if self._open else ""))
                    last = now
            self._stop.wait(interval)

    @contextlib.contextmanager
    def stage(self, name: str):
        top = not self._open
        st = self.stages.get(name)
        if st is None:
            st = self.stages[name] = Stage(name, start_rss_mb=rss_mb(), load_start=loadavg()[0])
        if top:
            reset_hwm()
        t0, c0 = time.perf_counter(), cpu_s()
        with self._lock:
            self._open.append(st)
        try:
            yield st
        finally:
            with self._lock:
                self._open.remove(st)
            st.wall_s += time.perf_counter() - t0
            st.cpu_s += cpu_s() - c0
            st.calls += 1
            st.load_end = loadavg()[0]
            mb = max(rss_mb(), hwm_mb() if top else 0.0)
            st.peak_rss_mb = max(st.peak_rss_mb, mb)
            self.process_peak_mb = max(self.process_peak_mb, st.peak_rss_mb)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)

    def as_dict(self) -> dict:
        return {
            "stages": {
                k: {
                    "wall_s": round(v.wall_s, 3),
                    "cpu_s": round(v.cpu_s, 3),
                    "peak_rss_mb": round(v.peak_rss_mb, 1),
                    "calls": v.calls,
                    "load_start": v.load_start,
                    "load_end": v.load_end,
                    **v.extra,
                }
                for k, v in self.stages.items()
            },
            "process_peak_rss_mb": round(self.process_peak_mb, 1),
            "rss_timeline": self.timeline,
        }


def run_child(cmd: list[str], env: dict | None = None, log_path=None, cwd=None) -> dict:
    """Run a command, return wall seconds, its peak RSS (ru_maxrss of the child, MB), exit code and load averages.

    ``ru_maxrss`` is only right for a child that never resets its high-water mark: a child using :class:`Recorder`
    resets it at every top-level stage, so take that child's own ``process_peak_rss_mb`` instead."""
    import subprocess

    load0 = loadavg()
    t0 = time.perf_counter()
    out = open(log_path, "w", encoding="utf-8") if log_path else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        _, status, ru = os.wait4(proc.pid, 0)
    finally:
        if log_path:
            out.close()
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(ru.ru_maxrss / 1024, 1),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "returncode": proc.returncode,
        "load_start": load0,
        "load_end": loadavg(),
    }


# ------------------------------------------------------------------------------------- a process and its children

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[int, float, str] | None:
    """(parent pid, CPU seconds user + system, command name) of a live process, from ``/proc/<pid>/stat``."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    f = text[text.rindex(")") + 2 :].split()  # f[0] is field 3 (state): ppid is field 4, utime 14, stime 15
    return int(f[1]), (int(f[11]) + int(f[12])) / _TICK, name


def _proc_mb(pid: int, path: str, key: str) -> float:
    try:
        with open(f"/proc/{pid}/{path}", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def sample_tree(root: int, known: set[int]) -> dict[int, tuple[float, float, float, str]]:
    """Every live process descending from ``root`` (or seen in the tree before, ``known``, e.g. a JVM whose Python
    parent exited): pid → (RSS MB, PSS MB, CPU s, command name). ``known`` is updated."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _proc_stat(int(entry))):
            stats[int(entry)] = st
    tree = ({root} | known) & stats.keys()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    frontier = list(tree)
    while frontier:
        for kid in children.get(frontier.pop(), ()):
            if kid not in tree:
                tree.add(kid)
                frontier.append(kid)
    known |= tree
    return {
        pid: (_proc_mb(pid, "status", "VmRSS:"), _proc_mb(pid, "smaps_rollup", "Pss:"), stats[pid][1], stats[pid][2])
        for pid in tree
    }


def run_tree(cmd: list[str], env: dict | None = None, log_path=None, interval: float = 0.25) -> dict:
    """:func:`run_child` with the memory and CPU of the whole process tree (a Spark round: Python, the JVM it starts,
    the Python workers the JVM forks), sampled from ``/proc`` every ``interval`` s.

    ``peak_tree_rss_mb`` sums the members' RSS (pages shared by forked workers count once per process: an upper
    bound); ``peak_tree_pss_mb`` sums their proportional set size (shared pages split between sharers: the tree's
    real footprint); ``peak_java_rss_mb`` is the largest JVM. ``cpu_s`` is the larger of the child's rusage (it and
    the descendants it waited for) and the sum of the last CPU seen per member (a JVM left to exit on its own is not
    in the rusage)."""
    import subprocess

    load0 = loadavg()
    t0 = time.perf_counter()
    out = open(log_path, "w", encoding="utf-8") if log_path else subprocess.DEVNULL
    known: set[int] = set()
    cpu: dict[int, float] = {}
    peak = {"rss": 0.0, "pss": 0.0, "java": 0.0}
    try:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        while True:
            tree = sample_tree(proc.pid, known)
            for pid, (_, _, c, _) in tree.items():
                cpu[pid] = max(cpu.get(pid, 0.0), c)
            peak["rss"] = max(peak["rss"], sum(t[0] for t in tree.values()))
            peak["pss"] = max(peak["pss"], sum(t[1] for t in tree.values()))
            peak["java"] = max([peak["java"]] + [t[0] for t in tree.values() if t[3] == "java"])
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(interval)
    finally:
        if log_path:
            out.close()
    wall = time.perf_counter() - t0
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(max(ru.ru_utime + ru.ru_stime, sum(cpu.values())), 3),
        "rusage_cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "tree_cpu_s": round(sum(cpu.values()), 3),
        "peak_rss_mb": round(ru.ru_maxrss / 1024, 1),  # the largest single process, as run_child reports it
        "peak_tree_rss_mb": round(peak["rss"], 1),
        "peak_tree_pss_mb": round(peak["pss"], 1),
        "peak_java_rss_mb": round(peak["java"], 1),
        "processes": len(known),
        "returncode": os.waitstatus_to_exitcode(status),
        "load_start": load0,
        "load_end": loadavg(),
    }
