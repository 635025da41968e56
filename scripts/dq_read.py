"""Reading the data-quality input: the input CSV located, read into columns, and its string columns.

A column arrives as float64 numbers (NaN = missing) or as the reader's own strings: a pyarrow array when
pyarrow is installed (fast, and without importing pandas), else a pandas Series. The string helpers at
the end answer the profile's and the check's questions about either kind.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from dq_errors import InputDataError, InputNotFoundError
from step_io import NULL_TOKENS

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

# Tokens read as "missing" by both CSV engines (they must agree): step_io.NULL_TOKENS, the narrow end of
# the one token list ("n/a", "#N/A", "<NA>", "-nan", "1.#IND" … are present values here).
NULL_VALUES = list(NULL_TOKENS)

_ARROW_CONVERSION = re.compile(r"column #(\d+).*CSV conversion error to (\w+): invalid value '(.*)'", re.S)
_PANDAS_TOO_MANY = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


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

    def __init__(self, path: str, header: bool, columns: List[Column], n_rows: int, offset: int = 0) -> None:
        self.path = path
        self.header = header
        self.columns = columns
        self.n_rows = n_rows
        self.offset = offset  # data rows of the file before this table (a chunk of a stream)

    def row_number(self, index: int) -> int:
        """1-based file line of data row ``index`` (0-based)."""
        return self.offset + index + 1 + (1 if self.header else 0)

    def column_names(self) -> List[str]:
        return [c.name for c in self.columns]


def read_csv(path: str, header: bool, engine: str = "auto") -> Table:
    """Read a CSV (engine ``auto``: pyarrow when installed, else pandas)."""
    if engine not in ("auto", "arrow", "pandas"):
        raise ValueError(f"unknown CSV engine {engine!r}")
    if is_blank(path):
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


def is_blank(path: str) -> bool:
    """Whether the file is empty or holds only blank lines (InputNotFoundError when it cannot be read)."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise InputNotFoundError(
            f"input cannot be read: {exc.strerror}", file=path, fix="check the path"
        ) from exc
    return size == 0 or _blank(path)


def open_binary(path: str) -> Any:
    """The file's bytes (decompressed when it is ``.gz``)."""
    return gzip.open(path, "rb") if path.lower().endswith(".gz") else open(path, "rb")


def _blank(path: str, block_size: int = 1 << 20) -> bool:
    """Whether the file holds nothing but whitespace (blank lines)."""
    with open_binary(path) as fh:
        while True:
            block = fh.read(block_size)
            if not block:
                return True
            if block.strip():
                return False


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
        retyped = _text_typed(arrow_table, header, path, column_types)
        if retyped:  # timestamps, dates, booleans: text stays text (as the pandas reader keeps it)
            column_types.update(retyped)
            continue
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


def _text_typed(arrow_table: Any, header: bool, path: str, known: Dict[str, Any]) -> Dict[str, Any]:
    """Columns Arrow typed as neither numbers nor text, to be read again as text."""
    names = list(arrow_table.column_names) if header else _arrow_header_names(path, header)
    found = {}
    for name, column in zip(names, arrow_table.columns):  # noqa: B905 (Python 3.8)
        kind = column.type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)
        text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        if not (numeric or text) and name not in known:
            found[name] = pa.string()
    return found


def _release_arrow_memory() -> None:
    release = getattr(pa.default_memory_pool(), "release_unused", None)  # pyarrow >= 9
    if release is not None:
        release()


def _open_text(path: str) -> Any:
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rt", newline="", encoding="utf-8", errors="replace")
    return open(path, newline="", encoding="utf-8", errors="replace")


def _arrow_header_names(path: str, header: bool) -> List[str]:
    with _open_text(path) as fh:
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
    with open_binary(path) as fh:
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


def _pandas_options(header: bool) -> Tuple[Dict[str, Any], bool]:
    """pandas.read_csv's keyword arguments for both readers, and whether pandas is older than 2."""
    import pandas as pd

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
    kwargs["on_bad_lines"] = "error"
    return kwargs, major < 2


def _pandas_failure(exc: Exception, path: str) -> InputDataError:
    import pandas as pd

    if isinstance(exc, pd.errors.EmptyDataError):
        return InputDataError("the input file is empty", file=path, fix="pass a CSV with data rows")
    match = _PANDAS_TOO_MANY.search(str(exc))
    if match:
        return _ragged_error(path, int(match.group(3)), int(match.group(1)), int(match.group(2)))
    return InputDataError(
        f"the CSV cannot be parsed: {str(exc).splitlines()[0]}",
        file=path,
        fix="make it a comma-separated file with one header row (or none, with --no-header)",
    )


def _read_with_pandas(path: str, header: bool) -> Table:
    import pandas as pd  # only the fallback engine needs it

    kwargs, legacy = _pandas_options(header)
    try:
        frame = pd.read_csv(path, **kwargs)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise _pandas_failure(exc, path) from exc
    booleans = [name for name in frame.columns if pd.api.types.is_bool_dtype(frame[name].dtype)]
    if booleans:  # pandas rewrites True/TRUE as booleans: read those columns again as text
        frame = pd.read_csv(path, dtype={name: "string" for name in booleans}, **kwargs)
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
        columns.append(_pandas_column(name, frame.iloc[:, position], legacy=legacy))
    return Table(path, header, columns, int(frame.shape[0]))


def _raw_header(path: str) -> List[str]:
    """The header as written (pandas renames duplicates to ``a.1``, which would hide them)."""
    with _open_text(path) as fh:
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
    with open_binary(path) as fh:
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


def is_arrow(strings: Any) -> bool:
    return pa is not None and isinstance(strings, (pa.ChunkedArray, pa.Array))


def string_missing(strings: Any) -> int:
    if is_arrow(strings):
        return int(strings.null_count)
    return int(strings.isna().sum())


def string_value_counts(strings: Any) -> Tuple[List[str], np.ndarray]:
    """Distinct present values and their counts, most frequent first (ties by value)."""
    if is_arrow(strings):
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


def string_first_index(strings: Any, members: Sequence[str]) -> Optional[int]:
    """Index of the first value that is one of ``members``."""
    if not members:
        return None
    if is_arrow(strings):
        mask = pc.is_in(strings, value_set=pa.array(list(members), type=pa.string()))
        index = pc.index(mask, True).as_py()
        return None if index is None or index < 0 else int(index)
    hits = np.flatnonzero(strings.isin(list(members)).to_numpy())
    return int(hits[0]) if hits.size else None


NUMBER_RE2 = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"  # dq_profile's number tokens


def string_first_non_number(strings: Any, non_numeric: Sequence[str]) -> Optional[int]:
    """Index of the first present value that is not a number (``non_numeric``: those values)."""
    if is_arrow(strings):  # a regex over the strings (building a value set would import pandas)
        other = pc.invert(pc.match_substring_regex(strings, NUMBER_RE2))  # null where missing
        position = 0
        for chunk in other.chunks if isinstance(other, pa.ChunkedArray) else [other]:
            hits = pc.indices_nonzero(chunk)  # (pc.index would import pandas)
            if len(hits):
                return position + int(hits[0].as_py())
            position += len(chunk)
        return None
    return string_first_index(strings, non_numeric)


def string_numbers(strings: Any, non_numeric: Sequence[str]) -> np.ndarray:
    """The column as float64, NaN where missing or not a number."""
    if is_arrow(strings):
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


def numbers_as_strings(numbers: np.ndarray, integral: bool) -> Tuple[List[str], np.ndarray]:
    """Value counts of a numeric column read as text (a String baseline feature read as numbers now)."""
    present = numbers[~np.isnan(numbers)]
    values, counts = np.unique(present, return_counts=True)
    labels = [str(int(v)) if integral or float(v).is_integer() else repr(float(v)) for v in values]
    order = sorted(range(len(labels)), key=lambda i: (-int(counts[i]), labels[i]))
    ordered = counts[order] if order else counts
    return [labels[i] for i in order], ordered.astype(np.int64)


def string_at(strings: Any, index: int) -> Optional[str]:
    value = strings[index].as_py() if is_arrow(strings) else strings.iloc[index]
    return None if value is None else str(value)
