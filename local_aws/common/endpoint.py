"""Who the local endpoint is (one account, one region, dummy credentials) and boto3 clients pointed at it."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
# What every local client and Lambda process authenticates with; moto accepts anything.
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class EndpointClients:
    """boto3 clients pointed at the local endpoint, created once per service.

    Use ``clients.s3``, ``clients("s3")``, ``clients["s3"]`` or ``clients.client("s3")``: the pipeline
    executor, the event bus and the Lambda runner all receive one of these.
    """

    def __init__(self, endpoint_url: str, region: str = DEFAULT_REGION) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._session = boto3.session.Session(
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
            region_name=region,
        )
        self._config = Config(
            retries={"max_attempts": 2, "mode": "standard"},
            max_pool_connections=32,
            connect_timeout=5,
            read_timeout=120,
            s3={"addressing_style": "path"},
        )

    def client(self, service: str) -> Any:
        session: Any = self._session  # the stubs overload client() on literal service names
        with self._lock:  # boto3 sessions are not thread-safe while creating clients
            if service not in self._clients:
                self._clients[service] = session.client(
                    service, endpoint_url=self.endpoint_url, config=self._config
                )
            return self._clients[service]

    def __call__(self, service: str) -> Any:
        return self.client(service)

    def __getitem__(self, service: str) -> Any:
        return self.client(service)

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_"):
            raise AttributeError(service)
        return self.client(service)
