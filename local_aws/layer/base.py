"""The layer's plumbing: the request (``Call``), AWS-shaped errors and answers, forwarding to moto, and
the attributes every service's handlers share (``LayerBase``)."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from local_aws.bus import EventBus
from local_aws.common.endpoint import EndpointClients
from local_aws.common.logs import EventLog, JsonlLog
from local_aws.common.times import json_ready
from local_aws.lambdas import LambdaRunner

log = logging.getLogger("local_aws.layer")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
JSON_11 = "application/x-amz-json-1.1"
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


class Executor(Protocol):
    """The pipeline executor's interface (``local_aws.executor.PipelineExecutor``)."""

    def start(
        self,
        pipeline_arn: str,
        pipeline_name: str,
        definition: Any,
        parameters: list[dict[str, str]],
        /,
        *,
        display_name: str | None = None,
        description: str | None = None,
        client_request_token: str | None = None,
    ) -> str: ...

    def describe(self, arn: str, /) -> dict[str, Any]: ...

    def list_executions(self, pipeline_arn: str, /) -> Any: ...

    def list_steps(self, arn: str, /) -> Any: ...

    def stop(self, arn: str, /) -> Any: ...

    def wait(self, arn: str, timeout: float, /) -> Any: ...

    def shutdown(self) -> None: ...


class Control(Protocol):
    """What ``/_local/reset`` and ``/_local/wait`` ask of the server that owns the layer."""

    def reset(self) -> None: ...

    def reset_extensions(self) -> None: ...

    def wait_idle(self, timeout: float = 60.0) -> bool: ...


class ApiError(Exception):
    """An AWS-shaped error answer: code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass
class Forwarded:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Call:
    """One request, with its body buffered (and rewound) only when a handler asks for it."""

    environ: dict[str, Any]
    _body: bytes | None = None
    query: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.query = parse_qs(self.environ.get("QUERY_STRING", ""), keep_blank_values=True)

    @property
    def method(self) -> str:
        return str(self.environ.get("REQUEST_METHOD", "GET")).upper()

    @property
    def path(self) -> str:
        return str(self.environ.get("PATH_INFO", ""))

    @property
    def target(self) -> str:
        return str(self.environ.get("HTTP_X_AMZ_TARGET", ""))

    @property
    def service(self) -> str | None:
        found = _SCOPE.search(self.environ.get("HTTP_AUTHORIZATION", ""))
        if found:
            return found.group(2).lower()
        credential = self.query.get("X-Amz-Credential", [""])[0]
        return credential.split("/")[3].lower() if credential.count("/") >= 4 else None

    def header(self, name: str, default: str = "") -> str:
        return str(self.environ.get("HTTP_" + name.upper().replace("-", "_"), default))

    def body(self) -> bytes:
        if self._body is None:
            self._body = Request(self.environ).get_data()
            self.environ["wsgi.input"] = io.BytesIO(self._body)
            self.environ["CONTENT_LENGTH"] = str(len(self._body))
            self.environ.pop("HTTP_TRANSFER_ENCODING", None)
            self.environ["wsgi.input_terminated"] = False
        return self._body

    def json(self) -> dict[str, Any]:
        raw = self.body()
        try:
            return dict(json.loads(raw)) if raw.strip() else {}
        except ValueError as exc:
            raise ApiError("SerializationException", f"request body is not JSON: {exc}") from exc

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body().decode("utf-8"), keep_blank_values=True).items()}


def json_response(payload: Any, status: int = 200, content_type: str = "application/json") -> Response:
    return Response(json.dumps(json_ready(payload), default=str), status=status, content_type=content_type)


def aws_json_error(error: ApiError) -> Response:
    """JSON 1.1 error (SageMaker, EventBridge): ``{"__type", "message"}`` and ``x-amzn-ErrorType``."""
    response = json_response({"__type": error.code, "message": error.message}, error.status, JSON_11)
    response.headers["x-amzn-ErrorType"] = error.code
    return response


def rest_json_error(error: ApiError) -> Response:
    """REST-JSON error (Lambda): ``{"Type", "Message"}`` and ``x-amzn-ErrorType``."""
    response = json_response({"Type": "User", "Message": error.message}, error.status)
    response.headers["x-amzn-ErrorType"] = error.code
    return response


class LayerBase:
    """State and plumbing shared by the service mixins; ``LocalLayer.__init__`` sets the attributes."""

    moto: WSGIApp
    account_id: str
    region: str
    clients: EndpointClients
    bus: EventBus
    lambdas: LambdaRunner
    notifications: JsonlLog
    records: EventLog
    executor: Callable[[], Executor | None]
    control: Control
    _lock: threading.Lock
    _package_lock: threading.Lock
    _eventbridge_buckets: set[str]
    _bucket_policies: dict[str, bytes]
    _started: list[str]
    _tokens: dict[tuple[str, str], str]
    _definitions: dict[str, tuple[str, float, list[dict[str, str]]]]
    _sequence: Iterator[int]

    def _json_api(self, call: Call, handler: Callable[[Call], Response]) -> Response:
        try:
            return handler(call)
        except ApiError as error:
            return aws_json_error(error)

    def _forward(self, call: Call, body: bytes | None = None) -> Forwarded:
        """Send the request to moto and collect its answer (optionally with a rewritten body)."""
        environ = dict(call.environ)
        data = call.body() if body is None else body
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        if body is not None:  # the body changed: checksums computed by the client no longer hold
            for key in [k for k in environ if k.startswith(("HTTP_CONTENT_MD5", "HTTP_X_AMZ_CHECKSUM_"))]:
                del environ[key]
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[..., Any]:
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        result = self.moto(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return Forwarded(int(captured["status"].split()[0]), list(captured["headers"]), b"".join(chunks))

    @staticmethod
    def _respond(forwarded: Forwarded, body: bytes | None = None) -> Response:
        skip = {"content-length", "transfer-encoding", "connection"}
        headers = [(k, v) for k, v in forwarded.headers if k.lower() not in skip]
        return Response(forwarded.body if body is None else body, status=forwarded.status, headers=headers)

    def emit(self, build: Callable[[], dict[str, Any]]) -> None:
        """Put the event ``build()`` makes on the bus. Like AWS's own emission this never fails the API call
        that caused it: the write has happened; a problem building the event is logged."""
        try:
            self.bus.put(build())
        except Exception:
            log.exception("could not emit the event for this request")
