"""What a step handler receives and returns.

A handler is a function ``(step: ResolvedStep, ctx: StepContext) -> StepOutcome``. It raises
:class:`StepFailedError` with the reason SageMaker would report; any other exception is reported as an
internal error of the local executor. It calls ``ctx.started(metadata)`` once the job it runs has a
name and ARN (the step then turns ``Executing`` with that metadata).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local_aws.executor import ids
from local_aws.executor.clients import Clients, known_arguments

log = logging.getLogger(__name__)

KEEP_JOB_FILES = "LOCAL_AWS_KEEP_JOB_FILES"  # set to 1 to keep each job's /opt/ml tree for debugging


class StepFailedError(Exception):
    """The step failed; ``reason`` is its FailureReason (≤ 1024 chars)."""

    def __init__(
        self,
        reason: str,
        properties: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        outputs: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.properties = dict(properties or {})
        self.metadata = dict(metadata or {})  # replaces the step's metadata when given
        self.outputs = dict(outputs or {})  # what was uploaded anyway (Continuous outputs), for reports


@dataclass(frozen=True)
class ExecutionInfo:
    pipeline_name: str
    pipeline_arn: str
    execution_id: str
    execution_arn: str
    account_id: str
    region: str


@dataclass(frozen=True)
class ResolvedStep:
    """A step with every expression resolved. ``extra`` holds its other top-level keys (QualityCheck's
    ``CheckType``, ``SkipCheck``…; ``PropertyFiles``)."""

    name: str
    type: str
    arguments: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepOutcome:
    """``properties``: the step's Describe*-shaped document (what ``Steps.<Name>.…`` reads);
    ``metadata``: ListPipelineExecutionSteps' Metadata; ``outputs``: output name → S3 URI (for reports)."""

    properties: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class StepContext:
    clients: Clients
    execution: ExecutionInfo
    step_name: str
    step_type: str
    step_dir: Path
    scripts_dir: Path
    cancel: threading.Event
    on_started: Callable[[dict[str, Any]], None]
    main_job_name: str | None = None  # what Execution.ProcessingJobName / TrainingJobName resolved to
    cpu_count: int = field(default_factory=lambda: os.cpu_count() or 1)

    def started(self, metadata: dict[str, Any] | None = None) -> None:
        self.on_started(dict(metadata or {}))

    def job_name(self) -> str:
        """The name of the job this step runs (the same on every call)."""
        if self.main_job_name is None:
            self.main_job_name = ids.job_name(self.execution.execution_id, self.step_name)
        return self.main_job_name

    def arn(self, resource: str, name: str) -> str:
        return ids.arn(self.execution.region, self.execution.account_id, resource, name)

    @property
    def log_dir(self) -> Path:
        return self.step_dir / "logs"

    def job_root(self, name: str) -> Path:
        """A fresh private directory for one job's container file system."""
        root = self.step_dir / "jobs" / name
        root.mkdir(parents=True, exist_ok=True)
        return root

    def cleanup(self, root: Path) -> None:
        """Remove a job's tree (its logs stay), unless LOCAL_AWS_KEEP_JOB_FILES=1."""
        if os.environ.get(KEEP_JOB_FILES) == "1":
            return
        shutil.rmtree(root, ignore_errors=True)
        with contextlib.suppress(OSError):
            root.parent.rmdir()  # only when no other job of this step is still there

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise StepFailedError("ClientError: the pipeline execution was stopped")

    def record_job(self, operation: str, arguments: dict[str, Any]) -> None:
        """Best effort: register the job with the SageMaker endpoint so it can be described and listed.
        The endpoint's own record is not authoritative here (it does not run anything)."""
        client = self.clients.sagemaker
        try:
            getattr(client, _snake(operation))(**known_arguments(client, operation, arguments))
        except Exception as exc:
            log.debug("could not record %s for %s: %s", operation, self.step_name, exc)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def runtime_limit(arguments: Mapping[str, Any]) -> float | None:
    value = (arguments.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    return float(value) if value else None


def base_environment() -> dict[str, str]:
    """The parent's environment minus Python settings that would leak into the job's interpreter."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PYTHONUNBUFFERED"] = "1"
    return env
