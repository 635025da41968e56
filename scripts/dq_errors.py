"""The data-quality scripts' errors: problems with their inputs or outputs that a person must fix.

They are step_io.StepError subclasses, reported by ``data_quality.main`` as one line
``ERROR: <what> (<file>, row N / column C). Fix: <how>`` with exit code 2.
"""

from __future__ import annotations

from step_io import StepError


class DataQualityError(StepError):
    """A problem with the inputs that a person must fix: what, where (file, row, column) and how.

    Rendered in the data-quality layout: row and column joined by " / ", whitespace collapsed in what and
    fix (file and column as given).
    """

    def render(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        parts = [p for p in (self.file, " / ".join(where)) if p]
        text = " ".join(self.what.split()) + (f" ({', '.join(parts)})" if parts else "") + "."
        fix = " ".join(self.fix.split())
        return text + (f" Fix: {fix}" if fix else "")


class InputNotFoundError(DataQualityError):
    """The input path does not name a usable file."""


class InputDataError(DataQualityError):
    """The CSV content cannot serve: empty, ragged, unparsable or entirely missing values."""


class BaselineFileError(DataQualityError):
    """A baseline statistics/constraints file is unreadable, not JSON, or not in Model Monitor's layout."""


class OutputError(DataQualityError):
    """The outputs cannot be written."""
