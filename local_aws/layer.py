"""The WSGI layer in front of moto's server: what moto lacks, at the HTTP level, nothing patched.

Requests are recognised the way AWS routes them (SigV4 credential scope, ``X-Amz-Target`` for the JSON
protocols, the REST path for Lambda and S3, ``Action=`` for SNS's query protocol). Intercepted:

- SageMaker pipeline executions (start, describe, list, steps, stop, definition, parameters) are served
  by the local pipeline executor; ``DescribePipeline`` always returns the definition as a string.
- ``CreateModelPackage``/``UpdateModelPackage`` emit "SageMaker Model Package State Change"; updates no
  longer wipe the fields they do not name (moto sets them to None).
- ``PutEvents`` goes to the local ``EventBus`` (moto never delivers).
- S3: the bucket's EventBridge flag is kept here (moto never sees it, so its own emission, which ignores
  rule state and aborts on Lambda targets, cannot run) and object creation emits "Object Created".
- Lambda code is captured on CreateFunction/UpdateFunctionCode; Invoke runs the handler (no Docker).
- SNS ``Publish``/``PublishBatch`` are recorded in ``notifications.jsonl``.
- ``/_local/{notifications,events,executions,reset,health,wait,schedule/<rule>}``: local extensions.

Everything else reaches moto untouched.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs

from botocore.exceptions import ClientError
from werkzeug.wrappers import Request, Response

from local_aws.bus import EventBus
from local_aws.lambdas import LambdaError, LambdaRunner, function_name_of
from local_aws.state import EndpointClients, EventLog, JsonlLog, iso_time, json_ready, make_event

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
JSON_11 = "application/x-amz-json-1.1"
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_LAMBDA_PATH = re.compile(r"^/\d{4}-\d{2}-\d{2}/functions(?:/(?P<name>[^/]+)(?P<rest>/[^/]+)?)?/?$")
_EVENTBRIDGE_XML = re.compile(
    r"<EventBridgeConfiguration\s*/>|<EventBridgeConfiguration\s*>\s*</EventBridgeConfiguration>"
)
_S3_SUBRESOURCES_KEEPING_OBJECT_WRITE = {"x-id"}
PACKAGE_EVENT = "SageMaker Model Package State Change"
MAX_PUT_EVENTS = 10


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


class LocalLayer:
    def __init__(
        self,
        moto_app: WSGIApp,
        *,
        account_id: str,
        region: str,
        clients: EndpointClients,
        bus: EventBus,
        lambdas: LambdaRunner,
        notifications: JsonlLog,
        records: EventLog,
        executor: Callable[[], Executor | None],
        control: Control,
    ) -> None:
        self.moto = moto_app
        self.account_id = account_id
        self.region = region
        self.clients = clients
        self.bus = bus
        self.lambdas = lambdas
        self.notifications = notifications
        self.records = records
        self.executor = executor
        self.control = control
        self._lock = threading.Lock()
        self._package_lock = threading.Lock()  # read-merge-write of UpdateModelPackage
        self._eventbridge_buckets: set[str] = set()
        self._bucket_policies: dict[str, bytes] = {}
        self._started: list[str] = []
        self._tokens: dict[tuple[str, str], str] = {}
        self._definitions: dict[str, tuple[str, float, list[dict[str, str]]]] = {}
        self._sequence = itertools.count(time.time_ns())
        self._sagemaker: dict[str, Callable[[Call], Response]] = {
            "StartPipelineExecution": self._start_execution,
            "DescribePipelineExecution": self._describe_execution,
            "ListPipelineExecutions": self._list_executions,
            "ListPipelineExecutionSteps": self._list_steps,
            "StopPipelineExecution": self._stop_execution,
            "DescribePipelineDefinitionForExecution": self._execution_definition,
            "ListPipelineParametersForExecution": self._execution_parameters,
            "DescribePipeline": self._describe_pipeline,
            "CreateModelPackage": self._create_model_package,
            "UpdateModelPackage": self._update_model_package,
        }

    # --- WSGI ---------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        call = Call(environ)
        try:
            response = self._route(call)
        except Exception:
            log.exception("local layer failed on %s %s", call.method, call.path)
            response = aws_json_error(ApiError("InternalFailure", "local endpoint error (see its log)", 500))
        if response is None:
            return self.moto(environ, start_response)
        return response(environ, start_response)

    def _route(self, call: Call) -> Response | None:
        path = call.path
        if path == "/_local" or path.startswith("/_local/"):
            return self._local(call)
        if path.startswith("/moto-api/reset") and call.method == "POST":
            self.control.reset_extensions()
            return None
        target = call.target
        if target.startswith("SageMaker."):
            handler = self._sagemaker.get(target.split(".", 1)[1])
            return self._json_api(call, handler) if handler else None
        if target == "AWSEvents.PutEvents":
            return self._json_api(call, self._put_events)
        service = call.service
        if service in ("lambda", None) and _LAMBDA_PATH.match(path):
            return self._lambda(call)
        if service == "sns" or (service is None and call.method == "POST" and self._looks_like_sns(call)):
            return self._sns(call)
        if service in ("s3", None) and not target:
            return self._s3(call)
        return None

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

    # --- /_local ------------------------------------------------------------------------------------------

    def _local(self, call: Call) -> Response:
        name = call.path.removeprefix("/_local").strip("/")
        if name == "notifications":
            return json_response({"notifications": self.notifications.read()})
        if name == "events":
            return json_response({"events": self.records.snapshot()})
        if name == "executions":
            return json_response({"executions": self.executions()})
        if name == "reset" and call.method in ("GET", "POST"):
            self.control.reset()
            return json_response({"reset": True})
        if name == "health":
            return json_response({"status": "ok", "account": self.account_id, "region": self.region})
        if name == "wait":
            body = call.json() if call.method == "POST" else {}
            timeout = float(body.get("timeout") or call.query.get("timeout", ["60"])[0])
            return json_response({"idle": self.control.wait_idle(timeout)})
        if name.startswith("schedule/") and call.method == "POST":
            try:
                return json_response({"EventId": self.bus.fire_rule(name.split("/", 1)[1])})
            except ClientError as exc:
                return json_response({"error": str(exc)}, 404)
        return json_response({"error": f"unknown local path /_local/{name}"}, 404)

    def executions(self) -> list[dict[str, Any]]:
        executor = self.executor()
        if executor is None:
            return []
        with self._lock:
            arns = list(self._started)
        out = []
        for arn in arns:
            try:
                described = dict(executor.describe(arn))
                described["Steps"] = _items(executor.list_steps(arn), "PipelineExecutionSteps")
            except Exception as exc:  # a reset executor no longer knows old executions
                described = {"PipelineExecutionArn": arn, "error": str(exc)}
            out.append(json_ready(described))
        return out

    def running_executions(self) -> list[str]:
        return [
            e["PipelineExecutionArn"]
            for e in self.executions()
            if e.get("PipelineExecutionStatus") in ("Executing", "Stopping")
        ]

    def reset(self) -> None:
        with self._lock:
            self._eventbridge_buckets.clear()
            self._bucket_policies.clear()
            self._started.clear()
            self._tokens.clear()
            self._definitions.clear()

    # --- SageMaker pipelines -----------------------------------------------------------------------------

    def _require_executor(self) -> Executor:
        executor = self.executor()
        if executor is None:
            raise ApiError("InternalFailure", "the local pipeline executor is not available", 500)
        return executor

    def _pipeline(self, name_or_arn: str) -> dict[str, Any]:
        name = name_or_arn.split(":pipeline/", 1)[-1]
        try:
            return dict(self.clients.client("sagemaker").describe_pipeline(PipelineName=name))
        except ClientError as exc:
            arn = f"arn:aws:sagemaker:{self.region}:{self.account_id}:pipeline/{name}"
            raise ApiError("ResourceNotFound", f"Pipeline '{arn}' does not exist.") from exc

    def _start_execution(self, call: Call) -> Response:
        body = call.json()
        if not body.get("PipelineName"):
            raise ApiError(
                "ValidationException", "1 validation error detected: PipelineName must not be null"
            )
        pipeline = self._pipeline(body["PipelineName"])
        pipeline_arn = pipeline["PipelineArn"]
        token = body.get("ClientRequestToken") or ""
        with self._lock:
            if token and (pipeline_arn, token) in self._tokens:
                return json_response(
                    {"PipelineExecutionArn": self._tokens[(pipeline_arn, token)]}, content_type=JSON_11
                )
        definition = pipeline.get("PipelineDefinition") or "{}"
        definition_text = definition if isinstance(definition, str) else json.dumps(definition)
        parameters = list(body.get("PipelineParameters") or [])
        try:
            arn = self._require_executor().start(
                pipeline_arn,
                pipeline["PipelineName"],
                json.loads(definition_text),
                parameters,
                display_name=body.get("PipelineExecutionDisplayName"),
                description=body.get("PipelineExecutionDescription"),
                client_request_token=token or None,
            )
        except ApiError:
            raise
        except Exception as exc:
            raise _executor_error(exc) from exc
        with self._lock:
            self._started.append(arn)
            if token:
                self._tokens[(pipeline_arn, token)] = arn
            self._definitions[arn] = (definition_text, time.time(), parameters)
        log.info("started %s", arn)
        return json_response({"PipelineExecutionArn": arn}, content_type=JSON_11)

    def _call_executor(self, method: str, arn: str) -> Any:
        if not arn:
            raise ApiError(
                "ValidationException", "1 validation error detected: PipelineExecutionArn must not be null"
            )
        try:
            return getattr(self._require_executor(), method)(arn)
        except ApiError:
            raise
        except Exception as exc:
            raise _executor_error(exc, arn) from exc

    def _describe_execution(self, call: Call) -> Response:
        arn = call.json().get("PipelineExecutionArn", "")
        described = dict(self._call_executor("describe", arn))
        described.pop("PipelineParameters", None)  # not in AWS's response: ListPipelineParametersForExecution
        return json_response(described, content_type=JSON_11)

    def _stop_execution(self, call: Call) -> Response:
        arn = call.json().get("PipelineExecutionArn", "")
        self._call_executor("stop", arn)
        return json_response({"PipelineExecutionArn": arn}, content_type=JSON_11)

    def _list_steps(self, call: Call) -> Response:
        body = call.json()
        steps = _items(
            self._call_executor("list_steps", body.get("PipelineExecutionArn", "")), "PipelineExecutionSteps"
        )
        steps = sorted(
            steps,
            key=lambda s: _sort_time(s.get("StartTime")),
            reverse=body.get("SortOrder", "Descending") == "Descending",
        )
        page, token = _paginate(steps, body)
        return json_response({"PipelineExecutionSteps": page, **token}, content_type=JSON_11)

    def _list_executions(self, call: Call) -> Response:
        body = call.json()
        pipeline = self._pipeline(body.get("PipelineName", ""))
        try:
            found = self._require_executor().list_executions(pipeline["PipelineArn"])
        except ApiError:
            raise
        except Exception as exc:
            raise _executor_error(exc) from exc
        summaries = [_summary(e) for e in _items(found, "PipelineExecutionSummaries")]
        after, before = body.get("CreatedAfter"), body.get("CreatedBefore")
        if after is not None:
            summaries = [s for s in summaries if _sort_time(s.get("StartTime")) > float(after)]
        if before is not None:
            summaries = [s for s in summaries if _sort_time(s.get("StartTime")) < float(before)]
        if body.get("SortBy") == "PipelineExecutionArn":
            summaries.sort(key=lambda s: s["PipelineExecutionArn"])
        else:
            summaries.sort(key=lambda s: _sort_time(s.get("StartTime")))
        if body.get("SortOrder", "Descending") == "Descending":
            summaries.reverse()
        page, token = _paginate(summaries, body)
        return json_response({"PipelineExecutionSummaries": page, **token}, content_type=JSON_11)

    def _known_execution(self, arn: str) -> tuple[str, float, list[dict[str, str]]]:
        with self._lock:
            known = self._definitions.get(arn)
        if known is None:
            raise ApiError("ResourceNotFound", f"Pipeline execution '{arn}' does not exist.")
        return known

    def _execution_definition(self, call: Call) -> Response:
        definition, created, _ = self._known_execution(call.json().get("PipelineExecutionArn", ""))
        return json_response(
            {"PipelineDefinition": definition, "CreationTime": created}, content_type=JSON_11
        )

    def _execution_parameters(self, call: Call) -> Response:
        arn = call.json().get("PipelineExecutionArn", "")
        _, _, parameters = self._known_execution(arn)
        executor = self.executor()
        if executor is not None and hasattr(executor, "list_parameters"):
            parameters = self._call_executor("list_parameters", arn)  # every parameter, with its value
        return json_response({"PipelineParameters": parameters}, content_type=JSON_11)

    def _describe_pipeline(self, call: Call) -> Response:
        forwarded = self._forward(call)
        if not forwarded.ok:
            return self._respond(forwarded)
        described = json.loads(forwarded.body)
        if not isinstance(described.get("PipelineDefinition"), str | None):
            described["PipelineDefinition"] = json.dumps(
                described["PipelineDefinition"]
            )  # S3-located definitions
        return self._respond(forwarded, json.dumps(described).encode("utf-8"))

    # --- SageMaker model registry -------------------------------------------------------------------------

    def _create_model_package(self, call: Call) -> Response:
        forwarded = self._forward(call)
        if forwarded.ok:
            arn = json.loads(forwarded.body)["ModelPackageArn"]
            self.emit(lambda: self._package_event(arn))
        return self._respond(forwarded)

    def _update_model_package(self, call: Call) -> Response:
        body = call.json()
        arn = body.get("ModelPackageArn", "")
        sm = self.clients.client("sagemaker")
        with self._package_lock:
            try:
                before = sm.describe_model_package(ModelPackageName=arn)
            except ClientError:
                return self._respond(self._forward(call))  # moto's own error for an unknown package
            merged = merge_package_update(body, before)
            forwarded = self._forward(call, json.dumps(merged).encode("utf-8"))
        if forwarded.ok and merged.get("ModelApprovalStatus") != before.get("ModelApprovalStatus"):
            self.emit(lambda: self._package_event(arn))
        return self._respond(forwarded)

    def _package_event(self, arn: str) -> dict[str, Any]:
        described = self.clients.client("sagemaker").describe_model_package(ModelPackageName=arn)
        # detail = DescribeModelPackage with ISO times; versioned packages carry no ModelPackageName
        # (tests/events/model_package_*.json).
        detail = {k: v for k, v in json_ready(described, times="iso").items() if v is not None}
        detail.pop("ResponseMetadata", None)
        if detail.get("ModelPackageGroupName"):
            detail.pop("ModelPackageName", None)
        return make_event(
            "aws.sagemaker",
            PACKAGE_EVENT,
            detail,
            account_id=self.account_id,
            region=self.region,
            resources=[arn],
        )

    # --- EventBridge ---------------------------------------------------------------------------------------

    def _put_events(self, call: Call) -> Response:
        entries = call.json().get("Entries") or []
        if not entries or len(entries) > MAX_PUT_EVENTS:
            raise ApiError(
                "ValidationException",
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_PUT_EVENTS}"
                if entries
                else "1 validation error detected: Value at 'entries' failed to satisfy constraint: "
                "Member must have length greater than or equal to 1",
            )
        results, failed = [], 0
        for entry in entries:
            problem = _entry_problem(entry)
            if problem:
                results.append({"ErrorCode": problem[0], "ErrorMessage": problem[1]})
                failed += 1
                continue
            when = entry.get("Time")
            event = make_event(
                entry["Source"],
                entry["DetailType"],
                json.loads(entry["Detail"]),
                account_id=self.account_id,
                region=self.region,
                resources=entry.get("Resources") or [],
                time=iso_time(_datetime(when)) if when is not None else None,
            )
            bus_name = str(entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
            results.append({"EventId": self.bus.put(event, bus_name)})
        return json_response({"FailedEntryCount": failed, "Entries": results}, content_type=JSON_11)

    # --- S3 ----------------------------------------------------------------------------------------------

    def _s3(self, call: Call) -> Response | None:
        bucket, key = _s3_location(call.environ)
        if not bucket:
            return None
        query = set(call.query)
        method = call.method
        if "notification" in query and not key and method in ("PUT", "GET"):
            return self._bucket_notification(call, bucket)
        if "policy" in query and not key and method in ("PUT", "GET", "DELETE"):
            return self._bucket_policy(call, bucket)
        if method == "DELETE" and not key and not query:
            forwarded = self._forward(call)
            if forwarded.ok:
                with self._lock:
                    self._eventbridge_buckets.discard(bucket)
            return self._respond(forwarded)
        if not key:
            return None
        copy = bool(call.header("X-Amz-Copy-Source"))
        if method == "PUT" and not (query - _S3_SUBRESOURCES_KEEPING_OBJECT_WRITE):
            reason = "CopyObject" if copy else "PutObject"
        elif method == "POST" and "uploadId" in query:
            reason = "CompleteMultipartUpload"
        else:
            return None
        with self._lock:
            watched = bucket in self._eventbridge_buckets
        if not watched:
            return None
        forwarded = self._forward(call)
        if forwarded.ok and b"<Error>" not in forwarded.body[:512]:
            self.emit(lambda: self._object_created(call, forwarded, bucket, key, reason))
        return self._respond(forwarded)

    def _bucket_policy(self, call: Call, bucket: str) -> Response:
        """moto ignores policy conditions, so a conditional Deny (e.g. TLS-only: deny when
        aws:SecureTransport is false) would deny every request. moto gets the statements without
        conditions; GetBucketPolicy returns the policy as the client wrote it (Terraform sees no drift)."""
        if call.method == "PUT":
            original = call.body()
            try:
                policy = json.loads(original)
            except ValueError:
                return self._respond(self._forward(call))
            statements = policy.get("Statement", [])
            statements = statements if isinstance(statements, list) else [statements]
            kept = [st for st in statements if not (isinstance(st, dict) and st.get("Condition"))]
            if len(kept) == len(statements):
                forwarded = self._forward(call)
            else:
                for st in statements:
                    if st not in kept:
                        log.info(
                            "bucket %s: policy statement %s kept but not enforced locally (conditions)",
                            bucket,
                            st.get("Sid", "?"),
                        )
                # moto rejects an empty statement list: an allow-nothing statement stands in.
                stand_in = kept or [
                    {
                        "Sid": "LocalNoop",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/local-noop",
                    }
                ]
                forwarded = self._forward(call, json.dumps({**policy, "Statement": stand_in}).encode("utf-8"))
            if forwarded.ok:
                with self._lock:
                    self._bucket_policies[bucket] = original
            return self._respond(forwarded)
        forwarded = self._forward(call)
        with self._lock:
            stored = self._bucket_policies.get(bucket)
            if call.method == "DELETE" and forwarded.ok:
                self._bucket_policies.pop(bucket, None)
        if call.method == "GET" and forwarded.ok and stored is not None:
            return self._respond(forwarded, stored)
        return self._respond(forwarded)

    def _bucket_notification(self, call: Call, bucket: str) -> Response:
        if call.method == "PUT":
            original = call.body().decode("utf-8")
            stripped = _EVENTBRIDGE_XML.sub("", original)
            forwarded = self._forward(call, stripped.encode("utf-8"))
            if forwarded.ok:
                with self._lock:
                    if stripped != original:
                        self._eventbridge_buckets.add(bucket)
                    else:
                        self._eventbridge_buckets.discard(bucket)
            return self._respond(forwarded)
        forwarded = self._forward(call)
        with self._lock:
            watched = bucket in self._eventbridge_buckets
        if not (forwarded.ok and watched):
            return self._respond(forwarded)
        return self._respond(forwarded, _with_eventbridge(forwarded.body.decode("utf-8")).encode("utf-8"))

    def _object_created(
        self, call: Call, forwarded: Forwarded, bucket: str, key: str, reason: str
    ) -> dict[str, Any]:
        headers = {k.lower(): v for k, v in forwarded.headers}
        head_kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if headers.get("x-amz-version-id") not in (None, "", "null"):
            head_kwargs["VersionId"] = headers["x-amz-version-id"]
        head = self.clients.client("s3").head_object(**head_kwargs)
        obj: dict[str, Any] = {
            "key": key,
            "size": int(head.get("ContentLength", 0)),
            "etag": str(head.get("ETag", "")).strip('"'),
        }
        if head.get("VersionId") and head["VersionId"] != "null":
            obj["version-id"] = head["VersionId"]
        obj["sequencer"] = f"{next(self._sequence):X}"
        detail = {
            "version": "0",
            "bucket": {"name": bucket},
            "object": obj,
            "request-id": headers.get("x-amz-request-id") or uuid.uuid4().hex[:16].upper(),
            "requester": self.account_id,
            "source-ip-address": str(call.environ.get("REMOTE_ADDR", "127.0.0.1")),
            "reason": reason,
        }
        return make_event(
            "aws.s3",
            "Object Created",
            detail,
            account_id=self.account_id,
            region=self.region,
            resources=[f"arn:aws:s3:::{bucket}"],
        )

    # --- Lambda -------------------------------------------------------------------------------------------

    def _lambda(self, call: Call) -> Response | None:
        found = _LAMBDA_PATH.match(call.path)
        assert found is not None
        name, rest, method = found.group("name"), found.group("rest") or "", call.method
        try:
            if name is None and method == "POST":
                return self._create_function(call)
            if name and rest == "/code" and method == "PUT":
                return self._update_function_code(call, name)
            if name and rest == "/invocations" and method == "POST":
                return self._invoke(call, name)
            if name and rest == "/invoke-async" and method == "POST":
                self.lambdas.invoke_async(name, call.body())
                return json_response({"Status": 202}, 202)
        except LambdaError as exc:
            return rest_json_error(ApiError(exc.code, str(exc), exc.status))
        except ApiError as exc:
            return rest_json_error(exc)
        if name and not rest and method == "DELETE":
            forwarded = self._forward(call)
            if forwarded.ok and not call.query.get("Qualifier"):
                self.lambdas.forget(name)
            return self._respond(forwarded)
        if name and rest == "/configuration" and method == "PUT":
            return self._update_function_configuration(call, name)
        if name and rest in ("", "/configuration") and method == "GET":
            return self._with_dead_letter(self._forward(call), name, nested=not rest)
        return None

    def _with_dead_letter(self, forwarded: Forwarded, name: str, nested: bool = False) -> Response:
        """Put back the DeadLetterConfig moto dropped (Terraform reads it back after apply)."""
        target = self.lambdas.dead_letter(name)
        if not (forwarded.ok and target):
            return self._respond(forwarded)
        document = json.loads(forwarded.body)
        configuration = document.get("Configuration", {}) if nested else document
        configuration["DeadLetterConfig"] = {"TargetArn": target}
        return self._respond(forwarded, json.dumps(document).encode("utf-8"))

    def _update_function_configuration(self, call: Call, name: str) -> Response:
        body = call.json()
        forwarded = self._forward(call)
        if forwarded.ok and "DeadLetterConfig" in body:
            self.lambdas.remember_dead_letter(name, (body["DeadLetterConfig"] or {}).get("TargetArn", ""))
        return self._with_dead_letter(forwarded, name)

    def _package(self, code: dict[str, Any]) -> bytes | None:
        if code.get("ZipFile"):
            return base64.b64decode(code["ZipFile"])
        if code.get("S3Bucket") and code.get("S3Key"):
            kwargs = {"Bucket": code["S3Bucket"], "Key": code["S3Key"]}
            if code.get("S3ObjectVersion"):
                kwargs["VersionId"] = code["S3ObjectVersion"]
            try:
                return bytes(self.clients.client("s3").get_object(**kwargs)["Body"].read())
            except ClientError as exc:
                raise ApiError(
                    "InvalidParameterValueException", f"Error occurred while GetObject. {exc}"
                ) from exc
        return None

    def _create_function(self, call: Call) -> Response:
        body = call.json()
        package = self._package(body.get("Code") or {})
        forwarded = self._forward(call)
        if not forwarded.ok:
            return self._respond(forwarded)
        name = function_name_of(body["FunctionName"])
        if package is not None:
            self.lambdas.capture(name, package)
        else:
            log.warning("function %s has no zip package: it cannot be invoked locally", name)
        self.lambdas.remember_dead_letter(name, (body.get("DeadLetterConfig") or {}).get("TargetArn", ""))
        return self._with_dead_letter(forwarded, name)

    def _update_function_code(self, call: Call, name: str) -> Response:
        body = call.json()
        package = self._package(body)
        forwarded = self._forward(call)
        if forwarded.ok and package is not None and not body.get("DryRun"):
            self.lambdas.capture(name, package)
        return self._respond(forwarded)

    def _invoke(self, call: Call, name: str) -> Response:
        kind = call.header("X-Amz-Invocation-Type", "RequestResponse")
        payload = call.body()
        if kind == "DryRun":
            self.lambdas.config(name)
            return Response(b"", status=204)
        if kind == "Event":
            self.lambdas.invoke_async(name, payload)
            return Response(b"", status=202)
        if kind != "RequestResponse":
            raise ApiError("InvalidParameterValueException", f"Invalid invocation type {kind}")
        result = self.lambdas.invoke(name, payload)
        response = Response(result.payload, status=200, content_type="application/json")
        response.headers["X-Amz-Executed-Version"] = "$LATEST"
        if not result.ok:
            response.headers["X-Amz-Function-Error"] = "Unhandled"
        if call.header("X-Amz-Log-Type") == "Tail":
            response.headers["X-Amz-Log-Result"] = base64.b64encode(result.log_tail.encode("utf-8")).decode()
        log.info(
            "invoked %s (%s, %.0f ms)",
            function_name_of(name),
            "ok" if result.ok else result.error_type,
            result.duration_ms,
        )
        return response

    # --- SNS ----------------------------------------------------------------------------------------------

    @staticmethod
    def _looks_like_sns(call: Call) -> bool:
        if not call.environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            return False
        form = call.form()
        return form.get("Action") in ("Publish", "PublishBatch") and ":sns:" in (
            form.get("TopicArn", "") + form.get("TargetArn", "")
        )

    def _sns(self, call: Call) -> Response | None:
        if call.method != "POST":
            return None
        form = call.form()
        action = form.get("Action")
        if action not in ("Publish", "PublishBatch"):
            return None
        forwarded = self._forward(call)
        if forwarded.ok:
            text = forwarded.body.decode("utf-8", "replace")
            ids = re.findall(r"<MessageId>(.*?)</MessageId>", text)
            topic = form.get("TopicArn") or form.get("TargetArn") or form.get("PhoneNumber", "")
            if action == "Publish":
                messages = [_sns_message(form, "")]
            else:
                indexes = sorted(
                    {int(k.split(".")[2]) for k in form if k.startswith("PublishBatchRequestEntries.member.")}
                )
                messages = [_sns_message(form, f"PublishBatchRequestEntries.member.{i}.") for i in indexes]
            for message, message_id in itertools.zip_longest(messages, ids):
                if message is not None:
                    self.notifications.append(
                        {"time": iso_time(), "topic_arn": topic, "message_id": message_id, **message}
                    )
        return self._respond(forwarded)


# --- helpers -----------------------------------------------------------------------------------------------


def merge_package_update(update: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """An UpdateModelPackage request that keeps what it does not change (AWS semantics on moto).

    moto sets ModelApprovalStatus, ApprovalDescription and CustomerMetadataProperties to whatever the
    request carries, None included; AWS keeps omitted fields and merges CustomerMetadataProperties.
    """
    merged = dict(update)
    for name in ("ModelApprovalStatus", "ApprovalDescription"):
        if name not in merged and current.get(name) is not None:
            merged[name] = current[name]
    metadata = dict(current.get("CustomerMetadataProperties") or {})
    metadata.update(update.get("CustomerMetadataProperties") or {})
    merged["CustomerMetadataProperties"] = metadata
    return merged


def _executor_error(exc: Exception, arn: str = "") -> ApiError:
    name = type(exc).__name__
    if isinstance(exc, LookupError) or "NotFound" in name:
        return ApiError(
            "ResourceNotFound", f"Pipeline execution '{arn}' does not exist." if arn else str(exc)
        )
    if isinstance(exc, ValueError) or "Validation" in name:
        return ApiError("ValidationException", str(exc))
    if "Conflict" in name:
        return ApiError("ConflictException", str(exc))
    log.exception("pipeline executor failed")
    return ApiError("InternalFailure", f"{name}: {exc}", 500)


def _items(found: Any, key: str) -> list[dict[str, Any]]:
    if isinstance(found, dict):
        found = found.get(key, [])
    return [dict(item) for item in (found or [])]


def _summary(execution: dict[str, Any]) -> dict[str, Any]:
    summary = {
        "PipelineExecutionArn": execution["PipelineExecutionArn"],
        "StartTime": execution.get("StartTime") or execution.get("CreationTime"),
        "PipelineExecutionStatus": execution.get("PipelineExecutionStatus"),
        "PipelineExecutionDescription": execution.get("PipelineExecutionDescription"),
        "PipelineExecutionDisplayName": execution.get("PipelineExecutionDisplayName"),
        "PipelineExecutionFailureReason": execution.get("PipelineExecutionFailureReason")
        or execution.get("FailureReason"),
    }
    return {k: v for k, v in summary.items() if v is not None}


def _sort_time(value: Any) -> float:
    seconds = json_ready(value)
    return float(seconds) if isinstance(seconds, int | float) else 0.0


def _paginate(
    items: list[dict[str, Any]], body: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    start = int(body.get("NextToken") or 0)
    size = int(body.get("MaxResults") or 50)
    page = items[start : start + size]
    token = {"NextToken": str(start + size)} if start + size < len(items) else {}
    return page, token


def _datetime(value: Any) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(float(value), UTC) if isinstance(value, int | float) else None


def _entry_problem(entry: dict[str, Any]) -> tuple[str, str] | None:
    for name in ("Source", "DetailType", "Detail"):
        if not entry.get(name):
            return "InvalidArgument", f"Parameter {name} is not valid. Reason: {name} is a required argument."
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        return "MalformedDetail", "Detail is malformed."
    if not isinstance(detail, dict):
        return "MalformedDetail", "Detail is malformed."
    return None


def _s3_location(environ: dict[str, Any]) -> tuple[str, str]:
    """(bucket, key) of a path-style or virtual-hosted-style request."""
    path = str(environ.get("PATH_INFO", ""))
    host = str(environ.get("HTTP_HOST", "")).split(":", 1)[0]
    labels = host.split(".")
    virtual = len(labels) > 1 and (
        host.endswith(".localhost") or (".s3." in f".{host}" and labels[0] != "s3")
    )
    if virtual:
        return labels[0], path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def _with_eventbridge(xml: str) -> str:
    """Add ``<EventBridgeConfiguration/>`` to a GetBucketNotificationConfiguration answer (any root name)."""
    if "<EventBridgeConfiguration" in xml:
        return xml
    closing = re.search(r"</([A-Za-z]+)>\s*$", xml)
    if closing:
        return xml[: closing.start()] + "<EventBridgeConfiguration/>" + xml[closing.start() :]
    return re.sub(r"<([A-Za-z]+)([^>]*)/>\s*$", r"<\1\2><EventBridgeConfiguration/></\1>", xml)


def _sns_message(form: dict[str, str], prefix: str) -> dict[str, Any]:
    attributes: dict[str, dict[str, str]] = {}
    entry = f"{prefix}MessageAttributes.entry."
    for key, value in form.items():
        if key.startswith(entry) and key.endswith(".Name"):
            index = key[len(entry) :].split(".", 1)[0]
            base = f"{entry}{index}.Value."
            attributes[value] = {
                "DataType": form.get(base + "DataType", "String"),
                "Value": form.get(base + "StringValue", form.get(base + "BinaryValue", "")),
            }
    return {
        "subject": form.get(prefix + "Subject"),
        "message": form.get(prefix + "Message", ""),
        "attributes": attributes,
    }
