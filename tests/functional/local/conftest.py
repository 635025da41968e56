"""A moto-backed S3 + SageMaker (in process) with a PipelineExecutor over it."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_aws.executor import Clients, PipelineExecutor
from pipeline_scripts.config.contracts import load as load_contracts
from tests.functional.local.definitions import BUCKET

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class LocalAws:
    clients: Clients
    executor: PipelineExecutor
    workdir: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    name: str = "test-pipeline"  # the pipeline start() and run() use unless told otherwise

    def put(self, key: str, body: str | bytes, bucket: str = BUCKET) -> str:
        self.clients.s3.put_object(Bucket=bucket, Key=key, Body=body)
        return f"s3://{bucket}/{key}"

    def get(self, uri: str) -> bytes:
        bucket, _, key = uri[len("s3://") :].partition("/")
        return bytes(self.clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def keys(self, prefix: str, bucket: str = BUCKET) -> list[str]:
        pages = self.clients.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def pipeline_arn(self, name: str | None = None) -> str:
        return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{name or self.name}"

    def start(self, definition: Any, name: str | None = None, **kwargs: Any) -> str:
        return self.executor.start(self.pipeline_arn(name), name or self.name, definition, **kwargs)

    def run(self, definition: Any, name: str | None = None, timeout: float = 120, **kwargs: Any) -> str:
        arn = self.start(definition, name, **kwargs)
        self.executor.wait(arn, timeout)
        return arn

    def steps(self, execution_arn: str) -> dict[str, dict[str, Any]]:
        return {s["StepName"]: s for s in self.executor.list_steps(execution_arn)}

    def events_of(self, execution_arn: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["detail"]["pipelineExecutionArn"] == execution_arn]


@contextlib.contextmanager
def local_aws_at(workdir: Path, max_workers: int = 2) -> Iterator[LocalAws]:
    with mock_aws():
        clients = Clients(
            s3=boto3.client("s3", region_name=REGION), sagemaker=boto3.client("sagemaker", region_name=REGION)
        )
        clients.s3.create_bucket(Bucket=BUCKET)
        events: list[dict[str, Any]] = []
        executor = PipelineExecutor(
            clients,
            workdir,
            events.append,
            ACCOUNT,
            REGION,
            detail_types=load_contracts().detail_types,
            max_workers=max_workers,
        )
        try:
            yield LocalAws(clients=clients, executor=executor, workdir=workdir, events=events)
        finally:
            executor.shutdown(timeout=30)


@pytest.fixture(scope="module")
def shared_local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    """One moto state and executor per module (starting them costs ~0.4 s)."""
    with local_aws_at(tmp_path_factory.mktemp("executor") / "work") as env:
        yield env


@pytest.fixture
def local_aws(shared_local_aws: LocalAws, request: pytest.FixtureRequest) -> LocalAws:
    """The module's local AWS, with a pipeline name of this test's own."""
    name = re.sub(r"[^A-Za-z0-9-]+", "-", request.node.name).strip("-")[-80:]
    return replace(shared_local_aws, name=name)
