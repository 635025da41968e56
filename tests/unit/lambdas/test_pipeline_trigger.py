"""The pipeline trigger: S3 data drops start training/inference, a model-quality failure starts HPO."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import common
import pipeline_trigger
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from pipeline_trigger import Ignore, StartRequest, TriggerConfig, client_request_token, plan_s3

Event = Callable[[str], dict[str, Any]]
BUCKET = "mlops-local-bucket"
ACCOUNT_ARN = "arn:aws:sagemaker:us-east-1:123456789012"
CONFIG = TriggerConfig(
    training_pipeline="mlops-local-training",
    hpo_pipeline="mlops-local-training-hpo",
    inference_pipeline="mlops-local-batch-inference",
    train_prefix="abalone/training",
    inference_prefix="abalone/inference",
    environment="local",
)
TOKEN = re.compile(r"^[a-zA-Z0-9-]{32,128}$")


class FakeSageMaker:
    """In-memory SageMaker pipelines API, idempotent on ClientRequestToken like the real one."""

    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []
        self.by_token: dict[str, str] = {}
        self.executions: dict[str, list[dict[str, Any]]] = {}
        self.list_calls: list[dict[str, Any]] = []
        self.parameters: dict[str, list[dict[str, str]]] = {}

    def start_pipeline_execution(self, **kwargs: Any) -> dict[str, str]:
        self.started.append(kwargs)
        token = kwargs["ClientRequestToken"]
        if token not in self.by_token:
            name = kwargs["PipelineName"]
            arn = f"{ACCOUNT_ARN}:pipeline/{name}/execution/exec{len(self.by_token):08d}"
            self.by_token[token] = arn
            self.executions.setdefault(name, []).insert(
                0, {"PipelineExecutionArn": arn, "PipelineExecutionStatus": "Executing"}
            )
        return {"PipelineExecutionArn": self.by_token[token]}

    def list_pipeline_executions(self, **kwargs: Any) -> dict[str, Any]:
        self.list_calls.append(kwargs)
        summaries = self.executions.get(kwargs["PipelineName"], [])
        start = int(kwargs.get("NextToken", "0"))
        end = start + kwargs.get("MaxResults", 10)
        page: dict[str, Any] = {"PipelineExecutionSummaries": list(summaries[start:end])}
        if end < len(summaries):
            page["NextToken"] = str(end)
        return page

    def add_execution(
        self, pipeline: str, status: str, parameters: dict[str, str] | None = None, started: str = ""
    ) -> str:
        arn = f"{ACCOUNT_ARN}:pipeline/{pipeline}/execution/old{len(self.executions.get(pipeline, []))}"
        self.executions.setdefault(pipeline, []).append(
            {"PipelineExecutionArn": arn, "PipelineExecutionStatus": status, "StartTime": started}
        )
        self.parameters[arn] = [{"Name": k, "Value": v} for k, v in (parameters or {}).items()]
        return arn

    def list_pipeline_parameters_for_execution(self, **kwargs: Any) -> dict[str, Any]:
        return {"PipelineParameters": self.parameters.get(kwargs["PipelineExecutionArn"], [])}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINING_PIPELINE", CONFIG.training_pipeline)
    monkeypatch.setenv("HPO_PIPELINE", CONFIG.hpo_pipeline)
    monkeypatch.setenv("INFERENCE_PIPELINE", CONFIG.inference_pipeline)
    monkeypatch.setenv("BUCKET_TRAIN_PREFIX", CONFIG.train_prefix)
    monkeypatch.setenv("BUCKET_INF_PREFIX", CONFIG.inference_prefix)
    monkeypatch.setenv("ENVIRONMENT", "local")


@pytest.fixture
def sagemaker(env: None) -> FakeSageMaker:
    fake = FakeSageMaker()
    common.set_client("sagemaker", fake)
    return fake


@pytest.fixture
def s3(env: None, aws_session: Any) -> Iterator[Any]:
    with mock_aws():
        client = aws_session.client("s3")
        client.create_bucket(Bucket=BUCKET)
        common.set_client("s3", client)
        yield client


def params(call: dict[str, Any]) -> dict[str, str]:
    return {p["Name"]: p["Value"] for p in call["PipelineParameters"]}


# --------------------------------------------------------------------------- S3 data drops


def test_training_data_starts_the_training_pipeline(event: Event, sagemaker: FakeSageMaker, s3: Any) -> None:
    result = pipeline_trigger.handler(event("s3_object_created_training"), None)
    assert result["status"] == "started"
    (call,) = sagemaker.started
    assert call["PipelineName"] == "mlops-local-training"
    assert params(call) == {"InputDataUri": f"s3://{BUCKET}/abalone/training/training-data.csv"}
    assert TOKEN.match(call["ClientRequestToken"])
    assert "training-data.csv" in call["PipelineExecutionDescription"]
    assert result["execution_arn"] == sagemaker.by_token[call["ClientRequestToken"]]


def test_inference_with_ground_truth(event: Event, sagemaker: FakeSageMaker, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="abalone/inference/batch-001/ground-truth.csv", Body=b"1\n2\n")
    result = pipeline_trigger.handler(event("s3_object_created_inference"), None)
    (call,) = sagemaker.started
    assert call["PipelineName"] == "mlops-local-batch-inference"
    assert params(call) == {
        "InputDataUri": f"s3://{BUCKET}/abalone/inference/batch-001/inference-data.csv",
        "GroundTruthUri": f"s3://{BUCKET}/abalone/inference/batch-001/ground-truth.csv",
    }
    assert result["parameters"] == params(call)


def test_inference_without_ground_truth(event: Event, sagemaker: FakeSageMaker, s3: Any) -> None:
    # ground truth of another folder does not count
    s3.put_object(Bucket=BUCKET, Key="abalone/inference/batch-002/ground-truth.csv", Body=b"1\n")
    pipeline_trigger.handler(event("s3_object_created_inference"), None)
    (call,) = sagemaker.started
    assert params(call)["GroundTruthUri"] == "none"


def test_ground_truth_check_that_is_denied_raises(event: Event, sagemaker: FakeSageMaker) -> None:
    class DeniedS3:
        def head_object(self, **kwargs: Any) -> None:
            raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")

    common.set_client("s3", DeniedS3())
    with pytest.raises(ClientError, match="403"):
        pipeline_trigger.handler(event("s3_object_created_inference"), None)
    assert sagemaker.started == []


# --------------------------------------------------------------------------- multi-file batches


def test_the_completion_marker_starts_one_run_over_the_folder(
    event: Event, sagemaker: FakeSageMaker, s3: Any
) -> None:
    s3.put_object(Bucket=BUCKET, Key="abalone/inference/batch-002/ground-truth.csv", Body=b"1\n2\n")
    result = pipeline_trigger.handler(event("s3_object_created_batch_complete"), None)
    assert result["status"] == "started"
    (call,) = sagemaker.started
    assert call["PipelineName"] == "mlops-local-batch-inference"
    assert params(call) == {
        # The trailing slash: the folder's objects only (not those of batch-0020/, which shares the prefix)
        "InputDataUri": f"s3://{BUCKET}/abalone/inference/batch-002/",
        "GroundTruthUri": f"s3://{BUCKET}/abalone/inference/batch-002/ground-truth.csv",
    }
    assert TOKEN.match(call["ClientRequestToken"])
    assert "multi-file batch" in call["PipelineExecutionDescription"]


def test_twenty_parts_and_their_marker_start_exactly_one_run(
    event: Event, sagemaker: FakeSageMaker, s3: Any
) -> None:
    results = []
    for index in range(20):
        raw = event("s3_object_created_inference")
        raw["detail"]["object"]["key"] = f"abalone/inference/batch-002/part-{index:05d}.csv"
        raw["detail"]["object"]["sequencer"] = f"0065F0B7C1D2E3F5{index:02d}"
        results.append(pipeline_trigger.handler(raw, None))
    assert {r["status"] for r in results} == {"ignored"}
    assert "_SUCCESS object (written after the last part) starts the folder's one run" in results[0]["reason"]
    assert sagemaker.started == []
    marker = event("s3_object_created_batch_complete")
    pipeline_trigger.handler(marker, None)
    pipeline_trigger.handler(marker, None)  # EventBridge delivers at least once: the same token
    assert len(sagemaker.started) == 2
    assert len(sagemaker.executions["mlops-local-batch-inference"]) == 1
    assert params(sagemaker.started[0])["GroundTruthUri"] == "none"


@pytest.mark.usefixtures("s3")
def test_a_part_named_file_directly_under_the_prefix_is_one_file_and_starts_its_run(
    event: Event, sagemaker: FakeSageMaker
) -> None:
    """No folder, so no marker can follow it: it starts a run, as it did before multi-file batches."""
    raw = event("s3_object_created_inference")
    raw["detail"]["object"]["key"] = "abalone/inference/part-00000.csv"
    assert pipeline_trigger.handler(raw, None)["status"] == "started"
    assert params(sagemaker.started[0])["InputDataUri"] == f"s3://{BUCKET}/abalone/inference/part-00000.csv"


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("abalone/inference/_SUCCESS", "directly under the inference prefix"),
        ("abalone/training/batch-001/_SUCCESS", "only under the inference prefix"),
        ("abalone/other/batch-001/_SUCCESS", "only under the inference prefix"),
    ],
)
@pytest.mark.usefixtures("s3")
def test_a_marker_outside_a_batch_folder_starts_nothing(
    event: Event, sagemaker: FakeSageMaker, key: str, reason: str
) -> None:
    raw = event("s3_object_created_batch_complete")
    raw["detail"]["object"]["key"] = key
    result = pipeline_trigger.handler(raw, None)
    assert result["status"] == "ignored"
    assert reason in result["reason"]
    assert sagemaker.started == []


def test_a_single_csv_in_a_batch_folder_still_starts_its_own_run(event: Event) -> None:
    raw = event("s3_object_created_inference")
    raw["detail"]["object"]["key"] = "abalone/inference/batch-003/scores-2026-11-24.csv"
    plan = plan_s3(common.parse_event(raw), CONFIG)
    assert isinstance(plan, StartRequest)
    assert dict(plan.parameters) == {"InputDataUri": f"s3://{BUCKET}/{raw['detail']['object']['key']}"}


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (("s3_object_created_ground_truth", None), "is ground truth"),
        (("s3_object_created_other_prefix", None), "under neither the training prefix"),
        (("s3_object_created_inference", "abalone/inference/batch-001/readme.json"), "is not a .csv file"),
        (("s3_object_created_training", "abalone/training/notes.txt"), "is not a .csv file"),
        (("s3_object_created_inference", "abalone/inference/batch-009/"), "folder marker"),
        (("s3_object_created_training", "abalone/trainingX/data.csv"), "under neither"),
        (("s3_object_created_training", "abalone/inference-data.csv"), "under neither"),
    ],
)
@pytest.mark.usefixtures("s3")
def test_other_keys_are_ignored_with_a_reason(
    event: Event,
    sagemaker: FakeSageMaker,
    caplog: pytest.LogCaptureFixture,
    case: tuple[str, str | None],
    reason: str,
) -> None:
    name, key = case
    raw = event(name)
    if key is not None:
        raw["detail"]["object"]["key"] = key
    with caplog.at_level("INFO"):
        result = pipeline_trigger.handler(raw, None)
    assert result["status"] == "ignored"
    assert reason in result["reason"]
    assert any(reason in record.getMessage() for record in caplog.records)
    assert sagemaker.started == []


def test_redelivered_event_reuses_the_token(event: Event, sagemaker: FakeSageMaker, s3: Any) -> None:
    first = pipeline_trigger.handler(event("s3_object_created_training"), None)
    second = pipeline_trigger.handler(event("s3_object_created_training"), None)
    tokens = {call["ClientRequestToken"] for call in sagemaker.started}
    assert len(sagemaker.started) == 2
    assert len(tokens) == 1
    assert first["execution_arn"] == second["execution_arn"]
    assert len(sagemaker.executions["mlops-local-training"]) == 1


def test_a_new_upload_of_the_same_key_gets_a_new_token(event: Event) -> None:
    original = common.parse_event(event("s3_object_created_training"))
    raw = event("s3_object_created_training")
    raw["detail"]["object"]["sequencer"] = "0065F0FFFFFFFFFFFF"
    raw["id"] = "another-delivery"
    reupload = common.parse_event(raw)
    first, second = plan_s3(original, CONFIG), plan_s3(reupload, CONFIG)
    assert isinstance(first, StartRequest)
    assert isinstance(second, StartRequest)
    assert first.token != second.token


def test_token_is_bounded_for_the_longest_keys(event: Event) -> None:
    raw = event("s3_object_created_training")
    raw["detail"]["object"]["key"] = "abalone/training/" + "k" * 1000 + ".csv"
    plan = plan_s3(common.parse_event(raw), CONFIG)
    assert isinstance(plan, StartRequest)
    assert TOKEN.match(plan.token)
    assert TOKEN.match(client_request_token("x" * 500, "a"))


def test_prefix_with_trailing_slash_is_accepted(event: Event) -> None:
    config = TriggerConfig(**{**CONFIG.__dict__, "train_prefix": "abalone/training/"})
    plan = plan_s3(common.parse_event(event("s3_object_created_training")), config)
    assert isinstance(plan, StartRequest)
    assert plan.pipeline == "mlops-local-training"


# --------------------------------------------------------------------------- model quality -> HPO


def test_model_quality_failure_starts_hpo(event: Event, sagemaker: FakeSageMaker) -> None:
    raw = event("step_model_quality_failed")
    sagemaker.add_execution(CONFIG.hpo_pipeline, "Succeeded")
    sagemaker.add_execution(CONFIG.hpo_pipeline, "Failed")
    result = pipeline_trigger.handler(raw, None)
    assert result["status"] == "started"
    (call,) = sagemaker.started
    assert call["PipelineName"] == "mlops-local-training-hpo"
    assert call["PipelineParameters"] == []
    assert call["ClientRequestToken"] == client_request_token(
        "hpo", CONFIG.hpo_pipeline, raw["detail"]["pipelineExecutionArn"]
    )
    assert [c["PipelineName"] for c in sagemaker.list_calls] == [
        "mlops-local-training-hpo",  # the guard
        "mlops-local-training",  # where the training data comes from
    ]


def test_hpo_retunes_on_the_newest_successful_training_data(event: Event, sagemaker: FakeSageMaker) -> None:
    data = "s3://mlops-local-bucket/abalone/training/batch-{}/training-data.csv"
    training = CONFIG.training_pipeline
    sagemaker.add_execution(training, "Succeeded", {"InputDataUri": data.format(1)}, "2026-11-01T00:00:00")
    sagemaker.add_execution(training, "Succeeded", {"InputDataUri": data.format(2)}, "2026-11-02T00:00:00")
    sagemaker.add_execution(training, "Failed", {"InputDataUri": data.format(3)}, "2026-11-03T00:00:00")
    assert pipeline_trigger.handler(event("step_model_quality_failed"), None)["status"] == "started"
    (call,) = sagemaker.started
    assert call["PipelineParameters"] == [{"Name": "InputDataUri", "Value": data.format(2)}]


@pytest.mark.parametrize("status", ["Executing", "Stopping"])
def test_hpo_is_never_started_twice(event: Event, sagemaker: FakeSageMaker, status: str) -> None:
    running = sagemaker.add_execution(CONFIG.hpo_pipeline, status)
    result = pipeline_trigger.handler(event("step_model_quality_failed"), None)
    assert result["status"] == "ignored"
    assert running in result["reason"]
    assert sagemaker.started == []


def test_running_hpo_is_found_beyond_the_first_page(event: Event, sagemaker: FakeSageMaker) -> None:
    """Some endpoints (moto) ignore SortOrder and list the oldest first."""
    for _ in range(70):
        sagemaker.add_execution(CONFIG.hpo_pipeline, "Succeeded")
    running = sagemaker.add_execution(CONFIG.hpo_pipeline, "Executing")
    result = pipeline_trigger.handler(event("step_model_quality_failed"), None)
    assert result == {
        "status": "ignored",
        "reason": f"HPO execution {running} is still running; not starting a second one",
    }
    assert [call.get("NextToken") for call in sagemaker.list_calls] == [None, "50"]
    assert sagemaker.started == []


def test_second_failure_while_hpo_runs_is_skipped(event: Event, sagemaker: FakeSageMaker) -> None:
    pipeline_trigger.handler(event("step_model_quality_failed"), None)
    other = event("step_model_quality_failed")
    inference = CONFIG.inference_pipeline
    other["detail"]["pipelineExecutionArn"] = f"{ACCOUNT_ARN}:pipeline/{inference}/execution/zz"
    result = pipeline_trigger.handler(other, None)
    assert result["status"] == "ignored"
    assert len(sagemaker.started) == 1


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("step_model_quality_succeeded", "does not start retraining"),
        ("step_other_pipeline_failed", "not the inference pipeline"),
        ("step_preprocess_failed", "not the inference pipeline"),
    ],
)
def test_other_step_events_are_ignored(
    event: Event, sagemaker: FakeSageMaker, name: str, reason: str
) -> None:
    result = pipeline_trigger.handler(event(name), None)
    assert result["status"] == "ignored"
    assert reason in result["reason"]
    assert sagemaker.started == []
    assert sagemaker.list_calls == []


# --------------------------------------------------------------------------- malformed


def test_malformed_and_foreign_events_are_dropped(event: Event, sagemaker: FakeSageMaker) -> None:
    raw = event("s3_object_created_training")
    del raw["detail"]["object"]
    assert pipeline_trigger.handler(raw, None)["status"] == "dropped"
    result = pipeline_trigger.handler(event("model_package_approved"), None)
    assert result == {
        "status": "dropped",
        "reason": "the pipeline trigger does not handle 'SageMaker Model Package State Change'",
    }
    assert sagemaker.started == []


def test_plan_results_are_plain_values(event: Event) -> None:
    plan = plan_s3(common.parse_event(event("s3_object_created_ground_truth")), CONFIG)
    assert isinstance(plan, Ignore)
    inference = plan_s3(common.parse_event(event("s3_object_created_inference")), CONFIG)
    assert isinstance(inference, StartRequest)
    assert inference.ground_truth_key == "abalone/inference/batch-001/ground-truth.csv"
    assert inference.with_ground_truth(False).api_kwargs()["PipelineParameters"][-1] == {
        "Name": "GroundTruthUri",
        "Value": "none",
    }
