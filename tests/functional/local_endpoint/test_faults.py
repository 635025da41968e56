"""Faults downstream of the real Lambdas: GitLab or SNS down. The event is retried (two retries, as
Lambda does for asynchronous invocations), then lands in the function's dead-letter queue with the error:
nothing is lost, and the dead-letter alarm (lambda.tf) tells someone."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local_aws.server import LocalAWS
from pipeline_scripts.tooling.lambda_package import DEFAULT_SRC, build_package

from .conftest import ROLE, drain, make_queue, pending_model_package

GROUP = "mlops-local-abalone"
PACKAGE_STATE = "SageMaker Model Package State Change"
STEP_STATUS = "SageMaker Model Building Pipeline Execution Step Status Change"


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    return f"http://127.0.0.1:{port}"


def function(
    client: Callable[[str], Any], tmp_path: Path, name: str, handler: str, environment: dict[str, str]
) -> tuple[str, str]:
    """The repo's Lambda zip as function ``name`` with a dead-letter queue; returns (ARN, queue URL)."""
    dlq_url, dlq_arn = make_queue(client, f"{name}-dlq")
    iam = client("iam")
    if "lambda" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]:
        iam.create_role(RoleName="lambda", AssumeRolePolicyDocument="{}")
    arn = client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": build_package(DEFAULT_SRC, tmp_path / f"{name}.zip").read_bytes()},
        Timeout=10,
        DeadLetterConfig={"TargetArn": dlq_arn},
        Environment={"Variables": {"ENVIRONMENT": "local", "LOG_LEVEL": "INFO", **environment}},
    )["FunctionArn"]
    return arn, dlq_url


def route(client: Callable[[str], Any], rule: str, pattern: dict[str, Any], target: str) -> None:
    events = client("events")
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, Targets=[{"Id": rule, "Arn": target}])


def test_gitlab_down_the_approval_is_retried_then_dead_lettered(
    aws: LocalAWS, client: Callable[[str], Any], tmp_path: Path
) -> None:
    secret = client("secretsmanager").create_secret(Name="gitlab-token", SecretString="glptt")["ARN"]
    arn, dlq_url = function(
        client,
        tmp_path,
        "mlops-local-deploy-trigger",
        "deploy_trigger.handler",
        {
            "GITLAB_URL": closed_port_url(),  # GitLab is down
            "GITLAB_PROJECT_ID": "42",
            "GITLAB_REF": "main",
            "GITLAB_TOKEN_SECRET_ARN": secret,
            "MODEL_PACKAGE_GROUP_NAME": GROUP,
        },
    )
    route(
        client,
        "approved",
        {"detail-type": [PACKAGE_STATE], "detail": {"ModelApprovalStatus": ["Approved"]}},
        arn,
    )
    sm = client("sagemaker")
    package = pending_model_package(sm, GROUP)
    sm.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")
    assert aws.wait_idle(60)

    (message,) = drain(client, dlq_url)
    event = json.loads(message["Body"])
    assert event["detail-type"] == PACKAGE_STATE
    assert event["detail"]["ModelPackageArn"] == package  # the approval is kept, to redrive
    assert message["MessageAttributes"]["ErrorMessage"]["StringValue"]
    log = (aws.state_dir / "logs" / "mlops-local-deploy-trigger.log").read_text()
    assert log.count("START RequestId") == 3  # the first attempt and two retries


def test_sns_down_the_notification_is_retried_then_dead_lettered(
    aws: LocalAWS, client: Callable[[str], Any], tmp_path: Path
) -> None:
    missing_topic = "arn:aws:sns:us-east-1:123456789012:deleted-topic"
    arn, dlq_url = function(
        client,
        tmp_path,
        "mlops-local-notifier",
        "notifier.handler",
        {"SNS_TOPIC_ARN": missing_topic, "CUSTOM_NOTIFICATION_CONFIG": "[]"},
    )
    route(client, "step-status", {"detail-type": [STEP_STATUS]}, arn)
    detail = {
        "pipelineArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training",
        "pipelineExecutionArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlops-local-training/"
        "execution/abc123",
        "stepName": "TrainModel",
        "currentStepStatus": "Failed",
        "failureReason": "AlgorithmError: boom",
    }
    client("events").put_events(
        Entries=[{"Source": "aws.sagemaker", "DetailType": STEP_STATUS, "Detail": json.dumps(detail)}]
    )
    assert aws.wait_idle(60)

    (message,) = drain(client, dlq_url)
    assert json.loads(message["Body"])["detail"]["failureReason"] == "AlgorithmError: boom"
    assert "NotFound" in message["MessageAttributes"]["ErrorMessage"]["StringValue"]
    log = (aws.state_dir / "logs" / "mlops-local-notifier.log").read_text()
    assert log.count("START RequestId") == 3
