"""Where the step scripts live in S3: a content-addressed copy of ``scripts/`` and the data set's
``dataset.json`` (the schema every step reads, rendered from ``dataset.yaml``).

Definitions reference the scripts by S3 URI (``s3://<bucket>/<prefix>/code/<digest>/…``), so building a
definition uploads nothing and the same scripts always give the same URIs. ``upload`` puts the files and
a ``sourcedir.tar.gz`` (for training and serving, which run from a source directory) at those URIs; it is
idempotent and never overwrites another version's code.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_scripts.config import Config
from pipeline_scripts.config.dataset import job_document
from pipeline_scripts.errors import PipelineOpsError
from pipeline_scripts.paths import SCRIPTS_DIR

DATASET_JSON = "dataset.json"  # scripts/dataset.py DATASET_FILE: where every step looks for the schema


def script_files(scripts_dir: Path = SCRIPTS_DIR) -> list[Path]:
    """The files shipped to the jobs: every ``*.py`` directly in ``scripts/``, sorted."""
    return sorted(p for p in scripts_dir.glob("*.py") if p.is_file())


@dataclass(frozen=True)
class CodeBundle:
    """The S3 location of one version of ``scripts/``."""

    bucket: str
    prefix: str  # key prefix ending in "/"
    digest: str
    files: tuple[Path, ...]
    generated: tuple[tuple[str, bytes], ...] = ()  # (name, content): dataset.json

    def contents(self) -> list[tuple[str, bytes]]:
        """Every file of the bundle, by name: the scripts, then the generated files."""
        return [(path.name, path.read_bytes()) for path in self.files] + list(self.generated)

    @property
    def prefix_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def script_uri(self, name: str) -> str:
        if not any(f.name == name for f in self.files) and not any(g == name for g, _ in self.generated):
            raise PipelineOpsError(
                f"scripts/{name} does not exist, but a pipeline step runs it", hint="restore it from git"
            )
        return f"{self.prefix_uri}{name}"

    @property
    def sourcedir_uri(self) -> str:
        return f"{self.prefix_uri}sourcedir.tar.gz"

    def sourcedir_bytes(self) -> bytes:
        """A reproducible tar.gz of the scripts (fixed order, mtimes, owners)."""
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in self.contents():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                info.mtime = 0
                tar.addfile(info, io.BytesIO(data))
        return gzip.compress(raw.getvalue(), mtime=0)

    def upload(self, s3_client: Any) -> list[str]:
        """Upload the scripts and the source tarball; returns the URIs written."""
        extra: dict[str, Any] = {}
        written = []
        for name, data in self.contents():
            s3_client.put_object(Bucket=self.bucket, Key=f"{self.prefix}{name}", Body=data, **extra)
            written.append(self.script_uri(name))
        s3_client.put_object(
            Bucket=self.bucket, Key=f"{self.prefix}sourcedir.tar.gz", Body=self.sourcedir_bytes()
        )
        written.append(self.sourcedir_uri)
        return written


def code_bundle(config: Config, scripts_dir: Path = SCRIPTS_DIR) -> CodeBundle:
    files = tuple(script_files(scripts_dir))
    generated = ((DATASET_JSON, job_document(config.dataset)),)
    digest = hashlib.sha256()
    for name, data in [(path.name, path.read_bytes()) for path in files] + list(generated):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(data)
        digest.update(b"\0")
    short = digest.hexdigest()[:16]
    return CodeBundle(
        bucket=config.env.bucket_name,
        prefix=f"{config.env.bucket_prefix}/code/{short}/",
        digest=short,
        files=files,
        generated=generated,
    )
