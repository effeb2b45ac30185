"""The surge test of the systemic-risk watch: one-sided p-values of each area's count against its two baselines, and
Benjamini–Hochberg control of the false-discovery rate across all areas × signals of the round.

Vectorised over the frame of areas (thousands of rows), no per-row Python. The counts come in as effective counts
``y`` (an amount divided by ``phi``, see ``sql/30_test.sql``), so the tails are the continuous extensions of the
Poisson and negative-binomial tails:

- Poisson (α = 0):  P(Y ≥ y) = P(y, μ), the regularised lower incomplete gamma function;
- negative binomial with mean μ and Var = μ + α·μ² (size r = 1/α):  P(Y ≥ y) = I_{μ/(μ+r)}(y, r), the regularised
  incomplete beta function.

Both equal the discrete upper tails at whole y (tests/test_systemic_model.py checks them against scipy.stats).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import special


def upper_tail(y, mean, alpha) -> np.ndarray:
    """P(Y ≥ y) for Y with mean ``mean`` and dispersion ``alpha`` (0 = Poisson); 1 where y ≤ 0."""
    y, mean, alpha = np.broadcast_arrays(
        np.asarray(y, dtype=float), np.asarray(mean, dtype=float), np.asarray(alpha, dtype=float)
    )
    out = np.ones(y.shape, dtype=float)
    pos = y > 0
    pois = pos & (alpha <= 0)
    out[pois] = special.gammainc(y[pois], mean[pois])
    nb = pos & (alpha > 0)
    size = 1.0 / alpha[nb]
    out[nb] = special.betainc(y[nb], size, mean[nb] / (mean[nb] + size))
    return out


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values): reject where q ≤ the false-discovery rate."""
    p = np.asarray(p, dtype=float)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = q
    return out


def dispersion(base: pl.DataFrame, estimates: pl.DataFrame, model: dict) -> np.ndarray:
    """α of every row of ``base``: 0 for a Poisson test; the configured number; or (``auto``) the estimate of its
    area level and signal (``systemic/30_test.dispersion``) capped at ``max_dispersion``, 0 where none could be made."""
    if model.get("test", "negative_binomial") == "poisson":
        return np.zeros(base.height)
    setting = model.get("dispersion", "auto")
    if setting != "auto":
        return np.full(base.height, float(setting))
    cap = float(model.get("max_dispersion", 1.0))
    known = {(lv, sg): min(max(a, 0.0), cap) for lv, sg, a, _ in estimates.iter_rows() if a is not None}
    return np.array([known.get(k, 0.0) for k in zip(base["area_level"], base["signal"])], dtype=float)


def surge_test(base: pl.DataFrame, estimates: pl.DataFrame, cfg: dict) -> pl.DataFrame:
    """The test of every row of ``base`` (``systemic/30_test.frame``: one row per area and signal; ``estimates`` =
    ``systemic/30_test.dispersion``).

    An area surges when its count is improbably high under BOTH baselines — its own history (shrunk toward its
    county) and the other areas of its county this quarter (when ``county_test``): p = max of the two one-sided
    p-values (an intersection-union test, valid at the level of each). Expected counts are at least
    ``min_expected``. A row without ``min_history`` quarters of history is not tested (p = q = 1). A row is flagged
    when its BH q-value ≤ ``fdr``, its count ≥ its signal's ``min_count`` and its rate ≥ ``min_ratio`` × the higher
    baseline. Rates are per 1,000 persons in the signal's own units (yuan for amount signals)."""
    model = cfg.get("model") or {}
    signals = cfg.get("signals") or {}
    county_test = bool(model.get("county_test", True))
    min_expected = float(model.get("min_expected", 0.5))
    min_history = int((cfg.get("quarters") or {}).get("min_history", 2))
    fdr = float(model.get("fdr", 0.01))
    min_ratio = float(model.get("min_ratio", 2.0))
    if base.is_empty():
        return _empty()

    persons = base["persons"].to_numpy().astype(float)
    phi = base["phi"].to_numpy().astype(float)
    y0 = base["y0"].to_numpy().astype(float)
    r_hist = base["r_hist"].fill_null(np.nan).to_numpy().astype(float)
    r_rest = base["r_rest"].fill_null(np.nan).to_numpy().astype(float)
    alpha = dispersion(base, estimates, model)
    testable = (base["m"].to_numpy() >= min_history) & np.isfinite(r_hist)

    mean_hist = np.maximum(np.where(np.isfinite(r_hist), persons * r_hist, 0.0), min_expected)
    has_rest = county_test & np.isfinite(r_rest)
    mean_rest = np.maximum(np.where(has_rest, persons * r_rest, 0.0), min_expected)
    p_hist = upper_tail(y0, mean_hist, alpha)
    p_rest = np.where(has_rest, upper_tail(y0, mean_rest, alpha), 0.0)
    p = np.where(testable, np.maximum(p_hist, p_rest), 1.0)
    q = np.ones(p.size)
    q[testable] = benjamini_hochberg(p[testable])  # m = the tests made: every tested area × signal of the round

    expected = np.where(has_rest, np.maximum(mean_hist, mean_rest), mean_hist)  # effective units
    baseline_rate = 1000.0 * expected * phi / persons
    rate = 1000.0 * base["v0"].to_numpy().astype(float) / persons
    ratio = rate / baseline_rate
    min_count = np.array([int((signals.get(s) or {}).get("min_count", 5)) for s in base["signal"]])
    flagged = testable & (q <= fdr) & (base["n0"].to_numpy() >= min_count) & (ratio >= min_ratio)

    return pl.DataFrame(
        {
            "area_level": base["area_level"],
            "area_code": base["area_code"],
            "signal": base["signal"],
            "alpha": alpha,
            "rate": rate,
            "history_rate": np.where(np.isfinite(r_hist), 1000.0 * r_hist * phi, np.nan),
            "county_rate": np.where(np.isfinite(r_rest), 1000.0 * r_rest * phi, np.nan),
            "baseline_rate": baseline_rate,
            "ratio": ratio,
            "expected": expected * phi,
            "p_value": p,
            "q_value": q,
            "tested": testable,
            "flagged": flagged,
        }
    ).with_columns(pl.col("history_rate", "county_rate").fill_nan(None))


def _empty() -> pl.DataFrame:
    floats = (
        "alpha",
        "rate",
        "history_rate",
        "county_rate",
        "baseline_rate",
        "ratio",
        "expected",
        "p_value",
        "q_value",
    )
    schema = {"area_level": pl.String, "area_code": pl.String, "signal": pl.String}
    schema |= {k: pl.Float64 for k in floats} | {"tested": pl.Boolean, "flagged": pl.Boolean}
    return pl.DataFrame(schema=schema)
