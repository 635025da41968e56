"""StartPipelineExecution's idempotency, in one place: which execution each ``ClientRequestToken`` started.

AWS: the same token for the same pipeline returns the execution it started first; a token is scoped to
its pipeline (the same token for another pipeline starts another execution). ``PipelineExecutor`` owns one
``RequestTokens``, fills it again from the records of earlier runs (``execution.json`` keeps the token),
and the endpoint's SageMaker handler passes tokens on instead of keeping a map of its own.
"""

from __future__ import annotations

import threading


class RequestTokens:
    """(pipeline ARN, ClientRequestToken) → the execution ARN it started. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executions: dict[tuple[str, str], str] = {}

    def find(self, pipeline_arn: str, token: str | None) -> str | None:
        """The execution ``token`` started on this pipeline, or None (no token, or not seen)."""
        if not token:
            return None
        with self._lock:
            return self._executions.get((pipeline_arn, token))

    def claim(self, pipeline_arn: str, token: str | None, execution_arn: str) -> str:
        """Record that ``token`` started ``execution_arn``, unless it started one already: returns the
        execution that stands (``execution_arn`` when the token is new or absent)."""
        if not token:
            return execution_arn
        with self._lock:
            return self._executions.setdefault((pipeline_arn, token), execution_arn)

    def clear(self) -> None:
        with self._lock:
            self._executions.clear()
