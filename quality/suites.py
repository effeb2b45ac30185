"""Great Expectations suites per feed: is one dropped file, as a whole, fit for screening? (SPEC §2 step 2)

The readers (``sources/``) have already rejected faulty rows one by one. What arrives here are the ACCEPTED rows of one
file, as a Polars frame with the canonical columns of ``registry_person`` / ``village`` / ``dept_record``
(docs/ARCHITECTURE.md). :func:`validate_frame` runs that feed's suite with GX 1.x and returns a :class:`FeedValidation`:
``success`` is False when any *blocking* expectation failed — the lead's asset keeps that file out of the screening —
and every :class:`ExpectationOutcome` carries GX's unexpected count and a Chinese sentence for the clerk's report.

Suites (which checks, thresholds, blocking flags, value sets, Chinese labels) are configuration:
``fangpin/config/quality.yaml``, overridable per data home. Checks per feed, each one real GX expectation:

=====================  ==========================================  ============================================
name                   GX expectation                              what
=====================  ==========================================  ============================================
schema                 ExpectTableColumnsToMatchSet (subset)       required canonical columns present
column_type            ExpectColumnValuesToBeInTypeList            date / numeric columns have date / numeric type
row_count              ExpectTableRowCountToBeBetween (≥ 1)        the file has accepted rows (warning)
not_null               ExpectColumnValuesToNotBeNull (mostly)      required fields filled in
value_set              ExpectColumnValuesToBeInSet (mostly)        coded values from the allowed list
pattern                ExpectColumnValuesToMatchRegex (mostly)     e.g. 12-digit village code
range / range_gross    ExpectColumnValuesToBeBetween               plausible amounts: any → warn; > 10% → block
pair                   ExpectColumnPairValuesAToBeGreaterThanB     e.g. out_of_pocket ≤ total_cost
id_valid_rate          ExpectColumnValuesToBeInSet on id_status    share of usable IDs (valid / converted15)
duplicate_rate(_gross) ExpectColumnValuesToBeInSet on a helper     rows repeating an earlier row's key
date_not_future        ExpectColumnValuesToBeBetween (max)         not after reference_date + tolerance
date_not_too_old       ExpectColumnValuesToBeBetween (min)         not before reference_date − N years (warning)
=====================  ==========================================  ============================================

How it runs (issue 17: validation that scales with the data). :func:`measure_frame` computes what every check needs
in ONE Polars pass over the accepted rows, where they already are (in the reader process, right after reading):
per check the rows considered, the unexpected rows and the first 20 unexpected values (GX's
``partial_unexpected_list``), with GX's semantics (value checks count non-empty cells, pairs only rows with both
values). That is a small, picklable :class:`Measured`. :func:`judge` then lets Great Expectations decide: the suite is
a real GX ``ExpectationSuite``, one expectation per check, run on a one-row summary frame of the measured shares
(``ExpectColumnMinToBeBetween`` with the check's ``mostly`` as the lower bound; counts and flags for the table-level
checks), and GX's validation result is the verdict the outcomes report. Nothing row by row in Python, no pandas copy
of the rows, and GX's cost no longer grows with the file (≈ 0.05 s a file, whatever its size).
:func:`validate_frame` is both steps in one call.

GX is imported lazily (first call pays 3–5 s, see :mod:`quality.gx_runner`) — only where :func:`judge` runs; suites are
built once per (feed, reference date, columns present, configuration) and cached for the process.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from fangpin import settings
from quality import gx_runner
from quality.gx_runner import ExpectationSpec

DATE_COLUMNS = frozenset({"birth_date", "event_date", "settle_date", "disaster_date", "approved_on"})
NUMERIC_COLUMNS = frozenset(
    {
        "per_capita_net_income",
        "household_size",
        "total_cost",
        "fund_paid",
        "critical_illness_paid",
        "medical_aid_paid",
        "out_of_pocket",
        "direct_loss",
        "amount",
        "previous_monthly_income",
    }
)
FEED_LABELS = {
    "registry": "防返贫监测名册",
    "village": "行政村表",
    "medical": "医保",
    "disaster": "应急管理",
    "civil_affairs": "民政",
    "employment": "人社",
    "property": "财产检索",
}
_ID_COL = "_fp_id_status"
_DUP_COL = "_fp_duplicate"


# ------------------------------------------------------------------------------------------------ public types


@dataclass(frozen=True)
class ExpectationOutcome:
    name: str  # short English id: schema, not_null, value_set, range, id_valid_rate, ...
    expectation_type: str  # the GX expectation measured on the rows, e.g. ExpectColumnValuesToBeInSet
    column: str | None  # canonical column checked (None for table-level checks)
    blocking: bool  # a failure keeps the file out of the screening
    success: bool
    unexpected_count: int  # rows (or, for schema, columns) that broke the expectation
    unexpected_percent: float  # 0..100, of the rows considered (non-empty cells for value checks)
    observed: str  # short English/technical summary
    description_zh: str  # one Chinese sentence for the clerk

    @property
    def key(self) -> str:
        """Unique within a FeedValidation: ``name`` or ``name:column``."""
        return self.name if self.column is None else f"{self.name}:{self.column}"


@dataclass(frozen=True)
class FeedValidation:
    feed: str
    success: bool  # no blocking expectation failed
    outcomes: list[ExpectationOutcome]
    rows: int
    elapsed_s: float
    reference_date: _dt.date | None = None
    skipped: list[str] = field(default_factory=list)  # checks not run (column absent or of the wrong type)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.blocking and not o.success]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        """Failed non-blocking outcomes, minus those a failed blocking outcome on the same column already says."""
        blocked = {(o.name.removesuffix("_gross"), o.column) for o in self.blocking_failures}
        return [
            o
            for o in self.outcomes
            if not o.blocking and not o.success and (o.name.removesuffix("_gross"), o.column) not in blocked
        ]


# ------------------------------------------------------------------------------------------------ planning


@dataclass(frozen=True)
class _Check:
    name: str
    expectation_type: str
    column: str | None
    blocking: bool
    kwargs: dict[str, Any]
    info: dict[str, Any]  # what the Chinese description needs (thresholds, value sets, labels)


def _fingerprint(cfg: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(cfg, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


def _feed_cfg(cfg: dict[str, Any], feed: str) -> dict[str, Any]:
    feeds = cfg.get("feeds") or {}
    if feed not in feeds:
        raise settings.ConfigError(
            f"quality.yaml: no suite for feed {feed!r}; known feeds: {', '.join(sorted(feeds))}. "
            f"Add a 'feeds.{feed}' entry to the quality configuration"
        )
    return feeds[feed] or {}


def _merge(default: dict[str, Any] | None, override: Any) -> dict[str, Any]:
    out = dict(default or {})
    if isinstance(override, dict):
        out.update(override)
    return out


def _years_before(d: _dt.date, years: int) -> _dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _as_datetime(d: _dt.date) -> _dt.datetime:
    return _dt.datetime(d.year, d.month, d.day)


def _plan(
    feed: str, cfg: dict[str, Any], reference_date: _dt.date, columns: dict[str, str]
) -> tuple[list[_Check], list[str], dict[str, Any]]:
    """Checks for one feed given the frame's columns ({name: kind} with kind date/numeric/other/bad_date/bad_numeric).

    Returns (checks, skipped, helpers) where helpers says which helper columns the frame needs.
    """
    fc = _feed_cfg(cfg, feed)
    dflt = cfg.get("defaults") or {}
    checks: list[_Check] = []
    skipped: list[str] = []
    helpers: dict[str, Any] = {}

    def usable(col: str, check: str, kind: str | None = None) -> bool:
        if col not in columns:
            skipped.append(f"{check}:{col} (column absent)")
            return False
        if kind is not None and columns[col] != kind:
            skipped.append(f"{check}:{col} (column type is not {kind})")
            return False
        return True

    # schema: required columns present; dates and amounts typed
    # an entry may be a list of alternatives ([id_raw, id_number]): the first one present counts, else the first
    schema = []
    for entry in fc.get("schema") or []:
        alts = list(entry) if isinstance(entry, (list, tuple)) else [entry]
        schema.append(next((a for a in alts if a in columns), alts[0]))
    if schema:
        checks.append(
            _Check(
                "schema",
                "ExpectTableColumnsToMatchSet",
                None,
                True,
                {"column_set": schema, "exact_match": False},
                {"columns": schema},
            )
        )
    typed = [c for c in columns if c in DATE_COLUMNS or c in NUMERIC_COLUMNS]
    for col in sorted(typed):
        want = "date" if col in DATE_COLUMNS else "numeric"
        type_list = ["datetime64", "datetime64[ns]"] if want == "date" else ["float64", "Float64"]
        if columns[col] in ("date", "numeric", "bad_date", "bad_numeric"):
            checks.append(
                _Check(
                    "column_type",
                    "ExpectColumnValuesToBeInTypeList",
                    col,
                    True,
                    {"column": col, "type_list": type_list},
                    {"want": want},
                )
            )
    checks.append(_Check("row_count", "ExpectTableRowCountToBeBetween", None, False, {"min_value": 1}, {}))

    # required fields filled in
    nn = _merge(dflt.get("not_null"), fc.get("not_null_options"))
    for col in fc.get("not_null") or []:
        if usable(col, "not_null"):
            checks.append(
                _Check(
                    "not_null",
                    "ExpectColumnValuesToNotBeNull",
                    col,
                    bool(nn.get("blocking", True)),
                    {"column": col, "mostly": float(nn.get("mostly", 0.99))},
                    {"mostly": float(nn.get("mostly", 0.99))},
                )
            )

    # value sets
    for col, spec in (fc.get("value_sets") or {}).items():
        spec = _merge(dflt.get("value_set"), spec if isinstance(spec, dict) else {"values": spec})
        values = [("" if v is None else str(v)) for v in spec.get("values") or []]
        if usable(col, "value_set"):
            mostly = float(spec.get("mostly", 0.95))
            checks.append(
                _Check(
                    "value_set",
                    "ExpectColumnValuesToBeInSet",
                    col,
                    bool(spec.get("blocking", True)),
                    {"column": col, "value_set": values, "mostly": mostly},
                    {"values": values, "mostly": mostly},
                )
            )

    # patterns
    for col, spec in (fc.get("patterns") or {}).items():
        if usable(col, "pattern"):
            mostly = float(spec.get("mostly", 0.99))
            checks.append(
                _Check(
                    "pattern",
                    "ExpectColumnValuesToMatchRegex",
                    col,
                    bool(spec.get("blocking", True)),
                    {"column": col, "regex": spec["regex"], "mostly": mostly},
                    {"mostly": mostly, "describe": spec.get("describe") or spec["regex"]},
                )
            )

    # ranges: any row out of range → warning; more than (1 - gross_mostly) → blocking
    for col, spec in (fc.get("ranges") or {}).items():
        spec = _merge(dflt.get("range"), spec if isinstance(spec, dict) else {"min": spec[0], "max": spec[1]})
        if not usable(col, "range", "numeric"):
            continue
        lo, hi = spec.get("min"), spec.get("max")
        bounds = {"min_value": None if lo is None else float(lo), "max_value": None if hi is None else float(hi)}
        if spec.get("warn_mostly") is not None:
            m = float(spec["warn_mostly"])
            checks.append(
                _Check(
                    "range",
                    "ExpectColumnValuesToBeBetween",
                    col,
                    False,
                    {"column": col, **bounds, "mostly": m},
                    {"min": lo, "max": hi, "mostly": m},
                )
            )
        if spec.get("gross_mostly") is not None:
            m = float(spec["gross_mostly"])
            checks.append(
                _Check(
                    "range_gross",
                    "ExpectColumnValuesToBeBetween",
                    col,
                    True,
                    {"column": col, **bounds, "mostly": m},
                    {"min": lo, "max": hi, "mostly": m},
                )
            )

    # column pairs (a >= b)
    for spec in fc.get("pairs") or []:
        a, b = spec["a"], spec["b"]
        if usable(a, "pair", "numeric") and usable(b, "pair", "numeric"):
            m = float(spec.get("mostly", 0.99))
            checks.append(
                _Check(
                    spec.get("name", "pair"),
                    "ExpectColumnPairValuesAToBeGreaterThanB",
                    b,
                    bool(spec.get("blocking", False)),
                    {
                        "column_A": a,
                        "column_B": b,
                        "or_equal": True,
                        "ignore_row_if": "either_value_is_missing",
                        "mostly": m,
                    },
                    {"a": a, "b": b, "mostly": m},
                )
            )

    # ID validity rate (on id_status; derived from id_raw when the frame has no id_status)
    if fc.get("id_valid_rate") is not None:
        spec = _merge(dflt.get("id_valid_rate"), fc.get("id_valid_rate"))
        # no ID column at all counts as every ID missing: the rate is 0%, not "not checked"
        helpers["id_status"] = next((c for c in ("id_status", "id_raw", "id_number") if c in columns), "absent")
        statuses = list(spec.get("statuses") or ["valid", "converted15"])
        m = float(spec.get("min", 0.6))
        checks.append(
            _Check(
                "id_valid_rate",
                "ExpectColumnValuesToBeInSet",
                "id_status",
                bool(spec.get("blocking", True)),
                {"column": _ID_COL, "value_set": statuses, "mostly": m},
                {"min": m},
            )
        )

    # duplicate rate within the file
    key = fc.get("duplicate_key")
    if key:
        spec = _merge(dflt.get("duplicate_rate"), fc.get("duplicate_rate"))
        if usable(key, "duplicate_rate"):
            helpers["duplicate_key"] = key
            for name, share_key, blocking in (
                ("duplicate_rate", "warn_max_share", False),
                ("duplicate_rate_gross", "block_max_share", True),
            ):
                if spec.get(share_key) is None:
                    continue
                share = float(spec[share_key])
                checks.append(
                    _Check(
                        name,
                        "ExpectColumnValuesToBeInSet",
                        key,
                        blocking,
                        {"column": _DUP_COL, "value_set": [False], "mostly": 1.0 - share},
                        {"share": share, "key": key},
                    )
                )

    # date window
    for col, spec in (fc.get("date_window") or {}).items():
        spec = _merge(dflt.get("date_window"), spec)
        if not usable(col, "date_window", "date"):
            continue
        tol = int(spec.get("future_tolerance_days") or 0)
        latest = reference_date + _dt.timedelta(days=tol)
        m = float(spec.get("future_mostly", 0.99))
        checks.append(
            _Check(
                "date_not_future",
                "ExpectColumnValuesToBeBetween",
                col,
                bool(spec.get("future_blocking", True)),
                {"column": col, "max_value": _as_datetime(latest), "mostly": m},
                {"latest": latest, "tolerance": tol, "reference": reference_date, "mostly": m},
            )
        )
        if spec.get("max_age_years") is not None:
            years = int(spec["max_age_years"])
            earliest = _years_before(reference_date, years)
            m = float(spec.get("old_mostly", 0.99))
            checks.append(
                _Check(
                    "date_not_too_old",
                    "ExpectColumnValuesToBeBetween",
                    col,
                    bool(spec.get("old_blocking", False)),
                    {"column": col, "min_value": _as_datetime(earliest), "mostly": m},
                    {"earliest": earliest, "years": years, "mostly": m},
                )
            )
    return checks, skipped, helpers


_SUITES: dict[tuple, tuple[list[_Check], list[str], dict[str, Any], Any]] = {}


def _verdict_spec(i: int, c: _Check) -> ExpectationSpec:
    """The GX expectation that judges check ``i`` on the summary frame (column ``c<i>``)."""
    if c.name == "row_count":
        bounds = {"min_value": c.kwargs.get("min_value"), "max_value": c.kwargs.get("max_value")}
    elif c.name in ("schema", "column_type"):
        bounds = {"min_value": 1.0}  # 1 = as expected, 0 = not
    else:
        bounds = {"min_value": float(c.kwargs.get("mostly", 1.0))}  # the share of considered rows that pass
    # the summary has one row: its minimum is the value; the aggregate expectation costs a third of the map one
    return ExpectationSpec(i, "ExpectColumnMinToBeBetween", {"column": f"c{i}", **bounds})


def _suite_for(feed: str, cfg: dict[str, Any], reference_date: _dt.date, columns: dict[str, str], gx: bool = True):
    """(checks, skipped, helpers, GX suite) — the suite only when ``gx`` (the reader processes never import GX)."""
    key = (feed, reference_date, tuple(sorted(columns.items())), _fingerprint(cfg))
    hit = _SUITES.get(key)
    if hit is None or (gx and hit[3] is None):
        checks, skipped, helpers = _plan(feed, cfg, reference_date, columns)
        suite = None
        if gx:
            specs = [_verdict_spec(i, c) for i, c in enumerate(checks)]
            suite = gx_runner.build_suite(f"fangpin_{feed}_{len(_SUITES)}", specs)
        if len(_SUITES) > 256:
            _SUITES.clear()
        hit = _SUITES[key] = (checks, skipped, helpers, suite)
    return hit


# ------------------------------------------------------------------------------------------------ frame preparation


def _kind(col: str, dtype: pl.DataType) -> str:
    if dtype == pl.Null:  # an all-empty column built without a dtype: it casts to anything
        return "date" if col in DATE_COLUMNS else "numeric" if col in NUMERIC_COLUMNS else "other"
    if col in DATE_COLUMNS:
        return "date" if dtype in (pl.Date,) or isinstance(dtype, pl.Datetime) else "bad_date"
    if col in NUMERIC_COLUMNS:
        return "numeric" if dtype.is_numeric() else "bad_numeric"
    return "other"


def _referenced(feed_cfg: dict[str, Any]) -> set[str]:
    cols: set[str] = set(feed_cfg.get("not_null") or [])
    for entry in feed_cfg.get("schema") or []:
        cols |= set(entry) if isinstance(entry, (list, tuple)) else {entry}
    cols |= set((feed_cfg.get("value_sets") or {}).keys()) | set((feed_cfg.get("patterns") or {}).keys())
    cols |= set((feed_cfg.get("ranges") or {}).keys()) | set((feed_cfg.get("date_window") or {}).keys())
    for p in feed_cfg.get("pairs") or []:
        cols |= {p["a"], p["b"]}
    if feed_cfg.get("duplicate_key"):
        cols.add(feed_cfg["duplicate_key"])
    if feed_cfg.get("id_valid_rate") is not None:
        cols |= {"id_status", "id_raw", "id_number"}
    return cols


@dataclass(frozen=True)
class Measured:
    """One pass over a file's accepted rows: per check of the feed's suite what GX needs to judge it (picklable: it
    crosses from the reader process to the parent). ``results[i]`` has ``unexpected_count``, ``element_count`` (rows
    considered), ``unexpected_percent``, ``partial_unexpected_list`` (first 20, in row order) and ``value`` (what the
    summary frame holds for the check: the share of considered rows that pass, 1/0, or the row count)."""

    feed: str
    reference_date: _dt.date
    rows: int
    columns: tuple[tuple[str, str], ...]  # (column, kind) of the columns the suite reads
    present: frozenset[str]
    results: tuple[dict[str, Any], ...]
    id_breakdown: tuple[tuple[str, int], ...]  # unusable ID statuses and their row counts, most first
    seconds: float


def _id_status_expr(frame: pl.DataFrame, source: str) -> pl.Expr:
    if source == "id_status":
        status = pl.col("id_status").cast(pl.String)
    elif source in ("id_raw", "id_number"):  # not classified upstream: classify here (GB 11643)
        from fangpin.domain.idnumber import add_id_columns

        status = pl.lit(add_id_columns(frame.select(source), source, prefix="_fp_id")["_fp_id_status"])
    else:
        status = pl.repeat("missing", frame.height, dtype=pl.String)
    return status.fill_null("missing")


def _bound(x: pl.Expr, value: Any, dtype: pl.DataType) -> pl.Expr:
    """A bound for comparisons with column ``x``: dates compare with the date of a datetime bound."""
    if isinstance(value, _dt.datetime) and dtype == pl.Date:
        return pl.lit(value.date())
    return pl.lit(value)


def _measure(frame: pl.DataFrame, checks: list[_Check], helpers: dict[str, Any]) -> tuple[list[dict], list]:
    """Per check its counts and examples, and the ID breakdown: one ``select`` over the frame."""
    n_rows = frame.height
    helper: dict[str, pl.Expr] = {}
    if helpers.get("id_status"):
        helper[_ID_COL] = _id_status_expr(frame, helpers["id_status"])
    if helpers.get("duplicate_key"):
        k = pl.col(helpers["duplicate_key"])
        helper[_DUP_COL] = k.is_not_null() & ~k.is_first_distinct()
    exprs: list[pl.Expr] = []
    for i, c in enumerate(checks):
        t, kw = c.expectation_type, c.kwargs
        if c.name in ("schema", "column_type", "row_count"):
            continue
        if t == "ExpectColumnPairValuesAToBeGreaterThanB":
            a, b = pl.col(kw["column_A"]), pl.col(kw["column_B"])
            considered = a.is_not_null() & b.is_not_null()
            bad = considered & ~((a >= b) if kw.get("or_equal") else (a > b))
            example = pl.concat_list([a.cast(pl.Float64), b.cast(pl.Float64)])
        else:
            col = kw["column"]
            x = helper.get(col, pl.col(col) if col in frame.columns else None)
            dtype = frame.schema.get(col)
            considered = x.is_not_null()
            if t == "ExpectColumnValuesToNotBeNull":
                considered, bad = pl.repeat(True, n_rows, dtype=pl.Boolean), x.is_null()
            elif t == "ExpectColumnValuesToBeInSet" and col == _DUP_COL:
                bad = x
            elif t == "ExpectColumnValuesToBeInSet":
                bad = considered & ~x.cast(pl.String).is_in([str(v) for v in kw["value_set"]])
            elif t == "ExpectColumnValuesToMatchRegex":
                bad = considered & ~x.cast(pl.String).str.contains(kw["regex"])
            elif t == "ExpectColumnValuesToBeBetween":
                lo, hi = kw.get("min_value"), kw.get("max_value")
                out = pl.lit(False)
                if lo is not None:
                    out = out | (x < _bound(x, lo, dtype))
                if hi is not None:
                    out = out | (x > _bound(x, hi, dtype))
                bad = considered & out
            else:
                raise ValueError(f"no measurement for {t}")
            example = pl.col(kw["column"]) if col in frame.columns else x
        exprs += [
            bad.fill_null(False).sum().alias(f"u{i}"),
            considered.fill_null(False).sum().alias(f"n{i}"),
            example.filter(bad.fill_null(False)).head(20).implode().alias(f"e{i}"),
        ]
    got = frame.select(exprs).row(0, named=True) if exprs else {}
    results: list[dict] = []
    for i in range(len(checks)):
        if f"u{i}" not in got:
            results.append({})
            continue
        u, n = int(got[f"u{i}"]), int(got[f"n{i}"])
        results.append(
            {
                "unexpected_count": u,
                "element_count": n,
                "unexpected_percent": 100.0 * u / n if n else 0.0,
                "partial_unexpected_list": list(got[f"e{i}"] or []),
                "value": (n - u) / n if n else 1.0,
            }
        )
    breakdown: list = []
    if _ID_COL in helper:
        statuses = next((c.kwargs["value_set"] for c in checks if c.name == "id_valid_rate"), [])
        s = helper[_ID_COL]
        counts = frame.select(s.alias("s")).filter(~pl.col("s").is_in(statuses)).group_by("s").len()
        breakdown = [tuple(r) for r in counts.sort(["len", "s"], descending=[True, False]).iter_rows()]
    return results, breakdown


def measure_frame(
    frame: pl.DataFrame, feed: str, reference_date: _dt.date | None = None, home: Path | None = None
) -> Measured:
    """What the feed's suite needs from these accepted rows, in one pass (no GX; runs in a reader process)."""
    t0 = time.perf_counter()
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    cfg = settings.load("quality", home)
    fc = _feed_cfg(cfg, feed)
    ref = reference_date or _dt.date.today()
    if isinstance(ref, _dt.datetime):
        ref = ref.date()
    present = frozenset(frame.columns)
    columns = {c: _kind(c, frame.schema[c]) for c in sorted(_referenced(fc) & present)}
    checks, _, helpers, _ = _suite_for(feed, cfg, ref, columns, gx=False)
    results, breakdown = _measure(frame, checks, helpers)
    for i, c in enumerate(checks):  # the table-level checks
        if c.name == "schema":
            ok = all(col in present for col in c.info["columns"])
            results[i] = {"value": 1.0 if ok else 0.0}
        elif c.name == "column_type":
            ok = columns.get(c.column) in ("date", "numeric")
            results[i] = {"value": 1.0 if ok else 0.0, "observed_value": str(frame.schema[c.column])}
        elif c.name == "row_count":
            results[i] = {"value": float(frame.height)}
    return Measured(
        feed,
        ref,
        frame.height,
        tuple(columns.items()),
        present,
        tuple(results),
        tuple(breakdown),
        round(time.perf_counter() - t0, 4),
    )


# ------------------------------------------------------------------------------------------------ translation


def _pct(x: float) -> str:
    s = f"{x * 100:.1f}".rstrip("0").rstrip(".")
    return f"{s}%"


def _num(x: Any) -> str:
    if x is None:
        return "不限"
    x = float(x)
    return f"{int(x):,}" if x.is_integer() else f"{x:,.2f}"


def _partial_counts(result: dict[str, Any]) -> list[dict[str, Any]]:
    """GX's ``partial_unexpected_counts`` (most frequent first) from the ``partial_unexpected_list`` that the BASIC
    result format returns — the same counting SUMMARY does, on the same (first 20) values, without its cost."""
    values = [tuple(v) if isinstance(v, list) else v for v in result.get("partial_unexpected_list") or []]
    try:
        counted = Counter(values)
    except TypeError:  # an unhashable value: keep the order GX gave
        return [{"value": v, "count": 1} for v in values]
    return [{"value": v, "count": n} for v, n in counted.most_common()]


#: a run of 15–18 digits (an ID or account number that landed in another column, e.g. swapped headers): the
#: examples quoted in messages — clerk reports and Dagster check metadata alike — show only its area code and last
#: four characters, never the birth date and whole number
_LONG_NUMBER = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{5,8}([0-9]{3}[0-9Xx])(?![0-9Xx])")


def _examples(result: dict[str, Any], k: int = 3) -> str:
    """Up to ``k`` of the most frequent unexpected values, as the clerk's message quotes them (long numbers masked)."""
    return _LONG_NUMBER.sub(
        lambda m: m.group(1) + "*" * (len(m.group(0)) - 10) + m.group(2), _example_values(result, k)
    )


def _example_values(result: dict[str, Any], k: int) -> str:
    counts = _partial_counts(result)
    vals = []
    for c in counts[:k]:
        v = c.get("value")
        if isinstance(v, tuple):
            v = "/".join(_num(x) if isinstance(x, (int, float)) else str(x) for x in v)
        elif isinstance(v, float):
            v = _num(v)
        elif hasattr(v, "strftime"):
            v = v.strftime("%Y-%m-%d")
        vals.append(str(v))
    return "、".join(vals)


def _describe(
    c: _Check,
    ok: bool,
    n_bad: int,
    pct: float,
    rows: int,
    result: dict[str, Any],
    labels: dict[str, str],
    extra: dict[str, Any],
) -> tuple[str, str]:
    """(observed, description_zh) for one check."""
    lab = labels.get(c.column or "", c.column or "")
    info = c.info
    share = (f"（占 {pct:.1f}%）" if pct >= 0.05 else "（占不到 0.1%）") if n_bad else ""
    if c.name == "schema":
        missing = extra.get("missing") or []
        if not missing:
            return "all required columns present", "必需的列齐全"
        names = "、".join(f"{labels.get(m, m)}（{m}）" for m in missing)
        return f"missing: {', '.join(missing)}", f"缺少必需的列：{names}，整个文件无法用于筛查"
    if c.name == "column_type":
        observed = str(result.get("observed_value"))
        want = "日期" if info["want"] == "date" else "数值"
        if ok:
            return f"type {observed}", f"{lab}（{c.column}）的类型为{want}"
        return (
            f"type {observed}, expected {info['want']}",
            f"{lab}（{c.column}）应为{want}，实际类型为 {observed}，无法检查",
        )
    if c.name == "row_count":
        return f"{rows} rows", ("文件中有被接收的行" if ok else "文件中没有任何被接收的行")
    if c.name == "not_null":
        need = f"要求至少 {_pct(info['mostly'])} 的行填写"
        if not n_bad:
            return "0 null", f"{lab}均已填写"
        return f"{n_bad} null of {rows}", f"{lab}有 {n_bad} 行为空{share}，{need}"
    if c.name == "value_set":
        allowed = "、".join(v if v else "（空）" for v in info["values"])
        if not n_bad:
            return "all in set", f"{lab}的取值均在允许范围内"
        ex = _examples(result)
        return (
            f"{n_bad} not in set (e.g. {ex})",
            f"{lab}有 {n_bad} 行取值不在允许范围（{allowed}）内{share}，例如：{ex}；"
            f"要求至少 {_pct(info['mostly'])} 的行取值合规",
        )
    if c.name == "pattern":
        if not n_bad:
            return "all match", f"{lab}格式均正确（{info['describe']}）"
        ex = _examples(result)
        return (
            f"{n_bad} do not match (e.g. {ex})",
            f"{lab}有 {n_bad} 行格式不对（应为{info['describe']}）{share}，例如：{ex}；"
            f"要求至少 {_pct(info['mostly'])} 的行格式正确",
        )
    if c.name in ("range", "range_gross"):
        rng = f"{_num(info['min'])}–{_num(info['max'])}"
        if not n_bad:
            return f"all in [{info['min']}, {info['max']}]", f"{lab}均在合理范围 {rng} 内"
        ex = _examples(result)
        tail = (
            f"，超过 {_pct(1 - info['mostly'])} 的行超出范围，数据可能有误" if c.name == "range_gross" else "，请核对"
        )
        return (
            f"{n_bad} outside [{info['min']}, {info['max']}] (e.g. {ex})",
            f"{lab}有 {n_bad} 行超出合理范围 {rng}{share}，例如：{ex}{tail}",
        )
    if c.name == "id_valid_rate":
        rate = (1 - pct / 100) if rows else 1.0
        detail = extra.get("id_breakdown") or ""
        detail = f"：{detail}" if detail else ""
        verdict = "达到" if ok else "低于"
        return (
            f"valid {_pct(rate)} ({rows - n_bad}/{rows}), min {_pct(info['min'])}",
            f"证件号码有效率为 {rate * 100:.1f}%，{verdict}要求的 {_pct(info['min'])}（共 {n_bad} 行无效{detail}）",
        )
    if c.name in ("duplicate_rate", "duplicate_rate_gross"):
        klab = labels.get(info["key"], info["key"])
        limit = _pct(info["share"])
        if not n_bad:
            return "0 duplicates", "文件中没有重复的行"
        what = (
            "同一事件重复出现"
            if info["key"] == "event_key"
            else "同一人，证件号码相同"
            if info["key"] == "id_number"
            else f"{klab}相同"
        )
        verdict = "超过" if not ok else "未超过"
        return (
            f"{n_bad} duplicate rows ({pct:.1f}%), max {limit}",
            f"文件中有 {n_bad} 行与前面的行重复（{what}）{share}，{verdict}允许的 {limit}",
        )
    if c.name == "date_not_future":
        latest = info["latest"].isoformat()
        if not n_bad:
            return f"none after {latest}", f"{lab}均不晚于 {latest}"
        ex = _examples(result)
        return (
            f"{n_bad} after {latest} (e.g. {ex})",
            f"{lab}有 {n_bad} 行晚于 {latest}（参考日期 {info['reference'].isoformat()} 加 {info['tolerance']} 天）"
            f"{share}，例如：{ex}；日期不能在未来",
        )
    if c.name == "date_not_too_old":
        earliest = info["earliest"].isoformat()
        if not n_bad:
            return f"none before {earliest}", f"{lab}均不早于 {earliest}"
        ex = _examples(result)
        return (
            f"{n_bad} before {earliest} (e.g. {ex})",
            f"{lab}有 {n_bad} 行早于 {earliest}（{info['years']} 年以前）{share}，例如：{ex}；请确认是否为旧数据",
        )
    if c.expectation_type == "ExpectColumnPairValuesAToBeGreaterThanB":
        la, lb = labels.get(info["a"], info["a"]), labels.get(info["b"], info["b"])
        if not n_bad:
            return f"{info['b']} <= {info['a']} everywhere", f"{lb}均不超过{la}"
        return (f"{n_bad} rows with {info['b']} > {info['a']}", f"有 {n_bad} 行{lb}大于{la}{share}，请核对")
    return (f"{n_bad} unexpected", f"{lab}有 {n_bad} 行不符合要求{share}")


def _translate(
    checks: list[_Check],
    results: dict[int, dict[str, Any]],
    measured: Measured,
    cfg: dict[str, Any],
) -> list[ExpectationOutcome]:
    rows, present = measured.rows, measured.present
    labels = {k: str(v) for k, v in (cfg.get("labels") or {}).items()}
    status_labels = {k: str(v) for k, v in (cfg.get("id_status_labels") or {}).items()}
    out: list[ExpectationOutcome] = []
    for i, c in enumerate(checks):
        r = results.get(i) or {"success": False, "exception": "no result returned by GX"}
        res = measured.results[i]
        extra: dict[str, Any] = {}
        if c.name == "schema":
            missing = [col for col in c.info["columns"] if col not in present]
            extra["missing"] = missing
            n_bad, pct = len(missing), (100.0 * len(missing) / len(c.info["columns"]) if c.info["columns"] else 0.0)
        elif c.name in ("column_type", "row_count"):
            n_bad, pct = (0 if r["success"] else (1 if c.name == "column_type" else 0)), 0.0
        else:
            n_bad = int(res.get("unexpected_count") or 0)
            pct = float(res.get("unexpected_percent") or 0.0)
        if c.name == "id_valid_rate" and n_bad:
            extra["id_breakdown"] = "、".join(f"{status_labels.get(s, s)} {n} 行" for s, n in measured.id_breakdown)
        if r["exception"]:
            lab = labels.get(c.column or "", c.column or "")
            out.append(
                ExpectationOutcome(
                    c.name,
                    c.expectation_type,
                    c.column,
                    c.blocking,
                    False,
                    n_bad,
                    pct,
                    f"error: {r['exception'][:300]}",
                    f"{lab}的“{c.name}”检查无法执行（程序错误），请联系技术人员",
                )
            )
            continue
        observed, desc = _describe(c, r["success"], n_bad, pct, rows, res, labels, extra)
        out.append(
            ExpectationOutcome(
                c.name,
                c.expectation_type,
                c.column,
                c.blocking,
                bool(r["success"]),
                n_bad,
                round(pct, 4),
                observed,
                desc,
            )
        )
    return out


# ------------------------------------------------------------------------------------------------ API


def judge(measured: Measured, home: Path | None = None) -> FeedValidation:
    """Great Expectations' verdict on a measured file: the feed's suite run on the one-row summary of the shares."""
    t0 = time.perf_counter()
    cfg = settings.load("quality", home)
    checks, skipped, _, suite = _suite_for(measured.feed, cfg, measured.reference_date, dict(measured.columns))
    import pandas as pd

    summary = pd.DataFrame({f"c{i}": [float(r["value"])] for i, r in enumerate(measured.results)})
    # success per expectation is all the verdict needs (the counts and examples were measured): the cheapest format
    results = gx_runner.validate(summary, suite, result_format="BOOLEAN_ONLY")
    outcomes = _small_file_leniency(_translate(checks, results, measured, cfg), measured.rows, cfg)
    success = not any(o.blocking and not o.success for o in outcomes)
    seconds = round(measured.seconds + time.perf_counter() - t0, 4)
    return FeedValidation(
        measured.feed, success, outcomes, measured.rows, seconds, measured.reference_date, list(skipped)
    )


def validate_frame(
    frame: pl.DataFrame,
    feed: str,
    reference_date: _dt.date | None = None,
    home: Path | None = None,
) -> FeedValidation:
    """Validate the accepted rows of one dropped file against its feed's suite (configuration: quality.yaml).

    ``feed``: registry (registry_person rows), village, medical, disaster, civil_affairs, employment, property.
    ``reference_date``: the round's reference date (default: today) for the date window.
    """
    return judge(measure_frame(frame, feed, reference_date, home), home)


#: Checks that judge a share of the rows; schema and column types are judged whatever the size.
_SHARE_CHECKS = {
    "not_null",
    "value_set",
    "pattern",
    "range_gross",
    "id_valid_rate",
    "duplicate_rate_gross",
    "date_not_future",
}


def _small_file_leniency(outcomes: list[ExpectationOutcome], rows: int, cfg: dict) -> list[ExpectationOutcome]:
    """A share measured on a handful of rows says little (3 missing IDs out of 6 is 50%): below
    ``defaults.min_rows_for_share_blocking`` rows, share-based failures are warnings, not blocks."""
    min_rows = int((cfg.get("defaults") or {}).get("min_rows_for_share_blocking", 0) or 0)
    if rows >= min_rows:
        return outcomes
    return [dataclasses.replace(o, blocking=False) if o.name in _SHARE_CHECKS and o.blocking else o for o in outcomes]


_OUTCOME_SCHEMA = {
    "feed": pl.String,
    "name": pl.String,
    "expectation_type": pl.String,
    "column": pl.String,
    "blocking": pl.Boolean,
    "success": pl.Boolean,
    "unexpected_count": pl.Int64,
    "unexpected_percent": pl.Float64,
    "observed": pl.String,
    "description_zh": pl.String,
}


def outcomes_frame(v: FeedValidation) -> pl.DataFrame:
    """One row per outcome (for reports and asset-check metadata)."""
    rows = [
        {
            "feed": v.feed,
            "name": o.name,
            "expectation_type": o.expectation_type,
            "column": o.column,
            "blocking": o.blocking,
            "success": o.success,
            "unexpected_count": o.unexpected_count,
            "unexpected_percent": o.unexpected_percent,
            "observed": o.observed,
            "description_zh": o.description_zh,
        }
        for o in v.outcomes
    ]
    return pl.DataFrame(rows, schema=_OUTCOME_SCHEMA)


def summary_zh(v: FeedValidation, file_name: str | None = None) -> str:
    """A few Chinese lines for the clerk's acceptance report: verdict, blocking failures, then warnings."""
    feed = FEED_LABELS.get(v.feed, v.feed)
    subject = f"{feed}数据文件{('“' + file_name + '”') if file_name else ''}（{v.rows} 行）"
    lines = []
    if v.success:
        lines.append(f"{subject}通过数据质量检查，进入筛查。")
    else:
        lines.append(f"{subject}未通过数据质量检查，本次不进入筛查。原因：")
        lines += [f"  · {o.description_zh}" for o in v.blocking_failures]
    if v.warnings:
        lines.append("提示（不影响本次筛查）：")
        lines += [f"  · {o.description_zh}" for o in v.warnings]
    return "\n".join(lines)


def check_metadata(v: FeedValidation) -> dict[str, Any]:
    """Plain values for ``AssetCheckResult(metadata=...)`` (wrap ``outcomes_md`` in ``MetadataValue.md`` if wanted)."""
    header = "| check | column | blocking | ok | unexpected | % | observed |\n|---|---|---|---|---|---|---|"
    body = [
        f"| {o.name} | {o.column or ''} | {'yes' if o.blocking else 'no'} | {'✔' if o.success else '✘'} | "
        f"{o.unexpected_count} | {o.unexpected_percent:.2f} | {o.observed.replace('|', '/')} |"
        for o in v.outcomes
    ]
    return {
        "feed": v.feed,
        "rows": v.rows,
        "elapsed_s": v.elapsed_s,
        "reference_date": v.reference_date.isoformat() if v.reference_date else "",
        "blocking_failed": ", ".join(f"{o.key} ({o.unexpected_count})" for o in v.blocking_failures),
        "warnings": ", ".join(f"{o.key} ({o.unexpected_count})" for o in v.warnings),
        "skipped": ", ".join(v.skipped),
        "summary_zh": summary_zh(v),
        "outcomes_md": "\n".join([header, *body]),
    }
