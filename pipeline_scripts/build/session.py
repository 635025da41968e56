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
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    from pipeline_scripts.config import Config

EMPTY_SDK_CONFIG = Path(__file__).resolve().parent / "sagemaker_sdk_config.yaml"

SDK_CONFIG_ENVIRONMENT = {
    "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(EMPTY_SDK_CONFIG),
    "SAGEMAKER_USER_CONFIG_OVERRIDE": str(EMPTY_SDK_CONFIG),
    # v3's ModelTrainer checks its role with IAM (SimulatePrincipalPolicy) when constructed: a network
    # call per trainer. The role is the deployment's (Terraform's iam.tf), not something to probe here.
    "SAGEMAKER_VALIDATE_ROLE": "false",
}


def prepare_sdk() -> None:
    """Set the process up for building definitions (idempotent; nothing does this on import).

    Points the SDK's config lookups at the repo's empty file, validates each SDK config once, and quiets
    the SDK's notices: its own import-time deprecation shims (v3 modules importing each other's moved
    names), field-popping and "Applied value from config key" logs on every object, and "Running within
    a PipelineSession" warnings (starting no jobs is the point of that session); none of it is
    actionable here. (The region the v3 workflow modules need while they are imported is set, for the
    import only, by ``build/sdk.py``.) Call it before importing ``sagemaker`` (``definition_session`` and
    ``definitions.build_pipeline`` do)."""
    import warnings

    for key, value in SDK_CONFIG_ENVIRONMENT.items():
        os.environ[key] = value
    warnings.filterwarnings("ignore", message="Running within a PipelineSession", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"sagemaker(\..*)?$")
    for name in ("sagemaker", "sagemaker.core", "sagemaker.mlops", "sagemaker.train", "sagemaker.serve"):
        logging.getLogger(name).setLevel(logging.ERROR)
    _validate_config_once()


def go_offline() -> None:
    """For commands that only build definitions: no instance-metadata lookups (the SDK tries one on
    import). Not done for commands that call AWS, where an instance profile may be the credentials."""
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


# Given to the session directly (no file lookups): only opts out of the SDK's telemetry, which would
# otherwise make an HTTPS request per ModelTrainer.train() or Transformer.transform() while building.
SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}


def _validate_config_once() -> None:
    """The SDK re-validates the session config against its JSON schema on every config lookup
    (``sagemaker.core.common_utils.get_sagemaker_config_value`` calls
    ``SageMakerConfig().validate_sagemaker_config``), a jsonschema run each time, dozens of lookups per
    pipeline. The config never changes, so validate each distinct config once. Guarded by
    tests/unit/test_session.py, which fails if the SDK stops exposing this static method."""
    from sagemaker.core.config.config_manager import SageMakerConfig

    original = SageMakerConfig.validate_sagemaker_config
    if getattr(original, "_validated_once", False):
        return
    seen: set[str] = set()

    def validate(sagemaker_config: dict[str, Any] | None = None) -> None:
        key = json.dumps(sagemaker_config, sort_keys=True, default=str)
        if key not in seen:
            original(sagemaker_config)
            seen.add(key)

    validate._validated_once = True  # type: ignore[attr-defined]
    SageMakerConfig.validate_sagemaker_config = staticmethod(validate)


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
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    from pipeline_scripts.build.sdk import make_step_checks_cheap

    make_step_checks_cheap()

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
