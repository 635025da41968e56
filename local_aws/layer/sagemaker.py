"""SageMaker on the layer (``X-Amz-Target: SageMaker.<Action>``): pipeline executions served by the local
executor, ``DescribePipeline`` with its definition as a string, and model-registry writes that keep AWS's
semantics and emit state changes.

Idempotency of StartPipelineExecution is the executor's (``local_aws.executor.idempotency``): the handler
passes the ``ClientRequestToken`` on and keeps no map of its own.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from werkzeug.wrappers import Response

from local_aws.common.envelopes import make_event
from local_aws.common.times import json_ready
from local_aws.layer.context import Executor, LayerContext
from local_aws.layer.http import JSON_11, ApiError, Call, json_api, json_response

log = logging.getLogger("local_aws.layer")

PACKAGE_EVENT = "SageMaker Model Package State Change"
# What the handler knows of an execution it started: definition text, creation time, parameters as sent.
Started = tuple[str, float, list[dict[str, str]]]


class SageMakerHandler:
    """Pipeline executions and the model registry; owns the executions it started (for ``/_local``)."""

    def __init__(self, context: LayerContext, executor: Callable[[], Executor | None]) -> None:
        self._context = context
        self._executor = executor
        self._lock = threading.Lock()
        self._package_lock = threading.Lock()  # read-merge-write of UpdateModelPackage
        self._started: list[str] = []
        self._definitions: dict[str, Started] = {}
        self._actions: dict[str, Callable[[Call], Response]] = {
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

    def handle(self, call: Call) -> Response | None:
        action = self._actions.get(call.target.split(".", 1)[-1])
        return json_api(call, action) if action else None

    def reset(self) -> None:
        with self._lock:
            self._started.clear()
            self._definitions.clear()

    def restore(self) -> int:
        """Know again the executions an earlier endpoint started (the executor reloaded their records)."""
        executor = self._executor()
        on_record = getattr(executor, "executions_on_record", None)
        if on_record is None:
            return 0
        restored = list(on_record())
        with self._lock:
            for arn, definition, created, parameters in restored:
                if arn not in self._definitions:
                    self._started.append(arn)
                    self._definitions[arn] = (definition, created, parameters)
        return len(restored)

    # --- what /_local/executions shows ---------------------------------------------------------------------

    def executions(self) -> list[dict[str, Any]]:
        """Every execution started through the layer, described with its steps, oldest first."""
        executor = self._executor()
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

    # --- pipeline executions -------------------------------------------------------------------------------

    def _require_executor(self) -> Executor:
        executor = self._executor()
        if executor is None:
            raise ApiError("InternalFailure", "the local pipeline executor is not available", 500)
        return executor

    def _pipeline(self, name_or_arn: str) -> dict[str, Any]:
        name = name_or_arn.split(":pipeline/", 1)[-1]
        try:
            return dict(self._context.clients.client("sagemaker").describe_pipeline(PipelineName=name))
        except ClientError as exc:
            arn = f"arn:aws:sagemaker:{self._context.region}:{self._context.account_id}:pipeline/{name}"
            raise ApiError("ResourceNotFound", f"Pipeline '{arn}' does not exist.") from exc

    def _start_execution(self, call: Call) -> Response:
        body = call.json()
        if not body.get("PipelineName"):
            raise ApiError(
                "ValidationException", "1 validation error detected: PipelineName must not be null"
            )
        pipeline = self._pipeline(body["PipelineName"])
        pipeline_arn = pipeline["PipelineArn"]
        token = body.get("ClientRequestToken") or None
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
                client_request_token=token,  # the executor answers a token it has seen
            )
        except ApiError:
            raise
        except Exception as exc:
            raise _executor_error(exc) from exc
        with self._lock:
            if arn in self._definitions:  # the token's execution, started before
                return json_response({"PipelineExecutionArn": arn}, content_type=JSON_11)
            self._started.append(arn)
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
        steps = items_of(
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
        summaries = [_summary(e) for e in items_of(found, "PipelineExecutionSummaries")]
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

    def _known_execution(self, arn: str) -> Started:
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
        executor = self._executor()
        if executor is not None and hasattr(executor, "list_parameters"):
            parameters = self._call_executor("list_parameters", arn)  # every parameter, with its value
        return json_response({"PipelineParameters": parameters}, content_type=JSON_11)

    def _describe_pipeline(self, call: Call) -> Response:
        forwarded = self._context.moto.forward(call)
        if not forwarded.ok:
            return forwarded.response()
        described = json.loads(forwarded.body)
        if not isinstance(described.get("PipelineDefinition"), str | None):
            described["PipelineDefinition"] = json.dumps(
                described["PipelineDefinition"]
            )  # S3-located definitions
        return forwarded.response(json.dumps(described).encode("utf-8"))

    # --- SageMaker model registry -------------------------------------------------------------------------

    def _create_model_package(self, call: Call) -> Response:
        forwarded = self._context.moto.forward(call)
        if forwarded.ok:
            arn = json.loads(forwarded.body)["ModelPackageArn"]
            self._context.emit(lambda: self._package_event(arn))
        return forwarded.response()

    def _update_model_package(self, call: Call) -> Response:
        body = call.json()
        arn = body.get("ModelPackageArn", "")
        sm = self._context.clients.client("sagemaker")
        with self._package_lock:
            try:
                before = sm.describe_model_package(ModelPackageName=arn)
            except ClientError:
                return self._context.moto.forward(call).response()  # moto's own error for an unknown package
            merged = merge_package_update(body, before)
            forwarded = self._context.moto.forward(call, json.dumps(merged).encode("utf-8"))
        if forwarded.ok and merged.get("ModelApprovalStatus") != before.get("ModelApprovalStatus"):
            self._context.emit(lambda: self._package_event(arn))
        return forwarded.response()

    def _package_event(self, arn: str) -> dict[str, Any]:
        described = self._context.clients.client("sagemaker").describe_model_package(ModelPackageName=arn)
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
            account_id=self._context.account_id,
            region=self._context.region,
            resources=[arn],
        )


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


def items_of(found: Any, key: str) -> list[dict[str, Any]]:
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
