"""Batch-inference MLOps: config, pipeline builders, registry operations and the `mlops` CLI."""

from pipeline_scripts import session as _session  # noqa: F401  (pins the SDK config first)
