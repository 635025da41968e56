"""The layer's HTTP plumbing: the request (``Call``), AWS-shaped answers and errors, and ``Moto``, the
moto app behind the layer (forward a request, optionally with a rewritten body, and read its answer)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from local_aws.common.times import json_ready

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
JSON_11 = "application/x-amz-json-1.1"
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection"})


class ApiError(Exception):
    """An AWS-shaped error answer: code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


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
        """The service of the SigV4 credential scope (header or presigned query), lower case."""
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


def json_api(call: Call, action: Callable[[Call], Response]) -> Response:
    """Run a JSON 1.1 action; an ``ApiError`` it raises becomes the protocol's error answer."""
    try:
        return action(call)
    except ApiError as error:
        return aws_json_error(error)


@dataclass
class Forwarded:
    """moto's answer to a forwarded request."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def response(self, body: bytes | None = None) -> Response:
        """This answer for the client, optionally with another body."""
        headers = [(k, v) for k, v in self.headers if k.lower() not in _HOP_BY_HOP]
        return Response(self.body if body is None else body, status=self.status, headers=headers)


class Moto:
    """moto's server app behind the layer: called as WSGI it passes a request through untouched."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.app(environ, start_response)

    def forward(self, call: Call, body: bytes | None = None) -> Forwarded:
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

        result = self.app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return Forwarded(int(captured["status"].split()[0]), list(captured["headers"]), b"".join(chunks))
