"""tar.gz in and out, as SageMaker packs model artifacts and source directories."""

from __future__ import annotations

import tarfile
from pathlib import Path


def extract(archive: Path, destination: Path) -> None:
    """Extract safely (no absolute paths, no links out of ``destination``)."""
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        tar.extractall(destination, filter="data")


def pack(source: Path, archive: Path) -> Path:
    """``source``'s contents (not the directory itself) into ``archive``, sorted, like model.tar.gz."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(source)))
    return archive
