"""contracts.json and each side that shares its names agree: the pipelines (golden definitions), the
Lambda code, the local provisioner, the env files and the Terraform files. Terraform's planned functions
and rules against the contract: tests/functional/test_tf_parity.py and tests/terraform/contracts.tftest.hcl.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_aws.provisioning.provision import lambda_functions
from local_aws.provisioning.rules import read_variables
from pipeline_scripts.config.contracts import load

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_SRC = ROOT / "code" / "lambda_function"
GOLDEN = ROOT / "tests" / "golden"
ENV_FILES = sorted((ROOT / "env_files").glob("*.tfvars"))
CONTRACTS = load()


def _step_names(steps: list[dict[str, Any]]) -> Iterator[str]:
    for step in steps:
        yield step["Name"]
        for branch in ("IfSteps", "ElseSteps"):
            yield from _step_names(step.get("Arguments", {}).get(branch, []))


@pytest.mark.parametrize("kind", ["training", "hpo", "inference"])
def test_the_builders_emit_exactly_the_contracts_steps(kind: str) -> None:
    definition = json.loads((GOLDEN / f"{kind}.json").read_text())
    names = list(_step_names(definition["Steps"]))
    assert set(names) <= CONTRACTS.step_names, "a builder emits a step name contracts.json does not know"
    assert names == list(CONTRACTS.pipelines[kind])


def test_every_contract_step_belongs_to_a_pipeline() -> None:
    sharded = [CONTRACTS.sharded_pipeline(kind) for kind in CONTRACTS.pipelines]
    assert set().union(*CONTRACTS.pipelines.values(), *sharded) == CONTRACTS.step_names
    # The shard steps only precede the step that merges them (which keeps its name for rules and messages).
    assert set(CONTRACTS.shards) <= set().union(*CONTRACTS.pipelines.values())
    assert not set(CONTRACTS.shards.values()) & set().union(*CONTRACTS.pipelines.values())


@pytest.mark.parametrize("env_file", [*ENV_FILES, ROOT / "tests" / "terraform" / "terraform.tfvars"], ids=str)
def test_custom_notifications_name_contract_steps(env_file: Path) -> None:
    custom = read_variables(env_file)["custom_notification_config"]
    assert custom, "the shipped files configure custom messages"
    assert {entry["step_name"] for entry in custom} <= CONTRACTS.step_names


# --- the Lambda code ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lambda_modules() -> dict[str, Any]:
    if str(LAMBDA_SRC) not in sys.path:
        sys.path.insert(0, str(LAMBDA_SRC))
    import common
    import pipeline_trigger

    return {"common": common, "pipeline_trigger": pipeline_trigger}


def test_the_lambda_code_reads_its_names_from_the_contract(lambda_modules: dict[str, Any]) -> None:
    common, trigger = lambda_modules["common"], lambda_modules["pipeline_trigger"]
    assert common.CONTRACTS_PATH == ROOT / "contracts.json"  # in a checkout: the repository root
    assert dict(CONTRACTS.detail_types) == {
        "s3_object_created": common.S3_OBJECT_CREATED,
        "step_status": common.STEP_STATUS_CHANGE,
        "execution_status": common.EXECUTION_STATUS_CHANGE,
        "model_package_state": common.MODEL_PACKAGE_STATE_CHANGE,
    }
    assert set(common._PARSERS) == set(CONTRACTS.detail_types.values())
    assert CONTRACTS.step("model_quality") == trigger.MODEL_QUALITY_STEP
    assert CONTRACTS.no_ground_truth == trigger.NO_GROUND_TRUTH


def test_the_local_executor_is_handed_the_contracts_detail_types() -> None:
    from local_aws.server import _default_executor_factory

    factory = _default_executor_factory()
    assert getattr(factory, "keywords", {}).get("detail_types") == CONTRACTS.detail_types
    executor_strings = set().union(
        *(_code_strings(p) for p in (ROOT / "local_aws" / "executor").rglob("*.py"))
    )
    assert not executor_strings & set(CONTRACTS.detail_types.values())  # injected, never typed there


def _code_strings(path: Path) -> set[str]:
    """The string constants of a module, without its docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


@pytest.mark.parametrize("module", sorted(LAMBDA_SRC.glob("*.py")), ids=lambda path: path.name)
def test_the_lambda_code_types_no_contract_name_and_imports_nothing_of_the_project(module: Path) -> None:
    names = {*CONTRACTS.step_names, *CONTRACTS.detail_types.values(), CONTRACTS.no_ground_truth}
    assert _code_strings(module) & names == set(), "take it from contracts.json (common.contract)"
    siblings = {path.stem for path in LAMBDA_SRC.glob("*.py")}
    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore"} | siblings
    imported = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported - {"__future__"} <= allowed


# --- the local provisioner and the Terraform files -----------------------------------------------------


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda path: path.stem)
def test_the_local_provisioner_creates_the_contracts_functions(env_file: Path) -> None:
    variables = read_variables(env_file)
    functions = lambda_functions(variables, topic_arn="arn:topic", secret_arn="arn:secret")
    assert set(functions) == set(CONTRACTS.lambda_functions)
    for key, contract in CONTRACTS.lambda_functions.items():
        function = functions[key]
        assert (function.handler, function.timeout, function.memory_size) == (
            contract.handler,
            contract.timeout,
            contract.memory_size,
        )
        expected = variables["lambda_reserved_concurrency"]
        if contract.reserved_concurrency is not None:
            expected = contract.reserved_concurrency
        assert function.reserved_concurrency == expected
        assert list(function.environment) == list(contract.environment)


@pytest.mark.parametrize(
    "path",
    [*sorted(ROOT.glob("*.tf")), *sorted((ROOT / "events").glob("*.tftpl"))],
    ids=lambda path: path.name,
)
def test_the_terraform_files_type_no_contract_name(path: Path) -> None:
    """Step names, detail-types and handlers come from contracts.json (prose in comments is fine)."""
    names = {
        *CONTRACTS.step_names,
        *CONTRACTS.detail_types.values(),
        *(function.handler for function in CONTRACTS.lambda_functions.values()),
    }
    code = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    assert {name for name in names if f'"{name}"' in code} == set()
