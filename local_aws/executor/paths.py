"""Container paths (``/opt/ml/...``) mapped into a job's local directory tree."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CONTAINER_ROOT = "/opt/ml"


class ContainerPaths:
    """``/opt/ml/x`` ↔ ``<root>/opt/ml/x``: a job's private copy of the container file system."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def local(self, container_path: str) -> Path:
        """The local path of an absolute container path under /opt/ml."""
        if not self.is_container_path(container_path):
            raise ValueError(f"{container_path!r} is not under {CONTAINER_ROOT}")
        return self.root / container_path.lstrip("/")

    @staticmethod
    def is_container_path(text: str) -> bool:
        return text == CONTAINER_ROOT or text.startswith(CONTAINER_ROOT + "/")

    def map(self, text: str) -> str:
        """A container path becomes its local path; anything else is returned unchanged."""
        return str(self.local(text)) if self.is_container_path(text) else text

    def map_search_path(self, text: str) -> str:
        """``PYTHONPATH``-style lists: every entry mapped."""
        return os.pathsep.join(self.map(part) for part in text.split(":"))

    def map_environment(self, environment: Mapping[str, str]) -> dict[str, str]:
        return {key: self.map_search_path(str(value)) for key, value in environment.items()}
