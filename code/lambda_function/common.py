"""Shared pieces of the Lambda handlers: typed EventBridge events, AWS clients, logging.

Runs on the AWS Lambda Python 3.12 runtime with boto3 and the standard library only. The handlers are
packaged flat (``notifier.py``, ``common.py``, ... at the zip root), so they import this as ``common``.

Event shapes: Amazon S3 User Guide, "EventBridge event message structure"; Amazon SageMaker Developer
Guide, "Events that Amazon SageMaker AI sends to Amazon EventBridge". Samples: ``tests/events/*.json``.

The detail-types, step names and sentinels come from ``contracts.json``: the zip ships it next to the
handlers; in a checkout it is at the repository root, two levels above this folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CONTRACTS_FILE = "contracts.json"


class MalformedEventError(ValueError):
    """The event is not one this function can act on. Logged with the reason and dropped, never retried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConfigurationError(RuntimeError):
    """A missing or invalid environment variable or contract of the function (a deployment bug: raise)."""


def contracts_path() -> Path:
    """``contracts.json`` next to this module (the Lambda zip), else at the repository root."""
    here = Path(__file__).resolve().parent
    candidates = (here / CONTRACTS_FILE, here.parent.parent / CONTRACTS_FILE)
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigurationError(
        f"{CONTRACTS_FILE} not found at {' or '.join(map(str, candidates))}: the Lambda zip ships it next "
        "to the handlers (make lambda-package)"
    )


def _load_contracts(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigurationError(f"{path} is not valid JSON: {exc}") from exc
    return data


CONTRACTS_PATH = contracts_path()
CONTRACTS = _load_contracts(CONTRACTS_PATH)


def contract(section: str, key: str) -> str:
    """One name of contracts.json, e.g. ``contract("steps", "model_quality")``."""
    value = CONTRACTS.get(section, {}).get(key)
    if not isinstance(value, str):
        raise ConfigurationError(f"{CONTRACTS_PATH} has no {section}.{key}")
    return value


S3_OBJECT_CREATED = contract("detail_types", "s3_object_created")
STEP_STATUS_CHANGE = contract("detail_types", "step_status")
EXECUTION_STATUS_CHANGE = contract("detail_types", "execution_status")
MODEL_PACKAGE_STATE_CHANGE = contract("detail_types", "model_package_state")

# botocore's ModelPackageArn shape pattern (service model of sagemaker), matched in full, and a version of
# a group (model-package/<group>/<version>; botocore's [\S] would admit backticks and $(...)): the deploy
# trigger forwards the ARN to GitLab, so nothing but a real model package version ARN may pass.
# pipeline_scripts/config/arns.py and the .gitlab-ci.yml workflow rule hold the same rule (tested).
MODEL_PACKAGE_ARN_PATTERN = r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:[0-9]{12}:model-package/[\S]{1,2048}"
VERSIONED_PATTERN = (
    r"arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]{9,16}:[0-9]{12}:"
    r"model-package/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}/[0-9]{1,10}"
)
_ARN_RES = (re.compile(MODEL_PACKAGE_ARN_PATTERN), re.compile(VERSIONED_PATTERN))


def is_model_package_arn(value: str) -> bool:
    return len(value) <= 2048 and all(pattern.fullmatch(value) for pattern in _ARN_RES)


# --------------------------------------------------------------------------- typed events


@dataclass(frozen=True)
class EventEnvelope:
    id: str
    detail_type: str
    source: str
    account: str
    time: str
    region: str
    resources: tuple[str, ...]
    detail: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class PipelineExecutionRef:
    """Names taken from ``arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>``."""

    pipeline_arn: str
    pipeline_name: str
    execution_arn: str
    execution_id: str


@dataclass(frozen=True)
class StepStatusChange:
    envelope: EventEnvelope
    execution: PipelineExecutionRef
    step_name: str
    step_type: str
    current_status: str
    previous_status: str
    start_time: str
    end_time: str
    failure_reason: str
    metadata: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ExecutionStatusChange:
    envelope: EventEnvelope
    execution: PipelineExecutionRef
    display_name: str
    current_status: str
    previous_status: str
    start_time: str
    end_time: str


@dataclass(frozen=True)
class ModelPackageStateChange:
    envelope: EventEnvelope
    group_name: str
    version: int
    package_arn: str
    approval_status: str
    package_status: str
    approval_description: str
    creation_time: str
    customer_metadata: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True)
class S3ObjectCreated:
    envelope: EventEnvelope
    bucket: str
    key: str
    size: int | None
    etag: str
    sequencer: str
    version_id: str
    reason: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


ParsedEvent = StepStatusChange | ExecutionStatusChange | ModelPackageStateChange | S3ObjectCreated


def parse_envelope(event: Any) -> EventEnvelope:
    """The EventBridge envelope; MalformedEventError if it is not one."""
    if not isinstance(event, Mapping):
        raise MalformedEventError(f"the event is a {type(event).__name__}, not an EventBridge event object")
    detail = event.get("detail")
    if detail is None:
        raise MalformedEventError("the event has no 'detail'")
    if not isinstance(detail, Mapping):
        raise MalformedEventError(f"'detail' is a {type(detail).__name__}, expected an object")
    resources = event.get("resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise MalformedEventError("'resources' must be a list of ARNs")
    return EventEnvelope(
        id=_string(event, "id", "event", required=False),
        detail_type=_string(event, "detail-type", "event"),
        source=_string(event, "source", "event"),
        account=_string(event, "account", "event", required=False),
        time=_string(event, "time", "event", required=False),
        region=_string(event, "region", "event", required=False),
        resources=tuple(resources),
        detail=detail,
    )


def parse_event(event: Any) -> ParsedEvent:
    """Parse any of the four event kinds these functions receive; MalformedEventError otherwise."""
    envelope = parse_envelope(event)
    parser = _PARSERS.get(envelope.detail_type)
    if parser is None:
        known = ", ".join(repr(kind) for kind in _PARSERS)
        raise MalformedEventError(f"unknown detail-type {envelope.detail_type!r} (handled: {known})")
    return parser(envelope)


def parse_step_status_change(envelope: EventEnvelope) -> StepStatusChange:
    d = envelope.detail
    metadata = d.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise MalformedEventError("detail.metadata must be an object")
    return StepStatusChange(
        envelope=envelope,
        execution=_execution_ref(d),
        step_name=_string(d, "stepName"),
        step_type=_string(d, "stepType", required=False),
        current_status=_string(d, "currentStepStatus"),
        previous_status=_string(d, "previousStepStatus", required=False),
        start_time=_string(d, "stepStartTime", required=False),
        end_time=_string(d, "stepEndTime", required=False),
        failure_reason=_string(d, "failureReason", required=False),
        metadata=metadata,
    )


def parse_execution_status_change(envelope: EventEnvelope) -> ExecutionStatusChange:
    d = envelope.detail
    return ExecutionStatusChange(
        envelope=envelope,
        execution=_execution_ref(d),
        display_name=_string(d, "pipelineExecutionDisplayName", required=False),
        current_status=_string(d, "currentPipelineExecutionStatus"),
        previous_status=_string(d, "previousPipelineExecutionStatus", required=False),
        start_time=_string(d, "executionStartTime", required=False),
        end_time=_string(d, "executionEndTime", required=False),
    )


def parse_model_package_state_change(envelope: EventEnvelope) -> ModelPackageStateChange:
    d = envelope.detail
    version = d.get("ModelPackageVersion")
    if isinstance(version, bool) or not isinstance(version, int):
        raise MalformedEventError(f"detail.ModelPackageVersion must be an integer, got {version!r}")
    metadata = d.get("CustomerMetadataProperties") or {}
    if not isinstance(metadata, Mapping):
        raise MalformedEventError("detail.CustomerMetadataProperties must be an object")
    package_arn = _string(d, "ModelPackageArn")
    if not is_model_package_arn(package_arn):
        shown = package_arn if len(package_arn) <= 80 else package_arn[:77] + "..."
        raise MalformedEventError(f"detail.ModelPackageArn {shown!r} is not a model package ARN")
    return ModelPackageStateChange(
        envelope=envelope,
        group_name=_string(d, "ModelPackageGroupName"),
        version=version,
        package_arn=package_arn,
        approval_status=_string(d, "ModelApprovalStatus"),
        package_status=_string(d, "ModelPackageStatus", required=False),
        approval_description=_string(d, "ApprovalDescription", required=False),
        creation_time=_string(d, "CreationTime", required=False),
        customer_metadata={str(k): str(v) for k, v in metadata.items()},
    )


def parse_s3_object_created(envelope: EventEnvelope) -> S3ObjectCreated:
    d = envelope.detail
    bucket = d.get("bucket")
    obj = d.get("object")
    if not isinstance(bucket, Mapping) or not isinstance(obj, Mapping):
        raise MalformedEventError("detail.bucket and detail.object must be objects")
    size = obj.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
        raise MalformedEventError(f"detail.object.size must be an integer, got {size!r}")
    return S3ObjectCreated(
        envelope=envelope,
        bucket=_string(bucket, "name", "detail.bucket"),
        key=_string(obj, "key", "detail.object"),
        size=size,
        etag=_string(obj, "etag", "detail.object", required=False),
        sequencer=_string(obj, "sequencer", "detail.object", required=False),
        version_id=_string(obj, "version-id", "detail.object", required=False),
        reason=_string(d, "reason", required=False),
    )


_PARSERS: dict[str, Callable[[EventEnvelope], ParsedEvent]] = {
    STEP_STATUS_CHANGE: parse_step_status_change,
    EXECUTION_STATUS_CHANGE: parse_execution_status_change,
    MODEL_PACKAGE_STATE_CHANGE: parse_model_package_state_change,
    S3_OBJECT_CREATED: parse_s3_object_created,
}


def _string(node: Mapping[str, Any], key: str, where: str = "detail", *, required: bool = True) -> str:
    value = node.get(key)
    if value is None:
        if required:
            raise MalformedEventError(f"{where}.{key} is missing")
        return ""
    if not isinstance(value, str):
        raise MalformedEventError(f"{where}.{key} must be a string, got {type(value).__name__}")
    if required and not value:
        raise MalformedEventError(f"{where}.{key} is empty")
    return value


def _execution_ref(detail: Mapping[str, Any]) -> PipelineExecutionRef:
    execution_arn = _string(detail, "pipelineExecutionArn")
    marker = ":pipeline/"
    if marker not in execution_arn or "/execution/" not in execution_arn:
        raise MalformedEventError(
            f"detail.pipelineExecutionArn {execution_arn!r} is not a pipeline execution ARN"
        )
    prefix, rest = execution_arn.split(marker, 1)
    pipeline_name, execution_id = rest.split("/execution/", 1)
    pipeline_arn = _string(detail, "pipelineArn", required=False) or f"{prefix}{marker}{pipeline_name}"
    if not pipeline_name or not execution_id:
        raise MalformedEventError(
            f"detail.pipelineExecutionArn {execution_arn!r} lacks a pipeline or execution"
        )
    return PipelineExecutionRef(
        pipeline_arn=pipeline_arn,
        pipeline_name=pipeline_name,
        execution_arn=execution_arn,
        execution_id=execution_id,
    )


# --------------------------------------------------------------------------- small helpers


def format_time(value: str) -> str:
    """``2026-11-03T09:18:39Z`` -> ``2026-11-03 09:18:39 UTC``; unparseable text is returned as it is."""
    if not value:
        return "unknown time"
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def env(name: str, default: str | None = None) -> str:
    """A required environment variable of the function (ConfigurationError names it when missing)."""
    value = os.environ.get(name, default)
    if value is None or not value.strip():
        raise ConfigurationError(
            f"environment variable {name} is not set: check the function's configuration"
        )
    return value.strip()


# --------------------------------------------------------------------------- AWS clients

_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """A boto3 client, created on first use (so importing a handler never touches AWS or credentials).

    ``AWS_ENDPOINT_URL`` (read by boto3 itself) points it at the local endpoint in local mode.
    """
    if service not in _clients:
        import boto3

        make: Any = boto3.client  # typed loosely: the boto3-stubs overloads need a literal service name
        _clients[service] = make(service)
    return _clients[service]


def set_client(service: str, instance: Any) -> None:
    """Use ``instance`` for ``service`` from now on (tests inject in-memory fakes here)."""
    _clients[service] = instance


def reset_clients() -> None:
    _clients.clear()


# --------------------------------------------------------------------------- logging


def configure_logging() -> None:
    """Level from ``LOG_LEVEL`` (default INFO). The Lambda runtime installs the handler; add one elsewhere."""
    level_name = os.environ.get("LOG_LEVEL", "INFO").upper()
    level = logging.getLevelName(level_name)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(levelname)s %(name)s %(message)s")
    root.setLevel(level if isinstance(level, int) else logging.INFO)


def dropped(reason: str, event: Any = None) -> dict[str, Any]:
    """Log a malformed or irrelevant event with its reason and return the handler's "dropped" result."""
    event_id = event.get("id") if isinstance(event, Mapping) else None
    log.warning("dropping event %s: %s", event_id or "(no id)", reason)
    return {"status": "dropped", "reason": reason}


def ignored(reason: str) -> dict[str, Any]:
    """A well-formed event this function deliberately does nothing for."""
    log.info("ignoring event: %s", reason)
    return {"status": "ignored", "reason": reason}
