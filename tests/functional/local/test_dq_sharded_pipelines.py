"""processing.instance_count = 2 locally: the training pipeline's data-quality baseline and the inference
pipeline's check run as shards (two local processes, ShardedByS3Key) and a merge, and write what the
one-instance pipelines write on the same data (counts and types exactly, sketch-derived numbers within
the KLL sketch's error)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline_scripts.build import dq_steps, steps
from pipeline_scripts.build.code_bundle import code_bundle
from pipeline_scripts.build.definitions import build_pipeline
from pipeline_scripts.config import Config, load_config
from pipeline_scripts.ops import registry
from tests.functional.local.conftest import LocalAws, local_aws_at
from tests.unit.test_dq_streaming import assert_same_statistics

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "data"

pytestmark = pytest.mark.slow  # two training and two inference pipelines, the real scripts


@dataclass
class Runs:
    env: LocalAws
    configs: dict[int, Config]  # instance count → config
    training: dict[int, str]  # instance count → training execution ARN
    inference: dict[int, str]

    def get_json(self, uri: str) -> Any:
        return json.loads(self.env.get(uri))

    def output(self, kind: str, arn: str, name: str, file: str) -> Any:
        env = self.configs[1].env
        run = arn.rsplit("/", 1)[-1]
        return self.get_json(
            f"s3://{env.bucket_name}/{env.bucket_prefix}/pipelines/{kind}/{run}/{name}/{file}"
        )

    def partials(self, kind: str, arn: str, name: str) -> dict[str, dict[str, Any]]:
        env = self.configs[1].env
        run = arn.rsplit("/", 1)[-1]
        prefix = f"{env.bucket_prefix}/pipelines/{kind}/{run}/{name}/"
        keys = self.env.keys(prefix, bucket=env.bucket_name)
        return {key[len(prefix) :]: self.get_json(f"s3://{env.bucket_name}/{key}") for key in keys}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    configs = {
        count: load_config("local", environ={}, overrides={"processing.instance_count": str(count)})
        for count in (1, 2)
    }
    env_config = configs[1].env
    with local_aws_at(tmp_path_factory.mktemp("sharded") / "work") as env:
        env.clients.s3.create_bucket(Bucket=env_config.bucket_name)
        code_bundle(configs[1]).upload(env.clients.s3)
        env.clients.s3.upload_file(
            str(DATA / "training-data.csv"),
            env_config.bucket_name,
            f"{env_config.bucket_train_prefix}/training-data.csv",
        )
        done = Runs(env=env, configs=configs, training={}, inference={})
        for count, config in configs.items():
            built = build_pipeline("training", config)
            done.training[count] = env.run(built.definition_json, name=built.name, timeout=240)
        # Both inference pipelines check the same drifted batch against the one-instance baseline.
        sm = env.clients.sagemaker
        group = env_config.model_package_group_name
        first = sm.list_model_packages(ModelPackageGroupName=group, SortOrder="Ascending")
        package = first["ModelPackageSummaryList"][0]["ModelPackageArn"]
        sm.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")
        approved = registry.approved_model(sm, package)
        prefix = f"{env_config.bucket_inf_prefix}/drifted"
        data = env.put(
            f"{prefix}/inference-data.csv",
            (DATA / "drifted" / "inference-data.csv").read_bytes(),
            bucket=env_config.bucket_name,
        )
        for count, config in configs.items():
            built = build_pipeline("inference", config, approved)
            done.inference[count] = env.run(
                built.definition_json,
                name=built.name,
                parameters=[{"Name": "InputDataUri", "Value": data}],
                timeout=240,
            )
        yield done


def succeeded(runs: Runs, arn: str) -> dict[str, str]:
    described = runs.env.executor.describe(arn)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    return {name: step["StepStatus"] for name, step in runs.env.steps(arn).items()}


def test_the_sharded_baseline_equals_one_instance(runs: Runs) -> None:
    assert set(succeeded(runs, runs.training[1])) == {
        steps.PREPROCESS,
        steps.DATA_QUALITY_BASELINE,
        steps.TRAIN,
        steps.EVALUATE,
        steps.CHECK_EVALUATION,
        steps.REGISTER,
    }
    ran = succeeded(runs, runs.training[2])
    assert ran[dq_steps.BASELINE_SHARDS] == ran[steps.DATA_QUALITY_BASELINE] == "Succeeded"
    # Two hosts, each with one of preprocess's two baseline parts: two non-empty partial states.
    partials = runs.partials("training", runs.training[2], "partials_data_quality_baseline")
    assert sorted(partials) == ["algo-1/dq_partial.json", "algo-2/dq_partial.json"]
    rows = [partial["state"]["n_rows"] for partial in partials.values()]
    assert min(rows) > 0
    # The registered versions' baselines (the merge step's output, as the registry records it).
    sm = runs.env.clients.sagemaker
    summaries = sm.list_model_packages(
        ModelPackageGroupName=runs.configs[1].env.model_package_group_name, SortOrder="Ascending"
    )["ModelPackageSummaryList"]
    baselines = [
        sm.describe_model_package(ModelPackageName=s["ModelPackageArn"])["DriftCheckBaselines"][
            "ModelDataQuality"
        ]
        for s in summaries
    ]
    assert len(baselines) == 2
    one, two = ({k: runs.get_json(v["S3Uri"]) for k, v in b.items()} for b in baselines)
    assert (
        two["Statistics"]["dataset"]["item_count"] == sum(rows) == one["Statistics"]["dataset"]["item_count"]
    )
    assert_same_statistics(two["Statistics"], one["Statistics"])
    assert two["Constraints"] == one["Constraints"]
    assert baselines[1]["Statistics"]["S3Uri"].endswith("/data_quality_baseline/statistics.json")


def test_the_sharded_check_equals_one_instance(runs: Runs) -> None:
    single, sharded = runs.inference[1], runs.inference[2]
    assert dq_steps.CHECK_SHARDS not in succeeded(runs, single)
    ran = succeeded(runs, sharded)
    assert ran[dq_steps.CHECK_SHARDS] == ran[steps.DATA_QUALITY_CHECK] == ran[steps.CHECK_GROUND_TRUTH]
    assert ran[steps.DATA_QUALITY_CHECK] == "Succeeded"
    # A one-file batch: join writes one data-quality-input/ part, so one host gets it, the other an empty
    # share (tests/unit/test_dq_shards.py covers shares of many parts).
    partials = runs.partials("inference", sharded, "partials_data_quality_check")
    assert sorted(partials) == ["algo-1/dq_partial.json", "algo-2/dq_partial.json"]
    assert sorted(partial["state"]["n_rows"] for partial in partials.values())[0] == 0

    def outputs(arn: str, file: str) -> Any:
        return runs.output("inference", arn, "data_quality", file)

    one, two = outputs(single, "constraint_violations.json"), outputs(sharded, "constraint_violations.json")
    assert one["violations"], "the drifted batch violates the baseline"
    assert two == one
    assert_same_statistics(outputs(sharded, "statistics.json"), outputs(single, "statistics.json"))
    assert outputs(sharded, "summary.json") == outputs(single, "summary.json")
    assert outputs(sharded, "drift_metrics.json") == outputs(single, "drift_metrics.json")
