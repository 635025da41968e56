"""Drift distances (scripts/dq_distance.py) against reference values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from dq_distance import (
    Cdf,
    categorical_distance,
    chi2_sf,
    chi_squared_test,
    numeric_distance,
    robust_distance,
)


def test_robust_converges_to_simple_on_large_samples() -> None:
    assert robust_distance(0.12, 1e6, 1e6) == pytest.approx(0.12 - 1.8 * math.sqrt(2e-6))
    assert robust_distance(0.05, 100, 100) == 0.0


def test_deequ_reference_values() -> None:
    """The expected numbers of Deequ's own KLLDistanceTest."""
    baseline = Cdf.from_points("kll_sketch", np.array([1.0, 2, 3, 4]), np.ones(4))
    raw = numeric_distance(baseline, np.array([2.0, 3, 4, 5]))
    assert raw == 0.25
    assert robust_distance(raw, 4, 4) == 0.0
    sample1 = {"a": 10.0, "b": 20.0, "c": 25.0, "d": 10.0, "e": 5.0}
    sample2 = {"a": 11.0, "b": 20.0, "c": 25.0, "d": 10.0, "e": 10.0}
    assert categorical_distance(sample1, sample2) == pytest.approx(0.06015037593984962)
    observed = {"a": 207.0, "b": 20.0, "c": 25.0, "d": 14.0, "e": 25.0, "g": 13.0}
    expected = {"a": 223.0, "b": 20.0, "c": 25.0, "d": 12.0, "e": 13.0, "f": 15.0}
    statistic, p_value, dof = chi_squared_test(expected, observed)
    assert statistic == pytest.approx(28.175042782458068)
    assert dof == 5 and p_value < 0.001


@pytest.mark.parametrize(
    ("x", "dof", "p"), [(3.841458820694124, 1, 0.05), (18.307038053275146, 10, 0.05), (0.0, 3, 1.0)]
)
def test_chi2_survival_function(x: float, dof: int, p: float) -> None:
    assert chi2_sf(x, dof) == pytest.approx(p, rel=1e-9)
