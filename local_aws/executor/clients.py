"""The AWS clients the executor and its step handlers use: S3 and SageMaker, pointed at one endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3


@dataclass(frozen=True)
class Clients:
    """boto3 clients (``Any``: the stubs overload on literals). Thread-safe, shared by all executions."""

    s3: Any
    sagemaker: Any

    @classmethod
    def for_endpoint(cls, endpoint_url: str | None, region: str) -> Clients:
        """Clients for ``endpoint_url`` (None: boto3's own resolution, e.g. ``AWS_ENDPOINT_URL``)."""
        session: Any = boto3.session.Session(region_name=region)
        return cls(
            s3=session.client("s3", endpoint_url=endpoint_url),
            sagemaker=session.client("sagemaker", endpoint_url=endpoint_url),
        )


def known_arguments(client: Any, operation: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` restricted to the members of ``operation``'s request (the definition may carry
    keys the API call does not take, e.g. ``PropertyFiles``)."""
    members = client.meta.service_model.operation_model(operation).input_shape.members
    return {key: value for key, value in arguments.items() if key in members and value is not None}
