"""Faults the endpoint and the uploads must survive: concurrent uploads of one batch, a restart on the same
state directory (in-process: the journal replayed), ``fresh``, a torn journal line."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_aws.layer.journal import Journal
from local_aws.server import LocalAWS
from pipeline_scripts.config import load_config
from pipeline_scripts.errors import DataError
from pipeline_scripts.ops import data

BUCKET = "mlops-local-bucket"


def _race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; each result or exception."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_concurrent_conditional_puts_of_one_key_exactly_one_wins(client: Callable[[str], Any]) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    key = "abalone/training/batch-race/training-data.csv"
    results = _race(8, lambda i: data.put_new_object(s3, BUCKET, key, f"writer {i}\n".encode(), uploaded=[]))
    winners = [i for i, r in enumerate(results) if r is None]
    assert len(winners) == 1, results
    losers = [r for r in results if r is not None]
    assert all(isinstance(r, DataError) for r in losers), losers
    assert all(f"s3://{BUCKET}/{key}" in str(r) and "did not overwrite" in str(r) for r in losers)
    assert all("new --batch" in (r.hint or "") for r in losers)
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == f"writer {winners[0]}\n".encode()


def test_two_concurrent_uploads_of_one_batch_one_succeeds_and_the_object_is_its(
    client: Callable[[str], Any], tmp_path: Path
) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    config = load_config("local", environ={})
    sources = []
    for i in range(2):
        folder = tmp_path / f"upload-{i}"
        folder.mkdir()
        rows = "\n".join(f"M,0.{i}5,0.4,0.1,0.5,0.2,0.1,0.15,{9 + i}" for _ in range(5))
        (folder / "training-data.csv").write_text(rows + "\n")
        sources.append(folder)
    results = _race(2, lambda i: data.upload_data(s3, config, "training", sources[i], batch="same-batch"))
    ok = [i for i, r in enumerate(results) if isinstance(r, list)]
    assert len(ok) == 1, results
    refused = results[1 - ok[0]]
    assert isinstance(refused, DataError) and "same-batch/training-data.csv" in str(refused)
    key = f"{config.env.bucket_train_prefix}/same-batch/training-data.csv"
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert body == (sources[ok[0]] / "training-data.csv").read_bytes()


def _client(endpoint: LocalAWS, service: str) -> Any:
    return boto3.session.Session(region_name="us-east-1").client(service, endpoint_url=endpoint.endpoint_url)


def test_a_restart_on_the_same_state_dir_brings_back_the_aws_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with LocalAWS(state, max_workers=1) as first:
        s3, sm = _client(first, "s3"), _client(first, "sagemaker")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="big.bin", Body=b"\x00\x01" * 50_000)  # a body file in the journal
        s3.put_object(Bucket=BUCKET, Key="small.txt", Body=b"hello")
        s3.delete_object(Bucket=BUCKET, Key="small.txt")
        kms = _client(first, "kms")
        kms.create_alias(AliasName="alias/data", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        secrets = _client(first, "secretsmanager")
        secrets.create_secret(Name="token", SecretString="v1")
        secrets.put_secret_value(SecretId="token", SecretString="v2")
        sm.create_model_package_group(ModelPackageGroupName="group")
        arn = sm.create_model_package(
            ModelPackageGroupName="group",
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": "xgb"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
        first.wait_idle(10)
        events_before = len(first.events())
    assert events_before >= 2  # the package created, then approved
    with LocalAWS(state, max_workers=1) as second:
        assert second.restored.requests >= 10 and second.restored.failed == 0
        s3, sm = _client(second, "s3"), _client(second, "sagemaker")
        assert s3.get_object(Bucket=BUCKET, Key="big.bin")["Body"].read() == b"\x00\x01" * 50_000
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["big.bin"]
        assert _client(second, "kms").describe_key(KeyId="alias/data")["KeyMetadata"]["Enabled"]
        assert _client(second, "secretsmanager").get_secret_value(SecretId="token")["SecretString"] == "v2"
        described = sm.describe_model_package(ModelPackageName=arn)
        assert described["ModelApprovalStatus"] == "Approved"
        second.wait_idle(10)
        assert len(second.events()) == events_before  # the replay emitted nothing new; the log came back
    with LocalAWS(state, fresh=True) as third:
        assert third.restored.requests == 0
        assert _client(third, "s3").list_buckets()["Buckets"] == []
        assert third.events() == []


def test_a_torn_last_journal_line_is_skipped(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with LocalAWS(state) as first:
        _client(first, "s3").create_bucket(Bucket=BUCKET)
    journal = Journal(state / "journal")
    with journal.path.open("a") as handle:
        handle.write('{"seq": 99, "environ": {"REQUEST_METHOD": "PU')  # killed mid-write
    assert len(list(journal.entries())) == 1
    with LocalAWS(state) as second:
        assert second.restored.requests == 1
        assert [b["Name"] for b in _client(second, "s3").list_buckets()["Buckets"]] == [BUCKET]


@pytest.mark.parametrize(
    ("method", "target", "path", "journaled"),
    [
        ("POST", "SageMaker.CreatePipeline", "/", True),
        ("POST", "SageMaker.DescribePipeline", "/", False),
        ("POST", "SageMaker.StartPipelineExecution", "/", False),
        ("POST", "AWSEvents.PutEvents", "/", False),
        ("POST", "", "/2015-03-31/functions/f/invocations", False),
        ("PUT", "", "/bucket/key", True),
        ("GET", "", "/bucket/key", False),
    ],
)
def test_what_the_journal_keeps(method: str, target: str, path: str, journaled: bool) -> None:
    from local_aws.layer.http import Call
    from local_aws.layer.journal import is_journaled

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "HTTP_X_AMZ_TARGET": target, "QUERY_STRING": ""}
    assert is_journaled(Call(json.loads(json.dumps(environ)))) is journaled
