"""Operations against SageMaker and S3: upsert, start and describe pipelines, upload data.

boto3 clients honour ``AWS_ENDPOINT_URL`` (the local endpoint) like the AWS CLI does. Functions take
clients as arguments so tests pass moto-backed ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from pipeline_scripts.code_bundle import CodeBundle
from pipeline_scripts.config import PROJECT_ROOT, Config
from pipeline_scripts.errors import DataError, PipelineOpsError
from pipeline_scripts.pipelines import BuiltPipeline
from pipeline_scripts.session import boto_session

log = logging.getLogger(__name__)

DATA_DIR = PROJECT_ROOT / "data"


def client(service: str, config: Config) -> Any:
    # boto3 honours AWS_ENDPOINT_URL (the local endpoint) by itself. `Any`: the stubs overload on literals.
    session: Any = boto_session(region_name=config.env.aws_region)
    return session.client(service)


@dataclass(frozen=True)
class UpsertResult:
    kind: str
    name: str
    arn: str
    action: str  # created | updated | recreated


def upsert(sm: Any, config: Config, built: BuiltPipeline, *, recreate: bool = False) -> UpsertResult:
    """Create or update one pipeline. Updating keeps its execution history; ``recreate`` deletes it first."""
    env = config.env
    description = f"{built.kind} pipeline of {env.environment} (managed by mlops pipelines upsert)"
    tags = [
        {"Key": "project", "Value": "batch-inference-mlops"},
        {"Key": "environment", "Value": env.environment},
        {"Key": "owner", "Value": env.user_id},
    ]
    exists = _pipeline_exists(sm, built.name)
    action = "updated" if exists else "created"
    if exists and recreate:
        sm.delete_pipeline(PipelineName=built.name)
        exists = False
        action = "recreated"
    try:
        if exists:
            response = sm.update_pipeline(
                PipelineName=built.name,
                PipelineDefinition=built.definition_json,
                PipelineDescription=description,
                RoleArn=env.role_arn,
            )
        else:
            response = sm.create_pipeline(
                PipelineName=built.name,
                PipelineDefinition=built.definition_json,
                PipelineDescription=description,
                RoleArn=env.role_arn,
                Tags=tags,
            )
    except Exception as exc:
        raise PipelineOpsError(
            f"could not {action.rstrip('d')} pipeline {built.name}: {exc}",
            hint="check the role_arn and your credentials (aws sts get-caller-identity)",
        ) from exc
    return UpsertResult(kind=built.kind, name=built.name, arn=response["PipelineArn"], action=action)


def delete_pipelines(sm: Any, config: Config) -> list[str]:
    """Delete the three pipelines if they exist (terraform destroy does not know them)."""
    deleted = []
    for name in config.env.pipeline_names.values():
        if _pipeline_exists(sm, name):
            sm.delete_pipeline(PipelineName=name)
            deleted.append(name)
    return deleted


def start(sm: Any, config: Config, kind: str, parameters: dict[str, str]) -> str:
    name = _name_of(config, kind)
    if not _pipeline_exists(sm, name):
        raise PipelineOpsError(f"pipeline {name} does not exist", hint="run mlops pipelines upsert first")
    kwargs: dict[str, Any] = {
        "PipelineName": name,
        "PipelineExecutionDisplayName": f"{kind}-{datetime.now():%Y%m%d-%H%M%S}",
    }
    if parameters:
        kwargs["PipelineParameters"] = [{"Name": k, "Value": v} for k, v in parameters.items()]
    return str(sm.start_pipeline_execution(**kwargs)["PipelineExecutionArn"])


@dataclass(frozen=True)
class ExecutionStatus:
    pipeline: str
    arn: str
    status: str
    started: datetime | None
    failure_reason: str = ""


def status(sm: Any, config: Config, limit: int = 3) -> list[ExecutionStatus]:
    """The latest executions of each of the three pipelines."""
    rows: list[ExecutionStatus] = []
    for name in config.env.pipeline_names.values():
        if not _pipeline_exists(sm, name):
            rows.append(ExecutionStatus(pipeline=name, arn="", status="NotCreated", started=None))
            continue
        summaries = sm.list_pipeline_executions(
            PipelineName=name, SortBy="CreationTime", SortOrder="Descending", MaxResults=limit
        )["PipelineExecutionSummaries"]
        if not summaries:
            rows.append(ExecutionStatus(pipeline=name, arn="", status="NoExecutions", started=None))
        for summary in summaries:
            rows.append(
                ExecutionStatus(
                    pipeline=name,
                    arn=summary["PipelineExecutionArn"],
                    status=summary.get("PipelineExecutionStatus", ""),
                    started=summary.get("StartTime"),
                    failure_reason=summary.get("PipelineExecutionFailureReason", "") or "",
                )
            )
    return rows


def upload_code(s3: Any, code: CodeBundle) -> list[str]:
    return code.upload(s3)


def upload_data(
    s3: Any,
    config: Config,
    kind: str,
    data_dir: Path = DATA_DIR,
    batch: str = "",
    *,
    now: datetime | None = None,
) -> list[str]:
    """Upload the sample data files where the event rules expect them; returns the S3 URIs.

    Each upload is a batch folder ``<prefix>/<batch>/`` (default name: the UTC time,
    ``batch-YYYYMMDDTHHMMSSZ``).
    Training: ``training-data.csv`` under the training prefix. Inference: ``ground-truth.csv`` first, then
    ``inference-data.csv`` (the trigger) under the inference prefix. Existing objects are never
    overwritten: a batch name that is already used is an error, checked before anything is uploaded.
    """
    env = config.env
    batch = batch or f"batch-{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}"
    if "/" in batch.strip("/") or not batch.strip("/"):
        raise DataError(
            f"batch name {batch!r} is not a single folder name", hint="use e.g. --batch batch-001"
        )
    batch = batch.strip("/")
    if kind == "training":
        names = ["training-data.csv"]
        prefix = f"{env.bucket_train_prefix}/{batch}"
    elif kind == "inference":
        names = ["ground-truth.csv", "inference-data.csv"]  # ground truth first: the trigger pairs it
        prefix = f"{env.bucket_inf_prefix}/{batch}"
    else:
        raise DataError(f"unknown data kind {kind!r}", hint="use training or inference")
    files = []
    for filename in names:
        path = data_dir / filename
        if not path.is_file():
            if filename == "ground-truth.csv":
                continue
            raise DataError(f"{path} not found", hint="generate the sample data: mlops data generate")
        key = f"{prefix}/{filename}"
        if _object_exists(s3, env.bucket_name, key):
            raise DataError(
                f"s3://{env.bucket_name}/{key} already exists",
                hint="choose a new --batch name; nothing was uploaded or overwritten",
            )
        files.append((path, key))
    check_data_files({Path(key).name: path for path, key in files})
    uris = []
    for path, key in files:
        s3.upload_file(str(path), env.bucket_name, key)
        uris.append(f"s3://{env.bucket_name}/{key}")
    return uris


def check_data_files(files: dict[str, Path]) -> None:
    """Read each file with the readers the pipeline's steps use (scripts/datafiles.py), before anything
    is uploaded: a file the pipeline would reject is reported now, with its row and the fix, instead of
    starting a pipeline that fails. Ground truth must have one value per inference row."""
    import importlib.util

    from pipeline_scripts.code_bundle import SCRIPTS_DIR

    spec = importlib.util.spec_from_file_location("mlops_datafiles", SCRIPTS_DIR / "datafiles.py")
    assert spec is not None and spec.loader is not None
    datafiles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(datafiles)
    readers = {
        "training-data.csv": datafiles.read_training_csv,
        "inference-data.csv": datafiles.read_features_csv,
        "ground-truth.csv": datafiles.read_target_csv,
    }
    rows: dict[str, int] = {}
    for name, path in files.items():
        try:
            rows[name] = len(readers[name](str(path)))
        except datafiles.StepError as exc:
            raise DataError(str(exc), hint="fix the file and upload again; nothing was uploaded") from exc
    if "ground-truth.csv" in rows and rows["ground-truth.csv"] != rows.get("inference-data.csv"):
        raise DataError(
            f"{files['ground-truth.csv']} has {rows['ground-truth.csv']} rows but "
            f"{files['inference-data.csv']} has {rows.get('inference-data.csv')}: ground truth needs one "
            "value per inference row, in the same order",
            hint="fix the files and upload again; nothing was uploaded",
        )


def _object_exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except Exception:
        return False
    return True


def _pipeline_exists(sm: Any, name: str) -> bool:
    try:
        sm.describe_pipeline(PipelineName=name)
    except ClientError as exc:  # connection and credential problems go up to the CLI's own messages
        if any(s in str(exc) for s in ("ResourceNotFound", "does not exist", "Could not find")):
            return False
        raise PipelineOpsError(
            f"cannot describe pipeline {name}: {exc}",
            hint="check that your credentials allow sagemaker:DescribePipeline",
        ) from exc
    return True


def _name_of(config: Config, kind: str) -> str:
    names = config.env.pipeline_names
    if kind in names:
        return names[kind]
    if kind in names.values():
        return kind
    raise PipelineOpsError(
        f"unknown pipeline {kind!r}", hint=f"use one of {', '.join(names)} or a pipeline name"
    )
