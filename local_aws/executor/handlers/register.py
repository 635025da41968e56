"""RegisterModel steps: ``CreateModelPackage`` through the SageMaker client.

As on AWS, the model package group is created when it does not exist yet, and the new version records
the pipeline execution that generated it (``MetadataProperties.GeneratedBy``) unless the step sets it.
"""

from __future__ import annotations

import logging
from typing import Any

from local_aws.executor.clients import known_arguments
from local_aws.executor.handlers.base import ResolvedStep, StepContext, StepFailedError, StepOutcome

log = logging.getLogger(__name__)


def _ensure_group(client: Any, group: str) -> None:
    try:
        client.describe_model_package_group(ModelPackageGroupName=group)
        return
    except Exception:
        log.info("creating model package group %s (the first version registered into it)", group)
    client.create_model_package_group(ModelPackageGroupName=group)


def run(step: ResolvedStep, ctx: StepContext) -> StepOutcome:
    client = ctx.clients.sagemaker
    arguments: dict[str, Any] = dict(step.arguments)
    group = arguments.get("ModelPackageGroupName")
    arguments.setdefault("MetadataProperties", {"GeneratedBy": ctx.execution.execution_arn})
    try:
        if group:
            _ensure_group(client, str(group))
        package_arn = client.create_model_package(**known_arguments(client, "CreateModelPackage", arguments))[
            "ModelPackageArn"
        ]
    except Exception as exc:
        raise StepFailedError(f"ClientError: CreateModelPackage in {group} failed: {exc}") from exc
    ctx.started({"RegisterModel": {"Arn": package_arn}})
    try:
        properties = dict(client.describe_model_package(ModelPackageName=package_arn))
        properties.pop("ResponseMetadata", None)
    except Exception:
        properties = {**arguments}
    properties["ModelPackageArn"] = package_arn
    return StepOutcome(properties=properties, metadata={"RegisterModel": {"Arn": package_arn}})
