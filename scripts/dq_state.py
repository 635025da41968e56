"""Mergeable data-quality state: what the baseline and the check know of a data set, built chunk by chunk.

A :class:`DatasetState` holds one :class:`ColumnState` per column: row and missing counts, a
:class:`dq_profile.NumberStats` of the numbers (moments, extremes, KLL sketch) and the category counts of
text. Chunks of a stream add to it, and states of shards merge (``merge``), so memory does not grow with
the rows: a text column's category counts are a dq_counts.Counts, exact up to 10,000 distinct values and
a bounded sketch beyond (the token-type counts that type inference needs are kept apart, exact).
``to_dict``/``from_dict`` are the partial-state file a shard writes (``data_quality.py …
--partial-output``) and ``data_quality.py merge`` reads.

Types are Model Monitor's over the whole column: a column read as numbers in one chunk and as text in
another is read again as text from the start (:class:`RetypeError`), as the in-memory readers would have
read it. A shard cannot read again what another shard saw, so a shard keeps its numbers' text as read
(its counts as written, and their token types): a column numeric in one shard and text in another then
merges as text, as one instance reads it.
"""

# zip(strict=...) needs Python 3.10; these scripts run on the containers' Python 3.8.
# ruff: noqa: B905
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

import numpy as np
from dq_counts import Counts
from dq_errors import InputDataError
from dq_numtext import TextBuffer
from dq_profile import (
    FRACTIONAL,
    INTEGRAL,
    STRING,
    UNKNOWN,
    FeatureProfile,
    NumberStats,
    token_kind,
)
from dq_read import (
    string_at,
    string_first_non_number,
    string_missing,
    string_numbers,
    string_value_counts,
)

STATE_VERSION = 2  # 2: bounded category counts (dq_counts), token-type counts, numbers' text
NUMERIC = "numeric"
TEXT = "text"


class RetypeError(Exception):
    """Columns seen as numbers in one chunk and as text in another: read them again, as text."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__(", ".join(sorted(names)))
        self.names = set(names)


class Needs:
    """What a check needs beyond the profile, from the baseline's types (a baseline needs nothing more).

    ``whole``: count integral-valued numbers (Integral baseline features); ``as_text``: count numbers as
    text (String baseline features); ``parsed``: the numbers of a text column (numeric baseline features).
    """

    def __init__(
        self, whole: Iterable[str] = (), as_text: Iterable[str] = (), parsed: Iterable[str] = ()
    ) -> None:
        self.whole: Set[str] = set(whole)
        self.as_text: Set[str] = set(as_text)
        self.parsed: Set[str] = set(parsed)


NO_NEEDS = Needs()
_KIND_INDEX = {INTEGRAL: 0, FRACTIONAL: 1, STRING: 2}
BadValue = Tuple[str, int, str]  # (file, 1-based line, text) of the first value that is not a number


def _earliest(one: Optional[BadValue], two: Optional[BadValue]) -> Optional[BadValue]:
    if one is None or two is None:
        return one if two is None else two
    return min(one, two, key=lambda bad: (bad[0], bad[1]))


class ColumnState:
    """One column: counts, its numbers' statistics and its text's category counts."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = 0
        self.missing = 0
        self.kind: Optional[str] = None  # NUMERIC or TEXT once a chunk had present values
        self.numbers = NumberStats()  # numeric chunks
        self.non_finite = 0  # infinities read as numbers
        self.first_bad: Optional[BadValue] = None
        self.categories = Counts()  # text chunks (and numeric chunks' text, when kept)
        self.kinds = [0, 0, 0]  # Integral, Fractional and String tokens among the values in categories
        self.text_kept = True  # every numeric chunk's text is in categories (it can be typed as text)
        self._text = TextBuffer()  # numeric chunks' text not yet in categories
        self.has_strings = False  # a text value that is not a number was seen
        self.parsed = NumberStats()  # the numbers of text chunks
        self.parsed_complete = True  # ``parsed`` covers every text chunk

    # ------------------------------------------------------------------------------------ chunks

    def add(self, column: Any, n_rows: int, file: str, first_line: int, needs: Needs = NO_NEEDS) -> None:
        """Add a chunk of this column (a dq_read.Column); its first row is line ``first_line`` of ``file``."""
        self.rows += n_rows
        if column.numbers is not None:
            present = self._add_numbers(column.numbers, column.integral, file, first_line, needs)
            if self.text_kept and column.strings is not None:  # a shard's numbers, with their text
                self._text.add(column.strings, self.categories)
            elif column.strings is None and present:
                self.text_kept = False
        else:
            self._add_text(column.strings, n_rows, file, first_line, needs)

    def _fold(self) -> None:
        """The numeric chunks' text gathered so far into categories and kinds."""
        added = self._text.fold(self.categories)
        self.kinds = [a + b for a, b in zip(self.kinds, added)]

    def _settle(self, kind: str) -> None:
        if self.kind is not None and self.kind != kind:
            raise RetypeError([self.name])
        self.kind = kind

    def _add_numbers(
        self, numbers: np.ndarray, integral: bool, file: str, first_line: int, needs: Needs
    ) -> bool:
        """Add a chunk of numbers; whether it had present values."""
        missing = np.isnan(numbers)
        n_missing = int(np.count_nonzero(missing))
        present = numbers[~missing] if n_missing else numbers
        self.missing += n_missing
        if present.size == 0:
            return False
        self._settle(NUMERIC)
        if not (np.isfinite(present.min()) and np.isfinite(present.max())):
            infinite = np.isinf(numbers)
            self.non_finite += int(np.count_nonzero(infinite))
            first = int(np.flatnonzero(infinite)[0])
            self.first_bad = _earliest(
                self.first_bad, (file, first_line + first, repr(float(numbers[first])))
            )
            present = present[np.isfinite(present)]
        name = self.name
        self.numbers.add(present, integral, whole=name in needs.whole, as_text=name in needs.as_text)
        return True

    def _add_text(self, strings: Any, n_rows: int, file: str, first_line: int, needs: Needs) -> None:
        self.missing += string_missing(strings)
        values, counts = string_value_counts(strings)
        if not values:
            return
        self._settle(TEXT)
        kinds = [token_kind(v) for v in values]
        non_numeric = [v for v, k in zip(values, kinds) if k == STRING]
        tally = self.kinds
        for kind, count in zip(kinds, counts.tolist()):
            tally[_KIND_INDEX[kind]] += count
        self.categories.add(values, counts)
        if non_numeric:
            self.has_strings = True
            if self.first_bad is None or self.first_bad[0] > file:
                index = string_first_non_number(strings, non_numeric[:1000])
                if index is not None:
                    found = (file, first_line + index, str(string_at(strings, index)))
                    self.first_bad = _earliest(self.first_bad, found)
        wanted = self.name in needs.parsed or not self.has_strings
        if not wanted:
            self.parsed_complete, self.parsed = False, NumberStats()
        elif self.parsed_complete:
            numbers = string_numbers(strings, non_numeric)
            present = numbers[~np.isnan(numbers)]
            integral = FRACTIONAL not in kinds
            name = self.name
            self.parsed.add(present, integral, whole=name in needs.whole, as_text=name in needs.as_text)

    # ----------------------------------------------------------------------------------- merging

    def as_text(self) -> ColumnState:
        """This numeric column typed as text, as one instance reads a column text elsewhere (its numbers
        become the text's parsed numbers; infinities are String tokens there)."""
        if self.kind != NUMERIC:
            return self
        self._fold()
        if not self.text_kept:
            raise RetypeError([self.name])
        self.kind = TEXT
        self.has_strings = self.kinds[2] > 0
        self.parsed, self.parsed_complete = self.numbers, True
        self.numbers, self.non_finite = NumberStats(), 0
        return self

    def merge(self, other: ColumnState) -> ColumnState:
        self._fold()
        other._fold()
        if self.kind is not None and other.kind is not None and self.kind != other.kind:
            self.as_text()
            other.as_text()
        self.kind = self.kind or other.kind
        self.rows += other.rows
        self.missing += other.missing
        self.numbers.merge(other.numbers)
        self.non_finite += other.non_finite
        self.first_bad = _earliest(self.first_bad, other.first_bad)
        self.categories.merge(other.categories)
        self.kinds = [a + b for a, b in zip(self.kinds, other.kinds)]
        self.text_kept = self.text_kept and other.text_kept
        self.has_strings = self.has_strings or other.has_strings
        self.parsed_complete = self.parsed_complete and other.parsed_complete
        self.parsed = self.parsed.merge(other.parsed) if self.parsed_complete else NumberStats()
        return self

    def to_dict(self) -> Dict[str, Any]:
        self._fold()
        return {
            "name": self.name,
            "rows": self.rows,
            "missing": self.missing,
            "kind": self.kind,
            "numbers": self.numbers.to_dict(),
            "non_finite": self.non_finite,
            "first_bad": list(self.first_bad) if self.first_bad else None,
            "categories": self.categories.to_dict(),
            "kinds": self.kinds,
            "text_kept": self.text_kept,
            "has_strings": self.has_strings,
            "parsed": self.parsed.to_dict(),
            "parsed_complete": self.parsed_complete,
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> ColumnState:
        state = cls(str(data["name"]))
        state.rows, state.missing, state.kind = int(data["rows"]), int(data["missing"]), data["kind"]
        state.numbers = NumberStats.from_dict(data["numbers"])
        state.non_finite = int(data["non_finite"])
        bad = data.get("first_bad")
        state.first_bad = (str(bad[0]), int(bad[1]), str(bad[2])) if bad else None
        state.categories = Counts.from_dict(data["categories"])
        state.kinds = [int(v) for v in data["kinds"]]
        state.text_kept = bool(data["text_kept"])
        state.has_strings = bool(data["has_strings"])
        state.parsed = NumberStats.from_dict(data["parsed"])
        state.parsed_complete = bool(data["parsed_complete"])
        return state

    # ---------------------------------------------------------------------------------- profiling

    def profile(self) -> FeatureProfile:
        """The column's profile: Model Monitor's type inference over everything added."""
        self._fold()
        profile = FeatureProfile(self.name, self.rows)
        if self.first_bad is not None:
            profile.first_bad_file, profile.first_bad_row, profile.first_bad_value = self.first_bad
        if self.kind == TEXT:
            self._profile_text(profile)
        else:
            self._profile_numbers(profile, self.numbers, None)
            profile.num_missing = self.missing
        return profile

    def _profile_numbers(self, profile: FeatureProfile, stats: NumberStats, integral: Optional[bool]) -> None:
        summary = stats.summary(integral)
        summary.num_missing = self.missing
        profile.numeric = summary
        profile.read_as_numbers = True
        profile.non_finite = self.non_finite
        profile.num_missing = self.missing
        profile.num_present = summary.num_present + self.non_finite
        if summary.num_present == 0:
            profile.inferred_type = UNKNOWN if self.non_finite == 0 else STRING
            return
        profile.inferred_type = INTEGRAL if summary.integral else FRACTIONAL
        if summary.integral:
            profile.n_integral = summary.num_present
        else:
            profile.n_fractional = summary.num_present
        profile.n_string = self.non_finite

    def _profile_text(self, profile: FeatureProfile) -> None:
        profile.num_missing = self.missing
        profile.num_present = self.rows - self.missing
        ordered = self.categories.ordered()
        profile.categories = [value for value, _ in ordered]
        profile.category_counts = np.array([count for _, count in ordered], dtype=np.int64)
        profile.distinct_count = self.categories.distinct()
        profile.category_total = self.categories.total
        profile.n_integral, profile.n_fractional, profile.n_string = self.kinds
        profile.non_numeric_values = [v for v in profile.categories if token_kind(v) == STRING]
        if profile.n_string == 0:  # numbers after all (read as text): profile them as numbers
            profile.categories, profile.category_counts = [], np.zeros(0, dtype=np.int64)
            self._profile_numbers(profile, self.parsed, profile.n_fractional == 0)
            return
        profile.inferred_type = STRING
        if self.parsed_complete:
            profile.parsed = self.parsed.summary()


class DatasetState:
    """Every column of a data set (in the order of its header), and the rows seen."""

    def __init__(self, path: str, header: bool, needs: Needs = NO_NEEDS) -> None:
        self.path = path
        self.header = header
        self.needs = needs
        self.n_rows = 0
        self.columns: List[ColumnState] = []
        self.files: List[str] = []

    def names(self) -> List[str]:
        return [c.name for c in self.columns]

    def add_table(self, table: Any) -> None:
        """Add a dq_read.Table (a chunk of one file; ``table.offset`` rows of it came before)."""
        if not self.columns:
            self.columns = [ColumnState(column.name) for column in table.columns]
        first_line = table.row_number(0)
        for state, column in zip(self.columns, table.columns):
            state.add(column, table.n_rows, table.path, first_line, self.needs)
        self.n_rows += table.n_rows
        if table.path not in self.files:
            self.files.append(table.path)

    def merge(self, other: DatasetState, where: str = "") -> DatasetState:
        if not self.columns:
            self.columns = other.columns
        elif other.columns:
            if other.names() != self.names():
                raise InputDataError(
                    f"the shards' columns differ: {', '.join(self.names()[:6])} and "
                    f"{', '.join(other.names()[:6])}",
                    file=where or other.path,
                    fix="give every part of the data set the same columns (and the same --header setting)",
                )
            retype = set()
            for mine, theirs in zip(self.columns, other.columns):
                try:
                    mine.merge(theirs)
                except RetypeError as exc:
                    retype |= exc.names
            if retype:
                raise InputDataError(
                    f"columns {', '.join(sorted(retype))} are numbers in one shard and text in another",
                    file=where or other.path,
                    fix="run the job on one instance, or make the column's values consistent",
                )
        self.n_rows += other.n_rows
        self.files += [f for f in other.files if f not in self.files]
        return self

    def profiles(self) -> List[FeatureProfile]:
        return [column.profile() for column in self.columns]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "path": self.path,
            "header": self.header,
            "n_rows": self.n_rows,
            "files": self.files,
            "columns": [column.to_dict() for column in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Dict[str, Any], needs: Needs = NO_NEEDS) -> DatasetState:
        state = cls(str(data["path"]), bool(data["header"]), needs)
        state.n_rows = int(data["n_rows"])
        state.files = [str(f) for f in data.get("files", [])]
        state.columns = [ColumnState.from_dict(c) for c in data["columns"]]
        return state


def state_of_table(table: Any, needs: Needs = NO_NEEDS) -> DatasetState:
    """The state of one in-memory table (a dq_read.Table)."""
    state = DatasetState(table.path, table.header, needs)
    state.add_table(table)
    return state
