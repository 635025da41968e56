"""The notifier: readable messages for every event kind, the configured custom messages, SNS failures."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import common
import hcl2
import notifier
import pytest
from botocore.exceptions import ClientError
from notifier import CustomMessage, NotifierConfig, build_message, parse_custom_config

from .conftest import ROOT

Event = Callable[[str], dict[str, Any]]
TOPIC = "arn:aws:sns:us-east-1:123456789012:mlops-local-notifications"


class FakeSNS:
    """In-memory SNS: records what was published; ``fail`` makes publish raise like botocore does."""

    def __init__(self, fail: str | None = None) -> None:
        self.published: list[dict[str, str]] = []
        self.fail = fail

    def publish(self, **kwargs: str) -> dict[str, str]:
        if self.fail:
            raise ClientError({"Error": {"Code": self.fail, "Message": "simulated"}}, "Publish")
        self.published.append(kwargs)
        return {"MessageId": f"msg-{len(self.published)}"}


@pytest.fixture
def sns(monkeypatch: pytest.MonkeyPatch) -> FakeSNS:
    fake = FakeSNS()
    common.set_client("sns", fake)
    monkeypatch.setenv("SNS_TOPIC_ARN", TOPIC)
    monkeypatch.setenv("ENVIRONMENT", "local")
    monkeypatch.setenv("CUSTOM_NOTIFICATION_CONFIG", "[]")
    return fake


def parsed(raw: dict[str, Any]) -> Any:
    return common.parse_event(raw)


def details_of(body: str) -> Any:
    return json.loads(body.split("\nDetails:\n", 1)[1])


LOCAL = NotifierConfig(environment="local")


# --------------------------------------------------------------------------- message per event kind


def test_failed_step_message(event: Event) -> None:
    raw = event("step_preprocess_failed")
    message = build_message(parsed(raw), LOCAL)
    assert message.subject == "[local] mlops-local-training: PreprocessData Failed"
    body = message.body
    assert body.startswith(
        'Step "PreprocessData" (Processing) of pipeline "mlops-local-training" is now Failed (was Executing).'
    )
    assert "When: 2026-11-03 09:18:39 UTC (step started 2026-11-03 09:12:10 UTC)" in body
    assert (
        "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1"
        "#/pipelines/mlops-local-training/executions/k2x8f4q9m1zt"
    ) in body
    assert "Failure reason: ClientError: Failed to download data." in body
    assert "Produced (processingJob): arn:aws:sagemaker:us-east-1:123456789012:processing-job/" in body
    assert details_of(body) == raw["detail"]
    # order: what, when, link, failure reason, details
    assert body.index("When:") < body.index("Open in the console:") < body.index("Failure reason:")
    assert body.index("Failure reason:") < body.index("Details:")


def test_succeeded_step_has_no_failure_reason(event: Event) -> None:
    message = build_message(parsed(event("step_register_succeeded")), LOCAL)
    assert message.subject == "[local] mlops-local-training: CandidateModel-RegisterModel Succeeded"
    assert "Failure reason" not in message.body
    assert "Produced (registerModel): arn:aws:sagemaker:us-east-1:123456789012:model-package/" in message.body


def test_failed_execution_message(event: Event) -> None:
    raw = event("execution_failed")
    message = build_message(parsed(raw), LOCAL)
    assert message.subject == "[local] mlops-local-training: execution Failed"
    assert message.body.startswith(
        'Execution "execution-1762161126" of pipeline "mlops-local-training" is now Failed (was Executing).'
    )
    assert "When: 2026-11-03 09:18:41 UTC (started 2026-11-03 09:12:06 UTC)" in message.body
    assert "list-pipeline-execution-steps --pipeline-execution-arn " + raw["detail"][
        "pipelineExecutionArn"
    ] in (message.body)
    assert "#/pipelines/mlops-local-training/executions/k2x8f4q9m1zt" in message.body
    assert details_of(message.body) == raw["detail"]


def test_succeeded_execution_message(event: Event) -> None:
    message = build_message(parsed(event("execution_succeeded")), LOCAL)
    assert message.subject == "[local] mlops-local-batch-inference: execution Succeeded"
    assert "Failure reason" not in message.body


def test_rejected_model_message(event: Event) -> None:
    raw = event("model_package_rejected")
    message = build_message(parsed(raw), LOCAL)
    assert message.subject == "[local] model mlops-local-abalone v3: Rejected"
    assert message.body.startswith(
        'Model version 3 of model package group "mlops-local-abalone" was rejected.'
    )
    assert "Reason given: Residuals drift upward for large abalone" in message.body
    assert "Model package: arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-local-abalone/3" in (
        message.body
    )
    assert details_of(message.body) == raw["detail"]


def test_pending_model_message_says_how_to_approve(event: Event) -> None:
    message = build_message(parsed(event("model_package_pending")), LOCAL)
    assert "is waiting for approval" in message.body
    assert "mlops --env local models approve 3" in message.body
    assert "mlops --env local models reject 3" in message.body


def test_hpo_model_is_flagged_for_enterprise_review(event: Event) -> None:
    raw = event("model_package_pending")
    raw["detail"]["CustomerMetadataProperties"] = {"trained_by": "hpo", "enterprise_review_required": "true"}
    assert "flagged for enterprise review" in build_message(parsed(raw), LOCAL).body


def test_any_other_package_status_is_readable(event: Event) -> None:
    raw = event("model_package_approved")
    raw["detail"]["ModelApprovalStatus"] = "SomethingNew"
    message = build_message(parsed(raw), LOCAL)
    assert message.subject.endswith("v3: SomethingNew")
    assert "changed state: approval status is now SomethingNew." in message.body


# --------------------------------------------------------------------------- custom messages


def test_custom_message_and_action_required_prefix(event: Event) -> None:
    config = NotifierConfig(
        environment="dev",
        custom_messages=(
            CustomMessage("ModelQualityCalcStep", "Failed", "HPO is starting.", action_required=True),
            CustomMessage("ModelQualityCalcStep", "Succeeded", "All good."),
        ),
    )
    message = build_message(parsed(event("step_model_quality_failed")), config)
    assert (
        message.subject == "Action required: [dev] mlops-local-batch-inference: ModelQualityCalcStep Failed"
    )
    assert "HPO is starting." in message.body
    assert "All good." not in message.body
    assert message.body.index("Failure reason:") < message.body.index("HPO is starting.")
    assert message.body.index("HPO is starting.") < message.body.index("Details:")


def test_custom_pairs_default_to_no_action_required(event: Event) -> None:
    config = NotifierConfig("dev", (CustomMessage("ModelQualityCalcStep", "Succeeded", "All good."),))
    message = build_message(parsed(event("step_model_quality_succeeded")), config)
    assert message.subject == "[dev] mlops-local-batch-inference: ModelQualityCalcStep Succeeded"
    assert "All good." in message.body


def _tfvars_custom_pairs() -> list[Any]:
    params = []
    for path in sorted((ROOT / "env_files").glob("*.tfvars")):
        with path.open() as handle:
            entries = hcl2.load(handle).get("custom_notification_config", [])
        for i, entry in enumerate(entries):
            clean = {
                key: value.strip('"') if isinstance(value, str) else value for key, value in entry.items()
            }
            params.append(pytest.param(clean, entries, id=f"{path.stem}-{i}-{clean['step_name']}"))
    return params


TFVARS_PAIRS = _tfvars_custom_pairs()


def test_every_environment_configures_custom_messages() -> None:
    assert {str(p.id).split("-", 1)[0] for p in TFVARS_PAIRS} == {"dev", "local", "prod", "staging"}


@pytest.mark.parametrize(("pair", "entries"), TFVARS_PAIRS)
def test_configured_custom_message_reaches_the_body(
    event: Event,
    sns: FakeSNS,
    monkeypatch: pytest.MonkeyPatch,
    pair: dict[str, Any],
    entries: Any,
) -> None:
    """Regression: the original sample read a missing key and silently dropped these messages."""
    config = [
        {key: value.strip('"') if isinstance(value, str) else value for key, value in entry.items()}
        for entry in entries
    ]
    # what Terraform's jsonencode(var.custom_notification_config) puts in the function's environment
    monkeypatch.setenv("CUSTOM_NOTIFICATION_CONFIG", json.dumps(config))
    raw = event("step_model_quality_failed")
    raw["detail"]["stepName"] = pair["step_name"]
    raw["detail"]["currentStepStatus"] = pair["step_status"]
    result = notifier.handler(raw)
    assert result["status"] == "published"
    (published,) = sns.published
    assert pair["step_msg"] in published["Message"]
    others = [
        c["step_msg"]
        for c in config
        if (c["step_name"], c["step_status"]) != (pair["step_name"], pair["step_status"])
    ]
    assert not [msg for msg in others if msg in published["Message"]]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{", "not valid JSON"),
        ('{"step_name": "x"}', "must be a JSON list"),
        ('["x"]', "must be an object"),
        ('[{"step_name": "A", "step_status": "Failed"}]', "step_msg must be a non-empty string"),
        (
            '[{"step_name": "A", "step_status": "Failed", "step_msg": "m", "action_required": "yes"}]',
            "true or false",
        ),
    ],
)
def test_bad_custom_config_raises(text: str, error: str) -> None:
    with pytest.raises(common.ConfigurationError, match=error):
        parse_custom_config(text)


def test_custom_config_accepts_terraform_string_booleans() -> None:
    (entry,) = parse_custom_config(
        '[{"step_name": "A", "step_status": "Failed", "step_msg": " m ", "action_required": "true"}]'
    )
    assert entry == CustomMessage("A", "Failed", "m", action_required=True)
    assert parse_custom_config("") == ()


# --------------------------------------------------------------------------- subject limits


def test_subject_stays_within_the_sns_limit_for_long_names(event: Event) -> None:
    raw = event("step_model_quality_failed")
    long_pipeline = "p" * 200
    raw["detail"]["pipelineExecutionArn"] = (
        f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{long_pipeline}/execution/abc"
    )
    raw["detail"]["pipelineArn"] = f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{long_pipeline}"
    raw["detail"]["stepName"] = "S" * 64
    config = NotifierConfig("staging", (CustomMessage("S" * 64, "Failed", "m", action_required=True),))
    subject = build_message(parsed(raw), config).subject
    assert len(subject) <= 100
    assert subject.startswith("Action required: [staging] ppp")
    assert subject.endswith("...")


def test_subject_has_no_control_characters(event: Event) -> None:
    raw = event("step_preprocess_failed")
    raw["detail"]["stepName"] = "Pre\nprocess\tData"
    subject = build_message(parsed(raw), LOCAL).subject
    assert subject == "[local] mlops-local-training: Pre process Data Failed"


# --------------------------------------------------------------------------- handler


def test_handler_publishes_to_the_topic(event: Event, sns: FakeSNS) -> None:
    result = notifier.handler(event("step_preprocess_failed"), None)
    assert result == {
        "status": "published",
        "message_id": "msg-1",
        "subject": "[local] mlops-local-training: PreprocessData Failed",
    }
    (published,) = sns.published
    assert published["TopicArn"] == TOPIC
    assert published["Subject"] == result["subject"]
    assert "Failure reason:" in published["Message"]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e.pop("detail"), "no 'detail'"),
        (lambda e: e["detail"].update(currentStepStatus=["Failed"]), "currentStepStatus must be a string"),
        (
            lambda e: e.update({"detail-type": "EC2 Instance State-change Notification"}),
            "unknown detail-type",
        ),
    ],
)
def test_malformed_events_are_logged_and_dropped(
    event: Event,
    sns: FakeSNS,
    caplog: pytest.LogCaptureFixture,
    mutate: Callable[[dict[str, Any]], Any],
    reason: str,
) -> None:
    raw = event("step_preprocess_failed")
    mutate(raw)
    with caplog.at_level(logging.WARNING):
        result = notifier.handler(raw, None)
    assert result["status"] == "dropped"
    assert reason in result["reason"]
    assert sns.published == []
    assert any(
        reason in record.getMessage() and raw["id"] in record.getMessage() for record in caplog.records
    )


def test_s3_events_are_not_for_the_notifier(event: Event, sns: FakeSNS) -> None:
    result = notifier.handler(event("s3_object_created_training"), None)
    assert result["status"] == "dropped"
    assert "does not handle 'Object Created'" in result["reason"]


def test_publish_failure_raises(event: Event, sns: FakeSNS) -> None:
    sns.fail = "AuthorizationError"
    with pytest.raises(ClientError, match="AuthorizationError"):
        notifier.handler(event("execution_failed"), None)


def test_missing_topic_raises(event: Event, sns: FakeSNS, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SNS_TOPIC_ARN")
    with pytest.raises(common.ConfigurationError, match="SNS_TOPIC_ARN"):
        notifier.handler(event("execution_failed"), None)
    assert sns.published == []
