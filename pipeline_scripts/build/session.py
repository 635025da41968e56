"""The SageMaker session the pipeline builders receive: offline, deterministic, no network.

Definitions are pure data. Building them needs no AWS account: the session gets dummy credentials,
an explicit default bucket (so the SDK never calls S3/STS to find one), the instance metadata service
disabled, and the SDK's own config files replaced by an empty one shipped here (otherwise a developer's
``~/.config/sagemaker/config.yaml`` leaks into definitions, and any config slows every lookup).
Upserting and starting pipelines uses ordinary boto3 clients (``pipeline_scripts.ops``), not this session.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from sagemaker.workflow.pipeline_context import PipelineSession

    from pipeline_scripts.config import Config

EMPTY_SDK_CONFIG = Path(__file__).resolve().parent / "sagemaker_sdk_config.yaml"

SDK_CONFIG_ENVIRONMENT = {
    "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(EMPTY_SDK_CONFIG),
    "SAGEMAKER_USER_CONFIG_OVERRIDE": str(EMPTY_SDK_CONFIG),
    "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
}


def prepare_sdk() -> None:
    """Set the process up for building definitions (idempotent; nothing does this on import).

    Points the SDK's config lookups at the repo's empty file, validates each SDK config once, and quiets
    the SDK's notices: v3-migration and field-popping logs on every build, "Running within a
    PipelineSession" warnings (starting no jobs is the point of that session) and "Applied value from
    config key" on every object; none of it is actionable here. Call it before importing ``sagemaker``
    (``definition_session`` and ``definitions.build_pipeline`` do)."""
    import warnings

    for key, value in SDK_CONFIG_ENVIRONMENT.items():
        os.environ[key] = value
    warnings.filterwarnings("ignore", message="Running within a PipelineSession", category=UserWarning)
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    for name in (
        "sagemaker",
        "sagemaker.workflow.utilities",
        "sagemaker.workflow._utils",
        "sagemaker.image_uris",
    ):
        logging.getLogger(name).setLevel(logging.ERROR)
    _validate_config_once()


def go_offline() -> None:
    """For commands that only build definitions: no instance-metadata lookups (the SDK tries one on
    import). Not done for commands that call AWS, where an instance profile may be the credentials."""
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


# Given to the session directly (no file lookups): only opts out of the SDK's telemetry, which would
# otherwise make an HTTPS request per estimator.fit()/transform() while building a definition.
SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}


def _validate_config_once() -> None:
    """The SDK re-validates the session config against its JSON schema on every config lookup
    (``sagemaker.utils.get_sagemaker_config_value``), ~0.35 s each with any non-empty config, ~75 lookups
    per pipeline. The config never changes, so validate each distinct config once. Guarded by
    tests/unit/test_session.py, which fails if the SDK stops exposing this function."""
    import sagemaker.utils as sdk_utils

    original = sdk_utils.validate_sagemaker_config
    if getattr(original, "_validated_once", False):
        return
    seen: set[str] = set()

    def validate(sagemaker_config: dict[str, Any] | None = None) -> None:
        key = json.dumps(sagemaker_config, sort_keys=True, default=str)
        if key not in seen:
            original(sagemaker_config)  # type: ignore[arg-type]  # the SDK's own default is None
            seen.add(key)

    validate._validated_once = True  # type: ignore[attr-defined]
    sdk_utils.validate_sagemaker_config = validate


@functools.cache
def _shared_loader() -> Any:
    import botocore.loaders

    return botocore.loaders.create_loader()


def boto_session(**kwargs: Any) -> boto3.Session:
    """A boto3 session whose botocore data loader (endpoints, service models) is shared process-wide.

    Each new botocore session otherwise parses the same JSON again: the SDK's session makes 15 clients,
    and ``endpoints.json`` plus the SageMaker service model cost ~0.3 s per session on this machine.
    Credentials, region and endpoint settings stay per session."""
    import botocore.session

    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    return boto3.Session(botocore_session=core, **kwargs)


_sessions: dict[tuple[str, str], PipelineSession] = {}
_sessions_lock = threading.Lock()


def definition_session(config: Config) -> PipelineSession:
    """A ``PipelineSession`` that builds definitions for ``config`` without touching AWS.

    One per (region, bucket) per process: it holds no per-pipeline state between builds (the SDK sets and
    clears its ``context`` around each step), and building one costs ~0.5 s (15 clients, config check)."""
    prepare_sdk()
    from sagemaker.workflow.pipeline_context import PipelineSession

    key = (config.env.aws_region, config.env.bucket_name)
    with _sessions_lock:
        if key not in _sessions:
            offline = boto_session(
                aws_access_key_id="offline-definitions",
                aws_secret_access_key="offline-definitions",  # noqa: S106  (a dummy: definitions are built offline)
                region_name=config.env.aws_region,
            )
            _sessions[key] = PipelineSession(
                boto_session=offline, default_bucket=config.env.bucket_name, sagemaker_config=SDK_CONFIG
            )
        return _sessions[key]
