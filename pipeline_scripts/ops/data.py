"""Data upload: batch folders under the prefixes the event rules watch, checked before anything is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline_scripts import step_scripts
from pipeline_scripts.config import Config
from pipeline_scripts.config.dataset import dataset_path
from pipeline_scripts.errors import DataError


def upload_data(
    s3: Any,
    config: Config,
    kind: str,
    data_dir: Path | None = None,
    batch: str = "",
    *,
    now: datetime | None = None,
) -> list[str]:
    """Upload the sample data files where the event rules expect them; returns the S3 URIs.

    Each upload is a batch folder ``<prefix>/<batch>/`` (default name: the UTC time,
    ``batch-YYYYMMDDTHHMMSSZ``).
    Training: ``training-data.csv`` under the training prefix. Inference: ``ground-truth.csv`` first, then
    ``inference-data.csv`` (the trigger) under the inference prefix. Existing objects are never
    overwritten: a batch name that is already used is an error, checked before anything is uploaded, and
    each object is written with ``IfNoneMatch="*"`` (an S3 conditional write), so an upload of the same
    batch that started meanwhile makes this one fail (``PreconditionFailed``) instead of overwriting it.
    """
    env = config.env
    data_dir = data_dir or dataset_path(env).parent
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
        files.append((path, f"{prefix}/{filename}"))
    # The files first (local, and the likelier problem), then the batch folder.
    check_data_files({Path(key).name: path for path, key in files}, config.dataset)
    for _, key in files:
        if _object_exists(s3, env.bucket_name, key):
            raise DataError(
                f"s3://{env.bucket_name}/{key} already exists",
                hint="choose a new --batch name; nothing was uploaded or overwritten",
            )
    uris: list[str] = []
    for path, key in files:
        put_new_object(s3, env.bucket_name, key, path.read_bytes(), uploaded=uris)
        uris.append(f"s3://{env.bucket_name}/{key}")
    return uris


def put_new_object(s3: Any, bucket: str, key: str, body: bytes, *, uploaded: list[str]) -> None:
    """PutObject only if ``key`` does not exist yet (``If-None-Match: *``): written once or refused."""
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*")
    except Exception as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code not in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
            raise
        done = f"; already uploaded by this command: {', '.join(uploaded)}" if uploaded else ""
        raise DataError(
            f"s3://{bucket}/{key} was written by another upload meanwhile ({code}): this upload did not "
            f"overwrite it{done}",
            hint="choose a new --batch name and upload again",
        ) from exc


def check_data_files(files: dict[str, Path], schema: Any) -> None:
    """Read each file with the readers the pipeline's steps use (scripts/datafiles.py) and the data set's
    schema, before anything is uploaded: a file the pipeline would reject is reported now, with its row
    and the fix, instead of starting a pipeline that fails. Ground truth must have one value per
    inference row."""
    datafiles = step_scripts.load("datafiles")
    readers = {
        "training-data.csv": datafiles.read_training_csv,
        "inference-data.csv": datafiles.read_features_csv,
        "ground-truth.csv": datafiles.read_target_csv,
    }
    rows: dict[str, int] = {}
    for name, path in files.items():
        try:
            rows[name] = len(readers[name](str(path), schema))
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
