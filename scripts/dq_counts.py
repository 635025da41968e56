"""Bounded, mergeable value counts of a text column: exact up to a capacity, a sketch beyond it.

:class:`Counts` keeps every distinct value's exact count while there are at most ``capacity`` of them
(10x the 1,000 categorical buckets statistics.json ever writes), so the outputs of ordinary data are
exact. Past the capacity it becomes a Misra-Gries heavy-hitters summary with ``capacity`` counters
(Misra and Gries 1982; mergeable as in Agarwal et al., "Mergeable Summaries", 2012): each kept count is a
lower bound of the true count, off by at most ``error`` <= (N - kept total) / (capacity + 1) <= N /
(capacity + 1), and a value not kept occurs at most ``error`` times. Then the number of distinct values
comes from a HyperLogLog sketch (Flajolet et al. 2007, as Deequ's approximate distinct count; 2**14
registers: standard error 1.04 / 128 = 0.81%) over a 64-bit hash of the values' UTF-8 bytes, the same
on every engine and machine, so shards merge.

Memory and the partial-state file are bounded by the capacity (the counters) plus 16 KiB (the
registers), whatever the number of rows or distinct values.
"""

from __future__ import annotations

import base64
import math
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

CAPACITY = 10000  # exact distinct values kept, and Misra-Gries counters beyond (10x the buckets written)
HLL_BITS = 14  # 2**14 registers
_M = 1 << HLL_BITS
_P = np.uint64(0x100000001B3)  # FNV prime: the polynomial hash's base
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)  # splitmix64's finaliser
_MIX2 = np.uint64(0x94D049BB133111EB)
_BATCH = 1 << 16  # strings hashed per numpy pass (bounds the temporary arrays)


def hash_utf8(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """64-bit hashes of the strings ``data[offsets[i]:offsets[i + 1]]`` (UTF-8 bytes), vectorised:
    a polynomial hash of the bytes modulo 2**64 mixed with the length by splitmix64's finaliser."""
    offsets = offsets.astype(np.int64)
    out = np.empty(max(offsets.size - 1, 0), dtype=np.uint64)
    for start in range(0, out.size, _BATCH):
        stop = min(start + _BATCH, out.size)
        first, last = int(offsets[start]), int(offsets[stop])
        lengths = np.diff(offsets[start : stop + 1])
        chunk = data[first:last].astype(np.uint64) + np.uint64(1)
        position = np.arange(last - first, dtype=np.int64) - np.repeat(offsets[start:stop] - first, lengths)
        longest = int(lengths.max()) if lengths.size else 0
        powers = np.ones(max(longest, 1), dtype=np.uint64)  # P**0, P**1 … (modulo 2**64)
        powers[1:] = np.cumprod(np.full(powers.size - 1, _P, dtype=np.uint64))
        terms = chunk * powers[position]
        sums = np.zeros(stop - start, dtype=np.uint64)
        nonempty = lengths > 0
        if terms.size:
            starts = (offsets[start:stop] - first)[nonempty]
            sums[nonempty] = np.add.reduceat(terms, starts)
        out[start:stop] = _mix(sums ^ (lengths.astype(np.uint64) * _MIX2))
    return out


def _mix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(30))
    h = h * _MIX1
    h = h ^ (h >> np.uint64(27))
    h = h * _MIX2
    return h ^ (h >> np.uint64(31))


def hash_strings(values: Sequence[str]) -> np.ndarray:
    """:func:`hash_utf8` of Python strings."""
    encoded = [v.encode("utf-8", "surrogatepass") for v in values]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return hash_utf8(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets)


class HyperLogLog:
    """A HyperLogLog sketch with 2**14 one-byte registers (standard error 0.81%)."""

    def __init__(self, registers: Optional[np.ndarray] = None) -> None:
        self.registers = registers if registers is not None else np.zeros(_M, dtype=np.uint8)

    def add_hashes(self, hashes: np.ndarray) -> None:
        if hashes.size == 0:
            return
        index = (hashes >> np.uint64(64 - HLL_BITS)).astype(np.intp)
        rest = hashes & np.uint64((1 << 50) - 1)  # 50 low bits: exact in a float64
        _, exponent = np.frexp(rest.astype(np.float64))  # bit length (0 for 0)
        rank = (51 - exponent).astype(np.uint8)  # position of the first 1 bit, 1-based
        np.maximum.at(self.registers, index, rank)

    def merge(self, other: HyperLogLog) -> HyperLogLog:
        np.maximum(self.registers, other.registers, out=self.registers)
        return self

    def estimate(self) -> float:
        registers = self.registers.astype(np.float64)
        alpha = 0.7213 / (1 + 1.079 / _M)
        raw = alpha * _M * _M / float(np.sum(np.exp2(-registers)))
        zeros = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * _M and zeros:
            return _M * math.log(_M / zeros)  # linear counting for small cardinalities
        return raw

    def to_text(self) -> str:
        return base64.b64encode(self.registers.tobytes()).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> HyperLogLog:
        registers = np.frombuffer(base64.b64decode(text), dtype=np.uint8).copy()
        if registers.size != _M:
            raise ValueError(f"a HyperLogLog of {registers.size} registers, not {_M}")
        return cls(registers)


class Counts:
    """Counts of text values: exact up to ``capacity`` distinct values, Misra-Gries + HyperLogLog beyond."""

    def __init__(self, capacity: Optional[int] = None) -> None:
        self.capacity = CAPACITY if capacity is None else capacity
        self.counts: Dict[str, int] = {}
        self.total = 0  # every value added (N)
        self.error = 0  # the most any count is below the truth (sum of Misra-Gries decrements)
        self.hll: Optional[HyperLogLog] = None  # once past the capacity: the distinct values

    @property
    def exact(self) -> bool:
        return self.hll is None

    def __len__(self) -> int:
        return len(self.counts)

    def add(self, values: Sequence[str], counts: Sequence[int]) -> None:
        """Add a chunk's distinct ``values`` with their ``counts``."""
        self.add_lazy(
            np.asarray(counts, dtype=np.int64),
            lambda keep: list(values) if keep is None else [values[i] for i in keep.tolist()],
            lambda: hash_strings(values),
        )

    def add_lazy(
        self,
        counts: np.ndarray,
        take: Callable[[Optional[np.ndarray]], List[str]],
        hashes: Callable[[], np.ndarray],
    ) -> None:
        """Add a chunk's distinct values given by their ``counts``; ``take(indices)`` lists the values at
        ``indices`` (all for None) and ``hashes()`` gives every value's :func:`hash_utf8`, so a chunk of
        many distinct values is pruned before its values become Python strings."""
        if counts.size == 0:
            return
        self.total += int(counts.sum())
        if self.hll is not None or counts.size > self.capacity:
            self._start_sketch()
            assert self.hll is not None  # noqa: S101 (for mypy)
            self.hll.add_hashes(hashes())
        if counts.size > self.capacity:  # prune the chunk first (a Misra-Gries merge step of its own)
            threshold = _kth_largest(counts, self.capacity + 1)
            keep = np.flatnonzero(counts > threshold)
            self.error += threshold
            values, numbers = take(keep), (counts[keep] - threshold).tolist()
        else:
            values, numbers = take(None), counts.tolist()
        mine = self.counts
        for value, count in zip(values, numbers):  # noqa: B905 (Python 3.8)
            mine[value] = mine.get(value, 0) + count
        if len(mine) > self.capacity:
            self._start_sketch()
            self._prune()

    def add_pairs(self, pairs: Iterable[Tuple[str, int]]) -> None:
        items = list(pairs)
        self.add([v for v, _ in items], [c for _, c in items])

    def _start_sketch(self) -> None:
        if self.hll is None:  # still exact: every distinct value so far is a key
            self.hll = HyperLogLog()
            self.hll.add_hashes(hash_strings(list(self.counts)))

    def _prune(self) -> None:
        """Misra-Gries: subtract the (capacity + 1)-th largest count from every count; drop those <= 0."""
        numbers = np.fromiter(self.counts.values(), dtype=np.int64, count=len(self.counts))
        threshold = _kth_largest(numbers, self.capacity + 1)
        self.counts = {v: c - threshold for v, c in self.counts.items() if c > threshold}
        self.error += threshold

    def merge(self, other: Counts) -> Counts:
        if other.hll is not None or self.hll is not None:
            self._start_sketch()
            assert self.hll is not None  # noqa: S101 (for mypy)
            if other.hll is not None:
                self.hll.merge(other.hll)
            else:
                self.hll.add_hashes(hash_strings(list(other.counts)))
        mine = self.counts
        for value, count in other.counts.items():
            mine[value] = mine.get(value, 0) + count
        self.total += other.total
        self.error += other.error
        if len(mine) > self.capacity:
            self._start_sketch()
            self._prune()
        return self

    def distinct(self) -> int:
        """The number of distinct values: exact, or HyperLogLog's estimate (at least the values kept)."""
        if self.hll is None:
            return len(self.counts)
        return max(round(self.hll.estimate()), len(self.counts))

    def ordered(self) -> List[Tuple[str, int]]:
        """(value, count), most frequent first, ties by value."""
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def to_dict(self) -> Dict[str, Any]:
        return {
            "capacity": self.capacity,
            "counts": self.counts,
            "total": self.total,
            "error": self.error,
            "hll": None if self.hll is None else self.hll.to_text(),
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> Counts:
        counts = cls(int(data["capacity"]))
        counts.counts = {str(k): int(v) for k, v in data["counts"].items()}
        counts.total, counts.error = int(data["total"]), int(data["error"])
        counts.hll = None if data.get("hll") is None else HyperLogLog.from_text(str(data["hll"]))
        return counts


def _kth_largest(numbers: np.ndarray, k: int) -> int:
    return int(np.partition(numbers, numbers.size - k)[numbers.size - k])
