"""Pieces of the executor: tuning candidates, batch-transform requests and filters, the container
bootstrap, failure summaries, event keys; and a Transform step with a tiny serving program."""

from __future__ import annotations

import io
import random
import tarfile
from typing import Any

import pytest

from local_aws.executor import container_bootstrap, events, process, serving_runner
from local_aws.executor.handlers import sampling
from tests.functional.local.conftest import LocalAws
from tests.functional.local.definitions import BUCKET, ROLE, pipeline

RANGES = {
    "IntegerParameterRanges": [{"Name": "depth", "MinValue": "3", "MaxValue": "9", "ScalingType": "Auto"}],
    "ContinuousParameterRanges": [
        {"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5", "ScalingType": "Logarithmic"},
        {"Name": "sub", "MinValue": "0.5", "MaxValue": "0.99", "ScalingType": "ReverseLogarithmic"},
    ],
    "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
}


def test_random_candidates_stay_in_range_and_are_reproducible() -> None:
    config = {
        "Strategy": "Bayesian",
        "ParameterRanges": RANGES,
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 50},
    }
    first = sampling.candidates(config, seed=1)
    assert first == sampling.candidates(config, seed=1) != sampling.candidates(config, seed=2)
    assert len(first) == 50
    for candidate in first:
        assert 3 <= int(candidate["depth"]) <= 9
        assert 0.05 <= float(candidate["eta"]) <= 0.5
        assert 0.5 <= float(candidate["sub"]) <= 0.99
        assert candidate["booster"] in ("gbtree", "dart")
    # Logarithmic scaling: about as many draws below the geometric mean as above it.
    below = sum(float(c["eta"]) < (0.05 * 0.5) ** 0.5 for c in first)
    assert 15 <= below <= 35


def test_grid_candidates_cover_every_combination() -> None:
    ranges = {
        "IntegerParameterRanges": [{"Name": "depth", "MinValue": "3", "MaxValue": "4"}],
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
    }
    found = sampling.candidates({"Strategy": "Grid", "ParameterRanges": ranges}, seed=0)
    assert found == [
        {"depth": "3", "booster": "gbtree"},
        {"depth": "3", "booster": "dart"},
        {"depth": "4", "booster": "gbtree"},
        {"depth": "4", "booster": "dart"},
    ]
    with pytest.raises(sampling.RangeError, match="Grid search does not take continuous ranges"):
        sampling.candidates({"Strategy": "Grid", "ParameterRanges": RANGES}, seed=0)


def test_log_scaling_needs_a_positive_minimum() -> None:
    bad = {
        "ContinuousParameterRanges": [
            {"Name": "x", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}
        ]
    }
    with pytest.raises(sampling.RangeError, match="MinValue > 0"):
        sampling.sample(bad, random.Random(0))


def test_multirecord_requests_pack_whole_lines_up_to_the_payload_limit() -> None:
    data = b"".join(b"%03d,aaaa\n" % i for i in range(100))  # 9 bytes a line
    bodies = list(serving_runner.requests(data, "Line", "MultiRecord", 100))
    assert b"".join(bodies) == data
    assert all(len(b) <= 100 and b.endswith(b"\n") for b in bodies)
    assert len(bodies) == 10  # 11 lines of 9 bytes would be 99: 11 per request, except the last
    assert list(serving_runner.requests(data, "Line", "SingleRecord", 100))[:2] == [
        b"000,aaaa\n",
        b"001,aaaa\n",
    ]
    with pytest.raises(serving_runner.TransformError, match="larger than MaxPayloadInMB"):
        list(serving_runner.requests(b"x" * 200 + b"\n", "Line", "MultiRecord", 100))
    with pytest.raises(serving_runner.TransformError, match="SplitType is None"):
        list(serving_runner.requests(data, "None", "MultiRecord", 100))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", ["a", "b", "c", "d"]),
        ("$[1:]", ["b", "c", "d"]),
        ("$[0,-1]", ["a", "d"]),
        ("$[2]", ["c"]),
        ("$[1:3]", ["b", "c"]),
    ],
)
def test_csv_column_filters(path: str, expected: list[str]) -> None:
    assert serving_runner.select_columns(path)(["a", "b", "c", "d"]) == expected


def test_the_bootstrap_maps_container_path_defaults_only() -> None:
    root = "/tmp/job"
    assert (
        container_bootstrap.map_value("/opt/ml/processing/input", root) == "/tmp/job/opt/ml/processing/input"
    )
    assert container_bootstrap.map_value(["/opt/ml/model", "x"], root) == ["/tmp/job/opt/ml/model", "x"]
    assert container_bootstrap.map_value("/opt/mlflow", root) == "/opt/mlflow"
    assert container_bootstrap.map_value(3, root) == 3


def test_failure_tail_prefers_the_last_non_empty_line() -> None:
    assert process.tail("INFO: working\nTraceback ...\nValueError: bad row 3\n\n") == "ValueError: bad row 3"
    assert process.tail("") == ""
    assert process.tail("x" * 2000, limit=10) == "...xxxxxxx"


def test_event_metadata_keys_are_camel_cased() -> None:
    assert events.camel(
        {"ProcessingJob": {"Arn": "a"}, "QualityCheck": {"CheckJobArn": "b", "SkipCheck": False}}
    ) == {
        "processingJob": {"arn": "a"},
        "qualityCheck": {"checkJobArn": "b", "skipCheck": False},
    }


SERVE = """
import json, os

def model_fn(model_dir):
    with open(os.path.join(model_dir, "factor.json")) as handle:
        return json.load(handle)["factor"]

def input_fn(body, content_type):
    assert content_type == "text/csv", content_type
    return [float(line.split(",")[0]) for line in body.decode().splitlines() if line.strip()]

def predict_fn(rows, factor):
    return [row * factor for row in rows]

def output_fn(predictions, accept):
    return "".join("%g\\n" % p for p in predictions)
"""


def tar_gz(files: dict[str, str]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, text in files.items():
            body = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return raw.getvalue()


def transform_pipeline(
    env: LocalAws,
    data_processing: dict[str, str] | None = None,
    *,
    instance_count: int = 1,
    serve: str = SERVE,
    objects: dict[str, str] | None = None,
) -> dict[str, Any]:
    model_data = env.put("serving/model.tar.gz", tar_gz({"factor.json": '{"factor": 10}'}))
    source = env.put("serving/sourcedir.tar.gz", tar_gz({"serve_tiny.py": serve}))
    batch = "batch" if objects is None else "batch-many"
    for key, body in (objects or {"a.csv": "1,x\n2,y\n", "sub/b.csv": "3,z\n"}).items():
        env.put(f"{batch}/{key}", body)
    create = {
        "Name": "Create",
        "Type": "Model",
        "Arguments": {
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {
                "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                "ModelDataUrl": model_data,
                "Environment": {"SAGEMAKER_PROGRAM": "serve_tiny.py", "SAGEMAKER_SUBMIT_DIRECTORY": source},
            },
        },
    }
    transform: dict[str, Any] = {
        "Name": "Score",
        "Type": "Transform",
        "Arguments": {
            "ModelName": {"Get": "Steps.Create.ModelName"},
            "BatchStrategy": "MultiRecord",
            "TransformInput": {
                "ContentType": "text/csv",
                "SplitType": "Line",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{batch}"}},
            },
            "TransformOutput": {
                "S3OutputPath": {
                    "Std:Join": {
                        "On": "/",
                        "Values": [f"s3://{BUCKET}/scored", {"Get": "Execution.PipelineExecutionId"}],
                    }
                },
                "Accept": "text/csv",
                "AssembleWith": "Line",
            },
            "TransformResources": {"InstanceCount": instance_count, "InstanceType": "ml.m5.xlarge"},
        },
    }
    if data_processing:
        transform["Arguments"]["DataProcessing"] = data_processing
    return pipeline([create, transform])


def test_transform_scores_every_input_object_into_its_out_file(local_aws: LocalAws) -> None:
    arn = local_aws.run(transform_pipeline(local_aws))
    assert local_aws.executor.describe(arn)["PipelineExecutionStatus"] == "Succeeded"
    run_id = arn.rsplit("/", 1)[-1]
    assert local_aws.keys(f"scored/{run_id}/") == [
        f"scored/{run_id}/a.csv.out",
        f"scored/{run_id}/sub/b.csv.out",
    ]
    assert local_aws.get(f"s3://{BUCKET}/scored/{run_id}/a.csv.out") == b"10\n20\n"
    steps = local_aws.steps(arn)
    assert steps["Create"]["Metadata"]["Model"]["Arn"].endswith(
        ":model/" + steps["Create"]["Metadata"]["Model"]["Arn"].rsplit("/", 1)[-1]
    )
    assert ":transform-job/pipelines-" in steps["Score"]["Metadata"]["TransformJob"]["Arn"]


def test_two_instances_score_whole_objects_in_two_processes(local_aws: LocalAws) -> None:
    # Each output line: the prediction and the id of the process that scored it.
    serve = SERVE.replace('"%g\\n" % p', '"%g,%d\\n" % (p, os.getpid())')
    objects = {f"part-{i:05d}.csv": f"{i}\n{i}\n" for i in range(6)}
    arn = local_aws.run(transform_pipeline(local_aws, instance_count=2, serve=serve, objects=objects))
    assert local_aws.executor.describe(arn)["PipelineExecutionStatus"] == "Succeeded"
    run_id = arn.rsplit("/", 1)[-1]
    prefix = f"scored/{run_id}/"
    assert local_aws.keys(prefix) == [f"{prefix}{name}.out" for name in objects]  # as batch transform names
    scorer: dict[str, str] = {}
    for index, name in enumerate(objects):
        lines = local_aws.get(f"s3://{BUCKET}/{prefix}{name}.out").decode().splitlines()
        assert [line.split(",")[0] for line in lines] == [f"{index * 10}", f"{index * 10}"]
        (scorer[name],) = {line.split(",")[1] for line in lines}  # one object, one instance
    processes = sorted(set(scorer.values()))
    assert len(processes) == 2  # two instances, side by side
    assert sorted(list(scorer.values()).count(p) for p in processes) == [3, 3]  # whole objects, shared out


def test_transform_joins_input_and_output_when_asked(local_aws: LocalAws) -> None:
    arn = local_aws.run(
        transform_pipeline(
            local_aws, {"InputFilter": "$[0]", "JoinSource": "Input", "OutputFilter": "$[1,2]"}
        )
    )
    run_id = arn.rsplit("/", 1)[-1]
    assert local_aws.get(f"s3://{BUCKET}/scored/{run_id}/a.csv.out") == b"x,10\ny,20\n"


def test_a_model_without_a_serving_program_is_not_supported(local_aws: LocalAws) -> None:
    definition = transform_pipeline(local_aws)
    definition["Steps"][0]["Arguments"]["PrimaryContainer"]["Environment"] = {}
    arn = local_aws.run(definition)
    assert (
        "built-in algorithm containers are not supported locally"
        in local_aws.steps(arn)["Score"]["FailureReason"]
    )
