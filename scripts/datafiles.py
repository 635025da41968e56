"""Validated CSV input/output shared by every step script: the ONE schema check of the data files.

The schema is the data set's (``dataset.py``: ``dataset.yaml`` as the steps receive it). The data files
are headerless:

- ``training-data.csv``: the features in schema order, then the target
- ``inference-data.csv``: the features
- ``ground-truth.csv``: the target only

The readers reject, with the file, row and column named: a header row, a row with the wrong number of
columns, a non-numeric or non-finite value in a numeric column, a missing target, a label that is not one
of the schema's classes, and an empty file. Missing feature values are allowed (they become NaN, which
XGBoost treats as missing, and the data-quality check reports completeness). Unknown categories are
allowed too: at inference they are drift, not errors. The upload pre-check (``mlops data upload``) runs
these same readers, so a file it accepts never fails a step's reading.

Rows are numbered as lines of the file, starting at 1. Blank lines carry no data and are skipped.

Runs on the SageMaker framework containers (Python 3.8, pandas >= 1.1, numpy >= 1.17): keep it that way.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd
from dataset import Dataset, label_key

# The error type, the exit codes and the staged writing live in step_io, shared with the data-quality
# scripts (which must not import pandas); the step scripts keep taking them from here.
from step_io import (  # noqa: F401  (EXIT_*, StagedOutputs and report_error: re-exported)
    EXIT_OK,
    EXIT_STEP_ERROR,
    EXIT_THRESHOLD_BREACHED,
    MISSING_TOKENS,
    PathLike,
    StagedOutputs,
    StepError,
    report_error,
    staged_outputs,
)

TRAINING_FILE = "training-data.csv"
INFERENCE_FILE = "inference-data.csv"
GROUND_TRUTH_FILE = "ground-truth.csv"

_MISSING_SET = frozenset(MISSING_TOKENS)
_NAME_LIKE = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .:()/-]*$")


# --------------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------------


class DataError(StepError):
    """Input data is missing, malformed or inconsistent."""


class ArtifactError(StepError):
    """A model or transformer artifact is missing, corrupt or from an incompatible version."""


def configure_logging(level: int = logging.INFO) -> None:
    """Send log records to stdout, so stderr carries only the one-line error a step fails with."""
    logging.basicConfig(
        level=level,
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def column_label(position: int, name: str) -> str:
    """``3 'diameter'``: a 1-based column position and its schema name."""
    return "%d '%s'" % (position + 1, name)


def _shorten(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------------------
# Locating input files
# --------------------------------------------------------------------------------------------------------


def find_single_file(
    location: PathLike,
    suffixes: Sequence[str] = (".csv",),
    preferred: Optional[str] = None,
) -> str:
    """The one input file in a processing input directory.

    ``location`` may be the file itself. In a directory, ``preferred`` wins when present; otherwise exactly
    one non-hidden file whose name ends with one of ``suffixes`` must exist. Zero or several raise a
    DataError naming the directory and what it holds.
    """
    path = os.fspath(location)
    if os.path.isfile(path):
        return path
    wanted = " or ".join(suffixes)
    if not os.path.isdir(path):
        raise DataError(
            "input directory does not exist",
            fix="check that the step's input points at the %s file(s) it needs" % wanted,
            file=path,
        )
    if preferred is not None and os.path.isfile(os.path.join(path, preferred)):
        return os.path.join(path, preferred)
    names = sorted(
        name
        for name in os.listdir(path)
        if not name.startswith(".")
        and name.endswith(tuple(suffixes))
        and os.path.isfile(os.path.join(path, name))
    )
    if len(names) == 1:
        return os.path.join(path, names[0])
    if not names:
        raise DataError(
            "no %s file in the input directory" % wanted,
            fix="put exactly one %s file there%s" % (wanted, " (%s)" % preferred if preferred else ""),
            file=path,
        )
    raise DataError(
        "%d %s files in the input directory (%s); expected one" % (len(names), wanted, ", ".join(names)),
        fix="keep exactly one %s file there%s"
        % (wanted, ", or name the one to use %s" % preferred if preferred else ""),
        file=path,
    )


def find_single_csv(directory: PathLike, preferred: Optional[str] = None) -> str:
    """The one CSV file in a processing input directory (see find_single_file)."""
    return find_single_file(directory, (".csv",), preferred)


# --------------------------------------------------------------------------------------------------------
# Reading and validating
# --------------------------------------------------------------------------------------------------------


def _load_bytes(source: PathLike) -> bytes:
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise DataError("file does not exist", fix="check the step's input location", file=path)
    with open(path, "rb") as handle:
        return handle.read()


def _line_layout(data: bytes) -> Tuple[np.ndarray, np.ndarray]:
    """(1-based line numbers of the non-blank lines, their field counts), vectorised for large files."""
    if b'"' in data:
        # Quoted fields may hold commas or newlines: count with the csv module (slow, exact).
        numbers: List[int] = []
        widths: List[int] = []
        reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace")))
        for row in reader:
            if row and not (len(row) == 1 and row[0].strip() == ""):
                numbers.append(reader.line_num)
                widths.append(len(row))
        return np.asarray(numbers, dtype=np.int64), np.asarray(widths, dtype=np.int64)
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == ord("\n"))
    ends = newlines if data.endswith(b"\n") else np.append(newlines, len(buf))
    starts = np.concatenate(([0], newlines + 1))[: len(ends)]
    content_ends = ends.copy()
    has_cr = np.zeros(len(ends), dtype=bool)
    nonempty = ends > starts
    has_cr[nonempty] = buf[ends[nonempty] - 1] == ord("\r")
    content_ends[has_cr] -= 1
    commas = np.flatnonzero(buf == ord(","))
    counts = np.searchsorted(commas, content_ends) - np.searchsorted(commas, starts) + 1
    keep = content_ends > starts
    line_numbers = np.arange(1, len(ends) + 1, dtype=np.int64)
    return line_numbers[keep], counts[keep].astype(np.int64)


def _first_line(data: bytes) -> List[str]:
    for raw in data.splitlines():
        if raw.strip():
            return next(csv.reader([raw.decode("utf-8", errors="replace")]))
    return []


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_header(first: List[str], columns: Sequence[str], categorical: Sequence[str], file: str) -> None:
    numeric_values = [
        value.strip()
        for position, value in enumerate(first)
        if position >= len(columns) or columns[position] not in categorical
    ]
    if not numeric_values:
        return
    if all(
        not _is_number(value) and value not in _MISSING_SET and _NAME_LIKE.match(value)
        for value in numeric_values
    ):
        raise DataError(
            "first row (%s) looks like a header row; the data files are headerless"
            % _shorten(",".join(first), 80),
            fix="delete the header line; the columns are, in order: %s" % ", ".join(columns),
            file=file,
            row=1,
        )


GZIP_MAGIC = b"\x1f\x8b"
# Standardising a column sums the squares of its values: beyond this magnitude they overflow float64.
MAX_MAGNITUDE = 1e150
# csv's default field limit (128 KiB) would make one long value a traceback; a long value is the value's
# problem (not a number, not finite), reported with its row like any other.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _row_of(data: bytes, offset: int) -> int:
    """The 1-based line of the byte at ``offset``."""
    return data.count(b"\n", 0, offset) + 1


def check_text(data: bytes, file: str) -> None:
    """Refuse what is not CSV text, before any parser sees it: gzip, binary, not UTF-8."""
    if data.startswith(GZIP_MAGIC):
        raise DataError(
            "file is gzip-compressed, not CSV text",
            fix="decompress it (gunzip) and upload the plain .csv",
            file=file,
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DataError(
            "file is binary, not CSV text (a NUL byte at byte %d)" % nul,
            fix="export the data as comma-separated UTF-8 text",
            file=file,
            row=_row_of(data, nul),
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            "file is not UTF-8 text (byte 0x%02x at byte %d)" % (data[error.start], error.start),
            fix="save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
            file=file,
            row=_row_of(data, error.start),
        ) from None


def _parse_table(
    data: bytes,
    columns: Sequence[str],
    categorical: Sequence[str],
    required: Sequence[str],
    file: str,
) -> pd.DataFrame:
    """Validate and parse headerless CSV bytes into a frame with the given column names."""
    check_text(data, file)
    if not data.strip():
        raise DataError(
            "file is empty (no data rows)",
            fix="write at least one row of %d comma-separated values (%s)"
            % (len(columns), ", ".join(columns)),
            file=file,
        )
    _check_header(_first_line(data), columns, categorical, file)

    line_numbers, counts = _line_layout(data)
    wrong = np.flatnonzero(counts != len(columns))
    if len(wrong):
        index = int(wrong[0])
        raise DataError(
            "row has %d columns, expected %d (%s)" % (counts[index], len(columns), ", ".join(columns)),
            fix="give every row exactly %d comma-separated values in that order" % len(columns),
            file=file,
            row=int(line_numbers[index]),
        )

    positions = list(range(len(columns)))
    dtypes: Dict[Any, Any] = {
        position: (object if columns[position] in categorical else np.float64) for position in positions
    }
    try:
        frame = _read_frame(data, positions, dtypes)
    except ValueError:
        frame = None  # a value does not parse: find which, and where, below
    if frame is None or len(frame) != len(line_numbers):
        _raise_first_bad_value(data, columns, categorical, line_numbers, file)
        raise DataError(  # pragma: no cover - the diagnosis above always finds the value
            "file could not be parsed as CSV", fix="check the file's format", file=file
        )
    frame.columns = list(columns)

    for position, name in enumerate(columns):
        series = frame[name]
        if name in categorical:
            values = np.array(series.to_numpy(dtype=object), dtype=object)  # a writable copy
            present = pd.notna(values)
            stripped = np.array([str(v).strip() for v in values[present]], dtype=object)
            stripped[np.isin(stripped, MISSING_TOKENS)] = np.nan
            values[present] = stripped
            frame[name] = pd.Series(values, index=frame.index, dtype=object)
            missing = pd.isna(values)
        else:
            numbers = series.to_numpy(dtype=np.float64)
            with np.errstate(invalid="ignore"):
                infinite = np.isinf(numbers)
                huge = np.abs(numbers) > MAX_MAGNITUDE
            if infinite.any():
                index = int(np.flatnonzero(infinite)[0])
                raise DataError(
                    "value %r is not a finite number" % str(numbers[index]),
                    fix="write a finite decimal number, or leave the field empty if it is missing",
                    file=file,
                    row=int(line_numbers[index]),
                    column=column_label(position, name),
                )
            if huge.any():
                index = int(np.flatnonzero(huge)[0])
                raise DataError(
                    "value %r is too large to compute with (its square overflows; the limit is %g)"
                    % (_shorten(str(numbers[index])), MAX_MAGNITUDE),
                    fix="rescale the column (e.g. to other units), or leave the field empty if it is missing",
                    file=file,
                    row=int(line_numbers[index]),
                    column=column_label(position, name),
                )
            missing = np.isnan(numbers)
        if name in required and missing.any():
            index = int(np.flatnonzero(missing)[0])
            raise DataError(
                "%s is missing" % name,
                fix="every row needs a value for %s: fill it in or drop the row" % name,
                file=file,
                row=int(line_numbers[index]),
                column=column_label(position, name),
            )
    return frame


def _read_frame(data: bytes, positions: List[int], dtypes: Dict[Any, Any]) -> pd.DataFrame:
    return pd.read_csv(
        io.BytesIO(data),
        header=None,
        names=positions,
        dtype=dtypes,
        keep_default_na=False,
        na_values=list(MISSING_TOKENS),
        skip_blank_lines=True,
    )


def _raise_first_bad_value(
    data: bytes,
    columns: Sequence[str],
    categorical: Sequence[str],
    line_numbers: np.ndarray,
    file: str,
) -> None:
    """Slow path, taken only when parsing failed: find the first value that is not a number."""
    text = pd.read_csv(
        io.BytesIO(data),
        header=None,
        names=list(range(len(columns))),
        dtype=object,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=True,
    )
    best: Optional[Tuple[int, int, str]] = None
    for position, name in enumerate(columns):
        if name in categorical:
            continue
        raw = text[position].astype(str).str.strip()
        parsed = pd.to_numeric(raw.where(~raw.isin(MISSING_TOKENS), "nan"), errors="coerce")
        bad = np.flatnonzero(parsed.isna().to_numpy() & ~raw.isin(MISSING_TOKENS).to_numpy())
        if len(bad) and (best is None or bad[0] < best[0]):
            best = (int(bad[0]), position, str(raw.iloc[int(bad[0])]))
    if best is not None:
        index, position, value = best
        raise DataError(
            "value %r is not a number" % _shorten(value),
            fix="write a plain decimal number in column %s, or leave the field empty if it is missing"
            % columns[position],
            file=file,
            row=int(line_numbers[index]) if index < len(line_numbers) else index + 1,
            column=column_label(position, columns[position]),
        )


def _target_categorical(schema: Dataset) -> Tuple[str, ...]:
    return (schema.target,) if schema.is_classification else ()


def _check_labels(labels: pd.Series, schema: Dataset, file: str, column: str, data: bytes) -> pd.Series:
    """Classification labels normalised (``label_key``) and checked against the schema's classes
    (``data``: the file's bytes, to name the line of a bad label: blank lines are skipped, not rows)."""
    keys = labels.map(lambda value: value if pd.isna(value) else label_key(value))
    unknown = ~keys.isin(schema.classes) & keys.notna()
    if unknown.any():
        index = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(
            "label %r is not one of the classes %s"
            % (_shorten(str(labels.iloc[index])), list(schema.classes)),
            fix="correct the label, or add it to classes in dataset.yaml",
            file=file,
            row=int(_line_layout(data)[0][index]),
            column=column,
        )
    return keys


def parse_features_text(text: Union[str, bytes], schema: Dataset, source: str = "request") -> pd.DataFrame:
    """Validate and parse headerless CSV text holding the features (used by serving)."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    return _parse_table(data, schema.feature_names, schema.categorical, (), source)


def read_training_csv(path: PathLike, schema: Dataset) -> pd.DataFrame:
    """Headerless features + target; the target must be present on every row (and a class, if any)."""
    file = os.fspath(path)
    columns = (*schema.feature_names, schema.target)
    categorical = (*schema.categorical, *_target_categorical(schema))
    data = _load_bytes(file)
    frame = _parse_table(data, columns, categorical, (schema.target,), file)
    if schema.is_classification:
        label = column_label(len(columns) - 1, schema.target)
        frame[schema.target] = _check_labels(frame[schema.target], schema, file, label, data)
    return frame


def read_features_csv(path: PathLike, schema: Dataset) -> pd.DataFrame:
    """Headerless features (inference data); missing feature values are allowed."""
    file = os.fspath(path)
    return _parse_table(_load_bytes(file), schema.feature_names, schema.categorical, (), file)


def read_target_csv(path: PathLike, schema: Dataset) -> pd.Series:
    """Headerless ground truth: one target value per line (a class label, for classification)."""
    file = os.fspath(path)
    name = schema.target
    data = _load_bytes(file)
    frame = _parse_table(data, (name,), _target_categorical(schema), (name,), file)
    if schema.is_classification:
        return _check_labels(frame[name], schema, file, column_label(0, name), data)
    return frame[name]


def read_predictions_csv(path: PathLike, schema: Dataset) -> pd.DataFrame:
    """Batch transform's output (serve.py): ``schema.prediction_columns()``, one row per scored row."""
    file = os.fspath(path)
    columns = schema.prediction_columns()
    categorical = columns[:1] if schema.is_classification else ()
    data = _load_bytes(file)
    frame = _parse_table(data, columns, categorical, columns, file)
    if schema.is_classification:
        label = column_label(0, columns[0])
        frame[columns[0]] = _check_labels(frame[columns[0]], schema, file, label, data)
    return frame


def read_numeric_csv(path: PathLike, columns: Sequence[str]) -> pd.DataFrame:
    """Headerless all-numeric CSV (the transformed train/validation/test files, target first)."""
    file = os.fspath(path)
    return _parse_table(_load_bytes(file), tuple(columns), (), tuple(columns[:1]), file)


# --------------------------------------------------------------------------------------------------------
# Writing: nothing is ever half-written
# --------------------------------------------------------------------------------------------------------


def write_csv_atomic(frame: pd.DataFrame, path: PathLike, header: bool = False) -> str:
    """Write one CSV (headerless unless asked) so that it appears complete or not at all."""
    with staged_outputs() as stage:
        stage.write_csv(path, frame, header=header)
    return os.fspath(path)


def write_json_atomic(document: Any, path: PathLike) -> str:
    """Write one JSON document so that it appears complete or not at all."""
    with staged_outputs() as stage:
        stage.write_json(path, document)
    return os.fspath(path)
