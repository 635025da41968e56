"""Data upload: batch folders under the prefixes the event rules watch, checked before anything is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline_scripts import step_scripts
from pipeline_scripts.config import Config
from pipeline_scripts.config.dataset import dataset_path
from pipeline_scripts.errors import DataError

# A multi-file inference batch (code/lambda_function/pipeline_trigger.py): parts, then the marker.
PART_PREFIX = "part-"
BATCH_MARKER = "_SUCCESS"


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
    ``inference-data.csv`` (the trigger) under the inference prefix; or, when ``data_dir`` holds
    ``part-*.csv`` files, a multi-file batch: those parts, then an empty ``_SUCCESS`` (the trigger).
    Existing objects are never overwritten: a batch name that is already used is an error, checked before
    anything is uploaded, and each object is written with ``IfNoneMatch="*"`` (an S3 conditional write),
    so an upload of the same batch that started meanwhile makes this one fail (``PreconditionFailed``)
    instead of overwriting it.
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
        # Ground truth first: the trigger pairs it. A folder of part-*.csv is a multi-file batch.
        names = ["ground-truth.csv", *(_parts(data_dir) or ["inference-data.csv"])]
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
    uploads: list[tuple[str, Path | None]] = [(key, path) for path, key in files]
    if names[-1].startswith(PART_PREFIX):  # the marker last: it starts the run of the whole folder
        uploads.append((f"{prefix}/{BATCH_MARKER}", None))
    for key, _ in uploads:
        if _object_exists(s3, env.bucket_name, key):
            raise DataError(
                f"s3://{env.bucket_name}/{key} already exists",
                hint="choose a new --batch name; nothing was uploaded or overwritten",
            )
    uris: list[str] = []
    for key, source in uploads:  # one file in memory at a time
        body = source.read_bytes() if source is not None else b""
        put_new_object(s3, env.bucket_name, key, body, uploaded=uris)
        uris.append(f"s3://{env.bucket_name}/{key}")
    return uris


def _parts(data_dir: Path) -> list[str]:
    """The ``part-*.csv`` files of a multi-file inference batch in ``data_dir`` (sorted), or none."""
    parts = sorted(p.name for p in data_dir.glob(f"{PART_PREFIX}*.csv") if p.is_file())
    if parts and (data_dir / "inference-data.csv").is_file():
        raise DataError(
            f"{data_dir} holds both inference-data.csv and {len(parts)} part-*.csv file(s)",
            hint="a batch is one file or a folder of parts: keep one of them in that folder",
        )
    return parts


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
    batch_parts = step_scripts.load("batch_parts")
    parts = [name for name in files if name.startswith(PART_PREFIX)]
    blank = {name for name in parts if batch_parts.is_blank(str(files[name]))}
    if parts and len(blank) == len(parts):
        raise DataError(
            f"every part of the batch is empty: {', '.join(str(files[name]) for name in parts)}",
            hint="a batch needs at least one part with rows; nothing was uploaded",
        )
    rows: dict[str, int] = dict.fromkeys(blank, 0)  # Spark's empty partitions: the pipeline skips them
    for name, path in files.items():
        if name in blank:
            continue
        reader = datafiles.read_features_csv if name.startswith(PART_PREFIX) else readers[name]
        try:
            rows[name] = len(reader(str(path), schema))
        except datafiles.StepError as exc:
            raise DataError(str(exc), hint="fix the file and upload again; nothing was uploaded") from exc
    inference = {name: count for name, count in rows.items() if name != "ground-truth.csv"}
    if "ground-truth.csv" in rows and rows["ground-truth.csv"] != sum(inference.values()):
        scored = ", ".join(str(files[name]) for name in inference)
        raise DataError(
            f"{files['ground-truth.csv']} has {rows['ground-truth.csv']} rows but {scored} "
            f"{'has' if len(inference) == 1 else 'have'} {sum(inference.values())}: ground truth needs one "
            "value per inference row, in the same order (of a multi-file batch: the parts' name order)",
            hint="fix the files and upload again; nothing was uploaded",
        )


def _object_exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except Exception:
        return False
    return True
