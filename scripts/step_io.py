"""Errors, exit codes and all-or-nothing output writing shared by every step script.

``datafiles`` (the data schema and CSV reading of the model steps) and the data-quality scripts both build
on this module. It imports nothing outside the standard library: the data-quality fast path must not
import pandas, which ``datafiles`` does.

Runs on the SageMaker framework containers (Python 3.8): keep it that way.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import uuid
from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Tuple, Union

if TYPE_CHECKING:  # pragma: no cover - annotations only; writing a frame needs only its to_csv
    import pandas as pd

logger = logging.getLogger(__name__)

# Missing-value tokens: the ONE list. Every reader treats NULL_TOKENS as missing; the data-quality engine
# stops there (both of its CSV engines must agree, and "n/a", "<NA>", "-nan" … stay present values).
# The training and inference readers (datafiles.py) also take the rest of pandas' default markers,
# spelled out so every pandas version agrees.
NULL_TOKENS = ("", "NA", "N/A", "NaN", "nan", "NULL", "null", "None")
MISSING_TOKENS = (
    *NULL_TOKENS,
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "n/a",
)

# Exit codes shared by every step script's main().
EXIT_OK = 0
EXIT_THRESHOLD_BREACHED = 1
EXIT_STEP_ERROR = 2

PathLike = Union[str, "os.PathLike[str]"]


# --------------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------------


class StepError(Exception):
    """A problem a step script reports as one readable line and exit code 2.

    Rendered as ``<what> (<file>, row N, column C). Fix: <fix>``; the location parts that are unknown
    are left out.
    """

    def __init__(
        self,
        what: str,
        fix: str,
        file: Optional[PathLike] = None,
        row: Optional[int] = None,
        column: Optional[str] = None,
    ) -> None:
        self.what = what
        self.fix = fix
        self.file = None if file is None else os.fspath(file)
        self.row = row
        self.column = column
        super().__init__(self.render())

    def render(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append("row %d" % self.row)
        if self.column is not None:
            where.append("column %s" % self.column)
        location = " (%s)" % ", ".join(where) if where else ""
        text = "%s%s. Fix: %s" % (self.what, location, self.fix)
        # One line, whatever the inputs contained.
        return " ".join(text.split())


def exit_process(code: int) -> None:
    """End a step's process with ``code`` once its outputs are written, skipping the interpreter's
    teardown: native thread pools (pyarrow's, under pandas' string columns; OpenMP's) can abort that
    teardown with "terminate called without an active exception" (exit 134), which would replace the
    step's own exit code and its one-line reason. Everything is flushed first."""
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stream: nothing more to say
            stream.flush()
    os._exit(code)


def report_error(error: StepError) -> int:
    """Print the one-line error to stderr and return the step-error exit code."""
    print("ERROR: %s" % error.render(), file=sys.stderr, flush=True)
    return EXIT_STEP_ERROR


# --------------------------------------------------------------------------------------------------------
# Writing: nothing is ever half-written
# --------------------------------------------------------------------------------------------------------


class StagedOutputs:
    """Output files written under temporary names beside their final names and renamed together at the end.

    Temporary names start with '.' (input discovery ignores them) and keep the final name's extension
    (XGBoost picks the model format from it).
    """

    def __init__(self) -> None:
        self._pending: List[Tuple[str, str]] = []

    def path(self, final: PathLike) -> str:
        """A temporary path to write ``final``'s content to."""
        final_path = os.fspath(final)
        directory = os.path.dirname(final_path) or "."
        os.makedirs(directory, exist_ok=True)
        temporary = os.path.join(
            directory, ".tmp-%s-%s" % (uuid.uuid4().hex[:12], os.path.basename(final_path))
        )
        self._pending.append((temporary, final_path))
        return temporary

    def write_csv(self, final: PathLike, frame: pd.DataFrame, header: bool = False) -> None:
        # No line-terminator argument: its name changed in pandas 1.5; the default is "\n" on Linux.
        frame.to_csv(self.path(final), header=header, index=False)

    def write_text(self, final: PathLike, text: str) -> None:
        with open(self.path(final), "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)

    def write_json(self, final: PathLike, document: Any, compact: bool = False) -> None:
        """Indented JSON, or with ``compact`` one line without spaces (large statistics files)."""
        if compact:
            text = json.dumps(document, allow_nan=False, separators=(",", ":"))
        else:
            text = json.dumps(document, indent=2, allow_nan=False)
        self.write_text(final, text + "\n")

    def copy(self, source: PathLike, final: PathLike) -> None:
        shutil.copyfile(os.fspath(source), self.path(final))

    def commit(self) -> List[str]:
        finals = []
        for temporary, final in self._pending:
            os.replace(temporary, final)
            finals.append(final)
            logger.info("wrote %s", final)
        self._pending = []
        return finals

    def discard(self) -> None:
        for temporary, _ in self._pending:
            with contextlib.suppress(FileNotFoundError):
                os.remove(temporary)
        self._pending = []


@contextlib.contextmanager
def staged_outputs() -> Iterator[StagedOutputs]:
    """Write outputs through the yielded StagedOutputs; they appear only if the block completes."""
    stage = StagedOutputs()
    try:
        yield stage
    except BaseException:
        stage.discard()
        raise
    stage.commit()
