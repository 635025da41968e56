"""The project's error hierarchy. Only entry points (the CLI) catch these."""

from __future__ import annotations


class MlopsError(Exception):
    """Base error: ``str(err)`` is one readable line; ``hint`` says how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class ConfigError(MlopsError):
    """A configuration file or override is missing, malformed or impossible."""


class RegistryError(MlopsError):
    """A model registry operation cannot be done (unknown version, wrong state...)."""


class NoApprovedModelError(RegistryError):
    """The model package group has no Approved version yet."""


class UnknownGroupError(RegistryError):
    """The model package group does not exist (the first training run creates it)."""


class PipelineOpsError(MlopsError):
    """Upserting, starting or describing a SageMaker pipeline failed."""


class DataError(MlopsError):
    """Sample or uploaded data is missing or malformed."""
