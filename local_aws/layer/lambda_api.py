"""Lambda on the layer (REST paths ``/2015-03-31/functions/...``): code captured on create/update,
``Invoke`` runs the handler locally (no Docker), and the DeadLetterConfig moto drops is put back."""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any

from botocore.exceptions import ClientError
from werkzeug.wrappers import Response

from local_aws.lambdas.runner import LambdaError, LambdaRunner, function_name_of
from local_aws.layer.context import LayerContext
from local_aws.layer.http import ApiError, Call, Forwarded, json_response, rest_json_error

log = logging.getLogger("local_aws.layer")

LAMBDA_PATH = re.compile(r"^/\d{4}-\d{2}-\d{2}/functions(?:/(?P<name>[^/]+)(?P<rest>/[^/]+)?)?/?$")


class LambdaHandler:
    """Functions' code, configuration and invocation; the captured code is the ``LambdaRunner``'s."""

    def __init__(self, context: LayerContext, lambdas: LambdaRunner) -> None:
        self._context = context
        self._lambdas = lambdas

    def handle(self, call: Call) -> Response | None:
        found = LAMBDA_PATH.match(call.path)
        assert found is not None  # noqa: S101  (narrows a type the router guarantees)
        name, rest, method = found.group("name"), found.group("rest") or "", call.method
        try:
            if name is None and method == "POST":
                return self._create_function(call)
            if name and rest == "/code" and method == "PUT":
                return self._update_function_code(call, name)
            if name and rest == "/invocations" and method == "POST":
                return self._invoke(call, name)
            if name and rest == "/invoke-async" and method == "POST":
                self._lambdas.invoke_async(name, call.body())
                return json_response({"Status": 202}, 202)
        except LambdaError as exc:
            return rest_json_error(ApiError(exc.code, str(exc), exc.status))
        except ApiError as exc:
            return rest_json_error(exc)
        if name and not rest and method == "DELETE":
            forwarded = self._context.moto.forward(call)
            if forwarded.ok and not call.query.get("Qualifier"):
                self._lambdas.forget(name)
            return forwarded.response()
        if name and rest == "/configuration" and method == "PUT":
            return self._update_function_configuration(call, name)
        if name and rest in ("", "/configuration") and method == "GET":
            return self._with_dead_letter(self._context.moto.forward(call), name, nested=not rest)
        return None

    def reset(self) -> None:
        """Nothing to forget: the server resets the Lambda runner."""

    def _with_dead_letter(self, forwarded: Forwarded, name: str, nested: bool = False) -> Response:
        """Put back the DeadLetterConfig moto dropped (Terraform reads it back after apply)."""
        target = self._lambdas.dead_letter(name)
        if not (forwarded.ok and target):
            return forwarded.response()
        document = json.loads(forwarded.body)
        configuration = document.get("Configuration", {}) if nested else document
        configuration["DeadLetterConfig"] = {"TargetArn": target}
        return forwarded.response(json.dumps(document).encode("utf-8"))

    def _update_function_configuration(self, call: Call, name: str) -> Response:
        body = call.json()
        forwarded = self._context.moto.forward(call)
        if forwarded.ok and "DeadLetterConfig" in body:
            self._lambdas.remember_dead_letter(name, (body["DeadLetterConfig"] or {}).get("TargetArn", ""))
        return self._with_dead_letter(forwarded, name)

    def _package(self, code: dict[str, Any]) -> bytes | None:
        if code.get("ZipFile"):
            return base64.b64decode(code["ZipFile"])
        if code.get("S3Bucket") and code.get("S3Key"):
            kwargs = {"Bucket": code["S3Bucket"], "Key": code["S3Key"]}
            if code.get("S3ObjectVersion"):
                kwargs["VersionId"] = code["S3ObjectVersion"]
            try:
                return bytes(self._context.clients.client("s3").get_object(**kwargs)["Body"].read())
            except ClientError as exc:
                raise ApiError(
                    "InvalidParameterValueException", f"Error occurred while GetObject. {exc}"
                ) from exc
        return None

    def _create_function(self, call: Call) -> Response:
        body = call.json()
        package = self._package(body.get("Code") or {})
        forwarded = self._context.moto.forward(call)
        if not forwarded.ok:
            return forwarded.response()
        name = function_name_of(body["FunctionName"])
        if package is not None:
            self._lambdas.capture(name, package)
        else:
            log.warning("function %s has no zip package: it cannot be invoked locally", name)
        self._lambdas.remember_dead_letter(name, (body.get("DeadLetterConfig") or {}).get("TargetArn", ""))
        return self._with_dead_letter(forwarded, name)

    def _update_function_code(self, call: Call, name: str) -> Response:
        body = call.json()
        package = self._package(body)
        forwarded = self._context.moto.forward(call)
        if forwarded.ok and package is not None and not body.get("DryRun"):
            self._lambdas.capture(name, package)
        return forwarded.response()

    def _invoke(self, call: Call, name: str) -> Response:
        kind = call.header("X-Amz-Invocation-Type", "RequestResponse")
        payload = call.body()
        if kind == "DryRun":
            self._lambdas.config(name)
            return Response(b"", status=204)
        if kind == "Event":
            self._lambdas.invoke_async(name, payload)
            return Response(b"", status=202)
        if kind != "RequestResponse":
            raise ApiError("InvalidParameterValueException", f"Invalid invocation type {kind}")
        result = self._lambdas.invoke(name, payload)
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
