"""The parts of a pipeline definition the engine schedules on: steps, their dependencies, parameters.

A step depends on the steps named in its ``DependsOn``, on every step whose properties or property files
its expressions read, and, when it sits in a ConditionStep's ``IfSteps``/``ElseSteps``, on that
condition step (it runs only when the outcome selects its branch).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from local_aws.executor.expressions import PropertyFileSpec, referenced_steps

BRANCH_KEYS = ("IfSteps", "ElseSteps")


@dataclass(frozen=True)
class StepSpec:
    """One step of the definition, flattened out of any condition branch."""

    name: str
    type: str
    body: Mapping[str, Any]
    depends_on: frozenset[str]
    branch: tuple[str, bool] | None  # (condition step, the outcome that runs this step)
    display_name: str | None
    description: str | None

    @property
    def expressions(self) -> dict[str, Any]:
        """The step without its name, type and nested branch steps: what gets resolved before it runs."""
        body = {k: v for k, v in self.body.items() if k not in ("Name", "Type", "DependsOn")}
        if self.type == "Condition":
            arguments = dict(body.get("Arguments", {}))
            for key in BRANCH_KEYS:
                arguments.pop(key, None)
            body["Arguments"] = arguments
        return body

    @property
    def property_files(self) -> dict[str, PropertyFileSpec]:
        return {
            pf["PropertyFileName"]: PropertyFileSpec(output_name=pf["OutputName"], file_path=pf["FilePath"])
            for pf in self.body.get("PropertyFiles", []) or []
        }


@dataclass(frozen=True)
class PipelineDefinition:
    raw: Mapping[str, Any]
    parameters: Mapping[str, Mapping[str, Any]]
    steps: Mapping[str, StepSpec]  # in definition order (branch steps after their condition step)

    def branch_steps(self, condition: str, outcome: bool) -> list[str]:
        return [s.name for s in self.steps.values() if s.branch == (condition, outcome)]


def _flatten(
    steps: Sequence[Mapping[str, Any]],
    branch: tuple[str, bool] | None,
    out: list[tuple[Mapping[str, Any], Any]],
) -> None:
    for step in steps:
        out.append((step, branch))
        if step.get("Type") == "Condition":
            args = step.get("Arguments", {})
            _flatten(args.get("IfSteps", []) or [], (step["Name"], True), out)
            _flatten(args.get("ElseSteps", []) or [], (step["Name"], False), out)


def parse_definition(definition: Mapping[str, Any] | str) -> PipelineDefinition:
    """Parse and check a definition; raises ValueError naming the problem."""
    raw: Mapping[str, Any] = json.loads(definition) if isinstance(definition, str) else definition
    if not isinstance(raw, Mapping) or not isinstance(raw.get("Steps"), list):
        raise ValueError("pipeline definition has no Steps list")
    flat: list[tuple[Mapping[str, Any], Any]] = []
    _flatten(raw["Steps"], None, flat)
    names = [str(step.get("Name", "")) for step, _ in flat]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"pipeline definition uses step names more than once: {', '.join(duplicates)}")
    known = set(names)
    specs: dict[str, StepSpec] = {}
    for step, branch in flat:
        name = str(step.get("Name", ""))
        if not name:
            raise ValueError("pipeline definition has a step without a Name")
        spec = StepSpec(
            name=name,
            type=str(step.get("Type", "")),
            body=step,
            depends_on=frozenset(),
            branch=branch,
            display_name=step.get("DisplayName"),
            description=step.get("Description"),
        )
        deps = set(step.get("DependsOn", []) or []) | referenced_steps(spec.expressions)
        if branch:
            deps.add(branch[0])
        unknown = sorted(deps - known)
        if unknown:
            raise ValueError(f"step {name} refers to steps that do not exist: {', '.join(unknown)}")
        if name in deps:
            raise ValueError(f"step {name} refers to its own properties")
        specs[name] = replace(spec, depends_on=frozenset(deps))
    _check_acyclic(specs)
    parameters = {str(p["Name"]): p for p in raw.get("Parameters", []) or []}
    return PipelineDefinition(raw=raw, parameters=parameters, steps=specs)


def _check_acyclic(specs: Mapping[str, StepSpec]) -> None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise ValueError(f"pipeline definition has a dependency cycle: {cycle}")
        state[name] = 1
        for dep in sorted(specs[name].depends_on):
            visit(dep, [*path, name])
        state[name] = 2

    for name in specs:
        visit(name, [])


# --------------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------------

_TYPES = ("String", "Integer", "Float", "Boolean")


def _convert(name: str, kind: str, value: Any) -> Any:
    if kind == "String":
        return str(value)
    if kind == "Integer":
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if math.isnan(number) or math.isinf(number) or number != int(number):
            raise ValueError(f"parameter {name} is an Integer; {value!r} is not an integer")
        return int(number)
    if kind == "Float":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"parameter {name} is a Float; {value!r} is not a number") from None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"parameter {name} is a Boolean; {value!r} is not true or false")
    return text == "true"


def resolve_parameters(
    definition: PipelineDefinition, given: Sequence[Mapping[str, Any]] | None
) -> dict[str, Any]:
    """Typed parameter values: the given ones over the defaults. Raises ValueError for an unknown name,
    a value of the wrong type or outside EnumValues, an empty value, or a missing value without default."""
    supplied: dict[str, Any] = {}
    for item in given or []:
        name = str(item.get("Name", ""))
        if name not in definition.parameters:
            declared = ", ".join(definition.parameters) or "none"
            raise ValueError(f"unknown pipeline parameter {name!r}; this pipeline declares: {declared}")
        if name in supplied:
            raise ValueError(f"pipeline parameter {name!r} is given more than once")
        value = item.get("Value")
        if value is None or str(value) == "":
            raise ValueError(f"pipeline parameter {name!r} has an empty value (SageMaker rejects those)")
        supplied[name] = value
    values: dict[str, Any] = {}
    for name, spec in definition.parameters.items():
        kind = str(spec.get("Type", "String"))
        if kind not in _TYPES:
            raise ValueError(f"parameter {name} has unsupported type {kind!r}")
        if name in supplied:
            value = _convert(name, kind, supplied[name])
        elif "DefaultValue" in spec:
            value = _convert(name, kind, spec["DefaultValue"])
        else:
            raise ValueError(f"pipeline parameter {name!r} has no default value and none was given")
        enum = spec.get("EnumValues")
        if enum and value not in enum:
            raise ValueError(f"parameter {name} must be one of {', '.join(map(str, enum))}; got {value!r}")
        values[name] = value
    return values
