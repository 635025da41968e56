"""Pipeline trigger: starts SageMaker pipelines from S3 data drops and from a model-quality failure.

- S3 ``Object Created`` under ``BUCKET_TRAIN_PREFIX/`` -> the training pipeline (``InputDataUri``).
- S3 ``Object Created`` of a ``.csv`` under ``BUCKET_INF_PREFIX/`` whose file name starts with neither
  ``ground-truth`` nor ``part-`` -> the inference pipeline for that one file (``InputDataUri``, and
  ``GroundTruthUri`` = the folder's ``ground-truth.csv`` when it exists, else ``none``).
- A multi-file batch: a folder ``BUCKET_INF_PREFIX/<batch>/`` of parts named ``part-*.csv`` (Spark's and
  Hadoop's names), then an object ``_SUCCESS`` in that folder (their completion marker), written last.
  (A ``part-*.csv`` directly under ``BUCKET_INF_PREFIX/`` is a single file and starts its own run.)
  The parts start nothing; the marker starts ONE execution for the folder (``InputDataUri`` =
  ``s3://<bucket>/<batch folder>/``, ground truth as above). Twenty parts, one execution.
- ``ModelQualityCalcStep`` ``Failed`` on the inference pipeline -> the HPO pipeline, unless an HPO
  execution is already running (reserved concurrency 1 on this function serialises that check).

Every start passes a ``ClientRequestToken`` derived from the event, so a redelivered event never starts a
second execution. Environment: ``TRAINING_PIPELINE``, ``HPO_PIPELINE``, ``INFERENCE_PIPELINE``,
``BUCKET_TRAIN_PREFIX``, ``BUCKET_INF_PREFIX``, ``ENVIRONMENT``, ``LOG_LEVEL``.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
from dataclasses import dataclass
from typing import Any

import common
from common import MalformedEventError, S3ObjectCreated, StepStatusChange

log = logging.getLogger(__name__)

MODEL_QUALITY_STEP = common.contract("steps", "model_quality")
GROUND_TRUTH_FILE = "ground-truth.csv"
# A multi-file inference batch: parts named like Spark's and Hadoop's, then their completion marker.
PART_PREFIX = "part-"
BATCH_COMPLETE_MARKER = "_SUCCESS"
# GroundTruthUri when there is none: the inference pipeline skips its model-quality branch.
NO_GROUND_TRUTH = common.contract("sentinels", "no_ground_truth")
# An HPO execution in one of these states is running: never start a second one.
RUNNING_STATUSES = frozenset({"Executing", "Stopping"})
# StartPipelineExecution ClientRequestToken: 32 to 128 characters (SageMaker API Reference).
_TOKEN_MIN, _TOKEN_MAX = 32, 128


@dataclass(frozen=True)
class TriggerConfig:
    training_pipeline: str
    hpo_pipeline: str
    inference_pipeline: str
    train_prefix: str
    inference_prefix: str
    environment: str = "unknown"


@dataclass(frozen=True)
class StartRequest:
    """One StartPipelineExecution call. ``ground_truth_key`` is checked (head_object) before starting."""

    pipeline: str
    parameters: tuple[tuple[str, str], ...]
    token: str
    description: str
    ground_truth_bucket: str = ""
    ground_truth_key: str = ""

    def with_ground_truth(self, exists: bool) -> StartRequest:
        value = f"s3://{self.ground_truth_bucket}/{self.ground_truth_key}" if exists else NO_GROUND_TRUTH
        return StartRequest(
            pipeline=self.pipeline,
            parameters=(*self.parameters, ("GroundTruthUri", value)),
            token=self.token,
            description=self.description,
        )

    def with_parameter(self, name: str, value: str) -> StartRequest:
        return StartRequest(
            pipeline=self.pipeline,
            parameters=(*self.parameters, (name, value)),
            token=self.token,
            description=self.description,
            ground_truth_bucket=self.ground_truth_bucket,
            ground_truth_key=self.ground_truth_key,
        )

    def api_kwargs(self) -> dict[str, Any]:
        return {
            "PipelineName": self.pipeline,
            "PipelineParameters": [{"Name": name, "Value": value} for name, value in self.parameters],
            "ClientRequestToken": self.token,
            "PipelineExecutionDescription": self.description,
        }


@dataclass(frozen=True)
class Ignore:
    reason: str


def load_config() -> TriggerConfig:
    return TriggerConfig(
        training_pipeline=common.env("TRAINING_PIPELINE"),
        hpo_pipeline=common.env("HPO_PIPELINE"),
        inference_pipeline=common.env("INFERENCE_PIPELINE"),
        train_prefix=common.env("BUCKET_TRAIN_PREFIX"),
        inference_prefix=common.env("BUCKET_INF_PREFIX"),
        environment=common.env("ENVIRONMENT", "unknown"),
    )


def client_request_token(kind: str, *parts: str) -> str:
    """A stable idempotency token: ``<kind>-<sha256 of the parts>`` ([a-zA-Z0-9-], 32..128 characters)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    token = f"{''.join(c for c in kind if c.isalnum())[:40]}-{digest}"
    if not _TOKEN_MIN <= len(token) <= _TOKEN_MAX:  # a bug in this function, not a bad event
        raise RuntimeError(f"ClientRequestToken of {len(token)} characters for kind {kind!r}")
    return token


# --------------------------------------------------------------------------- decisions (pure)


def plan_s3(event: S3ObjectCreated, config: TriggerConfig) -> StartRequest | Ignore:
    """What to start for a new S3 object, or why nothing."""
    key = event.key
    name = posixpath.basename(key)
    # S3 delivers the object's identity; sequencer orders writes of one key, etag identifies content.
    identity = event.sequencer or event.etag or event.envelope.id
    if key.endswith("/") or not name:
        return Ignore(f"{event.uri} is a folder marker, not a data file")
    if name == BATCH_COMPLETE_MARKER:
        return _plan_batch_folder(event, config, identity)
    if name.lower().endswith(".csv") and not name.endswith(".csv"):
        # The steps list their input folder for "*.csv" (case-sensitive, as S3 keys are): a started run
        # would find no data. Only keys the steps will read start a pipeline.
        return Ignore(
            f"{event.uri} ends in {name[-4:]!r}: the pipeline steps read only lower-case .csv files; "
            f"upload it again as {name[:-4]}.csv"
        )
    if not name.endswith(".csv"):
        return Ignore(f"{event.uri} is not a .csv file; only CSV data starts a pipeline")
    if _under(key, config.train_prefix):
        return StartRequest(
            pipeline=config.training_pipeline,
            parameters=(("InputDataUri", event.uri),),
            token=client_request_token("train", config.training_pipeline, event.bucket, key, identity),
            description=f"Started by the pipeline trigger for new training data {event.uri}",
        )
    if _under(key, config.inference_prefix):
        if name.lower().startswith("ground-truth"):
            return Ignore(
                f"{event.uri} is ground truth: the inference run of its folder reads it "
                "(upload it before the inference data)"
            )
        folder = posixpath.dirname(key)
        # Parts are in a batch folder of their own; a part-*.csv dropped directly under the prefix (no
        # folder, so no marker can follow it) is one file and starts its run, as any other .csv.
        if name.startswith(PART_PREFIX) and folder.strip("/") != config.inference_prefix.strip("/"):
            return Ignore(
                f"{event.uri} is a part of the multi-file batch s3://{event.bucket}/{folder}/: its "
                f"{BATCH_COMPLETE_MARKER} object (written after the last part) starts the folder's one run"
            )
        return StartRequest(
            pipeline=config.inference_pipeline,
            parameters=(("InputDataUri", event.uri),),
            token=client_request_token("inference", config.inference_pipeline, event.bucket, key, identity),
            description=f"Started by the pipeline trigger for new inference data {event.uri}",
            ground_truth_bucket=event.bucket,
            ground_truth_key=f"{folder}/{GROUND_TRUTH_FILE}" if folder else GROUND_TRUTH_FILE,
        )
    return Ignore(
        f"{event.uri} is under neither the training prefix {config.train_prefix!r} "
        f"nor the inference prefix {config.inference_prefix!r}"
    )


def _plan_batch_folder(event: S3ObjectCreated, config: TriggerConfig, identity: str) -> StartRequest | Ignore:
    """The completion marker of a multi-file inference batch: one run over the marker's folder."""
    folder = posixpath.dirname(event.key)
    if not _under(event.key, config.inference_prefix):
        return Ignore(
            f"{event.uri} marks a folder complete, which starts a run only under the inference prefix "
            f"{config.inference_prefix!r} (training data is one .csv)"
        )
    if folder.strip("/") == config.inference_prefix.strip("/"):
        return Ignore(
            f"{event.uri} is directly under the inference prefix: put each batch's parts and its "
            f"{BATCH_COMPLETE_MARKER} in a folder of its own (<prefix>/<batch>/), so a run reads one batch"
        )
    # The trailing slash: the prefix s3://b/inference/batch-1 would also hold batch-10/ (S3 prefixes).
    batch_uri = f"s3://{event.bucket}/{folder}/"
    return StartRequest(
        pipeline=config.inference_pipeline,
        parameters=(("InputDataUri", batch_uri),),
        token=client_request_token("batch", config.inference_pipeline, event.bucket, event.key, identity),
        description=f"Started by the pipeline trigger for the multi-file batch {batch_uri}",
        ground_truth_bucket=event.bucket,
        ground_truth_key=f"{folder}/{GROUND_TRUTH_FILE}",
    )


def plan_step(event: StepStatusChange, config: TriggerConfig) -> StartRequest | Ignore:
    """HPO for a failed model-quality step of this project's inference pipeline, or why nothing."""
    pipeline = event.execution.pipeline_name
    if pipeline != config.inference_pipeline:
        return Ignore(f"step event from pipeline {pipeline!r}, not the inference pipeline")
    if event.step_name != MODEL_QUALITY_STEP or event.current_status != "Failed":
        return Ignore(f"{event.step_name} {event.current_status} does not start retraining")
    return StartRequest(
        pipeline=config.hpo_pipeline,
        parameters=(),
        token=client_request_token("hpo", config.hpo_pipeline, event.execution.execution_arn),
        description=f"Started by the pipeline trigger: {MODEL_QUALITY_STEP} failed in {pipeline}"
        f" execution {event.execution.execution_id}",
    )


def running_execution(summaries: list[dict[str, Any]]) -> str | None:
    """The ARN of a running execution among ListPipelineExecutions summaries, if any."""
    for summary in summaries:
        if summary.get("PipelineExecutionStatus") in RUNNING_STATUSES:
            return str(summary.get("PipelineExecutionArn", "?"))
    return None


def _under(key: str, prefix: str) -> bool:
    prefix = prefix.strip("/")
    return bool(prefix) and key.startswith(prefix + "/")


# --------------------------------------------------------------------------- side effects


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    """head_object: 404 -> False. 403 raises: without s3:ListBucket S3 answers 403 for a missing key."""
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return True


def find_running(sagemaker: Any, pipeline: str, max_pages: int = 5) -> str | None:
    """A running execution of ``pipeline``. Newest first, so the first page normally decides; a few more
    pages cover endpoints that ignore the sort order (moto lists oldest first)."""
    kwargs: dict[str, Any] = {
        "PipelineName": pipeline,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 50,
    }
    for _ in range(max_pages):
        page = sagemaker.list_pipeline_executions(**kwargs)
        running = running_execution(page.get("PipelineExecutionSummaries", []))
        if running or not page.get("NextToken"):
            return running
        kwargs["NextToken"] = page["NextToken"]
    return None


def latest_training_input(sagemaker: Any, pipeline: str) -> str | None:
    """``InputDataUri`` of the newest Succeeded execution of the training pipeline: the data the HPO
    pipeline retunes on (each upload is its own batch folder, so there is no fixed key to default to)."""
    page = sagemaker.list_pipeline_executions(
        PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending", MaxResults=50
    )
    summaries = [
        s
        for s in page.get("PipelineExecutionSummaries", [])
        if s.get("PipelineExecutionStatus") == "Succeeded"
    ]
    # Newest first even where the sort order is ignored (moto lists oldest first).
    summaries.sort(key=lambda s: str(s.get("StartTime", "")), reverse=True)
    for summary in summaries:
        parameters = sagemaker.list_pipeline_parameters_for_execution(
            PipelineExecutionArn=summary["PipelineExecutionArn"]
        ).get("PipelineParameters", [])
        for parameter in parameters:
            if parameter.get("Name") == "InputDataUri" and parameter.get("Value"):
                return str(parameter["Value"])
    return None


def start(sagemaker: Any, request: StartRequest) -> str:
    response = sagemaker.start_pipeline_execution(**request.api_kwargs())
    return str(response["PipelineExecutionArn"])


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    common.configure_logging()
    try:
        parsed = common.parse_event(event)
    except MalformedEventError as exc:
        return common.dropped(exc.reason, event)
    config = load_config()
    if isinstance(parsed, S3ObjectCreated):
        plan = plan_s3(parsed, config)
    elif isinstance(parsed, StepStatusChange):
        plan = plan_step(parsed, config)
    else:
        return common.dropped(f"the pipeline trigger does not handle {parsed.envelope.detail_type!r}", event)
    if isinstance(plan, Ignore):
        return common.ignored(plan.reason)

    sagemaker = common.client("sagemaker")
    if plan.pipeline == config.hpo_pipeline:
        running = find_running(sagemaker, config.hpo_pipeline)
        if running:
            return common.ignored(f"HPO execution {running} is still running; not starting a second one")
        training_data = latest_training_input(sagemaker, config.training_pipeline)
        if training_data:
            plan = plan.with_parameter("InputDataUri", training_data)
        else:
            log.warning(
                "no Succeeded %s execution to take the training data from: HPO uses its default InputDataUri",
                config.training_pipeline,
            )
    if plan.ground_truth_key:
        exists = object_exists(common.client("s3"), plan.ground_truth_bucket, plan.ground_truth_key)
        plan = plan.with_ground_truth(exists)
    execution_arn = start(sagemaker, plan)
    log.info("started %s: %s (token %s)", plan.pipeline, execution_arn, plan.token)
    return {
        "status": "started",
        "pipeline": plan.pipeline,
        "execution_arn": execution_arn,
        "parameters": dict(plan.parameters),
        "client_request_token": plan.token,
    }
