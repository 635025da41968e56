"""EventBridge on the layer (``X-Amz-Target: AWSEvents.PutEvents``): events go to the local bus (moto
stores rules and targets, and never delivers)."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from local_aws.common.envelopes import make_event
from local_aws.common.times import iso_time
from local_aws.layer.context import LayerContext
from local_aws.layer.http import JSON_11, ApiError, Call, json_api, json_response

MAX_PUT_EVENTS = 10


class EventsHandler:
    """``PutEvents`` onto the local bus, with AWS's per-entry validation. No state of its own."""

    def __init__(self, context: LayerContext) -> None:
        self._context = context

    def handle(self, call: Call) -> Response:
        return json_api(call, self._put_events)

    def reset(self) -> None:
        """Nothing to forget: the bus is reset by the server."""

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
                account_id=self._context.account_id,
                region=self._context.region,
                resources=entry.get("Resources") or [],
                time=iso_time(_datetime(when)) if when is not None else None,
            )
            bus_name = str(entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
            results.append({"EventId": self._context.bus.put(event, bus_name)})
        return json_response({"FailedEntryCount": failed, "Entries": results}, content_type=JSON_11)


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
