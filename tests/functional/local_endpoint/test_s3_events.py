"""S3 → EventBridge: "Object Created" in AWS's shape, once, only to ENABLED rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig

from local_aws.server import LocalAWS

from .conftest import drain, local_get, make_queue, sample_event

BUCKET = "mlops-local-bucket"


def _pattern(prefix: str) -> str:
    return json.dumps(
        {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"prefix": prefix}]}},
        }
    )


def _watched_bucket(client: Callable[[str], Any], eventbridge: bool = True) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    config: dict[str, Any] = {"EventBridgeConfiguration": {}} if eventbridge else {}
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=config)


def _rule(
    client: Callable[[str], Any], name: str, prefix: str, queue_arn: str, state: str = "ENABLED"
) -> None:
    events = client("events")
    events.put_rule(Name=name, EventPattern=_pattern(prefix), State=state)
    events.put_targets(Rule=name, Targets=[{"Id": name, "Arn": queue_arn}])


def test_put_object_reaches_enabled_rule_once_in_aws_shape(
    aws: LocalAWS, client: Callable[[str], Any]
) -> None:
    _watched_bucket(client)
    enabled_url, enabled_arn = make_queue(client, "enabled")
    disabled_url, disabled_arn = make_queue(client, "disabled")
    _rule(client, "training-data", "abalone/training/", enabled_arn)
    _rule(client, "training-data-off", "abalone/training/", disabled_arn, state="DISABLED")

    client("s3").put_object(Bucket=BUCKET, Key="abalone/training/training-data.csv", Body=b"1,2,3\n")
    assert aws.wait_idle(20)

    messages = drain(client, enabled_url)
    assert len(messages) == 1  # moto's own S3 → EventBridge emission would make it 2
    assert drain(client, disabled_url) == []
    event = json.loads(messages[0]["Body"])
    sample = sample_event("s3_object_created_training.json")
    assert set(event) == set(sample)
    assert set(event["detail"]) == set(sample["detail"])
    assert set(event["detail"]["object"]) == set(sample["detail"]["object"])
    assert event["detail"]["object"]["key"] == "abalone/training/training-data.csv"
    assert event["detail"]["object"]["size"] == 6
    assert event["detail"]["reason"] == "PutObject"
    assert event["resources"] == [f"arn:aws:s3:::{BUCKET}"]
    assert event["time"].endswith("Z")


def test_notification_configuration_reads_back_eventbridge(client: Callable[[str], Any]) -> None:
    _watched_bucket(client)
    config = client("s3").get_bucket_notification_configuration(Bucket=BUCKET)
    assert "EventBridgeConfiguration" in config

    client("s3").put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
    assert "EventBridgeConfiguration" not in client("s3").get_bucket_notification_configuration(Bucket=BUCKET)


def test_bucket_without_eventbridge_emits_nothing(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    _watched_bucket(client, eventbridge=False)
    url, arn = make_queue(client, "q")
    _rule(client, "training-data", "abalone/", arn)
    client("s3").put_object(Bucket=BUCKET, Key="abalone/training/x.csv", Body=b"x")
    assert aws.wait_idle(20)
    assert drain(client, url) == []
    assert local_get(aws, "events")["events"] == []


def test_multipart_upload_and_copy_emit_with_their_reasons(
    aws: LocalAWS, client: Callable[[str], Any], tmp_path: Path
) -> None:
    _watched_bucket(client)
    url, arn = make_queue(client, "q")
    _rule(client, "all", "abalone/", arn)
    big = tmp_path / "big.csv"
    big.write_bytes(b"0" * (6 * 1024 * 1024))
    small = tmp_path / "small.csv"
    small.write_bytes(b"1,2\n" * 1000)
    s3 = client("s3")
    s3.upload_file(str(small), BUCKET, "abalone/small.csv")  # streamed PutObject (aws-chunked, checksum)
    s3.upload_file(
        str(big), BUCKET, "abalone/big.csv", Config=TransferConfig(multipart_threshold=5 * 1024 * 1024)
    )
    s3.copy_object(
        Bucket=BUCKET, Key="abalone/copy.csv", CopySource={"Bucket": BUCKET, "Key": "abalone/big.csv"}
    )
    assert aws.wait_idle(20)

    details = [json.loads(m["Body"])["detail"] for m in drain(client, url)]
    by_key = {d["object"]["key"]: d for d in details}
    assert by_key["abalone/big.csv"]["reason"] == "CompleteMultipartUpload"
    assert by_key["abalone/big.csv"]["object"]["size"] == 6 * 1024 * 1024
    assert by_key["abalone/copy.csv"]["reason"] == "CopyObject"
    assert by_key["abalone/small.csv"]["reason"] == "PutObject"
    assert by_key["abalone/small.csv"]["object"]["size"] == 4000
    assert s3.get_object(Bucket=BUCKET, Key="abalone/small.csv")["Body"].read() == small.read_bytes()
    assert len(details) == 3
    assert (
        by_key["abalone/big.csv"]["object"]["sequencer"] < by_key["abalone/copy.csv"]["object"]["sequencer"]
    )


def test_events_record_matched_rules_and_deliveries(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    _watched_bucket(client)
    _, arn = make_queue(client, "q")
    _rule(client, "training-data", "abalone/training/", arn)
    client("s3").put_object(Bucket=BUCKET, Key="abalone/other/x.csv", Body=b"x")
    client("s3").put_object(Bucket=BUCKET, Key="abalone/training/x.csv", Body=b"x")
    assert aws.wait_idle(20)

    records = local_get(aws, "events")["events"]
    assert [r["matched_rules"] for r in records] == [[], ["training-data"]]
    assert records[1]["deliveries"][0]["status"] == "ok"
    assert records[1]["deliveries"][0]["target_arn"] == arn
