"""The endpoint with the real pipeline executor: a definition runs, its events reach the rules."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from local_aws.server import LocalAWS

from .conftest import drain

DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "Threshold", "Type": "Float", "DefaultValue": 1.0}],
    "Steps": [
        {
            "Name": "CheckThreshold",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [
                    {"Type": "GreaterThan", "LeftValue": {"Get": "Parameters.Threshold"}, "RightValue": 5}
                ],
                "IfSteps": [],
                "ElseSteps": [
                    {"Name": "TooSmall", "Type": "Fail", "Arguments": {"ErrorMessage": "too small"}}
                ],
            },
        }
    ],
}


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAWS]:
    with LocalAWS(tmp_path_factory.mktemp("real-executor")) as aws:
        yield aws


def test_execution_runs_and_its_status_events_reach_rules(real: LocalAWS) -> None:
    session = boto3.session.Session(region_name="us-east-1")
    sm = session.client("sagemaker", endpoint_url=real.endpoint_url)
    sqs = session.client("sqs", endpoint_url=real.endpoint_url)
    events = session.client("events", endpoint_url=real.endpoint_url)
    url = sqs.create_queue(QueueName="execution-status")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
        "detail": {"currentPipelineExecutionStatus": ["Failed"]},
    }
    events.put_rule(Name="execution-failed", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="execution-failed", Targets=[{"Id": "q", "Arn": arn}])
    sm.create_pipeline(
        PipelineName="tiny",
        PipelineDefinition=json.dumps(DEFINITION),
        RoleArn="arn:aws:iam::123456789012:role/r",
    )

    execution = sm.start_pipeline_execution(
        PipelineName="tiny", PipelineParameters=[{"Name": "Threshold", "Value": "2"}]
    )["PipelineExecutionArn"]
    assert real.wait_idle(60)

    described = sm.describe_pipeline_execution(PipelineExecutionArn=execution)
    assert described["PipelineExecutionStatus"] == "Failed"
    steps = {
        s["StepName"]: s["StepStatus"]
        for s in sm.list_pipeline_execution_steps(PipelineExecutionArn=execution)["PipelineExecutionSteps"]
    }
    assert steps == {"CheckThreshold": "Succeeded", "TooSmall": "Failed"}
    parameters = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution)[
        "PipelineParameters"
    ]
    assert {"Name": "Threshold", "Value": "2"} in parameters or {
        "Name": "Threshold",
        "Value": "2.0",
    } in parameters
    (message,) = drain(lambda _: sqs, url)
    assert json.loads(message["Body"])["detail"]["pipelineExecutionArn"] == execution
