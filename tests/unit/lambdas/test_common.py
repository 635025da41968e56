"""Typed parsing of the EventBridge events the Lambdas receive (common.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import common
import pytest
from common import (
    ExecutionStatusChange,
    MalformedEventError,
    ModelPackageStateChange,
    S3ObjectCreated,
    StepStatusChange,
    parse_event,
)

Event = Callable[[str], dict[str, Any]]


def test_step_status_change(event: Event) -> None:
    parsed = parse_event(event("step_model_quality_failed"))
    assert isinstance(parsed, StepStatusChange)
    assert parsed.execution.pipeline_name == "mlops-local-batch-inference"
    assert parsed.execution.execution_id == "p4jn9xou8a8s"
    assert parsed.execution.pipeline_arn.endswith(":pipeline/mlops-local-batch-inference")
    assert (parsed.step_name, parsed.step_type) == ("ModelQualityCalcStep", "Processing")
    assert (parsed.previous_status, parsed.current_status) == ("Executing", "Failed")
    assert parsed.failure_reason.startswith("AlgorithmError")
    assert parsed.envelope.region == "us-east-1"


def test_register_step_metadata_is_kept(event: Event) -> None:
    parsed = parse_event(event("step_register_succeeded"))
    assert isinstance(parsed, StepStatusChange)
    assert parsed.failure_reason == ""
    assert parsed.metadata["registerModel"]["arn"].endswith("model-package/mlops-local-abalone/3")


def test_execution_status_change(event: Event) -> None:
    parsed = parse_event(event("execution_failed"))
    assert isinstance(parsed, ExecutionStatusChange)
    assert (parsed.execution.pipeline_name, parsed.current_status) == ("mlops-local-training", "Failed")
    assert parsed.display_name == "execution-1762161126"


def test_model_package_state_change(event: Event) -> None:
    parsed = parse_event(event("model_package_rejected"))
    assert isinstance(parsed, ModelPackageStateChange)
    assert (parsed.group_name, parsed.version, parsed.approval_status) == (
        "mlops-local-abalone",
        3,
        "Rejected",
    )
    assert parsed.customer_metadata["trained_by"] == "training"
    assert "Residuals" in parsed.approval_description


def test_s3_object_created(event: Event) -> None:
    parsed = parse_event(event("s3_object_created_inference"))
    assert isinstance(parsed, S3ObjectCreated)
    assert parsed.uri == "s3://mlops-local-bucket/abalone/inference/batch-001/inference-data.csv"
    assert parsed.size == 41234
    assert parsed.sequencer == "0065F0B7C1D2E3F4A5"


def test_pipeline_arn_is_derived_when_absent(event: Event) -> None:
    raw = event("execution_succeeded")
    del raw["detail"]["pipelineArn"]
    parsed = parse_event(raw)
    assert isinstance(parsed, ExecutionStatusChange)
    assert parsed.execution.pipeline_arn == (
        "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-batch-inference"
    )


def _without_detail(raw: dict[str, Any]) -> None:
    del raw["detail"]


@pytest.mark.parametrize(
    ("name", "mutate", "reason"),
    [
        ("step_preprocess_failed", _without_detail, "no 'detail'"),
        ("step_preprocess_failed", lambda e: e.update(detail="text"), "'detail' is a str"),
        (
            "step_preprocess_failed",
            lambda e: e.update({"detail-type": "Something Else"}),
            "unknown detail-type",
        ),
        ("step_preprocess_failed", lambda e: e["detail"].pop("stepName"), "detail.stepName is missing"),
        (
            "step_preprocess_failed",
            lambda e: e["detail"].update(stepName=7),
            "detail.stepName must be a string",
        ),
        ("step_preprocess_failed", lambda e: e["detail"].update(metadata=[1]), "metadata must be an object"),
        (
            "step_preprocess_failed",
            lambda e: e["detail"].update(pipelineExecutionArn="arn:aws:sagemaker:x"),
            "not a pipeline execution ARN",
        ),
        ("execution_failed", lambda e: e["detail"].pop("currentPipelineExecutionStatus"), "is missing"),
        (
            "model_package_approved",
            lambda e: e["detail"].update(ModelPackageVersion="3"),
            "must be an integer",
        ),
        ("model_package_approved", lambda e: e["detail"].update(ModelApprovalStatus=""), "is empty"),
        ("s3_object_created_training", lambda e: e["detail"].update(object="k"), "must be objects"),
        (
            "s3_object_created_training",
            lambda e: e["detail"]["object"].update(size="1"),
            "size must be an integer",
        ),
        ("s3_object_created_training", lambda e: e.update(resources="arn"), "'resources' must be a list"),
    ],
)
def test_malformed_events_name_the_reason(
    event: Event, name: str, mutate: Callable[[dict[str, Any]], Any], reason: str
) -> None:
    raw = event(name)
    mutate(raw)
    with pytest.raises(MalformedEventError) as info:
        parse_event(raw)
    assert reason in info.value.reason


def test_non_object_event() -> None:
    with pytest.raises(MalformedEventError, match="is a list"):
        parse_event([1, 2])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-03T09:18:39Z", "2026-11-03 09:18:39 UTC"),
        ("2026-11-03T10:18:39+01:00", "2026-11-03 09:18:39 UTC"),
        ("2026-11-03T09:18:39.123Z", "2026-11-03 09:18:39 UTC"),
        ("yesterday", "yesterday"),
        ("", "unknown time"),
    ],
)
def test_format_time(text: str, expected: str) -> None:
    assert common.format_time(text) == expected


def test_missing_environment_variable_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SNS_TOPIC_ARN", raising=False)
    with pytest.raises(common.ConfigurationError, match="SNS_TOPIC_ARN is not set"):
        common.env("SNS_TOPIC_ARN")
    monkeypatch.setenv("SNS_TOPIC_ARN", "  arn:x  ")
    assert common.env("SNS_TOPIC_ARN") == "arn:x"


def test_client_is_created_lazily_once_and_can_be_replaced() -> None:
    first = common.client("sns")
    assert common.client("sns") is first
    assert first.meta.service_model.service_name == "sns"
    fake = object()
    common.set_client("sns", fake)
    assert common.client("sns") is fake


def test_configure_logging_reads_log_level(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    before = root.level
    try:
        monkeypatch.setenv("LOG_LEVEL", "debug")
        common.configure_logging()
        assert root.level == logging.DEBUG
        monkeypatch.setenv("LOG_LEVEL", "chatty")
        common.configure_logging()
        assert root.level == logging.INFO
    finally:
        root.setLevel(before)
