"""A local endpoint per test module (fast), reset before every test (independent)."""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_aws.common.envelopes import make_event
from local_aws.executor.idempotency import RequestTokens
from local_aws.server import LocalAWS

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
ROLE = "arn:aws:iam::123456789012:role/lambda"


class FakeExecutor:
    """Stands in for local_aws.executor.PipelineExecutor: records starts, succeeds at once, emits; answers
    a ClientRequestToken it has seen with the same RequestTokens as the real one."""

    def __init__(
        self,
        clients: Any,
        workdir: Path,
        emit: Callable[[dict[str, Any]], str],
        account_id: str,
        region: str,
        *,
        max_workers: int = 2,
    ) -> None:
        self.clients, self.workdir, self.emit = clients, workdir, emit
        self.account_id, self.region = account_id, region
        self.started: list[dict[str, Any]] = []
        self.executions: dict[str, dict[str, Any]] = {}
        self.stopped: list[str] = []
        self.tokens = RequestTokens()

    def start(
        self,
        pipeline_arn: str,
        pipeline_name: str,
        definition: Any,
        parameters: list[dict[str, str]],
        *,
        display_name: str | None = None,
        description: str | None = None,
        client_request_token: str | None = None,
    ) -> str:
        new = f"{pipeline_arn}/execution/{uuid.uuid4().hex[:12]}"
        arn = self.tokens.claim(pipeline_arn, client_request_token, new)
        if arn != new:  # a token it has seen: the execution it started
            return arn
        now = datetime.now(UTC)
        self.started.append(
            {
                "arn": arn,
                "pipeline": pipeline_name,
                "definition": definition,
                "parameters": {p["Name"]: p["Value"] for p in parameters},
                "display_name": display_name,
                "token": client_request_token,
            }
        )
        self.executions[arn] = {
            "PipelineArn": pipeline_arn,
            "PipelineExecutionArn": arn,
            "PipelineExecutionDisplayName": display_name or arn.rsplit("/", 1)[1],
            "PipelineExecutionStatus": "Succeeded",
            "CreationTime": now,
            "LastModifiedTime": now,
        }
        detail = {
            "pipelineArn": pipeline_arn,
            "pipelineExecutionArn": arn,
            "currentPipelineExecutionStatus": "Succeeded",
            "previousPipelineExecutionStatus": "Executing",
        }
        self.emit(
            make_event(
                "aws.sagemaker",
                "SageMaker Model Building Pipeline Execution Status Change",
                detail,
                account_id=self.account_id,
                region=self.region,
                resources=[pipeline_arn, arn],
            )
        )
        return arn

    def describe(self, arn: str) -> dict[str, Any]:
        return dict(self.executions[arn])  # KeyError → ResourceNotFound

    def list_executions(self, pipeline_arn: str) -> list[dict[str, Any]]:
        return [e for e in self.executions.values() if e["PipelineArn"] == pipeline_arn]

    def list_steps(self, arn: str) -> list[dict[str, Any]]:
        started = self.executions[arn]["CreationTime"]
        return [
            {"StepName": "First", "StepStatus": "Succeeded", "StartTime": started},
            {"StepName": "Second", "StepStatus": "Succeeded", "StartTime": started.replace(microsecond=0)},
        ]

    def stop(self, arn: str) -> None:
        if arn not in self.executions:
            raise KeyError(arn)
        self.stopped.append(arn)

    def wait(self, arn: str, timeout: float) -> dict[str, Any]:
        return self.describe(arn)

    def shutdown(self) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAWS]:
    state = tmp_path_factory.mktemp("local-aws")
    with LocalAWS(state, executor_factory=FakeExecutor, lambda_retry_delays=(0.05, 0.05)) as aws:
        yield aws


@pytest.fixture
def aws(server: LocalAWS) -> LocalAWS:
    server.reset()
    return server


_SESSION: Any = boto3.session.Session(region_name="us-east-1")  # one session: loading models is slow


@pytest.fixture
def client(aws: LocalAWS) -> Callable[[str], Any]:
    """``client("s3")``: a boto3 client on the endpoint, as a user's code would create it."""
    made: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in made:
            made[service] = _SESSION.client(service, endpoint_url=aws.endpoint_url)
        return made[service]

    return make


def local_get(aws: LocalAWS, name: str) -> Any:
    with urllib.request.urlopen(f"{aws.endpoint_url}/_local/{name}", timeout=10) as response:
        return json.loads(response.read())


def sample_event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS_DIR / name).read_text()))


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def create_function(
    client: Callable[[str], Any], name: str, source: str, *, env: dict[str, str] | None = None, **extra: Any
) -> str:
    iam = client("iam")
    try:
        iam.get_role(RoleName="lambda")
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ]
        }
        iam.create_role(RoleName="lambda", AssumeRolePolicyDocument=json.dumps(trust))
    response = client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": source})},
        Timeout=30,
        Environment={"Variables": env or {}},
        **extra,
    )
    return str(response["FunctionArn"])


def make_queue(client: Callable[[str], Any], name: str) -> tuple[str, str]:
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def drain(client: Callable[[str], Any], url: str) -> list[dict[str, Any]]:
    messages = client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
    )
    return list(messages.get("Messages", []))


def pending_model_package(sm: Any, group: str) -> str:
    """A new group ``group`` with one PendingManualApproval version; returns its ARN."""
    sm.create_model_package_group(ModelPackageGroupName=group)
    return str(
        sm.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": "xgboost:1.7-1", "ModelDataUrl": "s3://b/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )
