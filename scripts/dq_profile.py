"""Column profiles: Model Monitor's type inference, numeric summaries (with the fine histogram behind
the drift CDF) and category counts, in statistics.json's and constraints.json's per-feature layouts.

Numbers are summarised by :class:`NumberStats`, a mergeable accumulator (chunks of a stream, shards of a
job); dq_state builds the profiles from those accumulators.
"""

# zip(strict=...) needs Python 3.10; these scripts run on the containers' Python 3.8.
# ruff: noqa: B905
from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from dq_counts import Counts, hash_strings
from dq_kll import KllSketch

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
    """Statistics of the present values of a numeric column, with the fine histogram behind its CDF.

    ``counts`` (the fine histogram on the grid ``lo``..``hi``, for the report) is read off the KLL sketch:
    exact while the sketch holds every value, within its rank error beyond. ``whole`` (values equal to
    their floor), ``negatives`` and ``value_counts`` (the numbers as text) are what a check may need.
    """

    __slots__ = (
        "counts",
        "hi",
        "integral",
        "lo",
        "max",
        "mean",
        "min",
        "negatives",
        "num_missing",
        "num_present",
        "sketch",
        "std",
        "sum",
        "value_counts",
        "whole",
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
        self.whole = 0
        self.negatives = 0
        self.value_counts: Optional[Counts] = None

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

    def as_text(self) -> Tuple[List[str], np.ndarray]:
        """Value counts of the numbers written as text (a String baseline feature read as numbers now):
        all of them, or a sketch's heavy hitters (of ``value_counts.total`` numbers)."""
        pairs = self.value_counts.ordered() if self.value_counts is not None else []
        return [label for label, _ in pairs], np.array([c for _, c in pairs], dtype=np.int64)


class NumberStats:
    """Mergeable statistics of finite numbers: count, sum, moments, extremes and the KLL sketch.

    The moments are kept scaled by the largest magnitude seen (Chan's parallel update of the values
    divided by ``scale``), so no product can overflow whatever the magnitudes (1e-302 next to 1e300).
    """

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.mean = 0.0
        self.scale = 0.0
        self.m2 = 0.0  # sum of squared deviations / scale**2
        self.min = math.inf
        self.max = -math.inf
        self.integral = True  # every chunk with values was integral
        self.whole = 0
        self.negatives = 0
        self.value_counts: Optional[Counts] = None  # the numbers as text (bounded: dq_counts)
        self.sketch = KllSketch()

    def add(self, values: np.ndarray, integral: bool, *, whole: bool = False, as_text: bool = False) -> None:
        """Add finite float64 values (a chunk of one column)."""
        if values.size == 0:
            return
        low, high = float(values.min()), float(values.max())
        scale = max(abs(low), abs(high))
        with np.errstate(over="ignore"):
            total = float(values.sum())
        mean_scaled, m2 = 0.0, 0.0
        if scale > 0:
            scaled = np.divide(values, scale)
            mean_scaled = float(scaled.mean())
            np.subtract(scaled, mean_scaled, out=scaled)
            m2 = float(np.dot(scaled, scaled))
            del scaled
        count = int(values.size)
        chunk_mean = total / count if math.isfinite(total) else mean_scaled * scale
        self._combine(count, total, chunk_mean, scale, m2=m2, extremes=(low, high))
        self.integral = self.integral and integral
        if whole:
            self.whole += count if integral else int(np.count_nonzero(values == np.floor(values)))
        if low < 0:
            self.negatives += int(np.count_nonzero(values < 0))
        if as_text:
            distinct, counts = np.unique(values, return_counts=True)
            self._add_value_counts(distinct, counts.astype(np.int64))
        self.sketch.update(values)

    def _add_value_counts(self, distinct: np.ndarray, counts: np.ndarray) -> None:
        def labels(keep: Optional[np.ndarray]) -> List[str]:
            chosen = distinct if keep is None else distinct[keep]
            return [str(int(v)) if v.is_integer() else repr(v) for v in chosen.tolist()]

        if self.value_counts is None:
            self.value_counts = Counts()
        self.value_counts.add_lazy(counts, labels, lambda: hash_strings(labels(None)))

    def _combine(
        self, count: int, total: float, mean: float, scale: float, *, m2: float, extremes: Tuple[float, float]
    ) -> None:
        if count == 0:
            return
        if self.n == 0:
            self.n, self.total, self.mean, self.scale, self.m2 = count, total, mean, scale, m2
            self.min, self.max = extremes
            return
        new_scale = max(self.scale, scale)
        n = self.n + count
        if new_scale > 0:
            mine = self.m2 * (self.scale / new_scale) ** 2
            theirs = m2 * (scale / new_scale) ** 2
            delta = mean / new_scale - self.mean / new_scale
            self.m2 = mine + theirs + delta * delta * (self.n / n) * count
        with np.errstate(over="ignore"):
            self.total = float(np.float64(self.total) + np.float64(total))
        if math.isfinite(self.total):
            self.mean = self.total / n
        else:
            self.mean = self.mean * (self.n / n) + mean * (count / n)
        self.scale, self.n = new_scale, n
        self.min, self.max = min(self.min, extremes[0]), max(self.max, extremes[1])

    def merge(self, other: NumberStats) -> NumberStats:
        if other.n == 0:
            return self
        self._combine(
            other.n, other.total, other.mean, other.scale, m2=other.m2, extremes=(other.min, other.max)
        )
        self.integral = self.integral and other.integral
        self.whole += other.whole
        self.negatives += other.negatives
        if other.value_counts is not None:
            if self.value_counts is None:
                self.value_counts = Counts()
            self.value_counts.merge(other.value_counts)
        self.sketch.merge(other.sketch)
        return self

    def summary(self, integral: Optional[bool] = None) -> NumericSummary:
        """The summary (``integral`` overrides the chunks' own flag); num_missing is left to the caller."""
        summary = NumericSummary()
        summary.integral = self.integral if integral is None else integral
        summary.num_present = self.n
        summary.whole, summary.negatives, summary.value_counts = self.whole, self.negatives, self.value_counts
        if self.n == 0:
            return summary
        summary.sum, summary.mean = self.total, self.mean
        summary.std = self.scale * math.sqrt(max(self.m2 / self.n, 0.0))
        summary.min, summary.max = self.min, self.max
        summary.sketch = self.sketch
        summary.lo, summary.hi, bins = grid_for(self.min, self.max, summary.integral)
        summary.counts = sketch_bin_counts(self.sketch, summary.lo, summary.hi, bins)
        return summary

    def to_dict(self) -> Dict[str, Any]:
        return {
            "n": self.n,
            "total": self.total,
            "mean": self.mean,
            "scale": self.scale,
            "m2": self.m2,
            "min": self.min if self.n else None,
            "max": self.max if self.n else None,
            "integral": self.integral,
            "whole": self.whole,
            "negatives": self.negatives,
            "value_counts": None if self.value_counts is None else self.value_counts.to_dict(),
            "sketch": {
                "levels": self.sketch.data(),
                "compactions": list(self.sketch.compactions),
                "offsets": list(self.sketch.offsets),
            },
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> NumberStats:
        stats = cls()
        stats.n, stats.total, stats.mean = int(data["n"]), float(data["total"]), float(data["mean"])
        stats.scale, stats.m2 = float(data["scale"]), float(data["m2"])
        if stats.n:
            stats.min, stats.max = float(data["min"]), float(data["max"])
        stats.integral, stats.whole = bool(data["integral"]), int(data["whole"])
        stats.negatives = int(data["negatives"])
        counted = data.get("value_counts")
        stats.value_counts = None if counted is None else Counts.from_dict(counted)
        sketch = data["sketch"]
        stats.sketch.levels = [np.asarray(level, dtype=np.float64) for level in sketch["levels"]]
        stats.sketch.compactions = [int(v) for v in sketch["compactions"]]
        stats.sketch.offsets = [int(v) for v in sketch["offsets"]]
        return stats


def sketch_bin_counts(sketch: KllSketch, lo: float, hi: float, bins: int) -> np.ndarray:
    """Counts in ``bins`` equal bins over [lo, hi] read off a sketch (the last bin holds the maximum)."""
    total = sketch.count()
    if bins == 1 or hi <= lo:
        return np.array([round(total)], dtype=np.int64)
    edges = lo + (hi - lo) * (np.arange(1, bins) / bins)
    below = sketch.ranks(edges, inclusive=False)
    cumulative = np.concatenate(([0.0], below, [total]))
    return np.rint(np.diff(cumulative)).astype(np.int64)


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
    with np.errstate(over="ignore"):  # values far outside [lo, hi] may overflow: they are clipped
        np.subtract(values, lo, out=buffer)
        np.divide(buffer, hi - lo, out=buffer)  # [0, 1] inside: no overflow whatever the range
        np.multiply(buffer, bins, out=buffer)
    if not inside:
        np.clip(buffer, 0, bins - 1, out=buffer)
    counts = np.bincount(buffer.astype(np.intp), minlength=bins + 1).astype(np.int64)
    counts[bins - 1] += counts[bins:].sum()  # the maximum itself (and rounding just above it)
    return counts[:bins]


def summarize_numbers(values: np.ndarray, integral: bool) -> NumericSummary:
    """Count, missing, sum, mean, population std, min, max and fine histogram of a float64 column.

    Raises ValueError when a present value is infinite (callers turn it into a located error).
    """
    missing = np.isnan(values)
    num_missing = int(np.count_nonzero(missing))
    present = values[~missing] if num_missing else values
    if present.size and not (math.isfinite(float(present.min())) and math.isfinite(float(present.max()))):
        raise ValueError("infinite value")
    stats = NumberStats()
    stats.add(present, integral)
    summary = stats.summary(integral)
    summary.num_missing = num_missing
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
        self.categories: List[str] = []  # most frequent first (all of them, or a sketch's heavy hitters)
        self.distinct_count: Optional[int] = None  # distinct values (None: len(categories))
        self.category_total: Optional[int] = None  # values counted (None: the sum of category_counts)
        self.category_counts = np.zeros(0, dtype=np.int64)
        # Per-value types of the present values (for the data type check).
        self.n_integral = 0
        self.n_fractional = 0
        self.n_string = 0
        self.non_numeric_values: List[str] = []
        self.non_finite = 0  # "inf"-like numbers (present, but not usable as numbers)
        # The first value that is not a finite number: its file, 1-based line and text.
        self.first_bad_file: Optional[str] = None
        self.first_bad_row: Optional[int] = None
        self.first_bad_value: Optional[str] = None
        self.read_as_numbers = False  # every present value was read as a number
        self.parsed: Optional[NumericSummary] = None  # a String column's numbers (when a check needs them)

    def distinct(self) -> int:
        return len(self.categories) if self.distinct_count is None else self.distinct_count

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
            "distinct_count": float(self.distinct()),
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
            distinct = self.distinct()
            if distinct <= DOMAIN_MAX_DISTINCT and distinct * 2 <= self.num_present:
                feature["string_constraints"] = {"domains": sorted(self.categories)}
        return feature


def profile_column(column: Any, n_rows: int) -> FeatureProfile:
    """Profile one in-memory column (a dq_read.Column): Model Monitor's type inference."""
    from dq_state import ColumnState  # (dq_state builds on this module)

    state = ColumnState(column.name)
    state.add(column, n_rows, "", 1)
    return state.profile()
