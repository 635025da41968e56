"""Properties of the drift distances and statistics (hypothesis, modest example counts)."""

from __future__ import annotations

import numpy as np
from dq_distance import Cdf, categorical_distance, chi_squared_test, numeric_distance, robust_distance
from dq_profile import summarize_numbers
from hypothesis import given, settings
from hypothesis import strategies as st

FAST = settings(max_examples=60, deadline=None)
floats = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False), min_size=1, max_size=150
)
integers = st.lists(st.integers(min_value=-40, max_value=40), min_size=1, max_size=150)
categories = st.dictionaries(st.sampled_from("abcdefgh"), st.integers(min_value=1, max_value=500), min_size=1)


def histogram_cdf(values: np.ndarray, integral: bool = False) -> Cdf:
    summary = summarize_numbers(values, integral)
    return Cdf.from_histogram(summary.lo, summary.hi, summary.counts)


def exact_ks(a: np.ndarray, b: np.ndarray) -> float:
    """Brute-force two-sample KS statistic: both empirical CDFs at every point (and just below it)."""
    points = np.union1d(a, b)
    fa = np.searchsorted(np.sort(a), points, side="right") / a.size
    fb = np.searchsorted(np.sort(b), points, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


@FAST
@given(floats, floats)
def test_distance_is_between_0_and_1(base: list[float], current: list[float]) -> None:
    distance = numeric_distance(histogram_cdf(np.array(base)), np.array(current))
    assert 0.0 <= distance <= 1.0


@FAST
@given(floats)
def test_identical_data_gives_zero(values: list[float]) -> None:
    data = np.array(values)
    assert numeric_distance(histogram_cdf(data), data) == 0.0
    assert numeric_distance(Cdf.from_points("kll_sketch", data, np.ones(data.size)), data) == 0.0


@FAST
@given(floats, floats, st.randoms(use_true_random=False))
def test_permuting_rows_changes_nothing(base: list[float], current: list[float], rnd: object) -> None:
    shuffled_base, shuffled_current = list(base), list(current)
    rnd.shuffle(shuffled_base)  # type: ignore[attr-defined]
    rnd.shuffle(shuffled_current)  # type: ignore[attr-defined]
    one = numeric_distance(histogram_cdf(np.array(base)), np.array(current))
    two = numeric_distance(histogram_cdf(np.array(shuffled_base)), np.array(shuffled_current))
    assert one == two
    first = summarize_numbers(np.array(base), False)
    second = summarize_numbers(np.array(shuffled_base), False)
    assert first.counts.tolist() == second.counts.tolist() and first.buckets() == second.buckets()
    assert (first.min, first.max) == (second.min, second.max)


@FAST
@given(floats, floats)
def test_sketch_points_give_the_exact_ks_statistic(base: list[float], current: list[float]) -> None:
    a, b = np.array(base), np.array(current)
    distance = numeric_distance(Cdf.from_points("kll_sketch", a, np.ones(a.size)), b)
    assert abs(distance - exact_ks(a, b)) < 1e-12


@FAST
@given(floats, floats)
def test_fine_histogram_never_overstates_the_ks_statistic(base: list[float], current: list[float]) -> None:
    a, b = np.array(base), np.array(current)
    assert numeric_distance(histogram_cdf(a), b) <= exact_ks(a, b) + 1e-12


@FAST
@given(integers, integers)
def test_integers_on_a_unit_grid_give_the_exact_ks_statistic(base: list[int], current: list[int]) -> None:
    a, b = np.array(base, dtype=float), np.array(current, dtype=float)
    assert abs(numeric_distance(histogram_cdf(a, integral=True), b) - exact_ks(a, b)) < 1e-12


@FAST
@given(floats)
def test_counts_and_buckets_account_for_every_value(values: list[float]) -> None:
    summary = summarize_numbers(np.array(values), False)
    assert int(summary.counts.sum()) == len(values)
    assert sum(b["count"] for b in summary.buckets()) == len(values)
    assert sum(
        len(level) and sum(2**h for _ in level) for h, level in enumerate(summary.sketch.data())
    ) == len(values)


@FAST
@given(categories, categories)
def test_categorical_distance_properties(base: dict[str, int], current: dict[str, int]) -> None:
    b = {k: float(v) for k, v in base.items()}
    c = {k: float(v) for k, v in current.items()}
    distance = categorical_distance(b, c)
    assert 0.0 <= distance <= 1.0
    assert distance == categorical_distance(c, b)
    assert categorical_distance(b, b) == 0.0
    _, p_value, _ = chi_squared_test(b, c)
    assert np.isnan(p_value) or 0.0 <= p_value <= 1.0


@FAST
@given(st.floats(min_value=0, max_value=1), st.integers(min_value=1, max_value=10**7), st.integers(1, 10**7))
def test_robust_is_never_above_simple(distance: float, n: int, m: int) -> None:
    assert 0.0 <= robust_distance(distance, n, m) <= distance
