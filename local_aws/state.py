"""Shared pieces of the local endpoint: clients to itself, event envelopes, records of what happened.

Everything here is process-local and thread-safe; nothing talks to AWS.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
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
MAX_EVENT_RECORDS = 10_000


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


def iso_time(moment: datetime | None = None) -> str:
    """EventBridge's envelope time format: ``2026-11-24T16:00:00Z``."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_event(
    source: str,
    detail_type: str,
    detail: dict[str, Any],
    *,
    account_id: str,
    region: str,
    resources: Iterable[str] = (),
    time: str | None = None,
) -> dict[str, Any]:
    """An EventBridge envelope exactly as AWS delivers it to targets."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account_id,
        "time": time or iso_time(),
        "region": region,
        "resources": list(resources),
        "detail": detail,
    }


def epoch_seconds(value: Any) -> Any:
    """AWS JSON protocols send timestamps as epoch seconds; datetimes become floats, anything else stays."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    return value


def json_ready(value: Any, *, times: str = "epoch") -> Any:
    """Deep copy of ``value`` with datetimes rendered for the wire.

    ``times``: ``epoch`` (seconds, the JSON protocols), ``millis`` or ``iso`` (``2026-11-03T09:41:16Z``,
    as in SageMaker's EventBridge events).
    """
    if isinstance(value, datetime):
        if times == "iso":
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            return iso_time(moment.astimezone(UTC))
        seconds = epoch_seconds(value)
        return int(seconds * 1000) if times == "millis" else seconds
    if isinstance(value, dict):
        return {k: json_ready(v, times=times) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v, times=times) for v in value]
    return value


class JsonlLog:
    """An append-only JSON-lines file (``notifications.jsonl``) that survives the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, default=str)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def read(self) -> list[dict[str, Any]]:
        with self._lock:
            if not self.path.exists():
                return []
            lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def clear(self) -> None:
        with self._lock:
            self.path.write_text("", encoding="utf-8")


class EventLog:
    """Every event put on a bus, the rules it matched and what each delivery did (for ``/_local/events``).

    Records are mutated in place while asynchronous deliveries finish, so readers get deep copies.
    """

    def __init__(self, limit: int = MAX_EVENT_RECORDS) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._limit = limit

    def add(self, event: dict[str, Any], bus_name: str) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": event.get("id"),
            "time": iso_time(),
            "bus": bus_name,
            "source": event.get("source"),
            "detail-type": event.get("detail-type"),
            "event": event,
            "matched_rules": [],
            "deliveries": [],
            "error": None,
        }
        with self._lock:
            self._records.append(record)
            del self._records[: -self._limit]
        return record

    def update(self, record: dict[str, Any], **changes: Any) -> None:
        with self._lock:
            record.update(changes)

    def add_delivery(self, record: dict[str, Any], delivery: dict[str, Any]) -> None:
        with self._lock:
            record["deliveries"].append(delivery)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
