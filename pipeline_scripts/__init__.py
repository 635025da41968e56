"""Batch-inference MLOps: config, pipeline builders, registry operations and the `mlops` CLI."""
