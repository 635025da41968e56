"""pipeline_scripts.config.contracts: contracts.json as typed names; errors name the file and the key."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.config.contracts import CONTRACTS_FILE, ContractError, load

ROOT = Path(__file__).resolve().parents[2]


def test_the_contract_file_is_at_the_repository_root() -> None:
    assert ROOT / "contracts.json" == CONTRACTS_FILE
    contracts = load()
    assert contracts.step("model_quality") == "ModelQualityCalcStep"
    assert contracts.no_ground_truth == "none"
    assert contracts.detail_types["model_package_state"] == "SageMaker Model Package State Change"
    assert contracts.pipelines["inference"][-1] == "ModelQualityCalcStep"
    assert contracts.sharded_pipeline("inference")[4:6] == ("DataQualityCheckShards", "DataQualityCheck")
    trigger = contracts.lambda_functions["pipeline_trigger"]
    assert (trigger.handler, trigger.reserved_concurrency) == ("pipeline_trigger.handler", 1)
    assert contracts.lambda_functions["notifier"].reserved_concurrency is None  # the variable's
    assert "$comment" not in contracts.steps and "$comment" not in contracts.lambda_functions


def write(tmp_path: Path, change: Any) -> Path:
    data = json.loads(CONTRACTS_FILE.read_text())
    change(data)
    path = tmp_path / "contracts.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda data: data.pop("detail_types"), "section 'detail_types' is missing"),
        (
            lambda data: data["pipelines"]["hpo"].append("nope"),
            "pipelines.hpo names steps not in steps: ['nope']",
        ),
        (lambda data: data["sentinels"].clear(), "sentinels has no key 'no_ground_truth'"),
        (
            lambda data: data["shards"].update(data_quality_check="nope"),
            "shards.data_quality_check names steps not in steps: ['nope']",
        ),
        (lambda data: data["lambda_functions"]["notifier"].pop("handler"), "lambda_functions.notifier lacks"),
    ],
    ids=["section", "pipeline-step", "sentinel", "shard-step", "function-key"],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, change: Any, message: str) -> None:
    path = write(tmp_path, change)
    with pytest.raises(ContractError, match=re.escape(f"{path}: ") + ".*" + re.escape(message)):
        load(path)


def test_missing_file_and_unknown_step(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="file not found"):
        load(tmp_path / "contracts.json")
    with pytest.raises(ContractError, match=re.escape("steps has no key 'nope'")):
        load().step("nope")
