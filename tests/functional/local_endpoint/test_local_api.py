"""SNS records, /_local endpoints, reset, schedules."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_aws.events.scheduler import Scheduler
from local_aws.server import LocalAWS, exports

from .conftest import drain, local_get, make_queue


def _post(aws: LocalAWS, name: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{aws.endpoint_url}/_local/{name}", data=json.dumps(body or {}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_sns_publish_is_recorded(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    sns = client("sns")
    topic = sns.create_topic(Name="mlops-local-notifications")["TopicArn"]
    message_id = sns.publish(
        TopicArn=topic,
        Subject="Pipeline failed",
        Message="TrainModel failed",
        MessageAttributes={"severity": {"DataType": "String", "StringValue": "high"}},
    )["MessageId"]
    sns.publish_batch(
        TopicArn=topic,
        PublishBatchRequestEntries=[
            {"Id": "1", "Message": "one"},
            {"Id": "2", "Message": "two", "Subject": "s"},
        ],
    )

    records = local_get(aws, "notifications")["notifications"]
    assert [r["message"] for r in records] == ["TrainModel failed", "one", "two"]
    first = records[0]
    assert first["topic_arn"] == topic
    assert first["subject"] == "Pipeline failed"
    assert first["message_id"] == message_id
    assert first["attributes"] == {"severity": {"DataType": "String", "Value": "high"}}
    assert first["time"].endswith("Z")
    assert records[2]["subject"] == "s"
    assert (aws.state_dir / "notifications.jsonl").read_text().count("\n") == 3


def test_sns_target_publishes_and_records(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    topic = client("sns").create_topic(Name="t")["TopicArn"]
    events = client("events")
    events.put_rule(Name="to-sns", EventPattern=json.dumps({"source": ["my.app"]}))
    events.put_targets(Rule="to-sns", Targets=[{"Id": "t", "Arn": topic, "InputPath": "$.detail"}])
    events.put_events(Entries=[{"Source": "my.app", "DetailType": "x", "Detail": '{"a": 1}'}])
    assert aws.wait_idle(20)
    (record,) = aws.notifications()
    assert json.loads(record["message"]) == {"a": 1}


def test_failed_publish_is_not_recorded(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    with pytest.raises(ClientError):
        client("sns").publish(TopicArn="arn:aws:sns:us-east-1:123456789012:missing", Message="x")
    assert aws.notifications() == []


def test_reset_clears_moto_and_the_layer(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    client("s3").create_bucket(Bucket="kept-until-reset")
    topic = client("sns").create_topic(Name="t")["TopicArn"]
    client("sns").publish(TopicArn=topic, Message="x")
    assert _post(aws, "reset") == {"reset": True}
    assert client("s3").list_buckets()["Buckets"] == []
    assert local_get(aws, "notifications") == {"notifications": []}
    assert local_get(aws, "events") == {"events": []}


def test_health_wait_and_unknown_local_path(aws: LocalAWS) -> None:
    assert local_get(aws, "health")["account"] == "123456789012"
    assert _post(aws, "wait", {"timeout": 5}) == {"idle": True}
    with pytest.raises(urllib.error.HTTPError) as caught:
        local_get(aws, "nope")
    caught.value.close()
    assert caught.value.code == 404


def test_rate_rule_fires_after_its_period_and_not_when_disabled(
    aws: LocalAWS, client: Callable[[str], Any]
) -> None:
    url, arn = make_queue(client, "scheduled")
    events = client("events")
    events.put_rule(Name="every-5-minutes", ScheduleExpression="rate(5 minutes)")
    events.put_rule(Name="off", ScheduleExpression="rate(1 minute)", State="DISABLED")
    for rule in ("every-5-minutes", "off"):
        events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    now = [1000.0]
    scheduler = Scheduler(aws.bus, clock=lambda: now[0])

    assert scheduler.tick() == []
    now[0] += 299
    assert scheduler.tick() == []
    now[0] += 1
    assert scheduler.tick() == ["every-5-minutes"]
    assert aws.wait_idle(20)
    (message,) = drain(client, url)
    event = json.loads(message["Body"])
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/every-5-minutes"]
    assert event["detail"] == {}


def test_cron_rule_fires_in_the_minutes_it_matches_from_the_next_one(
    aws: LocalAWS, client: Callable[[str], Any]
) -> None:
    url, arn = make_queue(client, "scheduled")
    events = client("events")
    events.put_rule(Name="nightly", ScheduleExpression="cron(0 2 * * ? *)")
    events.put_rule(Name="quarterly-hour", ScheduleExpression="cron(0/15 * * * ? *)")
    events.put_rule(Name="broken", ScheduleExpression="cron(0 2 * * * *)")  # both day fields: never fires
    for rule in ("nightly", "quarterly-hour", "broken"):
        events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    wall = [datetime(2026, 11, 24, 2, 0, 10, tzinfo=UTC)]
    scheduler = Scheduler(aws.bus, wall_clock=lambda: wall[0])

    assert scheduler.tick() == []  # first seen inside 02:00: that minute is not fired retroactively
    wall[0] += timedelta(seconds=40)
    assert scheduler.tick() == []  # 02:00:50, same minute
    wall[0] += timedelta(minutes=14)
    assert scheduler.tick() == []  # 02:14:50: 02:01-02:14 match neither
    wall[0] += timedelta(seconds=10)
    assert scheduler.tick() == ["quarterly-hour"]  # 02:15:00
    wall[0] += timedelta(seconds=30)
    assert scheduler.tick() == []  # still 02:15: fires once per minute
    wall[0] = datetime(2026, 11, 25, 2, 0, 1, tzinfo=UTC)  # a day later (the machine slept)
    assert sorted(scheduler.tick()) == ["nightly", "quarterly-hour"]  # missed minutes fire once
    assert aws.wait_idle(20)
    bodies = [json.loads(m["Body"]) for m in drain(client, url)]
    assert sorted(b["resources"][0].rsplit("/", 1)[1] for b in bodies) == [
        "nightly",
        "quarterly-hour",
        "quarterly-hour",
    ]


def test_schedule_can_be_fired_on_demand(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    url, arn = make_queue(client, "scheduled")
    events = client("events")
    events.put_rule(Name="nightly", ScheduleExpression="cron(0 2 * * ? *)")
    events.put_targets(Rule="nightly", Targets=[{"Id": "q", "Arn": arn}])
    assert "EventId" in _post(aws, "schedule/nightly")
    assert aws.wait_idle(20)
    assert len(drain(client, url)) == 1


def test_exports_point_clients_at_the_endpoint() -> None:
    lines = exports("http://127.0.0.1:4566", "eu-west-1")
    assert lines[0] == "export AWS_ENDPOINT_URL=http://127.0.0.1:4566"
    assert "export AWS_DEFAULT_REGION=eu-west-1" in lines
    assert any(line.startswith("export AWS_ACCESS_KEY_ID=") for line in lines)
