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

Everything else reaches moto untouched. One module per service (``sagemaker``, ``events``, ``s3``,
``lambda_api``, ``sns``), each a mixin of ``LocalLayer``; ``base`` holds the request, errors and forwarding.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError
from werkzeug.wrappers import Response

from local_aws.bus import EventBus
from local_aws.common.endpoint import EndpointClients
from local_aws.common.logs import EventLog, JsonlLog
from local_aws.common.times import json_ready
from local_aws.lambdas import LambdaRunner
from local_aws.layer.base import (
    ApiError,
    Call,
    Control,
    Executor,
    Forwarded,
    WSGIApp,
    aws_json_error,
    json_response,
)
from local_aws.layer.events import EventsApi
from local_aws.layer.lambda_api import LAMBDA_PATH, LambdaApi
from local_aws.layer.s3 import S3Api
from local_aws.layer.sagemaker import SageMakerApi, items_of, merge_package_update
from local_aws.layer.sns import SnsApi

__all__ = ["ApiError", "Call", "Control", "Executor", "Forwarded", "LocalLayer", "merge_package_update"]

log = logging.getLogger(__name__)


class LocalLayer(SageMakerApi, EventsApi, S3Api, LambdaApi, SnsApi):
    """The WSGI app: local extensions and intercepted calls here, everything else to moto."""

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
        if service in ("lambda", None) and LAMBDA_PATH.match(path):
            return self._lambda(call)
        if service == "sns" or (service is None and call.method == "POST" and self._looks_like_sns(call)):
            return self._sns(call)
        if service in ("s3", None) and not target:
            return self._s3(call)
        return None

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
                described["Steps"] = items_of(executor.list_steps(arn), "PipelineExecutionSteps")
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
