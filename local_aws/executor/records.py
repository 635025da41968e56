"""What the executor knows about each execution and step, in the SageMaker API's shapes, and on disk.

``ExecutionRecord.describe()`` is a DescribePipelineExecution response, ``summary()`` a
ListPipelineExecutions entry, ``StepRecord.to_api()`` a ListPipelineExecutionSteps entry. ``to_json()``
is the execution record written to ``<workdir>/executions/<execution id>/execution.json`` for timelines
and reports: it adds, per step, the resolved arguments, the properties, the outputs and the log folder.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

TERMINAL_EXECUTION = frozenset({"Succeeded", "Failed", "Stopped", "CompletedWithFailures"})
TERMINAL_STEP = frozenset({"Succeeded", "Failed", "Stopped"})
RECORD_FILE = "execution.json"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass
class StepRecord:
    name: str
    type: str
    status: str
    start_time: datetime
    display_name: str | None = None
    description: str | None = None
    end_time: datetime | None = None
    failure_reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    attempt_count: int = 1
    arguments: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    log_dir: str | None = None

    def to_api(self) -> dict[str, Any]:
        """A PipelineExecutionStep."""
        item: dict[str, Any] = {
            "StepName": self.name,
            "StepDisplayName": self.display_name or self.name,
            "StartTime": self.start_time,
            "StepStatus": self.status,
            "AttemptCount": self.attempt_count,
            "Metadata": copy.deepcopy(self.metadata),
        }
        if self.description:
            item["StepDescription"] = self.description
        if self.end_time:
            item["EndTime"] = self.end_time
        if self.failure_reason:
            item["FailureReason"] = self.failure_reason
        return item

    def to_json(self) -> dict[str, Any]:
        return {
            "StepName": self.name,
            "StepType": self.type,
            "StepDisplayName": self.display_name,
            "StepDescription": self.description,
            "StepStatus": self.status,
            "StartTime": _iso(self.start_time),
            "EndTime": _iso(self.end_time),
            "FailureReason": self.failure_reason,
            "AttemptCount": self.attempt_count,
            "Metadata": self.metadata,
            "Arguments": self.arguments,
            "Properties": self.properties,
            "Outputs": self.outputs,
            "LogDir": self.log_dir,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepRecord:
        return cls(
            name=data["StepName"],
            type=data.get("StepType", ""),
            status=data["StepStatus"],
            start_time=_time(data["StartTime"]) or datetime.fromtimestamp(0).astimezone(),
            display_name=data.get("StepDisplayName"),
            description=data.get("StepDescription"),
            end_time=_time(data.get("EndTime")),
            failure_reason=data.get("FailureReason"),
            metadata=data.get("Metadata") or {},
            attempt_count=int(data.get("AttemptCount") or 1),
            arguments=data.get("Arguments"),
            properties=data.get("Properties"),
            outputs=data.get("Outputs") or {},
            log_dir=data.get("LogDir"),
        )


@dataclass
class ExecutionRecord:
    pipeline_name: str
    pipeline_arn: str
    execution_id: str
    execution_arn: str
    display_name: str
    status: str
    creation_time: datetime
    last_modified_time: datetime
    parameters: list[dict[str, str]]
    description: str | None = None
    failure_reason: str | None = None
    end_time: datetime | None = None
    client_request_token: str | None = None
    experiment_config: dict[str, str] | None = None
    steps: dict[str, StepRecord] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_EXECUTION

    def describe(self) -> dict[str, Any]:
        """A DescribePipelineExecution response (plus ``PipelineParameters``)."""
        response: dict[str, Any] = {
            "PipelineArn": self.pipeline_arn,
            "PipelineExecutionArn": self.execution_arn,
            "PipelineExecutionDisplayName": self.display_name,
            "PipelineExecutionStatus": self.status,
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
            "CreatedBy": {},
            "LastModifiedBy": {},
            "PipelineParameters": copy.deepcopy(self.parameters),
        }
        if self.description:
            response["PipelineExecutionDescription"] = self.description
        if self.failure_reason:
            response["FailureReason"] = self.failure_reason
        if self.experiment_config:
            response["PipelineExperimentConfig"] = dict(self.experiment_config)
        return response

    def summary(self) -> dict[str, Any]:
        """A PipelineExecutionSummary (ListPipelineExecutions)."""
        item: dict[str, Any] = {
            "PipelineExecutionArn": self.execution_arn,
            "StartTime": self.creation_time,
            "PipelineExecutionStatus": self.status,
            "PipelineExecutionDisplayName": self.display_name,
        }
        if self.description:
            item["PipelineExecutionDescription"] = self.description
        if self.failure_reason:
            item["PipelineExecutionFailureReason"] = self.failure_reason
        return item

    def to_json(self) -> dict[str, Any]:
        return {
            "PipelineName": self.pipeline_name,
            "PipelineArn": self.pipeline_arn,
            "PipelineExecutionId": self.execution_id,
            "PipelineExecutionArn": self.execution_arn,
            "PipelineExecutionDisplayName": self.display_name,
            "PipelineExecutionDescription": self.description,
            "PipelineExecutionStatus": self.status,
            "FailureReason": self.failure_reason,
            "CreationTime": _iso(self.creation_time),
            "LastModifiedTime": _iso(self.last_modified_time),
            "EndTime": _iso(self.end_time),
            "ClientRequestToken": self.client_request_token,
            "PipelineExperimentConfig": self.experiment_config,
            "PipelineParameters": self.parameters,
            "Steps": [step.to_json() for step in self.steps.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExecutionRecord:
        created = _time(data["CreationTime"])
        assert created is not None  # noqa: S101  (narrows a type the line above guarantees)
        return cls(
            pipeline_name=data["PipelineName"],
            pipeline_arn=data["PipelineArn"],
            execution_id=data["PipelineExecutionId"],
            execution_arn=data["PipelineExecutionArn"],
            display_name=data["PipelineExecutionDisplayName"],
            status=data["PipelineExecutionStatus"],
            creation_time=created,
            last_modified_time=_time(data.get("LastModifiedTime")) or created,
            parameters=data.get("PipelineParameters") or [],
            description=data.get("PipelineExecutionDescription"),
            failure_reason=data.get("FailureReason"),
            end_time=_time(data.get("EndTime")),
            client_request_token=data.get("ClientRequestToken"),
            experiment_config=data.get("PipelineExperimentConfig"),
            steps={s["StepName"]: StepRecord.from_json(s) for s in data.get("Steps", [])},
        )


def write_record(record: ExecutionRecord, directory: Path) -> Path:
    """Atomically (re)write ``<directory>/execution.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RECORD_FILE
    tmp = path.with_name(f".{RECORD_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record.to_json(), indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_record(path: Path) -> ExecutionRecord:
    return ExecutionRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
