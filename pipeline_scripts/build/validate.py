"""Static checks of a pipeline definition JSON before it is sent anywhere.

SageMaker validates a definition only when ``create_pipeline``/``update_pipeline`` is called, and some
mistakes (a ``Get`` on a step that does not exist, a parameter that is not declared) only surface when an
execution reaches the step. These checks catch them offline.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

MAX_DEFINITION_BYTES = 1_000_000  # CreatePipeline's PipelineDefinition limit (1 MB)
_STEP_REF = re.compile(r"^Steps\.([A-Za-z0-9_-]+)[.\[]")
_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
KNOWN_TYPES = {
    "Processing",
    "Training",
    "Tuning",
    "Transform",
    "Model",
    "RegisterModel",
    "Condition",
    "Fail",
    "QualityCheck",
    "ClarifyCheck",
    "Lambda",
    "Callback",
    "EMR",
    "AutoML",
}


def iter_steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every step, including those nested in condition branches."""
    for step in steps:
        yield step
        if step.get("Type") == "Condition":
            args = step.get("Arguments", {})
            yield from iter_steps(args.get("IfSteps", []))
            yield from iter_steps(args.get("ElseSteps", []))


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def validate_definition(definition: dict[str, Any], size: int | None = None) -> list[str]:
    """Problems found in ``definition`` (empty when it is sound)."""
    problems: list[str] = []
    if size is not None and size > MAX_DEFINITION_BYTES:
        problems.append(f"definition is {size} bytes, over SageMaker's {MAX_DEFINITION_BYTES}")
    problems += [
        f"missing top-level {key}" for key in ("Version", "Parameters", "Steps") if key not in definition
    ]
    params = {p.get("Name") for p in definition.get("Parameters", [])}
    all_steps = list(iter_steps(definition.get("Steps", [])))
    seen = _check_names([s.get("Name", "") for s in all_steps], problems)
    for step in all_steps:
        name = step.get("Name", "?")
        if step.get("Type") not in KNOWN_TYPES:
            problems.append(f"step {name}: unknown type {step.get('Type')!r}")
        for dep in step.get("DependsOn", []) or []:
            if dep not in seen:
                problems.append(f"step {name}: DependsOn {dep!r}, which is not a step")
        for node in _walk(step.get("Arguments", {})):
            problems += _reference_problems(node, name, params, seen)
    return problems


def _check_names(names: list[str], problems: list[str]) -> set[str]:
    """The step names, after noting the duplicates and the malformed ones."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(f"step name {name!r} is used twice")
        seen.add(name)
        if not _NAME.match(name):
            problems.append(f"step name {name!r} is not 1-64 letters, digits, '-' or '_'")
    return seen


def _reference_problems(node: dict[str, Any], name: str, params: set[Any], steps: set[str]) -> list[str]:
    """What is wrong with one ``Get`` or ``Std:JsonGet`` node of step ``name``."""
    problems = []
    ref = node.get("Get")
    if isinstance(ref, str) and ref.startswith("Parameters.") and ref.split(".", 1)[1] not in params:
        problems.append(f"step {name}: {ref} is not a declared parameter")
    elif isinstance(ref, str) and ref.startswith("Steps."):
        match = _STEP_REF.match(ref)
        if not match or match.group(1) not in steps:
            problems.append(f"step {name}: {ref} refers to a step that does not exist")
        elif match.group(1) == name:
            problems.append(f"step {name}: refers to its own properties")
    json_get = node.get("Std:JsonGet")
    if isinstance(json_get, dict):
        pf = json_get.get("PropertyFile", {})
        target = pf.get("Get", "") if isinstance(pf, dict) else ""
        match = _STEP_REF.match(target)
        if not match or match.group(1) not in steps:
            problems.append(f"step {name}: JsonGet on {target!r}, which is not a step's property file")
    return problems
