"""Every step's ``Arguments`` against botocore's input shape for the API the step calls, and the
CreatePipeline request itself through botocore's parameter validation (``local`` and ``prod``).

SageMaker checks step arguments only when an execution reaches the step; this finds unknown members,
missing required ones, enum values, patterns and length/range limits offline, whichever SDK built the
definition. Pipeline expressions (``Get``, ``Std:Join``, ``Std:JsonGet``) resolve at execution time and
are skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from pipeline_scripts.build.definitions import BuiltPipeline, build_all
from pipeline_scripts.build.validate import iter_steps
from pipeline_scripts.config import load_config
from tests.functional.test_definitions import approved_for

OPERATIONS = {
    "Processing": "CreateProcessingJob",
    "Training": "CreateTrainingJob",
    "Transform": "CreateTransformJob",
    "Tuning": "CreateHyperParameterTuningJob",
    "Model": "CreateModel",
    "RegisterModel": "CreateModelPackage",
    # The model_monitor engine's steps: their arguments are the baselining job's CreateProcessingJob.
    "QualityCheck": "CreateProcessingJob",
}
# The pipeline service names the jobs and models it creates: the SDK leaves these out on purpose.
NAMED_BY_THE_SERVICE = {
    "ProcessingJobName",
    "TrainingJobName",
    "TransformJobName",
    "HyperParameterTuningJobName",
    "ModelName",
}
EXPRESSIONS = {"Get", "Std:Join", "Std:JsonGet"}
ENVIRONMENTS = ("local", "prod")
# (environment, overrides): the configurations checked. Beyond local and prod as configured, prod's
# variants that emit other steps: the data-quality steps sharded (shards + merge), and Model Monitor.
CONFIGURATIONS = [
    *((env, {}) for env in ENVIRONMENTS),
    ("prod", {"processing.instance_count": "2"}),
    ("prod", {"inference.data_quality_engine": "model_monitor"}),
]

MODEL = botocore.session.get_session().get_service_model("sagemaker")


def is_expression(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in EXPRESSIONS


def _limits(shape: Any, size: float, path: str) -> Iterator[str]:
    meta = shape.metadata
    if "min" in meta and size < meta["min"]:
        yield f"{path}: {size} is below the minimum {meta['min']}"
    if "max" in meta and size > meta["max"]:
        yield f"{path}: {size} is above the maximum {meta['max']}"


def _string(shape: Any, value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, str):
        yield f"{path}: expected a string, got {value!r}"
        return
    if shape.enum and value not in shape.enum:
        yield f"{path}: {value!r} is not one of {shape.enum}"
    pattern = shape.metadata.get("pattern")
    if pattern:
        try:
            compiled = re.compile(pattern)
        except re.error:  # a Java-only construct: SageMaker checks it
            compiled = None
        if compiled is not None and not compiled.search(value):
            yield f"{path}: {value!r} does not match {pattern}"
    yield from _limits(shape, len(value), path)


def _structure(shape: Any, value: Any, path: str, top: bool) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{path}: expected an object, got {value!r}"
        return
    for name in value.keys() - shape.members.keys():
        yield f"{path}: unknown member {name!r}"
    for name in shape.required_members:
        if name not in value and not (top and name in NAMED_BY_THE_SERVICE):
            yield f"{path}: missing required member {name!r}"
    for name, member in value.items():
        if name in shape.members:
            yield from problems(shape.members[name], member, f"{path}.{name}")


def _list(shape: Any, value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, list):
        yield f"{path}: expected a list, got {value!r}"
        return
    yield from _limits(shape, len(value), path)
    for i, item in enumerate(value):
        yield from problems(shape.member, item, f"{path}[{i}]")


def _map(shape: Any, value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{path}: expected a map, got {value!r}"
        return
    yield from _limits(shape, len(value), path)
    for key, item in value.items():
        yield from problems(shape.key, key, f"{path}<key>")
        yield from problems(shape.value, item, f"{path}[{key!r}]")


def _number(shape: Any, value: Any, path: str) -> Iterator[str]:
    integer = shape.type_name in ("integer", "long")
    allowed: tuple[type, ...] = (int,) if integer else (int, float)
    if not isinstance(value, allowed) or isinstance(value, bool):
        yield f"{path}: expected {'an integer' if integer else 'a number'}, got {value!r}"
    else:
        yield from _limits(shape, value, path)


def problems(shape: Any, value: Any, path: str, top: bool = False) -> Iterator[str]:
    """What is wrong with ``value`` as an instance of botocore ``shape``."""
    if is_expression(value):
        return
    kind = shape.type_name
    if kind == "structure":
        yield from _structure(shape, value, path, top)
    elif kind == "list":
        yield from _list(shape, value, path)
    elif kind == "map":
        yield from _map(shape, value, path)
    elif kind == "string":
        yield from _string(shape, value, path)
    elif kind in ("integer", "long", "float", "double"):
        yield from _number(shape, value, path)
    elif kind == "boolean" and not isinstance(value, bool):
        yield f"{path}: expected a boolean, got {value!r}"


@pytest.fixture(
    scope="module",
    params=CONFIGURATIONS,
    ids=lambda c: "-".join([c[0], *(f"{k}={v}" for k, v in c[1].items())]),
)
def built(request: pytest.FixtureRequest) -> list[BuiltPipeline]:
    env, overrides = request.param
    config = load_config(env, environ={}, overrides=overrides)
    return build_all(config, approved_for(config))


def test_every_step_calls_its_api_with_valid_arguments(built: list[BuiltPipeline]) -> None:
    found: list[str] = []
    checked = set()
    for pipeline in built:
        for step in iter_steps(pipeline.definition["Steps"]):
            operation = OPERATIONS.get(step["Type"])
            if operation is None:
                continue
            checked.add(step["Type"])
            shape = MODEL.operation_model(operation).input_shape
            where = f"{pipeline.kind}/{step['Name']} ({operation})"
            found += problems(shape, step["Arguments"], where, top=True)
    model_monitor = any(
        step.get("Type") == "QualityCheck" for p in built for step in iter_steps(p.definition["Steps"])
    )
    assert checked == set(OPERATIONS) - (set() if model_monitor else {"QualityCheck"})
    assert found == []


def test_create_pipeline_request_passes_botocore_validation(built: list[BuiltPipeline]) -> None:
    config_role = "arn:aws:iam::123456789012:role/mlops-pipeline-execution"
    shape = MODEL.operation_model("CreatePipeline").input_shape
    for pipeline in built:
        request = {
            "PipelineName": pipeline.name,
            "PipelineDefinition": pipeline.definition_json,
            "RoleArn": config_role,
            "ClientRequestToken": "0" * 32,
        }
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), report.generate_report()
        assert json.loads(request["PipelineDefinition"]) == pipeline.definition


def test_the_checker_catches_what_it_claims_to() -> None:
    shape = MODEL.operation_model("CreateTransformJob").input_shape
    bad = {
        "ModelName": {"Get": "Steps.X.ModelName"},
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "Nope", "S3Uri": "s3://b/k"}}},
        "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 0},
        "Unexpected": 1,
    }
    found = list(problems(shape, bad, "t", top=True))
    assert any("unknown member 'Unexpected'" in p for p in found)
    assert any("missing required member 'TransformOutput'" in p for p in found)
    assert any("'Nope' is not one of" in p for p in found)
    assert any("below the minimum 1" in p for p in found)
    assert not any("ModelName" in p for p in found)
