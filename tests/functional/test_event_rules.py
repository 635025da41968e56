"""Every EventBridge pattern of events.tf (provisioning/rules.py renders it for env_files/local.tfvars) vs
the realistic events of tests/events: which rules each event reaches, and which it must not.

Positives and negatives: each sample event, plus variants that differ in one field (another prefix or
bucket, another pipeline, another step, Succeeded instead of Failed, Rejected instead of Approved,
another model package group). Matching is local_aws.events.patterns (EventBridge's documented semantics).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local_aws.events.patterns import matches, validate_pattern
from local_aws.provisioning.rules import read_rules

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"
PREFIX = "mlops-local-"
Event = dict[str, Any]

PATTERNS: dict[str, dict[str, Any]] = {
    rule.name.removeprefix(PREFIX): rule.event_pattern
    for rule in read_rules(ROOT / "env_files" / "local.tfvars")
    if rule.event_pattern is not None
}


def load(name: str) -> Event:
    event: Event = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def reached(event: Event) -> set[str]:
    return {purpose for purpose, pattern in PATTERNS.items() if matches(pattern, event)}


# Each sample event → exactly the rules it reaches.
SAMPLES = {
    "s3_object_created_training": {"training-data"},
    "s3_object_created_inference": {"inference-data"},
    # The rule matches every object under the prefix; the pipeline trigger ignores ground-truth files.
    "s3_object_created_ground_truth": {"inference-data"},
    # A multi-file batch's completion marker reaches the trigger by the same rule (no pattern change).
    "s3_object_created_batch_complete": {"inference-data"},
    "s3_object_created_other_prefix": set(),
    # Custom message (custom-0) and the HPO trigger; step-status leaves this pair to custom-0: one e-mail.
    "step_model_quality_failed": {"model-quality-failed", "custom-0"},
    "step_model_quality_succeeded": set(),
    "step_register_succeeded": {"custom-1"},
    "step_preprocess_failed": {"step-status"},
    "step_other_pipeline_failed": set(),
    "execution_failed": {"execution-status"},
    "execution_succeeded": set(),
    "model_package_approved": {"model-approved"},
    "model_package_rejected": {"model-rejected"},
    "model_package_pending": set(),
    "model_package_approved_other_group": set(),
}


def test_every_pattern_is_valid_eventbridge() -> None:
    assert len(PATTERNS) == 10
    for pattern in PATTERNS.values():
        validate_pattern(pattern)


def test_the_samples_cover_every_sample_file() -> None:
    assert {path.stem for path in EVENTS.glob("*.json")} == set(SAMPLES)


@pytest.mark.parametrize(("sample", "expected"), sorted(SAMPLES.items()))
def test_sample_event_reaches_exactly(sample: str, expected: set[str]) -> None:
    assert reached(load(sample)) == expected


def test_every_rule_is_reached_by_some_event() -> None:
    data_quality = variant(
        "step_register_succeeded", step("DataQualityCheck"), pipeline("mlops-local-batch-inference")
    )
    covered = set().union(*(reached(load(sample)) for sample in SAMPLES), reached(data_quality))
    assert covered == set(PATTERNS)


# --- one-field variants -------------------------------------------------------------------------------


def variant(sample: str, *changes: Callable[[Event], None]) -> Event:
    event = copy.deepcopy(load(sample))
    for change in changes:
        change(event)
    return event


def key(value: str) -> Callable[[Event], None]:
    def change(event: Event) -> None:
        event["detail"]["object"]["key"] = value

    return change


def bucket(name: str) -> Callable[[Event], None]:
    def change(event: Event) -> None:
        event["detail"]["bucket"]["name"] = name
        event["resources"] = [f"arn:aws:s3:::{name}"]

    return change


def pipeline(name: str) -> Callable[[Event], None]:
    def change(event: Event) -> None:
        old = event["detail"]["pipelineArn"]
        new = old.rsplit("/", 1)[0] + "/" + name
        event["detail"]["pipelineArn"] = new
        event["detail"]["pipelineExecutionArn"] = event["detail"]["pipelineExecutionArn"].replace(old, new)
        event["resources"] = [arn.replace(old, new) for arn in event["resources"]]

    return change


def step(name: str) -> Callable[[Event], None]:
    def change(event: Event) -> None:
        event["detail"]["stepName"] = name

    return change


def step_status(status: str) -> Callable[[Event], None]:
    def change(event: Event) -> None:
        event["detail"]["currentStepStatus"] = status

    return change


def execution_status(status: str) -> Callable[[Event], None]:
    def change(event: Event) -> None:
        event["detail"]["currentPipelineExecutionStatus"] = status

    return change


def approval(status: str) -> Callable[[Event], None]:
    def change(event: Event) -> None:
        event["detail"]["ModelApprovalStatus"] = status

    return change


def group(name: str) -> Callable[[Event], None]:
    def change(event: Event) -> None:
        event["detail"]["ModelPackageGroupName"] = name

    return change


def source(name: str) -> Callable[[Event], None]:
    def change(event: Event) -> None:
        event["source"] = name

    return change


VARIANTS: dict[str, tuple[Event, set[str]]] = {
    # S3: the prefix ends at a '/': a sibling folder with the same start is not the training data.
    "training key in a sibling folder": (
        variant("s3_object_created_training", key("abalone/training-old/x.csv")),
        set(),
    ),
    "training key at the bucket root": (
        variant("s3_object_created_training", key("training-data.csv")),
        set(),
    ),
    "training data in a nested folder": (
        variant("s3_object_created_training", key("abalone/training/2026/11/part.csv")),
        {"training-data"},
    ),
    "inference data in another bucket": (
        variant("s3_object_created_inference", bucket("mlops-dev-bucket")),
        set(),
    ),
    "inference data from another source": (
        variant("s3_object_created_inference", source("aws.s3.fake")),
        set(),
    ),
    # Step status: another pipeline, another step, another status.
    "model quality failed on the training pipeline": (
        variant("step_model_quality_failed", pipeline("mlops-local-training")),
        {"custom-0"},
    ),
    "model quality failed on someone else's pipeline": (
        variant("step_model_quality_failed", pipeline("mlops-local-batch-inference-copy")),
        set(),
    ),
    "another step failed on the inference pipeline": (
        variant("step_model_quality_failed", step("BatchTransform")),
        {"step-status"},
    ),
    "model quality succeeded instead of failed": (
        variant("step_model_quality_failed", step_status("Succeeded")),
        set(),
    ),
    "model quality still executing": (variant("step_model_quality_failed", step_status("Executing")), set()),
    "register failed instead of succeeded": (
        variant("step_register_succeeded", step_status("Failed")),
        {"step-status"},
    ),
    "register succeeded on the HPO pipeline": (
        variant("step_register_succeeded", pipeline("mlops-local-training-hpo")),
        {"custom-1"},
    ),
    "data-quality check succeeded": (
        variant("step_register_succeeded", step("DataQualityCheck"), pipeline("mlops-local-batch-inference")),
        {"custom-2"},
    ),
    "data-quality check failed": (
        variant("step_register_succeeded", step("DataQualityCheck"), step_status("Failed")),
        {"step-status"},
    ),
    "preprocessing failed on another pipeline": (
        variant("step_preprocess_failed", pipeline("mlops-dev-training")),
        set(),
    ),
    # Execution status.
    "execution stopped": (variant("execution_failed", execution_status("Stopped")), {"execution-status"}),
    "execution failed on another pipeline": (variant("execution_failed", pipeline("other-training")), set()),
    "HPO execution failed": (
        variant("execution_failed", pipeline("mlops-local-training-hpo")),
        {"execution-status"},
    ),
    # Model registry: status and group.
    "approved package of another group": (
        variant("model_package_approved", group("mlops-dev-abalone")),
        set(),
    ),
    "rejected package of another group": (
        variant("model_package_rejected", group("another-team-churn")),
        set(),
    ),
    "approval status lower-case": (variant("model_package_approved", approval("approved")), set()),
    "pending becomes approved": (variant("model_package_pending", approval("Approved")), {"model-approved"}),
    "pending becomes rejected": (variant("model_package_pending", approval("Rejected")), {"model-rejected"}),
}


@pytest.mark.parametrize(("case", "event", "expected"), [(case, *value) for case, value in VARIANTS.items()])
def test_variant_reaches_exactly(case: str, event: Event, expected: set[str]) -> None:
    assert reached(event) == expected, case
