"""Script-mode training and tuning steps on a tiny training program (no ML libraries: fast)."""

from __future__ import annotations

import io
import json
import os
import tarfile
from typing import Any

import pytest

from tests.functional.local.conftest import LocalAws
from tests.functional.local.definitions import BUCKET, ROLE, join, pipeline, processing, s3_input, s3_output

FIT = """
import argparse, json, os
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--offset", type=float, default=0.0)
parser.add_argument("--shape", default="bowl")
parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
args, unknown = parser.parse_known_args()
data = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "data.txt")).read().strip()
assert json.loads(os.environ["SM_HPS"])["x"] == args.x
assert json.loads(os.environ["SM_CHANNELS"]) == ["train"]
assert os.path.isfile(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "hyperparameters.json"))
loss = (args.x - args.offset) ** 2 + (10 if args.shape == "flat" else 0)
print("epoch 1 loss=%.6f" % (loss + 100))
print("epoch 2 loss=%.6f" % loss)
if args.x < 0:
    raise SystemExit("ERROR: x must not be negative")
with open(os.path.join(args.model_dir, "model.json"), "w") as handle:
    threads = {k: os.environ.get(k) for k in ("SM_NUM_CPUS", "OMP_NUM_THREADS")}
    json.dump({"x": args.x, "data": data, "unknown": unknown, "threads": threads}, handle)
"""

METRICS = [{"Name": "loss", "Regex": r"loss=([0-9\.]+)"}]


@pytest.fixture
def sourcedir(local_aws: LocalAws) -> str:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        body = FIT.encode()
        info = tarfile.TarInfo("fit.py")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    local_aws.put("data/train/data.txt", "the training data")
    return local_aws.put("code/sourcedir.tar.gz", raw.getvalue())


def job_definition(sourcedir: str, hyperparameters: dict[str, str]) -> dict[str, Any]:
    return {
        "AlgorithmSpecification": {
            "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            "TrainingInputMode": "File",
            "MetricDefinitions": METRICS,
        },
        "HyperParameters": {
            "sagemaker_program": '"fit.py"',
            "sagemaker_submit_directory": json.dumps(sourcedir),
            **hyperparameters,
        },
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{BUCKET}/data/train",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/models"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30},
        "RoleArn": ROLE,
        "StoppingCondition": {"MaxRuntimeInSeconds": 120},
    }


def model_json(env: LocalAws, uri: str) -> dict[str, Any]:
    with tarfile.open(fileobj=io.BytesIO(env.get(uri)), mode="r:gz") as tar:
        member = tar.extractfile("model.json")
        assert member is not None
        return dict(json.loads(member.read()))


def test_training_step_packs_the_model_and_reports_the_last_metric(
    local_aws: LocalAws, sourcedir: str
) -> None:
    step = {
        "Name": "Train",
        "Type": "Training",
        "Arguments": job_definition(sourcedir, {"x": "2.5", "offset": "1"}),
    }
    arn = local_aws.run(pipeline([step]))
    assert local_aws.executor.describe(arn)["PipelineExecutionStatus"] == "Succeeded"
    properties = {s["StepName"]: s for s in local_aws.executor.record(arn)["Steps"]}["Train"]["Properties"]
    name = properties["TrainingJobName"]
    assert (
        properties["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{BUCKET}/models/{name}/output/model.tar.gz"
    )
    assert [(m["MetricName"], m["Value"]) for m in properties["FinalMetricDataList"]] == [("loss", 2.25)]
    model = model_json(local_aws, properties["ModelArtifacts"]["S3ModelArtifacts"])
    # JSON-encoded hyperparameters arrive decoded; sagemaker_* ones are not passed to the program.
    assert {k: model[k] for k in ("x", "data", "unknown")} == {
        "x": 2.5,
        "data": "the training data",
        "unknown": [],
    }
    assert model["threads"]["SM_NUM_CPUS"] == str(os.cpu_count() or 1)  # a lone job has the machine
    metadata = local_aws.steps(arn)["Train"]["Metadata"]
    assert metadata["TrainingJob"]["Arn"].endswith(f":training-job/{name}")
    described = local_aws.clients.sagemaker.describe_training_job(TrainingJobName=name)
    assert described["TrainingJobArn"] == metadata["TrainingJob"]["Arn"]


def test_a_failing_training_script_fails_the_step_with_its_error(local_aws: LocalAws, sourcedir: str) -> None:
    step = {"Name": "Train", "Type": "Training", "Arguments": job_definition(sourcedir, {"x": "-1"})}
    arn = local_aws.run(pipeline([step]))
    train = local_aws.steps(arn)["Train"]
    assert train["StepStatus"] == "Failed"
    assert train["FailureReason"] == "AlgorithmError: ERROR: x must not be negative"
    job = train["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    assert local_aws.keys(f"models/{job}/") == []  # no model artifact for a failed job


def tuning_step(sourcedir: str, strategy: str = "Random") -> dict[str, Any]:
    base = job_definition(sourcedir, {"offset": "3"})
    base["StaticHyperParameters"] = base.pop("HyperParameters")
    ranges: dict[str, Any] = {
        "IntegerParameterRanges": [],
        "ContinuousParameterRanges": [
            {"Name": "x", "MinValue": "0", "MaxValue": "6", "ScalingType": "Linear"}
        ],
        "CategoricalParameterRanges": [{"Name": "shape", "Values": ["bowl", "flat"]}],
    }
    if strategy == "Grid":
        ranges["ContinuousParameterRanges"] = []
        ranges["IntegerParameterRanges"] = [
            {"Name": "x", "MinValue": "2", "MaxValue": "4", "ScalingType": "Auto"}
        ]
    return {
        "Name": "Tune",
        "Type": "Tuning",
        "Arguments": {
            "HyperParameterTuningJobConfig": {
                "Strategy": strategy,
                "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2},
                "ParameterRanges": ranges,
                "RandomSeed": 7,
            },
            "TrainingJobDefinition": base,
        },
    }


@pytest.mark.parametrize("strategy", ["Random", "Grid"])
def test_tuning_picks_the_best_job_and_the_sdk_top_model_join_resolves_to_it(
    local_aws: LocalAws, sourcedir: str, strategy: str
) -> None:
    best_model = join(
        "s3:/",
        BUCKET,
        "models",
        {"Get": "Steps.Tune.TrainingJobSummaries[0].TrainingJobName"},
        "output/model.tar.gz",
    )
    evaluate = processing(
        "Evaluate",
        local_aws.put("code/noop.py", "print('ok')\n"),
        inputs=[s3_input("model", best_model, "/opt/ml/processing/model")],
        outputs=[s3_output("copy", "/opt/ml/processing/model")],
    )
    arn = local_aws.run(pipeline([tuning_step(sourcedir, strategy), evaluate]))
    assert local_aws.executor.describe(arn)["PipelineExecutionStatus"] == "Succeeded"
    properties = {s["StepName"]: s for s in local_aws.executor.record(arn)["Steps"]}["Tune"]["Properties"]
    summaries = properties["TrainingJobSummaries"]
    assert len(summaries) == 6
    values = [s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for s in summaries]
    assert values == sorted(values)  # best first
    best = properties["BestTrainingJob"]
    assert best == summaries[0]
    x, shape = float(best["TunedHyperParameters"]["x"]), best["TunedHyperParameters"]["shape"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx(
        (x - 3) ** 2 + (10 if shape == "flat" else 0), abs=1e-5
    )
    assert properties["TrainingJobStatusCounters"]["Completed"] == 6
    if strategy == "Grid":  # x in 2..4 by shape: the bowl at x=3 is the exact optimum
        assert best["TunedHyperParameters"] == {"x": "3", "shape": "bowl"}
    evaluated = local_aws.get(
        f"s3://{BUCKET}/runs/{arn.rsplit('/', 1)[-1]}/copy/model.tar.gz"
    )  # the Evaluate step downloaded exactly the best job's artifact
    assert evaluated == local_aws.get(f"s3://{BUCKET}/models/{best['TrainingJobName']}/output/model.tar.gz")
    assert local_aws.steps(arn)["Tune"]["Metadata"]["TuningJob"]["Arn"].endswith(
        f":hyper-parameter-tuning-job/{properties['HyperParameterTuningJobName']}"
    )
    assert len(properties["HyperParameterTuningJobName"]) <= 32


def test_tuning_fails_when_the_objective_is_not_a_defined_metric(local_aws: LocalAws, sourcedir: str) -> None:
    step = tuning_step(sourcedir)
    step["Arguments"]["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["MetricName"] = (
        "acc"
    )
    arn = local_aws.run(pipeline([step]))
    assert (
        "objective metric 'acc' is not one of the MetricDefinitions (loss)"
        in (local_aws.steps(arn)["Tune"]["FailureReason"])
    )


def test_parallel_tuning_jobs_share_the_cores_instead_of_oversubscribing_them(
    local_aws: LocalAws, sourcedir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On AWS each of the 2 parallel jobs has its own instance; here they share 4 cores: 2 each, and
    # OpenMP (XGBoost) is capped to that share instead of starting a thread per core in each job.
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    arn = local_aws.run(pipeline([tuning_step(sourcedir)]))
    properties = {s["StepName"]: s for s in local_aws.executor.record(arn)["Steps"]}["Tune"]["Properties"]
    assert properties["TrainingJobStatusCounters"]["Completed"] == 6
    for summary in properties["TrainingJobSummaries"]:
        uri = f"s3://{BUCKET}/models/{summary['TrainingJobName']}/output/model.tar.gz"
        assert model_json(local_aws, uri)["threads"] == {"SM_NUM_CPUS": "2", "OMP_NUM_THREADS": "2"}
