"""The EventBridge events SageMaker sends for pipeline executions and their steps (``tests/events``).

Step status changes: ``Starting`` (no previous status), ``Executing`` (previous ``Starting``), then
``Succeeded``/``Failed``/``Stopped`` (previous ``Executing``), with the step's metadata once its job
exists, ``stepEndTime`` when it has ended and ``failureReason`` when it failed. Execution status
changes: ``Executing`` when it starts, ``Stopping`` on a stop request, then the final status.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from local_aws.executor.records import ExecutionRecord, StepRecord

SOURCE = "aws.sagemaker"
# The detail-types come from contracts.json ("detail_types": "step_status", "execution_status"), handed to
# PipelineExecutor by whoever starts it (local_aws/server.py): the executor imports nothing outside itself.


def timestamp(moment: datetime) -> str:
    """EventBridge's time format: ``2026-11-03T09:18:40Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def camel(value: Any) -> Any:
    """``{"ProcessingJob": {"Arn": …}}`` → ``{"processingJob": {"arn": …}}`` (the events' key style)."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:]): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def envelope(
    detail_type: str, detail: dict[str, Any], execution: ExecutionRecord, account: str, region: str
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": SOURCE,
        "account": account,
        "time": timestamp(datetime.now(UTC)),
        "region": region,
        "resources": [execution.pipeline_arn, execution.execution_arn],
        "detail": detail,
    }


def step_event(
    execution: ExecutionRecord,
    step: StepRecord,
    previous: str | None,
    account: str,
    region: str,
    *,
    detail_types: Mapping[str, str],
) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if step.metadata:
        detail["metadata"] = camel(step.metadata)
    detail["stepStartTime"] = timestamp(step.start_time)
    if step.end_time:
        detail["stepEndTime"] = timestamp(step.end_time)
    detail["stepName"] = step.name
    detail["stepType"] = step.type
    if previous:
        detail["previousStepStatus"] = previous
    detail["currentStepStatus"] = step.status
    if step.failure_reason:
        detail["failureReason"] = step.failure_reason
    detail["pipelineArn"] = execution.pipeline_arn
    detail["pipelineExecutionArn"] = execution.execution_arn
    return envelope(detail_types["step_status"], detail, execution, account, region)


def execution_event(
    execution: ExecutionRecord,
    previous: str | None,
    account: str,
    region: str,
    *,
    detail_types: Mapping[str, str],
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "pipelineExecutionDisplayName": execution.display_name,
        "currentPipelineExecutionStatus": execution.status,
    }
    if previous:
        detail["previousPipelineExecutionStatus"] = previous
    detail["executionStartTime"] = timestamp(execution.creation_time)
    if execution.end_time:
        detail["executionEndTime"] = timestamp(execution.end_time)
    if execution.description:
        detail["pipelineExecutionDescription"] = execution.description
    detail["pipelineArn"] = execution.pipeline_arn
    detail["pipelineExecutionArn"] = execution.execution_arn
    return envelope(detail_types["execution_status"], detail, execution, account, region)
