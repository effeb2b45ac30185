"""Great Expectations 1.x, held at arm's length: imported lazily, once per process, with one cached context.

Why a module of its own: importing ``great_expectations`` costs 3–5 s and ≈ 290 MB (../shared/STACK.md), so nothing
imports it at module load time; the first validation pays, every later one reuses the same ephemeral context,
pandas data source, dataframe asset and batch definition. ``dagster-ge`` is unusable with GX 1.x / pandas 3, so
this is the whole integration.

Nothing here knows about feeds or thresholds: :mod:`quality.suites` builds the expectation specs and translates the
results. This module turns specs into ``gxe.*`` objects, runs a suite on a pandas frame and returns plain dicts.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_LOCK = threading.RLock()
_STATE: dict[str, Any] = {}

DATA_SOURCE = "fangpin_frames"
ASSET = "frame"
BATCH_DEFINITION = "whole_frame"


def _quiet_environment() -> None:
    """Analytics off before the import (GX reads the variable at import time)."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"


class _HidePySpark:
    """An import finder that answers "not installed" for PySpark, to the importing thread only."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if (name == "pyspark" or name.startswith("pyspark.")) and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden from Great Expectations)", name=name)
        return None


@contextmanager
def _without_pyspark() -> Iterator[None]:
    """GX imports PySpark whenever it is installed (``great_expectations.compatibility.pyspark``): with the spark extra
    that made every DuckDB round's GX import ≈ 0.3 s longer and printed PySpark's pandas-3 FutureWarnings among the
    CLI's messages. fangpin validates pandas frames only, so GX is imported as it is without the extra. Other threads
    may import PySpark meanwhile (the Spark engine); a process that already has it changes nothing."""
    if "pyspark" in sys.modules:
        yield
        return
    finder = _HidePySpark()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def modules() -> tuple[Any, Any]:
    """``(great_expectations, great_expectations.expectations)``, imported on first use."""
    with _LOCK:
        if "gx" not in _STATE:
            _quiet_environment()
            with _without_pyspark():
                import great_expectations as gx
                import great_expectations.expectations as gxe

            _STATE["gx"] = gx
            _STATE["gxe"] = gxe
        return _STATE["gx"], _STATE["gxe"]


def batch_definition() -> Any:
    """The process-wide whole-dataframe batch definition of an ephemeral context (progress bars off)."""
    with _LOCK:
        if "bd" not in _STATE:
            gx, _ = modules()
            from great_expectations.data_context.types.base import ProgressBarsConfig

            ctx = gx.get_context(mode="ephemeral")
            ctx.enable_analytics(False)  # also off via GX_ANALYTICS_ENABLED=false, set before the import
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            source = ctx.data_sources.add_pandas(DATA_SOURCE)
            asset = source.add_dataframe_asset(ASSET)
            _STATE["ctx"] = ctx
            _STATE["bd"] = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)
        return _STATE["bd"]


def warm_up() -> None:
    """Pay the import and context cost now (e.g. at the start of a Dagster run), not inside the first check."""
    batch_definition()


def warm_up_in_background() -> None:
    """Start :func:`warm_up` in a daemon thread (once per process) and return at once.

    The import is Python work (it holds the GIL), but the ingest path reads files with Polars / fastexcel, which
    release it: started before the first file is read, most of the import's seconds disappear behind the read.
    Whoever validates first simply waits on the module lock until the context is ready. A failure here is ignored:
    the first real validation raises it again, where it belongs.
    """
    with _LOCK:
        if "bd" in _STATE or "warming" in _STATE:
            return

        def work() -> None:
            try:
                batch_definition()
            except Exception:
                pass

        thread = threading.Thread(target=work, name="gx-warm-up", daemon=True)
        _STATE["warming"] = thread
        thread.start()


@dataclass(frozen=True)
class ExpectationSpec:
    """One GX expectation to build: ``gxe.<expectation_type>(**kwargs)``; ``index`` maps the result back."""

    index: int
    expectation_type: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def build_suite(name: str, specs: list[ExpectationSpec]) -> Any:
    """A ``gx.ExpectationSuite`` (not added to the context: it lives in the caller's cache)."""
    gx, gxe = modules()
    expectations = []
    for spec in specs:
        cls = getattr(gxe, spec.expectation_type)
        expectations.append(cls(**spec.kwargs, meta={"fp_index": spec.index}))
    return gx.ExpectationSuite(name=name, expectations=expectations)


def _exception_message(info: Any) -> str | None:
    """GX 1.x reports exceptions either flat or keyed by metric id; return the first message, if any."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "exception")
    for value in info.values():
        if (
            isinstance(value, dict)
            and value.get("raised_exception", True)
            and (value.get("exception_message") or value.get("exception_traceback"))
        ):
            msg = value.get("exception_message") or str(value.get("exception_traceback", "")).strip().splitlines()[-1:]
            return msg if isinstance(msg, str) else " ".join(msg)
    return None


def validate(pdf: Any, suite: Any, result_format: str = "SUMMARY") -> dict[int, dict[str, Any]]:
    """Validate a pandas frame against a suite. Returns ``{spec index: {success, result, exception}}``."""
    bd = batch_definition()
    with _LOCK:  # one ephemeral context per process: serialise its use across threads
        batch = bd.get_batch(batch_parameters={"dataframe": pdf})
        res = batch.validate(suite, result_format=result_format)
    out: dict[int, dict[str, Any]] = {}
    for r in res.results:
        meta = r.expectation_config.meta or {}
        idx = meta.get("fp_index")
        if idx is None:
            continue
        out[int(idx)] = {
            "success": bool(r.success),
            "result": dict(r.result or {}),
            "exception": _exception_message(r.exception_info),
        }
    return out
