"""boto3 clients for the operations: one shared botocore loader, ``AWS_ENDPOINT_URL`` honoured."""

from __future__ import annotations

from typing import Any

from pipeline_scripts.build.session import boto_session
from pipeline_scripts.config import Config


def client(service: str, config: Config) -> Any:
    # boto3 honours AWS_ENDPOINT_URL (the local endpoint) by itself. `Any`: the stubs overload on literals.
    session: Any = boto_session(region_name=config.env.aws_region)
    return session.client(service)
