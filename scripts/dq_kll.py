"""KLL quantile sketch of data values, as Deequ builds it (``analyzers/QuantileNonSample.scala``,
``NonSampleCompactor.scala``; the sketch Model Monitor writes to ``distribution.kll.sketch``).

A stack of compactors: level h holds items that each stand for 2**h values. Level h holds at most
``2 * (ceil(k * c**h / 2) + 1)`` items, with k = 2048 (sketch size) and c = 0.64 (shrinking factor),
the level-0 capacity being the largest. When the items outnumber the total capacity, the lowest full
level is compacted: its items (but an odd last one, which stays) are sorted and every other one moves
up a level; which half (offset 0 or 1) alternates as Deequ's compactor does (0, 1, 1, 0, 0, 1, …).

Values arrive in numpy batches rather than one at a time: a large batch is sorted once and compacted
on its own up the levels until it fits, which is what Deequ's per-item loop does to the same values
(up to the order of compactions; the rank error bound is the same). Sketches merge level by level
(Deequ's ``merge``), so shards and chunks combine. ``data()`` is the layout of statistics.json
(``[[level 0 items], [level 1 items], …]``).
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

SKETCH_SIZE = 2048
SHRINKING_FACTOR = 0.64
FAST_BATCH = 64  # batches above this many level-0 capacities take the sorted fast path


class KllSketch:
    """A mergeable KLL sketch of float values (Deequ's non-sampling variant)."""

    def __init__(self, k: int = SKETCH_SIZE, c: float = SHRINKING_FACTOR) -> None:
        self.k = int(k)
        self.c = float(c)
        self.levels: List[np.ndarray] = [np.zeros(0)]
        self.compactions: List[int] = [0]
        self.offsets: List[int] = [0]

    # ------------------------------------------------------------------------------------ structure

    def capacity(self, height: int) -> int:
        return 2 * (math.ceil(self.k * self.c**height / 2) + 1)

    def _total_capacity(self) -> int:
        return sum(self.capacity(h) for h in range(len(self.levels)))

    def _size(self) -> int:
        return sum(level.size for level in self.levels)

    def _expand(self) -> None:
        self.levels.append(np.zeros(0))
        self.compactions.append(0)
        self.offsets.append(0)

    def _compact(
        self, height: int, buffer: np.ndarray, presorted: bool = False
    ) -> Tuple[np.ndarray, np.ndarray]:
        """(items moving up, items staying) of compacting ``buffer`` at ``height`` (Deequ's ``compact``)."""
        items = buffer.size
        even = items - items % 2
        if self.compactions[height] % 2 == 1:
            self.offsets[height] = 1 - self.offsets[height]
        head = buffer[:even] if presorted else np.sort(buffer[:even], kind="quicksort")
        out = head[self.offsets[height] :: 2]
        stay = buffer[even:].copy()
        self.compactions[height] += 1
        return out, stay

    def _condense_once(self) -> bool:
        """Compact the lowest full level (Deequ's ``condense``); False when no level is full."""
        for height, level in enumerate(self.levels):
            if level.size >= self.capacity(height):
                if height + 1 >= len(self.levels):
                    self._expand()
                out, self.levels[height] = self._compact(height, level)
                self.levels[height + 1] = np.concatenate((self.levels[height + 1], out))
                return True
        return False

    def _condense(self) -> None:
        while self._size() > self._total_capacity() and self._condense_once():
            pass

    # ------------------------------------------------------------------------------------- updates

    def update(self, values: np.ndarray) -> None:
        """Add finite float values, as Deequ adds them one by one (its compactions, in its order).

        A batch of more than FAST_BATCH level-0 capacities is sorted and compacted on its own first (the
        same rank error bound, far fewer compactions).
        """
        batch = np.asarray(values, dtype=np.float64).ravel()
        if batch.size > FAST_BATCH * self.capacity(0):
            self._update_large(batch)
            return
        start = 0
        while start < batch.size:
            room = self._total_capacity() - self._size()
            take = batch[start : start + max(room, 0) + 1]
            self.levels[0] = np.concatenate((self.levels[0], take))
            start += take.size
            if self._size() > self._total_capacity():
                self._condense_once()

    def _update_large(self, batch: np.ndarray) -> None:
        batch = np.sort(batch)
        height = 0
        while batch.size > self.capacity(0):
            if height + 1 >= len(self.levels):
                self._expand()
            out, stay = self._compact(height, batch, presorted=True)
            self.levels[height] = np.concatenate((self.levels[height], stay))
            batch = out
            height += 1
        self.levels[height] = np.concatenate((self.levels[height], batch))
        self._condense()

    def merge(self, other: KllSketch) -> KllSketch:
        """Add ``other``'s items level by level (Deequ's ``merge``); returns self."""
        while len(self.levels) < len(other.levels):
            self._expand()
        for height, level in enumerate(other.levels):
            self.levels[height] = np.concatenate((self.levels[height], level))
        self._condense()
        return self

    # ------------------------------------------------------------------------------------- queries

    def weighted(self) -> Tuple[np.ndarray, np.ndarray]:
        """Items (sorted) and their weights."""
        if not self.levels:
            return np.zeros(0), np.zeros(0)
        items = np.concatenate(self.levels)
        weights = np.concatenate([np.full(level.size, float(2**h)) for h, level in enumerate(self.levels)])
        order = np.argsort(items, kind="stable")
        return items[order], weights[order]

    def count(self) -> float:
        return float(sum(level.size * 2**h for h, level in enumerate(self.levels)))

    def rank(self, value: float, inclusive: bool = True) -> float:
        """Weight of the items <= value (``inclusive``) or < value."""
        total = 0.0
        for height, level in enumerate(self.levels):
            hits = np.count_nonzero(level <= value) if inclusive else np.count_nonzero(level < value)
            total += float(hits) * 2**height
        return total

    def ranks(self, values: np.ndarray, inclusive: bool = True) -> np.ndarray:
        """Weight of the items <= each value (``inclusive``) or < each value, for a sorted or any array."""
        items, weights = self.weighted()
        padded = np.concatenate(([0.0], np.cumsum(weights)))
        index = np.searchsorted(items, values, side="right" if inclusive else "left")
        return padded[index]

    def cdf(self, values: np.ndarray) -> np.ndarray:
        """The sketch's CDF at ``values`` (fraction of the weight <= each value)."""
        items, weights = self.weighted()
        cumulative = np.cumsum(weights)
        total = cumulative[-1] if cumulative.size else 0.0
        if total <= 0:
            return np.zeros(np.shape(values))
        index = np.searchsorted(items, values, side="right")
        padded = np.concatenate(([0.0], cumulative))
        return padded[index] / total

    def buckets(self, minimum: float, maximum: float, count: int = 10) -> List[Tuple[float, float, float]]:
        """Deequ's equal-width buckets between min and max, counted from the sketch."""
        result = []
        for i in range(count):
            low = minimum + (maximum - minimum) * i / float(count)
            high = minimum + (maximum - minimum) * (i + 1) / float(count)
            if i == count - 1:
                high = maximum  # (Deequ's formula can round below the maximum)
                weight = self.rank(high) - self.rank(low, inclusive=False)
            else:
                weight = self.rank(high, inclusive=False) - self.rank(low, inclusive=False)
            result.append((low, high, weight))
        return result

    # ----------------------------------------------------------------------------------- the files

    def parameters(self) -> Dict[str, float]:
        """As Model Monitor writes them: ``{"c": 0.64, "k": 2048.0}`` (Deequ's List[Double])."""
        return {"c": self.c, "k": float(self.k)}

    def data(self) -> List[List[float]]:
        return [[float(v) for v in level] for level in self.levels]

    @classmethod
    def from_data(cls, data: Any, parameters: Optional[Dict[str, Any]] = None) -> KllSketch:
        """A sketch read back from statistics.json (ValueError when malformed)."""
        params = parameters if isinstance(parameters, dict) else {}
        k = params.get("k", SKETCH_SIZE)
        c = params.get("c", SHRINKING_FACTOR)
        if (
            not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (k, c))
            or k < 1
            or not 0 < c <= 1
        ):
            raise ValueError(f"sketch parameters {params!r} are not numbers k >= 1, 0 < c <= 1")
        if not isinstance(data, list) or not data:
            raise ValueError("sketch data is not a list of levels")
        sketch = cls(int(k), float(c))
        sketch.levels = []
        for height, items in enumerate(data):
            if not isinstance(items, list):
                raise ValueError(f"sketch level {height} is not a list")
            for item in items:
                if (
                    isinstance(item, bool)
                    or not isinstance(item, (int, float))
                    or not math.isfinite(float(item))
                ):
                    raise ValueError(f"sketch item {item!r} is not a finite number")
            sketch.levels.append(np.asarray(items, dtype=np.float64))
        if not any(level.size for level in sketch.levels):
            raise ValueError("sketch is empty")
        sketch.compactions = [0] * len(sketch.levels)
        sketch.offsets = [0] * len(sketch.levels)
        return sketch
