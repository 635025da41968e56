"""Column profiles: Model Monitor's type inference, numeric summaries (with the fine histogram behind
the drift CDF) and category counts, in statistics.json's and constraints.json's per-feature layouts.
"""

# zip(strict=...) needs Python 3.10; these scripts run on the containers' Python 3.8.
# ruff: noqa: B905
from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from dq_kll import KllSketch
from dq_read import (
    Column,
    string_at,
    string_first_index,
    string_missing,
    string_numbers,
    string_value_counts,
)

INTEGRAL = "Integral"
FRACTIONAL = "Fractional"
STRING = "String"
UNKNOWN = "Unknown"
NUMERIC_TYPES = (INTEGRAL, FRACTIONAL)

DISTRIBUTION_BUCKETS = 10  # Model Monitor materialises 10 buckets (not configurable there either)
FINE_BINS = 2000  # resolution of the CDF behind the drift distance; a multiple of DISTRIBUTION_BUCKETS
MAX_CATEGORY_BUCKETS = 1000  # categorical buckets written per feature (most frequent first)
DOMAIN_MAX_DISTINCT = 100  # string features with at most this many values get a domain constraint

_INT_TOKEN = re.compile(r"^\s*[+-]?\d+\s*$")
_FLOAT_TOKEN = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def token_kind(token: str) -> str:
    """Model Monitor's per-value type: Integral, Fractional or String."""
    if _INT_TOKEN.match(token):
        return INTEGRAL
    if _FLOAT_TOKEN.match(token):
        return FRACTIONAL
    return STRING


class NumericSummary:
    """Statistics of the present values of a numeric column, with the fine histogram behind its CDF."""

    __slots__ = (
        "counts",
        "hi",
        "integral",
        "lo",
        "max",
        "mean",
        "min",
        "num_missing",
        "num_present",
        "sketch",
        "std",
        "sum",
    )

    def __init__(self) -> None:
        self.num_present = 0
        self.num_missing = 0
        self.integral = False
        self.sum = 0.0
        self.mean = 0.0
        self.std = 0.0
        self.min = 0.0
        self.max = 0.0
        self.lo = 0.0
        self.hi = 0.0
        self.counts = np.zeros(0, dtype=np.int64)
        self.sketch = KllSketch()

    def representatives(self) -> np.ndarray:
        """One value per fine bin: the integer itself on a unit grid, the bin midpoint otherwise."""
        nb = self.counts.size
        if nb == 1 and self.lo == self.hi:
            return np.array([self.lo])
        width = (self.hi - self.lo) / nb
        return self.lo + (np.arange(nb) + 0.5) * width

    def buckets(self) -> List[Dict[str, Any]]:
        """Model Monitor's 10 equal-width buckets between min and max, counted from the KLL sketch (Deequ)."""
        if self.num_present == 0:
            return []
        return [
            {"lower_bound": low, "upper_bound": high, "count": float(count)}
            for low, high, count in self.sketch.buckets(self.min, self.max, DISTRIBUTION_BUCKETS)
        ]


def grid_for(minimum: float, maximum: float, integral: bool) -> Tuple[float, float, int]:
    """Fine-histogram grid (lo, hi, bins): unit bins centred on the integers when they fit, else FINE_BINS."""
    if integral and maximum - minimum < FINE_BINS:
        return minimum - 0.5, maximum + 0.5, int(maximum - minimum) + 1
    if maximum == minimum:
        return minimum, maximum, 1
    return minimum, maximum, FINE_BINS


def bin_counts(
    values: np.ndarray,
    lo: float,
    hi: float,
    bins: int,
    work: Optional[np.ndarray] = None,
    *,
    inside: bool = False,
) -> np.ndarray:
    """Counts of ``values`` in ``bins`` equal bins over [lo, hi]; values outside land in the end bins.

    ``inside=True`` promises lo <= values <= hi (a column's own range), which saves the clipping pass.
    """
    if bins == 1 or hi <= lo:
        return np.array([values.size], dtype=np.int64)
    buffer = work if work is not None and work.shape == values.shape else np.empty_like(values)
    np.subtract(values, lo, out=buffer)
    np.multiply(buffer, bins / (hi - lo), out=buffer)
    if not inside:
        np.clip(buffer, 0, bins - 1, out=buffer)
    counts = np.bincount(buffer.astype(np.intp), minlength=bins + 1).astype(np.int64)
    counts[bins - 1] += counts[bins:].sum()  # the maximum itself (and rounding just above it)
    return counts[:bins]


def summarize_numbers(values: np.ndarray, integral: bool) -> NumericSummary:
    """Count, missing, sum, mean, population std, min, max and fine histogram of a float64 column.

    Raises ValueError when a present value is infinite (callers turn it into a located error).
    """
    summary = NumericSummary()
    summary.integral = integral
    missing = np.isnan(values)
    summary.num_missing = int(np.count_nonzero(missing))
    present = values[~missing] if summary.num_missing else values
    summary.num_present = int(present.size)
    if present.size == 0:
        return summary
    summary.min = float(present.min())
    summary.max = float(present.max())
    if not (math.isfinite(summary.min) and math.isfinite(summary.max)):
        raise ValueError("infinite value")
    summary.sum = float(present.sum())
    summary.mean = summary.sum / present.size
    work = np.subtract(present, summary.mean)
    summary.std = math.sqrt(max(float(np.dot(work, work)) / present.size, 0.0))
    summary.lo, summary.hi, bins = grid_for(summary.min, summary.max, integral)
    summary.counts = bin_counts(present, summary.lo, summary.hi, bins, work, inside=True)
    summary.sketch.update(present)
    return summary


class FeatureProfile:
    """What one column looks like: its Model Monitor type, counts, and numeric or categorical summary."""

    def __init__(self, name: str, n_rows: int) -> None:
        self.name = name
        self.n_rows = n_rows
        self.inferred_type = UNKNOWN
        self.num_present = 0
        self.num_missing = n_rows
        self.numeric: Optional[NumericSummary] = None
        self.categories: List[str] = []
        self.category_counts = np.zeros(0, dtype=np.int64)
        # Per-value types of the present values (for the data type check).
        self.n_integral = 0
        self.n_fractional = 0
        self.n_string = 0
        self.non_numeric_values: List[str] = []
        self.non_finite = 0  # "inf"-like numbers (present, but not usable as numbers)
        self.first_bad_index: Optional[int] = None  # first value that is not a finite number
        self.first_bad_value: Optional[str] = None
        self.numbers: Optional[np.ndarray] = None  # numeric values (NaN = missing / not a number)
        self.strings: Any = None  # the reader's strings, for String-typed columns

    def locate_first_bad(self) -> None:
        """Find the first non-number of a String-typed column (only when someone needs to point at it)."""
        if self.first_bad_index is not None or self.strings is None or not self.non_numeric_values:
            return
        self.first_bad_index = string_first_index(self.strings, self.non_numeric_values[:1000])
        if self.first_bad_index is not None:
            self.first_bad_value = string_at(self.strings, self.first_bad_index)

    @property
    def completeness(self) -> float:
        return self.num_present / self.n_rows if self.n_rows else 0.0

    def statistics(self) -> Dict[str, Any]:
        """This feature in statistics.json's layout."""
        common = {"num_present": int(self.num_present), "num_missing": int(self.num_missing)}
        feature: Dict[str, Any] = {"name": self.name, "inferred_type": self.inferred_type}
        summary = self.numeric
        if self.inferred_type in NUMERIC_TYPES and summary is not None and summary.num_present:
            feature["numerical_statistics"] = {
                "common": common,
                "mean": summary.mean,
                "sum": summary.sum,
                "std_dev": summary.std,
                "min": summary.min,
                "max": summary.max,
                "distribution": {
                    "kll": {
                        "buckets": summary.buckets(),
                        "sketch": {"parameters": summary.sketch.parameters(), "data": summary.sketch.data()},
                    }
                },
            }
            return feature
        buckets = [
            {"value": value, "count": int(count)}
            for value, count in zip(
                self.categories[:MAX_CATEGORY_BUCKETS], self.category_counts[:MAX_CATEGORY_BUCKETS]
            )
        ]
        feature["string_statistics"] = {
            "common": common,
            "distinct_count": float(len(self.categories)),
            "distribution": {"categorical": {"buckets": buckets}},
        }
        return feature

    def constraint(self) -> Dict[str, Any]:
        """This feature in constraints.json's layout (the suggested constraints of a baseline)."""
        feature: Dict[str, Any] = {
            "name": self.name,
            "inferred_type": self.inferred_type,
            "completeness": self.completeness,
        }
        if self.inferred_type in NUMERIC_TYPES and self.numeric is not None:
            feature["num_constraints"] = {"is_non_negative": bool(self.numeric.min >= 0)}
        elif self.inferred_type == STRING:
            distinct = len(self.categories)
            if distinct <= DOMAIN_MAX_DISTINCT and distinct * 2 <= self.num_present:
                feature["string_constraints"] = {"domains": sorted(self.categories)}
        return feature


def profile_column(column: Column, n_rows: int) -> FeatureProfile:
    """Profile one column: Model Monitor's type inference (any non-number makes it String)."""
    profile = FeatureProfile(column.name, n_rows)
    if column.numbers is not None:
        _profile_numbers(profile, column.numbers, column.integral)
        return profile
    strings = column.strings
    profile.num_missing = string_missing(strings)
    profile.num_present = n_rows - profile.num_missing
    values, counts = string_value_counts(strings)
    profile.categories, profile.category_counts = values, counts
    if not values:
        return profile
    kinds = [token_kind(v) for v in values]
    for kind, count in zip(kinds, counts):
        if kind == INTEGRAL:
            profile.n_integral += int(count)
        elif kind == FRACTIONAL:
            profile.n_fractional += int(count)
        else:
            profile.n_string += int(count)
    profile.non_numeric_values = [v for v, k in zip(values, kinds) if k == STRING]
    if profile.n_string == 0:  # numbers after all (read as text): profile them as numbers
        numbers = string_numbers(strings, [])
        integral = profile.n_fractional == 0
        profile.categories, profile.category_counts = [], np.zeros(0, dtype=np.int64)
        _profile_numbers(profile, numbers, integral)
        return profile
    profile.inferred_type = STRING
    profile.strings = strings
    return profile


def _profile_numbers(profile: FeatureProfile, numbers: np.ndarray, integral: bool) -> None:
    profile.numbers = numbers
    try:
        summary = summarize_numbers(numbers, integral)
    except ValueError:  # infinities: present but not numbers; profile the finite ones
        infinite = np.isinf(numbers)
        profile.non_finite = int(np.count_nonzero(infinite))
        first = int(np.flatnonzero(infinite)[0])
        profile.first_bad_index, profile.first_bad_value = first, repr(float(numbers[first]))
        numbers = np.where(infinite, np.nan, numbers)
        profile.numbers = numbers
        summary = summarize_numbers(numbers, integral)
        summary.num_missing -= profile.non_finite
    profile.numeric = summary
    profile.num_missing = summary.num_missing
    profile.num_present = summary.num_present + profile.non_finite
    if summary.num_present == 0:
        profile.inferred_type = UNKNOWN if profile.non_finite == 0 else STRING
        return
    profile.inferred_type = INTEGRAL if integral else FRACTIONAL
    if integral:
        profile.n_integral = summary.num_present
    else:
        profile.n_fractional = summary.num_present
    profile.n_string = profile.non_finite
