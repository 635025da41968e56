"""S3 transfers with the semantics of SageMaker job inputs and outputs.

Input prefixes are read as SageMaker's own SDK local mode reads them: a URI naming one object gives that
object (under its base name); otherwise every object under ``<prefix>/`` is downloaded with its path
relative to the prefix. (Real S3 prefixes also match ``<prefix>2/…``; jobs here never rely on that.)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class S3InputError(Exception):
    """An input location holds no data (or cannot be read)."""


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    relative: str  # path under the input's local directory

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise S3InputError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise S3InputError(f"{uri!r} has no bucket")
    return bucket, key


def list_input(s3: Any, uri: str, data_type: str = "S3Prefix") -> list[S3Object]:
    """The objects a job input at ``uri`` reads (``S3Prefix`` or ``S3Object``)."""
    bucket, key = split_uri(uri)
    if data_type == "S3Object":
        if not key or not exists(s3, bucket, key):
            raise S3InputError(f'No S3 object found at S3 URL "{uri}" given in input data source')
        return [S3Object(bucket, key, key.rsplit("/", 1)[-1])]
    if data_type != "S3Prefix":
        raise S3InputError(f"S3DataType {data_type} is not supported locally (use S3Prefix or S3Object)")
    found: list[S3Object] = []
    if key and not key.endswith("/") and exists(s3, bucket, key):
        found.append(S3Object(bucket, key, key.rsplit("/", 1)[-1]))
    directory = key if key.endswith("/") or not key else key + "/"
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=directory):
        for item in page.get("Contents", []):
            name = item["Key"]
            if name.endswith("/"):
                continue
            found.append(S3Object(bucket, name, name[len(directory) :]))
    if not found:
        raise S3InputError(
            f'No S3 objects found under S3 URL "{uri}" given in input data source. Please ensure that the '
            "bucket exists and that objects exist under that S3 prefix"
        )
    return found


def exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except Exception:
        return False
    return True


def download_input(
    s3: Any, uri: str, destination: Path, data_type: str = "S3Prefix", shard: tuple[int, int] = (0, 1)
) -> list[Path]:
    """Download a job input into ``destination``; returns the local files.

    ``shard`` = (host index, host count): only the objects of that host, as ``ShardedByS3Key`` splits
    them (the objects in key order, dealt out to the hosts in turn).
    """
    files = []
    index, count = shard
    for obj in list_input(s3, uri, data_type)[index::count]:
        target = destination / obj.relative
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(obj.bucket, obj.key, str(target))
        files.append(target)
    log.debug("downloaded %d object(s) from %s to %s", len(files), uri, destination)
    return files


def download_file(s3: Any, uri: str, target: Path) -> Path:
    bucket, key = split_uri(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        s3.download_file(bucket, key, str(target))
    except Exception as exc:
        raise S3InputError(f"cannot download {uri}: {exc}") from exc
    return target


def upload_directory(s3: Any, source: Path, uri: str) -> list[str]:
    """Upload every file under ``source`` to ``<uri>/<relative path>``; returns the URIs written."""
    bucket, prefix = split_uri(uri)
    prefix = prefix.rstrip("/")
    written: list[str] = []
    if not source.is_dir():
        return written
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source).as_posix()
        key = f"{prefix}/{relative}" if prefix else relative
        s3.upload_file(str(path), bucket, key)
        written.append(f"s3://{bucket}/{key}")
    return written


def upload_file(s3: Any, source: Path, uri: str) -> str:
    bucket, key = split_uri(uri)
    s3.upload_file(str(source), bucket, key)
    return uri


def read_json(s3: Any, uri: str) -> Any:
    bucket, key = split_uri(uri)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return json.loads(body)
