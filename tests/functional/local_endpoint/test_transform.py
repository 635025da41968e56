"""Input transformation and dynamic paths, on the examples of the EventBridge user guide."""

from __future__ import annotations

import json

import pytest

from local_aws.events.scheduler import rate_seconds
from local_aws.events.transform import (
    DeliveryError,
    json_path,
    pipeline_parameters,
    render_template,
    target_input,
)

EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "tags": {"a": 1}},
}
PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
        ('"instance \\"<instance>\\" is in <state>"', '"instance \\"i-0123456789\\" is in RUNNING"'),
        ('{"instance" : <instance>, "state": <state>}', '{"instance":"i-0123456789","state":"RUNNING"}'),
        (
            '{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}',
            '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}',
        ),
        ('"<aws.events.rule-name> triggered"', '"example triggered"'),
    ],
)
def test_user_guide_examples(template: str, expected: str) -> None:
    assert render_template(
        template, PATHS, EVENT, "example", "arn:aws:events:us-east-1:123456789012:rule/example"
    ) == (expected)


def test_reserved_variables_and_objects() -> None:
    rendered = json.loads(
        render_template(
            '{"rule": <aws.events.rule-arn>, "original": <aws.events.event>, "tags": <tags>}',
            {"tags": "$.detail.tags"},
            EVENT,
            "example",
            "arn:rule",
        )
    )
    assert rendered["rule"] == "arn:rule"
    assert rendered["original"]["id"] == EVENT["id"]
    assert "detail" not in rendered["original"]
    assert rendered["tags"] == {"a": 1}


def test_missing_paths_render_null_outside_quotes_and_nothing_inside() -> None:
    assert json.loads(render_template('{"a": <x>, "b": "[<x>]"}', {"x": "$.detail.nope"}, EVENT)) == {
        "a": None,
        "b": "[]",
    }


def test_json_path_subset() -> None:
    assert json_path(EVENT, "$") is EVENT
    assert json_path(EVENT, "$.resources[0]").endswith("i-abcd1111")
    assert json_path(EVENT, "$.detail['instance-id']") == "i-0123456789"
    assert json_path(EVENT, "$.detail.instance-id") == "i-0123456789"
    with pytest.raises(ValueError, match="must start with"):
        json_path(EVENT, "detail")


def test_target_input_precedence() -> None:
    assert target_input({"Input": '{"fixed": 1}', "InputPath": "$.detail"}, EVENT, "r", "a") == '{"fixed": 1}'
    assert json.loads(target_input({"InputPath": "$.detail.state"}, EVENT, "r", "a")) == "RUNNING"
    assert json.loads(target_input({}, EVENT, "r", "a")) == EVENT


def test_pipeline_parameters_need_their_paths() -> None:
    target = {
        "SageMakerPipelineParameters": {"PipelineParameterList": [{"Name": "X", "Value": "$.detail.nope"}]}
    }
    with pytest.raises(DeliveryError, match=r"\$.detail.nope"):
        pipeline_parameters(target, EVENT)


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60.0),
        ("rate(5 minutes)", 300.0),
        ("rate(2 hours)", 7200.0),
        ("rate(1 day)", 86400.0),
    ],
)
def test_rate_expressions(expression: str, seconds: float) -> None:
    assert rate_seconds(expression) == seconds


def test_cron_is_not_a_rate() -> None:
    assert rate_seconds("cron(0 2 * * ? *)") is None
