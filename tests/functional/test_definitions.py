"""The three pipeline definitions build offline and have the structure the rest of the system relies on."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.build import steps
from pipeline_scripts.build.approved import ApprovedModel
from pipeline_scripts.build.definitions import BuiltPipeline, build_all
from pipeline_scripts.build.validate import iter_steps, validate_definition
from pipeline_scripts.config import load_config

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def approved_for(config: Any) -> ApprovedModel:
    return ApprovedModel(
        package_arn=f"arn:aws:sagemaker:us-east-1:{config.env.account_id}:model-package/{config.env.model_package_group_name}/7",
        version=7,
        model_data_url="s3://bucket/models/7/model.tar.gz",
        image="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        environment={
            "SAGEMAKER_PROGRAM": "serve.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": "s3://bucket/code/abc/sourcedir.tar.gz",
        },
        statistics_uri="s3://bucket/baseline/7/statistics.json",
        constraints_uri="s3://bucket/baseline/7/constraints.json",
    )


@pytest.fixture(scope="module")
def built_local() -> dict[str, BuiltPipeline]:
    config = load_config("local", environ={})
    return {b.kind: b for b in build_all(config, approved_for(config))}


@pytest.fixture(scope="module")
def built_dev() -> dict[str, BuiltPipeline]:
    config = load_config("dev", environ={})
    return {b.kind: b for b in build_all(config, approved_for(config))}


def step_map(built: BuiltPipeline) -> dict[str, dict[str, Any]]:
    return {s["Name"]: s for s in iter_steps(built.definition["Steps"])}


def refs(node: Any) -> set[str]:
    """Step names a node refers to through property references."""
    text = json.dumps(node)
    return set(re.findall(r'"Get": "Steps\.([A-Za-z0-9_-]+)', text)) | set(
        re.findall(r'"Get": "Steps\.([A-Za-z0-9_-]+)', text)
    )


@pytest.mark.parametrize("engine", ["builtin", "model_monitor"])
def test_builds_with_zero_network_calls(no_network: list[object], engine: str) -> None:
    config = load_config("staging", environ={}, overrides={"inference.data_quality_engine": engine})
    built = build_all(config, approved_for(config))
    assert [b.kind for b in built] == ["training", "hpo", "inference"]
    assert no_network == []


@pytest.mark.parametrize("kind", ["training", "hpo", "inference"])
def test_definitions_validate(built_local: dict[str, BuiltPipeline], kind: str) -> None:
    built = built_local[kind]
    assert validate_definition(built.definition, len(built.definition_json)) == []


def test_training_steps_types_and_order(built_local: dict[str, BuiltPipeline]) -> None:
    s = step_map(built_local["training"])
    assert {name: step["Type"] for name, step in s.items()} == {
        steps.PREPROCESS: "Processing",
        steps.DATA_QUALITY_BASELINE: "Processing",
        steps.TRAIN: "Training",
        steps.EVALUATE: "Processing",
        steps.CHECK_EVALUATION: "Condition",
        steps.REGISTER: "RegisterModel",
        steps.FAIL_EVALUATION: "Fail",
    }
    assert refs(s[steps.DATA_QUALITY_BASELINE]) == {steps.PREPROCESS}
    assert refs(s[steps.TRAIN]) == {steps.PREPROCESS}
    assert refs(s[steps.EVALUATE]) == {steps.TRAIN, steps.PREPROCESS}
    assert {steps.EVALUATE, steps.DATA_QUALITY_BASELINE, steps.TRAIN} <= refs(s[steps.REGISTER])


def test_training_runs_the_repo_scripts_with_the_data_quality_contract(
    built_local: dict[str, BuiltPipeline],
) -> None:
    s = step_map(built_local["training"])
    baseline = s[steps.DATA_QUALITY_BASELINE]["Arguments"]["AppSpecification"]
    assert baseline["ContainerEntrypoint"] == ["python3", "/opt/ml/processing/input/code/data_quality.py"]
    assert baseline["ContainerArguments"][:5] == [
        "baseline",
        "--input",
        "/opt/ml/processing/input",
        "--output",
        "/opt/ml/processing/output",
    ]
    pre = s[steps.PREPROCESS]["Arguments"]
    assert pre["AppSpecification"]["ContainerArguments"][0] == "fit"
    assert pre["Environment"]["PYTHONPATH"] == steps.LIB_DIR
    names = {i["InputName"] for i in pre["ProcessingInputs"]}
    assert names == {"raw", "lib", "code"}
    outputs = {o["OutputName"] for o in pre["ProcessingOutputConfig"]["Outputs"]}
    assert outputs == {"train", "validation", "test", "transformer", "baseline"}


def test_training_hyperparameters_and_metrics(built_local: dict[str, BuiltPipeline]) -> None:
    args = step_map(built_local["training"])[steps.TRAIN]["Arguments"]
    hp = args["HyperParameters"]
    assert hp["max_depth"] == "5" and hp["num_round"] == "100"
    assert json.loads(hp["objective"]) == "reg:squarederror"  # decoded once: not double-encoded
    assert json.loads(hp["sagemaker_program"]) == "train.py"
    assert json.loads(hp["sagemaker_submit_directory"]).endswith("/sourcedir.tar.gz")
    assert args["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "train:rmse", "Regex": r"train-rmse:([0-9\.]+)"},
        {"Name": "validation:rmse", "Regex": r"validation-rmse:([0-9\.]+)"},
    ]
    channels = {c["ChannelName"] for c in args["InputDataConfig"]}
    assert channels == {"train", "validation", "preprocessor"}


def test_register_arguments(built_local: dict[str, BuiltPipeline]) -> None:
    reg = step_map(built_local["training"])[steps.REGISTER]["Arguments"]
    assert reg["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    assert reg["ModelPackageGroupName"] == "mlops-local-abalone"
    assert reg["CustomerMetadataProperties"] == {
        "trained_by": "training",
        "enterprise_review_required": "false",
    }
    metrics = reg["ModelMetrics"]
    assert "evaluation.json" in json.dumps(metrics["ModelQuality"]["Statistics"])
    assert "statistics.json" in json.dumps(metrics["ModelDataQuality"]["Statistics"])
    assert "constraints.json" in json.dumps(reg["DriftCheckBaselines"]["ModelDataQuality"]["Constraints"])
    container = reg["InferenceSpecification"]["Containers"][0]
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "serve.py"
    assert container["ModelDataUrl"] == {"Get": f"Steps.{steps.TRAIN}.ModelArtifacts.S3ModelArtifacts"}
    # The framework the registry and Inference Recommender read (SDK v3's register() does not write it).
    assert (container["Framework"], container["FrameworkVersion"]) == ("XGBOOST", "1.7-1")
    params = {p["Name"]: p for p in built_local["training"].definition["Parameters"]}
    assert params["ModelApprovalStatus"]["DefaultValue"] == "PendingManualApproval"


def test_condition_compares_the_metric_and_fail_step_names_it(built_local: dict[str, BuiltPipeline]) -> None:
    s = step_map(built_local["training"])
    cond = s[steps.CHECK_EVALUATION]["Arguments"]["Conditions"][0]
    assert cond["Type"] == "LessThanOrEqualTo"
    assert cond["LeftValue"]["Std:JsonGet"]["Path"] == "regression_metrics.rmse.value"
    assert cond["RightValue"] == {"Get": "Parameters.RegisterThreshold"}
    message = json.dumps(s[steps.FAIL_EVALUATION]["Arguments"]["ErrorMessage"])
    assert "rmse" in message and "Parameters.RegisterThreshold" in message and "Std:JsonGet" in message


def test_hpo_tuning_step(built_local: dict[str, BuiltPipeline]) -> None:
    s = step_map(built_local["hpo"])
    assert steps.TRAIN not in s
    tuning = s[steps.TUNE]["Arguments"]
    cfg = tuning["HyperParameterTuningJobConfig"]
    assert cfg["HyperParameterTuningJobObjective"] == {"Type": "Minimize", "MetricName": "validation:rmse"}
    assert cfg["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 8, "MaxParallelTrainingJobs": 2}
    assert cfg["Strategy"] == "Bayesian"
    ranges = cfg["ParameterRanges"]
    assert {r["Name"] for r in ranges["ContinuousParameterRanges"]} == {
        "eta",
        "min_child_weight",
        "subsample",
        "gamma",
    }
    assert ranges["IntegerParameterRanges"] == [
        {"Name": "max_depth", "MinValue": "3", "MaxValue": "9", "ScalingType": "Auto"}
    ]
    eta = next(r for r in ranges["ContinuousParameterRanges"] if r["Name"] == "eta")
    assert eta["ScalingType"] == "Logarithmic"
    reg = s[steps.REGISTER]["Arguments"]
    assert reg["CustomerMetadataProperties"] == {"trained_by": "hpo", "enterprise_review_required": "true"}
    assert steps.TUNE in refs(s[steps.EVALUATE])  # the best training job's model is evaluated


def test_inference_steps_and_model_quality(built_local: dict[str, BuiltPipeline]) -> None:
    s = step_map(built_local["inference"])
    assert {name: step["Type"] for name, step in s.items()} == {
        steps.CREATE_MODEL: "Model",
        steps.PREPROCESS_INFERENCE: "Processing",
        steps.TRANSFORM: "Transform",
        steps.JOIN: "Processing",
        steps.DATA_QUALITY_CHECK: "Processing",
        steps.CHECK_GROUND_TRUTH: "Condition",
        "ModelQualityCalcStep": "Processing",
    }
    assert refs(s[steps.TRANSFORM]) == {steps.CREATE_MODEL, steps.PREPROCESS_INFERENCE}
    assert refs(s[steps.DATA_QUALITY_CHECK]) == {steps.JOIN}
    dq = s[steps.DATA_QUALITY_CHECK]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert dq[:2] == ["check", "--input"] and "--baseline-statistics" in dq and "--baseline-constraints" in dq
    mq = s["ModelQualityCalcStep"]["Arguments"]
    assert mq["AppSpecification"]["ContainerEntrypoint"][-1].endswith("model_quality.py")
    assert {"Get": "Parameters.ModelQualityThreshold"} in [
        a for a in mq["AppSpecification"]["ContainerArguments"] if isinstance(a, dict)
    ] or "ModelQualityThreshold" in json.dumps(mq["AppSpecification"])
    cond = s[steps.CHECK_GROUND_TRUTH]["Arguments"]["Conditions"][0]
    assert cond["Type"] == "Not" and cond["Condition"]["RightValue"] == steps.NO_GROUND_TRUTH


def test_inference_records_the_approved_version(built_local: dict[str, BuiltPipeline]) -> None:
    params = {p["Name"]: p.get("DefaultValue") for p in built_local["inference"].definition["Parameters"]}
    assert params["ModelPackageArn"].endswith("model-package/mlops-local-abalone/7")
    assert params["ModelDataUrl"] == "s3://bucket/models/7/model.tar.gz"
    assert params["BaselineStatisticsUri"] == "s3://bucket/baseline/7/statistics.json"
    assert params["BaselineConstraintsUri"] == "s3://bucket/baseline/7/constraints.json"
    assert params["GroundTruthUri"] == steps.NO_GROUND_TRUTH
    assert params["ModelQualityThreshold"] == 3.0
    create = step_map(built_local["inference"])[steps.CREATE_MODEL]["Arguments"]["PrimaryContainer"]
    assert create["ModelDataUrl"] == {"Get": "Parameters.ModelDataUrl"}
    assert create["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == "s3://bucket/code/abc/sourcedir.tar.gz"


@pytest.mark.parametrize("kind", ["training", "hpo", "inference"])
def test_images_are_pinned(built_local: dict[str, BuiltPipeline], kind: str) -> None:
    images = set(
        re.findall(r'"(?:ImageUri|TrainingImage|Image)": "([^"]+)"', built_local[kind].definition_json)
    )
    assert images
    for image in images:
        assert re.search(r":(1\.2-1-cpu-py3|1\.7-1)$", image), image


@pytest.mark.parametrize("engine", ["builtin", "model_monitor"])
def test_kms_and_vpc_applied_to_every_job_when_configured(
    built_dev: dict[str, BuiltPipeline], engine: str
) -> None:
    """Every job encrypts its volumes, outputs and inter-container traffic and runs in the VPC. The tuning
    job is checked field by field: SDK v3's tuner drops the volume key and the traffic encryption unless
    the builder puts them back (build/hpo.py), and the Model Monitor check step its network config."""
    kms = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
    if engine == "model_monitor":
        config = load_config("dev", environ={}, overrides={"inference.data_quality_engine": engine})
        built_dev = {b.kind: b for b in build_all(config, approved_for(config))}
    for built in built_dev.values():
        for step in iter_steps(built.definition["Steps"]):
            args = step.get("Arguments", {})
            if step["Type"] in ("Processing", "QualityCheck"):
                assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == kms, step["Name"]
                assert args["ProcessingOutputConfig"]["KmsKeyId"] == kms, step["Name"]
                network = args["NetworkConfig"]
                assert network["VpcConfig"]["Subnets"] == ["subnet-0123456789abcdef0"], step["Name"]
                assert network["EnableInterContainerTrafficEncryption"] is True, step["Name"]
            elif step["Type"] == "Training":
                assert args["OutputDataConfig"]["KmsKeyId"] == kms
                assert args["ResourceConfig"]["VolumeKmsKeyId"] == kms
                assert args["VpcConfig"]["SecurityGroupIds"] == ["sg-0123456789abcdef0"]
                assert args["EnableInterContainerTrafficEncryption"] is True
            elif step["Type"] == "Tuning":
                job = args["TrainingJobDefinition"]
                assert job["OutputDataConfig"]["KmsKeyId"] == kms
                assert job["ResourceConfig"]["VolumeKmsKeyId"] == kms
                assert job["VpcConfig"]["Subnets"] == ["subnet-0123456789abcdef0"]
                assert job["EnableInterContainerTrafficEncryption"] is True
            elif step["Type"] == "Transform":
                assert args["TransformOutput"]["KmsKeyId"] == kms
                assert args["TransformResources"]["VolumeKmsKeyId"] == kms
            elif step["Type"] == "Model":
                assert args["VpcConfig"]["Subnets"] == ["subnet-0123456789abcdef0"]


def test_no_kms_or_vpc_when_not_configured(built_local: dict[str, BuiltPipeline]) -> None:
    for built in built_local.values():
        assert "KmsKeyId" not in built.definition_json
        assert "VpcConfig" not in built.definition_json


def test_outputs_are_per_execution(built_local: dict[str, BuiltPipeline]) -> None:
    for built in built_local.values():
        for step in iter_steps(built.definition["Steps"]):
            if step["Type"] == "Processing":
                for out in step["Arguments"]["ProcessingOutputConfig"]["Outputs"]:
                    assert "Execution.PipelineExecutionId" in json.dumps(out["S3Output"]["S3Uri"]), step[
                        "Name"
                    ]


def test_model_monitor_switch_uses_quality_check_steps() -> None:
    config = load_config("local", environ={}, overrides={"inference.data_quality_engine": "model_monitor"})
    built = {b.kind: b for b in build_all(config, approved_for(config))}
    assert step_map(built["training"])[steps.DATA_QUALITY_BASELINE]["Type"] == "QualityCheck"
    check = step_map(built["inference"])[steps.DATA_QUALITY_CHECK]
    assert check["Type"] == "QualityCheck"
    assert check["Arguments"]["SkipCheck"] is False if "SkipCheck" in check["Arguments"] else True
    for b in built.values():
        assert validate_definition(b.definition) == []


def test_validator_catches_broken_references(built_local: dict[str, BuiltPipeline]) -> None:
    broken = json.loads(
        built_local["training"].definition_json.replace("Steps.PreprocessData.", "Steps.Nope.")
    )
    broken["Parameters"] = [p for p in broken["Parameters"] if p["Name"] != "InputDataUri"]
    problems = validate_definition(broken)
    assert any("refers to a step that does not exist" in p for p in problems)
    assert any("Parameters.InputDataUri is not a declared parameter" in p for p in problems)


def normalise(definition: dict[str, Any]) -> str:
    """The scripts' digest changes with any script edit; the golden copies are about the definitions."""
    text = json.dumps(definition, indent=2, sort_keys=True)
    return re.sub(r"/code/[0-9a-f]{16}/", "/code/<digest>/", text)


def test_the_same_code_builds_the_same_definitions(built_local: dict[str, BuiltPipeline]) -> None:
    """No build time in any definition (the SDK puts one in tuning steps' hyperparameters): an unchanged
    upsert changes nothing on AWS."""
    config = load_config("local", environ={})
    again = {b.kind: b for b in build_all(config, approved_for(config))}
    for kind, built in built_local.items():
        assert again[kind].definition_json == built.definition_json, kind


@pytest.mark.parametrize("kind", ["training", "hpo", "inference"])
def test_matches_golden_copy(built_local: dict[str, BuiltPipeline], kind: str) -> None:
    """A reviewed copy of each definition: any change to what AWS receives shows up as a diff here.
    Regenerate with `UPDATE_GOLDEN=1 make test` and review the diff."""
    path = GOLDEN / f"{kind}.json"
    current = normalise(built_local[kind].definition)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(current + "\n")
    assert path.exists(), f"{path} is missing: run UPDATE_GOLDEN=1 make test and review it"
    assert current + "\n" == path.read_text()
