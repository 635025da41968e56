"""The names Python, Terraform and the Lambdas share, read from ``contracts.json`` at the repository root.

    from pipeline_scripts.config.contracts import load
    contracts = load()
    contracts.step("model_quality")                   # "ModelQualityCalcStep"
    contracts.sharded_pipeline("training")            # the steps with processing.instance_count > 1
    contracts.detail_types["model_package_state"]     # "SageMaker Model Package State Change"
    contracts.lambda_functions["notifier"].environment

Standard library only. Keys starting with ``$`` are comments. A missing file, section or key raises
:class:`ContractError` naming the file and the key.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_scripts.errors import ConfigError
from pipeline_scripts.paths import CONTRACTS_FILE

__all__ = ["CONTRACTS_FILE", "ContractError", "Contracts", "LambdaContract", "load"]


class ContractError(ConfigError):
    """contracts.json is missing, or lacks a section or key (says which)."""


@dataclass(frozen=True)
class LambdaContract:
    """One function of lambda.tf: what Terraform, the local provisioner and the code agree on."""

    handler: str
    timeout: int
    reserved_concurrency: int | None  # None: var.lambda_reserved_concurrency
    memory_size: int | None
    environment: tuple[str, ...]  # the keys; the values are Terraform's (lambda.tf)


@dataclass(frozen=True)
class Contracts:
    path: Path
    steps: Mapping[str, str]  # key → step name
    pipelines: Mapping[str, tuple[str, ...]]  # pipeline kind → its step names, in definition order
    shards: Mapping[str, str]  # step name → the step run on every instance before it (instance_count > 1)
    detail_types: Mapping[str, str]
    no_ground_truth: str
    lambda_functions: Mapping[str, LambdaContract]

    def step(self, key: str) -> str:
        if key not in self.steps:
            raise ContractError(f"{self.path}: steps has no key {key!r} (has {sorted(self.steps)})")
        return self.steps[key]

    @property
    def step_names(self) -> frozenset[str]:
        return frozenset(self.steps.values())

    def sharded_pipeline(self, kind: str) -> tuple[str, ...]:
        """A pipeline's step names when processing runs on several instances: each step of ``shards``
        preceded by its shard step."""
        names: list[str] = []
        for step in self.pipelines[kind]:
            if step in self.shards:
                names.append(self.shards[step])
            names.append(step)
        return tuple(names)


def _section(data: Mapping[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise ContractError(f"{path}: section {name!r} is missing or not an object")
    return {key: item for key, item in value.items() if not key.startswith("$")}


def _function(key: str, spec: Any, path: Path) -> LambdaContract:
    where = f"{path}: lambda_functions.{key}"
    if not isinstance(spec, dict):
        raise ContractError(f"{where} must be an object")
    missing = {"handler", "timeout", "environment"} - set(spec)
    if missing:
        raise ContractError(f"{where} lacks {sorted(missing)}")
    return LambdaContract(
        handler=str(spec["handler"]),
        timeout=int(spec["timeout"]),
        reserved_concurrency=spec.get("reserved_concurrency"),
        memory_size=spec.get("memory_size"),
        environment=tuple(spec["environment"]),
    )


@functools.lru_cache(maxsize=8)
def load(path: Path = CONTRACTS_FILE) -> Contracts:
    """The contract file (cached: it is read-only at run time)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ContractError(f"{path}: file not found (the repository root holds contracts.json)") from exc
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}: not valid JSON: {exc}") from exc
    steps = {key: str(name) for key, name in _section(data, "steps", path).items()}
    pipelines = {}
    for kind, keys in _section(data, "pipelines", path).items():
        unknown = [key for key in keys if key not in steps]
        if unknown:
            raise ContractError(f"{path}: pipelines.{kind} names steps not in steps: {unknown}")
        pipelines[kind] = tuple(steps[key] for key in keys)
    shards = {}
    for key, shard_key in _section(data, "shards", path).items():
        unknown = [k for k in (key, shard_key) if k not in steps]
        if unknown:
            raise ContractError(f"{path}: shards.{key} names steps not in steps: {unknown}")
        shards[steps[key]] = steps[shard_key]
    sentinels = _section(data, "sentinels", path)
    if "no_ground_truth" not in sentinels:
        raise ContractError(f"{path}: sentinels has no key 'no_ground_truth'")
    return Contracts(
        path=path,
        steps=steps,
        pipelines=pipelines,
        shards=shards,
        detail_types={key: str(value) for key, value in _section(data, "detail_types", path).items()},
        no_ground_truth=str(sentinels["no_ground_truth"]),
        lambda_functions={
            key: _function(key, spec, path) for key, spec in _section(data, "lambda_functions", path).items()
        },
    )
