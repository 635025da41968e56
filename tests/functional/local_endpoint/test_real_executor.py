"""The endpoint with the real pipeline executor: a definition runs, its events reach the rules; the
SageMaker SDK drives it unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

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


def test_the_same_client_request_token_returns_the_same_execution(real: LocalAWS) -> None:
    """The executor decides (its RequestTokens); the layer passes the token on and lists the run once."""
    sm = boto3.session.Session(region_name="us-east-1").client("sagemaker", endpoint_url=real.endpoint_url)
    for name in ("tiny-a", "tiny-b"):
        sm.create_pipeline(
            PipelineName=name,
            PipelineDefinition=json.dumps(DEFINITION),
            RoleArn="arn:aws:iam::123456789012:role/r",
        )
    token = "s3-bucket-data-0065F0A1-same-event-twice"
    first, second, other = (
        sm.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)["PipelineExecutionArn"]
        for name in ("tiny-a", "tiny-a", "tiny-b")
    )
    assert real.wait_idle(60)
    assert first == second != other
    listed = sm.list_pipeline_executions(PipelineName="tiny-a")["PipelineExecutionSummaries"]
    assert [s["PipelineExecutionArn"] for s in listed] == [first]
    mine = [
        e["PipelineExecutionArn"] for e in real.executions() if e["PipelineExecutionArn"] in (first, other)
    ]
    assert mine == [first, other]


# Literal container paths, as many SageMaker examples write them (the bootstrap maps them locally).
COUNT_ROWS = """
import glob, json, os
rows = sum(1 for path in glob.glob("/opt/ml/processing/input/*.csv") for _ in open(path))
os.makedirs("/opt/ml/processing/output", exist_ok=True)
json.dump({"rows": rows}, open("/opt/ml/processing/output/result.json", "w"))
print("counted", rows)
"""


def test_the_sagemaker_sdk_upserts_starts_and_follows_a_pipeline_unchanged(
    real: LocalAWS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a developer writes with the SDK, pointed at the endpoint by AWS_ENDPOINT_URL only."""
    from botocore.exceptions import WaiterError
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterInteger
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.core.workflow.properties import PropertyFile

    # The v3 workflow classes, imported where a region is set for the import (build/sdk.py).
    from pipeline_scripts.build.sdk import ConditionStep, FailStep, Pipeline, ProcessingStep
    from pipeline_scripts.build.session import SDK_CONFIG  # opts out of the SDK's telemetry calls only

    monkeypatch.setenv("AWS_ENDPOINT_URL", real.endpoint_url)
    role = "arn:aws:iam::123456789012:role/sdk"
    boto_session = boto3.session.Session(region_name="us-east-1")
    boto_session.client("s3").create_bucket(Bucket="sdk-bucket")
    boto_session.client("s3").put_object(Bucket="sdk-bucket", Key="data/rows.csv", Body=b"1\n2\n3\n")
    session = PipelineSession(
        boto_session=boto_session, default_bucket="sdk-bucket", sagemaker_config=SDK_CONFIG
    )
    script = tmp_path / "count.py"
    script.write_text(COUNT_ROWS)

    processor = ScriptProcessor(
        image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        command=["python3"],
        role=role,
        instance_count=1,
        instance_type="ml.m5.large",
        sagemaker_session=session,
    )
    result = PropertyFile(name="Result", output_name="result", path="result.json")
    count = ProcessingStep(
        name="Count",
        step_args=processor.run(
            code=str(script),  # the SDK uploads it to the endpoint's S3
            inputs=[
                ProcessingInput(
                    input_name="rows",
                    s3_input=ProcessingS3Input(
                        s3_uri="s3://sdk-bucket/data",
                        local_path="/opt/ml/processing/input",
                        s3_data_type="S3Prefix",
                    ),
                )
            ],
            outputs=[
                ProcessingOutput(
                    output_name="result",
                    s3_output=ProcessingS3Output(
                        s3_uri="s3://sdk-bucket/result",
                        local_path="/opt/ml/processing/output",
                        s3_upload_mode="EndOfJob",
                    ),
                )
            ],
        ),
        property_files=[result],
    )
    minimum = ParameterInteger(name="MinimumRows", default_value=1)
    check = ConditionStep(
        name="EnoughRows",
        conditions=[
            ConditionGreaterThanOrEqualTo(
                left=JsonGet(step_name=count.name, property_file=result, json_path="rows"), right=minimum
            )
        ],
        if_steps=[],
        else_steps=[FailStep(name="TooFew", error_message=Join(on=" ", values=["fewer rows than", minimum]))],
    )
    pipeline = Pipeline(
        name="sdk-pipeline", parameters=[minimum], steps=[count, check], sagemaker_session=session
    )
    pipeline.upsert(role_arn=role)
    assert json.loads(pipeline.describe()["PipelineDefinition"]) == json.loads(pipeline.definition())

    enough = pipeline.start()
    enough.wait(delay=1, max_attempts=120)
    assert enough.describe()["PipelineExecutionStatus"] == "Succeeded"
    steps = {s["StepName"]: s["StepStatus"] for s in enough.list_steps()}
    assert steps == {"Count": "Succeeded", "EnoughRows": "Succeeded"}

    too_few = pipeline.start(parameters={"MinimumRows": 100})
    with pytest.raises(WaiterError):  # the SDK's waiter raises on a Failed execution, as on AWS
        too_few.wait(delay=1, max_attempts=120)
    described = too_few.describe()
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "fewer rows than 100" in described["FailureReason"]
    assert {s["StepName"]: s["StepStatus"] for s in too_few.list_steps()}["TooFew"] == "Failed"
