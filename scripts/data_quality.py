"""Data-quality baseline and check that speak SageMaker Model Monitor's file formats.

Runs inside a SageMaker Processing job (SKLearn framework container: Python 3.8+, numpy, pandas) and,
unchanged, in local mode. pyarrow is used for fast CSV reading when it is installed; otherwise pandas.

Command line (the contract the pipeline builders wire to)::

    python3 data_quality.py baseline --input DIR_OR_CSV --output DIR [--header|--no-header]
    python3 data_quality.py check --input DIR_OR_CSV --baseline-statistics FILE_OR_DIR \
        --baseline-constraints FILE_OR_DIR --output DIR [--header|--no-header] [--fail-on-violations]

``--input`` is a CSV file or a directory holding exactly one CSV (how a processing input arrives); the
baseline files are a file or a directory holding ``statistics.json`` / ``constraints.json``. Headerless
CSVs name their columns ``_c0 … _cN`` as Model Monitor does.

Outputs (written to temporary names and renamed into ``--output`` only when everything succeeded):

- baseline: ``statistics.json``, ``constraints.json``, ``report.html``
- check: ``constraint_violations.json``, ``statistics.json`` (of the current data), ``drift_metrics.json``,
  ``summary.json``, ``report.html``

Layouts follow the Model Monitor documentation ("Schema for Statistics (statistics.json file)",
"Schema for Constraints (constraints.json file)", "Schema for Violations (constraint_violations.json
file)", docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-{statistics,constraints}.html and
model-monitor-interpreting-violations.html). Extensions, all additive:

- ``statistics.json`` numeric features carry ``x_histogram`` ({lower_bound, upper_bound, counts}): the exact
  fine histogram this check compares against. The standard ``kll.sketch`` is written too (the same
  histogram as a KLL compactor stack: an item on level h weighs 2**h), so Model Monitor itself can read
  our baselines.
- ``drift_metrics.json``: ``{"version": 0, "metrics": [{"name": "feature_baseline_drift_<feature>",
  "feature_name", "value", "threshold", "method", "raw_distance", "violation", "baseline_cdf"}]}``;
  ``value`` is the number compared with ``threshold`` (violation when value > threshold).
- ``summary.json``: ``{"violation_count", "violations_by_type": {<all six types>: n}, "item_count",
  "baseline_item_count", "features_checked", "drifted_features"}`` for a ConditionStep / JsonGet.

Semantics (Deequ, the library behind Model Monitor's analyzer, ``analyzers/Distance.scala``):

- Numeric drift = L-infinity distance between the baseline and current CDFs (the two-sample KS statistic).
  ``Simple`` compares it raw; ``Robust`` (the default) subtracts ``1.8 * sqrt((n + m) / (n * m))`` first
  (Deequ's default c(alpha), alpha = 0.003) and floors at 0, so small batches do not drift by chance.
- Categorical drift: ``LInfinity`` = L-infinity distance between category frequencies (Simple/Robust as
  above); ``ChiSquared`` = Pearson's goodness-of-fit test of the current counts against the baseline
  proportions (Deequ's regrouping of small categories); a violation when the p-value is below
  ``categorical_comparison_threshold``. Reported as value = 1 - p against threshold = 1 - that threshold,
  so "value > threshold" holds for every metric.
- ``datatype_check_threshold`` / ``domain_content_threshold``: the minimum fraction of present values
  that must have the baseline type / lie in the baseline domain (Model Monitor writes 1.0 and reports
  "Expected match: 100.0%"). Integral-valued numbers count as Integral, numbers count as Fractional, and
  anything is a valid String.
- ``completeness``: fraction of non-missing values; a violation when the current one is lower.
- ``is_non_negative``: negative values where the baseline had none are reported as ``data_type_check``
  (Model Monitor has no separate violation type for it).

Errors in the inputs raise :class:`DataQualityError`; ``main`` prints one line
``ERROR: <what> (<file>, row N / column C). Fix: <how>`` and exits 2. Rows are 1-based file lines as the
CSV reader counts them (the header is row 1). Violations are results, not errors: exit 0, or 3 with
``--fail-on-violations``.
"""

# zip(strict=...) needs Python 3.10; these scripts run on the containers' Python 3.8.
# ruff: noqa: B905
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

try:  # fast CSV reading; absent from some SageMaker framework containers
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if int(pa.__version__.split(".")[0]) < 6:  # no invalid_row_handler before 6.0: use pandas
        raise ImportError(f"pyarrow {pa.__version__} is too old")
except ImportError:  # pragma: no cover - exercised by forcing the pandas engine in tests
    pa = None
    pc = None
    pacsv = None

try:  # sibling module in scripts/ (on PYTHONPATH in the jobs); the check still runs without it
    import dq_report
except ImportError:  # pragma: no cover
    dq_report = None

LOG = logging.getLogger(__name__)

VERSION = 0
INTEGRAL = "Integral"
FRACTIONAL = "Fractional"
STRING = "String"
UNKNOWN = "Unknown"
NUMERIC_TYPES = (INTEGRAL, FRACTIONAL)

DATA_TYPE_CHECK = "data_type_check"
COMPLETENESS_CHECK = "completeness_check"
BASELINE_DRIFT_CHECK = "baseline_drift_check"
MISSING_COLUMN_CHECK = "missing_column_check"
EXTRA_COLUMN_CHECK = "extra_column_check"
CATEGORICAL_VALUES_CHECK = "categorical_values_check"
CHECK_TYPES = (
    DATA_TYPE_CHECK,
    COMPLETENESS_CHECK,
    BASELINE_DRIFT_CHECK,
    MISSING_COLUMN_CHECK,
    EXTRA_COLUMN_CHECK,
    CATEGORICAL_VALUES_CHECK,
)

# Tokens read as "missing" by both CSV engines (they must agree).
NULL_VALUES = ["", "NA", "N/A", "NaN", "nan", "NULL", "null", "None"]
DISTRIBUTION_BUCKETS = 10  # Model Monitor materialises 10 buckets (not configurable there either)
FINE_BINS = 2000  # resolution of the CDF behind the drift distance; a multiple of DISTRIBUTION_BUCKETS
KLL_PARAMETERS = {"c": 0.64, "k": 2048}  # Model Monitor's sketch parameters
MAX_CATEGORY_BUCKETS = 1000  # categorical buckets written per feature (most frequent first)
DOMAIN_MAX_DISTINCT = 100  # string features with at most this many values get a domain constraint
ROBUST_C_ALPHA = 1.8  # Deequ's default c(alpha) for the Robust (KS-corrected) distance
COMPARISON_METHODS = ("Simple", "Robust")
CATEGORICAL_DRIFT_METHODS = ("LInfinity", "ChiSquared")

# Every key written explicitly: the documentation and the container disagree on defaults. These are the
# values the Model Monitor container writes (datatype/domain thresholds 1.0, Robust, LInfinity).
DEFAULT_MONITORING_CONFIG: Dict[str, Any] = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"
DRIFT_METRICS_FILE = "drift_metrics.json"
SUMMARY_FILE = "summary.json"
REPORT_FILE = "report.html"

_INT_TOKEN = re.compile(r"^\s*[+-]?\d+\s*$")
_FLOAT_TOKEN = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_ARROW_CONVERSION = re.compile(r"column #(\d+).*CSV conversion error to (\w+): invalid value '(.*)'", re.S)
_PANDAS_TOO_MANY = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


# --------------------------------------------------------------------------------------------- errors


class DataQualityError(Exception):
    """A problem with the inputs that a person must fix: what, where (file, row, column) and how."""

    def __init__(
        self,
        what: str,
        *,
        file: Optional[str] = None,
        row: Optional[int] = None,
        column: Optional[str] = None,
        fix: str = "",
    ) -> None:
        self.what = " ".join(str(what).split())
        self.file = file
        self.row = row
        self.column = column
        self.fix = " ".join(fix.split())
        super().__init__(self.message())

    def message(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        parts = [p for p in (self.file, " / ".join(where)) if p]
        text = self.what + (f" ({', '.join(parts)})" if parts else "") + "."
        return text + (f" Fix: {self.fix}" if self.fix else "")

    def __str__(self) -> str:
        return self.message()


class InputNotFoundError(DataQualityError):
    """The input path does not name a usable file."""


class InputDataError(DataQualityError):
    """The CSV content cannot serve: empty, ragged, unparsable or entirely missing values."""


class BaselineFileError(DataQualityError):
    """A baseline statistics/constraints file is unreadable, not JSON, or not in Model Monitor's layout."""


class OutputError(DataQualityError):
    """The outputs cannot be written."""


# ------------------------------------------------------------------------------------------ input paths


def resolve_input_csv(path: str) -> str:
    """The CSV to read: ``path`` itself, or the one data file in directory ``path``."""
    if os.path.isfile(path):
        return path
    if not os.path.isdir(path):
        raise InputNotFoundError(
            "input does not exist", file=path, fix="pass --input a CSV file or a directory holding one CSV"
        )
    files = sorted(
        name
        for name in os.listdir(path)
        if not name.startswith(".") and os.path.isfile(os.path.join(path, name))
    )
    csvs = [name for name in files if name.lower().endswith(".csv")]
    chosen = csvs if csvs else files
    if len(chosen) != 1:
        found = ", ".join(files[:5]) + (" …" if len(files) > 5 else "") if files else "nothing"
        raise InputNotFoundError(
            f"expected exactly one CSV file in the input directory, found {found}",
            file=path,
            fix="put exactly one CSV file in the input (one S3 object, or a prefix holding one file)",
        )
    return os.path.join(path, chosen[0])


def resolve_baseline_file(path: str, filename: str) -> str:
    """A baseline file given as a file, or as a directory holding ``filename`` (or exactly one .json)."""
    if os.path.isfile(path):
        return path
    if os.path.isdir(path):
        candidate = os.path.join(path, filename)
        if os.path.isfile(candidate):
            return candidate
        jsons = sorted(n for n in os.listdir(path) if n.endswith(".json") and not n.startswith("."))
        if len(jsons) == 1:
            return os.path.join(path, jsons[0])
    raise BaselineFileError(
        f"baseline file {filename} not found",
        file=path,
        fix=f"pass the {filename} written by the baseline step (a file, or a directory containing it)",
    )


def load_json_file(path: str, what: str) -> Dict[str, Any]:
    """Parse a baseline JSON file; errors name the file, line and column."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise BaselineFileError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            file=path,
            fix=f"pass the {what} written by a data-quality baseline job, unmodified",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineFileError(f"{what} cannot be read: {exc}", file=path, fix="check the path") from exc
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise BaselineFileError(
            f'{what} is not in Model Monitor\'s layout (no "features" list)',
            file=path,
            fix=f"pass a {what} in Model Monitor's layout",
        )
    return data


# ------------------------------------------------------------------------------------------ CSV reading


class Column:
    """One CSV column: numbers (float64, NaN = missing) or strings (the reader's own string array)."""

    __slots__ = ("integral", "name", "numbers", "strings")

    def __init__(self, name: str, numbers: Optional[np.ndarray], integral: bool, strings: Any) -> None:
        self.name = name
        self.numbers = numbers
        self.integral = integral
        self.strings = strings


class Table:
    """A CSV file as columns, plus what is needed to point at a row of it."""

    def __init__(self, path: str, header: bool, columns: List[Column], n_rows: int) -> None:
        self.path = path
        self.header = header
        self.columns = columns
        self.n_rows = n_rows

    def row_number(self, index: int) -> int:
        """1-based file line of data row ``index`` (0-based)."""
        return index + 1 + (1 if self.header else 0)

    def column_names(self) -> List[str]:
        return [c.name for c in self.columns]


def read_csv(path: str, header: bool, engine: str = "auto") -> Table:
    """Read a CSV (engine ``auto``: pyarrow when installed, else pandas)."""
    if engine not in ("auto", "arrow", "pandas"):
        raise ValueError(f"unknown CSV engine {engine!r}")
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise InputNotFoundError(
            f"input cannot be read: {exc.strerror}", file=path, fix="check the path"
        ) from exc
    if size == 0:
        raise InputDataError("the input file is empty", file=path, fix="pass a CSV with data rows")
    use_arrow = engine == "arrow" or (engine == "auto" and pacsv is not None)
    table = _read_with_arrow(path, header) if use_arrow else _read_with_pandas(path, header)
    if not table.columns:
        raise InputDataError("the input file has no columns", file=path, fix="pass a CSV with data rows")
    if table.n_rows == 0:
        raise InputDataError(
            "the input file has no data rows" + (" (only a header)" if header else ""),
            file=path,
            fix="pass a CSV with at least one data row",
        )
    _check_names(table)
    return table


def _check_names(table: Table) -> None:
    seen = set()
    for position, name in enumerate(table.column_names(), start=1):
        if not name.strip():
            raise InputDataError(
                f"header column {position} has no name",
                file=table.path,
                row=1,
                fix="give every column a name in the header row (or pass --no-header if there is none)",
            )
        if name in seen:
            raise InputDataError(
                f"column name {name!r} appears twice in the header",
                file=table.path,
                row=1,
                column=name,
                fix="give every column a distinct name",
            )
        seen.add(name)


def _headerless_names(count: int) -> List[str]:
    return [f"_c{i}" for i in range(count)]


def _read_with_arrow(path: str, header: bool) -> Table:
    invalid_rows: List[Any] = []

    def on_invalid(row: Any) -> str:
        invalid_rows.append(row)
        return "skip"

    column_types: Dict[str, Any] = {}
    for _attempt in range(1000):
        invalid_rows.clear()
        try:
            arrow_table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(autogenerate_column_names=not header, block_size=16 << 20),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(
                    null_values=NULL_VALUES,
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    column_types=column_types,
                ),
            )
        except pa.ArrowInvalid as exc:
            message = str(exc)
            match = _ARROW_CONVERSION.search(message)
            if match:  # older pyarrow infers a type from the first block only: re-read as text
                names = _arrow_header_names(path, header)
                index = int(match.group(1))
                if index < len(names) and names[index] not in column_types:
                    column_types[names[index]] = pa.string()
                    continue
            if "Empty CSV file" in message:
                raise InputDataError(
                    "the input file is empty", file=path, fix="pass a CSV with data rows"
                ) from exc
            raise InputDataError(
                f"the CSV cannot be parsed: {message.splitlines()[0]}",
                file=path,
                fix="make it a comma-separated file with one header row (or none, with --no-header)",
            ) from exc
        break
    if invalid_rows:
        bad = invalid_rows[0]
        raise _ragged_error(path, bad.actual_columns, bad.expected_columns, _locate_line(path, bad.text))
    names = list(arrow_table.column_names) if header else _headerless_names(arrow_table.num_columns)
    n_rows = arrow_table.num_rows
    arrow_columns = arrow_table.columns
    del arrow_table
    # The reader's raw blocks are freed but kept by the allocator (≈ the file size): give them back, and
    # drop each Arrow column once it is converted, so the peak stays near one copy of the data.
    _release_arrow_memory()
    columns = []
    for index, name in enumerate(names):
        chunked, arrow_columns[index] = arrow_columns[index], None
        columns.append(_arrow_column(name, chunked))
        del chunked
        _release_arrow_memory()
    return Table(path, header, columns, n_rows)


def _release_arrow_memory() -> None:
    release = getattr(pa.default_memory_pool(), "release_unused", None)  # pyarrow >= 9
    if release is not None:
        release()


def _arrow_header_names(path: str, header: bool) -> List[str]:
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        first = next(csv.reader(fh), [])
    return list(first) if header else [f"f{i}" for i in range(len(first))]


def _arrow_column(name: str, chunked: Any) -> Column:
    kind = chunked.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return Column(name, _arrow_float64(chunked), pa.types.is_integer(kind), None)
    if pa.types.is_null(kind):
        return Column(name, np.full(len(chunked), np.nan), False, None)
    if pa.types.is_boolean(kind):
        chunked = pc.cast(chunked, pa.string())
    elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        chunked = pc.cast(chunked, pa.string())  # timestamps etc.: keep the text
    return Column(name, None, False, chunked)


def _arrow_float64(chunked: Any) -> np.ndarray:
    """A numeric Arrow column as float64 with NaN for nulls, straight from the Arrow buffers.

    (``to_numpy(zero_copy_only=False)`` would do, but it makes pyarrow import pandas, ~0.4 s.)
    """
    out = np.empty(len(chunked), dtype=np.float64)
    position = 0
    for original in chunked.chunks:
        size = len(original)
        if size == 0:
            continue
        chunk = original
        if not (pa.types.is_int64(chunk.type) or pa.types.is_float64(chunk.type)):
            chunk = pc.cast(chunk, pa.float64())
        dtype = np.int64 if pa.types.is_int64(chunk.type) else np.float64
        validity, data = chunk.buffers()[:2]
        target = out[position : position + size]
        target[:] = np.frombuffer(data, dtype=dtype, count=chunk.offset + size)[chunk.offset :]
        if chunk.null_count:
            bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
            target[bits[chunk.offset : chunk.offset + size] == 0] = np.nan
        position += size
    return out


def _locate_line(path: str, text: Optional[str]) -> Optional[int]:
    """Line number of the first line equal to ``text`` (pyarrow does not report it when multithreaded)."""
    if text is None:
        return None
    target = text.encode("utf-8", errors="replace")
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.rstrip(b"\r\n") == target:
                return number
    return None


def _ragged_error(path: str, actual: int, expected: int, row: Optional[int]) -> InputDataError:
    return InputDataError(
        f"ragged row: {actual} fields where the header has {expected}",
        file=path,
        row=row,
        fix="give every row the same number of comma-separated fields (quote values that contain commas)",
    )


def _read_with_pandas(path: str, header: bool) -> Table:
    import pandas as pd  # only the fallback engine needs it

    kwargs: Dict[str, Any] = {
        "header": 0 if header else None,
        "na_values": NULL_VALUES,
        "keep_default_na": False,
        "skip_blank_lines": True,
        "low_memory": False,
    }
    major = int(pd.__version__.split(".")[0])
    if major >= 2:
        kwargs["dtype_backend"] = "numpy_nullable"  # keeps integer columns with gaps Integral
    try:
        try:
            frame = pd.read_csv(path, on_bad_lines="error", **kwargs)
        except TypeError:  # pandas < 1.3 spells it error_bad_lines
            legacy_reader: Any = pd.read_csv
            frame = legacy_reader(path, error_bad_lines=True, **kwargs)
    except pd.errors.EmptyDataError as exc:
        raise InputDataError("the input file is empty", file=path, fix="pass a CSV with data rows") from exc
    except pd.errors.ParserError as exc:
        match = _PANDAS_TOO_MANY.search(str(exc))
        if match:
            raise _ragged_error(path, int(match.group(3)), int(match.group(1)), int(match.group(2))) from exc
        raise InputDataError(
            f"the CSV cannot be parsed: {str(exc).splitlines()[0]}",
            file=path,
            fix="make it a comma-separated file with one header row (or none, with --no-header)",
        ) from exc
    if header:
        names = _raw_header(path)
        if len(names) != frame.shape[1]:
            names = [str(n) for n in frame.columns]
    else:
        names = _headerless_names(frame.shape[1])
    short = _find_short_row(path, frame.shape[1])
    if short is not None:
        raise _ragged_error(path, short[1], frame.shape[1], short[0])
    columns = []
    for position, name in enumerate(names):
        columns.append(_pandas_column(name, frame.iloc[:, position], legacy=major < 2))
    return Table(path, header, columns, int(frame.shape[0]))


def _raw_header(path: str) -> List[str]:
    """The header as written (pandas renames duplicates to ``a.1``, which would hide them)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        return next(csv.reader(fh), [])


def _pandas_column(name: str, series: Any, legacy: bool) -> Column:
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        strings = series.map(lambda v: None if v is pd.NA or v is None else str(bool(v)).lower())
        return Column(name, None, False, strings.astype(object))
    if pd.api.types.is_numeric_dtype(dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        integral = bool(pd.api.types.is_integer_dtype(dtype))
        if legacy and not integral:  # old pandas turns integer columns with gaps into floats
            present = numbers[~np.isnan(numbers)]
            integral = bool(present.size) and bool(np.all(present == np.floor(present)))
        return Column(name, numbers, integral, None)
    values = series.astype(object)
    values = values.where(series.notna(), None)  # the C parser leaves text columns as str objects
    if values.isna().all():
        return Column(name, np.full(len(values), np.nan), False, None)
    return Column(name, None, False, values)


def _find_short_row(path: str, expected: int, block_size: int = 32 << 20) -> Optional[Tuple[int, int]]:
    """(line, fields) of the first non-blank record with fewer than ``expected`` fields, or None.

    pandas pads short rows with missing values silently. This counts fields with numpy: a comma or a
    newline separates only outside double quotes, i.e. where the number of quotes before it is even.
    """
    quotes_before = 0  # quotes in the blocks already processed (their parity carries over)
    lines_before = 0
    carry = b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(block_size)
            data = carry + chunk
            raw = np.frombuffer(data, dtype=np.uint8)
            quotes = np.flatnonzero(raw == 34)
            newlines = np.flatnonzero(raw == 10)
            ends = newlines[_outside_quotes(newlines, quotes, quotes_before)]
            if chunk:
                if ends.size == 0:  # no complete record yet
                    carry = data
                    continue
                cut = int(ends[-1]) + 1
            else:
                cut = raw.size
                if cut and raw[-1] != 10:
                    ends = np.append(ends, cut)
            found = _short_record(raw[:cut], ends, quotes, quotes_before, expected)
            if found is not None:
                index, fields = found
                return lines_before + int(np.searchsorted(newlines, index)) + 1, fields
            quotes_before += int(np.searchsorted(quotes, cut))
            lines_before += int(np.searchsorted(newlines, cut))
            carry = data[cut:]
            if not chunk:
                return None


def _outside_quotes(positions: np.ndarray, quotes: np.ndarray, quotes_before: int) -> np.ndarray:
    """Mask of the (sorted) byte positions preceded by an even number of double quotes."""
    outside = np.empty(positions.size, dtype=bool)
    # Past the last quote the parity is constant (the usual case: only the header is quoted).
    tail = int(np.searchsorted(positions, quotes[-1])) if quotes.size else 0
    outside[tail:] = (quotes.size + quotes_before) % 2 == 0
    if tail:
        outside[:tail] = (np.searchsorted(quotes, positions[:tail]) + quotes_before) % 2 == 0
    return outside


def _short_record(
    raw: np.ndarray, ends: np.ndarray, quotes: np.ndarray, quotes_before: int, expected: int
) -> Optional[Tuple[int, int]]:
    """(byte offset, fields) of the first short record among those ending at ``ends``."""
    if ends.size == 0:
        return None
    starts = np.concatenate(([0], ends[:-1] + 1))
    commas = np.flatnonzero(raw == 44)
    separators = commas[_outside_quotes(commas, quotes, quotes_before)]
    fields = np.searchsorted(separators, ends) - np.searchsorted(separators, starts) + 1
    lengths = ends - starts
    carriage = np.zeros(ends.size, dtype=bool)
    nonempty = lengths > 0
    carriage[nonempty] = raw[ends[nonempty] - 1] == 13
    blank = (lengths - carriage) <= 0
    bad = np.flatnonzero(~blank & (fields < expected))
    if bad.size == 0:
        return None
    return int(starts[bad[0]]), int(fields[bad[0]])


# ------------------------------------------------------------------------------- string column helpers


def _is_arrow(strings: Any) -> bool:
    return pa is not None and isinstance(strings, (pa.ChunkedArray, pa.Array))


def _string_missing(strings: Any) -> int:
    if _is_arrow(strings):
        return int(strings.null_count)
    return int(strings.isna().sum())


def _string_value_counts(strings: Any) -> Tuple[List[str], np.ndarray]:
    """Distinct present values and their counts, most frequent first (ties by value)."""
    if _is_arrow(strings):
        counted = pc.value_counts(strings.drop_null())
        values = counted.field("values").to_pylist()
        field = counted.field("counts")  # int64, no nulls; read the buffer (to_numpy imports pandas)
        counts = np.frombuffer(field.buffers()[1], dtype=np.int64, count=field.offset + len(field))
        counts = counts[field.offset :].copy()
    else:
        series = strings.dropna().value_counts(sort=False)
        values = [str(v) for v in series.index]
        counts = series.to_numpy().astype(np.int64)
    order = sorted(range(len(values)), key=lambda i: (-int(counts[i]), values[i]))
    return [values[i] for i in order], counts[order] if order else counts


def _string_first_index(strings: Any, members: Sequence[str]) -> Optional[int]:
    """Index of the first value that is one of ``members``."""
    if not members:
        return None
    if _is_arrow(strings):
        mask = pc.is_in(strings, value_set=pa.array(list(members), type=pa.string()))
        index = pc.index(mask, True).as_py()
        return None if index is None or index < 0 else int(index)
    hits = np.flatnonzero(strings.isin(list(members)).to_numpy())
    return int(hits[0]) if hits.size else None


def _string_numbers(strings: Any, non_numeric: Sequence[str]) -> np.ndarray:
    """The column as float64, NaN where missing or not a number."""
    if _is_arrow(strings):
        text = strings
        if non_numeric:
            bad = pc.is_in(text, value_set=pa.array(list(non_numeric), type=pa.string()))
            text = pc.if_else(bad, pa.scalar(None, type=pa.string()), text)
        try:
            numbers = pc.cast(pc.utf8_trim_whitespace(text), pa.float64())
        except pa.ArrowInvalid:  # a token our patterns accept but Arrow does not: parse in Python
            skip = set(non_numeric)
            return np.array(
                [float(v) if v is not None and v not in skip else np.nan for v in strings.to_pylist()],
                dtype=np.float64,
            )
        return _arrow_float64(
            numbers if isinstance(numbers, pa.ChunkedArray) else pa.chunked_array([numbers])
        )
    import pandas as pd

    cleaned = strings.where(~strings.isin(list(non_numeric)), None) if non_numeric else strings
    return np.asarray(pd.to_numeric(cleaned, errors="coerce"), dtype=np.float64)


def _numbers_as_strings(numbers: np.ndarray, integral: bool) -> Tuple[List[str], np.ndarray]:
    """Value counts of a numeric column read as text (a String baseline feature read as numbers now)."""
    present = numbers[~np.isnan(numbers)]
    values, counts = np.unique(present, return_counts=True)
    labels = [str(int(v)) if integral or float(v).is_integer() else repr(float(v)) for v in values]
    order = sorted(range(len(labels)), key=lambda i: (-int(counts[i]), labels[i]))
    ordered = counts[order] if order else counts
    return [labels[i] for i in order], ordered.astype(np.int64)


def token_kind(token: str) -> str:
    """Model Monitor's per-value type: Integral, Fractional or String."""
    if _INT_TOKEN.match(token):
        return INTEGRAL
    if _FLOAT_TOKEN.match(token):
        return FRACTIONAL
    return STRING


# ------------------------------------------------------------------------------------------- profiles


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

    def representatives(self) -> np.ndarray:
        """One value per fine bin: the integer itself on a unit grid, the bin midpoint otherwise."""
        nb = self.counts.size
        if nb == 1 and self.lo == self.hi:
            return np.array([self.lo])
        width = (self.hi - self.lo) / nb
        return self.lo + (np.arange(nb) + 0.5) * width

    def buckets(self) -> List[Dict[str, Any]]:
        """Model Monitor's 10 equal-width buckets between min and max."""
        if self.num_present == 0:
            return []
        if self.max == self.min:
            return [{"lower_bound": self.min, "upper_bound": self.max, "count": int(self.num_present)}]
        nb = self.counts.size
        if nb % DISTRIBUTION_BUCKETS == 0 and self.lo == self.min and self.hi == self.max:
            per_bucket = self.counts.reshape(DISTRIBUTION_BUCKETS, nb // DISTRIBUTION_BUCKETS).sum(axis=1)
        else:  # unit grid: every count sits on an integer
            reps = self.representatives()
            index = np.floor((reps - self.min) * DISTRIBUTION_BUCKETS / (self.max - self.min)).astype(np.intp)
            np.clip(index, 0, DISTRIBUTION_BUCKETS - 1, out=index)
            per_bucket = np.bincount(index, weights=self.counts, minlength=DISTRIBUTION_BUCKETS)
        edges = np.linspace(self.min, self.max, DISTRIBUTION_BUCKETS + 1)
        return [
            {
                "lower_bound": float(edges[i]),
                "upper_bound": float(edges[i + 1]),
                "count": int(np.rint(per_bucket[i])),
            }
            for i in range(DISTRIBUTION_BUCKETS)
        ]

    def kll_sketch_data(self) -> List[List[float]]:
        """The histogram as a KLL compactor stack: level h lists (sorted) the values weighing 2**h."""
        nonzero = self.counts > 0
        reps = self.representatives()[nonzero]
        counts = self.counts[nonzero]
        levels: List[List[float]] = []
        for level in range(int(counts.max()).bit_length() if counts.size else 0):
            chosen = ((counts >> level) & 1).astype(bool)
            levels.append([float(v) for v in reps[chosen]])
        return levels


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
        self.first_bad_index = _string_first_index(self.strings, self.non_numeric_values[:1000])
        if self.first_bad_index is not None:
            self.first_bad_value = _string_at(self.strings, self.first_bad_index)

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
                        "sketch": {"parameters": dict(KLL_PARAMETERS), "data": summary.kll_sketch_data()},
                    }
                },
            }
            feature["x_histogram"] = {
                "lower_bound": summary.lo,
                "upper_bound": summary.hi,
                "counts": summary.counts.tolist(),
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
            "distinct_count": len(self.categories),
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
        feature["monitoringConfigOverrides"] = {}
        return feature


def profile_column(column: Column, n_rows: int) -> FeatureProfile:
    """Profile one column: Model Monitor's type inference (any non-number makes it String)."""
    profile = FeatureProfile(column.name, n_rows)
    if column.numbers is not None:
        _profile_numbers(profile, column.numbers, column.integral)
        return profile
    strings = column.strings
    profile.num_missing = _string_missing(strings)
    profile.num_present = n_rows - profile.num_missing
    values, counts = _string_value_counts(strings)
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
        numbers = _string_numbers(strings, [])
        integral = profile.n_fractional == 0
        profile.categories, profile.category_counts = [], np.zeros(0, dtype=np.int64)
        _profile_numbers(profile, numbers, integral)
        return profile
    profile.inferred_type = STRING
    profile.strings = strings
    return profile


def _string_at(strings: Any, index: int) -> Optional[str]:
    value = strings[index].as_py() if _is_arrow(strings) else strings.iloc[index]
    return None if value is None else str(value)


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


# ------------------------------------------------------------------------------------------- baseline


def monitoring_config(
    *,
    comparison_threshold: float = 0.1,
    comparison_method: str = "Robust",
    categorical_comparison_threshold: float = 0.1,
    categorical_drift_method: str = "LInfinity",
    datatype_check_threshold: float = 1.0,
    domain_content_threshold: float = 1.0,
) -> Dict[str, Any]:
    """A complete ``monitoring_config`` (every key explicit)."""
    if comparison_method not in COMPARISON_METHODS:
        raise ValueError(f"comparison_method must be one of {COMPARISON_METHODS}")
    if categorical_drift_method not in CATEGORICAL_DRIFT_METHODS:
        raise ValueError(f"categorical_drift_method must be one of {CATEGORICAL_DRIFT_METHODS}")
    return {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": float(datatype_check_threshold),
        "domain_content_threshold": float(domain_content_threshold),
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": float(comparison_threshold),
            "comparison_method": comparison_method,
            "categorical_comparison_threshold": float(categorical_comparison_threshold),
            "categorical_drift_method": categorical_drift_method,
        },
    }


def profile_baseline(table: Table) -> List[FeatureProfile]:
    """Profiles of every column, refusing data no baseline should be built on."""
    profiles = []
    for column in table.columns:
        profile = profile_column(column, table.n_rows)
        if profile.num_present == 0:
            raise InputDataError(
                "the column has no values at all",
                file=table.path,
                column=column.name,
                fix="fill the column or drop it from the baseline data",
            )
        if profile.non_finite:
            raise InputDataError(
                f"infinite value {profile.first_bad_value}",
                file=table.path,
                row=table.row_number(profile.first_bad_index or 0),
                column=column.name,
                fix="replace it with a finite number or leave it empty (missing)",
            )
        numeric = profile.n_integral + profile.n_fractional
        if profile.inferred_type == STRING and numeric > profile.n_string:
            profile.locate_first_bad()
            raise InputDataError(
                f"unparsable number {profile.first_bad_value!r} in a numeric column",
                file=table.path,
                row=None if profile.first_bad_index is None else table.row_number(profile.first_bad_index),
                column=column.name,
                fix=(
                    "correct the value or leave it empty (missing)"
                    + (
                        "; if row 1 is a header, pass --header"
                        if not table.header and profile.first_bad_index == 0
                        else ""
                    )
                ),
            )
        profiles.append(profile)
    return profiles


def build_baseline(
    table: Table, config: Optional[Dict[str, Any]] = None
) -> Tuple[Dict[str, Any], Dict[str, Any], List[FeatureProfile]]:
    """statistics.json and constraints.json (as dicts) for a baseline dataset."""
    profiles = profile_baseline(table)
    statistics = {
        "version": VERSION,
        "dataset": {"item_count": table.n_rows},
        "features": [p.statistics() for p in profiles],
    }
    constraints = {
        "version": VERSION,
        "features": [p.constraint() for p in profiles],
        "monitoring_config": config if config is not None else monitoring_config(),
    }
    return statistics, constraints, profiles


# ---------------------------------------------------------------------------------------- distances


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
        base = np.cumsum(baseline.counts) / baseline.n
        return float(min(1.0, max(under / m, float(np.max(np.abs(cur / m - base))))))
    ordered = np.sort(current)
    le = np.searchsorted(ordered, baseline.points, side="right") / m
    lt = np.searchsorted(ordered, baseline.points, side="left") / m
    base = baseline.cumulative
    if baseline.source == "buckets":  # known only at bucket bounds: a lower bound of the true distance
        return float(
            min(1.0, max(float(lt[0]), float(np.max(np.abs(le[1:] - base[1:]))) if base.size > 1 else 0.0))
        )
    before = np.concatenate(([0.0], base[:-1]))
    return float(min(1.0, max(float(np.max(np.abs(le - base))), float(np.max(np.abs(lt - before))))))


def categorical_distance(baseline: Dict[str, float], current: Dict[str, float]) -> float:
    """L-infinity distance between category frequencies (Deequ's categorical LInfinity)."""
    n = sum(baseline.values())
    m = sum(current.values())
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


# --------------------------------------------------------------------------------------------- check


class BaselineFeature:
    """One feature of the baseline: its constraints and (when present) its statistics."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.inferred_type = UNKNOWN
        self.completeness: Optional[float] = None
        self.is_non_negative: Optional[bool] = None
        self.domains: Optional[List[str]] = None
        self.overrides: Dict[str, Any] = {}
        self.statistics: Optional[Dict[str, Any]] = None
        self.cdf: Optional[Cdf] = None
        self.cdf_note = ""
        self.categories: Optional[Dict[str, float]] = None
        self.num_present = 0
        self.num_missing = 0


def _number(value: Any, what: str, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise BaselineFileError(
            f"{what} is not a number: {value!r}", file=path, fix="pass an unmodified baseline file"
        )
    return float(value)


def parse_baseline(
    statistics: Dict[str, Any], constraints: Dict[str, Any], statistics_path: str, constraints_path: str
) -> Tuple[List[BaselineFeature], Dict[str, Any]]:
    """The baseline features (constraints order) and the effective monitoring_config."""
    config = _merge_config(DEFAULT_MONITORING_CONFIG, constraints.get("monitoring_config") or {})
    _note_missing_config(constraints.get("monitoring_config") or {}, constraints_path)
    _validate_config(config, constraints_path, "monitoring_config")
    features: Dict[str, BaselineFeature] = {}
    order: List[str] = []
    for index, raw in enumerate(constraints.get("features", [])):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise BaselineFileError(
                f"constraints feature #{index} has no name",
                file=constraints_path,
                fix="pass an unmodified constraints.json",
            )
        feature = BaselineFeature(raw["name"])
        feature.inferred_type = str(raw.get("inferred_type", UNKNOWN))
        if "completeness" in raw:
            feature.completeness = _number(
                raw["completeness"], f"completeness of {feature.name}", constraints_path
            )
        num = raw.get("num_constraints") or {}
        if isinstance(num, dict) and "is_non_negative" in num:
            feature.is_non_negative = bool(num["is_non_negative"])
        strings = raw.get("string_constraints") or {}
        if isinstance(strings, dict) and isinstance(strings.get("domains"), list):
            feature.domains = [str(v) for v in strings["domains"]]
        overrides = raw.get("monitoringConfigOverrides") or {}
        feature.overrides = overrides if isinstance(overrides, dict) else {}
        features[feature.name] = feature
        order.append(feature.name)
    for index, raw in enumerate(statistics.get("features", [])):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise BaselineFileError(
                f"statistics feature #{index} has no name",
                file=statistics_path,
                fix="pass an unmodified statistics.json",
            )
        known = features.get(raw["name"])
        if known is None:
            if order and constraints.get("features"):
                continue  # the constraints decide which columns the baseline has
            known = BaselineFeature(raw["name"])
            known.inferred_type = str(raw.get("inferred_type", UNKNOWN))
            features[known.name] = known
            order.append(known.name)
        _attach_statistics(known, raw, statistics_path)
    return [features[name] for name in order], config


def _merge_config(base: Dict[str, Any], override: Dict[str, Any]) -> Dict[str, Any]:
    merged = json.loads(json.dumps(base))
    for key, value in override.items():
        if key == "distribution_constraints" and isinstance(value, dict):
            merged["distribution_constraints"].update(value)
        elif key in base["distribution_constraints"]:
            merged["distribution_constraints"][key] = value
        else:
            merged[key] = value
    return merged


def _note_missing_config(given: Dict[str, Any], path: str) -> None:
    missing = [k for k in DEFAULT_MONITORING_CONFIG if k != "distribution_constraints" and k not in given]
    dist = given.get("distribution_constraints") or {}
    missing += [k for k in DEFAULT_MONITORING_CONFIG["distribution_constraints"] if k not in dist]
    if missing:
        LOG.warning(
            "%s: monitoring_config lacks %s; using the Model Monitor container's defaults",
            path,
            ", ".join(missing),
        )


def _validate_config(config: Dict[str, Any], path: str, where: str) -> None:
    dist = config["distribution_constraints"]
    for key in ("datatype_check_threshold", "domain_content_threshold"):
        _number(config[key], f"{where}.{key}", path)
    for key in ("comparison_threshold", "categorical_comparison_threshold"):
        _number(dist[key], f"{where}.distribution_constraints.{key}", path)
    if dist["comparison_method"] not in COMPARISON_METHODS:
        raise BaselineFileError(
            f"{where}.distribution_constraints.comparison_method is {dist['comparison_method']!r}",
            file=path,
            fix="use Simple or Robust",
        )
    if dist["categorical_drift_method"] not in CATEGORICAL_DRIFT_METHODS:
        raise BaselineFileError(
            f"{where}.distribution_constraints.categorical_drift_method is "
            f"{dist['categorical_drift_method']!r}",
            file=path,
            fix="use LInfinity or ChiSquared",
        )


def _attach_statistics(feature: BaselineFeature, raw: Dict[str, Any], path: str) -> None:
    feature.statistics = raw
    numerical = raw.get("numerical_statistics")
    strings = raw.get("string_statistics")
    block = numerical if isinstance(numerical, dict) else strings if isinstance(strings, dict) else None
    if block is not None:
        common = block.get("common") or {}
        feature.num_present = int(
            _number(common.get("num_present", 0), f"num_present of {feature.name}", path)
        )
        feature.num_missing = int(
            _number(common.get("num_missing", 0), f"num_missing of {feature.name}", path)
        )
    if isinstance(numerical, dict):
        feature.cdf, feature.cdf_note = _baseline_cdf(feature.name, raw, numerical, path)
    if isinstance(strings, dict):
        buckets = (((strings.get("distribution") or {}).get("categorical") or {}).get("buckets")) or []
        categories: Dict[str, float] = {}
        for bucket in buckets:
            if isinstance(bucket, dict) and "value" in bucket:
                categories[str(bucket["value"])] = _number(
                    bucket.get("count", 0), f"category count of {feature.name}", path
                )
        feature.categories = categories


def _baseline_cdf(
    name: str, raw: Dict[str, Any], numerical: Dict[str, Any], path: str
) -> Tuple[Optional[Cdf], str]:
    """The CDF to compare against: our exact histogram, else the KLL sketch, else the 10 buckets."""
    histogram = raw.get("x_histogram")
    if isinstance(histogram, dict):
        try:
            counts = np.asarray(histogram["counts"], dtype=np.float64)
            lo = _number(histogram["lower_bound"], f"x_histogram.lower_bound of {name}", path)
            hi = _number(histogram["upper_bound"], f"x_histogram.upper_bound of {name}", path)
            if counts.ndim == 1 and counts.size and np.all(counts >= 0) and counts.sum() > 0 and hi >= lo:
                return Cdf.from_histogram(lo, hi, counts), ""
        except (KeyError, TypeError, ValueError):
            pass
        LOG.warning("%s: x_histogram of %s is malformed; using the KLL sketch", path, name)
    kll = ((numerical.get("distribution") or {}).get("kll")) or {}
    sketch = kll.get("sketch") if isinstance(kll, dict) else None
    note = ""
    if isinstance(sketch, dict):
        try:
            points, weights = _decode_kll(sketch.get("data"))
            return Cdf.from_points("kll_sketch", points, weights), ""
        except ValueError as exc:
            note = f"KLL sketch unusable ({exc})"
    else:
        note = "no KLL sketch"
    buckets = kll.get("buckets") if isinstance(kll, dict) else None
    try:
        cdf = _cdf_from_buckets(buckets)
    except ValueError as exc:
        LOG.warning("%s: %s of %s and buckets unusable (%s): no drift check for it", path, note, name, exc)
        return None, f"{note}; buckets unusable ({exc}): drift not checked"
    LOG.warning(
        "%s: %s for %s; falling back to its 10-bucket distribution (coarser drift distance)", path, note, name
    )
    return cdf, f"{note}; compared at the 10 bucket bounds"


def _decode_kll(data: Any) -> Tuple[np.ndarray, np.ndarray]:
    """Items and weights of a KLL compactor stack ([[level 0 items], [level 1 items], …]: weight 2**level)."""
    if not isinstance(data, list) or not data:
        raise ValueError("sketch data is not a list of levels")
    points: List[float] = []
    weights: List[float] = []
    for level, items in enumerate(data):
        if not isinstance(items, list):
            raise ValueError(f"sketch level {level} is not a list")
        for item in items:
            if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(float(item)):
                raise ValueError(f"sketch item {item!r} is not a finite number")
            points.append(float(item))
            weights.append(float(2**level))
    if not points:
        raise ValueError("sketch is empty")
    return np.asarray(points), np.asarray(weights)


def _cdf_from_buckets(buckets: Any) -> Cdf:
    if not isinstance(buckets, list) or not buckets:
        raise ValueError("no buckets")
    lowers, uppers, counts = [], [], []
    for bucket in buckets:
        if not isinstance(bucket, dict):
            raise ValueError("bucket is not an object")
        lowers.append(float(bucket["lower_bound"]))
        uppers.append(float(bucket["upper_bound"]))
        counts.append(float(bucket["count"]))
    total = sum(counts)
    if total <= 0:
        raise ValueError("buckets are empty")
    # Point 0 is the lower bound of the first bucket (F = 0 just below it); then F at each upper bound.
    cdf = Cdf("buckets", total)
    cdf.points = np.asarray([lowers[0], *uppers])
    cdf.cumulative = np.concatenate(([0.0], np.cumsum(counts) / total))
    return cdf


class CheckOutcome:
    """Everything a check produces (the dicts are the JSON files)."""

    def __init__(self) -> None:
        self.violations: List[Dict[str, str]] = []
        self.statistics: Dict[str, Any] = {}
        self.drift_metrics: Dict[str, Any] = {}
        self.summary: Dict[str, Any] = {}
        self.features: List[Dict[str, Any]] = []  # per-feature details for the report

    def add(self, feature: str, check_type: str, description: str) -> None:
        self.violations.append(
            {"feature_name": feature, "constraint_check_type": check_type, "description": description}
        )


def _pct(value: float, other: Optional[float] = None) -> str:
    """A percentage precise enough to differ from ``other`` when the numbers differ."""
    for digits in (1, 2, 3, 4, 6):
        text = f"{value * 100:.{digits}f}%"
        if other is None or other == value or text != f"{other * 100:.{digits}f}%":
            return text
    return f"{value * 100}%"


def check_table(
    table: Table,
    statistics: Dict[str, Any],
    constraints: Dict[str, Any],
    statistics_path: str = "statistics.json",
    constraints_path: str = "constraints.json",
) -> CheckOutcome:
    """Evaluate the current data against a baseline: violations, current statistics and drift metrics."""
    features, config = parse_baseline(statistics, constraints, statistics_path, constraints_path)
    outcome = CheckOutcome()
    current = {column.name: column for column in table.columns}
    baseline_names = [f.name for f in features]
    if baseline_names and not set(baseline_names) & set(current):
        raise InputDataError(
            "no column of the data matches the baseline (baseline: "
            + ", ".join(baseline_names[:6])
            + "; data: "
            + ", ".join(list(current)[:6])
            + ")",
            file=table.path,
            fix="read the data as the baseline was read: pass --header or --no-header consistently",
        )
    profiles = {name: profile_column(column, table.n_rows) for name, column in current.items()}
    evaluate = str(config.get("evaluate_constraints", "Enabled")) == "Enabled"
    metrics = []
    for feature in features:
        profile = profiles.get(feature.name)
        if profile is None:
            if evaluate:
                outcome.add(
                    feature.name,
                    MISSING_COLUMN_CHECK,
                    "Column is in the baseline but missing from the current dataset. "
                    f"Number of columns in current dataset: {len(current)}, "
                    f"Number of columns in baseline constraints: {len(features)}",
                )
            total = feature.num_present + feature.num_missing
            missing: Dict[str, Any] = {
                "name": feature.name,
                "status": "missing",
                "baseline_type": feature.inferred_type,
                "baseline_missing_rate": feature.num_missing / total if total else None,
            }
            if feature.cdf is not None:
                missing["baseline_hist"] = feature.cdf.plot_histogram()
            elif feature.categories:
                missing["baseline_categories"] = sorted(
                    feature.categories.items(), key=lambda kv: (-kv[1], kv[0])
                )[:20]
            outcome.features.append(missing)
            continue
        detail, metric = _check_feature(
            feature,
            profile,
            table,
            config,
            constraints_path=constraints_path,
            outcome=outcome if evaluate else None,
        )
        outcome.features.append(detail)
        if metric is not None:
            metrics.append(metric)
    known = set(baseline_names)
    for name in current:
        if name not in known:
            if evaluate:
                outcome.add(
                    name,
                    EXTRA_COLUMN_CHECK,
                    "Column is not in the baseline. "
                    f"Number of columns in current dataset: {len(current)}, "
                    f"Number of columns in baseline constraints: {len(features)}",
                )
            outcome.features.append(_extra_detail(profiles[name]))
    outcome.statistics = {
        "version": VERSION,
        "dataset": {"item_count": table.n_rows},
        "features": [profiles[name].statistics() for name in current],
    }
    emit = str(config.get("emit_metrics", "Enabled")) == "Enabled"
    outcome.drift_metrics = {"version": VERSION, "metrics": metrics if emit else []}
    by_type = {t: 0 for t in CHECK_TYPES}
    for violation in outcome.violations:
        by_type[violation["constraint_check_type"]] = by_type.get(violation["constraint_check_type"], 0) + 1
    baseline_items = (statistics.get("dataset") or {}).get("item_count")
    outcome.summary = {
        "violation_count": len(outcome.violations),
        "violations_by_type": by_type,
        "item_count": table.n_rows,
        "baseline_item_count": baseline_items if isinstance(baseline_items, (int, float)) else None,
        "features_checked": sum(1 for f in features if f.name in current),
        "drifted_features": sorted(
            {
                v["feature_name"]
                for v in outcome.violations
                if v["constraint_check_type"] == BASELINE_DRIFT_CHECK
            }
        ),
    }
    return outcome


def _feature_config(
    config: Dict[str, Any], feature: BaselineFeature, constraints_path: str
) -> Dict[str, Any]:
    if not feature.overrides:
        return config
    merged = _merge_config(config, feature.overrides)
    _validate_config(merged, constraints_path, f"monitoringConfigOverrides of {feature.name}")
    return merged


def _extra_detail(profile: FeatureProfile) -> Dict[str, Any]:
    detail: Dict[str, Any] = {
        "name": profile.name,
        "status": "extra",
        "current_type": profile.inferred_type,
        "current_missing_rate": 1.0 - profile.completeness,
    }
    if profile.numeric is not None and profile.numeric.num_present:
        reps, counts = profile.numeric.representatives(), profile.numeric.counts
        detail["current_hist"] = (reps, counts)
    elif profile.categories:
        detail["current_categories"] = list(
            zip(profile.categories[:20], profile.category_counts[:20].tolist())
        )
    return detail


def _check_feature(
    feature: BaselineFeature,
    profile: FeatureProfile,
    table: Table,
    config: Dict[str, Any],
    *,
    constraints_path: str,
    outcome: Optional[CheckOutcome],
) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """Checks of one feature present on both sides; appends violations to ``outcome`` when evaluating."""
    check = _FeatureCheck(
        feature, profile, table, _feature_config(config, feature, constraints_path), outcome
    )
    check.completeness()
    metric: Optional[Dict[str, Any]] = None
    if feature.inferred_type in NUMERIC_TYPES:
        metric = check.numeric()
    elif feature.inferred_type == STRING:
        metric = check.categorical()
    return check.detail, metric


class _FeatureCheck:
    """The checks of one feature: violations go to the outcome, facts for the report to ``detail``."""

    def __init__(
        self,
        feature: BaselineFeature,
        profile: FeatureProfile,
        table: Table,
        config: Dict[str, Any],
        outcome: Optional[CheckOutcome],
    ) -> None:
        self.feature = feature
        self.profile = profile
        self.table = table
        self.config = config
        self.dist: Dict[str, Any] = config["distribution_constraints"]
        self.outcome = outcome
        self.violations: List[str] = []
        total = feature.num_present + feature.num_missing
        self.detail: Dict[str, Any] = {
            "name": feature.name,
            "status": "checked",
            "baseline_type": feature.inferred_type,
            "current_type": profile.inferred_type,
            "baseline_missing_rate": feature.num_missing / total if total else None,
            "current_missing_rate": 1.0 - profile.completeness,
            "violations": self.violations,
        }

    def flag(self, check_type: str, description: str) -> None:
        self.violations.append(check_type)
        if self.outcome is not None:
            self.outcome.add(self.feature.name, check_type, description)

    def completeness(self) -> None:
        expected, observed = self.feature.completeness, self.profile.completeness
        if expected is not None and observed < expected - 1e-12:
            self.flag(
                COMPLETENESS_CHECK,
                "Data completeness requirement is not met. "
                f"Expected: {_pct(expected, observed)}. "
                f"Observed: Only {_pct(observed, expected)} of data is complete "
                f"({self.profile.num_missing} of {self.profile.n_rows} values missing).",
            )

    def numeric(self) -> Optional[Dict[str, Any]]:
        feature, profile = self.feature, self.profile
        numbers = profile.numbers
        if numbers is None and profile.num_present:  # text column now: parse what parses
            strings = table_column(self.table, feature.name).strings
            numbers = _string_numbers(strings, profile.non_numeric_values)
        if numbers is None:
            present = np.zeros(0)
        elif numbers is profile.numbers and profile.num_missing == 0 and profile.non_finite == 0:
            present = numbers  # nothing missing, nothing infinite: no copy
        else:
            present = numbers[~np.isnan(numbers)]
        self._data_type(present)
        if feature.is_non_negative and present.size:
            negatives = int(np.count_nonzero(present < 0))
            if negatives:
                self.flag(
                    DATA_TYPE_CHECK,
                    "Value range requirement is not met: the baseline has no negative values "
                    f"(is_non_negative), the current data has {negatives} (min {float(present.min()):g}).",
                )
        if profile.numeric is not None and profile.numbers is numbers and present.size:
            summary: Optional[NumericSummary] = profile.numeric
        else:
            summary = summarize_numbers(present, feature.inferred_type == INTEGRAL) if present.size else None
        if summary is not None:
            self.detail["current_hist"] = (summary.representatives(), summary.counts)
        cdf = feature.cdf
        if cdf is not None:
            self.detail["baseline_hist"] = cdf.plot_histogram()
            self.detail["baseline_cdf"] = cdf.source
        if feature.cdf_note:
            self.detail["note"] = feature.cdf_note
        if cdf is None or summary is None:
            return None
        raw = numeric_distance(cdf, present, summary.min, summary.max)
        method = str(self.dist["comparison_method"])
        return self._drift(
            raw=raw,
            value=robust_distance(raw, cdf.n, present.size) if method == "Robust" else raw,
            threshold=float(self.dist["comparison_threshold"]),
            method=method,
            sizes=(cdf.n, present.size),
            source=cdf.source,
        )

    def _data_type(self, present: np.ndarray) -> None:
        feature, profile = self.feature, self.profile
        total = profile.num_present
        if not total:
            return
        if profile.numbers is not None:  # read as numbers; infinities do not count
            if feature.inferred_type == INTEGRAL and profile.inferred_type != INTEGRAL:
                matching = int(np.count_nonzero(present == np.floor(present)))
            else:
                matching = total - profile.non_finite
        elif feature.inferred_type == INTEGRAL:
            matching = int(np.count_nonzero(present == np.floor(present)))
        else:
            matching = profile.n_integral + profile.n_fractional
        fraction = matching / total
        threshold = float(self.config["datatype_check_threshold"])
        if fraction >= threshold - 1e-12:
            return
        profile.locate_first_bad()
        example = ""
        if profile.first_bad_value is not None and profile.first_bad_index is not None:
            row = self.table.row_number(profile.first_bad_index)
            example = f" First non-matching value {profile.first_bad_value!r} at row {row}."
        self.flag(
            DATA_TYPE_CHECK,
            "Data type match requirement is not met. "
            f"Expected data type: {feature.inferred_type}, Expected match: {_pct(threshold, fraction)}. "
            f"Observed: Only {_pct(fraction, threshold)} of data is {feature.inferred_type}.{example}",
        )

    def categorical(self) -> Optional[Dict[str, Any]]:
        feature, profile = self.feature, self.profile
        if profile.numbers is not None:  # the reader saw only numbers; compare them as text
            labels, counts = _numbers_as_strings(profile.numbers, profile.inferred_type == INTEGRAL)
        else:
            labels, counts = profile.categories, profile.category_counts
        current = {label: float(count) for label, count in zip(labels, counts)}
        present = float(sum(current.values()))
        if feature.domains is not None and present > 0:
            self._domain(labels, counts, present)
        baseline = feature.categories
        self.detail["current_categories"] = list(zip(labels[:20], [int(c) for c in counts[:20]]))
        if baseline:
            self.detail["baseline_categories"] = sorted(baseline.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        if not baseline or present <= 0:
            return None
        sizes = (float(sum(baseline.values())), present)
        threshold = float(self.dist["categorical_comparison_threshold"])
        if str(self.dist["categorical_drift_method"]) == "ChiSquared":
            _statistic, p_value, _dof = chi_squared_test(baseline, current)
            if math.isnan(p_value):
                p_value = 1.0
                self.detail["note"] = (
                    "chi-squared test not applicable (fewer than two categories after merging)"
                )
            raw = 1.0 - p_value
            return self._drift(
                raw=raw,
                value=raw,
                threshold=1.0 - threshold,
                method="ChiSquared",
                sizes=sizes,
                source="categorical",
            )
        raw = categorical_distance(baseline, current)
        method = str(self.dist["comparison_method"])
        return self._drift(
            raw=raw,
            value=robust_distance(raw, sizes[0], sizes[1]) if method == "Robust" else raw,
            threshold=threshold,
            method=method,
            sizes=sizes,
            source="categorical",
        )

    def _domain(self, labels: List[str], counts: np.ndarray, present: float) -> None:
        domain = set(self.feature.domains or [])
        unknown = [(label, int(count)) for label, count in zip(labels, counts) if label not in domain]
        fraction = (present - sum(c for _, c in unknown)) / present
        threshold = float(self.config["domain_content_threshold"])
        if fraction < threshold - 1e-12:
            examples = ", ".join(f"{label!r} ({count})" for label, count in unknown[:5])
            self.flag(
                CATEGORICAL_VALUES_CHECK,
                "Data does not meet domain requirement. "
                f"Expected match: {_pct(threshold, fraction)}. "
                f"Observed: Only {_pct(fraction, threshold)} of data is within the baseline domain. "
                f"Values not in the domain: {examples}.",
            )

    def _drift(
        self,
        *,
        raw: float,
        value: float,
        threshold: float,
        method: str,
        sizes: Tuple[float, float],
        source: str,
    ) -> Dict[str, Any]:
        """Record the drift metric; flag when comparison is enabled and value > threshold."""
        violation = str(self.dist.get("perform_comparison", "Enabled")) == "Enabled" and value > threshold
        self.detail.update({"distance": raw, "value": value, "threshold": threshold, "method": method})
        n, m = int(sizes[0]), int(sizes[1])
        if violation and method == "ChiSquared":
            self.flag(
                BASELINE_DRIFT_CHECK,
                f"Baseline drift distance: {value:.4g} exceeds threshold: {threshold:.4g} "
                f"(ChiSquared: p-value {1.0 - value:.3g} below {1.0 - threshold:.3g}; "
                f"baseline n={n}, current n={m}).",
            )
        elif violation:
            self.flag(
                BASELINE_DRIFT_CHECK,
                f"Baseline drift distance: {value:.4g} exceeds threshold: {threshold:.4g} "
                f"({method}; L-infinity distance {raw:.4g}, baseline n={n}, current n={m}).",
            )
        return {
            "name": f"feature_baseline_drift_{self.feature.name}",
            "feature_name": self.feature.name,
            "value": value,
            "threshold": threshold,
            "method": method,
            "raw_distance": raw,
            "violation": bool(violation),
            "baseline_cdf": source,
        }


def table_column(table: Table, name: str) -> Column:
    for column in table.columns:
        if column.name == name:
            return column
    raise KeyError(name)


# -------------------------------------------------------------------------------------------- outputs


class AtomicOutputs:
    """Files written under a temporary directory inside ``out_dir``, renamed into place by ``commit``.

    On error nothing new appears and files already in ``out_dir`` are left as they were.
    """

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.created_dir = False
        try:
            if not os.path.isdir(out_dir):
                os.makedirs(out_dir)
                self.created_dir = True
            self.tmp = tempfile.mkdtemp(prefix=".dq-tmp-", dir=out_dir)
        except OSError as exc:
            raise OutputError(
                f"output directory cannot be written: {exc.strerror}",
                file=out_dir,
                fix="pass a writable --output",
            ) from exc
        self.names: List[str] = []

    def path(self, name: str) -> str:
        self.names.append(name)
        return os.path.join(self.tmp, name)

    def write_json(self, name: str, data: Any, compact: bool = False) -> None:
        text = (
            json.dumps(data, allow_nan=False, separators=(",", ":"))
            if compact
            else json.dumps(data, indent=2, allow_nan=False)
        )
        with open(self.path(name), "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.write("\n")

    def commit(self) -> List[str]:
        written = []
        for name in self.names:
            target = os.path.join(self.out_dir, name)
            os.replace(os.path.join(self.tmp, name), target)
            written.append(target)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return written

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.created_dir:
            with contextlib.suppress(OSError):  # not empty after all: leave it
                os.rmdir(self.out_dir)

    def __enter__(self) -> AtomicOutputs:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.abort()


def _write_report(outputs: AtomicOutputs, kind: str, payload: Dict[str, Any]) -> None:
    path = outputs.path(REPORT_FILE)
    if dq_report is None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(
                "<!doctype html><meta charset='utf-8'><title>data quality</title>"
                "<p>The report module (dq_report.py) was not shipped with this script; "
                "see the JSON files.</p>\n"
            )
        return
    if kind == "baseline":
        dq_report.write_baseline_report(payload, path)
    else:
        dq_report.write_check_report(payload, path)


class RunResult:
    """What a command did, for the one-line summary on stdout."""

    def __init__(self, kind: str, files: List[str], message: str, violations: int = 0) -> None:
        self.kind = kind
        self.files = files
        self.message = message
        self.violations = violations


def run_baseline(
    input_path: str,
    output_dir: str,
    *,
    header: bool = False,
    config: Optional[Dict[str, Any]] = None,
    report: bool = True,
    engine: str = "auto",
) -> RunResult:
    """Baseline a dataset: statistics.json, constraints.json (and report.html) in ``output_dir``."""
    csv_path = resolve_input_csv(input_path)
    table = read_csv(csv_path, header, engine)
    statistics, constraints, profiles = build_baseline(table, config)
    with AtomicOutputs(output_dir) as outputs:
        outputs.write_json(STATISTICS_FILE, statistics, compact=True)
        outputs.write_json(CONSTRAINTS_FILE, constraints)
        if report:
            _write_report(outputs, "baseline", _baseline_payload(table, statistics, constraints, profiles))
        files = outputs.commit()
    message = f"baseline of {table.n_rows} rows, {len(profiles)} features ({csv_path}) -> {output_dir}"
    return RunResult("baseline", files, message)


def _baseline_payload(
    table: Table, statistics: Dict[str, Any], constraints: Dict[str, Any], profiles: List[FeatureProfile]
) -> Dict[str, Any]:
    features = []
    for profile, constraint in zip(profiles, constraints["features"]):
        item: Dict[str, Any] = {
            "name": profile.name,
            "type": profile.inferred_type,
            "present": profile.num_present,
            "missing": profile.num_missing,
            "constraint": constraint,
        }
        if profile.numeric is not None and profile.numeric.num_present:
            s = profile.numeric
            item.update(
                {
                    "mean": s.mean,
                    "std": s.std,
                    "min": s.min,
                    "max": s.max,
                    "hist": (s.representatives(), s.counts),
                }
            )
        else:
            item["distinct"] = len(profile.categories)
            item["categories"] = list(zip(profile.categories[:20], profile.category_counts[:20].tolist()))
        features.append(item)
    return {
        "input": table.path,
        "item_count": table.n_rows,
        "features": features,
        "monitoring_config": constraints["monitoring_config"],
    }


def run_check(
    input_path: str,
    statistics_path: str,
    constraints_path: str,
    output_dir: str,
    *,
    header: bool = False,
    report: bool = True,
    engine: str = "auto",
) -> RunResult:
    """Check a dataset against a baseline; writes the five outputs to ``output_dir``."""
    stats_file = resolve_baseline_file(statistics_path, STATISTICS_FILE)
    constraints_file = resolve_baseline_file(constraints_path, CONSTRAINTS_FILE)
    statistics = load_json_file(stats_file, "baseline statistics")
    constraints = load_json_file(constraints_file, "baseline constraints")
    csv_path = resolve_input_csv(input_path)
    table = read_csv(csv_path, header, engine)
    outcome = check_table(table, statistics, constraints, stats_file, constraints_file)
    with AtomicOutputs(output_dir) as outputs:
        outputs.write_json(VIOLATIONS_FILE, {"violations": outcome.violations})
        outputs.write_json(STATISTICS_FILE, outcome.statistics, compact=True)
        outputs.write_json(DRIFT_METRICS_FILE, outcome.drift_metrics)
        outputs.write_json(SUMMARY_FILE, outcome.summary)
        if report:
            _write_report(
                outputs,
                "check",
                {
                    "input": csv_path,
                    "baseline_statistics": stats_file,
                    "baseline_constraints": constraints_file,
                    "summary": outcome.summary,
                    "violations": outcome.violations,
                    "features": outcome.features,
                },
            )
        files = outputs.commit()
    by_type = ", ".join(f"{k}: {v}" for k, v in outcome.summary["violations_by_type"].items() if v)
    message = f"check of {table.n_rows} rows: {len(outcome.violations)} violations" + (
        f" ({by_type})" if by_type else ""
    )
    return RunResult("check", files, message + f" -> {output_dir}", len(outcome.violations))


# ----------------------------------------------------------------------------------------------- CLI


def _fraction(text: str) -> float:
    value = _non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction between 0 and 1")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a non-negative number")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="data_quality.py",
        description="Data-quality baseline and check in SageMaker Model Monitor's formats.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{baseline,check}")
    commands.required = True

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--input", default="/opt/ml/processing/input", help="CSV file, or a directory holding one"
        )
        sub.add_argument("--output", default="/opt/ml/processing/output", help="directory for the outputs")
        group = sub.add_mutually_exclusive_group()
        group.add_argument(
            "--header", dest="header", action="store_true", help="the first row names the columns"
        )
        group.add_argument(
            "--no-header",
            dest="header",
            action="store_false",
            help="no header row: columns _c0.._cN (default)",
        )
        sub.set_defaults(header=False)
        sub.add_argument("--no-report", dest="report", action="store_false", help="skip report.html")
        sub.add_argument(
            "--csv-engine", choices=("auto", "arrow", "pandas"), default="auto", help=argparse.SUPPRESS
        )

    baseline = commands.add_parser(
        "baseline", help="write statistics.json and constraints.json for a dataset"
    )
    common(baseline)
    baseline.add_argument(
        "--comparison-threshold",
        type=_non_negative,
        default=0.1,
        help="numeric drift threshold (default 0.1)",
    )
    baseline.add_argument("--comparison-method", choices=COMPARISON_METHODS, default="Robust")
    baseline.add_argument("--categorical-comparison-threshold", type=_non_negative, default=0.1)
    baseline.add_argument(
        "--categorical-drift-method", choices=CATEGORICAL_DRIFT_METHODS, default="LInfinity"
    )
    baseline.add_argument(
        "--datatype-check-threshold", type=_fraction, default=1.0, help="required type match (default 1.0)"
    )
    baseline.add_argument(
        "--domain-content-threshold", type=_fraction, default=1.0, help="required domain match (default 1.0)"
    )

    check = commands.add_parser("check", help="check a dataset against a baseline")
    common(check)
    check.add_argument(
        "--baseline-statistics", default="/opt/ml/processing/baseline/statistics", help="file or directory"
    )
    check.add_argument(
        "--baseline-constraints", default="/opt/ml/processing/baseline/constraints", help="file or directory"
    )
    check.add_argument(
        "--fail-on-violations", action="store_true", help="exit 3 when there are violations (default: exit 0)"
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)
    try:
        if args.command == "baseline":
            config = monitoring_config(
                comparison_threshold=args.comparison_threshold,
                comparison_method=args.comparison_method,
                categorical_comparison_threshold=args.categorical_comparison_threshold,
                categorical_drift_method=args.categorical_drift_method,
                datatype_check_threshold=args.datatype_check_threshold,
                domain_content_threshold=args.domain_content_threshold,
            )
            result = run_baseline(
                args.input,
                args.output,
                header=args.header,
                config=config,
                report=args.report,
                engine=args.csv_engine,
            )
        else:
            result = run_check(
                args.input,
                args.baseline_statistics,
                args.baseline_constraints,
                args.output,
                header=args.header,
                report=args.report,
                engine=args.csv_engine,
            )
    except DataQualityError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    print(result.message)
    if result.kind == "check" and args.fail_on_violations and result.violations:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
