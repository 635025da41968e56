"""The SageMaker session the pipeline builders receive: offline, deterministic, no network.

Definitions are pure data. Building them needs no AWS account: the session gets dummy credentials,
an explicit default bucket (so the SDK never calls S3/STS to find one), the instance metadata service
disabled, and the SDK's own config files replaced by an empty one shipped here (otherwise a developer's
``~/.config/sagemaker/config.yaml`` leaks into definitions, and any config slows every lookup).
Upserting and starting pipelines uses ordinary boto3 clients (``pipeline_scripts.aws``), not this session.
"""

from __future__ import annotations

import json
import logging
import os
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


def pin_sdk_config() -> None:
    """Point the SDK's config lookups at the repo's empty file (idempotent, process-wide)."""
    for key, value in SDK_CONFIG_ENVIRONMENT.items():
        os.environ[key] = value
    # The SDK logs "Applied value from config key = ...TelemetryOptOut" at INFO on every object it builds.
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)


def go_offline() -> None:
    """For commands that only build definitions: no instance-metadata lookups (the SDK tries one on
    import). Not done for commands that call AWS, where an instance profile may be the credentials."""
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


pin_sdk_config()  # before anything imports sagemaker (pipeline_scripts/__init__.py imports this module)


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


def definition_session(config: Config) -> PipelineSession:
    """A ``PipelineSession`` that builds definitions for ``config`` without touching AWS."""
    from sagemaker.workflow.pipeline_context import PipelineSession

    _validate_config_once()

    boto_session = boto3.Session(
        aws_access_key_id="offline-definitions",
        aws_secret_access_key="offline-definitions",
        region_name=config.env.aws_region,
    )
    return PipelineSession(
        boto_session=boto_session, default_bucket=config.env.bucket_name, sagemaker_config=SDK_CONFIG
    )
