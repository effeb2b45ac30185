"""The surge test's arithmetic (warehouse/systemic/model.py): the continuous tails equal the discrete Poisson and
negative-binomial tails at whole counts, the Benjamini–Hochberg step is the textbook one, and the configuration
names every signal the SQL knows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fangpin.config_schema import SYSTEMIC_SIGNALS
from fangpin.settings import load
from warehouse.systemic import SIGNAL_PARAMS, quarter_frame
from warehouse.systemic.model import benjamini_hochberg, upper_tail


@pytest.mark.parametrize("alpha", [0.0, 0.05, 0.4, 1.0])
def test_upper_tail_is_the_discrete_tail_at_whole_counts(alpha):
    y = np.array([1, 2, 5, 8, 13, 30, 60], dtype=float)
    mean = np.array([0.5, 3.0, 2.0, 8.0, 4.0, 10.0, 25.0])
    got = upper_tail(y, mean, alpha)
    if alpha == 0:
        want = stats.poisson.sf(y - 1, mean)
    else:
        size = 1 / alpha
        want = stats.nbinom.sf(y - 1, size, size / (size + mean))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-300)


def test_upper_tail_between_counts_is_monotone_and_zero_counts_are_never_surprising():
    y = np.linspace(0.5, 12, 40)
    p = upper_tail(y, 3.0, 0.2)
    assert np.all(np.diff(p) < 0)
    assert upper_tail(0.0, 3.0, 0.0) == 1.0 and upper_tail(-2.0, 3.0, 0.3) == 1.0
    # overdispersion makes the same excess less surprising
    assert upper_tail(12.0, 3.0, 0.5) > upper_tail(12.0, 3.0, 0.0) * 10


def test_benjamini_hochberg_adjusted_p_values():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    # sorted: 0.005, 0.01, 0.03, 0.04, 0.5 → ×5/rank: 0.025, 0.025, 0.05, 0.05, 0.5 (then running minimum from the top)
    np.testing.assert_allclose(benjamini_hochberg(p), [0.025, 0.05, 0.05, 0.025, 0.5])
    assert benjamini_hochberg(np.array([])).size == 0


def test_the_schema_and_the_sql_know_the_same_signals_and_the_packaged_file_uses_them_all():
    assert set(SYSTEMIC_SIGNALS) == set(SIGNAL_PARAMS)
    assert set(load("systemic")["signals"]) == set(SYSTEMIC_SIGNALS)


def test_quarters_count_back_from_the_reference_date():
    import datetime as dt

    q = quarter_frame(dt.date(2026, 10, 1), 8, 31)
    assert q["label"].to_list()[:5] == ["2026Q3", "2026Q2", "2026Q1", "2025Q4", "2025Q3"]  # index 4 = a year before
    assert q["q_start"][0] == dt.date(2026, 7, 1) and q["q_end"][0] == dt.date(2026, 10, 1)
    assert q["q_end"][8] == dt.date(2024, 10, 1) and q.height == 9
