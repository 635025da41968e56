"""The parts of an inference batch: one headerless CSV file, or a folder (an S3 prefix) of CSV parts.

A multi-file batch is a folder of headerless CSV parts, ``part-00000.csv`` … (Spark's and Hadoop's
names; any ``.csv`` name works here), directly in the folder (subfolders are not read). The parts are
read in the order of their names, which is S3's key order: the order the batch's rows (and
``ground-truth.csv``'s lines) follow. Zero-pad numbered names (``part-00002`` before ``part-00010``).

What the folder may hold besides the parts, as the pipeline trigger drops it: names starting with ``_``
or ``.`` (``_SUCCESS``, ``_manifest``: Hadoop's hidden files) and the batch's ``ground-truth*.csv`` (any
case, as the trigger reads it) are not data and are skipped. Anything else that is not a ``.csv`` (a
``.csv.gz`` part, ``notes.txt``, ``DATA.CSV``) is an error naming it: skipping it could lose rows
silently.

Runs on the SageMaker framework containers (Python 3.8): keep it that way.
"""

from __future__ import annotations

import os
from typing import List, Optional, Tuple

from step_io import PathLike, StepError

PART_SUFFIX = ".csv"
GROUND_TRUTH_PREFIX = "ground-truth"


class PartsError(StepError):
    """A batch folder holds no parts, or a file that is not a part."""


def is_ignored(name: str) -> bool:
    """Not data and not an error: hidden and marker files (``_SUCCESS``, ``.x``) and the ground truth."""
    return name.startswith(("_", ".")) or (
        name.lower().startswith(GROUND_TRUTH_PREFIX) and name.endswith(PART_SUFFIX)
    )


def is_blank(path: PathLike) -> bool:
    """An empty file, or one of whitespace only: Spark writes such parts for empty partitions."""
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(1 << 16)
            if not chunk:
                return True
            if chunk.strip():
                return False


def list_parts(
    location: PathLike, what: str = "inference data", uri: Optional[str] = None
) -> List[Tuple[str, str]]:
    """``(name, path)`` of every CSV part of ``location``, sorted by name (a file: itself).

    Only the folder's own files are parts: subfolders are not read (a processing job's input folder may
    hold other inputs below it, e.g. the step's ``code/``). A folder without a part is an error.

    ``uri``: the S3 URI the folder was downloaded from. When it names one object (no trailing ``/``),
    that object is the batch: an S3 prefix also matches its siblings (``x.csv`` downloads
    ``x.csv.bak`` and ``x.csv.old.csv`` too), which are neither parts nor errors.
    """
    path = os.fspath(location)
    if os.path.isfile(path):
        return [(os.path.basename(path), path)]
    if uri and not uri.endswith("/"):
        name = uri.rsplit("/", 1)[-1]
        if name and os.path.isfile(os.path.join(path, name)):
            return [(name, os.path.join(path, name))]
    if not os.path.isdir(path):
        raise PartsError(
            "input does not exist",
            fix="check that the step's input points at the batch's CSV file or folder",
            file=path,
        )
    parts: List[Tuple[str, str]] = []
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if is_ignored(name) or not os.path.isfile(full):
            continue
        if not name.endswith(PART_SUFFIX):
            raise PartsError(
                "%s is not a CSV part of the batch" % name,
                fix="a batch folder holds only headerless .csv parts (plain text, lower-case .csv; "
                "gzip parts are not read), ground-truth.csv and marker files whose names start with "
                "_ or .: remove or rename it",
                file=full,
            )
        parts.append((name, full))
    if not parts:
        raise PartsError(
            "no %s CSV part in the batch folder" % what,
            fix="put the batch's headerless .csv parts (e.g. part-00000.csv) directly in the folder",
            file=path,
        )
    return parts
