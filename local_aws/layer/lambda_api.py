"""Lambda on the layer: code captured on create/update, ``Invoke`` runs the handler locally (no Docker)."""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any

from botocore.exceptions import ClientError
from werkzeug.wrappers import Response

from local_aws.lambdas import LambdaError, function_name_of
from local_aws.layer.base import ApiError, Call, Forwarded, LayerBase, json_response, rest_json_error

log = logging.getLogger("local_aws.layer")

LAMBDA_PATH = re.compile(r"^/\d{4}-\d{2}-\d{2}/functions(?:/(?P<name>[^/]+)(?P<rest>/[^/]+)?)?/?$")


class LambdaApi(LayerBase):
    """Functions' code, configuration and invocation."""

    def _lambda(self, call: Call) -> Response | None:
        found = LAMBDA_PATH.match(call.path)
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
