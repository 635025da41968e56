"""SageMaker through the layer: executions served by the executor, registry events and the update fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_aws.server import LocalAWS

from .conftest import FakeExecutor, drain, local_get, make_queue, sample_event

ROLE = "arn:aws:iam::123456789012:role/sagemaker"
DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "InputDataUri", "Type": "String"}],
    "Steps": [],
}
GROUP = "mlops-local-abalone"


def _pipeline(client: Callable[[str], Any], name: str = "mlops-local-training") -> str:
    return str(
        client("sagemaker").create_pipeline(
            PipelineName=name, PipelineDefinition=json.dumps(DEFINITION), RoleArn=ROLE
        )["PipelineArn"]
    )


def _executor(aws: LocalAWS) -> FakeExecutor:
    assert isinstance(aws.executor, FakeExecutor)
    return aws.executor


def test_start_describe_list_and_stop_go_to_the_executor(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    pipeline_arn = _pipeline(client)
    sm = client("sagemaker")
    arn = sm.start_pipeline_execution(
        PipelineName="mlops-local-training",
        PipelineExecutionDisplayName="run-1",
        PipelineParameters=[{"Name": "InputDataUri", "Value": "s3://b/k.csv"}],
    )["PipelineExecutionArn"]

    started = _executor(aws).started[0]
    assert started["definition"] == DEFINITION
    assert started["parameters"] == {"InputDataUri": "s3://b/k.csv"}
    assert started["display_name"] == "run-1"
    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    assert described["PipelineArn"] == pipeline_arn
    assert described["CreationTime"].tzinfo is not None  # epoch seconds on the wire, parsed by botocore
    summaries = sm.list_pipeline_executions(PipelineName=pipeline_arn)["PipelineExecutionSummaries"]
    assert [s["PipelineExecutionArn"] for s in summaries] == [arn]
    assert summaries[0]["PipelineExecutionStatus"] == "Succeeded"
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert [s["StepName"] for s in steps] == ["First", "Second"]  # descending start time
    assert sm.stop_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionArn"] == arn
    assert _executor(aws).stopped == [arn]
    definition = sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)
    assert json.loads(definition["PipelineDefinition"]) == DEFINITION
    parameters = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
    assert parameters == [{"Name": "InputDataUri", "Value": "s3://b/k.csv"}]
    assert local_get(aws, "executions")["executions"][0]["PipelineExecutionArn"] == arn


def test_list_executions_sorts_and_paginates(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    _pipeline(client)
    sm = client("sagemaker")
    arns = [
        sm.start_pipeline_execution(PipelineName="mlops-local-training")["PipelineExecutionArn"]
        for _ in range(3)
    ]
    pages = list(
        sm.get_paginator("list_pipeline_executions").paginate(
            PipelineName="mlops-local-training", SortOrder="Ascending", PaginationConfig={"PageSize": 2}
        )
    )
    assert len(pages) == 2
    assert [s["PipelineExecutionArn"] for p in pages for s in p["PipelineExecutionSummaries"]] == arns


def test_same_client_request_token_starts_one_execution(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    _pipeline(client)
    sm = client("sagemaker")
    token = "s3-mlops-local-bucket-training-data-0065F0A1"
    first = sm.start_pipeline_execution(PipelineName="mlops-local-training", ClientRequestToken=token)
    second = sm.start_pipeline_execution(PipelineName="mlops-local-training", ClientRequestToken=token)
    assert first["PipelineExecutionArn"] == second["PipelineExecutionArn"]
    assert len(_executor(aws).started) == 1
    executions = local_get(aws, "executions")["executions"]
    assert [e["PipelineExecutionArn"] for e in executions] == [first["PipelineExecutionArn"]]


def test_a_client_request_token_is_scoped_to_its_pipeline(
    aws: LocalAWS, client: Callable[[str], Any]
) -> None:
    _pipeline(client)
    _pipeline(client, "mlops-local-batch-inference")
    sm = client("sagemaker")
    token = "s3-mlops-local-bucket-data-0065F0A1"
    training = sm.start_pipeline_execution(PipelineName="mlops-local-training", ClientRequestToken=token)
    inference = sm.start_pipeline_execution(
        PipelineName="mlops-local-batch-inference", ClientRequestToken=token
    )
    assert training["PipelineExecutionArn"] != inference["PipelineExecutionArn"]
    assert [s["pipeline"] for s in _executor(aws).started] == [
        "mlops-local-training",
        "mlops-local-batch-inference",
    ]


def test_a_reset_forgets_the_tokens(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    _pipeline(client)
    token = "s3-mlops-local-bucket-training-data-0065F0A1"
    sm = client("sagemaker")
    first = sm.start_pipeline_execution(PipelineName="mlops-local-training", ClientRequestToken=token)
    aws.reset()
    _pipeline(client)
    again = sm.start_pipeline_execution(PipelineName="mlops-local-training", ClientRequestToken=token)
    assert again["PipelineExecutionArn"] != first["PipelineExecutionArn"]


def test_unknown_pipeline_and_execution_are_resource_not_found(client: Callable[[str], Any]) -> None:
    sm = client("sagemaker")
    with pytest.raises(ClientError) as caught:
        sm.start_pipeline_execution(PipelineName="nope")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFound"
    missing = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/nope/execution/abc"
    with pytest.raises(ClientError) as caught:
        sm.describe_pipeline_execution(PipelineExecutionArn=missing)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFound"
    assert missing in caught.value.response["Error"]["Message"]


def test_pipeline_target_resolves_dynamic_path_parameters(
    aws: LocalAWS, client: Callable[[str], Any]
) -> None:
    pipeline_arn = _pipeline(client, "mlops-local-batch-inference")
    events = client("events")
    events.put_rule(Name="schedule-like", EventPattern=json.dumps({"source": ["my.app"]}))
    events.put_targets(
        Rule="schedule-like",
        Targets=[
            {
                "Id": "pipeline",
                "Arn": pipeline_arn,
                "RoleArn": "arn:aws:iam::123456789012:role/events",
                "SageMakerPipelineParameters": {
                    "PipelineParameterList": [
                        {"Name": "InputDataUri", "Value": "$.detail.object.key"},
                        {"Name": "Batch", "Value": "$.detail.batch"},
                        {"Name": "Static", "Value": "fixed"},
                    ]
                },
            }
        ],
    )
    detail = {"object": {"key": "abalone/inference/b1/inference-data.csv"}, "batch": 7}
    events.put_events(Entries=[{"Source": "my.app", "DetailType": "x", "Detail": json.dumps(detail)}])
    assert aws.wait_idle(20)

    (started,) = _executor(aws).started
    assert started["pipeline"] == "mlops-local-batch-inference"
    assert started["parameters"] == {
        "InputDataUri": "abalone/inference/b1/inference-data.csv",
        "Batch": "7",
        "Static": "fixed",
    }
    record = next(r for r in local_get(aws, "events")["events"] if r["source"] == "my.app")
    assert record["deliveries"][0]["result"]["PipelineExecutionArn"] == started["arn"]


def test_executor_events_reach_rules(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    url, arn = make_queue(client, "status")
    events = client("events")
    pattern = {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
    }
    events.put_rule(Name="execution-status", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="execution-status", Targets=[{"Id": "q", "Arn": arn}])
    _pipeline(client)
    execution = client("sagemaker").start_pipeline_execution(PipelineName="mlops-local-training")
    assert aws.wait_idle(20)
    (message,) = drain(client, url)
    assert json.loads(message["Body"])["detail"]["pipelineExecutionArn"] == execution["PipelineExecutionArn"]


def _package(client: Callable[[str], Any]) -> str:
    sm = client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    return str(
        sm.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelPackageDescription="abalone XGBoost regressor",
            ModelApprovalStatus="PendingManualApproval",
            CustomerMetadataProperties={"trained_by": "training", "enterprise_review_required": "false"},
            InferenceSpecification={
                "Containers": [{"Image": "xgboost:1.7-1", "ModelDataUrl": "s3://b/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )


def test_update_model_package_keeps_metadata_and_emits_approved(
    aws: LocalAWS, client: Callable[[str], Any]
) -> None:
    url, queue_arn = make_queue(client, "approved")
    events = client("events")
    pattern = {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": [GROUP], "ModelApprovalStatus": ["Approved"]},
    }
    events.put_rule(Name="model-approved", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="model-approved", Targets=[{"Id": "q", "Arn": queue_arn}])
    arn = _package(client)
    sm = client("sagemaker")

    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="good")
    assert aws.wait_idle(20)

    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["CustomerMetadataProperties"] == {
        "trained_by": "training",
        "enterprise_review_required": "false",
    }
    assert described["ModelApprovalStatus"] == "Approved"
    sm.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"reviewed": "yes"})
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"  # not wiped by an update that does not name it
    assert described["ApprovalDescription"] == "good"
    assert described["CustomerMetadataProperties"]["reviewed"] == "yes"
    assert described["CustomerMetadataProperties"]["trained_by"] == "training"

    (message,) = drain(client, url)  # the metadata-only update emits nothing
    event = json.loads(message["Body"])
    sample = sample_event("model_package_approved.json")
    assert set(event) == set(sample)
    assert event["resources"] == [arn]
    detail = event["detail"]
    assert detail["ModelApprovalStatus"] == "Approved"
    assert detail["ModelPackageVersion"] == 1
    assert detail["CustomerMetadataProperties"]["trained_by"] == "training"
    assert {"ModelPackageGroupName", "ModelPackageArn", "CreationTime", "InferenceSpecification"} <= set(
        detail
    )
    assert detail["CreationTime"].endswith("Z")
    assert "ModelPackageName" not in detail


def test_create_model_package_emits_pending(aws: LocalAWS, client: Callable[[str], Any]) -> None:
    arn = _package(client)
    assert aws.wait_idle(20)
    (record,) = [
        r
        for r in local_get(aws, "events")["events"]
        if r["detail-type"] == "SageMaker Model Package State Change"
    ]
    assert record["event"]["detail"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert record["event"]["detail"]["ModelPackageArn"] == arn
