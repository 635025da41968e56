"""Lambda without Docker: the Invoke API, EventBridge targets with input transformers, retries and DLQ."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_aws.server import LocalAWS

from .conftest import FakeExecutor, create_function, drain, local_get, make_queue

ECHO = """
import json, os
import boto3

def handler(event, context):
    boto3.client("sqs").send_message(
        QueueUrl=os.environ["OUT_QUEUE"],
        MessageBody=json.dumps({
            "event": event,
            "function_name": context.function_name,
            "arn": context.invoked_function_arn,
            "remaining": context.get_remaining_time_in_millis(),
            "region": os.environ["AWS_REGION"],
        }),
    )
    return {"seen": event}
"""

FAILING = """
def handler(event, context):
    print("about to fail")
    raise RuntimeError("boom: " + str(event["detail"]["n"]))
"""

ANSWER = """
import logging
logging.getLogger().setLevel(logging.INFO)

def handler(event, context):
    logging.info("answering %s", event)
    return {"answer": event["x"] * 2, "request_id": context.aws_request_id,
            "memory": context.memory_limit_in_mb}
"""


def test_put_events_runs_lambda_target_with_input_transformer(
    aws: LocalAWS, client: Callable[[str], Any]
) -> None:
    out_url, _ = make_queue(client, "out")
    arn = create_function(client, "echo", ECHO, env={"OUT_QUEUE": out_url})
    events = client("events")
    events.put_rule(
        Name="custom",
        EventPattern=json.dumps({"source": ["my.app"], "detail": {"n": [{"numeric": [">", 1]}]}}),
    )
    events.put_targets(
        Rule="custom",
        Targets=[
            {
                "Id": "echo",
                "Arn": arn,
                "InputTransformer": {
                    "InputPathsMap": {
                        "key": "$.detail.object.key",
                        "n": "$.detail.n",
                        "missing": "$.detail.nope",
                    },
                    "InputTemplate": '{"key": <key>, "text": "got <key> (<n>)", "n": <n>, '
                    '"rule": <aws.events.rule-name>, "missing": <missing>}',
                },
            }
        ],
    )

    answer = events.put_events(
        Entries=[
            {
                "Source": "my.app",
                "DetailType": "thing",
                "Detail": json.dumps({"n": 3, "object": {"key": "a/b.csv"}}),
            },
            {
                "Source": "my.app",
                "DetailType": "thing",
                "Detail": json.dumps({"n": 1, "object": {"key": "no"}}),
            },
            {"Source": "my.app", "DetailType": "thing", "Detail": "[not json"},
        ]
    )
    assert answer["FailedEntryCount"] == 1
    assert [set(e) for e in answer["Entries"]] == [{"EventId"}, {"EventId"}, {"ErrorCode", "ErrorMessage"}]
    assert answer["Entries"][2]["ErrorCode"] == "MalformedDetail"
    assert aws.wait_idle(30)

    messages = drain(client, out_url)
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body["event"] == {
        "key": "a/b.csv",
        "text": "got a/b.csv (3)",
        "n": 3,
        "rule": "custom",
        "missing": None,
    }
    assert body["function_name"] == "echo"
    assert body["arn"] == arn
    assert 0 < body["remaining"] <= 30_000
    assert body["region"] == "us-east-1"
    delivery = local_get(aws, "events")["events"][0]["deliveries"][0]
    assert delivery["status"] == "ok"
    assert delivery["result"]["attempts"] == 1


def test_failing_lambda_target_retries_twice_then_dead_letters(
    aws: LocalAWS, client: Callable[[str], Any]
) -> None:
    dlq_url, dlq_arn = make_queue(client, "dlq")
    arn = create_function(client, "failing", FAILING, DeadLetterConfig={"TargetArn": dlq_arn})
    events = client("events")
    events.put_rule(Name="fail", EventPattern=json.dumps({"source": ["my.app"]}))
    events.put_targets(Rule="fail", Targets=[{"Id": "failing", "Arn": arn}])

    events.put_events(Entries=[{"Source": "my.app", "DetailType": "thing", "Detail": json.dumps({"n": 7})}])
    assert aws.wait_idle(60)

    messages = drain(client, dlq_url)
    assert len(messages) == 1
    assert json.loads(messages[0]["Body"])["detail"] == {"n": 7}  # the event as-is
    attributes = messages[0]["MessageAttributes"]
    assert attributes["ErrorMessage"]["StringValue"] == "RuntimeError: boom: 7"
    assert attributes["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert attributes["RequestID"]["StringValue"]
    log_text = (aws.state_dir / "logs" / "failing.log").read_text()
    assert log_text.count("START RequestId") == 3
    assert "about to fail" in log_text
    delivery = local_get(aws, "events")["events"][0]["deliveries"][0]
    assert delivery["status"] == "error"
    assert delivery["result"] == {
        "RequestId": attributes["RequestID"]["StringValue"],
        "attempts": 3,
        "dead_letter": dlq_arn,
    }


def test_invoke_api_runs_the_handler(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    create_function(client, "answer", ANSWER, MemorySize=256)
    lam = client("lambda")

    response = lam.invoke(FunctionName="answer", Payload=json.dumps({"x": 21}), LogType="Tail")
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    payload = json.loads(response["Payload"].read())
    assert payload["answer"] == 42
    assert payload["memory"] == 256
    assert payload["request_id"] in base64.b64decode(response["LogResult"]).decode()
    assert "answering {'x': 21}" in (aws.state_dir / "logs" / "answer.log").read_text()

    failed = lam.invoke(FunctionName="answer", Payload=json.dumps({"y": 1}))
    assert failed["StatusCode"] == 200
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert error["errorType"] == "KeyError"
    assert error["errorMessage"] == "'x'"
    assert error["stackTrace"]

    queued = lam.invoke(FunctionName="answer", InvocationType="Event", Payload=json.dumps({"x": 1}))
    assert queued["StatusCode"] == 202
    assert aws.wait_idle(30)


def test_invoke_unknown_function_is_resource_not_found(client: Callable[[str], Any]) -> None:
    with pytest.raises(ClientError) as caught:
        client("lambda").invoke(FunctionName="nope", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_update_function_code_is_used_by_the_next_invoke(client: Callable[[str], Any]) -> None:
    from .conftest import make_zip

    create_function(client, "versioned", "def handler(e, c):\n    return 1\n")
    client("lambda").update_function_code(
        FunctionName="versioned", ZipFile=make_zip({"handler.py": "def handler(e, c):\n    return 2\n"})
    )
    assert json.loads(client("lambda").invoke(FunctionName="versioned")["Payload"].read()) == 2


def test_reserved_concurrency_one_serialises_invocations(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    source = """
import time
def handler(event, context):
    start = time.time()
    time.sleep(0.3)
    return [start, time.time()]
"""
    create_function(client, "serial", source)
    client("lambda").put_function_concurrency(FunctionName="serial", ReservedConcurrentExecutions=1)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        spans = list(pool.map(lambda _: aws.lambdas.invoke("serial", b"{}"), range(2)))
    (_, first_end), (second_start, _) = sorted(json.loads(r.payload) for r in spans)
    assert first_end <= second_start  # the second started after the first ended


def test_timeout_counts_from_the_handler_call(client: Callable[[str], Any]) -> None:
    source = "import time\n\ndef handler(event, context):\n    print('sleeping')\n    time.sleep(30)\n"
    create_function(client, "slow", source)
    client("lambda").update_function_configuration(FunctionName="slow", Timeout=1)
    response = client("lambda").invoke(FunctionName="slow", Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]


def test_a_relative_state_dir_still_runs_lambdas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: LocalAWS
) -> None:
    # `mlops demo --out build/x` gives a relative state dir; the handler runs in a subprocess elsewhere.
    monkeypatch.chdir(tmp_path)
    with LocalAWS(Path("relative-state"), executor_factory=FakeExecutor) as other:
        assert other.state_dir == tmp_path / "relative-state"
        made: dict[str, Any] = {}

        def client(service: str) -> Any:
            made.setdefault(service, boto3.client(service, endpoint_url=other.endpoint_url))
            return made[service]

        create_function(client, "answer", ANSWER)
        response = client("lambda").invoke(FunctionName="answer", Payload=json.dumps({"x": 4}))
        assert "FunctionError" not in response, response["Payload"].read()
        assert json.loads(response["Payload"].read())["answer"] == 8
