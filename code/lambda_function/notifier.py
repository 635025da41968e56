"""Notifier: turns SageMaker pipeline and model-registry events into readable SNS messages.

Handles "SageMaker Model Building Pipeline Execution Step Status Change", "... Execution Status Change"
and "SageMaker Model Package State Change" events. For a step event whose (step name, status) pair is
configured in ``CUSTOM_NOTIFICATION_CONFIG`` the configured message is part of the body (the original
sample read a key that did not exist and silently dropped exactly those messages).

Environment: ``SNS_TOPIC_ARN``, ``CUSTOM_NOTIFICATION_CONFIG`` (JSON list of
``{step_name, step_status, step_msg, action_required?}``), ``ENVIRONMENT``, ``LOG_LEVEL``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import common
from common import (
    ConfigurationError,
    ExecutionStatusChange,
    MalformedEventError,
    ModelPackageStateChange,
    ParsedEvent,
    PipelineExecutionRef,
    StepStatusChange,
    format_time,
)

log = logging.getLogger(__name__)

# Amazon SNS Publish: "Subjects must be UTF-8 text with no line breaks or control characters, and less
# than 100 characters long" (SNS API Reference, Publish). 99 keeps us inside either reading of the limit.
MAX_SUBJECT = 99
# SNS Publish: "Messages must be UTF-8 and at most 256 KB (262,144 bytes)". A body over the budget is cut
# (the event details first) and ends with TRUNCATED, so a huge event still reaches people, not the DLQ.
MAX_MESSAGE_BYTES = 256 * 1024
MESSAGE_BUDGET = MAX_MESSAGE_BYTES - 2 * 1024  # headroom for SNS's own envelope fields
TRUNCATED = (
    "\n\n[... truncated: {omitted} bytes omitted to fit SNS's 256 KB limit; the notifier's log has the "
    "full event]"
)
ACTION_REQUIRED = "Action required: "


@dataclass(frozen=True)
class CustomMessage:
    step_name: str
    step_status: str
    step_msg: str
    action_required: bool = False


@dataclass(frozen=True)
class NotifierConfig:
    environment: str
    custom_messages: tuple[CustomMessage, ...] = ()

    def custom_for(self, step_name: str, status: str) -> tuple[CustomMessage, ...]:
        return tuple(m for m in self.custom_messages if m.step_name == step_name and m.step_status == status)


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def parse_custom_config(text: str) -> tuple[CustomMessage, ...]:
    """``CUSTOM_NOTIFICATION_CONFIG``: a JSON list of objects. A bad entry is a deployment bug: it raises."""
    if not text.strip():
        return ()
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"CUSTOM_NOTIFICATION_CONFIG is not valid JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise ConfigurationError("CUSTOM_NOTIFICATION_CONFIG must be a JSON list of objects")
    messages = []
    for i, entry in enumerate(entries):
        where = f"CUSTOM_NOTIFICATION_CONFIG[{i}]"
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{where} must be an object with step_name, step_status, step_msg")
        for key in ("step_name", "step_status", "step_msg"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise ConfigurationError(f"{where}.{key} must be a non-empty string")
        action = entry.get("action_required", False)
        if isinstance(action, str) and action.lower() in {"true", "false"}:
            action = action.lower() == "true"  # Terraform's jsonencode of a tfvars string "true"
        if not isinstance(action, bool):
            raise ConfigurationError(f"{where}.action_required must be true or false, got {action!r}")
        messages.append(
            CustomMessage(
                step_name=entry["step_name"].strip(),
                step_status=entry["step_status"].strip(),
                step_msg=entry["step_msg"].strip(),
                action_required=action,
            )
        )
    return tuple(messages)


def load_config() -> NotifierConfig:
    return NotifierConfig(
        environment=common.env("ENVIRONMENT", "unknown"),
        custom_messages=parse_custom_config(common.env("CUSTOM_NOTIFICATION_CONFIG", "[]")),
    )


# --------------------------------------------------------------------------- messages (pure)


def build_message(event: ParsedEvent, config: NotifierConfig) -> Message:
    """The subject and body for one parsed event. Pure: no clock, no environment, no AWS."""
    if isinstance(event, StepStatusChange):
        return _step_message(event, config)
    if isinstance(event, ExecutionStatusChange):
        return _execution_message(event, config)
    if isinstance(event, ModelPackageStateChange):
        return _package_message(event, config)
    raise MalformedEventError(f"the notifier does not handle {event.envelope.detail_type!r} events")


def console_url(region: str, execution: PipelineExecutionRef) -> str:
    """SageMaker console page of a pipeline execution (the console forwards to Studio where enabled)."""
    region = region or "us-east-1"
    return (
        f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
        f"#/pipelines/{execution.pipeline_name}/executions/{execution.execution_id}"
    )


def _step_message(event: StepStatusChange, config: NotifierConfig) -> Message:
    custom = config.custom_for(event.step_name, event.current_status)
    action = any(m.action_required for m in custom)
    name = event.execution.pipeline_name
    subject = _subject(config, f"{name}: {event.step_name} {event.current_status}", action)
    what = (
        f'Step "{event.step_name}"'
        + (f" ({event.step_type})" if event.step_type else "")
        + f' of pipeline "{name}" is now {event.current_status}'
        + (f" (was {event.previous_status})." if event.previous_status else ".")
    )
    when = f"When: {format_time(event.end_time or event.envelope.time)}"
    if event.start_time:
        when += f" (step started {format_time(event.start_time)})"
    lines = [what, "", when, *_execution_lines(event.envelope.region, event.execution, config)]
    for key, produced in sorted(event.metadata.items()):
        if isinstance(produced, dict) and isinstance(produced.get("arn"), str):
            lines.append(f"Produced ({key}): {produced['arn']}")
    if event.failure_reason:
        lines += ["", f"Failure reason: {event.failure_reason}"]
    for message in custom:
        lines += ["", message.step_msg]
    return Message(subject, _with_details(lines, event.envelope.detail))


def _execution_message(event: ExecutionStatusChange, config: NotifierConfig) -> Message:
    name = event.execution.pipeline_name
    subject = _subject(config, f"{name}: execution {event.current_status}", False)
    label = event.display_name or event.execution.execution_id
    what = f'Execution "{label}" of pipeline "{name}" is now {event.current_status}' + (
        f" (was {event.previous_status})." if event.previous_status else "."
    )
    when = f"When: {format_time(event.end_time or event.envelope.time)}"
    if event.start_time:
        when += f" (started {format_time(event.start_time)})"
    lines = [what, "", when, *_execution_lines(event.envelope.region, event.execution, config)]
    if event.current_status == "Failed":
        lines += [
            "",
            "Why it failed: the failed step's notification carries its reason; or list the steps with "
            "aws sagemaker list-pipeline-execution-steps --pipeline-execution-arn "
            + event.execution.execution_arn,
        ]
    return Message(subject, _with_details(lines, event.envelope.detail))


_PACKAGE_SENTENCES = {
    "Approved": "was approved. The deploy trigger starts the GitLab deploy job, which points the inference "
    "pipeline at this version.",
    "Rejected": "was rejected. It will not be deployed; the inference pipeline keeps its current model.",
    "PendingManualApproval": "is waiting for approval in the model registry.",
}


def _package_message(event: ModelPackageStateChange, config: NotifierConfig) -> Message:
    status = event.approval_status
    subject = _subject(config, f"model {event.group_name} v{event.version}: {status}", False)
    sentence = _PACKAGE_SENTENCES.get(status, f"changed state: approval status is now {status}.")
    lines = [
        f'Model version {event.version} of model package group "{event.group_name}" {sentence}',
        "",
        f"When: {format_time(event.envelope.time)}",
        f"Environment: {config.environment}",
        f"Model package: {event.package_arn}",
    ]
    if event.package_status:
        lines.append(f"Package status: {event.package_status}")
    if event.approval_description:
        lines += ["", f"Reason given: {event.approval_description}"]
    if event.customer_metadata.get("enterprise_review_required") == "true":
        lines += ["", "This version was produced by the HPO pipeline and is flagged for enterprise review."]
    if status == "PendingManualApproval":
        lines += [
            "",
            f"Approve it: mlops --env {config.environment} models approve {event.version} --reason '...'",
            f"Reject it:  mlops --env {config.environment} models reject {event.version} --reason '...'",
        ]
    return Message(subject, _with_details(lines, event.envelope.detail))


def _execution_lines(region: str, execution: PipelineExecutionRef, config: NotifierConfig) -> list[str]:
    return [
        f"Environment: {config.environment}",
        f"Execution: {execution.execution_arn}",
        f"Open in the console: {console_url(region, execution)}",
    ]


def _with_details(lines: Sequence[str], detail: Any) -> str:
    body = "\n".join([*lines, "", "Details:", json.dumps(detail, indent=2, sort_keys=True, default=str)])
    return fit_message(body)


def fit_message(body: str, budget: int = MESSAGE_BUDGET) -> str:
    """``body`` when it fits SNS's limit, else its head (cut on a character boundary) and a visible mark."""
    data = body.encode("utf-8")
    if len(data) <= budget:
        return body
    mark = TRUNCATED.format(omitted=len(data))
    keep = budget - len(mark.encode("utf-8")) - 16
    head = data[:keep].decode("utf-8", errors="ignore")
    return head + TRUNCATED.format(omitted=len(data) - len(head.encode("utf-8")))


def _subject(config: NotifierConfig, text: str, action_required: bool) -> str:
    subject = f"[{config.environment}] {text}"
    if action_required:
        subject = ACTION_REQUIRED + subject
    subject = re.sub(r"[\x00-\x1f\x7f]+", " ", subject).strip()
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 3].rstrip() + "..."
    return subject


# --------------------------------------------------------------------------- side effect and handler


def publish(sns: Any, topic_arn: str, message: Message) -> str:
    """Publish to SNS; any failure raises (Lambda retries, then the dead-letter queue)."""
    response = sns.publish(TopicArn=topic_arn, Subject=message.subject, Message=message.body)
    return str(response["MessageId"])


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    common.configure_logging()
    try:
        parsed = common.parse_event(event)
        config = load_config()
        message = build_message(parsed, config)
    except MalformedEventError as exc:
        return common.dropped(exc.reason, event)
    if len(message.body.encode("utf-8")) >= MESSAGE_BUDGET - 1024:
        log.warning("message truncated for SNS; the full event: %s", json.dumps(event, default=str))
    topic_arn = common.env("SNS_TOPIC_ARN")
    message_id = publish(common.client("sns"), topic_arn, message)
    log.info("published %r as %s", message.subject, message_id)
    return {"status": "published", "message_id": message_id, "subject": message.subject}
