"""The local executor's expression resolver and definition parser (local_aws.executor)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local_aws.executor.definition import parse_definition, resolve_parameters
from local_aws.executor.expressions import (
    ExpressionContext,
    ExpressionError,
    PropertyFileSpec,
    evaluate_condition,
    evaluate_conditions,
    json_path,
    referenced_steps,
    resolve,
    tokenize,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden"

PROPERTIES: dict[str, dict[str, Any]] = {
    "Prep": {
        "ProcessingOutputConfig": {
            "Outputs": [
                {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/run/train"}},
                {"OutputName": "report", "S3Output": {"S3Uri": "s3://b/run/report/"}},
            ]
        }
    },
    "Train": {
        "ModelArtifacts": {"S3ModelArtifacts": "s3://b/models/job-1/output/model.tar.gz"},
        "FinalMetricDataList": [
            {"MetricName": "train:rmse", "Value": 1.5},
            {"MetricName": "validation:rmse", "Value": 2.25},
        ],
    },
    "Tune": {
        "BestTrainingJob": {"TrainingJobName": "tune-002"},
        "TrainingJobSummaries": [{"TrainingJobName": "tune-002"}, {"TrainingJobName": "tune-001"}],
    },
    "Model": {"ModelName": "pipelines-abc-model"},
    "Register": {"ModelPackageArn": "arn:aws:sagemaker:us-east-1:1:model-package/g/3"},
    "Transform": {"TransformOutput": {"S3OutputPath": "s3://b/run/predictions"}},
}

REPORT = {"regression_metrics": {"rmse": {"value": 2.5}}, "items": [{"name": "a b", "n": 3}]}


def context(**overrides: Any) -> ExpressionContext:
    reads: list[str] = []

    def read_json(uri: str) -> Any:
        reads.append(uri)
        if uri == "s3://b/run/report/evaluation.json":
            return REPORT
        raise FileNotFoundError(uri)

    values: dict[str, Any] = {
        "parameters": {"Threshold": 3.0, "Input": "s3://b/in.csv", "Flag": True, "Count": 4},
        "execution": {"PipelineExecutionId": "abc123def456", "PipelineName": "p"},
        "properties": PROPERTIES,
        "property_files": {"Prep": {"Evaluation": PropertyFileSpec("report", "evaluation.json")}},
        "read_json": read_json,
        "step": "Consumer",
    }
    values.update(overrides)
    return ExpressionContext(**values)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("Parameters.Threshold", 3.0),
        ("Execution.PipelineExecutionId", "abc123def456"),
        ("Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri", "s3://b/run/train"),
        ("Steps.Train.ModelArtifacts.S3ModelArtifacts", "s3://b/models/job-1/output/model.tar.gz"),
        ("Steps.Train.FinalMetricDataList['validation:rmse'].Value", 2.25),
        ("Steps.Train.FinalMetricDataList[0].MetricName", "train:rmse"),
        ("Steps.Tune.BestTrainingJob.TrainingJobName", "tune-002"),
        ("Steps.Tune.TrainingJobSummaries[0].TrainingJobName", "tune-002"),
        ("Steps.Tune.TrainingJobSummaries[-1].TrainingJobName", "tune-001"),
        ("Steps.Model.ModelName", "pipelines-abc-model"),
        ("Steps.Register.ModelPackageArn", "arn:aws:sagemaker:us-east-1:1:model-package/g/3"),
        ("Steps.Transform.TransformOutput.S3OutputPath", "s3://b/run/predictions"),
    ],
)
def test_get_references_resolve(ref: str, expected: Any) -> None:
    assert resolve({"Get": ref}, context()) == expected


def test_nested_structures_resolve_and_literals_pass_through() -> None:
    node = {
        "S3Input": {"S3Uri": {"Get": "Parameters.Input"}, "LocalPath": "/opt/ml/x"},
        "List": [1, {"Get": "Parameters.Count"}],
    }
    assert resolve(node, context()) == {
        "S3Input": {"S3Uri": "s3://b/in.csv", "LocalPath": "/opt/ml/x"},
        "List": [1, 4],
    }


def test_join_renders_values_as_the_service_does() -> None:
    node = {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3://b/pipelines",
                {"Get": "Execution.PipelineExecutionId"},
                {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Threshold"}]}},
                {"Get": "Parameters.Flag"},
                7,
            ],
        }
    }
    assert resolve(node, context()) == "s3://b/pipelines/abc123def456/3.0/true/7"


def test_json_get_reads_the_property_file_from_the_output_location() -> None:
    node = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Prep.PropertyFiles.Evaluation"},
            "Path": "regression_metrics.rmse.value",
        }
    }
    assert resolve(node, context()) == 2.5


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.regression_metrics.rmse.value", 2.5),
        ("items[0].n", 3),
        ("items[0]['name']", "a b"),
        ("$['items'][0].n", 3),
    ],
)
def test_json_paths(path: str, expected: Any) -> None:
    assert json_path(REPORT, path) == expected


def test_json_get_by_s3_uri() -> None:
    node = {
        "Std:JsonGet": {
            "S3Uri": {"Std:Join": {"On": "/", "Values": ["s3://b/run/report", "evaluation.json"]}},
            "Path": "items[0].n",
        }
    }
    assert resolve(node, context()) == 3


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (
            {"Get": "Parameters.Nope"},
            "step Consumer: cannot resolve {'Get': 'Parameters.Nope'}: Nope is not a parameter",
        ),
        (
            {"Get": "Steps.Missing.ModelArtifacts.S3ModelArtifacts"},
            "step Consumer: cannot resolve {'Get': 'Steps.Missing.ModelArtifacts.S3ModelArtifacts'}: "
            "step Missing has not succeeded",
        ),
        (
            {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['nope'].S3Output.S3Uri"},
            "step Prep has no property ProcessingOutputConfig.Outputs['nope']",
        ),
        (
            {"Get": "Steps.Tune.TrainingJobSummaries[5].TrainingJobName"},
            "has no property TrainingJobSummaries[5]",
        ),
        ({"Get": "Execution.Nope"}, "unknown execution variable Nope"),
        (
            {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Prep.PropertyFiles.Evaluation"}, "Path": "a.b"}},
            "s3://b/run/report/evaluation.json has no value at path 'a.b'",
        ),
        (
            {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Prep.PropertyFiles.Other"}, "Path": "a"}},
            "step Prep declares no property file 'Other'",
        ),
        (
            {"Std:JsonGet": {"S3Uri": "s3://b/missing.json", "Path": "a"}},
            "cannot read JSON from s3://b/missing.json",
        ),
    ],
)
def test_unresolvable_expressions_name_the_step_and_the_path(node: Any, message: str) -> None:
    with pytest.raises(
        ExpressionError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
    ):
        resolve(node, context())


def _cmp(kind: str, left: Any, right: Any) -> dict[str, Any]:
    return {"Type": kind, "LeftValue": left, "RightValue": right}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (_cmp("Equals", {"Get": "Parameters.Input"}, "s3://b/in.csv"), True),
        (_cmp("Equals", {"Get": "Parameters.Count"}, 4.0), True),
        (_cmp("Equals", {"Get": "Parameters.Flag"}, "true"), True),
        (_cmp("GreaterThan", {"Get": "Parameters.Threshold"}, 3), False),
        (_cmp("GreaterThanOrEqualTo", {"Get": "Parameters.Threshold"}, 3), True),
        (_cmp("LessThan", 2.9, {"Get": "Parameters.Threshold"}), True),
        (
            _cmp(
                "LessThanOrEqualTo",
                {"Get": "Steps.Train.FinalMetricDataList['validation:rmse'].Value"},
                "2.25",
            ),
            True,
        ),
        ({"Type": "In", "QueryValue": {"Get": "Parameters.Count"}, "Values": [1, 4]}, True),
        ({"Type": "In", "QueryValue": "x", "Values": ["a", {"Get": "Parameters.Input"}]}, False),
        ({"Type": "Not", "Condition": _cmp("Equals", {"Get": "Parameters.Input"}, "none")}, True),
        ({"Type": "Or", "Conditions": [_cmp("Equals", 1, 2), _cmp("Equals", 2, 2)]}, True),
        ({"Type": "Or", "Conditions": [_cmp("Equals", 1, 2)]}, False),
    ],
)
def test_conditions(condition: dict[str, Any], expected: bool) -> None:
    assert evaluate_condition(condition, context()) is expected


def test_condition_step_outcome_needs_every_condition() -> None:
    assert evaluate_conditions([_cmp("Equals", 1, 1), _cmp("Equals", 1, 1)], context()) is True
    assert evaluate_conditions([_cmp("Equals", 1, 1), _cmp("Equals", 1, 2)], context()) is False


def test_incomparable_values_and_unknown_conditions_are_errors() -> None:
    with pytest.raises(ExpressionError, match="cannot compare 'abc' with 3"):
        evaluate_condition(_cmp("GreaterThan", "abc", 3), context())
    with pytest.raises(ExpressionError, match="unsupported condition type 'Xor'"):
        evaluate_condition({"Type": "Xor"}, context())


def test_tokenize_and_references() -> None:
    assert tokenize(".A[0]['k:v'].B[\"q\"]") == ["A", 0, "k:v", "B", "q"]
    with pytest.raises(ValueError, match="cannot parse"):
        tokenize(".A[x]")
    node = {
        "a": {"Get": "Steps.Prep-1.X"},
        "b": [{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Eval.PropertyFiles.R"}, "Path": "x"}}],
        "c": {"Get": "Parameters.P"},
    }
    assert referenced_steps(node) == {"Prep-1", "Eval"}


# --------------------------------------------------------------------------------------------------------
# Definitions and parameters
# --------------------------------------------------------------------------------------------------------


def golden(kind: str) -> dict[str, Any]:
    return dict(json.loads((GOLDEN / f"{kind}.json").read_text()))


def test_training_definition_dependencies_include_branch_membership() -> None:
    parsed = parse_definition(golden("training"))
    deps = {name: set(spec.depends_on) for name, spec in parsed.steps.items()}
    assert deps["PreprocessData"] == set()
    assert deps["TrainModel"] == {"PreprocessData"}
    assert deps["EvaluateModel"] == {"PreprocessData", "TrainModel"}
    assert deps["CheckModelEvaluation"] == {"EvaluateModel"}
    assert deps["CandidateModel-RegisterModel"] == {
        "CheckModelEvaluation",
        "DataQualityBaseline",
        "EvaluateModel",
        "TrainModel",
    }
    assert parsed.steps["CandidateModel-RegisterModel"].branch == ("CheckModelEvaluation", True)
    assert parsed.steps["FailModelEvaluation"].branch == ("CheckModelEvaluation", False)
    # A condition step's own expressions do not include its branches' steps.
    assert "IfSteps" not in parsed.steps["CheckModelEvaluation"].expressions["Arguments"]


def test_inference_definition_parses_with_its_nested_model_quality_step() -> None:
    parsed = parse_definition(json.dumps(golden("inference")))
    assert parsed.steps["ModelQualityCalcStep"].branch == ("CheckGroundTruth", True)
    assert parsed.steps["CheckGroundTruth"].depends_on == {"DataQualityCheck"}
    assert parsed.branch_steps("CheckGroundTruth", False) == []


def _definition(
    steps: list[dict[str, Any]], parameters: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"Version": "2020-12-01", "Parameters": parameters or [], "Steps": steps}


def test_bad_definitions_are_rejected_with_the_problem_named() -> None:
    with pytest.raises(ValueError, match="step B refers to steps that do not exist: Nope"):
        parse_definition(_definition([{"Name": "B", "Type": "Fail", "DependsOn": ["Nope"]}]))
    with pytest.raises(ValueError, match="dependency cycle: A -> B -> A"):
        parse_definition(
            _definition(
                [
                    {"Name": "A", "Type": "Fail", "DependsOn": ["B"]},
                    {"Name": "B", "Type": "Fail", "DependsOn": ["A"]},
                ]
            )
        )
    with pytest.raises(ValueError, match="more than once: A"):
        parse_definition(_definition([{"Name": "A", "Type": "Fail"}, {"Name": "A", "Type": "Fail"}]))


PARAMETERS: list[dict[str, Any]] = [
    {"Name": "Uri", "Type": "String", "DefaultValue": "s3://b/x"},
    {"Name": "Status", "Type": "String", "DefaultValue": "Pending", "EnumValues": ["Pending", "Approved"]},
    {"Name": "Threshold", "Type": "Float", "DefaultValue": 3.0},
    {"Name": "Rounds", "Type": "Integer", "DefaultValue": 10},
    {"Name": "Strict", "Type": "Boolean", "DefaultValue": False},
]


def test_parameters_are_typed_and_default() -> None:
    parsed = parse_definition(_definition([], PARAMETERS))
    values = resolve_parameters(
        parsed,
        [
            {"Name": "Threshold", "Value": "2.5"},
            {"Name": "Rounds", "Value": "20.0"},
            {"Name": "Strict", "Value": "True"},
            {"Name": "Status", "Value": "Approved"},
        ],
    )
    assert values == {"Uri": "s3://b/x", "Status": "Approved", "Threshold": 2.5, "Rounds": 20, "Strict": True}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"Name": "Nope", "Value": "1"},
            "unknown pipeline parameter 'Nope'; this pipeline declares: Uri, Status",
        ),
        ({"Name": "Rounds", "Value": "2.5"}, "parameter Rounds is an Integer; '2.5' is not an integer"),
        ({"Name": "Threshold", "Value": "x"}, "parameter Threshold is a Float; 'x' is not a number"),
        ({"Name": "Strict", "Value": "yes"}, "parameter Strict is a Boolean; 'yes' is not true or false"),
        (
            {"Name": "Status", "Value": "Rejected"},
            "parameter Status must be one of Pending, Approved; got 'Rejected'",
        ),
        ({"Name": "Uri", "Value": ""}, "pipeline parameter 'Uri' has an empty value"),
    ],
)
def test_bad_parameters_are_rejected(given: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_parameters(parse_definition(_definition([], PARAMETERS)), [given])


def test_a_parameter_without_default_must_be_given() -> None:
    parsed = parse_definition(_definition([], [{"Name": "Required", "Type": "String"}]))
    with pytest.raises(ValueError, match="'Required' has no default value and none was given"):
        resolve_parameters(parsed, [])
    assert resolve_parameters(parsed, [{"Name": "Required", "Value": "x"}]) == {"Required": "x"}
