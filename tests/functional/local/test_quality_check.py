"""QualityCheck steps (the model_monitor engine's definitions) run scripts/data_quality.py locally."""

from __future__ import annotations

import json
import random
from typing import Any

from tests.functional.local.conftest import LocalAws
from tests.functional.local.definitions import BUCKET, ROLE, join, pipeline, s3_input

ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"


def dataset(shift: float, rows: int = 300, seed: int = 1) -> str:
    rng = random.Random(seed)
    lines = ["size,weight,kind"]
    for _ in range(rows):
        lines.append(f"{rng.gauss(10 + shift, 1):.4f},{rng.gauss(5, 1):.4f},{rng.choice('ab')}")
    return "\n".join(lines) + "\n"


def quality_check(name: str, data_uri: Any, output: str, **flags: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "QualityCheck",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
            },
            "AppSpecification": {"ImageUri": ANALYZER},
            "RoleArn": ROLE,
            "ProcessingInputs": [
                s3_input("baseline_dataset_input", data_uri, "/opt/ml/processing/input/dataset")
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "quality_check_output",
                        "AppManaged": False,
                        "S3Output": {
                            "S3Uri": join(
                                f"s3://{BUCKET}/runs", {"Get": "Execution.PipelineExecutionId"}, output
                            ),
                            "LocalPath": "/opt/ml/processing/output",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "Environment": {
                "output_path": "/opt/ml/processing/output",
                "publish_cloudwatch_metrics": "Disabled",
                "dataset_format": '{"csv": {"header": true, "output_columns_position": "START"}}',
                "dataset_source": "/opt/ml/processing/input/dataset",
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
        "CheckType": "DATA_QUALITY",
        "ModelPackageGroupName": "quality-check-tests",
        "SkipCheck": False,
        "FailOnViolation": True,
        "RegisterNewBaseline": False,
        "SuppliedBaselineStatistics": None,
        "SuppliedBaselineConstraints": None,
        **flags,
    }


def test_baseline_then_check_against_it(local_aws: LocalAws) -> None:
    baseline = quality_check(
        "Baseline",
        local_aws.put("qc/train/data.csv", dataset(0)),
        "baseline",
        SkipCheck=True,
        RegisterNewBaseline=True,
    )
    supplied = {
        "SuppliedBaselineStatistics": {"Get": "Steps.Baseline.CalculatedBaselineStatistics"},
        "SuppliedBaselineConstraints": {"Get": "Steps.Baseline.CalculatedBaselineConstraints"},
    }
    same = quality_check(
        "CheckSame", local_aws.put("qc/same/data.csv", dataset(0, seed=2)), "same", **supplied
    )
    drifted = quality_check(
        "CheckDrifted", local_aws.put("qc/drifted/data.csv", dataset(3, seed=3)), "drifted", **supplied
    )
    arn = local_aws.run(pipeline([baseline, same, drifted]))
    steps = local_aws.steps(arn)
    run = f"s3://{BUCKET}/runs/{arn.rsplit('/', 1)[-1]}"

    assert steps["Baseline"]["StepStatus"] == "Succeeded"
    meta = steps["Baseline"]["Metadata"]["QualityCheck"]
    assert meta["CalculatedBaselineConstraints"] == f"{run}/baseline/constraints.json"
    assert meta["BaselineUsedForDriftCheckStatistics"] == f"{run}/baseline/statistics.json"
    assert meta["SkipCheck"] is True and meta["CheckJobArn"].split(":")[5].startswith("processing-job/")
    assert json.loads(local_aws.get(meta["CalculatedBaselineStatistics"]))["dataset"]["item_count"] == 300

    assert steps["CheckSame"]["StepStatus"] == "Succeeded"
    same_meta = steps["CheckSame"]["Metadata"]["QualityCheck"]
    assert same_meta["BaselineUsedForDriftCheckConstraints"] == f"{run}/baseline/constraints.json"
    assert json.loads(local_aws.get(same_meta["ViolationReport"]))["violations"] == []

    assert steps["CheckDrifted"]["StepStatus"] == "Failed"
    assert steps["CheckDrifted"]["FailureReason"].startswith("ClientError: Quality check failed: ")
    report = json.loads(local_aws.get(f"{run}/drifted/constraint_violations.json"))  # uploaded before failing
    assert {v["feature_name"] for v in report["violations"]} == {"size"}


def test_other_check_types_are_not_supported(local_aws: LocalAws) -> None:
    step = quality_check("Bias", local_aws.put("qc/x/data.csv", dataset(0)), "x", CheckType="MODEL_QUALITY")
    arn = local_aws.run(pipeline([step]))
    assert (
        "QualityCheck MODEL_QUALITY is not supported locally" in local_aws.steps(arn)["Bias"]["FailureReason"]
    )
