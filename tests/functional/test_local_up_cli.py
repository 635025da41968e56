"""`mlops local up` as a user runs it (a foreground process), used by the AWS CLI and boto3 side by side:
both see the same state, whichever of them wrote it, and the rules from the repo's Terraform deliver.

The AWS CLI is a dev dependency (`awscli` in pyproject.toml, installed by `make install`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline_scripts.config.contracts import load as load_contracts
from tests.functional.local_up import local_up

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BUCKET = "mlops-local-bucket"
PIPELINE = "mlops-local-training"  # a name the repo's execution-status rule matches
ROLE = "arn:aws:iam::123456789012:role/mlops-local-sagemaker"
FAILING_DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "Reason", "Type": "String", "DefaultValue": "nothing to do"}],
    "Steps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Parameters.Reason"}}}],
}


class Endpoint:
    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.url = env["AWS_ENDPOINT_URL"]

    def aws(self, *args: str) -> Any:
        """Run the AWS CLI against the endpoint; its JSON output, parsed (None for `aws s3` commands,
        which print text)."""
        done = subprocess.run(
            [str(BIN / "aws"), *args, "--output", "json"],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"aws {' '.join(args)} exited {done.returncode}: {done.stderr}"
        return None if args[0] == "s3" else json.loads(done.stdout)

    def boto3(self, service: str) -> Any:
        return boto3.session.Session(region_name=self.env["AWS_DEFAULT_REGION"]).client(
            service, endpoint_url=self.url
        )


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    assert (BIN / "aws").is_file(), "the AWS CLI is missing from the venv: run `make install` (dev extra)"
    workdir = tmp_path_factory.mktemp("local-up")
    home = workdir / "home"  # no ~/.aws of the developer's
    home.mkdir()
    with local_up(workdir / "state", "--provision", home=home, timeout=90) as (_, env, _output):
        assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        yield Endpoint(env, workdir)


def _times_equal(cli: float | str, sdk: datetime) -> bool:
    """The CLI prints timestamps as the API sent them (epoch seconds), boto3 parses them."""
    if isinstance(cli, str):
        return datetime.fromisoformat(cli) == sdk
    return abs(cli - sdk.timestamp()) < 1e-3


def test_the_cli_and_boto3_see_the_rules_and_functions_provisioned_from_the_repo(endpoint: Endpoint) -> None:
    cli_rules = {r["Name"]: r for r in endpoint.aws("events", "list-rules")["Rules"]}
    sdk_rules = {r["Name"]: r for r in endpoint.boto3("events").list_rules()["Rules"]}
    assert cli_rules == sdk_rules
    assert {"mlops-local-training-data", "mlops-local-execution-status", "mlops-local-model-approved"} <= set(
        cli_rules
    )
    cli_targets = endpoint.aws("events", "list-targets-by-rule", "--rule", "mlops-local-training-data")
    sdk_targets = endpoint.boto3("events").list_targets_by_rule(Rule="mlops-local-training-data")
    assert cli_targets["Targets"] == sdk_targets["Targets"]
    cli_functions = {f["FunctionName"] for f in endpoint.aws("lambda", "list-functions")["Functions"]}
    sdk_functions = {f["FunctionName"] for f in endpoint.boto3("lambda").list_functions()["Functions"]}
    assert (
        cli_functions
        == sdk_functions
        == {
            "mlops-local-notifier",
            "mlops-local-pipeline-trigger",
            "mlops-local-deploy-trigger",
        }
    )


def test_the_provisioned_functions_have_the_settings_of_contracts_json(endpoint: Endpoint) -> None:
    lam = endpoint.boto3("lambda")
    names = {
        "notifier": "mlops-local-notifier",
        "pipeline_trigger": "mlops-local-pipeline-trigger",
        "deploy_trigger": "mlops-local-deploy-trigger",
    }
    for key, contract in load_contracts().lambda_functions.items():
        function = lam.get_function_configuration(FunctionName=names[key])
        assert (function["Handler"], function["Timeout"], function["MemorySize"]) == (
            contract.handler,
            contract.timeout,
            contract.memory_size,
        )
        assert sorted(function["Environment"]["Variables"]) == sorted(contract.environment)
        concurrency = lam.get_function_concurrency(FunctionName=names[key])["ReservedConcurrentExecutions"]
        assert concurrency == (5 if contract.reserved_concurrency is None else contract.reserved_concurrency)


def test_objects_written_by_one_are_read_by_the_other(endpoint: Endpoint) -> None:
    s3 = endpoint.boto3("s3")
    source = endpoint.workdir / "from-cli.csv"
    source.write_text("a,b\n1,2\n")
    endpoint.aws("s3", "cp", str(source), f"s3://{BUCKET}/scratch/from-cli.csv")
    assert s3.get_object(Bucket=BUCKET, Key="scratch/from-cli.csv")["Body"].read() == b"a,b\n1,2\n"

    s3.put_object(Bucket=BUCKET, Key="scratch/from-boto3.txt", Body=b"written by boto3")
    listed = endpoint.aws("s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix", "scratch/")
    assert sorted(o["Key"] for o in listed["Contents"]) == ["scratch/from-boto3.txt", "scratch/from-cli.csv"]
    head = endpoint.aws("s3api", "head-object", "--bucket", BUCKET, "--key", "scratch/from-boto3.txt")
    assert head["ETag"] == s3.head_object(Bucket=BUCKET, Key="scratch/from-boto3.txt")["ETag"]
    copy = endpoint.workdir / "copy.txt"
    endpoint.aws("s3", "cp", f"s3://{BUCKET}/scratch/from-boto3.txt", str(copy))
    assert copy.read_bytes() == b"written by boto3"


def test_a_pipeline_started_by_the_cli_runs_and_both_report_it_the_same(endpoint: Endpoint) -> None:
    definition = endpoint.workdir / "definition.json"
    definition.write_text(json.dumps(FAILING_DEFINITION))
    endpoint.aws(
        "sagemaker",
        "create-pipeline",
        "--pipeline-name",
        PIPELINE,
        "--role-arn",
        ROLE,
        "--pipeline-definition",
        f"file://{definition}",
    )
    started = endpoint.aws(
        "sagemaker",
        "start-pipeline-execution",
        "--pipeline-name",
        PIPELINE,
        "--pipeline-parameters",
        "Name=Reason,Value=stopped from the AWS CLI",
    )
    arn = started["PipelineExecutionArn"]
    sm = endpoint.boto3("sagemaker")
    deadline = time.monotonic() + 60
    while (sdk := sm.describe_pipeline_execution(PipelineExecutionArn=arn))[
        "PipelineExecutionStatus"
    ] == "Executing":
        assert time.monotonic() < deadline, "the execution did not finish"
        time.sleep(0.2)
    assert sdk["PipelineExecutionStatus"] == "Failed"
    cli = endpoint.aws("sagemaker", "describe-pipeline-execution", "--pipeline-execution-arn", arn)
    assert cli["PipelineExecutionStatus"] == sdk["PipelineExecutionStatus"]
    assert cli["FailureReason"] == sdk["FailureReason"]
    assert "stopped from the AWS CLI" in cli["FailureReason"]
    assert _times_equal(cli["CreationTime"], sdk["CreationTime"])
    assert _times_equal(cli["LastModifiedTime"], sdk["LastModifiedTime"])

    cli_steps = endpoint.aws("sagemaker", "list-pipeline-execution-steps", "--pipeline-execution-arn", arn)
    sdk_steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert [(s["StepName"], s["StepStatus"]) for s in cli_steps["PipelineExecutionSteps"]] == [
        (s["StepName"], s["StepStatus"]) for s in sdk_steps
    ]
    assert cli_steps["PipelineExecutionSteps"][0]["FailureReason"] == sdk_steps[0]["FailureReason"]
    assert cli_steps["PipelineExecutionSteps"][0]["Metadata"] == sdk_steps[0]["Metadata"]

    # The execution-status rule from the repo's Terraform delivers the Failed event to the notifier
    # Lambda, which publishes to the topic: `mlops local notifications` reads it from the endpoint.
    deadline = time.monotonic() + 60
    while True:
        shown = subprocess.run(
            [str(BIN / "mlops"), "local", "notifications", "--json"],
            env=endpoint.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        notes = [n for n in json.loads(shown.stdout) if arn.rsplit("/", 1)[-1] in json.dumps(n)]
        if notes or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert notes, "no notification for the failed execution"
    assert "Failed" in notes[0]["subject"]


def test_approving_a_version_with_the_cli_deploys_it_through_the_gitlab_stand_in(endpoint: Endpoint) -> None:
    """`--provision` also starts a GitLab stand-in: the model-approved rule → deploy-trigger Lambda → a
    triggered pipeline whose deploy job points the inference pipeline at the approved version."""
    sm = endpoint.boto3("sagemaker")
    group = "mlops-local-abalone"
    sm.create_model_package_group(ModelPackageGroupName=group)
    baseline = {"ContentType": "application/json", "S3Uri": f"s3://{BUCKET}/baseline/statistics.json"}
    arn = sm.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "xgb:1.7-1", "ModelDataUrl": f"s3://{BUCKET}/models/1/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        DriftCheckBaselines={"ModelDataQuality": {"Statistics": baseline, "Constraints": baseline}},
    )["ModelPackageArn"]

    endpoint.aws(
        "sagemaker", "update-model-package", "--model-package-arn", arn, "--model-approval-status", "Approved"
    )
    deadline = time.monotonic() + 90
    definition = ""
    while arn not in definition:
        assert time.monotonic() < deadline, "the approved version was not deployed: " + json.dumps(
            endpoint.aws("sagemaker", "list-pipelines")
        )
        time.sleep(1)
        pipelines = {p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]}
        if "mlops-local-batch-inference" in pipelines:
            definition = sm.describe_pipeline(PipelineName="mlops-local-batch-inference")[
                "PipelineDefinition"
            ]
    assert arn in definition
