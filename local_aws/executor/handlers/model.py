"""Model steps (the SDK's ``ModelStep`` ``…-CreateModel``): ``CreateModel`` through the SageMaker client."""

from __future__ import annotations

from typing import Any

from local_aws.executor.clients import known_arguments
from local_aws.executor.handlers.base import ResolvedStep, StepContext, StepFailedError, StepOutcome


def model_name(ctx: StepContext) -> str:
    """≤ 63 characters, like the names SageMaker gives a pipeline's models."""
    return ctx.job_name()[:63].rstrip("-")


def run(step: ResolvedStep, ctx: StepContext) -> StepOutcome:
    client = ctx.clients.sagemaker
    name = model_name(ctx)
    arguments: dict[str, Any] = {**step.arguments, "ModelName": name}
    try:
        model_arn = client.create_model(**known_arguments(client, "CreateModel", arguments))["ModelArn"]
    except Exception as exc:
        raise StepFailedError(f"ClientError: CreateModel {name} failed: {exc}") from exc
    ctx.started({"Model": {"Arn": model_arn}})
    try:
        properties = dict(client.describe_model(ModelName=name))
        properties.pop("ResponseMetadata", None)
    except Exception:
        properties = {**arguments, "ModelArn": model_arn}
    properties.setdefault("ModelName", name)
    properties.setdefault("ModelArn", model_arn)
    return StepOutcome(properties=properties, metadata={"Model": {"Arn": model_arn}})
