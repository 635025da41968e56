"""The text of the numbers a shard read, kept so that a merge can type the column as text.

One instance reads a column that is numbers in one chunk and text in another again as text from the start,
so its categories are the values as written ("007", "1.50", "1e3"), not as the numbers read. A shard
cannot read again what another shard saw: it keeps the counts of its numbers' text (a dq_counts.Counts,
bounded) and their token types (Integral, Fractional, String as dq_profile.token_kind types them).

With pyarrow the chunks' distinct values and counts are gathered in Arrow (:class:`TextBuffer`) and folded
into the Counts a few chunks at a time, so that a shard pays little for text it usually never needs.
"""

# zip(strict=...) needs Python 3.10; these scripts run on the containers' Python 3.8.
# ruff: noqa: B905
from __future__ import annotations

from typing import Any, List, Optional, Tuple

import numpy as np
from dq_counts import Counts, hash_utf8
from dq_profile import FRACTIONAL, INTEGRAL, token_kind
from dq_read import NUMBER_RE2, is_arrow, pa, pc

_INTEGER_RE2 = r"^\s*[+-]?\d+\s*$"  # dq_profile's integer tokens
FOLD_AT = 40000  # distinct values gathered in Arrow before they are folded into the Counts


def arrow_numbers(chunked: Any) -> Optional[Any]:
    """A chunk of text as Arrow's CSV reader types it: int64 or float64 numbers, or None (text; or no
    value). The first values are tried first: a failed cast costs a full pass over its input."""
    if chunked.null_count == len(chunked):
        return None
    text = pc.utf8_trim(chunked, characters=" \t")  # the CSV reader trims spaces and tabs around numbers
    for kind in (pa.int64(), pa.float64()):
        try:
            head = pc.cast(text.slice(0, 64), kind)
            tail = pc.cast(text.slice(64), kind) if len(text) > 64 else None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return head if tail is None else pa.chunked_array(head.chunks + tail.chunks, type=kind)
    return None


class TextBuffer:
    """The distinct values and counts of chunks of text, folded into a Counts in one go, with the numbers
    of their Integral, Fractional and String tokens."""

    def __init__(self) -> None:
        self.parts: List[Tuple[Any, np.ndarray]] = []
        self.size = 0
        self.kinds = [0, 0, 0]  # of the text folded since the last fold() returned them

    def add(self, strings: Any, counts: Counts) -> None:
        """Gather a chunk's text (folded into ``counts`` when enough has gathered)."""
        if not is_arrow(strings):  # a pandas Series of str (the pandas engine): straight into the Counts
            series = strings.dropna().value_counts(sort=False)
            texts = [str(v) for v in series.index]
            numbers = series.to_numpy().astype(np.int64)
            counts.add(texts, numbers)
            index = {INTEGRAL: 0, FRACTIONAL: 1}
            for value, count in zip(texts, numbers.tolist()):
                self.kinds[index.get(token_kind(value), 2)] += count
            return
        counted = pc.value_counts(strings.drop_null())
        self.parts.append((counted.field("values"), _int64s(counted.field("counts"))))
        self.size += len(counted)
        if self.size >= FOLD_AT:
            self._fold(counts)

    def fold(self, counts: Counts) -> List[int]:
        """Add everything gathered to ``counts``; returns the token types' counts added since last time."""
        self._fold(counts)
        kinds, self.kinds = self.kinds, [0, 0, 0]
        return kinds

    def _fold(self, counts: Counts) -> None:
        parts, self.parts, self.size = self.parts, [], 0
        if len(parts) > 1 and hasattr(pa.Table, "group_by"):  # pyarrow >= 7: one fold of all the parts
            values = pa.concat_arrays([v.cast(pa.large_string()) for v, _ in parts])
            table = pa.table({"v": values, "c": np.concatenate([c for _, c in parts])})
            grouped = table.group_by("v").aggregate([("c", "sum")])
            parts = [
                (grouped.column("v").combine_chunks(), _int64s(grouped.column("c_sum").combine_chunks()))
            ]
        for values, numbers in parts:
            integral = _flags(pc.match_substring_regex(values, _INTEGER_RE2))
            number = _flags(pc.match_substring_regex(values, NUMBER_RE2))
            n_integral = int(numbers[integral].sum())
            n_fractional = int(numbers[number & ~integral].sum())
            added = [n_integral, n_fractional, int(numbers.sum()) - n_integral - n_fractional]
            self.kinds = [a + b for a, b in zip(self.kinds, added)]
            counts.add_lazy(numbers, _taker(values), lambda values=values: _arrow_hashes(values))


def _flags(mask: Any) -> np.ndarray:
    """An Arrow boolean array without nulls as numpy booleans."""
    bits = np.unpackbits(np.frombuffer(mask.buffers()[1], dtype=np.uint8), bitorder="little")
    return bits[mask.offset : mask.offset + len(mask)].astype(bool)


def _int64s(field: Any) -> np.ndarray:
    """An Arrow int64 array without nulls as numpy (to_numpy would import pandas)."""
    data = np.frombuffer(field.buffers()[1], dtype=np.int64, count=field.offset + len(field))
    return data[field.offset :].copy()


def _taker(values: Any) -> Any:
    def take(keep: Optional[np.ndarray]) -> List[str]:
        return values.to_pylist() if keep is None else values.take(pa.array(keep)).to_pylist()

    return take


def _arrow_hashes(values: Any) -> np.ndarray:
    """dq_counts.hash_utf8 of an Arrow string array without nulls, from its buffers."""
    wide = pa.types.is_large_string(values.type)
    offsets = np.frombuffer(
        values.buffers()[1], dtype=np.int64 if wide else np.int32, count=values.offset + len(values) + 1
    )[values.offset :]
    data = values.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return hash_utf8(raw, offsets.astype(np.int64))
