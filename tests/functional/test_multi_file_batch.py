"""A multi-file batch end to end on the in-process local endpoint, as on AWS: twenty CSV parts and their
`_SUCCESS` marker dropped under the inference prefix start ONE run of the inference pipeline, whose batch
transform runs on two instances (`transform_instance_count` 2: two local processes sharing the parts);
every row of every part is scored exactly once, and data quality and model quality read the whole batch.

The model comes the lifecycle's way: training data upload → training pipeline → approval → the
deploy-trigger Lambda → the GitLab stand-in's deploy job (`mlops pipelines upsert --only inference`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_aws.demo.lifecycle import GITLAB_TOKEN, Lifecycle, deploy_job
from local_aws.gitlab import FakeGitLab
from local_aws.provisioning.provision import provision
from local_aws.server import LocalAWS, export_to
from pipeline_scripts.config import Config, load_config
from pipeline_scripts.config.contracts import load as load_contracts
from pipeline_scripts.ops import pipelines, registry

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[2] / "data"
STEPS = load_contracts().steps
PARTS = 20
BATCH = "batch-20-parts"


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch) -> Config:
    # The deploy job's `mlops pipelines upsert` (a subprocess) reads the same override from the environment.
    monkeypatch.setenv("MLOPS_INFERENCE__TRANSFORM_INSTANCE_COUNT", "2")
    monkeypatch.setenv("MLOPS_DATASET_DIR", str(DATA))
    environ = {"MLOPS_INFERENCE__TRANSFORM_INSTANCE_COUNT": "2"}
    loaded = load_config("local", environ=environ)
    assert loaded.pipelines.inference.transform_instance_count == 2
    return loaded


@pytest.fixture
def lifecycle(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Lifecycle, list[str]]]:
    lines: list[str] = []
    with (
        LocalAWS(tmp_path / "state", region=config.env.aws_region) as endpoint,
        FakeGitLab(GITLAB_TOKEN, deploy_job(config)) as gitlab,
    ):
        exported: dict[str, str] = {}
        export_to(exported, endpoint.endpoint_url, endpoint.region)
        for key, value in exported.items():
            monkeypatch.setenv(key, value)
        endpoint.reset()
        provision(endpoint, config, gitlab_url=gitlab.url, gitlab_token=GITLAB_TOKEN)
        yield Lifecycle(config, endpoint, gitlab, lines.append), lines
        endpoint.wait_idle(30)  # the last notifications reach the notifier before the endpoint stops


def split_rows(lines: list[str], parts: int) -> list[list[str]]:
    """Unequal parts (sizes 1, 2, …, then the rest spread out) that together hold every line once."""
    sizes = [1 + (i * 7) % 23 for i in range(parts - 1)]
    sizes.append(len(lines) - sum(sizes))
    assert min(sizes) >= 1
    chunks, start = [], 0
    for size in sizes:
        chunks.append(lines[start : start + size])
        start += size
    return chunks


def approved_inference(life: Lifecycle, config: Config) -> str:
    """Training data → training run → version 1 → approved → the deploy job upserts inference on it."""
    sm, env = life.sm, config.env
    outcome = pipelines.deploy(sm, life.s3, config, ("training",))
    assert not outcome.problems
    done = life.run_pipeline_from_upload("training", env.pipeline_train, DATA, "batch-001")
    assert done.get("PipelineExecutionStatus") == "Succeeded", done.get("FailureReason")
    version = registry.set_status(sm, env.model_package_group_name, 1, registry.APPROVED, "test approval")
    deployed = life.wait_for(
        "the approval deploys the inference pipeline",
        lambda: next((t for t in life.gitlab.triggers if t.status in ("success", "failed")), None),
        90,
    )
    assert deployed is not None and deployed.status == "success", getattr(deployed, "error", "")
    return str(version.arn)


def step_record(life: Lifecycle, arn: str, step: str) -> dict[str, Any]:
    return next(s for s in life.endpoint.executor.record(arn)["Steps"] if s["StepName"] == step)


def read(life: Lifecycle, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bytes(life.s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_twenty_parts_run_once_on_two_transform_instances(
    lifecycle: tuple[Lifecycle, list[str]], config: Config
) -> None:
    life, lines = lifecycle
    env = config.env
    approved_inference(life, config)
    definition = json.loads(life.sm.describe_pipeline(PipelineName=env.pipeline_inf)["PipelineDefinition"])
    transform = next(s for s in definition["Steps"] if s["Name"] == STEPS["transform"])
    assert transform["Arguments"]["TransformResources"]["InstanceCount"] == 2

    # The data engineer's drop: ground truth, twenty parts, then the completion marker.
    rows = (DATA / "inference-data.csv").read_text().splitlines()
    chunks = split_rows(rows, PARTS)
    folder = f"{env.bucket_inf_prefix}/{BATCH}"
    bucket = env.bucket_name
    life.s3.put_object(
        Bucket=bucket, Key=f"{folder}/ground-truth.csv", Body=(DATA / "ground-truth.csv").read_bytes()
    )
    names = [f"part-{i:05d}.csv" for i in range(PARTS)]
    for name, chunk in zip(names, chunks, strict=True):
        life.s3.put_object(Bucket=bucket, Key=f"{folder}/{name}", Body=("\n".join(chunk) + "\n").encode())
    assert life.endpoint.wait_idle(30)
    assert life.executions(env.pipeline_inf) == []  # the parts alone start nothing
    started = time.monotonic()
    life.s3.put_object(Bucket=bucket, Key=f"{folder}/_SUCCESS", Body=b"")

    execution = life.wait_for(
        "the marker starts the inference pipeline", lambda: life.new_execution(env.pipeline_inf, 0), 30
    )
    assert execution is not None, "\n".join(lines[-30:])
    arn = execution["PipelineExecutionArn"]
    done = life.wait_for("the inference run finishes", lambda: life.finished(arn), 240)
    elapsed = time.monotonic() - started
    assert done is not None and done["PipelineExecutionStatus"] == "Succeeded", (done or {}).get(
        "FailureReason"
    )
    assert life.endpoint.wait_idle(30)
    assert len(life.executions(env.pipeline_inf)) == 1  # twenty parts and a marker: one run
    parameters = {
        p["Name"]: p["Value"]
        for p in life.sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)[
            "PipelineParameters"
        ]
    }
    assert parameters["InputDataUri"] == f"s3://{bucket}/{folder}/"
    assert parameters["GroundTruthUri"] == f"s3://{bucket}/{folder}/ground-truth.csv"

    # Batch transform: one <part>.out per part, each scored by one of two instances, every row once.
    predictions_uri = step_record(life, arn, STEPS["transform"])["Outputs"]["predictions"]
    out_bucket, _, out_prefix = predictions_uri.removeprefix("s3://").partition("/")
    listed = life.s3.list_objects_v2(Bucket=out_bucket, Prefix=out_prefix + "/")["Contents"]
    assert sorted(o["Key"].rsplit("/", 1)[-1] for o in listed) == [f"{n}.out" for n in names]
    scored: list[str] = []
    for name, chunk in zip(names, chunks, strict=True):
        part = read(life, f"{predictions_uri}/{name}.out").decode().splitlines()
        assert len(part) == len(chunk), name
        scored += part
    logs = Path(step_record(life, arn, STEPS["transform"])["LogDir"])
    assert len(list(logs.glob("*-algo-1.stdout.log"))) == 1
    assert len(list(logs.glob("*-algo-2.stdout.log"))) == 1

    # Join: the predictions in the parts' order (model quality reads them with the ground truth).
    joined = step_record(life, arn, STEPS["join"])["Outputs"]["joined"]
    assert read(life, f"{joined}/predictions.csv").decode().splitlines() == scored
    assert len(scored) == len(rows)

    # Data quality over the whole batch, model quality against the whole ground truth.
    quality = step_record(life, arn, STEPS["data_quality_check"])["Outputs"]
    statistics = json.loads(read(life, f"{next(iter(quality.values()))}/statistics.json"))
    assert statistics["dataset"]["item_count"] == len(rows)
    model_quality = step_record(life, arn, STEPS["model_quality"])["Outputs"]
    report = json.loads(read(life, f"{next(iter(model_quality.values()))}/model_quality.json"))
    assert report["dataset"]["item_count"] == len(rows)
    assert report["threshold_check"]["passed"] is True
    print(f"\nmulti-file batch: {PARTS} parts, {len(rows)} rows, marker to Succeeded in {elapsed:.1f} s")
