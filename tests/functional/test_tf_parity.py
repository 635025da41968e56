"""provisioning/rules.py and provision.py agree with Terraform: the same rules, patterns, states, targets
and functions, whichever of them creates the environment.

1. Plans, for every env file and the edge cases the templates branch on: `terraform test -verbose -json`
   with the mocked provider of tests/terraform (offline, about a second a case) prints each run's plan.
   Its rules, targets and Lambda functions are compared with what the renderer and the provisioner give
   for the same variables. The mock gives every function a distinct ARN, so a target's function is the
   one whose ARN it names.
2. One real `terraform apply` of local.tfvars (+ schedules and two step statuses) to moto (~80 s, nearly all
   of it the AWS provider's own consistency waits): the rules and targets EventBridge then holds.

Needs terraform and the aws provider (mirror or registry): without them it fails, or is skipped with
MLOPS_ALLOW_NO_TERRAFORM=1. Nothing is destroyed (DeleteModelPackageGroup and friends are not all
implemented by moto): the server is stopped instead.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from local_aws.provisioning.provision import lambda_functions
from local_aws.provisioning.rules import RuleSpec, read_rules, read_variables, render_rules
from local_aws.provisioning.terraform import (
    TerraformError,
    apply_local,
    run,
    terraform_available,
    terraform_env,
)
from pipeline_scripts.config.contracts import load as load_contracts
from tests.conftest import missing_tool

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "env_files" / "local.tfvars"
ENV_FILES = sorted((ROOT / "env_files").glob("*.tfvars"))
# Every plan: a stand-in zip, and a GitLab project (without one a non-local plan fails its check under
# terraform test).
SHARED = {"lambda_package_path": "tests/terraform/fixtures/lambda_function.zip.txt", "gitlab_project_id": "1"}
# Over local.tfvars: each branch of the values events.tf and local_aws/provisioning/rules.py compute.
EDGE_CASES: dict[str, dict[str, Any]] = {
    "no_custom_config": {"custom_notification_config": []},
    "several_step_statuses": {"notify_step_statuses": ["Failed", "Succeeded", "Starting"]},
    "one_status_without_custom_pairs": {"notify_step_statuses": ["Stopped"]},
    "custom_pairs_repeated_and_unnotified": {
        "notify_step_statuses": ["Starting", "Failed"],
        "custom_notification_config": [
            {"step_name": "A", "step_status": "Failed", "step_msg": "m"},
            {"step_name": "A", "step_status": "Failed", "step_msg": "again"},
            {"step_name": "B", "step_status": "Starting", "step_msg": "s", "action_required": True},
            {"step_name": "C", "step_status": "Stopped", "step_msg": "not notified"},
        ],
    },
    "schedules_on": {
        "training_schedule": "cron(0 3 ? * MON *)",
        "inference_schedule": "rate(1 day)",
        "schedule_pipeline_parameters": {
            "inference": {"GroundTruthUri": "s3://mlops-local-bucket/abalone/inference/ground-truth.csv"},
            "training": {"Extra": "1"},
        },
    },
    "status_rules_off": {"notify_step_statuses": [], "notify_execution_statuses": []},
    "function_settings": {
        "lambda_reserved_concurrency": 3,
        "lambda_log_level": "DEBUG",
        "gitlab_url": "https://gitlab.example.com",
        "gitlab_ref": "release",
    },
}
CASES = {f"env_{path.stem}": (path, {}) for path in ENV_FILES} | {
    f"edge_{name}": (LOCAL, overrides) for name, overrides in EDGE_CASES.items()
}

pytestmark = pytest.mark.slow

Plan = dict[str, dict[str, Any]]  # resource address → planned values


# --------------------------------------------------------------------------------------------------
# 1. Plans of every env file and edge case (mocked provider)
# --------------------------------------------------------------------------------------------------


def _hcl(values: Mapping[str, Any]) -> str:
    """Variable assignments: JSON values are HCL expressions too."""
    return "\n".join(f"    {name} = {json.dumps(value)}" for name, value in values.items())


def _test_file(runs: Mapping[str, str]) -> str:
    blocks = [
        'mock_provider "aws" {\n  override_during = plan\n  source          = "./tests/terraform/mocks"\n}\n',
        f"variables {{\n{_hcl(SHARED)}\n}}\n",
    ]
    blocks += [
        f'run "{name}" {{\n  command = plan\n  variables {{\n{body}\n  }}\n}}\n'
        for name, body in runs.items()
    ]
    return "\n".join(blocks)


def _terraform_test(
    directory: Path, env: Mapping[str, str], runs: Mapping[str, str], *var_files: Path
) -> dict[str, Plan]:
    """Run name → its plan, from `terraform test -verbose -json` of a generated test file."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "parity.tftest.hcl").write_text(_test_file(runs))
    command = [
        "terraform",
        "test",
        f"-test-directory={directory.relative_to(ROOT)}",
        *(f"-var-file={path}" for path in var_files),
        "-verbose",
        "-json",
        "-no-color",
    ]
    with subprocess.Popen(command, cwd=ROOT, env=dict(env), stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        plans: dict[str, Plan] = {}
        problems = []
        for line in process.stdout:  # one plan a line, with the provider schemas: parse as they come
            message = json.loads(line)
            if message["type"] == "test_plan":
                changes = message["test_plan"]["resource_changes"]
                plans[message["@testrun"]] = {
                    change["address"]: change["change"]["after"] for change in changes
                }
            elif message["@level"] == "error":
                problems.append(message["@message"] + ": " + json.dumps(message.get("diagnostic", {}))[:2000])
    assert process.returncode == 0 and not problems, "\n".join(problems)
    return plans


@pytest.fixture(scope="module")
def plans() -> Iterator[dict[str, Plan]]:
    reason = terraform_available(min_version=(1, 11, 0))
    if reason is not None:
        missing_tool("NO_TERRAFORM", reason)
    # `terraform test` only takes a test directory inside the configuration: a private one under build/.
    directory = ROOT / "build" / "terraform" / f"parity-{os.getpid()}"
    env = terraform_env(directory / "data")
    try:
        try:
            run(["init", "-backend=false", "-input=false", "-lockfile=readonly", "-no-color"], ROOT, env)
        except TerraformError as exc:
            missing_tool("NO_TERRAFORM", f"terraform init could not install hashicorp/aws: {exc}")
        env_runs = {name: path.read_text() for name, (path, overrides) in CASES.items() if not overrides}
        edge_runs = {name: _hcl(overrides) for name, (_, overrides) in CASES.items() if overrides}
        yield {
            **_terraform_test(directory / "env_files", env, env_runs),
            **_terraform_test(directory / "edge_cases", env, edge_runs, LOCAL),
        }
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _of_type(plan: Plan, kind: str) -> list[dict[str, Any]]:
    return [values for address, values in plan.items() if address.startswith(f"{kind}.")]


def _instances(plan: Plan, resource: str) -> dict[str, dict[str, Any]]:
    """``resource["key"]`` instances by key."""
    prefix = f'{resource}["'
    return {
        address[len(prefix) : -2]: values for address, values in plan.items() if address.startswith(prefix)
    }


def _planned(plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    """Rule name → (description, pattern, schedule, state), and rule name → its targets, from a plan."""
    functions = {values["arn"]: values["function_name"] for values in _of_type(plan, "aws_lambda_function")}
    queues = {values["arn"]: values["name"] for values in _of_type(plan, "aws_sqs_queue")}
    events_role = plan["aws_iam_role.events"]
    rules = {
        rule["name"]: (
            rule["description"],
            json.loads(rule["event_pattern"]) if rule["event_pattern"] else None,
            rule["schedule_expression"],
            rule["state"],
        )
        for rule in _of_type(plan, "aws_cloudwatch_event_rule")
    }
    targets: dict[str, list[dict[str, Any]]] = {}
    for target in _of_type(plan, "aws_cloudwatch_event_target"):
        arn = target["arn"]
        assert target["role_arn"] in (None, events_role["arn"])
        pipeline = target["sagemaker_pipeline_target"]
        targets.setdefault(target["rule"], []).append(
            {
                "id": target["target_id"],
                "to": ("lambda", functions[arn]) if arn in functions else ("sagemaker_pipeline", arn),
                "role": None if target["role_arn"] is None else events_role["name"],
                "dead_letter": queues[target["dead_letter_config"][0]["arn"]],
                "retry": target["retry_policy"][0],
                "parameters": None
                if not pipeline
                else {item["name"]: item["value"] for item in pipeline[0]["pipeline_parameter_list"]},
            }
        )
    return rules, targets


def _rendered(rules: list[RuleSpec]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same shapes from the renderer's RuleSpecs."""
    return (
        {
            rule.name: (rule.description, rule.event_pattern, rule.schedule_expression, rule.state)
            for rule in rules
        },
        {
            rule.name: [
                {
                    "id": target.id,
                    "to": (
                        target.arn_kind,
                        target.resource_name if target.arn_kind == "lambda" else target.arn,
                    ),
                    "role": None if target.role_arn is None else target.role_arn.rsplit("/", 1)[1],
                    "dead_letter": (target.dead_letter_arn or "").rsplit(":", 1)[1],
                    "retry": dict(target.retry_policy or {}),
                    "parameters": None
                    if target.pipeline_parameters is None
                    else dict(target.pipeline_parameters),
                }
                for target in rule.targets
            ]
            for rule in rules
        },
    )


def _variables(case: str) -> dict[str, Any]:
    env_file, overrides = CASES[case]
    return read_variables(env_file, {**SHARED, **overrides})


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_planned_rules_and_targets_are_the_rendered_ones(plans: dict[str, Plan], case: str) -> None:
    planned_rules, planned_targets = _planned(plans[case])
    rendered_rules, rendered_targets = _rendered(render_rules(_variables(case)))  # the mock's account
    assert planned_rules == rendered_rules
    assert planned_targets == rendered_targets


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_planned_functions_are_the_provisioned_ones_and_the_contracts(
    plans: dict[str, Plan], case: str
) -> None:
    plan = plans[case]
    variables = _variables(case)
    planned = {
        key: {
            "name": values["function_name"],
            "handler": values["handler"],
            "timeout": values["timeout"],
            "memory_size": values["memory_size"],
            "reserved_concurrency": values["reserved_concurrent_executions"],
            "environment": values["environment"][0]["variables"],
        }
        for key, values in _instances(plan, "aws_lambda_function.this").items()
    }
    provisioned = {
        key: {
            "name": spec.name,
            "handler": spec.handler,
            "timeout": spec.timeout,
            "memory_size": spec.memory_size,
            "reserved_concurrency": spec.reserved_concurrency,
            "environment": dict(spec.environment),
        }
        for key, spec in lambda_functions(
            variables,
            topic_arn=plan["aws_sns_topic.notifications"]["arn"],
            secret_arn=plan["aws_secretsmanager_secret.gitlab_token[0]"]["arn"],
        ).items()
    }
    for functions in (planned, provisioned):  # JSON: compare the entries, not their spelling
        for function in functions.values():
            custom = function["environment"].get("CUSTOM_NOTIFICATION_CONFIG")
            if custom is not None:
                function["environment"]["CUSTOM_NOTIFICATION_CONFIG"] = json.loads(custom)
    assert planned == provisioned

    for key, contract in load_contracts().lambda_functions.items():
        function = planned[key]
        assert (function["handler"], function["timeout"], function["memory_size"]) == (
            contract.handler,
            contract.timeout,
            contract.memory_size,
        )
        default = variables["lambda_reserved_concurrency"] if contract.reserved_concurrency is None else None
        assert function["reserved_concurrency"] == (default or contract.reserved_concurrency)
        assert sorted(function["environment"]) == sorted(contract.environment)


def test_the_edge_cases_reach_the_branches(plans: dict[str, Plan]) -> None:
    """Each edge case plans what it is there for (that Python agrees is checked above)."""

    def rules(case: str) -> dict[str, Any]:
        return _planned(plans[f"edge_{case}"])[0]

    def step_status(case: str) -> Any:
        return rules(case)["mlops-local-step-status"][1]["detail"]

    assert not any(name.startswith("mlops-local-custom-") for name in rules("no_custom_config"))
    assert [len(item) for item in step_status("several_step_statuses")["$or"]] == [2, 2, 1]  # Starting: none
    assert set(step_status("one_status_without_custom_pairs")) == {"pipelineArn", "currentStepStatus"}
    assert step_status("custom_pairs_repeated_and_unnotified")["$or"] == [
        {"currentStepStatus": ["Starting"], "stepName": [{"anything-but": ["B"]}]},
        {"currentStepStatus": ["Failed"], "stepName": [{"anything-but": ["A"]}]},
    ]
    assert {"mlops-local-training-schedule", "mlops-local-inference-schedule"} <= set(rules("schedules_on"))
    assert {"mlops-local-step-status", "mlops-local-execution-status"} & set(
        rules("status_rules_off")
    ) == set()
    concurrency = _instances(plans["edge_function_settings"], "aws_lambda_function.this")["notifier"]
    assert concurrency["reserved_concurrent_executions"] == 3


# --------------------------------------------------------------------------------------------------
# 2. One real apply to moto
# --------------------------------------------------------------------------------------------------

# Beyond local.tfvars: schedules (SageMaker pipeline targets with parameters) and two notified step
# statuses (an "$or" pattern), so every shape the renderer gives is applied for real.
EXTRA = """
training_schedule    = "cron(0 3 ? * MON *)"
inference_schedule   = "rate(1 day)"
notify_step_statuses = ["Failed", "Succeeded"]
"""


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tfvars") / "local.tfvars"
    path.write_text(LOCAL.read_text() + EXTRA)
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


@pytest.mark.terraform_apply
def test_the_rules_terraform_created_are_the_rules_the_renderer_gives(
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


@pytest.mark.terraform_apply
def test_the_targets_terraform_created_are_the_targets_the_renderer_gives(
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


@pytest.mark.terraform_apply
def test_the_functions_the_targets_name_exist_with_their_contract(
    applied: tuple[str, dict[str, Any]],
) -> None:
    endpoint, outputs = applied
    client = _client(endpoint, "lambda")
    functions = {function["FunctionName"]: function for function in client.list_functions()["Functions"]}
    contracts = load_contracts().lambda_functions
    for key, name in outputs["lambda_function_names"].items():
        assert (functions[name]["Handler"], functions[name]["Timeout"]) == (
            contracts[key].handler,
            contracts[key].timeout,
        )
        assert sorted(functions[name]["Environment"]["Variables"]) == sorted(contracts[key].environment)
    trigger = client.get_function_configuration(FunctionName="mlops-local-pipeline-trigger")
    assert trigger["Runtime"] == "python3.12"
    assert trigger["Environment"]["Variables"]["INFERENCE_PIPELINE"] == "mlops-local-batch-inference"
    assert trigger["KMSKeyArn"] == outputs["kms_key_arn"]
    # One at a time: the "is an HPO execution running?" check cannot race (moto keeps no DeadLetterConfig).
    concurrency = client.get_function_concurrency(FunctionName="mlops-local-pipeline-trigger")
    assert concurrency["ReservedConcurrentExecutions"] == 1
