"""Bad-input suite, events: malformed EventBridge events to each Lambda are logged and dropped with a
reason (never retried, nothing started, published or triggered); SNS limits hold for huge events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import botocore.session
import common
import deploy_trigger
import notifier
import pipeline_trigger
import pytest
from notifier import MAX_MESSAGE_BYTES, MAX_SUBJECT, NotifierConfig, build_message, fit_message

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-local-abalone/3"


class Refuse:
    """Any AWS client call is a test failure: a dropped event touches nothing."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a dropped event called {name}")


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for service in ("sns", "sagemaker", "s3", "secretsmanager"):
        common.set_client(service, Refuse())
    monkeypatch.setattr(deploy_trigger, "post_trigger", Refuse().__getattr__)
    for name, value in {
        "SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t",
        "ENVIRONMENT": "local",
        "GITLAB_URL": "https://gitlab.example.com",
        "GITLAB_PROJECT_ID": "1",
        "GITLAB_REF": "main",
        "GITLAB_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:t",
        "MODEL_PACKAGE_GROUP_NAME": "mlops-local-abalone",
        "TRAINING_PIPELINE": "mlops-local-training",
        "HPO_PIPELINE": "mlops-local-training-hpo",
        "INFERENCE_PIPELINE": "mlops-local-batch-inference",
        "BUCKET_TRAIN_PREFIX": "abalone/training",
        "BUCKET_INF_PREFIX": "abalone/inference",
    }.items():
        monkeypatch.setenv(name, value)


def _approved(event: Callable[[str], dict[str, Any]], arn: Any) -> dict[str, Any]:
    body = event("model_package_approved")
    body["detail"]["ModelPackageArn"] = arn
    return body


HANDLERS = {
    "notifier": notifier.handler,
    "pipeline": pipeline_trigger.handler,
    "deploy": deploy_trigger.handler,
}
MALFORMED: list[tuple[str, Any, str]] = [
    ("not an object", ["x"], "not an EventBridge event"),
    ("a string", "event", "not an EventBridge event"),
    ("no detail", {"detail-type": "x", "source": "y"}, "no 'detail'"),
    ("detail is a list", {"detail-type": "x", "source": "y", "detail": []}, "expected an object"),
    (
        "resources not a list",
        {"detail-type": "x", "source": "y", "detail": {}, "resources": "a"},
        "resources",
    ),
    ("unknown detail-type", {"detail-type": "Nope", "source": "y", "detail": {}}, "unknown detail-type"),
    ("detail-type missing", {"source": "y", "detail": {}}, "detail-type is missing"),
    ("detail-type a number", {"detail-type": 3, "source": "y", "detail": {}}, "must be a string"),
]


@pytest.mark.parametrize("lambda_name", sorted(HANDLERS))
@pytest.mark.parametrize(("case", "body", "reason"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_envelopes_are_dropped_with_a_reason(
    lambda_name: str, case: str, body: Any, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        result = HANDLERS[lambda_name](body)
    assert result["status"] == "dropped"
    assert reason in result["reason"]
    assert reason in caplog.text, "the reason is logged"


BAD_ARNS = [
    "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-local-abalone/3`touch /tmp/x`",
    "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops-local-abalone/$(id)",
    "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1;id",
    "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1\nid",
    "arn:aws:sagemaker:",
    "arn:aws:sagemaker:us-east-1:12345:model-package/g/1",
    "arn:aws:s3:::bucket/key",
    " " + ARN,
    ARN + " ",
    "arn:aws:sagemaker:us-east-1:123456789012:model-package/" + "g" * 2100 + "/1",
    "",
]


@pytest.mark.parametrize("arn", BAD_ARNS, ids=range(len(BAD_ARNS)))
def test_deploy_trigger_never_forwards_a_malformed_arn(
    event: Callable[[str], dict[str, Any]], arn: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        result = deploy_trigger.handler(_approved(event, arn))
    assert result["status"] == "dropped", "never POSTed to GitLab (the fixture refuses the call)"
    assert "ModelPackageArn" in result["reason"]
    assert "ModelPackageArn" in caplog.text


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("ModelPackageVersion", "3", "must be an integer"),
        ("ModelPackageVersion", True, "must be an integer"),
        ("ModelPackageGroupName", None, "ModelPackageGroupName is missing"),
        ("ModelApprovalStatus", 1, "must be a string"),
        ("CustomerMetadataProperties", "x", "must be an object"),
    ],
)
def test_model_package_events_with_bad_fields_are_dropped(
    event: Callable[[str], dict[str, Any]], field: str, value: Any, reason: str
) -> None:
    body = event("model_package_approved")
    body["detail"][field] = value
    for handler in (deploy_trigger.handler, notifier.handler):
        result = handler(body)
        assert result["status"] == "dropped" and reason in result["reason"]


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("abalone/training/batch/TRAINING-DATA.CSV", "lower-case .csv"),
        ("abalone/training/batch/data.Csv", "lower-case .csv"),
        ("abalone/training/batch/data.csv.gz", "not a .csv file"),
        ("abalone/training/batch/", "folder marker"),
        ("abalone/inference/batch/INFERENCE.CSV", "lower-case .csv"),
        ("abalone/inference/batch/ground-truth.csv", "ground truth"),
        ("elsewhere/data.csv", "under neither"),
    ],
)
def test_pipeline_trigger_starts_only_for_keys_the_steps_read(
    event: Callable[[str], dict[str, Any]], key: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = event("s3_object_created_training")
    body["detail"]["object"]["key"] = key
    with caplog.at_level(logging.INFO):
        result = pipeline_trigger.handler(body)
    assert result["status"] in ("ignored", "dropped"), "nothing started (the fixture refuses SageMaker)"
    assert why in result["reason"] and key in caplog.text


@pytest.mark.parametrize(("size", "truncated"), [(1_000, False), (140_000, True), (600_000, True)])
def test_notifier_messages_stay_within_sns_limits(
    event: Callable[[str], dict[str, Any]], size: int, truncated: bool
) -> None:
    body = event("step_model_quality_failed")
    body["detail"]["failureReason"] = "é" * (size // 2)  # two bytes each in UTF-8
    body["detail"]["pipelineExecutionArn"] = body["detail"]["pipelineExecutionArn"].replace(
        "/execution/", "/execution/" + "x" * 300
    )
    message = build_message(common.parse_event(body), NotifierConfig(environment="local" * 40))
    assert len(message.body.encode("utf-8")) <= MAX_MESSAGE_BYTES
    assert len(message.subject) <= MAX_SUBJECT
    assert ("[... truncated:" in message.body) is truncated


def test_fit_message_cuts_on_a_character_boundary() -> None:
    text = fit_message("€" * 1000, budget=500)
    assert len(text.encode("utf-8")) <= 500 and text.endswith("full event]")
    text.encode("utf-8").decode("utf-8")


def test_the_lambda_arn_rule_is_botocores_pattern() -> None:
    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("ModelPackageArn")
    assert shape.metadata["pattern"] == common.MODEL_PACKAGE_ARN_PATTERN
    assert shape.metadata["max"] == 2048
