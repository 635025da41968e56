"""local_aws.tf_rules agrees with Terraform: a real `terraform apply` of the repository to moto, then the
rules and targets EventBridge holds are compared with what the reader renders without Terraform.

Slow (~80 s, nearly all of it the AWS provider's own consistency waits on the SQS queue, its policy and
the S3 lifecycle configuration). Needs terraform and the aws provider (mirror or registry): without them
it fails, or is skipped with MLOPS_ALLOW_NO_TERRAFORM=1. Nothing is destroyed (DeleteModelPackageGroup
and friends are not all implemented by moto): the server is stopped instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from local_aws.terraform import TerraformError, apply_local, terraform_available
from local_aws.tf_rules import RuleSpec, read_rules
from tests.conftest import missing_tool

ROOT = Path(__file__).resolve().parents[2]
# Beyond local.tfvars: schedules (SageMaker pipeline targets with parameters) and two notified step
# statuses (an "$or" pattern), so every shape the reader renders is applied for real.
EXTRA = """
training_schedule    = "cron(0 3 ? * MON *)"
inference_schedule   = "rate(1 day)"
notify_step_statuses = ["Failed", "Succeeded"]
"""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tfvars") / "local.tfvars"
    path.write_text((ROOT / "env_files" / "local.tfvars").read_text() + EXTRA)
    return path


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory, env_file: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    reason = terraform_available()
    if reason is not None:
        missing_tool("NO_TERRAFORM", reason)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        try:
            outputs = apply_local(endpoint, tmp_path_factory.mktemp("terraform"), env_file)
        except TerraformError as exc:
            if "could not" in str(exc) and "provider" in str(exc):
                missing_tool("NO_TERRAFORM", f"terraform init could not install hashicorp/aws: {exc}")
            raise
        yield endpoint, outputs
    finally:
        server.stop()


@pytest.fixture(scope="module")
def expected(env_file: Path) -> dict[str, RuleSpec]:
    return {rule.name: rule for rule in read_rules(env_file)}


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _actual_rules(endpoint: str) -> dict[str, dict[str, Any]]:
    events = _client(endpoint, "events")
    rules = events.list_rules(NamePrefix="mlops-local-")["Rules"]
    return {
        rule["Name"]: {**rule, "Targets": events.list_targets_by_rule(Rule=rule["Name"])["Targets"]}
        for rule in rules
    }


def _normalised(target: dict[str, Any]) -> dict[str, Any]:
    """A PutTargets entry with its pipeline parameters in a stable order (Terraform stores a set)."""
    result = {key: value for key, value in target.items() if key != "SageMakerPipelineParameters"}
    if "SageMakerPipelineParameters" in target:
        parameters = target["SageMakerPipelineParameters"]["PipelineParameterList"]
        result["PipelineParameters"] = {item["Name"]: item["Value"] for item in parameters}
    return result


def test_the_rules_terraform_created_are_the_rules_the_reader_renders(
    applied: tuple[str, dict[str, Any]], expected: dict[str, RuleSpec]
) -> None:
    endpoint, outputs = applied
    actual = _actual_rules(endpoint)
    assert set(actual) == set(expected)
    assert set(actual) == {f"mlops-local-{purpose}" for purpose in outputs["event_rule_names"]}
    assert len(actual) == 12  # 10 of local.tfvars + the two schedules
    for name, rule in expected.items():
        got = actual[name]
        assert got["State"] == rule.state, name
        assert got.get("Description", "") == rule.description, name
        assert got.get("ScheduleExpression") == rule.schedule_expression, name
        pattern = got.get("EventPattern")
        assert (json.loads(pattern) if pattern else None) == rule.event_pattern, name


def test_the_targets_terraform_created_are_the_targets_the_reader_renders(
    applied: tuple[str, dict[str, Any]], expected: dict[str, RuleSpec]
) -> None:
    endpoint, outputs = applied
    actual = _actual_rules(endpoint)
    for name, rule in expected.items():
        got = [_normalised(target) for target in actual[name]["Targets"]]
        assert got == [_normalised(target.put_targets_entry()) for target in rule.targets], name

    kinds = {target.arn_kind for rule in expected.values() for target in rule.targets}
    assert kinds == {"lambda", "sagemaker_pipeline"}
    function_arns = set(outputs["lambda_function_arns"].values())
    for rule in expected.values():
        for target in rule.targets:
            if target.arn_kind == "lambda":
                assert target.arn in function_arns
            else:
                assert target.arn in outputs["pipeline_arns"].values()
                assert target.role_arn == outputs["events_role_arn"]
    schedule = expected["mlops-local-inference-schedule"].targets[0]
    assert schedule.pipeline_parameters == {
        "GroundTruthUri": "none",
        "InputDataUri": "s3://mlops-local-bucket/abalone/inference/inference-data.csv",
    }


def test_the_functions_the_targets_name_exist_with_their_handlers(
    applied: tuple[str, dict[str, Any]],
) -> None:
    endpoint, outputs = applied
    functions = {
        function["FunctionName"]: function
        for function in _client(endpoint, "lambda").list_functions()["Functions"]
    }
    assert {name: functions[name]["Handler"] for name in outputs["lambda_function_names"].values()} == {
        "mlops-local-notifier": "notifier.handler",
        "mlops-local-pipeline-trigger": "pipeline_trigger.handler",
        "mlops-local-deploy-trigger": "deploy_trigger.handler",
    }
    client = _client(endpoint, "lambda")
    trigger = client.get_function_configuration(FunctionName="mlops-local-pipeline-trigger")
    assert trigger["Runtime"] == "python3.12"
    assert trigger["Environment"]["Variables"]["INFERENCE_PIPELINE"] == "mlops-local-batch-inference"
    assert trigger["KMSKeyArn"] == outputs["kms_key_arn"]
    # One at a time: the "is an HPO execution running?" check cannot race (moto keeps no DeadLetterConfig).
    concurrency = client.get_function_concurrency(FunctionName="mlops-local-pipeline-trigger")
    assert concurrency["ReservedConcurrentExecutions"] == 1
