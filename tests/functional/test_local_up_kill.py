"""`mlops local up` killed with SIGKILL and started again on the same state directory: the AWS state, the
approval, the rules and the executions come back; the execution that was running comes back Failed; the
same S3 event delivered again starts nothing new; `--fresh` starts empty."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import boto3

from tests.functional.local_up import local_up

BUCKET = "mlops-local-bucket"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1"
ROLE = "arn:aws:iam::123456789012:role/mlops-local-sagemaker"
TOKEN = "s3-bucket-data-0065F0A1-4e6f-9a4b-event"  # the S3 event id, as the trigger sends it
REASON = "the local endpoint stopped while this execution was running"


def _client(env: dict[str, str], service: str) -> Any:
    session = boto3.session.Session(
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    return session.client(service, endpoint_url=env["AWS_ENDPOINT_URL"])


def _long_pipeline() -> dict[str, Any]:
    return {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {
                "Name": "Sleep",
                "Type": "Processing",
                "Arguments": {
                    "ProcessingResources": {
                        "ClusterConfig": {
                            "InstanceType": "ml.m5.large",
                            "InstanceCount": 1,
                            "VolumeSizeInGB": 5,
                        }
                    },
                    "AppSpecification": {
                        "ImageUri": IMAGE,
                        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/sleep.py"],
                    },
                    "RoleArn": ROLE,
                    "ProcessingInputs": [
                        {
                            "InputName": "code",
                            "S3Input": {
                                "S3Uri": f"s3://{BUCKET}/code/sleep.py",
                                "LocalPath": "/opt/ml/processing/input/code",
                                "S3DataType": "S3Prefix",
                                "S3InputMode": "File",
                            },
                        }
                    ],
                    "StoppingCondition": {"MaxRuntimeInSeconds": 600},
                },
            }
        ],
    }


def _create_state(env: dict[str, str]) -> dict[str, str]:
    s3, sm, events = _client(env, "s3"), _client(env, "sagemaker"), _client(env, "events")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="abalone/training/batch-1/training-data.csv", Body=b"M,0.5,9\n")
    s3.put_object(Bucket=BUCKET, Key="code/sleep.py", Body=b"import time\ntime.sleep(20)\n")
    events.put_rule(Name="training-data", EventPattern=json.dumps({"source": ["aws.s3"]}))
    events.put_rule(Name="nightly", ScheduleExpression="cron(0 3 * * ? *)", State="DISABLED")
    sm.create_model_package_group(ModelPackageGroupName="abalone")
    package = sm.create_model_package(
        ModelPackageGroupName="abalone",
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "xgb:1.7-1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    sm.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved", ApprovalDescription="ok")
    sm.create_pipeline(PipelineName="long", RoleArn=ROLE, PipelineDefinition=json.dumps(_long_pipeline()))
    execution = sm.start_pipeline_execution(PipelineName="long", ClientRequestToken=TOKEN)[
        "PipelineExecutionArn"
    ]
    deadline = time.monotonic() + 30
    while not sm.list_pipeline_execution_steps(PipelineExecutionArn=execution)["PipelineExecutionSteps"]:
        assert time.monotonic() < deadline, "the step did not start"
        time.sleep(0.2)
    return {"package": package, "execution": execution}


def test_kill_9_then_restart_keeps_the_state_and_fails_the_running_execution(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with local_up(state) as (server, env, _):
        created = _create_state(env)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    with local_up(state) as (_, env, output):
        assert any("restored the earlier state" in line for line in output), output
        s3, sm, events = _client(env, "s3"), _client(env, "sagemaker"), _client(env, "events")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
        assert keys == ["abalone/training/batch-1/training-data.csv", "code/sleep.py"]
        assert s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read() == b"M,0.5,9\n"
        rules = {r["Name"]: r["State"] for r in events.list_rules()["Rules"]}
        assert rules == {"training-data": "ENABLED", "nightly": "DISABLED"}
        package = sm.describe_model_package(ModelPackageName=created["package"])
        assert (package["ModelApprovalStatus"], package.get("ApprovalDescription")) == ("Approved", "ok")
        assert [p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]] == ["long"]
        execution = sm.describe_pipeline_execution(PipelineExecutionArn=created["execution"])
        assert execution["PipelineExecutionStatus"] == "Failed"
        assert execution["FailureReason"] == REASON
        # The same S3 event (its id is the token) delivered again after the restart starts nothing new.
        again = sm.start_pipeline_execution(PipelineName="long", ClientRequestToken=TOKEN)
        assert again["PipelineExecutionArn"] == created["execution"]
        summaries = sm.list_pipeline_executions(PipelineName="long")["PipelineExecutionSummaries"]
        assert len(summaries) == 1
    with local_up(state, "--fresh") as (_, env, output):
        assert any("starting fresh" in line for line in output), output
        assert _client(env, "s3").list_buckets()["Buckets"] == []
        assert _client(env, "sagemaker").list_pipelines()["PipelineSummaries"] == []
