"""The data-quality input as a stream of chunks: a CSV file, or a directory of CSV parts (``.csv.gz``
too), read block by block into a mergeable :class:`dq_state.DatasetState`.

Every part follows the same header rule (``--header``: each part starts with the same header row) and
has the same columns; a part that differs is an error naming it. Empty parts are skipped. Memory holds
one block of rows at a time (``block_bytes`` of CSV), whatever the number of rows.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Dict, Iterator, List, Set

import numpy as np
from dq_errors import InputDataError, InputNotFoundError
from dq_numtext import arrow_numbers
from dq_read import (
    _ARROW_CONVERSION,
    NULL_VALUES,
    Column,
    Table,
    _arrow_column,
    _arrow_header_names,
    _check_names,
    _find_short_row,
    _headerless_names,
    _locate_line,
    _pandas_column,
    _pandas_failure,
    _pandas_options,
    _ragged_error,
    _raw_header,
    _release_arrow_memory,
    is_blank,
    open_binary,
    pa,
    pacsv,
)
from dq_state import NO_NEEDS, DatasetState, Needs, RetypeError

BLOCK_BYTES = 16 << 20  # CSV bytes per chunk
DATA_SUFFIXES = (".csv", ".csv.gz")


def input_files(path: str) -> List[str]:
    """The data files of ``path``: the file itself, or every CSV part under the directory (sorted)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise InputNotFoundError(
            "input does not exist", file=path, fix="pass --input a CSV file or a directory of CSV parts"
        )
    found = []
    for folder, directories, names in os.walk(path):
        directories[:] = sorted(d for d in directories if not d.startswith("."))
        found += [os.path.join(folder, n) for n in sorted(names) if not n.startswith(".")]
    data = [f for f in found if f.lower().endswith(DATA_SUFFIXES)]
    if data:
        return data
    if len(found) == 1:  # one object of any name (how a single-file input may arrive)
        return found
    listed = ", ".join(os.path.relpath(f, path) for f in found[:5]) + (" …" if len(found) > 5 else "")
    raise InputNotFoundError(
        f"no CSV part in the input directory (found {listed or 'nothing'})",
        file=path,
        fix="put the data set's CSV files (.csv or .csv.gz) in the input",
    )


def is_empty_share(path: str) -> bool:
    """A shard's input with no file at all (SageMaker gives an instance no object when a sharded input
    has fewer objects than instances)."""
    if os.path.isfile(path):
        return False
    return not any(not name.startswith(".") for _, _, names in os.walk(path) for name in names)


def read_state(
    path: str,
    header: bool,
    engine: str = "auto",
    needs: Needs = NO_NEEDS,
    block_bytes: int = BLOCK_BYTES,
    *,
    shard: bool = False,
) -> DatasetState:
    """Stream every part of the input into one state (columns that turn out mixed are read again).

    ``shard``: the input is one instance's share of a sharded input, which may be empty (an empty or
    missing folder, blank parts, only headers): then the state has no rows, and ``merge`` decides."""
    if engine not in ("auto", "arrow", "pandas"):
        raise ValueError(f"unknown CSV engine {engine!r}")
    use_arrow = engine == "arrow" or (engine == "auto" and pacsv is not None)
    if shard and is_empty_share(path):
        return DatasetState(path, header, needs)
    files = input_files(path)
    label = files[0] if len(files) == 1 else path
    forced: Set[str] = set()
    nonblank = 0
    while True:
        state = DatasetState(label, header, needs)
        try:
            nonblank = _stream(
                files, header, use_arrow, block_bytes, forced=forced, state=state, raw_text=shard
            )
        except RetypeError as exc:
            if exc.names <= forced:  # pragma: no cover - text columns are text in every chunk
                raise
            forced |= exc.names
            continue
        break
    if shard:
        return state
    if not nonblank:
        raise InputDataError("the input file is empty", file=label, fix="pass a CSV with data rows")
    if state.n_rows == 0:
        raise InputDataError(
            "the input file has no data rows" + (" (only a header)" if header else ""),
            file=label,
            fix="pass a CSV with at least one data row",
        )
    return state


def _stream(
    files: List[str],
    header: bool,
    use_arrow: bool,
    block_bytes: int,
    *,
    forced: Set[str],
    state: DatasetState,
    raw_text: bool = False,
) -> int:
    """Add every part to ``state``; returns how many parts were not blank. ``raw_text``: keep the text
    of numeric columns too (a shard's), so that a merge can type them as text."""
    reference, nonblank = "", 0
    for path in files:
        if is_blank(path):
            continue
        nonblank += 1
        if use_arrow:
            chunks = _arrow_tables(path, header, block_bytes, forced, raw_text=raw_text)
        else:
            chunks = _pandas_tables(path, header, block_bytes, forced, raw_text=raw_text)
        first = True
        for table in chunks:
            if first:
                _check_part(table, state, reference)
                reference, first = reference or path, False
            state.add_table(table)
            del table
    return nonblank


def _check_part(table: Table, state: DatasetState, reference: str) -> None:
    if not table.columns:
        raise InputDataError(
            "the input file has no columns", file=table.path, fix="pass a CSV with data rows"
        )
    _check_names(table)
    if not state.columns:
        return
    names = table.column_names()
    if len(names) != len(state.columns):
        raise InputDataError(
            f"this part has {len(names)} columns where {os.path.basename(reference)} "
            f"has {len(state.columns)}",
            file=table.path,
            fix="give every part of the data set the same columns",
        )
    if names != state.names():
        raise InputDataError(
            f"this part's header ({', '.join(names[:6])}) differs from that of {os.path.basename(reference)} "
            f"({', '.join(state.names()[:6])})",
            file=table.path,
            row=1,
            fix="give every part the same header row (or pass --no-header for headerless parts)",
        )


# -------------------------------------------------------------------------------------------- pyarrow


def _arrow_tables(
    path: str, header: bool, block_bytes: int, forced: Set[str], *, raw_text: bool = False
) -> Iterator[Table]:
    """The part's chunks; ``raw_text``: every column read as text, and typed here as Arrow's CSV reader
    types it (int64, else float64, else text), numbers keeping their text."""
    arrow_names = _arrow_header_names(path, header)
    ours = arrow_names if header else _headerless_names(len(arrow_names))
    as_text = set(ours) if raw_text else forced
    invalid: List[Any] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row)
        return "skip"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(autogenerate_column_names=not header, block_size=block_bytes),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                null_values=NULL_VALUES,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                column_types={a: pa.string() for a, o in zip(arrow_names, ours) if o in as_text},  # noqa: B905
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _arrow_failure(exc, path, ours) from exc
    names = list(reader.schema.names) if header else _headerless_names(len(reader.schema.names))
    retype = [n for n, field in zip(names, reader.schema) if not _plain(field.type)]  # noqa: B905
    if retype:  # booleans, timestamps …: text stays text (as the pandas reader keeps it)
        raise RetypeError(retype)
    offset = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            raise _arrow_failure(exc, path, names) from exc
        if invalid:
            bad = invalid[0]
            raise _ragged_error(path, bad.actual_columns, bad.expected_columns, _locate_line(path, bad.text))
        if batch.num_rows == 0:
            continue
        read = _arrow_text_column if raw_text else _arrow_forced
        columns = [read(n, pa.chunked_array([batch.column(i)]), n in forced) for i, n in enumerate(names)]
        rows = batch.num_rows
        del batch
        _release_arrow_memory()
        yield Table(path, header, columns, rows, offset)
        offset += rows


def _arrow_forced(name: str, chunked: Any, _forced: bool) -> Column:
    return _arrow_column(name, chunked)


def _arrow_text_column(name: str, chunked: Any, forced: bool) -> Column:
    """A column read as text: numbers (with their text) when Arrow's CSV reader would have typed the
    chunk as numbers; else text."""
    numbers = None if forced else arrow_numbers(chunked)
    if numbers is not None:
        column = _arrow_column(name, numbers)
        column.strings = chunked
        return column
    if chunked.null_count == len(chunked):
        return Column(name, np.full(len(chunked), np.nan), False, None)
    return Column(name, None, False, chunked)


def _plain(kind: Any) -> bool:
    types = pa.types
    return bool(
        types.is_integer(kind)
        or types.is_floating(kind)
        or types.is_null(kind)
        or types.is_string(kind)
        or types.is_large_string(kind)
    )


def _arrow_failure(exc: Exception, path: str, names: List[str]) -> Exception:
    message = str(exc)
    match = _ARROW_CONVERSION.search(message)
    if match and int(match.group(1)) < len(names):  # a later block does not fit the first block's type
        return RetypeError([names[int(match.group(1))]])
    if "Empty CSV file" in message:
        return InputDataError("the input file is empty", file=path, fix="pass a CSV with data rows")
    return InputDataError(
        f"the CSV cannot be parsed: {message.splitlines()[0]}",
        file=path,
        fix="make it a comma-separated file with one header row (or none, with --no-header)",
    )


# --------------------------------------------------------------------------------------------- pandas


def _pandas_tables(
    path: str, header: bool, block_bytes: int, forced: Set[str], *, raw_text: bool = False
) -> Iterator[Table]:
    """The part's chunks; ``raw_text``: numeric columns keep their text too (a second reader of the same
    rows, every column as text)."""
    import pandas as pd

    kwargs, legacy = _pandas_options(header)
    raw = _raw_header(path) if header else []
    dtype: Dict[Any, Any] = {}
    for name in forced:
        if header:
            dtype[name] = object
        elif name.startswith("_c") and name[2:].isdigit():
            dtype[int(name[2:])] = object
    offset, width = 0, 0
    rows_per_chunk = _rows_per_chunk(path, block_bytes)
    try:
        with contextlib.ExitStack() as stack:  # (no parenthesised with-items on Python 3.8)
            reader = stack.enter_context(
                pd.read_csv(path, chunksize=rows_per_chunk, dtype=dtype or None, **kwargs)
            )
            texts: Iterator[Any] = iter(())
            if raw_text:
                texts = stack.enter_context(
                    pd.read_csv(path, chunksize=rows_per_chunk, dtype=object, **kwargs)
                )
            for frame in reader:
                text = next(texts) if raw_text else None
                width = frame.shape[1]
                names = (raw if len(raw) == width else [str(n) for n in frame.columns]) if header else []
                names = names or _headerless_names(width)
                booleans = [
                    names[i] for i in range(width) if pd.api.types.is_bool_dtype(frame.iloc[:, i].dtype)
                ]
                if booleans:  # pandas rewrites True/TRUE as booleans: read those columns again as text
                    raise RetypeError(booleans)
                if frame.shape[0] == 0:
                    continue
                columns: List[Column] = [
                    _pandas_column(name, frame.iloc[:, pos], legacy=legacy) for pos, name in enumerate(names)
                ]
                if text is not None:
                    _keep_text(columns, text)
                rows = int(frame.shape[0])
                del frame
                yield Table(path, header, columns, rows, offset)
                offset += rows
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise _pandas_failure(exc, path) from exc
    short = _find_short_row(path, width) if width else None
    if short is not None:
        raise _ragged_error(path, short[1], width, short[0])


def _keep_text(columns: List[Column], text: Any) -> None:
    """Give the numeric columns their text (the same rows read as text)."""
    for pos, column in enumerate(columns):
        if column.numbers is not None:
            raw = text.iloc[:, pos]
            column.strings = raw.where(raw.notna(), None)


def _rows_per_chunk(path: str, block_bytes: int) -> int:
    with open_binary(path) as fh:
        sample = fh.read(1 << 16)
    lines = max(sample.count(b"\n"), 1)
    return max(1, int(block_bytes // max(len(sample) / lines, 1.0)))
