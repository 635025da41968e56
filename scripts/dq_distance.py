"""Drift distances (Deequ's ``analyzers/Distance.scala``): the L-infinity distance between a baseline CDF
and current values (numeric) or between category frequencies, Deequ's Robust correction, and Pearson's
chi-squared test for categories.
"""

from __future__ import annotations

import math
from typing import Dict, Optional, Tuple

import numpy as np
from dq_kll import KllSketch
from dq_profile import bin_counts

ROBUST_C_ALPHA = 1.8  # Deequ's default c(alpha) for the Robust (KS-corrected) distance


class Cdf:
    """A baseline CDF: a fine histogram on a grid (ours) or weighted points (a KLL sketch, or buckets)."""

    def __init__(self, source: str, n: float) -> None:
        self.source = source  # "histogram" | "kll_sketch" | "buckets"
        self.n = n
        self.lo = 0.0
        self.hi = 0.0
        self.counts = np.zeros(0)
        self.points = np.zeros(0)
        self.cumulative = np.zeros(0)  # F(points[j])

    @classmethod
    def from_histogram(cls, lo: float, hi: float, counts: np.ndarray) -> Cdf:
        cdf = cls("histogram", float(np.sum(counts)))
        cdf.lo, cdf.hi, cdf.counts = float(lo), float(hi), np.asarray(counts, dtype=np.float64)
        return cdf

    @classmethod
    def from_points(cls, source: str, points: np.ndarray, weights: np.ndarray) -> Cdf:
        order = np.argsort(points, kind="stable")
        points, weights = (
            np.asarray(points, dtype=np.float64)[order],
            np.asarray(weights, dtype=np.float64)[order],
        )
        unique, starts = np.unique(points, return_index=True)
        summed = np.add.reduceat(weights, starts) if points.size else weights
        total = float(summed.sum())
        cdf = cls(source, total)
        cdf.points = unique
        cdf.cumulative = np.cumsum(summed) / total if total > 0 else summed
        return cdf

    def plot_histogram(self) -> Tuple[np.ndarray, np.ndarray]:
        """(representative values, weights) for drawing."""
        if self.source == "histogram":
            nb = self.counts.size
            if nb == 1 and self.lo == self.hi:
                return np.array([self.lo]), self.counts
            width = (self.hi - self.lo) / nb
            return self.lo + (np.arange(nb) + 0.5) * width, self.counts
        weights = np.diff(np.concatenate(([0.0], self.cumulative))) * self.n
        return self.points, weights


def numeric_distance(
    baseline: Cdf,
    current: np.ndarray,
    current_min: Optional[float] = None,
    current_max: Optional[float] = None,
) -> float:
    """L-infinity distance between the baseline CDF and the empirical CDF of ``current`` (present values)."""
    m = current.size
    if m == 0 or baseline.n <= 0:
        return 0.0
    if baseline.source == "histogram":
        lo, hi, bins = baseline.lo, baseline.hi, baseline.counts.size
        cmin = float(current.min()) if current_min is None else current_min
        cmax = float(current.max()) if current_max is None else current_max
        under = int(np.count_nonzero(current < lo)) if cmin < lo else 0
        over = int(np.count_nonzero(current > hi)) if cmax > hi else 0
        if bins == 1 or hi <= lo:
            inside = m - under - over
            cur = np.array([under + inside], dtype=np.float64)
        else:
            counts = bin_counts(current, lo, hi, bins).astype(np.float64)
            counts[0] -= under
            counts[-1] -= over
            cur = under + np.cumsum(counts)
        return _grid_distance(baseline, under, cur, m)
    ordered = np.sort(current)
    le = np.searchsorted(ordered, baseline.points, side="right") / m
    lt = np.searchsorted(ordered, baseline.points, side="left") / m
    return _points_distance(baseline, le, lt)


def sketch_distance(baseline: Cdf, sketch: KllSketch) -> float:
    """``numeric_distance`` against the current values' KLL sketch (exact while the sketch holds every
    value; within its rank error beyond): what a streamed or sharded check compares."""
    m = sketch.count()
    if m <= 0 or baseline.n <= 0:
        return 0.0
    if baseline.source == "histogram":
        lo, hi, bins = baseline.lo, baseline.hi, baseline.counts.size
        under = float(sketch.ranks(np.array([lo]), inclusive=False)[0])
        last = sketch.ranks(np.array([hi]), inclusive=True)
        if bins == 1 or hi <= lo:
            cur = last
        else:
            edges = lo + (hi - lo) * (np.arange(1, bins) / bins)
            cur = np.concatenate((sketch.ranks(edges, inclusive=False), last))
        return _grid_distance(baseline, under, cur, m)
    le = sketch.ranks(baseline.points, inclusive=True) / m
    lt = sketch.ranks(baseline.points, inclusive=False) / m
    return _points_distance(baseline, le, lt)


def _grid_distance(baseline: Cdf, under: float, cur: np.ndarray, m: float) -> float:
    """Distance on the baseline's histogram grid: ``cur`` = current values below each bin's upper edge."""
    base = np.cumsum(baseline.counts) / baseline.n
    return float(min(1.0, max(under / m, float(np.max(np.abs(cur / m - base))))))


def _points_distance(baseline: Cdf, le: np.ndarray, lt: np.ndarray) -> float:
    """Distance at the baseline's points from the current CDF at them (``le``: <=, ``lt``: <)."""
    base = baseline.cumulative
    if baseline.source == "buckets":  # known only at bucket bounds: a lower bound of the true distance
        return float(
            min(1.0, max(float(lt[0]), float(np.max(np.abs(le[1:] - base[1:]))) if base.size > 1 else 0.0))
        )
    before = np.concatenate(([0.0], base[:-1]))
    return float(min(1.0, max(float(np.max(np.abs(le - base))), float(np.max(np.abs(lt - before))))))


def categorical_distance(
    baseline: Dict[str, float], current: Dict[str, float], current_total: Optional[float] = None
) -> float:
    """L-infinity distance between category frequencies (Deequ's categorical LInfinity).

    ``current_total``: the number of current values, when ``current`` holds only some of them (a sketch's
    heavy hitters): frequencies are of that total.
    """
    n = sum(baseline.values())
    m = sum(current.values()) if current_total is None else current_total
    if n <= 0 or m <= 0:
        return 0.0
    keys = set(baseline) | set(current)
    return float(max(abs(baseline.get(k, 0.0) / n - current.get(k, 0.0) / m) for k in keys))


def robust_distance(distance: float, n: float, m: float, c_alpha: float = ROBUST_C_ALPHA) -> float:
    """Deequ's ``linf_robust``: the distance less the KS critical value for sample sizes n and m."""
    if n <= 0 or m <= 0:
        return 0.0
    return max(0.0, distance - c_alpha * math.sqrt((n + m) / (n * m)))


def chi_squared_test(baseline: Dict[str, float], current: Dict[str, float]) -> Tuple[float, float, int]:
    """(statistic, p-value, degrees of freedom) of current counts against baseline proportions.

    Categories with small expected counts are merged as Deequ does (Cochran for 2 categories: all >= 10;
    Yates otherwise: at most 20% below 5); categories unknown to the baseline are left to the domain check.
    Returns p-value NaN when fewer than two categories remain.
    """
    sample_sum = float(sum(v for k, v in current.items() if k in baseline))
    expected_sum = float(sum(baseline.values()))
    if expected_sum <= 0 or sample_sum <= 0:
        return 0.0, float("nan"), 0
    expected = {k: v / expected_sum * sample_sum for k, v in baseline.items()}
    sample = {k: float(current.get(k, 0.0)) for k in baseline}
    while len(expected) >= 2:
        if len(expected) == 2:
            threshold, allowed = 10.0, 0
        else:
            threshold, allowed = 5.0, int(0.2 * len(expected))
        if sum(1 for v in expected.values() if v < threshold) <= allowed:
            break
        smallest = min(expected, key=lambda k: (expected[k], k))
        moved_e, moved_s = expected.pop(smallest), sample.pop(smallest)
        second = min(expected, key=lambda k: (expected[k], k))
        expected[second] += moved_e
        sample[second] += moved_s
    if len(expected) < 2:
        return 0.0, float("nan"), 0
    statistic = sum((sample[k] - e) ** 2 / e for k, e in expected.items() if e > 0)
    dof = len(expected) - 1
    return statistic, chi2_sf(statistic, dof), dof


def chi2_sf(x: float, dof: int) -> float:
    """Survival function of the chi-squared distribution (regularised upper incomplete gamma)."""
    if x <= 0:
        return 1.0
    return _gamma_q(dof / 2.0, x / 2.0)


def _gamma_q(a: float, x: float) -> float:
    if x < a + 1.0:  # series for P(a, x)
        term = total = 1.0 / a
        ap = a
        for _ in range(10000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(-x + a * math.log(x) - math.lgamma(a)))
    tiny = 1e-300  # continued fraction for Q(a, x) (modified Lentz)
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return min(1.0, math.exp(-x + a * math.log(x) - math.lgamma(a)) * h)
