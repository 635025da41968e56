"""The endpoint's own extensions under ``/_local/`` (``LocalHandler``), and the hook that makes moto's
``/moto-api/reset`` forget what the layer added too (``MotoResetHook``).

``/_local/notifications``, ``/_local/events``, ``/_local/executions``, ``/_local/health``: what happened
and who the endpoint is; ``/_local/reset`` (GET or POST): a clean endpoint; ``/_local/wait?timeout=60``
(or POST ``{"timeout": 60}``): until the cascade settles; POST ``/_local/schedule/<rule>``: fire a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from werkzeug.wrappers import Response

from local_aws.common.logs import EventLog, JsonlLog
from local_aws.layer.context import Control, LayerContext
from local_aws.layer.http import Call, json_response


class LocalHandler:
    """``/_local/*``: reads the logs, the executions and the bus; resets and waits through ``Control``."""

    def __init__(
        self,
        context: LayerContext,
        *,
        notifications: JsonlLog,
        records: EventLog,
        executions: Callable[[], list[dict[str, Any]]],
        control: Control,
    ) -> None:
        self._context = context
        self._notifications = notifications
        self._records = records
        self._executions = executions
        self._control = control

    def handle(self, call: Call) -> Response:
        name = call.path.removeprefix("/_local").strip("/")
        if name == "notifications":
            return json_response({"notifications": self._notifications.read()})
        if name == "events":
            return json_response({"events": self._records.snapshot()})
        if name == "executions":
            return json_response({"executions": self._executions()})
        if name == "reset" and call.method in ("GET", "POST"):
            self._control.reset()
            return json_response({"reset": True})
        if name == "health":
            context = self._context
            return json_response({"status": "ok", "account": context.account_id, "region": context.region})
        if name == "wait":
            body = call.json() if call.method == "POST" else {}
            timeout = float(body.get("timeout") or call.query.get("timeout", ["60"])[0])
            return json_response({"idle": self._control.wait_idle(timeout)})
        if name.startswith("schedule/") and call.method == "POST":
            try:
                return json_response({"EventId": self._context.bus.fire_rule(name.split("/", 1)[1])})
            except ClientError as exc:
                return json_response({"error": str(exc)}, 404)
        return json_response({"error": f"unknown local path /_local/{name}"}, 404)

    def reset(self) -> None:
        """Nothing to forget: it only reads what others keep."""


class MotoResetHook:
    """``POST /moto-api/reset``: the layer's extensions are reset, then moto resets its own state."""

    def __init__(self, control: Control) -> None:
        self._control = control

    def handle(self, call: Call) -> None:
        """Reset the extensions; moto answers the request (None)."""
        self._control.reset_extensions()

    def reset(self) -> None:
        """Nothing to forget."""
