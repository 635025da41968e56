"""A local AWS endpoint: moto plus pipeline execution, event delivery and Lambda runs, no Docker."""
