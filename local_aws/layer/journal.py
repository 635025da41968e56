"""The write-ahead journal that makes the endpoint's AWS state durable (``<state_dir>/journal/``).

Every mutating AWS request the layer answers with success is appended to ``requests.jsonl`` (method,
path, query, the headers that route and shape it, its body; bodies over ``INLINE_BODY_LIMIT`` bytes in
``bodies/<seq>.bin``) and fsync'd before the client gets its answer. ``replay.replay`` sends the journal
through the same layer when the endpoint starts again, so moto's stores (S3, SNS, SQS, IAM, Lambda,
EventBridge, Secrets Manager, KMS, the SageMaker control plane) and what the layer keeps beside them
(captured Lambda code, EventBridge-enabled buckets, bucket policies as written) come back as they were.

Not journaled (``is_journaled``): reads; ``/_local`` and ``/moto-api``; what the layer runs rather than
stores: Lambda invocations, ``PutEvents``, SNS publishes, pipeline executions (the executor keeps those in
``executions/<id>/execution.json``); SQS messages and STS (nothing to keep). ``reset`` empties it.

Each entry gets its sequence number when the request arrives: requests that depend on one another
(the second sent after the first was answered) replay in order, even when answers finish out of order.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_aws.layer.http import Call, Forwarded

log = logging.getLogger("local_aws.layer")

JOURNAL_DIR = "journal"
INLINE_BODY_LIMIT = 64 * 1024
RESPONSE_LIMIT = 64 * 1024  # answers kept to map the ids moto generates anew on replay (replay.IdMap)
_READ_PREFIXES = (
    "Describe", "List", "Get", "BatchGet", "Search", "Query", "Scan", "Test", "Decrypt", "Encrypt",
    "ReEncrypt", "GenerateDataKey", "GenerateRandom", "Sign", "Verify", "Receive", "Simulate", "Check",
)  # fmt: skip
_NOT_STATE = frozenset(
    {
        "StartPipelineExecution", "StopPipelineExecution", "RetryPipelineExecution", "PutEvents",
        "Publish", "PublishBatch", "SendMessage", "SendMessageBatch", "DeleteMessage", "DeleteMessageBatch",
        "ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "PurgeQueue",
    }
)  # fmt: skip
_NOT_STATE_SERVICES = frozenset({"sts"})
_SKIPPED_HEADERS = frozenset(
    {
        "HTTP_CONNECTION", "HTTP_ACCEPT_ENCODING", "HTTP_USER_AGENT", "HTTP_AMZ_SDK_INVOCATION_ID",
        "HTTP_AMZ_SDK_REQUEST", "HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING", "HTTP_EXPECT",
    }
)  # fmt: skip
_KEPT_RESPONSE_HEADERS = ("x-amz-version-id",)


def action_of(call: Call) -> str:
    """The API action of a JSON (``X-Amz-Target``) or query (``Action=``) request; "" for REST ones."""
    if call.target:
        return call.target.rsplit(".", 1)[-1]
    if call.environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return call.form().get("Action", "") or call.query.get("Action", [""])[0]
    return call.query.get("Action", [""])[0]


def is_journaled(call: Call) -> bool:
    """Whether the request changes stored state (see the module docstring for what is left out)."""
    if call.method not in ("PUT", "POST", "DELETE", "PATCH"):
        return False
    if call.path.startswith(("/_local", "/moto-api")) or call.service in _NOT_STATE_SERVICES:
        return False
    if call.path.endswith(("/invocations", "/invoke-async")) or "select" in call.query:
        return False
    action = action_of(call)
    return not (action in _NOT_STATE or action.startswith(_READ_PREFIXES))


@dataclass
class Entry:
    """One journaled request and the answer it got."""

    seq: int
    environ: dict[str, str]
    body: bytes
    response: str
    response_headers: dict[str, str]

    def to_json(self, body_file: str | None) -> dict[str, Any]:
        record: dict[str, Any] = {"seq": self.seq, "environ": self.environ, "response": self.response}
        record["response_headers"] = self.response_headers
        if body_file:
            record["body_file"] = body_file
        else:
            record["body"] = base64.b64encode(self.body).decode("ascii")
        return record


def request_environ(call: Call) -> dict[str, str]:
    """What a replay needs of the WSGI environ: method, path, query, content type and the headers."""
    environ = call.environ
    kept = {
        key: str(environ[key])
        for key in ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE")
        if environ.get(key) is not None
    }
    kept.update(
        {k: str(v) for k, v in environ.items() if k.startswith("HTTP_") and k not in _SKIPPED_HEADERS}
    )
    return kept


def answer_of(forwarded: Forwarded) -> tuple[str, dict[str, str]]:
    """The parts of an answer that may carry generated ids: a text body (when small) and headers."""
    headers = {k.lower(): v for k, v in forwarded.headers if k.lower() in _KEPT_RESPONSE_HEADERS}
    if len(forwarded.body) > RESPONSE_LIMIT:
        return "", headers
    return forwarded.body.decode("utf-8", "replace"), headers


class Journal:
    """``requests.jsonl`` and ``bodies/`` under ``directory``; appends are fsync'd."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "requests.jsonl"
        self.bodies = directory / "bodies"
        self._lock = threading.Lock()
        self._next = 0
        self.paused = threading.Event()  # set while replaying: nothing is journaled again

    def start(self, next_seq: int) -> None:
        self.bodies.mkdir(parents=True, exist_ok=True)
        self._next = next_seq

    def claim(self) -> int:
        with self._lock:
            self._next += 1
            return self._next

    def append(self, entry: Entry) -> None:
        body_file = None
        if len(entry.body) > INLINE_BODY_LIMIT:
            body_file = f"{entry.seq}.bin"
            _write_synced(self.bodies / body_file, entry.body)
        line = (json.dumps(entry.to_json(body_file), separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def entries(self) -> Iterator[Entry]:
        """The entries in sequence order; a torn last line (a crash mid-write) is skipped."""
        if not self.path.exists():
            return
        records = []
        for number, line in enumerate(self.path.read_bytes().splitlines(), 1):
            try:
                records.append(json.loads(line))
            except ValueError:
                log.warning("journal %s: line %d is incomplete, skipped", self.path, number)
        for record in sorted(records, key=lambda r: int(r["seq"])):
            if "body_file" in record:
                try:
                    body = (self.bodies / record["body_file"]).read_bytes()
                except OSError:
                    log.warning(
                        "journal: body %s is missing, entry %s skipped", record["body_file"], record["seq"]
                    )
                    continue
            else:
                body = base64.b64decode(record.get("body", ""))
            yield Entry(
                int(record["seq"]),
                dict(record["environ"]),
                body,
                str(record.get("response", "")),
                dict(record.get("response_headers") or {}),
            )

    def clear(self) -> None:
        with self._lock:
            if self.path.exists():
                self.path.write_bytes(b"")
            for body in self.bodies.glob("*.bin"):
                body.unlink(missing_ok=True)


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
