"""The repo's three pipelines, built offline for `local` exactly as `upsert` sends them, run end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.build import steps
from pipeline_scripts.build.code_bundle import code_bundle
from pipeline_scripts.build.definitions import BuiltPipeline, build_pipeline
from pipeline_scripts.config import Config, load_config
from pipeline_scripts.ops import registry
from tests.functional.local.conftest import LocalAws, local_aws_at

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "data"
EVENTS = ROOT / "tests" / "events"

pytestmark = pytest.mark.slow  # ~30 s: the real scripts, with pandas and xgboost, in subprocesses


@dataclass
class Lifecycle:
    env: LocalAws
    config: Config
    training: BuiltPipeline
    hpo: BuiltPipeline
    training_arn: str = ""

    @property
    def bucket(self) -> str:
        return self.config.env.bucket_name

    def upload(self, source: Path, key: str) -> str:
        self.env.clients.s3.upload_file(str(source), self.bucket, key)
        return f"s3://{self.bucket}/{key}"

    def run(self, built: BuiltPipeline, parameters: list[dict[str, str]] | None = None) -> str:
        arn = self.env.run(
            built.definition_json,
            name=built.name,
            parameters=parameters,
            description="Started by the test suite",
            timeout=240,
        )
        return arn

    def keys(self, prefix: str) -> list[str]:
        return self.env.keys(prefix, bucket=self.bucket)


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lifecycle]:
    config = load_config("local", environ={}, overrides={"hpo.max_jobs": "2"})
    training = build_pipeline("training", config)
    hpo = build_pipeline("hpo", config)
    with local_aws_at(tmp_path_factory.mktemp("lifecycle") / "work") as env:
        env.clients.s3.create_bucket(Bucket=config.env.bucket_name)
        code_bundle(config).upload(env.clients.s3)
        life = Lifecycle(env=env, config=config, training=training, hpo=hpo)
        life.upload(DATA / "training-data.csv", f"{config.env.bucket_train_prefix}/training-data.csv")
        yield life


@pytest.fixture(scope="module")
def trained(lifecycle: Lifecycle) -> Lifecycle:
    lifecycle.training_arn = lifecycle.run(lifecycle.training)
    return lifecycle


def versions(life: Lifecycle) -> list[dict[str, Any]]:
    sm = life.env.clients.sagemaker
    summaries = sm.list_model_packages(ModelPackageGroupName=life.config.env.model_package_group_name)
    return [
        sm.describe_model_package(ModelPackageName=s["ModelPackageArn"])
        for s in summaries["ModelPackageSummaryList"]
    ]


def detail_keys(event: dict[str, Any]) -> set[str]:
    return set(event["detail"])


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def test_training_pipeline_registers_a_pending_version_with_metrics_and_baseline(trained: Lifecycle) -> None:
    described = trained.env.executor.describe(trained.training_arn)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    ran = trained.env.steps(trained.training_arn)
    assert set(ran) == {
        steps.PREPROCESS,
        steps.DATA_QUALITY_BASELINE,
        steps.TRAIN,
        steps.EVALUATE,
        steps.CHECK_EVALUATION,
        steps.REGISTER,
    }
    assert all(step["StepStatus"] == "Succeeded" for step in ran.values())
    (version,) = versions(trained)
    assert version["ModelApprovalStatus"] == "PendingManualApproval"
    assert version["ModelPackageArn"] == ran[steps.REGISTER]["Metadata"]["RegisterModel"]["Arn"]
    assert version["CustomerMetadataProperties"] == {
        "trained_by": "training",
        "enterprise_review_required": "false",
    }
    evaluation_uri = version["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    rmse = json.loads(trained.env.get(evaluation_uri))["regression_metrics"]["rmse"]["value"]
    assert 0 < rmse <= trained.config.quality.training_register.threshold
    model_data = version["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    job = ran[steps.TRAIN]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    assert (
        model_data
        == f"s3://{trained.bucket}/{trained.config.env.bucket_prefix}/models/training/{job}/output/model.tar.gz"
    )
    baseline = version["DriftCheckBaselines"]["ModelDataQuality"]
    for kind in ("Statistics", "Constraints"):
        assert json.loads(trained.env.get(baseline[kind]["S3Uri"]))  # the baseline step's files exist
    assert version["MetadataProperties"]["GeneratedBy"] == trained.training_arn


def test_training_events_have_the_shapes_of_the_sample_events(trained: Lifecycle) -> None:
    emitted = trained.env.events_of(trained.training_arn)
    register = next(
        e
        for e in emitted
        if e["detail"].get("stepName") == steps.REGISTER
        and e["detail"].get("currentStepStatus") == "Succeeded"
    )
    reference = sample("step_register_succeeded.json")
    assert set(register) == set(reference)
    assert detail_keys(register) == detail_keys(reference)
    assert register["detail-type"] == reference["detail-type"]
    assert register["detail"]["stepType"] == "RegisterModel"
    assert register["detail"]["metadata"]["registerModel"]["arn"].endswith(
        "model-package/mlops-local-abalone/1"
    )
    finished = emitted[-1]
    assert detail_keys(finished) == detail_keys(sample("execution_succeeded.json"))
    assert finished["detail"]["pipelineExecutionDescription"] == "Started by the test suite"
    record = json.loads(
        (trained.env.executor.execution_dir(trained.training_arn) / "execution.json").read_text()
    )
    assert record["Steps"][0]["StepName"] == steps.PREPROCESS
    assert record["Steps"][0]["Outputs"]["train"].endswith("/train")


def test_inference_on_the_drifted_batch_fails_model_quality_with_its_message(trained: Lifecycle) -> None:
    sm = trained.env.clients.sagemaker
    (version,) = versions(trained)
    sm.update_model_package(ModelPackageArn=version["ModelPackageArn"], ModelApprovalStatus="Approved")
    approved = registry.approved_model(sm, version["ModelPackageArn"])
    inference = build_pipeline("inference", trained.config, approved)
    prefix = f"{trained.config.env.bucket_inf_prefix}/drifted"
    ground_truth = trained.upload(DATA / "drifted" / "ground-truth.csv", f"{prefix}/ground-truth.csv")
    data = trained.upload(DATA / "drifted" / "inference-data.csv", f"{prefix}/inference-data.csv")
    arn = trained.run(
        inference,
        [{"Name": "InputDataUri", "Value": data}, {"Name": "GroundTruthUri", "Value": ground_truth}],
    )
    ran = trained.env.steps(arn)
    quality = ran[steps.MODEL_QUALITY]
    assert quality["StepStatus"] == "Failed"
    assert quality["FailureReason"].startswith("AlgorithmError: MODEL QUALITY FAILED: rmse ")
    assert "This failure is the retraining signal." in quality["FailureReason"]
    before = [steps.CREATE_MODEL, steps.PREPROCESS_INFERENCE, steps.TRANSFORM, steps.JOIN]
    before += [steps.DATA_QUALITY_CHECK, steps.CHECK_GROUND_TRUTH]
    assert {n: s["StepStatus"] for n, s in ran.items() if n != steps.MODEL_QUALITY} == dict.fromkeys(
        before, "Succeeded"
    )
    described = trained.env.executor.describe(arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == quality["FailureReason"]
    run_prefix = f"{trained.config.env.bucket_prefix}/pipelines/inference/{arn.rsplit('/', 1)[-1]}"
    predictions = trained.env.get(f"s3://{trained.bucket}/{run_prefix}/predictions/inference-data.csv.out")
    assert len(predictions.decode().splitlines()) == 836
    # The model-quality output is Continuous: its JSON is published although the step failed.
    report = json.loads(
        trained.env.get(f"s3://{trained.bucket}/{run_prefix}/model_quality/model_quality.json")
    )
    assert report["threshold_check"]["passed"] is False
    violations = trained.env.get(
        f"s3://{trained.bucket}/{run_prefix}/data_quality/constraint_violations.json"
    )
    assert json.loads(violations)["violations"]  # the drift is reported; the step still succeeded
    failed = next(e for e in trained.env.events_of(arn) if e["detail"].get("currentStepStatus") == "Failed")
    assert detail_keys(failed) == detail_keys(sample("step_model_quality_failed.json"))
    assert failed["detail"]["stepName"] == steps.MODEL_QUALITY
    assert ran[steps.CREATE_MODEL]["Metadata"]["Model"]["Arn"].startswith("arn:aws:sagemaker:us-east-1:")


def test_hpo_pipeline_registers_the_best_tuned_model_for_enterprise_review(trained: Lifecycle) -> None:
    arn = trained.run(trained.hpo)
    described = trained.env.executor.describe(arn)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    record = {s["StepName"]: s for s in trained.env.executor.record(arn)["Steps"]}
    tuning = record[steps.TUNE]["Properties"]
    assert len(tuning["TrainingJobSummaries"]) == 2
    best = tuning["BestTrainingJob"]["TrainingJobName"]
    evaluated = record[steps.EVALUATE]["Arguments"]["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"]
    assert (
        evaluated
        == f"s3://{trained.bucket}/{trained.config.env.bucket_prefix}/models/hpo/{best}/output/model.tar.gz"
    )
    newest = max(versions(trained), key=lambda v: v["ModelPackageVersion"])
    assert newest["CustomerMetadataProperties"] == {"trained_by": "hpo", "enterprise_review_required": "true"}
    assert newest["ModelApprovalStatus"] == "PendingManualApproval"
    assert newest["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == evaluated
