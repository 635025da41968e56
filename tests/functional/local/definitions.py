"""Small pipeline definitions in the SDK's JSON shapes, for exercising the local executor quickly."""

from __future__ import annotations

from typing import Any

ROLE = "arn:aws:iam::123456789012:role/test"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
BUCKET = "executor-tests"


def join(*values: Any, on: str = "/") -> dict[str, Any]:
    return {"Std:Join": {"On": on, "Values": list(values)}}


def execution_id() -> dict[str, str]:
    return {"Get": "Execution.PipelineExecutionId"}


def s3_input(name: str, uri: Any, local: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }


def s3_output(name: str, local: str, mode: str = "EndOfJob") -> dict[str, Any]:
    return {
        "OutputName": name,
        "AppManaged": False,
        "S3Output": {
            "S3Uri": join(f"s3://{BUCKET}/runs", execution_id(), name),
            "LocalPath": local,
            "S3UploadMode": mode,
        },
    }


def processing(
    name: str,
    script_uri: str,
    arguments: list[Any] | None = None,
    *,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    depends_on: list[str] | None = None,
    property_files: list[dict[str, str]] | None = None,
    environment: dict[str, Any] | None = None,
    max_runtime: int = 600,
) -> dict[str, Any]:
    script = script_uri.rsplit("/", 1)[-1]
    step: dict[str, Any] = {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
            },
            "AppSpecification": {
                "ImageUri": IMAGE,
                "ContainerEntrypoint": ["python3", f"/opt/ml/processing/input/code/{script}"],
            },
            "RoleArn": ROLE,
            "ProcessingInputs": [
                *(inputs or []),
                s3_input("code", script_uri, "/opt/ml/processing/input/code"),
            ],
            "ProcessingOutputConfig": {"Outputs": outputs or []},
            "Environment": environment or {"PYTHONUNBUFFERED": "1"},
            "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
        },
    }
    if arguments:  # the API rejects an empty list
        step["Arguments"]["AppSpecification"]["ContainerArguments"] = arguments
    if depends_on:
        step["DependsOn"] = depends_on
    if property_files:
        step["PropertyFiles"] = property_files
    return step


def output_uri(step: str, output: str) -> dict[str, str]:
    return {"Get": f"Steps.{step}.ProcessingOutputConfig.Outputs['{output}'].S3Output.S3Uri"}


def pipeline(steps: list[dict[str, Any]], parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters or [], "Steps": steps}
